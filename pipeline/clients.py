"""Clients for the external services, configured from settings in one place."""

from __future__ import annotations

from pipeline.arxiv.api import ArxivClient
from pipeline.http_session import PoliteSession
from pipeline.huggingface.api import HfClient
from pipeline.settings import Settings


def polite_session(settings: Settings, min_interval_s: float) -> PoliteSession:
    return PoliteSession(
        user_agent=settings.user_agent,
        min_interval_s=min_interval_s,
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        offline=settings.offline,
    )


def hf_client(settings: Settings) -> HfClient:
    return HfClient(polite_session(settings, settings.hf_min_interval_s), settings.hf_base_url)


def arxiv_client(settings: Settings) -> ArxivClient:
    return ArxivClient(
        polite_session(settings, settings.arxiv_min_interval_s), settings.arxiv_api_url
    )
