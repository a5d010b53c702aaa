"""The repos step: what GitHub says about every repository linked to a paper.

Every repository linked to a paper (`LINKED_REPOS_SQL`) gets a `core.repos` row
(`pending` until GitHub is asked). A repository is asked about when it never was, when
its last answer is older than GITHUB_REFRESH_HOURS, or when its last check failed; so a
re-run inside the window makes no request. As with arXiv, the warehouse is not held
while GitHub is asked: due repositories are read, then answers are written in short
transactions per chunk, each adding a `core.repo_observations` row per answer, so an
interrupted run keeps what it learnt.

A failure is never stored as `not_found`: it is `error` for a repository never
described, and leaves the last facts in place (with the cause in `error`) for one that
was. When the budget is spent, GitHub throttles for longer than a refresh should wait,
or it cannot be reached, the step stops asking, and what is left keeps its status with
the cause; a repository never described stays `pending`. Offline, nothing is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from pipeline.db.connection import Connection, Warehouse, registered
from pipeline.db.schema import TABLE, polars_schema
from pipeline.github.api import (
    GRAPHQL_BATCH,
    GitHubClient,
    RateLimited,
    ReadmeAnswer,
    RepoAnswer,
    RepoFacts,
)
from pipeline.github.placeholders import needs_root_listing, placeholder_reason
from pipeline.http_session import RequestFailed, ServiceUnavailable
from pipeline.links.build import LINKED_REPOS_SQL

OFFLINE_CAUSE = "not asked: PAPERS_OFFLINE=1"
_REPO_COLUMNS = TABLE["core.repos"].column_names
_REPO_SCHEMA = polars_schema("core.repos")
_OBSERVATION_SCHEMA = polars_schema("core.repo_observations")
_DESCRIBED = frozenset({"ok", "moved", "empty"})
_FACT_COLUMNS = tuple(name for name in RepoFacts.__dataclass_fields__ if name != "empty")

_ADD_LINKED_SQL = f"""
INSERT INTO core.repos (repo, status, error)
SELECT DISTINCT lower(repo), 'pending', 'not asked yet' FROM ({LINKED_REPOS_SQL})
WHERE lower(repo) NOT IN (SELECT repo FROM core.repos)
"""

# Linked repositories never asked, asked before the window, or whose last check failed;
# never-asked first, then the longest unchecked.
_DUE_SQL = f"""
SELECT r.repo, r.etag FROM core.repos r
WHERE r.repo IN (SELECT lower(repo) FROM ({LINKED_REPOS_SQL}))
  AND (r.checked_at IS NULL OR r.checked_at < ? OR r.error IS NOT NULL)
ORDER BY r.checked_at NULLS FIRST, r.repo
"""


# Hugging Face shows a listed paper's GitHub stars (`githubStars`): each is an
# observation of that repository on the day its file was a snapshot of, added once.
_HF_STARS_SQL = """
INSERT INTO core.repo_observations BY NAME
WITH seen AS (
    SELECT lower(r.repo) AS repo,
           coalesce(f.snapshot_date::TIMESTAMP, f.ingested_at) AS observed_at,
           max(l.github_stars) AS stars
    FROM raw.listings l
    JOIN internal.listing_repos r USING (file_sha256, position)
    JOIN raw.dump_files f USING (file_sha256)
    WHERE l.github_stars IS NOT NULL AND r.source = 'huggingface' AND f.status = 'loaded'
    GROUP BY ALL
)
SELECT s.repo, s.observed_at, 'huggingface' AS source,
       coalesce(c.status, 'pending') AS status, s.stars
