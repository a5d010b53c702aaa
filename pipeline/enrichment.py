"""Enriching papers with arXiv: IDs resolved from titles, and arXiv's own records.

The network is slow (one request per three seconds), so the warehouse is never held
while arXiv is asked: papers to resolve are read, the connection closed, and outcomes
are written in short transactions after each chunk, so an interrupted run keeps what it
learnt. A paper with a final outcome (`matched`, `ambiguous`, `not_found`) is not asked
about again, except `not_found` after `ARXIV_RECHECK_DAYS`; `error` and `pending` are
retried on the next run. Offline, nothing is asked and the papers are left `pending`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import requests

from pipeline.arxiv_api import ArxivClient, ArxivRecord, FetchResult
from pipeline.arxiv_match import ArxivMatcher, MatchRun, Resolution, TitleQuery
from pipeline.core_tables import rebuild_links, rebuild_papers
from pipeline.dedupe import merge_papers
from pipeline.links import extract_urls, github_repo
from pipeline.warehouse import open_writer, transaction

CHUNK = 64
_MATCH_SCHEMA = {
    "paper_id": pl.String,
    "status": pl.String,
    "arxiv_id": pl.String,
    "score": pl.Float64,
    "method": pl.String,
    "checked_at": pl.Datetime("us"),
    "error": pl.String,
}
_RECORD_SCHEMA = {
    "arxiv_id": pl.String,
    "version": pl.Int32,
    "title": pl.String,
    "abstract": pl.String,
    "authors": pl.List(pl.String),
    "primary_category": pl.String,
    "categories": pl.List(pl.String),
    "published": pl.Datetime("us"),
    "updated": pl.Datetime("us"),
    "doi": pl.String,
    "journal_ref": pl.String,
    "comment": pl.String,
}

_SOURCE_IDS_SQL = """
SELECT pl.paper_id,
       first(l.arxiv_id ORDER BY f.snapshot_date DESC NULLS LAST, l.file_sha256, l.position)
FROM core.paper_listings pl
JOIN raw.listings l USING (file_sha256, position)
JOIN raw.dump_files f USING (file_sha256)
WHERE l.arxiv_id IS NOT NULL
GROUP BY pl.paper_id
"""

_TO_RESOLVE_SQL = """
SELECT p.paper_id, p.title, p.abstract
FROM core.papers p
LEFT JOIN core.arxiv_matches m USING (paper_id)
WHERE m.paper_id IS NULL
   OR m.status IN ('error', 'pending')
   OR (m.status = 'not_found' AND m.checked_at < ?)
ORDER BY p.paper_id
"""

_MISSING_RECORDS_SQL = """
SELECT DISTINCT m.arxiv_id FROM core.arxiv_matches m
WHERE m.status = 'matched' AND m.arxiv_id IS NOT NULL
  AND m.arxiv_id NOT IN (SELECT arxiv_id FROM core.arxiv_papers)
