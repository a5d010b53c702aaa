"""Descriptions of the warehouse's tables and columns, in one place.

They are written into the warehouse with COMMENT ON (so `duckdb_tables()`,
`duckdb_views()` and `duckdb_columns()` and BI tools show them) and into Dagster's column
schema metadata, from this single source.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str]
    view: bool = False


CATALOG: dict[str, TableDoc] = {
    "raw.dump_files": TableDoc(
        "One row per distinct raw file content (by SHA-256), loaded or quarantined.",
        {
            "file_sha256": "SHA-256 of the file's bytes; the file's identity.",
            "file_name": "Name of the first file seen with this content.",
            "layout": "Detected layout: blocks_with_metadata, blocks_without_metadata, "
            "compact, hf_api_json or hf_html.",
            "snapshot_date": "Day the page was viewed or fetched; null when unknown.",
            "snapshot_date_source": "How snapshot_date was found, or why it is unknown.",
            "status": "loaded or quarantined.",
            "error": "Why the file was quarantined.",
            "listing_count": "Entries loaded from the file.",
        },
    ),
    "raw.listings": TableDoc(
        "One row per paper entry per raw file, cleaned and typed.",
        {
            "position": "1-based order of the entry in its file.",
            "published_text": "The publication date as written.",
            "published_date": "Publication date; year-less dates take the snapshot year.",
            "comments": "Comment count on Hugging Face (a dump's trailing number).",
            "upvotes": "Upvotes, where the source states them (pages and API JSON).",
            "arxiv_id": "arXiv ID, where the source states it (no version).",
            "title_key": "Normalized title used to group listings into papers.",
        },
    ),
    "raw.rejects": TableDoc(
        "What could not be read, and why: whole files (position null) or single entries.",
        {"reason": "Specific reason the input was set aside.", "excerpt": "A piece of it."},
    ),
    "core.papers": TableDoc(
        "One row per distinct paper; values merged deterministically from its listings.",
        {
            "paper_id": "Stable paper id (hash of its title key); see core.paper_aliases.",
            "arxiv_id": "arXiv ID without version, stated by a source or resolved.",
            "listing_count": "Listings that are this paper.",
            "first_seen": "Earliest snapshot (or ingestion) date of its listings.",
            "last_seen": "Latest snapshot (or ingestion) date of its listings.",
        },
    ),
    "core.paper_repos": TableDoc(
        "GitHub repositories linked to a paper, one row per paper and repository.",
        {
            "repo": "owner/name as the source spells it.",
            "source": "Where it was found: abstract, huggingface or arxiv.",
        },
    ),
    "core.arxiv_matches": TableDoc(
        "Outcome of resolving each paper to arXiv.",
        {
            "status": "matched, not_found, ambiguous, error or pending.",
            "method": "source, batch_phrase, single_phrase, words or offline.",
            "score": "Confidence 0-1: title similarity, averaged with the abstract's.",
        },
    ),
    "marts.listing_observations": TableDoc(
        "Every observation of a listing, appended once and never updated: the history.",
        {
            "observed_on": "Snapshot date, or the ingestion date when it is unknown.",
            "recorded_at": "When the observation was added to the history.",
        },
    ),
    "marts.paper_history": TableDoc(
        "Per paper and snapshot day: upvotes, comments and listing appearances.",
        {
            "paper_id": "Current paper id.",
            "observed_on": "Snapshot date (ingestion date when unknown).",
            "snapshot_date_known": "False when observed_on is an ingestion date.",
            "upvotes": "Upvotes stated that day, if any.",
            "comments": "Comment count stated that day, if any.",
            "appearances": "Listings of the paper observed that day.",
            "files": "Raw files the observations come from.",
        },
        view=True,
    ),
    "marts.trending": TableDoc(
        "Papers of the last 30 days of observations, ranked by upvote gain, then appearances.",
        {
            "appearances_30d": "Listings observed in the last 30 days.",
            "snapshots_30d": "Distinct days the paper was observed.",
            "upvotes_latest": "Upvotes at the latest observation.",
            "upvote_gain_30d": "Upvotes gained between the first and latest observation.",
            "last_observed": "Latest observation day.",
        },
        view=True,
    ),
    "marts.papers_with_repos": TableDoc(
        "Papers that have code, with their repositories.",
        {
            "repos": "owner/name of each repository.",
            "repo_urls": "https://github.com/owner/name of each repository.",
            "repo_sources": "Where the repositories were found.",
            "repo_count": "Number of repositories.",
        },
        view=True,
    ),
    "marts.papers_by_organization": TableDoc(
        "Papers grouped by the organization the listing states.",
        {
            "papers": "Distinct papers.",
            "listings": "Listings of those papers.",
            "latest_published": "Newest publication date.",
            "recent_titles": "Up to five newest titles.",
        },
        view=True,
    ),
    "marts.unresolved_papers": TableDoc(
        "Papers without an arXiv ID, with the state of their resolution.",
        {"arxiv_status": "Latest outcome, or not_checked."},
        view=True,
    ),
    "marts.data_quality": TableDoc(
        "Data-quality counts: rejects by reason, files by status, unknown snapshot "
        "dates, unresolved papers.",
        {"metric": "What is counted.", "detail": "The category.", "count": "How many."},
        view=True,
    ),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection) -> None:
    """Writes every description into the warehouse with COMMENT ON."""
    for table, doc in CATALOG.items():
        kind = "VIEW" if doc.view else "TABLE"
        con.execute(f"COMMENT ON {kind} {table} IS {_quote(doc.description)}")
        for column, text in doc.columns.items():
            con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_quote(text)}")


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return con.execute(
        """SELECT column_name, data_type FROM duckdb_columns()
           WHERE schema_name = ? AND table_name = ? ORDER BY column_index""",
        [schema, name],
    ).fetchall()
