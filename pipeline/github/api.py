"""GitHub's REST and GraphQL APIs, as far as repository facts go.

Without a token GitHub allows 60 requests an hour, so each repository costs one REST
request (`GET /repos/{owner}/{name}`; a second, `/commits`, only for a repository of size
0, to tell an empty one, which answers 409). With a token, repositories go 50 to a
GraphQL query (about one point of 5,000 an hour), and REST is kept for what GraphQL
could not say. Every answer's `x-ratelimit-*` headers update the budget, so the caller
stops asking when it is spent instead of being refused.

The token is sent in the `Authorization` header only, and never appears in a URL, a
message or a stored value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import requests

from pipeline.http_session import PoliteSession, RequestFailed

GRAPHQL_BATCH = 50
# Least wait GitHub asks for when it throttles without saying how long.
RATE_LIMIT_WAIT_S = 60.0

_GRAPHQL_FIELDS = """
  databaseId nameWithOwner description homepageUrl isEmpty isArchived isDisabled isFork
  parent { nameWithOwner }
  stargazerCount forkCount
  watchers { totalCount }
  issues(states: OPEN) { totalCount }
  licenseInfo { spdxId }
  primaryLanguage { name }
  defaultBranchRef { name }
  diskUsage createdAt pushedAt
  repositoryTopics(first: 20) { nodes { topic { name } } }
  rootTree: object(expression: "HEAD:") { ... on Tree { entries { name } } }