FROM seen s LEFT JOIN core.repos c USING (repo)
WHERE NOT EXISTS (
    SELECT 1 FROM core.repo_observations o
    WHERE o.source = 'huggingface' AND o.repo = s.repo AND o.observed_at = s.observed_at
)
"""


@dataclass
class ReposReport:
    offline: bool = False
    linked_new: int = 0
    hf_observations: int = 0
    due: int = 0
    asked: int = 0
    readmes_read: int = 0
    requests: int = 0
    not_modified: int = 0
    budget_remaining: int | None = None
    stopped: str | None = None
    answers: dict[str, int] = field(default_factory=dict)  # by status, this run
    counts: dict[str, int] = field(default_factory=dict)  # by status, whole table


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ask(
    client: GitHubClient, due: Sequence[tuple[str, str | None]]
) -> tuple[list[RepoAnswer], str | None]:
    """Answers for `due` (repository, stored ETag), and why asking stopped short, if it
    did: GraphQL 50 at a time with a token, REST for what GraphQL could not settle (or
    for the batch, when the query failed); REST alone without a token. A request that
    fails for one repository makes it `error`; a spent budget, throttling for too long
    or an unreachable GitHub stops the asking."""
    etags = dict(due)
    remaining = list(etags)
    answers: list[RepoAnswer] = []
    try:
        if client.token:
            try:
                graphql = client.repos_graphql(remaining)
            except ServiceUnavailable:
                raise
            except RequestFailed:
                graphql = {}  # REST settles the batch
            answers += graphql.values()
            remaining = [repo for repo in remaining if repo not in graphql]
        for repo in remaining:
            try:
                answers.append(client.repo(repo, etags[repo]))
            except ServiceUnavailable:
                raise
            except RequestFailed as exc:
                answers.append(RepoAnswer(repo, "error", error=exc.reason))
    except (RateLimited, ServiceUnavailable) as exc:
        return answers, str(exc)
    return answers, None


def _merged(old: dict[str, Any], answer: RepoAnswer, now: datetime) -> dict[str, Any]:
    """The repository's new row from its old one and GitHub's answer."""
    row = dict(old)
    row["checked_at"] = now
    if answer.status == "error":
        row["error"] = answer.error
        if row["status"] not in _DESCRIBED:
            row["status"] = "error"
        return row
    row["fetched_at"], row["error"] = now, answer.error
    if answer.status == "unchanged":
        return row
    row["status"] = answer.status
    if answer.facts is not None:
        facts = asdict(answer.facts)
        row |= {name: facts[name] for name in _FACT_COLUMNS if name != "root_files"}
        row["topics"] = list(answer.facts.topics)
        if answer.facts.root_files is not None:
            row["root_files"] = list(answer.facts.root_files)
        row["etag"] = answer.etag
    if answer.status == "empty":
        row["placeholder"], row["placeholder_reason"] = (
            True,
            placeholder_reason("empty", None, None),
        )
    elif answer.status not in _DESCRIBED:
        row["placeholder"] = row["placeholder_reason"] = None
    return row


def _observation(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "repo": row["repo"],
        "observed_at": now,
        "source": "github",
        "status": row["status"],
        "stars": row["stars"],
        "forks": row["forks"],
        "pushed_at": row["pushed_at"],
    }


def store_answers(con: Connection, answers: Iterable[RepoAnswer], now: datetime) -> int:
    """Writes answers into `core.repos` and, for those GitHub gave, an observation each."""
    by_repo = {answer.repo: answer for answer in answers}
    if not by_repo:
        return 0
    wanted = pl.DataFrame({"repo": list(by_repo)}, schema={"repo": pl.String()})
    with registered(con, wanted=wanted):
        found = con.execute("SELECT * FROM core.repos SEMI JOIN wanted USING (repo)")
        names = [column[0] for column in found.description]
        old_rows = [dict(zip(names, values, strict=True)) for values in found.fetchall()]
    rows = [_merged(old, by_repo[old["repo"]], now) for old in old_rows]
    observed = [_observation(r, now) for r in rows if by_repo[r["repo"]].status != "error"]
    frame = pl.DataFrame(rows, schema=_REPO_SCHEMA).select(_REPO_COLUMNS)
    observations = pl.DataFrame(observed, schema=_OBSERVATION_SCHEMA)
    with registered(con, new_repos=frame, new_observations=observations):
        con.execute("DELETE FROM core.repos WHERE repo IN (SELECT repo FROM new_repos)")
        con.execute("INSERT INTO core.repos BY NAME SELECT * FROM new_repos")
        con.execute("INSERT INTO core.repo_observations BY NAME SELECT * FROM new_observations")
    return len(rows)


def _leave(warehouse: Warehouse, repos: Sequence[str], cause: str) -> None:
    """Records why `repos` were not asked, keeping their status and facts."""
    if not repos:
        return
    frame = pl.DataFrame({"repo": list(repos)}, schema={"repo": pl.String()})
    with warehouse.write() as con, registered(con, left_repos=frame):
        con.execute(
            "UPDATE core.repos SET error = ? WHERE repo IN (SELECT repo FROM left_repos)", [cause]
        )


def _counts(warehouse: Warehouse) -> dict[str, int]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT status, count(*) FROM core.repos GROUP BY ALL").fetchall()
    return dict(sorted(rows))


def refresh_repos(
    warehouse: Warehouse,
    client: GitHubClient,
    refresh_hours: float,
    offline: bool,
    now: datetime | None = None,
) -> ReposReport:
    """Adds newly linked repositories, asks GitHub about the due ones, and reports."""
    now = now or _now()
    report = ReposReport(offline=offline)
    with warehouse.write() as con:
        report.linked_new = con.execute(_ADD_LINKED_SQL).fetchone()[0]
        due = con.execute(_DUE_SQL, [now - timedelta(hours=refresh_hours)]).fetchall()
    report.due = len(due)
    with warehouse.write() as con:
        report.hf_observations = con.execute(_HF_STARS_SQL).fetchone()[0]
    if offline:
        _leave(warehouse, [repo for repo, _ in due], OFFLINE_CAUSE)
    else:
        _ask_all(warehouse, client, due, report, now)
        if report.stopped is None:
            _read_readmes(warehouse, client, refresh_hours, report, now)
    report.requests = client.requests_made
    report.not_modified = client.not_modified
    report.budget_remaining = client.budget_remaining
    report.counts = _counts(warehouse)
    return report


def _ask_all(
    warehouse: Warehouse,
    client: GitHubClient,
    due: list[tuple[str, str | None]],
    report: ReposReport,
    now: datetime,
) -> None:
    client.session.forget_failures()
    for position in range(0, len(due), GRAPHQL_BATCH):
        chunk = due[position : position + GRAPHQL_BATCH]
        answers, report.stopped = ask(client, chunk)
        report.asked += len(answers)
        for answer in answers:
            report.answers[answer.status] = report.answers.get(answer.status, 0) + 1
        with warehouse.write() as con:
            store_answers(con, answers, now)
        if report.stopped:
            answered = {answer.repo for answer in answers}
            left = [repo for repo, _ in due[position:] if repo not in answered]
            _leave(warehouse, left, f"not asked: {report.stopped}")
            return


# One row per described repository (a renamed one's links share it) whose README was
# never read, is older than the window, or failed last time.
_README_DUE_SQL = """
SELECT r.repo_id, any_value(r.full_name ORDER BY r.status = 'ok' DESC) AS full_name,
       any_value(r.root_files) AS root_files, any_value(m.etag) AS etag,
       any_value(m.text) AS text