ORDER BY 1
"""


@dataclass
class EnrichmentReport:
    counts: dict[str, int] = field(default_factory=dict)
    from_source: int = 0
    requests: int = 0
    cache_hits: int = 0
    records_stored: int = 0
    merged_papers: int = 0
    offline: bool = False
    touched: set[str] = field(default_factory=set)

    def add(self, resolutions: Iterable[Resolution]) -> None:
        for resolution in resolutions:
            self.counts[resolution.status] = self.counts.get(resolution.status, 0) + 1


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _upsert_matches(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> set[str]:
    """Writes match rows; returns the papers now matched, whose `arxiv_id` may change."""
    if not rows:
        return set()
    # Set-based: the first offline run marks every paper `pending` at once.
    con.register("new_matches", pl.DataFrame(rows, schema=_MATCH_SCHEMA, orient="row"))
    con.execute(
        "DELETE FROM core.arxiv_matches WHERE paper_id IN (SELECT paper_id FROM new_matches)"
    )
    con.execute("INSERT INTO core.arxiv_matches BY NAME SELECT * FROM new_matches")
    con.unregister("new_matches")
    return {str(row[0]) for row in rows if row[1] == "matched"}


def _match_row(resolution: Resolution, checked_at: datetime) -> tuple[object, ...]:
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


def store_records(con: duckdb.DuckDBPyConnection, records: Iterable[ArxivRecord]) -> int:
    """Upserts arXiv records and the GitHub repositories their abstract or comment name."""
    rows = [_record_row(r) for r in records]
    if not rows:
        return 0
    con.register("new_records", pl.DataFrame(rows, schema=_RECORD_SCHEMA, orient="row"))
    for table in ("core.arxiv_papers", "core.arxiv_repos"):
        con.execute(f"DELETE FROM {table} WHERE arxiv_id IN (SELECT arxiv_id FROM new_records)")
    con.execute("INSERT INTO core.arxiv_papers BY NAME SELECT * FROM new_records")
    con.unregister("new_records")
    repos = {
        (record_id, repo.lower()): (record_id, repo, f"https://github.com/{repo}")
        for record_id, text in ((r[0], f"{r[3] or ''} {r[11] or ''}") for r in rows)
        for url in extract_urls(text)
        if (repo := github_repo(url))
    }
    if repos:
        con.executemany("INSERT INTO core.arxiv_repos VALUES (?, ?, ?)", list(repos.values()))
    return len(rows)


def _stated_ids(con: duckdb.DuckDBPyConnection, checked_at: datetime) -> set[str]:
    """Papers whose source (Hugging Face) states the arXiv ID need no search."""
    stated = con.execute(_SOURCE_IDS_SQL).fetchall()
    # Any match to the stated ID stands, whatever found it: a paper merged by arXiv ID
    # may keep a search's row, and rewriting it as `source` on the next run would make a
    # re-run change rows.
    current = {
        row[0]: row[1]
        for row in con.execute(
            "SELECT paper_id, arxiv_id FROM core.arxiv_matches WHERE status = 'matched'"
        ).fetchall()
    }
    rows = [
        (paper_id, "matched", arxiv_id, 1.0, "source", checked_at, None)
        for paper_id, arxiv_id in stated
        if current.get(paper_id) != arxiv_id
    ]
    return _upsert_matches(con, rows)


def _to_resolve(
    warehouse: Path, recheck_days: int, now: datetime, report: EnrichmentReport
) -> list[TitleQuery]:
    """Papers to ask arXiv about, after recording the IDs sources state; counts the
    papers whose outcome is already known as cache hits."""
    with open_writer(warehouse) as con, transaction(con):
        stated = _stated_ids(con, now)
        report.from_source = len(stated)
        report.touched |= stated
        rows = con.execute(_TO_RESOLVE_SQL, [now - timedelta(days=recheck_days)]).fetchall()
        total = con.execute("SELECT count(*) FROM core.papers").fetchall()[0][0]
    report.cache_hits = total - len(rows) - report.from_source
    return [TitleQuery(paper_id, title or "", abstract) for paper_id, title, abstract in rows]


def _chunks(items: list[TitleQuery], size: int) -> Iterable[list[TitleQuery]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _transport_failure(exc: requests.RequestException) -> str:
    return f"request failed: {type(exc).__name__}: {exc}"


def _resolve_chunk(matcher: ArxivMatcher, chunk: list[TitleQuery]) -> MatchRun:
    """The matcher's run, or every paper of the chunk `error` when a transport failure
    escapes the session (a body cut off mid-read raises `ChunkedEncodingError`, which the
    session neither retries nor turns into `RequestFailed`): a failing arXiv must not
    fail the run, and the next run asks again."""
    try:
        return matcher.resolve(chunk)
    except requests.RequestException as exc:
        reason = _transport_failure(exc)
        failed = [Resolution(q.paper_id, "error", error=reason) for q in chunk]
        return MatchRun(resolutions=failed, records={}, requests=0)


def _resolve(
    warehouse: Path,
    client: ArxivClient,
    queries: list[TitleQuery],
    report: EnrichmentReport,
    on_progress: Callable[[EnrichmentReport], None] | None,
) -> None:
    matcher = ArxivMatcher(client)
    start = client.requests_made
    for chunk in _chunks(queries, CHUNK):
        run = _resolve_chunk(matcher, chunk)
        checked_at = _now()
        # A record the search gave only in part (its fetch by ID failed) is not stored:
        # it would never be completed. `_fetch_missing_records` asks for it again.
        complete = [r for r in run.records.values() if r.is_complete]
        with open_writer(warehouse) as con, transaction(con):
            report.touched |= _upsert_matches(
                con, [_match_row(r, checked_at) for r in run.resolutions]
            )
            report.records_stored += store_records(con, complete)
        report.add(run.resolutions)
        report.requests = client.requests_made - start
        if on_progress:
            on_progress(report)


def _mark_pending(warehouse: Path, queries: list[TitleQuery], report: EnrichmentReport) -> None:
    checked_at = _now()
    pending = [Resolution(q.paper_id, "pending", method="offline") for q in queries]
    with open_writer(warehouse) as con, transaction(con):
        _upsert_matches(con, [_match_row(r, checked_at) for r in pending])
    report.add(pending)


def _fetch_missing_records(warehouse: Path, client: ArxivClient, report: EnrichmentReport) -> None:
    """Records for IDs matched without a search (stated by the source)."""
    with open_writer(warehouse) as con:
        missing = [row[0] for row in con.execute(_MISSING_RECORDS_SQL).fetchall()]
    if not missing:
        return
    before = client.requests_made
    try:
        fetched = client.fetch(missing)
    except requests.RequestException as exc:  # see `_resolve_chunk`; retried next run
        fetched = FetchResult(failed=dict.fromkeys(missing, _transport_failure(exc)))
    with open_writer(warehouse) as con, transaction(con):
        report.records_stored += store_records(con, fetched.records.values())
    report.counts["record_errors"] = len(fetched.failed) + len(fetched.invalid)
    report.requests += client.requests_made - before


def merge_same_arxiv_id(con: duckdb.DuckDBPyConnection) -> tuple[int, set[str]]:
    """Papers resolved to one arXiv ID are one paper: merged under the smallest id, their
    listings keeping their lineage. Returns the merges and the surviving ids."""
    groups = con.execute(
        """SELECT list(paper_id ORDER BY paper_id) FROM core.arxiv_matches
           WHERE status = 'matched' GROUP BY arxiv_id HAVING count(*) > 1"""
    ).fetchall()
    merged = [set(g[0]) for g in groups]
    return merge_papers(con, merged, "same arXiv ID"), {min(g) for g in merged}


def enrich_with_arxiv(
    warehouse: Path,
    client: ArxivClient,
    recheck_days: int,
    offline: bool,
    on_progress: Callable[[EnrichmentReport], None] | None = None,
) -> EnrichmentReport:
    """Resolves papers without a final outcome, stores records, merges by arXiv ID and
    refreshes the paper tables. Request failures are recorded as `error`, never raised."""
    report = EnrichmentReport(offline=offline)
    queries = _to_resolve(warehouse, recheck_days, _now(), report)
    if offline:
        _mark_pending(warehouse, queries, report)
    else:
        _resolve(warehouse, client, queries, report, on_progress)
        _fetch_missing_records(warehouse, client, report)
    with open_writer(warehouse) as con, transaction(con):
        report.merged_papers, survivors = merge_same_arxiv_id(con)
        if report.touched or survivors:
            rebuild_papers(con, sorted(report.touched | survivors))
            rebuild_links(con)
    return report
