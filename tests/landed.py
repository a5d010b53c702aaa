"""A bad file landed beside a good dump: the `land` fixture ingests both and checks what
every kind of bad file must leave (the good file loaded in full, the bad bytes archived);
the assertions say how the bad one was set aside."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.db.connection import DuckDBFile
from pipeline.dumps.ingest import IngestReport, ingest_landing
from tests.unit.test_dump_variations import ENTRIES, dump_text

TODAY = date(2026, 7, 1)
GOOD_NAME = "good.txt"
GOOD = dump_text().encode("utf-8")
GOOD_TITLES = [title for title, _, _ in ENTRIES]


@dataclass
class Landed:
    report: IngestReport
    con: duckdb.DuckDBPyConnection
    bad_sha: str

    def rows(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def bad(self, columns: str) -> tuple[object, ...]:
        rows = self.rows(
            f"SELECT {columns} FROM raw.dump_files WHERE file_sha256 = ?", [self.bad_sha]
        )
        assert len(rows) == 1
        return rows[0]


@pytest.fixture
def land(tmp_path: Path) -> Iterator[Callable[[str, bytes], Landed]]:
    """Lands one bad file beside the good one, ingests, and checks what every kind of
    bad file must leave: the good file loaded in full, the bad bytes archived."""
    connections: list[duckdb.DuckDBPyConnection] = []

    def run(name: str, data: bytes) -> Landed:
        landing = tmp_path / "landing"
        landing.mkdir()
        (landing / GOOD_NAME).write_bytes(GOOD)
        (landing / name).write_bytes(data)
        warehouse = tmp_path / "papers.duckdb"
        report = ingest_landing(landing, DuckDBFile(warehouse), tmp_path / "archive", today=TODAY)
        connections.append(duckdb.connect(str(warehouse), read_only=True))
        landed = Landed(report, connections[-1], hashlib.sha256(data).hexdigest())
        assert_good_file_loaded(landed)
        assert_archived(landed, data)
        return landed

    yield run
    for con in connections:
        con.close()


def assert_good_file_loaded(landed: Landed) -> None:
    good_sha = hashlib.sha256(GOOD).hexdigest()
    assert landed.rows(
        "SELECT status, error, listing_count FROM raw.dump_files WHERE file_sha256 = ?",
        [good_sha],
    ) == [("loaded", None, len(ENTRIES))]
    titles = landed.rows(
        "SELECT title FROM raw.listings WHERE file_sha256 = ? ORDER BY position", [good_sha]
    )
    assert [t for (t,) in titles] == GOOD_TITLES
    assert landed.rows("SELECT count(*) FROM raw.rejects WHERE file_sha256 = ?", [good_sha]) == [
        (0,)
    ]


def assert_archived(landed: Landed, data: bytes) -> None:
    """The raw bytes are kept, read-only, under their hash, bad files included."""
    (archive_path,) = landed.bad("archive_path")
    path = Path(str(archive_path))
    assert path.is_file()
    assert path.read_bytes() == data
    assert path.name == landed.bad_sha
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def assert_quarantined(landed: Landed, *error_parts: str) -> str:
    """Whole-file reject: quarantined with a specific error, nothing loaded, and one
    `raw.rejects` row with a null position giving the same reason."""
    status, error, count, layout = landed.bad("status, error, listing_count, layout")
    assert status == "quarantined"
    assert count == 0
    assert layout is None or isinstance(layout, str)
    assert isinstance(error, str)
    for part in error_parts:
        assert part in error, error
    assert landed.rows(
        "SELECT count(*) FROM raw.listings WHERE file_sha256 = ?", [landed.bad_sha]
    ) == [(0,)]
    assert landed.rows(
        "SELECT position, reason FROM raw.rejects WHERE file_sha256 = ? AND position IS NULL",
        [landed.bad_sha],
    ) == [(None, error)]
    outcome = next(f for f in landed.report.files if f.file_sha256 == landed.bad_sha)
    assert (outcome.status, outcome.error) == ("quarantined", error)
    assert landed.report.quarantined == 1
    return error
