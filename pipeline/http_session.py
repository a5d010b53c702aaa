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
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
THROTTLE_BODIES = ("Rate exceeded.",)
_RATELIMIT_RESET = re.compile(r"\bt=(\d+(?:\.\d+)?)")


class OfflineError(RuntimeError):
    """Raised instead of making a request when the pipeline runs with PAPERS_OFFLINE=1."""


class RequestFailed(RuntimeError):
    """A request that still failed after every retry; `reason` says how it last failed,
    and `wait_s` how long the server asked to wait, when that was too long to wait for."""

    def __init__(
        self, url: str, reason: str, attempts: int, wait_s: float | None = None, method: str = "GET"
    ) -> None:
        super().__init__(f"{method} {url} failed after {attempts} attempt(s): {reason}")
        self.url = url
        self.reason = reason
        self.attempts = attempts
        self.wait_s = wait_s


class ServiceUnavailable(RequestFailed):
    """The service cannot be reached (its name does not resolve, it refuses connections,
    or it keeps timing out): the session makes no further request to it in this run, so
    a dead service costs seconds, not hours."""


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _unreachable(exc: requests.ConnectionError) -> str | None:
    """Why a host cannot be reached at all, as opposed to a dropped connection."""
    text = str(exc)
    if any(s in text for s in ("NameResolution", "Name or service not known", "getaddrinfo")):
        return "its name does not resolve"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "it refuses connections"
    return None


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


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    params: Mapping[str, str | int] | None
    headers: Mapping[str, str] | None
    json_body: object


@dataclass
class PoliteSession:
    """GET with a minimum interval between requests, retries with exponential backoff,
    respect for `Retry-After`, a deadline on each whole answer, and giving up on a
    service that cannot be reached.

    `timeout_s` bounds each read, not the whole answer: a server trickling a byte a
    second would hold a request for minutes, so the body is read against `deadline_s`.
    After `unreachable_after` attempts in a row that never got an answer (name not
    resolved, connection refused, timed out), the service is taken as down for the rest
    of the run: `down` says why and every later `get` raises `ServiceUnavailable` at once.

    Non-retryable answers (e.g. 400 or 404) are returned for the caller to interpret,
    because for arXiv a 400 carries an error feed worth reading. A service whose
    throttling is not a plain 429 (GitHub's 403 with rate-limit headers) names it with
    `throttled`: the seconds to wait for an answer that is throttling, else None.
    """

    user_agent: str
    min_interval_s: float = 3.0
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_base_s: float = 2.0
    max_backoff_s: float = 120.0
    deadline_s: float = 30.0
    unreachable_after: int = 3
    offline: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_wait: Callable[[float, str], None] | None = None
    throttled: Callable[[requests.Response], float | None] | None = None
    requests_made: int = 0
    retries: int = 0
    down: str | None = None
    _no_answer_in_row: int = field(default=0, repr=False)
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

    def forget_failures(self) -> None:
        """A new run gives a service that was down a new chance."""
        self.down, self._no_answer_in_row = None, 0

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
        return self.request("GET", url, params=params, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: object = None,
    ) -> requests.Response:
        """One request (GET, or a POST of `json_body`), retried like `get`."""
        if self.offline:
            raise OfflineError(f"PAPERS_OFFLINE is set: not fetching {url}")
        if self.down is not None:
            raise ServiceUnavailable(url, self.down, 0, method=method)
        call = _Call(method, url, params, headers, json_body)
        with self._lock:
            attempts = 0
            while True:
                attempts += 1
                reason, wait = self._attempt(call)
                if isinstance(reason, requests.Response):
                    return reason
                if self.down is not None:
                    raise ServiceUnavailable(url, self.down, attempts, method=method)
                if attempts > self.max_retries:
                    raise RequestFailed(url, reason, attempts, method=method)
                if wait is not None and wait > self.max_backoff_s:
                    # Better to record the failure and retry next run than to hold the run.
                    raise RequestFailed(
                        url, f"{reason}; server asks to wait {wait:g} s", attempts, wait, method
                    )
                self.retries += 1
                backoff = self._backoff(attempts, wait)
                if self.on_wait is not None:
                    self.on_wait(backoff, f"{_host(url)}: {reason}")
                self.sleep(backoff)

    def _no_answer(self, url: str, reason: str) -> str:
        """Counts an attempt that got no answer; enough in a row and the service is down."""
        self._no_answer_in_row += 1
        if self._no_answer_in_row >= self.unreachable_after:
            self.down = f"{_host(url)} unreachable: {reason} ({self._no_answer_in_row} attempts)"
        return reason

    def _attempt(self, call: _Call) -> tuple[requests.Response | str, float | None]:
        """One request; returns the response to hand back, or why to retry and the
        server's requested wait."""
        url = call.url
        self._wait_for_interval()
        started = self._last_start = self.clock()
        self.requests_made += 1
        try:
            response = self._session.request(
                call.method,
                url,
                params=call.params,
                headers=dict(call.headers or {}),
                json=call.json_body,
                timeout=self.timeout_s,
                stream=True,
            )
            # A followed redirect (a renamed GitHub repository) was a request too.
            self.requests_made += len(response.history)
            complete = self._read_within_deadline(response, started)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            return self._no_answer(url, f"timed out after {self.timeout_s:g} s"), None
        except requests.ConnectionError as exc:
            if cause := _unreachable(exc):
                return self._no_answer(url, cause), None
            return f"connection error: {type(exc).__name__}", None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            # A body cut off mid-answer (IncompleteRead, ChunkedEncodingError) and the
            # like: transient.
            return f"broken answer: {type(exc).__name__}", None
        if not complete:
            return self._no_answer(url, f"no whole answer within {self.deadline_s:g} s"), None
        self._no_answer_in_row = 0
        if self.throttled is not None and (wait := self.throttled(response)) is not None:
            return f"rate limited (HTTP {response.status_code})", wait
        wait = retry_after_seconds(response.headers)
        if response.status_code in RETRY_STATUSES:
            return f"HTTP {response.status_code}", wait
        if response.text.strip() in THROTTLE_BODIES:
            return f"throttled: {response.text.strip()!r}", wait
        return response, None

    def _read_within_deadline(self, response: requests.Response, started: float) -> bool:
        """Reads the body unless the whole answer takes longer than `deadline_s`. `read1`
        returns what has arrived rather than waiting for a full buffer, so a trickle is
        noticed between its bytes; each wait is still bounded by `timeout_s`."""
        chunks: list[bytes] = []
        with response:
            while chunk := response.raw.read1(65536, decode_content=True):
                chunks.append(chunk)
                if self.clock() - started > self.deadline_s:
                    return False
        response._content = b"".join(chunks)  # what `.content` and `.text` then return
        return True

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