FROM core.repos r LEFT JOIN internal.repo_readmes m USING (repo_id)
WHERE r.status IN ('ok', 'moved') AND r.repo_id IS NOT NULL
  AND (m.repo_id IS NULL OR m.checked_at < ? OR m.error IS NOT NULL)
GROUP BY r.repo_id ORDER BY r.repo_id
"""


@dataclass(frozen=True)
class _ReadmeCheck:
    repo_id: int
    answer: ReadmeAnswer
    text: str | None  # the README now (the stored one after a 304)
    root_files: tuple[str, ...] | None


def _check_readme(client: GitHubClient, due: tuple[Any, ...]) -> _ReadmeCheck:
    repo_id, full_name, root_files, etag, stored_text = due
    answer = client.readme(full_name, etag)
    text = stored_text if answer.status == "unchanged" else answer.text
    files = tuple(root_files) if root_files is not None else None
    if files is None and answer.status != "error" and needs_root_listing(text):
        files = client.root_files(full_name)
    return _ReadmeCheck(repo_id, answer, text, files)


def _store_readme(con: Connection, check: _ReadmeCheck, now: datetime) -> None:
    answer = check.answer
    if answer.status == "error":  # keep what was read before, say what failed
        con.execute(
            "UPDATE internal.repo_readmes SET checked_at = ?, error = ? WHERE repo_id = ?",
            [now, answer.error, check.repo_id],
        )
        con.execute(
            "INSERT INTO internal.repo_readmes (repo_id, status, checked_at, error) "
            "SELECT ?, 'error', ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM internal.repo_readmes WHERE repo_id = ?)",
            [check.repo_id, now, answer.error, check.repo_id],
        )
        return
    status = "none" if check.text is None else "ok"
    con.execute("DELETE FROM internal.repo_readmes WHERE repo_id = ?", [check.repo_id])
    con.execute(
        "INSERT INTO internal.repo_readmes VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [check.repo_id, status, check.text, answer.etag, now, now],
    )
    reason = placeholder_reason("ok", check.text, check.root_files)
    # Unknown when the top files were needed to tell and GitHub did not list them.
    unknown = check.root_files is None and needs_root_listing(check.text)
    con.execute(
        "UPDATE core.repos SET root_files = coalesce(?, root_files), placeholder = ?, "
        "placeholder_reason = ? WHERE repo_id = ? AND status IN ('ok', 'moved')",
        [
            list(check.root_files) if check.root_files is not None else None,
            None if unknown else reason is not None,
            reason,
            check.repo_id,
        ],
    )


def _read_readmes(
    warehouse: Warehouse,
    client: GitHubClient,
    refresh_hours: float,
    report: ReposReport,
    now: datetime,
) -> None:
    """Reads the README of every described repository that is due, with its ETag, and
    judges whether the repository is a placeholder. Stops quietly when GitHub's budget
    is spent: what is left is read next run."""
    with warehouse.connect(read_only=True) as con:
        due = con.execute(_README_DUE_SQL, [now - timedelta(hours=refresh_hours)]).fetchall()
    for position in range(0, len(due), GRAPHQL_BATCH):
        checks: list[_ReadmeCheck] = []
        for row in due[position : position + GRAPHQL_BATCH]:
            try:
                checks.append(_check_readme(client, row))
            except (RateLimited, ServiceUnavailable) as exc:
                report.stopped = f"READMEs: {exc}"
                break
            except RequestFailed as exc:
                checks.append(
                    _ReadmeCheck(row[0], ReadmeAnswer("error", error=exc.reason), None, None)
                )
        with warehouse.write() as con:  # one short transaction per chunk
            for check in checks:
                _store_readme(con, check, now)
        report.readmes_read += len(checks)
        if report.stopped:
            return
