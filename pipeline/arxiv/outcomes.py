"""Resolving title clusters to arXiv IDs, and arXiv's own records.

What is resolved is a title cluster (`internal.title_keys`): its title and abstract are
those of its newest listing, as the paper's will be. The papers step then merges clusters
that resolved to one arXiv ID into one paper; this step writes no paper table.

The network is slow (one request per three seconds), so the warehouse is never held
while arXiv is asked: clusters to resolve are read, the connection closed, and outcomes
are written in short transactions after each chunk, so an interrupted run keeps what it
learnt. A cluster with a final outcome (`matched`, `ambiguous`, `not_found`) is not asked
about again, except `not_found` after `ARXIV_RECHECK_DAYS`; `error` and `pending` are
retried on the next run. Offline, nothing is asked and the clusters are left `pending`.
When typo variants join two clusters, their outcomes are folded onto the surviving
cluster, keeping the best.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl
import requests

from pipeline.arxiv.api import ArxivClient, ArxivRecord, FetchResult
from pipeline.arxiv.matching import ArxivMatcher, MatchRun, Resolution, TitleQuery
from pipeline.db.connection import Connection, Warehouse, registered, scalar
from pipeline.db.schema import polars_schema
from pipeline.links.phrases import link_phrase
from pipeline.links.urls import extract_urls, github_repo

CHUNK = 64
PROGRESS_EVERY_S = 20.0
_OUTCOME_SCHEMA = polars_schema("internal.arxiv_outcomes")
_RECORD_SCHEMA = polars_schema("core.arxiv_papers")
# Which of several outcomes stands for a group (a merged cluster, a paper): the most
# final, then the newest.
BEST_OUTCOME_FIRST = """CASE status WHEN 'matched' THEN 4 WHEN 'ambiguous' THEN 3
    WHEN 'not_found' THEN 2 WHEN 'error' THEN 1 ELSE 0 END DESC, checked_at DESC NULLS LAST"""
# Files ranked newest snapshot first: the listing that speaks for a group of listings
# is the first by (file rank, position). The papers step ranks them the same way.
FILE_RANK_SQL = """file_rank AS (
    SELECT file_sha256, coalesce(snapshot_date, ingested_at::DATE) AS seen_on,
           row_number() OVER (ORDER BY snapshot_date DESC NULLS LAST, file_sha256) AS file_rank
    FROM raw.dump_files
)"""

_SOURCE_IDS_SQL = """
SELECT k.cluster_id,
       first(l.arxiv_id ORDER BY f.snapshot_date DESC NULLS LAST, l.file_sha256, l.position)
FROM raw.listings l
JOIN internal.title_keys k USING (title_key)
JOIN raw.dump_files f USING (file_sha256)
WHERE l.arxiv_id IS NOT NULL
GROUP BY k.cluster_id
"""

_TO_RESOLVE_SQL = f"""
WITH {FILE_RANK_SQL},
due AS (
    SELECT DISTINCT k.cluster_id FROM internal.title_keys k
    LEFT JOIN internal.arxiv_outcomes o USING (cluster_id)
    WHERE o.cluster_id IS NULL
       OR o.status IN ('error', 'pending')
       OR (o.status = 'not_found' AND o.checked_at < ?)
),
chosen AS (
    -- each cluster's first listing, by row id: aggregating the abstracts themselves
    -- holds them all in memory at once (more than 3 GB for a first run at 1M)
    SELECT k.cluster_id, arg_min(l.rowid, (f.file_rank << 32) + l.position) AS first_row
    FROM raw.listings l
    JOIN internal.title_keys k USING (title_key)
    JOIN file_rank f USING (file_sha256)
    SEMI JOIN due USING (cluster_id)
    GROUP BY k.cluster_id
)
SELECT c.cluster_id, l.title, l.abstract
FROM chosen c JOIN raw.listings l ON l.rowid = c.first_row
ORDER BY c.cluster_id
"""

# Offline, only clusters with no outcome at all are marked `pending`: those already due
# keep their rows (and reasons) for the next online run, so an offline refresh rewrites
# nothing it wrote before.
_UNCHECKED_SQL = """
SELECT DISTINCT cluster_id, NULL, NULL
FROM internal.title_keys ANTI JOIN internal.arxiv_outcomes USING (cluster_id)
ORDER BY cluster_id
"""

_MISSING_RECORDS_SQL = """
SELECT DISTINCT o.arxiv_id FROM internal.arxiv_outcomes o
WHERE o.status = 'matched' AND o.arxiv_id IS NOT NULL
  AND o.arxiv_id NOT IN (SELECT arxiv_id FROM core.arxiv_papers)
