"""A fake GitHub API on `LocalServer`: REST and GraphQL in GitHub's shapes.

It holds repositories by id, with renames (an old name answers 301 to
`/repositories/{id}`, as GitHub does), empty repositories (409 on `/commits`), takedowns
(451), ETags (304 on `If-None-Match`), rate-limit headers on every answer from a budget
per caller (60 an hour without a token, 5,000 with one; a 304 is free only with a token),
and GraphQL queries of aliased `repository(owner:, name:)` blocks whose missing
repositories come back as null aliases with NOT_FOUND errors. Any other failure is
scripted with `LocalServer.queue(path, Reply(...))`. It does not import the pipeline's
GitHub code, so that it checks rather than mirrors the client.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.local_server import LocalServer, Reply, Request

JSON = "application/json; charset=utf-8"
RESET_IN_S = 3600
_ALIAS = re.compile(r"(\w+): repository\(owner: \$(\w+), name: \$(\w+)\)")


@dataclass
class FakeRepo:
    """A repository as the fake holds it; `full_name` is its current name."""

    repo_id: int
    full_name: str
    stars: int = 10
    forks: int = 2
    description: str = "Code for the paper."
    language: str = "Python"
    license: str | None = "MIT"
    topics: list[str] = field(default_factory=lambda: ["machine-learning"])
    size_kb: int = 120
    empty: bool = False
    archived: bool = False
    fork_of: str | None = None
    created_at: str = "2024-01-05T10:00:00Z"
    pushed_at: str = "2024-06-01T12:00:00Z"
    readme: str | None = (
        "# The model\n\nCode for the paper.\n\n## Training\n\npython train.py --config base\n"
    )
    files: list[str] = field(default_factory=lambda: ["README.md", "LICENSE", "train.py", "src"])

    @property
    def readme_etag(self) -> str:
        return f'"{hashlib.sha1((self.readme or "").encode()).hexdigest()}"'

    @property
    def etag(self) -> str:
        digest = hashlib.sha1(json.dumps(self.rest(), sort_keys=True).encode()).hexdigest()
        return f'W/"{digest}"'

    def rest(self) -> dict[str, Any]:
        owner = self.full_name.split("/")[0]
        body: dict[str, Any] = {
            "id": self.repo_id,
            "node_id": f"R_{self.repo_id}",
            "name": self.full_name.split("/")[1],
            "full_name": self.full_name,
            "owner": {"login": owner, "type": "User"},
            "private": False,
            "html_url": f"https://github.com/{self.full_name}",
            "description": self.description,
            "homepage": "",
            "topics": self.topics,
            "stargazers_count": self.stars,
            "watchers_count": self.stars,
            "subscribers_count": 3,
            "forks_count": self.forks,
            "open_issues_count": 4,
            "language": self.language,
            "license": {"key": self.license.lower(), "spdx_id": self.license}
            if self.license
            else None,
            "archived": self.archived,
            "disabled": False,
            "fork": self.fork_of is not None,
            "default_branch": "main",
            "size": 0 if self.empty else self.size_kb,
            "created_at": self.created_at,
            "pushed_at": self.pushed_at,
        }
        if self.fork_of:
            body["parent"] = {"full_name": self.fork_of}
            body["source"] = {"full_name": self.fork_of}
        return body

    def graphql(self) -> dict[str, Any]:
        return {
            "databaseId": self.repo_id,
            "nameWithOwner": self.full_name,
            "description": self.description,
            "homepageUrl": None,
            "isEmpty": self.empty,
            "isArchived": self.archived,
            "isDisabled": False,
            "isFork": self.fork_of is not None,
            "parent": {"nameWithOwner": self.fork_of} if self.fork_of else None,
            "stargazerCount": self.stars,
            "forkCount": self.forks,
            "watchers": {"totalCount": 3},
            "issues": {"totalCount": 4},
            "licenseInfo": {"spdxId": self.license} if self.license else None,
            "primaryLanguage": {"name": self.language},
            "defaultBranchRef": None if self.empty else {"name": "main"},
            "diskUsage": 0 if self.empty else self.size_kb,
            "createdAt": self.created_at,
            "pushedAt": self.pushed_at,
            "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in self.topics]},
            "rootTree": None if self.empty else {"entries": [{"name": f} for f in self.files]},
        }


class FakeGitHub:
    """Answers `/repos/…`, `/repositories/{id}` and `/graphql` on `server`."""

    def __init__(self, server: LocalServer, repos: list[FakeRepo], token: str | None = None):
        self.server = server
        self.repos = {repo.repo_id: repo for repo in repos}
        self._by_name = {repo.full_name.lower(): repo for repo in repos}
        self.renamed: dict[str, int] = {}  # old lower-case name -> id
        self.blocked: set[str] = set()
        self.token = token
        self.budget = {"token": 5000, "none": 60}
        self.reset_at = int(time.time()) + RESET_IN_S
        server.route_prefix("/repos/", self._rest)
        server.route_prefix("/repositories/", self._by_id)
        server.route("/graphql", self._graphql)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return [
            r
            for r in self.server.requests
            if r.path.startswith(("/repos/", "/repositories/", "/graphql"))
        ]

    def rename(self, old: str, new: str) -> None:
        repo = self._named(old)
        assert repo is not None, old
        self.renamed[old.lower()] = repo.repo_id
        del self._by_name[old.lower()]
        repo.full_name = new
        self._by_name[new.lower()] = repo

    def _named(self, name: str) -> FakeRepo | None:
        return self._by_name.get(name.lower())

    # --- budget -----------------------------------------------------------------------------

    def _caller(self, request: Request) -> str | None:
        """`token`, `none`, or None for a wrong token (401)."""
        auth = request.headers.get("Authorization")
        if auth is None:
            return "none"
        return "token" if self.token and auth == f"Bearer {self.token}" else None

    def _limit_headers(self, caller: str) -> dict[str, str]:
        limit = 5000 if caller == "token" else 60
        remaining = max(0, self.budget[caller])
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(limit - remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "graphql" if caller == "token" else "core",
        }

    def _answer(self, request: Request, reply: Reply, free: bool = False) -> Reply:
        caller = self._caller(request)
        if caller is None:
            return Reply(401, json.dumps({"message": "Bad credentials"}), content_type=JSON)
        if self.budget[caller] <= 0:
            return Reply(
                403,
                json.dumps({"message": "API rate limit exceeded for 127.0.0.1."}),
                headers=self._limit_headers(caller),
                content_type=JSON,
            )
        if not free:
            self.budget[caller] -= 1
        reply.headers = {**self._limit_headers(caller), **reply.headers}
        return reply

    # --- REST -------------------------------------------------------------------------------

    def _rest(self, request: Request) -> Reply:
        parts = request.path.split("/")[2:]  # owner, name[, commits | readme]
        name = "/".join(parts[:2])
        if name.lower() in self.blocked:
            body = {"message": "Repository access blocked", "block": {"reason": "dmca"}}
            return self._answer(request, Reply(451, json.dumps(body), content_type=JSON))
        if name.lower() in self.renamed:
            target = f"{self.url}/repositories/{self.renamed[name.lower()]}"
            return self._answer(request, Reply(301, headers={"Location": target}))
        repo = self._named(name)
        if repo is None:
            return self._answer(request, _not_found())
        if parts[2:] == ["readme"]:
            return self._readme_reply(request, repo)
        if parts[2:3] == ["contents"]:
            entries = [{"name": f, "type": "dir" if "." not in f else "file"} for f in repo.files]
            return self._answer(request, Reply(200, json.dumps(entries), content_type=JSON))
        if parts[2:] == ["commits"]:
            if repo.empty:
                message = {"message": "Git Repository is empty."}
                return self._answer(request, Reply(409, json.dumps(message), content_type=JSON))
            return self._answer(
                request, Reply(200, json.dumps([{"sha": "abc"}]), content_type=JSON)
            )
        return self._repo_reply(request, repo)

    def _readme_reply(self, request: Request, repo: FakeRepo) -> Reply:
        if repo.readme is None:
            return self._answer(request, _not_found())
        if request.headers.get("If-None-Match") == repo.readme_etag:
            free = self._caller(request) == "token"
            return self._answer(request, Reply(304, headers={"ETag": repo.readme_etag}), free)
        headers = {"ETag": repo.readme_etag}
        return self._answer(request, Reply(200, repo.readme, headers, "text/plain; charset=utf-8"))

    def _by_id(self, request: Request) -> Reply:
        repo = self.repos.get(int(request.path.rsplit("/", 1)[1]))
        return self._repo_reply(request, repo) if repo else self._answer(request, _not_found())

    def _repo_reply(self, request: Request, repo: FakeRepo) -> Reply:
        if request.headers.get("If-None-Match") == repo.etag:
            # Free only when authenticated, as on GitHub.
            free = self._caller(request) == "token"
            return self._answer(request, Reply(304, headers={"ETag": repo.etag}), free=free)
        body = json.dumps(repo.rest())
        return self._answer(request, Reply(200, body, {"ETag": repo.etag}, JSON))

    # --- GraphQL ----------------------------------------------------------------------------

    def _graphql(self, request: Request) -> Reply:
        if self._caller(request) != "token":
            message = {"message": "This endpoint requires you to be authenticated."}
            return Reply(401, json.dumps(message), content_type=JSON)
        payload = json.loads(request.body)
        variables = payload.get("variables") or {}
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for alias, owner_var, name_var in _ALIAS.findall(payload["query"]):
            name = f"{variables[owner_var]}/{variables[name_var]}"
            repo = self._named(name) or self.repos.get(self.renamed.get(name.lower(), -1))
            data[alias] = repo.graphql() if repo else None
            if repo is None:
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [{"line": 1, "column": 1}],
                        "message": f"Could not resolve to a Repository with the name '{name}'.",
                    }
                )
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return self._answer(request, Reply(200, json.dumps(body), content_type=JSON))


def _not_found() -> Reply:
    body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
    return Reply(404, json.dumps(body), content_type=JSON)
