"""The polite client against a real loopback server: spacing, retries, Retry-After."""

from __future__ import annotations

import itertools

import pytest

from pipeline.http_session import OfflineError, PoliteSession, RequestFailed, retry_after_seconds
from tests.fakes.local_server import LocalServer, Reply, quick_session


def _session(**overrides: object) -> PoliteSession:
    return quick_session(**overrides)


def _ok(_request: object) -> Reply:
    return Reply(200, "ok")


def test_requests_are_spaced_by_the_interval_and_identify_us(local_server: LocalServer) -> None:
    local_server.route("/q", _ok)
    with _session(min_interval_s=0.2) as session:
        for _ in range(4):
            assert session.get(f"{local_server.url}/q").text == "ok"
    times = [r.at for r in local_server.requests]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.19
    assert all("mailto:test@example.org" in r.headers["User-Agent"] for r in local_server.requests)
    assert session.requests_made == 4


@pytest.mark.parametrize(
    "failure",
    [
        Reply(503, "busy", headers={"Retry-After": "1"}),
        Reply(429, "slow down"),
        Reply(500, "oops"),
        Reply(200, "Rate exceeded."),
        Reply(200, "late", delay_s=1.0),
    ],
    ids=["503-retry-after", "429", "500", "rate-exceeded-body", "timeout"],
)
def test_transient_failures_are_retried(local_server: LocalServer, failure: Reply) -> None:
    local_server.route("/q", _ok)
    local_server.queue("/q", failure)
    with _session() as session:
        assert session.get(f"{local_server.url}/q").text == "ok"
    assert len(local_server.requests_to("/q")) == 2
    assert session.retries == 1


def test_retry_after_is_honoured(local_server: LocalServer) -> None:
    local_server.route("/q", _ok)
    local_server.queue("/q", Reply(503, "busy", headers={"Retry-After": "1"}))
    with _session() as session:
        session.get(f"{local_server.url}/q")
    first, second = local_server.requests_to("/q")
    assert second.at - first.at >= 0.95


def test_gives_up_after_max_retries_with_the_reason(local_server: LocalServer) -> None:
    local_server.route("/q", lambda _r: Reply(503, "down"))
    with _session(max_retries=2) as session, pytest.raises(RequestFailed, match="HTTP 503"):
        session.get(f"{local_server.url}/q")
    assert len(local_server.requests_to("/q")) == 3


def test_a_wait_longer_than_we_allow_fails_fast(local_server: LocalServer) -> None:
    local_server.route("/q", lambda _r: Reply(429, "", headers={"Retry-After": "3600"}))
    with _session() as session, pytest.raises(RequestFailed, match="wait 3600"):
        session.get(f"{local_server.url}/q")
    assert len(local_server.requests_to("/q")) == 1


def test_client_errors_are_returned_not_retried(local_server: LocalServer) -> None:
    local_server.route("/q", lambda _r: Reply(400, "bad query"))
    with _session() as session:
        assert session.get(f"{local_server.url}/q").status_code == 400
    assert len(local_server.requests) == 1


def test_offline_makes_no_request(local_server: LocalServer) -> None:
    with _session(offline=True) as session, pytest.raises(OfflineError):
        session.get(f"{local_server.url}/q")
    assert local_server.requests == []


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"RateLimit": '"api";r=0;t=55'}) == 55.0
    http_date = retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=0)
    assert http_date is not None and http_date > 1e9
    assert retry_after_seconds({}) is None


def test_an_answer_cut_off_mid_body_is_retried(local_server: LocalServer) -> None:
    local_server.route("/q", _ok)
    # Announces more bytes than it sends: the client sees the connection end mid-body.
    local_server.queue("/q", Reply(200, "partial", headers={"Content-Length": "5000"}))
    with _session() as session:
        assert session.get(f"{local_server.url}/q").text == "ok"
    assert session.retries == 1
