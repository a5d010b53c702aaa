"""Clients for the external services, configured from settings in one place."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.arxiv.api import ArxivClient
from pipeline.github.api import GitHubClient
from pipeline.http_session import PoliteSession
from pipeline.huggingface.api import HfClient
from pipeline.settings import Settings


def polite_session(
    settings: Settings,
    min_interval_s: float,
    on_wait: Callable[[float, str], None] | None = None,
) -> PoliteSession:
    """A session with the settings' timeouts, deadline and retries; `on_wait` hears of
    every wait before a retry (for progress logs)."""
    return PoliteSession(
        user_agent=settings.user_agent,
        min_interval_s=min_interval_s,
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        deadline_s=settings.http_deadline_s,
        unreachable_after=settings.service_failures,
        offline=settings.offline,
        on_wait=on_wait,
    )


def hf_client(settings: Settings) -> HfClient:
    return HfClient(polite_session(settings, settings.hf_min_interval_s), settings.hf_base_url)


def arxiv_client(
    settings: Settings, on_wait: Callable[[float, str], None] | None = None
) -> ArxivClient:
    return ArxivClient(
        polite_session(settings, settings.arxiv_min_interval_s, on_wait), settings.arxiv_api_url
    )


def github_client(settings: Settings) -> GitHubClient:
    """REST alone without GITHUB_TOKEN; GraphQL batches with it."""
    return GitHubClient(
        polite_session(settings, settings.github_min_interval_s),
        settings.github_api_url,
        settings.github_token,
    )
