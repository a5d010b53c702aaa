"""Fetch Hugging Face paper listings, keeping every response body exactly as served.

The pipeline is "raw first": what is fetched is saved to the landing folder unchanged
and read by the same readers as hand-saved files. So this client only fetches and checks
that a body is the thing asked for; it does not parse entries. The JSON API is preferred
(its rate limit is five times the pages'); the listing page is the fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import quote, urlsplit

import requests

from pipeline.dumps.entries import NotADump
from pipeline.dumps.hf_pages import load_json, read_hf_html
from pipeline.http_session import PoliteSession, RequestFailed
from pipeline.text import excerpt

PAGE_SIZE = 100  # the API's largest `limit`
SEARCH_MAX_LIMIT = 120
SEARCH_MAX_QUERY = 250
MAX_PAGES = 50  # 5,000 papers in a day would be a server ignoring `p`, not a real list

FetchKind = Literal["daily", "search", "paper"]


class HfFetchError(RuntimeError):
    """Hugging Face answered, but not with the listing asked for; the message says how."""


@dataclass(frozen=True)
class FetchedBody:
    """One response body as served, with what is needed to save and later read it.
    `page` is the API page number (None for an HTML page or a search)."""

    url: str
    body: bytes
    content_type: str
    fetched_at: datetime
    kind: FetchKind
    day: date | None
    query: str | None
    page: int | None = None
    arxiv_id: str | None = None  # the paper asked for (`kind` "paper")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _json_list(response: requests.Response) -> list[object]:
    """The body as a JSON list; raises `HfFetchError` when it is anything else."""
    try:
        data = load_json(response.text)
    except NotADump as exc:
        raise HfFetchError(f"{response.url}: body cannot be read: {exc}") from exc
    if not isinstance(data, list):
        raise HfFetchError(f"{response.url}: expected a JSON list, got {type(data).__name__}")
    return data


def _status_error(response: requests.Response) -> HfFetchError:
    return HfFetchError(f"{response.url}: HTTP {response.status_code}: {excerpt(response.text)}")


class HfClient:
    """Hugging Face papers through a `PoliteSession` (interval, retries, Retry-After and
    the `RateLimit` header's t= are the session's job; offline raises `OfflineError`
    there before any request)."""

    def __init__(
        self,
        session: PoliteSession,
        base_url: str,
        page_size: int = PAGE_SIZE,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{PAGE_SIZE}, got {page_size}")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self._now = now

    def daily_papers(self, day: date) -> list[FetchedBody]:
        """The list for `day`: every page of `/api/daily_papers?date=…&limit=…&p=N`, until
        a page is `[]` or shorter than the limit. A day without papers gives `[]`: an
        empty body is not worth landing (every empty day's body is the same bytes).

        Fallback: where the API does not serve the day (400 or another non-200 answer, a
        failure after retries, or a body that is not a JSON list on any page), the whole
        day is taken from the HTML page `/papers/date/YYYY-MM-DD` instead, and any API
        pages already fetched are dropped, so one day never mixes the two. Hugging Face
        redirects a day it has no list for to another day; such a redirect (or a page
        stating another day) returns `[]`: no list for that day, rather than another
        day's list saved under this one.
        """
        try:
            return self._api_pages(day)
        except (RequestFailed, HfFetchError) as api_error:
            try:
                page = self._html_page(day)
            except (RequestFailed, HfFetchError) as page_error:
                raise HfFetchError(
                    f"daily papers for {day}: API failed ({api_error}); "
                    f"HTML page failed ({page_error})"
                ) from page_error
            return [] if page is None else [page]

    def search(self, query: str, limit: int = SEARCH_MAX_LIMIT) -> FetchedBody:
        """Results of `/api/papers/search` (the search API, not a listing page's `?q=`,
        which has been seen to return the unfiltered list). `q` is cut to 250 characters
        and `limit` kept to 1..120, the API's bounds."""
        q = query.strip()[:SEARCH_MAX_QUERY]
        if not q:
            raise ValueError("search query is empty")
        limit = max(1, min(SEARCH_MAX_LIMIT, limit))
        response = self.session.get(
            f"{self.base_url}/api/papers/search", params={"q": q, "limit": limit}
        )
        if response.status_code != 200:
            raise _status_error(response)
        _json_list(response)
        return self._body(response, "search", day=None, query=q)

    def paper(self, arxiv_id: str) -> FetchedBody | None:
        """`/api/papers/<arXiv ID>`: the paper as Hugging Face knows it, or None when it
        answers 404 (the paper is not on Hugging Face). The body must be the paper asked
        for: a JSON object whose `id` is `arxiv_id`."""
        response = self.session.get(f"{self.base_url}/api/papers/{quote(arxiv_id, safe='')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _status_error(response)
        try:
            data = load_json(response.text)
        except NotADump as exc:
            raise HfFetchError(f"{response.url}: body cannot be read: {exc}") from exc
        stated = data.get("id") if isinstance(data, dict) else None
        if stated != arxiv_id:
            raise HfFetchError(f"{response.url}: expected the paper {arxiv_id}, got {stated!r}")
        return self._body(response, "paper", day=None, arxiv_id=arxiv_id)

    def _api_pages(self, day: date) -> list[FetchedBody]:
        bodies: list[FetchedBody] = []
        for page in range(MAX_PAGES):
            params = {"date": day.isoformat(), "limit": self.page_size, "p": page}
            response = self.session.get(f"{self.base_url}/api/daily_papers", params=params)
            if response.status_code != 200:
                raise _status_error(response)
            items = _json_list(response)
            if not items:
                return bodies
            if any(response.content == earlier.body for earlier in bodies):
                raise HfFetchError(f"{response.url}: same page as before; `p` is ignored")
            bodies.append(self._body(response, "daily", day=day, page=page))
            if len(items) < self.page_size:
                return bodies
        raise HfFetchError(f"daily papers for {day}: more than {MAX_PAGES} pages")

    def _html_page(self, day: date) -> FetchedBody | None:
        """The listing page for `day`, or None when Hugging Face shows another day."""
        wanted = f"/papers/date/{day.isoformat()}"
        response = self.session.get(f"{self.base_url}{wanted}")
        if response.status_code != 200:
            raise _status_error(response)
        if not urlsplit(response.url).path.rstrip("/").endswith(wanted):
            return None
        try:
            stated = read_hf_html(response.text).snapshot_date
        except NotADump as exc:
            raise HfFetchError(f"{response.url}: page not readable: {exc}") from exc
        if stated is not None and stated != day:
            return None
        return self._body(response, "daily", day=day, page=None)

    def _body(
        self,
        response: requests.Response,
        kind: FetchKind,
        day: date | None,
        query: str | None = None,
        page: int | None = None,
        arxiv_id: str | None = None,
    ) -> FetchedBody:
        return FetchedBody(
            url=response.url,
            body=response.content,
            content_type=response.headers.get("Content-Type", ""),
            fetched_at=self._now(),
            kind=kind,
            day=day,
            query=query,
            page=page,
            arxiv_id=arxiv_id,
        )
