"""Fixtures of the integration tests."""

from tests.landed import land  # noqa: F401 -- a fixture, shared by the bad-file tests
