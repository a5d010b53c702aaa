"""The DuckDB warehouse: its tables, and connections that are always closed.

Tables rebuilt by delete-and-insert in one transaction carry no PRIMARY KEY (DuckDB
checks such keys eagerly); their uniqueness is an asset check instead.

DuckDB lets one process write a database file at a time, and a second writer fails at
once with a lock error. `connect` waits for the lock instead of failing, so two runs that
overlap queue up rather than crash; every write goes through `transaction`, so a run that
fails part-way leaves the previous state.

Titles and abstracts, the bulk of the data, are compressed with ZSTD: DuckDB's default
for strings (DICT_FSST) triples the time of a million-row insert, while ZSTD costs about
what no compression does and writes less than half the default's bytes.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS raw.dump_files (
    file_sha256 VARCHAR PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    layout VARCHAR,
    snapshot_date DATE,
    snapshot_date_source VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    listing_count INTEGER NOT NULL,
    reject_count INTEGER NOT NULL,
    byte_size BIGINT NOT NULL,
    archive_path VARCHAR NOT NULL,
    source_url VARCHAR,
    fetched_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS raw.file_names (
    file_sha256 VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    first_seen TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.listings (
    file_sha256 VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    title VARCHAR USING COMPRESSION zstd,
    abstract VARCHAR USING COMPRESSION zstd,
    authors_count INTEGER,
    org_handle VARCHAR,
    organization VARCHAR,
    published_text VARCHAR,
    published_date DATE,
    comments INTEGER,
    upvotes INTEGER,
    arxiv_id VARCHAR,
    authors VARCHAR[],
    github_url VARCHAR,
    project_page VARCHAR,
    title_key VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.rejects (
    file_sha256 VARCHAR NOT NULL,
    position INTEGER,
    reason VARCHAR NOT NULL,
    excerpt VARCHAR
);

CREATE TABLE IF NOT EXISTS core.title_keys (
    title_key VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    paper_id VARCHAR NOT NULL,
    sample_title VARCHAR
);
CREATE TABLE IF NOT EXISTS core.title_signatures (
    title_key VARCHAR NOT NULL,
    signature BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS core.paper_aliases (
    old_paper_id VARCHAR NOT NULL,
    paper_id VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS core.papers (
    paper_id VARCHAR NOT NULL,
    title VARCHAR USING COMPRESSION zstd,
    abstract VARCHAR USING COMPRESSION zstd,
    published_date DATE,
    authors_count INTEGER,
    org_handle VARCHAR,
    organization VARCHAR,
    comments INTEGER,
    upvotes INTEGER,
    arxiv_id VARCHAR,
    listing_count INTEGER,
    first_seen DATE,
    last_seen DATE
);
CREATE TABLE IF NOT EXISTS core.paper_listings (
    paper_id VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS core.link_scanned_files (file_sha256 VARCHAR PRIMARY KEY);
CREATE TABLE IF NOT EXISTS core.listing_repos (
    file_sha256 VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    repo VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    source VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.listing_links (
    file_sha256 VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    kind VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.paper_repos (
    paper_id VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    source VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.paper_links (
    paper_id VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    kind VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.arxiv_matches (
    paper_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    arxiv_id VARCHAR,
    score DOUBLE,
    method VARCHAR,
    checked_at TIMESTAMP,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS core.arxiv_papers (
    arxiv_id VARCHAR NOT NULL,
    version INTEGER,
    title VARCHAR,
    abstract VARCHAR,
    authors VARCHAR[],
    primary_category VARCHAR,
    categories VARCHAR[],
    published TIMESTAMP,
    updated TIMESTAMP,
    doi VARCHAR,
    journal_ref VARCHAR,
    comment VARCHAR
);
CREATE TABLE IF NOT EXISTS marts.listing_observations (
    file_sha256 VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    observed_on DATE NOT NULL,
    snapshot_date DATE,
    upvotes INTEGER,
    comments INTEGER,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS core.arxiv_repos (
    arxiv_id VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    url VARCHAR NOT NULL
);
"""

CONTRACT_TABLES = (
    "raw.dump_files",
    "raw.listings",
    "raw.rejects",
    "core.papers",
    "core.paper_listings",
    "core.paper_repos",
    "core.paper_links",
    "core.arxiv_matches",
    "core.arxiv_papers",
)


# DuckDB's share of memory; beyond it, large sorts and joins spill to disk instead of
# growing the process (its default is 80% of the machine).
MEMORY_LIMIT = os.environ.get("PAPERS_DUCKDB_MEMORY_LIMIT") or "3GB"


class WarehouseLocked(RuntimeError):
    """Another process kept the database open for writing longer than we would wait."""


def _is_lock_error(exc: duckdb.Error) -> bool:
    message = str(exc).lower()
    return "lock" in message and ("conflicting" in message or "could not set" in message)


@contextmanager
def connect(
    path: Path, read_only: bool = False, lock_timeout_s: float = 300.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed however the block ends; waits for a writer's lock."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(
                str(path), read_only=read_only, config={"memory_limit": MEMORY_LIMIT}
            )
            break
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"{path} stayed locked by another process for {lock_timeout_s:g} s"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: on any exception the writes of the block are rolled back."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL)


def publish_read_copy(warehouse: Path, target: Path) -> Path:
    """Publishes a consistent copy for readers, atomically replacing the previous one.

    Readers (notebooks, BI tools) open the copy read-only and are never locked out by a
    refresh, which holds the warehouse's write lock; the copy is taken while this
    process holds that lock, after a checkpoint, so it is a committed state."""
    with connect(warehouse) as con:
        con.execute("CHECKPOINT")
        temp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(warehouse, temp)
        os.replace(temp, target)
    return target


@contextmanager
def open_writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writing connection with every table in place."""
    with connect(path) as con:
        ensure_schema(con)
        yield con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """The single value of a query, fetching the whole result (DuckDB 2 refuses further
    work on a connection while a result is left half-read)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_counts(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in tables}