ORDER BY 1
"""

# Outcomes of clusters that typo variants have since joined to another cluster.
_ORPHANED_SQL = """
SELECT count(*) FROM internal.arxiv_outcomes o
JOIN internal.title_keys k ON k.key_id = o.cluster_id
WHERE k.cluster_id <> o.cluster_id
"""
_FOLD_OUTCOMES_SQL = f"""
CREATE OR REPLACE TEMP TABLE folded_outcomes AS
SELECT * FROM (
    SELECT coalesce(k.cluster_id, o.cluster_id) AS cluster_id, o.* EXCLUDE (cluster_id)
    FROM internal.arxiv_outcomes o LEFT JOIN internal.title_keys k ON k.key_id = o.cluster_id
)
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY {BEST_OUTCOME_FIRST}) = 1;
DELETE FROM internal.arxiv_outcomes;
INSERT INTO internal.arxiv_outcomes BY NAME SELECT * FROM folded_outcomes;
DROP TABLE folded_outcomes;
"""


@dataclass
class EnrichmentReport:
    counts: dict[str, int] = field(default_factory=dict)
    from_source: int = 0
    requests: int = 0
    cache_hits: int = 0
    records_stored: int = 0
    zero_hit_retries: int = 0
    offline: bool = False
    # Why the rest was left `pending`: arXiv unreachable, or ARXIV_MAX_RUN_S reached.
    stopped: str | None = None

    def add(self, resolutions: Iterable[Resolution]) -> None:
        for resolution in resolutions:
            self.counts[resolution.status] = self.counts.get(resolution.status, 0) + 1


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _upsert_outcomes(con: Connection, rows: list[tuple[object, ...]]) -> int:
    """Writes outcome rows, one per cluster; returns how many."""
    if not rows:
        return 0
    # Set-based: the first offline run marks every cluster `pending` at once.
    frame = pl.DataFrame(rows, schema=_OUTCOME_SCHEMA, orient="row")
    with registered(con, new_outcomes=frame):
        con.execute(
            "DELETE FROM internal.arxiv_outcomes "
            "WHERE cluster_id IN (SELECT cluster_id FROM new_outcomes)"
        )
        con.execute("INSERT INTO internal.arxiv_outcomes BY NAME SELECT * FROM new_outcomes")
    return len(rows)


def _outcome_row(resolution: Resolution, checked_at: datetime) -> tuple[object, ...]:
    return (
        resolution.paper_id,
        resolution.status,
        resolution.arxiv_id,
        resolution.score,
        resolution.method,
        checked_at,
        resolution.error,
    )


def _record_row(record: ArxivRecord) -> tuple[object, ...]:
    return (
        record.arxiv_id,
        record.version,
        record.title,
        record.abstract,
        record.authors,
        record.primary_category,
        record.categories,
        record.published.replace(tzinfo=None) if record.published else None,
        record.updated.replace(tzinfo=None) if record.updated else None,
        record.doi,
        record.journal_ref,
        record.comment,
    )


def store_records(con: Connection, records: Iterable[ArxivRecord]) -> int:
    """Upserts arXiv records and the GitHub repositories their abstract or comment name."""
    rows = [_record_row(r) for r in records]
    if not rows:
        return 0
    with registered(con, new_records=pl.DataFrame(rows, schema=_RECORD_SCHEMA, orient="row")):
        for table in ("core.arxiv_papers", "internal.arxiv_repos"):
            con.execute(f"DELETE FROM {table} WHERE arxiv_id IN (SELECT arxiv_id FROM new_records)")
        con.execute("INSERT INTO core.arxiv_papers BY NAME SELECT * FROM new_records")
    repos: dict[tuple[str, str], tuple[object, ...]] = {}
    for record_id, text in ((r[0], f"{r[3] or ''}\n{r[11] or ''}") for r in rows):
        for url in extract_urls(text):
            if (repo := github_repo(url)) and (record_id, repo.lower()) not in repos:
                said = link_phrase(text, repo)
                url = f"https://github.com/{repo}"
                repos[record_id, repo.lower()] = (record_id, repo, url, said.sentence, said.phrase)
    if repos:
        con.executemany(
            "INSERT INTO internal.arxiv_repos VALUES (?, ?, ?, ?, ?)", list(repos.values())
        )
    return len(rows)


def _stated_ids(con: Connection, checked_at: datetime) -> int:
    """Clusters whose source (Hugging Face) states the arXiv ID need no search."""
    stated = con.execute(_SOURCE_IDS_SQL).fetchall()
    # Any match to the stated ID stands, whatever found it: rewriting a search's row as
    # `source` on the next run would make a re-run change rows.
    current = dict(
        con.execute(
            "SELECT cluster_id, arxiv_id FROM internal.arxiv_outcomes WHERE status = 'matched'"
        ).fetchall()
    )
    rows = [
        (cluster_id, "matched", arxiv_id, 1.0, "source", checked_at, None)
        for cluster_id, arxiv_id in stated
        if current.get(cluster_id) != arxiv_id
    ]
    return _upsert_outcomes(con, rows)


def _to_resolve(
    warehouse: Warehouse, recheck_days: int, now: datetime, report: EnrichmentReport
) -> list[TitleQuery]:
    """Clusters to ask arXiv about (offline: those never checked, without their text),
    after folding the outcomes of merged clusters and recording the IDs sources state;
    counts the other clusters as cache hits (offline, those already pending too)."""
    with warehouse.write() as con:
        if scalar(con, _ORPHANED_SQL):
            con.execute(_FOLD_OUTCOMES_SQL)
        report.from_source = _stated_ids(con, now)
        if report.offline:
            rows = con.execute(_UNCHECKED_SQL).fetchall()
        else:
            rows = con.execute(_TO_RESOLVE_SQL, [now - timedelta(days=recheck_days)]).fetchall()
        total = scalar(con, "SELECT count(DISTINCT cluster_id) FROM internal.title_keys")
    report.cache_hits = int(total or 0) - len(rows) - report.from_source
    return [TitleQuery(cluster_id, title or "", abstract) for cluster_id, title, abstract in rows]


def _transport_failure(exc: requests.RequestException) -> str:
    return f"request failed: {type(exc).__name__}: {exc}"


def _resolve_chunk(matcher: ArxivMatcher, chunk: list[TitleQuery], progress: _Progress) -> MatchRun:
    """The matcher's run, or every paper of the chunk `error` when a transport failure
    escapes the session (a body cut off mid-read raises `ChunkedEncodingError`, which the
    session neither retries nor turns into `RequestFailed`): a failing arXiv must not
    fail the run, and the next run asks again."""
    try:
        return matcher.resolve(chunk, on_progress=progress.tick)
    except requests.RequestException as exc:
        reason = _transport_failure(exc)
        failed = [Resolution(q.paper_id, "error", error=reason) for q in chunk]
        return MatchRun(resolutions=failed, records={}, requests=0)


class _Progress:
    """Calls `on_progress` at most every `every_s` seconds, between requests."""

    def __init__(
        self, report: EnrichmentReport, on_progress: Callable[[EnrichmentReport], None] | None
    ) -> None:
        self.report, self.on_progress = report, on_progress
        self.every_s = PROGRESS_EVERY_S
        self._last = time.monotonic()

    def tick(self, *_: object) -> None:
        if self.on_progress and time.monotonic() - self._last >= self.every_s:
            self._last = time.monotonic()
            self.on_progress(self.report)


def _left_pending(resolutions: list[Resolution], why: str) -> list[Resolution]:
    """A chunk's errors once arXiv is down: left `pending` with the cause, to be asked
    again next run, rather than `error` for every one of them."""
    return [
        Resolution(r.paper_id, "pending", method=r.method, error=why) if r.status == "error" else r
        for r in resolutions
    ]


def _resolve(
    warehouse: Warehouse,
    client: ArxivClient,
    queries: list[TitleQuery],
    report: EnrichmentReport,
    progress: _Progress,
    max_run_s: float,
) -> None:
    """Resolves chunk by chunk until done, until arXiv is found unreachable, or until
    `max_run_s`; what is left is marked `pending` with the reason, for the next run."""
    matcher = ArxivMatcher(client)
    start, started = client.requests_made, time.monotonic()
    for offset in range(0, len(queries), CHUNK):
        if client.session.down or time.monotonic() - started > max_run_s:
            report.stopped = client.session.down or (
                f"ARXIV_MAX_RUN_S ({max_run_s:g} s) reached: left for the next run"
            )
            _mark_pending(warehouse, queries[offset:], report, report.stopped)
            return
        chunk = queries[offset : offset + CHUNK]
        run = _resolve_chunk(matcher, chunk, progress)
        if client.session.down:
            report.stopped = client.session.down
            run.resolutions = _left_pending(run.resolutions, client.session.down)
        checked_at = _now()
        # A record the search gave only in part (its fetch by ID failed) is not stored:
        # it would never be completed. `_fetch_missing_records` asks for it again.
        complete = [r for r in run.records.values() if r.is_complete]
        with warehouse.write() as con:
            _upsert_outcomes(con, [_outcome_row(r, checked_at) for r in run.resolutions])
            report.records_stored += store_records(con, complete)
        report.add(run.resolutions)
        report.requests = client.requests_made - start
        report.zero_hit_retries += run.empty_retries
        progress.tick()


def _mark_pending(
    warehouse: Warehouse,
    queries: list[TitleQuery],
    report: EnrichmentReport,
    why: str | None = None,
) -> None:
    checked_at = _now()
    pending = [Resolution(q.paper_id, "pending", method="offline", error=why) for q in queries]
    with warehouse.write() as con:
        _upsert_outcomes(con, [_outcome_row(r, checked_at) for r in pending])
    report.add(pending)


def _fetch_missing_records(
    warehouse: Warehouse, client: ArxivClient, report: EnrichmentReport
) -> None:
    """Records for IDs matched without a search (stated by the source)."""
    if client.session.down:
        return  # asked again next run
    with warehouse.connect(read_only=True) as con:
        missing = [row[0] for row in con.execute(_MISSING_RECORDS_SQL).fetchall()]
    if not missing:
        return
    before = client.requests_made
    try:
        fetched = client.fetch(missing)
    except requests.RequestException as exc:  # see `_resolve_chunk`; retried next run
        fetched = FetchResult(failed=dict.fromkeys(missing, _transport_failure(exc)))
    with warehouse.write() as con:
        report.records_stored += store_records(con, fetched.records.values())
    report.counts["record_errors"] = len(fetched.failed) + len(fetched.invalid)
    report.requests += client.requests_made - before


def resolve_clusters(
    warehouse: Warehouse,
    client: ArxivClient,
    recheck_days: int,
    offline: bool,
    on_progress: Callable[[EnrichmentReport], None] | None = None,
    max_run_s: float = float("inf"),
) -> EnrichmentReport:
    """Resolves clusters without a final outcome and stores arXiv's records. Request
    failures are recorded as `error`, never raised; an unreachable arXiv or the end of
    `max_run_s` leaves the rest `pending` with the reason. `on_progress` hears how it
    goes at most every PROGRESS_EVERY_S seconds."""
    report = EnrichmentReport(offline=offline)
    queries = _to_resolve(warehouse, recheck_days, _now(), report)
    if offline:
        _mark_pending(warehouse, queries, report)
    else:
        client.session.forget_failures()
        _resolve(warehouse, client, queries, report, _Progress(report, on_progress), max_run_s)
        _fetch_missing_records(warehouse, client, report)
    return report