"""


class RateLimited(RuntimeError):
    """GitHub's budget is spent (or it throttles) for longer than a refresh should wait:
    what is left is asked about next run."""

    def __init__(self, why: str, reset_at: datetime | None) -> None:
        when = f"; it resets at {reset_at:%Y-%m-%d %H:%M} UTC" if reset_at else ""
        super().__init__(f"{why}{when}")
        self.reset_at = reset_at


@dataclass(frozen=True)
class RepoFacts:
    """What GitHub says about one repository."""

    repo_id: int | None
    full_name: str
    description: str | None = None
    homepage: str | None = None
    topics: tuple[str, ...] = ()
    stars: int | None = None
    forks: int | None = None
    watchers: int | None = None
    open_issues: int | None = None
    language: str | None = None
    license: str | None = None
    archived: bool | None = None
    disabled: bool | None = None
    fork: bool | None = None
    fork_parent: str | None = None
    fork_source: str | None = None
    default_branch: str | None = None
    size_kb: int | None = None
    created_at: datetime | None = None
    pushed_at: datetime | None = None
    empty: bool | None = None  # None: not known yet (REST, size 0)
    root_files: tuple[str, ...] | None = None  # names at the top (GraphQL gives them)


@dataclass(frozen=True)
class RepoAnswer:
    """The outcome of asking about `repo` (lower-case owner/name as linked): a status of
    `core.repos` (or `unchanged` for a 304), the facts when GitHub gave them, its ETag,
    and why it failed for `error`."""

    repo: str
    status: str
    facts: RepoFacts | None = None
    etag: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ReadmeAnswer:
    status: str  # ok, unchanged, none, error
    text: str | None = None
    etag: str | None = None
    error: str | None = None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _full_name(node: Mapping[str, Any] | None) -> str | None:
    return node.get("full_name") if node else None


def facts_from_rest(body: Mapping[str, Any]) -> RepoFacts:
    license_ = body.get("license") or {}
    return RepoFacts(
        repo_id=body.get("id"),
        full_name=body["full_name"],
        description=body.get("description"),
        homepage=body.get("homepage") or None,
        topics=tuple(body.get("topics") or ()),
        stars=body.get("stargazers_count"),
        forks=body.get("forks_count"),
        watchers=body.get("subscribers_count"),
        open_issues=body.get("open_issues_count"),
        language=body.get("language"),
        license=license_.get("spdx_id"),
        archived=body.get("archived"),
        disabled=body.get("disabled"),
        fork=body.get("fork"),
        fork_parent=_full_name(body.get("parent")),
        fork_source=_full_name(body.get("source")),
        default_branch=body.get("default_branch"),
        size_kb=body.get("size"),
        created_at=_time(body.get("created_at")),
        pushed_at=_time(body.get("pushed_at")),
        empty=False if body.get("size") else None,
    )


def facts_from_graphql(node: Mapping[str, Any]) -> RepoFacts:
    def inner(key: str, name: str) -> Any:
        value = node.get(key)
        return value.get(name) if value else None

    topics = node.get("repositoryTopics") or {}
    parent = inner("parent", "nameWithOwner")
    tree = node.get("rootTree")
    root_files = tuple(e["name"] for e in tree.get("entries") or ()) if tree else None
    return RepoFacts(
        repo_id=node.get("databaseId"),
        full_name=node["nameWithOwner"],
        description=node.get("description"),
        homepage=node.get("homepageUrl") or None,
        topics=tuple(t["topic"]["name"] for t in topics.get("nodes") or ()),
        stars=node.get("stargazerCount"),
        forks=node.get("forkCount"),
        watchers=inner("watchers", "totalCount"),
        open_issues=inner("issues", "totalCount"),
        language=inner("primaryLanguage", "name"),
        license=inner("licenseInfo", "spdxId"),
        archived=node.get("isArchived"),
        disabled=node.get("isDisabled"),
        fork=node.get("isFork"),
        fork_parent=parent,
        fork_source=None,  # GraphQL names the direct parent only
        default_branch=inner("defaultBranchRef", "name"),
        size_kb=node.get("diskUsage"),
        created_at=_time(node.get("createdAt")),
        pushed_at=_time(node.get("pushedAt")),
        empty=node.get("isEmpty"),
        root_files=() if node.get("isEmpty") else root_files,
    )


def status_of(asked: str, facts: RepoFacts) -> str:
    """`empty`, `moved` (renamed or transferred: the canonical name differs from the
    link's, case aside) or `ok`."""
    if facts.empty:
        return "empty"
    return "moved" if facts.full_name.lower() != asked.lower() else "ok"


def rate_limit_wait(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds to wait when `response` is GitHub throttling, else None: `retry-after`,
    else until `x-ratelimit-reset` when nothing remains, else at least a minute. A 403
    without any of these (nor a rate-limit message) is a refusal, not throttling."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if (retry_after := headers.get("retry-after", "").strip()).isdigit():
        return float(retry_after)
    reset = headers.get("x-ratelimit-reset", "").strip()
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(1.0, float(reset) - (time.time() if now is None else now))
    if response.status_code == 429 or "rate limit" in response.text.lower():
        return RATE_LIMIT_WAIT_S
    return None


@dataclass
class GitHubClient:
    """Asks GitHub about repositories, politely, and keeps count of its budget."""

    session: PoliteSession
    api_url: str = "https://api.github.com"
    token: str | None = field(default=None, repr=False)
    budget_remaining: int | None = None
    budget_reset: datetime | None = None
    not_modified: int = 0

    def __post_init__(self) -> None:
        self.session.throttled = rate_limit_wait

    @property
    def requests_made(self) -> int:
        return self.session.requests_made

    def _headers(self, accept: str, etag: str | None = None) -> dict[str, str]:
        headers = {"Accept": accept, "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if etag:
            headers["If-None-Match"] = etag
        return headers

    def _send(self, method: str, path: str, **options: Any) -> requests.Response:
        try:
            response = self.session.request(method, f"{self.api_url}{path}", **options)
        except RequestFailed as exc:
            if exc.wait_s is not None:
                raise RateLimited(f"GitHub throttles: {exc.reason}", self.budget_reset) from None
            raise
        self._note_budget(response)
        return response

    def _note_budget(self, response: requests.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining", "")
        reset = response.headers.get("x-ratelimit-reset", "")
        if remaining.isdigit():
            self.budget_remaining = int(remaining)
        if reset.isdigit():
            self.budget_reset = datetime.fromtimestamp(int(reset), UTC).replace(tzinfo=None)

    def check_budget(self) -> None:
        """Raises `RateLimited` when the last answer said nothing remains."""
        if self.budget_remaining == 0:
            raise RateLimited("GitHub's hourly request budget is spent", self.budget_reset)

    # --- REST -------------------------------------------------------------------------------

    def repo(self, repo: str, etag: str | None = None) -> RepoAnswer:
        """`GET /repos/{owner}/{name}` (following a rename's 301), then `/commits` for a
        repository of size 0. A 304 is `unchanged`; 404 `not_found`; 451 `blocked`;
        any other failure `error`, never `not_found`."""
        self.check_budget()
        response = self._send(
            "GET", f"/repos/{repo}", headers=self._headers("application/vnd.github+json", etag)
        )
        status = response.status_code
        if status == 304:
            self.not_modified += 1
            return RepoAnswer(repo, "unchanged", etag=etag)
        if status == 404:
            return RepoAnswer(repo, "not_found")
        if status == 451:
            return RepoAnswer(repo, "blocked", error=_message(response))
        if status != 200:
            return RepoAnswer(repo, "error", error=f"HTTP {status}: {_message(response)}")
        try:
            facts = facts_from_rest(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            return RepoAnswer(repo, "error", error=f"unreadable answer: {type(exc).__name__}")
        if facts.empty is None:
            facts = self._with_emptiness(facts)
        return RepoAnswer(repo, status_of(repo, facts), facts, response.headers.get("etag"))

    def _with_emptiness(self, facts: RepoFacts) -> RepoFacts:
        """Size 0 is not proof: GitHub answers 409 on the commits of an empty repository."""
        self.check_budget()
        response = self._send(
            "GET",
            f"/repos/{facts.full_name}/commits",
            params={"per_page": 1},
            headers=self._headers("application/vnd.github+json"),
        )
        if response.status_code == 409:
            return replace(facts, empty=True)
        return replace(facts, empty=False) if response.status_code == 200 else facts

    def readme(self, full_name: str, etag: str | None = None) -> ReadmeAnswer:
        """The README as text (`ok`), `unchanged` (304 on the stored ETag), `none` (404:
        the repository has no README) or `error`."""
        self.check_budget()
        response = self._send(
            "GET",
            f"/repos/{full_name}/readme",
            headers=self._headers("application/vnd.github.raw+json", etag),
        )
        if response.status_code == 304:
            self.not_modified += 1
            return ReadmeAnswer("unchanged", etag=etag)
        if response.status_code == 404:
            return ReadmeAnswer("none")
        if response.status_code != 200:
            return ReadmeAnswer("error", error=f"HTTP {response.status_code}")
        return ReadmeAnswer("ok", response.text, response.headers.get("etag"))

    def root_files(self, full_name: str) -> tuple[str, ...] | None:
        """Names at the top of the default branch; None when GitHub did not say."""
        self.check_budget()
        response = self._send(
            "GET", f"/repos/{full_name}/contents/", headers=self._headers("application/json")
        )
        if response.status_code != 200:
            return None
        try:
            return tuple(str(entry["name"]) for entry in response.json())
        except (ValueError, KeyError, TypeError):
            return None

    # --- GraphQL ----------------------------------------------------------------------------

    def repos_graphql(self, repos: Sequence[str]) -> dict[str, RepoAnswer]:
        """Up to GRAPHQL_BATCH repositories in one query. A missing one comes back as a
        null alias with a NOT_FOUND error; other per-alias errors leave it out of the
        answer (for REST to settle)."""
        if not self.token:
            raise ValueError("GitHub's GraphQL API needs a token")
        self.check_budget()
        owners_names = [_split(repo) for repo in repos]
        response = self._send(
            "POST",
            "/graphql",
            headers=self._headers("application/json"),
            json_body={
                "query": graphql_query(len(repos)),
                "variables": {
                    f"{kind}{i}": value
                    for i, pair in enumerate(owners_names)
                    for kind, value in zip(("o", "n"), pair, strict=True)
                },
            },
        )
        if response.status_code != 200:
            raise RequestFailed(response.url, f"HTTP {response.status_code}", 1, method="POST")
        body = response.json()
        return _graphql_answers(repos, body)


def graphql_query(count: int) -> str:
    variables = ", ".join(f"$o{i}: String!, $n{i}: String!" for i in range(count))
    blocks = "\n".join(
        f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...R }}" for i in range(count)
    )
    return f"query({variables}) {{\n{blocks}\n}}\nfragment R on Repository {{{_GRAPHQL_FIELDS}}}"


def _graphql_answers(repos: Sequence[str], body: Mapping[str, Any]) -> dict[str, RepoAnswer]:
    data = body.get("data") or {}
    errors: dict[str, Mapping[str, Any]] = {}
    for error in body.get("errors") or ():
        path = error.get("path") or []
        if path:
            errors[str(path[0])] = error
        elif error.get("type") == "RATE_LIMITED":
            raise RateLimited(f"GitHub GraphQL: {error.get('message', 'rate limited')}", None)
    if not data and body.get("errors"):
        raise RequestFailed(
            "graphql", f"errors: {body['errors'][0].get('message')}", 1, method="POST"
        )
    answers: dict[str, RepoAnswer] = {}
    for i, repo in enumerate(repos):
        node, error = data.get(f"r{i}"), errors.get(f"r{i}")
        if node:
            facts = facts_from_graphql(node)
            answers[repo] = RepoAnswer(repo, status_of(repo, facts), facts)
        elif error is not None and error.get("type") == "NOT_FOUND":
            answers[repo] = RepoAnswer(repo, "not_found")
    return answers


def _split(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    return owner, name


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:200]
    except ValueError:
        return response.text[:200]
