"""A polite HTTP client shared by every external service the pipeline calls.

arXiv allows one request every three seconds on a single connection, and Hugging Face
rate-limits per five-minute window. urllib3's own `Retry` cannot see throttling that
arrives as a 200 with a `Rate exceeded.` body, and its retries would not wait for our
request interval, so the retry loop lives here: every attempt, retries included, waits
for the interval, and one lock keeps a single request in flight per client.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
THROTTLE_BODIES = ("Rate exceeded.",)
_RATELIMIT_RESET = re.compile(r"\bt=(\d+(?:\.\d+)?)")


class OfflineError(RuntimeError):
    """Raised instead of making a request when the pipeline runs with PAPERS_OFFLINE=1."""


class RequestFailed(RuntimeError):
    """A request that still failed after every retry; `reason` says how it last failed."""

    def __init__(self, url: str, reason: str, attempts: int) -> None:
        super().__init__(f"GET {url} failed after {attempts} attempt(s): {reason}")
        self.url = url
        self.reason = reason
        self.attempts = attempts


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: `Retry-After` (seconds or HTTP date) or the
    `t=` of Hugging Face's `RateLimit` header."""
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - (time.time() if now is None else now))
    match = _RATELIMIT_RESET.search(headers.get("RateLimit", ""))
    return float(match.group(1)) if match else None


@dataclass
class PoliteSession:
    """GET with a minimum interval between requests, retries with exponential backoff,
    and respect for `Retry-After`.

    Non-retryable answers (e.g. 400 or 404) are returned for the caller to interpret,
    because for arXiv a 400 carries an error feed worth reading.
    """

    user_agent: str
    min_interval_s: float = 3.0
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_base_s: float = 2.0
    max_backoff_s: float = 120.0
    offline: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests_made: int = 0
    retries: int = 0
    _last_start: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        # One pooled connection: arXiv's terms allow a single connection at a time.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = self.user_agent

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """GET `url`, retrying throttling, server errors, timeouts and dropped connections."""
        if self.offline:
            raise OfflineError(f"PAPERS_OFFLINE is set: not fetching {url}")
        with self._lock:
            attempts = 0
            while True:
                attempts += 1
                reason, wait = self._attempt(url, params, headers)
                if isinstance(reason, requests.Response):
                    return reason
                if attempts > self.max_retries:
                    raise RequestFailed(url, reason, attempts)
                if wait is not None and wait > self.max_backoff_s:
                    # Better to record the failure and retry next run than to hold the run.
                    raise RequestFailed(url, f"{reason}; server asks to wait {wait:g} s", attempts)
                self.retries += 1
                self.sleep(self._backoff(attempts, wait))

    def _attempt(
        self,
        url: str,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[requests.Response | str, float | None]:
        """One request; returns the response to hand back, or why to retry and the
        server's requested wait."""
        self._wait_for_interval()
        self._last_start = self.clock()
        self.requests_made += 1
        try:
            response = self._session.get(
                url, params=params, headers=dict(headers or {}), timeout=self.timeout_s
            )
        except requests.Timeout:
            return f"timed out after {self.timeout_s:g} s", None
        except requests.ConnectionError as exc:
            return f"connection error: {type(exc).__name__}", None
        except requests.RequestException as exc:
            # A body cut off mid-answer (ChunkedEncodingError) and the like: transient.
            return f"broken answer: {type(exc).__name__}", None
        wait = retry_after_seconds(response.headers)
        if response.status_code in RETRY_STATUSES:
            return f"HTTP {response.status_code}", wait
        if response.text.strip() in THROTTLE_BODIES:
            return f"throttled: {response.text.strip()!r}", wait
        return response, None

    def _wait_for_interval(self) -> None:
        if self._last_start is None:
            return
        remaining = self.min_interval_s - (self.clock() - self._last_start)
        if remaining > 0:
            self.sleep(remaining)

    def _backoff(self, attempt: int, server_wait: float | None) -> float:
        """Exponential backoff, but never shorter than what the server asked for."""
        backoff = min(self.max_backoff_s, self.backoff_base_s * 2 ** (attempt - 1))
        return backoff if server_wait is None else max(backoff, server_wait)
