"""Fetching Hugging Face listings into the landing folder, raw first.

Each response body is saved unchanged (with a sidecar naming its URL, day and fetch
time) and read later by the same ingestion path as a hand-saved dump.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.http_session import RequestFailed
from pipeline.huggingface.api import HfClient, HfFetchError
from pipeline.landing import save_fetched

FETCH_ERRORS = (RequestFailed, HfFetchError)
RETRY_DAYS = 7


def fetch_day(client: HfClient, day: date, landing_dir: Path) -> list[Path]:
    """Saves the day's list (every API page, or the HTML page); [] when the day has none.
    Raises a fetch error when Hugging Face cannot give it, so the day can be retried."""
    return [save_fetched(body, landing_dir) for body in client.daily_papers(day)]


@dataclass
class SearchOutcome:
    saved: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def fetch_searches(client: HfClient, queries: tuple[str, ...], landing_dir: Path) -> SearchOutcome:
    """Saves each query's results to its own raw file; one failed query does not stop
    the others."""
    outcome = SearchOutcome()
    for query in queries:
        try:
            outcome.saved[query] = save_fetched(client.search(query), landing_dir)
        except FETCH_ERRORS as exc:
            outcome.failed[query] = str(exc)
    return outcome


def days_to_fetch(today: date, fetched: set[str], start: date, refetch_days: int = 0) -> list[str]:
    """Each of the last `refetch_days` days (yesterday first among them: a finished day),
    fetched again every day because its upvotes are still settling, plus any day of the
    week before today not fetched yet, so a day that failed is retried by the next run.
    Oldest first."""
    window = max(RETRY_DAYS, refetch_days)
    days = [(n, today - timedelta(days=n)) for n in range(window, 0, -1)]
    return [
        d.isoformat()
        for n, d in days
        if d >= start and (n <= refetch_days or (n <= RETRY_DAYS and d.isoformat() not in fetched))
    ]
