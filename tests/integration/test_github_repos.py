"""The repos step against a fake GitHub on loopback: one test per way GitHub answers.

Each test builds a warehouse whose abstracts link repositories, runs the step through a
real HTTP client against `tests.fakes.github`, and asserts what `core.repos` stores, that
every linked repository still has its row (nothing lost), and that a failure is never
stored as `not_found`.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.github.api import GitHubClient
from pipeline.github.repos import OFFLINE_CAUSE, ReposReport, refresh_repos
from tests.builders import Listing, TempWarehouse, abstract, dump_text, every_step
from tests.fakes.github import JSON, FakeGitHub, FakeRepo
from tests.fakes.local_server import LocalServer, Reply, quick_session

TOKEN = "FAKE-TOKEN-for-tests-only"
NOW = datetime(2026, 6, 1, 12, 0)


def _listing(index: int, repo: str) -> Listing:
    topic = f"topic number {index} of the repository tests"
    return Listing(
        f"Repository Study {index}: {repo.split('/')[1]}",
        f"{abstract(topic)} Code is available at https://github.com/{repo}.",
    )


def warehouse_linking(root: Path, repos: list[str]) -> TempWarehouse:
    """A warehouse whose papers link `repos` (one paper each), every step run offline."""
    warehouse = TempWarehouse(root)
    listings = [_listing(i, repo) for i, repo in enumerate(repos)]
    warehouse.land("repos.txt", dump_text(listings))
    every_step(warehouse.settings)
    return warehouse


def run(
    warehouse: TempWarehouse,
    fake: FakeGitHub,
    token: str | None = None,
    now: datetime = NOW,
    **session: object,
) -> ReposReport:
    client = GitHubClient(quick_session(**session), fake.url, token)
    with client.session:
        return refresh_repos(warehouse.settings.warehouse, client, 24, False, now=now)


def repo_row(warehouse: TempWarehouse, repo: str) -> dict[str, object]:
    with warehouse.settings.warehouse.connect(read_only=True) as con:
        found = con.execute("SELECT * FROM core.repos WHERE repo = ?", [repo.lower()])
        names = [column[0] for column in found.description]
        rows = found.fetchall()
    assert len(rows) == 1, f"{repo}: {len(rows)} rows"
    return dict(zip(names, rows[0], strict=True))


def assert_nothing_lost(warehouse: TempWarehouse) -> None:
    missing = warehouse.rows(
        "SELECT repo FROM core.paper_repos WHERE lower(repo) NOT IN (SELECT repo FROM core.repos)"
    )
    assert missing == []


def fact_paths(fake: FakeGitHub, since: int = 0) -> list[str]:
    """Paths of the requests for repository facts (READMEs and file lists aside)."""
    return [
        r.path
        for r in fake.requests[since:]
        if not r.path.endswith("/readme") and "/contents" not in r.path
    ]


def observations(warehouse: TempWarehouse, repo: str) -> list[tuple[object, ...]]:
    return warehouse.rows(
        "SELECT status, stars, source FROM core.repo_observations WHERE repo = ? "
        "ORDER BY observed_at",
        [repo.lower()],
    )


# --- answers ------------------------------------------------------------------------------


def test_200_stores_the_facts(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = warehouse_linking(tmp_path, ["Lab-One/Model-Code"])
    fake = FakeGitHub(local_server, [FakeRepo(101, "Lab-One/Model-Code", stars=42, fork_of="a/b")])
    report = run(warehouse, fake)
    row = repo_row(warehouse, "lab-one/model-code")
    assert row["status"] == "ok" and row["repo_id"] == 101
    assert row["full_name"] == "Lab-One/Model-Code"
    assert (row["stars"], row["forks"], row["watchers"], row["open_issues"]) == (42, 2, 3, 4)
    assert (row["license"], row["language"], row["topics"]) == (
        "MIT",
        "Python",
        ["machine-learning"],
    )
    assert row["fork"] is True and row["fork_parent"] == row["fork_source"] == "a/b"
    assert row["pushed_at"] == datetime(2024, 6, 1, 12, 0) and row["etag"]
    assert row["fetched_at"] == row["checked_at"] == NOW and row["error"] is None
    assert observations(warehouse, "lab-one/model-code") == [("ok", 42, "github")]
    # One request for the facts, one for the README (which shows code: no file listing).
    assert report.requests == 2 and report.budget_remaining == 58
    assert row["placeholder"] is False and row["root_files"] is None
    assert warehouse.rows("SELECT repo_id, status FROM internal.repo_readmes") == [(101, "ok")]
    user_agent = fake.requests[0].headers["User-Agent"]
    assert "mailto:" in user_agent and "Authorization" not in fake.requests[0].headers


def test_301_rename_resolves_two_links_to_one_repository(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["old-owner/old-name", "new-owner/new-name"])
    fake = FakeGitHub(local_server, [FakeRepo(202, "old-owner/old-name")])
    fake.rename("old-owner/old-name", "new-owner/new-name")
    run(warehouse, fake)
    old, new = repo_row(warehouse, "old-owner/old-name"), repo_row(warehouse, "new-owner/new-name")
    assert old["status"] == "moved" and new["status"] == "ok"
    assert old["repo_id"] == new["repo_id"] == 202
    assert old["full_name"] == new["full_name"] == "new-owner/new-name"
    assert any(r.path == "/repositories/202" for r in fake.requests)


def test_304_keeps_the_facts_and_counts_as_not_modified(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/etag-repo"])
    fake = FakeGitHub(local_server, [FakeRepo(303, "lab/etag-repo", stars=7)])
    run(warehouse, fake)
    etag = repo_row(warehouse, "lab/etag-repo")["etag"]
    later = NOW + timedelta(hours=25)  # outside the 24-hour window: asked again
    report = run(warehouse, fake, now=later)
    row = repo_row(warehouse, "lab/etag-repo")
    facts_requests = [r for r in fake.requests if r.path == "/repos/lab/etag-repo"]
    assert etag and facts_requests[-1].headers.get("If-None-Match") == etag
    readme_requests = [r for r in fake.requests if r.path.endswith("/readme")]
    assert readme_requests[-1].headers.get("If-None-Match") == FakeRepo(0, "x/y").readme_etag
    assert report.not_modified == 2 and len(facts_requests) == len(readme_requests) == 2
    assert row["status"] == "ok" and row["stars"] == 7 and row["etag"] == etag
    assert (row["fetched_at"], row["checked_at"]) == (later, later)
    assert [o[:2] for o in observations(warehouse, "lab/etag-repo")] == [("ok", 7), ("ok", 7)]


def test_404_is_not_found(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = warehouse_linking(tmp_path, ["gone/missing-repo"])
    fake = FakeGitHub(local_server, [])
    run(warehouse, fake)
    row = repo_row(warehouse, "gone/missing-repo")
    assert row["status"] == "not_found" and row["repo_id"] is None and row["error"] is None
    assert observations(warehouse, "gone/missing-repo") == [("not_found", None, "github")]


def test_409_on_commits_is_empty(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/coming-soon"])
    fake = FakeGitHub(local_server, [FakeRepo(409, "lab/coming-soon", empty=True)])
    report = run(warehouse, fake)
    row = repo_row(warehouse, "lab/coming-soon")
    assert row["status"] == "empty" and row["size_kb"] == 0 and row["repo_id"] == 409
    assert [r.path for r in fake.requests] == [
        "/repos/lab/coming-soon",
        "/repos/lab/coming-soon/commits",
    ]
    assert report.requests == 2


def test_451_is_blocked(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = warehouse_linking(tmp_path, ["taken/down"])
    fake = FakeGitHub(local_server, [FakeRepo(451, "taken/down")])
    fake.blocked.add("taken/down")
    run(warehouse, fake)
    row = repo_row(warehouse, "taken/down")
    assert row["status"] == "blocked" and "blocked" in str(row["error"]).lower()


# --- failures -----------------------------------------------------------------------------


def test_403_rate_limit_leaves_the_rest_pending_without_waiting(
    tmp_path: Path, local_server: LocalServer
) -> None:
    names = [f"lab/repo-{i}" for i in range(5)]
    warehouse = warehouse_linking(tmp_path, names)
    fake = FakeGitHub(local_server, [FakeRepo(500 + i, name) for i, name in enumerate(names)])
    fake.budget["none"] = 2  # what is left of this hour's 60
    started = time.monotonic()
    report = run(warehouse, fake)
    assert time.monotonic() - started < 10, "never sleeps until the reset"
    statuses = sorted(str(repo_row(warehouse, n)["status"]) for n in names)
    assert statuses == ["ok", "ok", "pending", "pending", "pending"]
    assert report.stopped and "budget" in report.stopped and "resets at" in report.stopped
    pending = [
        repo_row(warehouse, n) for n in names if repo_row(warehouse, n)["status"] == "pending"
    ]
    assert all("resets at" in str(row["error"]) for row in pending)
    # The budget came from the headers: after the second answer nothing was left, so the
    # third repository was not even asked.
    assert len(fake.requests) == 2
    assert_nothing_lost(warehouse)


def test_403_without_budget_headers_is_throttling_if_it_says_so(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/first", "lab/second"])
    fake = FakeGitHub(local_server, [FakeRepo(1, "lab/first"), FakeRepo(2, "lab/second")])
    local_server.queue(
        "/repos/lab/first",
        Reply(
            403,
            json.dumps({"message": "You have exceeded a secondary rate limit."}),
            headers={"retry-after": "3600"},
            content_type=JSON,
        ),
    )
    report = run(warehouse, fake)
    assert report.stopped and "throttles" in report.stopped
    assert {repo_row(warehouse, n)["status"] for n in ("lab/first", "lab/second")} == {"pending"}


def test_429_with_retry_after_is_waited_for_then_answered(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/busy"])
    fake = FakeGitHub(local_server, [FakeRepo(429, "lab/busy")])
    local_server.queue(
        "/repos/lab/busy", Reply(429, "{}", headers={"retry-after": "1"}, content_type=JSON)
    )
    started = time.monotonic()
    run(warehouse, fake)
    assert time.monotonic() - started >= 1.0
    assert repo_row(warehouse, "lab/busy")["status"] == "ok"
    assert fact_paths(fake) == ["/repos/lab/busy"] * 2


def test_500_is_retried_and_a_persistent_one_is_an_error_not_not_found(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/flaky", "lab/broken"])
    fake = FakeGitHub(local_server, [FakeRepo(1, "lab/flaky"), FakeRepo(2, "lab/broken")])
    local_server.queue("/repos/lab/flaky", Reply(500, "oops"))
    local_server.queue("/repos/lab/broken", *[Reply(502, "bad gateway")] * 4)
    report = run(warehouse, fake)
    assert repo_row(warehouse, "lab/flaky")["status"] == "ok"
    broken = repo_row(warehouse, "lab/broken")
    assert broken["status"] == "error" and "HTTP 502" in str(broken["error"])
    assert report.stopped is None
    # The next run asks again about the one that failed, and only about it.
    before = len(fake.requests)
    run(warehouse, fake, now=NOW + timedelta(minutes=5))
    assert fact_paths(fake, before) == ["/repos/lab/broken"]
    assert repo_row(warehouse, "lab/broken")["status"] == "ok"


def test_a_failed_recheck_keeps_the_last_facts(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/known"])
    fake = FakeGitHub(local_server, [FakeRepo(5, "lab/known", stars=99)])
    run(warehouse, fake)
    local_server.queue("/repos/lab/known", *[Reply(503, "down")] * 4)
    run(warehouse, fake, now=NOW + timedelta(hours=30))
    row = repo_row(warehouse, "lab/known")
    assert row["status"] == "ok" and row["stars"] == 99 and "HTTP 503" in str(row["error"])
    assert row["fetched_at"] == NOW and row["checked_at"] == NOW + timedelta(hours=30)


def test_an_answer_slower_than_the_timeout_is_retried(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/slow"])
    fake = FakeGitHub(local_server, [FakeRepo(7, "lab/slow")])
    local_server.queue("/repos/lab/slow", Reply(200, "{}", delay_s=1.5))
    run(warehouse, fake)  # the session's timeout is 0.5 s
    assert repo_row(warehouse, "lab/slow")["status"] == "ok"


def test_a_github_that_never_answers_costs_seconds_and_leaves_work_pending(
    tmp_path: Path, local_server: LocalServer
) -> None:
    names = [f"lab/unreachable-{i}" for i in range(4)]
    warehouse = warehouse_linking(tmp_path, names)
    fake = FakeGitHub(local_server, [])
    local_server.queue(f"/repos/{names[0]}", *[Reply(200, "{}", delay_s=1.0)] * 5)
    started = time.monotonic()
    report = run(warehouse, fake, unreachable_after=3)
    assert time.monotonic() - started < 15
    assert report.stopped and "unreachable" in report.stopped
    assert {repo_row(warehouse, n)["status"] for n in names} == {"pending"}
    assert_nothing_lost(warehouse)


# --- GraphQL ------------------------------------------------------------------------------


def test_graphql_batches_with_a_null_alias_and_errors(
    tmp_path: Path, local_server: LocalServer
) -> None:
    names = [f"org/model-{i}" for i in range(60)] + ["org/never-existed"]
    warehouse = warehouse_linking(tmp_path, names)
    fake = FakeGitHub(
        local_server,
        [FakeRepo(1000 + i, n, stars=i) for i, n in enumerate(names[:-1])],
        token=TOKEN,
    )
    report = run(warehouse, fake, token=TOKEN)
    assert fact_paths(fake) == ["/graphql", "/graphql"]  # 61 in two queries
    assert repo_row(warehouse, "org/model-59")["stars"] == 59
    assert repo_row(warehouse, "org/never-existed")["status"] == "not_found"
    assert report.counts == {"not_found": 1, "ok": 60}
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in fake.requests)


def test_graphql_alias_errors_other_than_not_found_go_to_rest(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["org/fine", "org/taken-down"])
    fake = FakeGitHub(local_server, [FakeRepo(1, "org/fine"), FakeRepo(2, "org/taken-down")], TOKEN)
    fake.blocked.add("org/taken-down")
    body = {
        "data": {"r0": FakeRepo(1, "org/fine").graphql(), "r1": None},
        "errors": [{"type": "FORBIDDEN", "path": ["r1"], "message": "Repository access blocked"}],
    }
    local_server.queue("/graphql", Reply(200, json.dumps(body), content_type=JSON))
    run(warehouse, fake, token=TOKEN)
    assert repo_row(warehouse, "org/fine")["status"] == "ok"
    assert repo_row(warehouse, "org/taken-down")["status"] == "blocked"
    assert fact_paths(fake) == ["/graphql", "/repos/org/taken-down"]


# --- re-runs and offline ------------------------------------------------------------------


def test_a_rerun_inside_the_window_makes_no_request(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/a", "lab/b", "gone/c"])
    fake = FakeGitHub(local_server, [FakeRepo(1, "lab/a"), FakeRepo(2, "lab/b")])
    run(warehouse, fake)
    before = len(fake.requests)
    report = run(warehouse, fake, now=NOW + timedelta(hours=23))
    assert report.requests == 0 and len(fake.requests) == before and report.due == 0
    assert len(observations(warehouse, "lab/a")) == 1


def test_offline_asks_nothing_and_leaves_repositories_pending(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["lab/offline"])
    fake = FakeGitHub(local_server, [FakeRepo(1, "lab/offline")])
    client = GitHubClient(quick_session(offline=True), fake.url, TOKEN)
    report = refresh_repos(warehouse.settings.warehouse, client, 24, True, now=NOW)
    row = repo_row(warehouse, "lab/offline")
    assert row["status"] == "pending" and row["error"] == OFFLINE_CAUSE
    assert fake.requests == [] and report.offline and report.requests == 0


# --- READMEs and placeholders -------------------------------------------------------------

COMING_SOON = "# FancyNet\n\nOfficial code for our paper. Code coming soon, stay tuned!\n"


@pytest.mark.parametrize("token", [None, TOKEN], ids=["rest", "graphql"])
def test_placeholders_are_flagged_with_their_reason(
    tmp_path: Path, local_server: LocalServer, token: str | None
) -> None:
    repos = [
        FakeRepo(1, "lab/soon", readme=COMING_SOON, files=["README.md", "LICENSE"]),
        FakeRepo(2, "lab/tiny", readme="# tiny\n", files=["README.md", ".gitignore", "fig.png"]),
        FakeRepo(3, "lab/bare", readme=None, files=["LICENSE"]),
        FakeRepo(4, "lab/real", readme=COMING_SOON, files=["README.md", "src", "setup.py"]),
        FakeRepo(5, "lab/void", empty=True, readme=None, files=[]),
        FakeRepo(6, "lab/full"),
    ]
    warehouse = warehouse_linking(tmp_path, [r.full_name for r in repos])
    fake = FakeGitHub(local_server, repos, token=TOKEN)
    run(warehouse, fake, token=token)
    flagged = {
        r.full_name: (
            repo_row(warehouse, r.full_name)["placeholder"],
            repo_row(warehouse, r.full_name)["placeholder_reason"],
        )
        for r in repos
    }
    assert flagged == {
        "lab/soon": (True, "only a README saying the code is coming"),
        "lab/tiny": (True, "only a README of 1 line"),
        "lab/bare": (True, "no code: only LICENSE"),
        "lab/real": (False, None),
        "lab/void": (True, "empty: no commits"),
        "lab/full": (False, None),
    }
    listed = [r.path for r in fake.requests if "/contents" in r.path]
    # REST lists the top files only where the README is suspicious; GraphQL gives them.
    assert sorted(listed) == (
        []
        if token
        else sorted(f"/repos/lab/{n}/contents/" for n in ("soon", "tiny", "bare", "real"))
    )


def test_a_readme_is_read_once_per_repository_and_rechecked_with_its_etag(
    tmp_path: Path, local_server: LocalServer
) -> None:
    warehouse = warehouse_linking(tmp_path, ["old/name", "new/name"])
    fake = FakeGitHub(local_server, [FakeRepo(9, "old/name")], token=TOKEN)
    fake.rename("old/name", "new/name")
    run(warehouse, fake, token=TOKEN)
    readmes = [r for r in fake.requests if r.path.endswith("/readme")]
    assert [r.path for r in readmes] == ["/repos/new/name/readme"]  # one repository, once
    budget = fake.budget["token"]
    report = run(warehouse, fake, token=TOKEN, now=NOW + timedelta(hours=25))
    again = [r for r in fake.requests if r.path.endswith("/readme")][1:]
    assert len(again) == 1 and again[0].headers["If-None-Match"] == fake.repos[9].readme_etag
    assert report.not_modified == 1
    # GraphQL costs a point; the README's 304 with a token costs nothing.
    assert fake.budget["token"] == budget - 1
    assert warehouse.rows("SELECT count(*), min(text) IS NOT NULL FROM internal.repo_readmes") == [
        (1, True)
    ]
