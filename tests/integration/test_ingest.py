"""Ingestion by content: a file is known by its bytes, not its name; a re-run changes
nothing; a new file is the only one read; a failure leaves the warehouse as it was; the
archive keeps every raw file read-only under its hash."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pytest

import pipeline.dumps.ingest
import pipeline.steps
from pipeline.dumps.ingest import archive_raw, ingest_landing
from pipeline.dumps.read import read_raw_file
from pipeline.settings import Settings
from pipeline.steps import refresh
from tests.unit.test_dump_variations import ENTRIES, blocks, dump_text

TODAY = date(2026, 7, 1)
Tables = dict[str, list[tuple[object, ...]]]


def dump(suffix: str = "", page_date: str = "Jun 3") -> bytes:
    """A small listing dump; a suffix gives its papers other titles (other papers)."""
    entries = [(f"{title}{suffix}", abstract, meta) for title, abstract, meta in ENTRIES]
    return dump_text(blocks(entries=entries, page_date=page_date)).encode("utf-8")


FIRST = dump()
SECOND = dump(" Revisited", page_date="Jun 20")
THIRD = dump(": An Extended Study", page_date="Jun 24")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    landing = tmp_path / "landing"
    landing.mkdir()
    (tmp_path / "wh").mkdir()
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": str(tmp_path / "wh" / "papers.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(tmp_path / "archive"),
            "PAPERS_OFFLINE": "1",
        }
    )


def put(settings: Settings, name: str, data: bytes) -> Path:
    path = settings.landing_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ingest(settings: Settings) -> pipeline.dumps.ingest.IngestReport:
    return ingest_landing(
        settings.landing_dir, settings.warehouse, settings.raw_archive_dir, today=TODAY
    )


def query(settings: Settings, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def all_tables(settings: Settings) -> Tables:
    """Every table of the warehouse, in full, in a stable order."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        names = [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
            ).fetchall()
        ]
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in names
        }


def test_same_content_under_two_names_is_loaded_once(settings: Settings) -> None:
    put(settings, "listing.txt", FIRST)
    put(settings, "listing (copy).txt", FIRST)
    report = ingest(settings)
    assert report.scanned == 2
    assert report.already_ingested == 1
    assert [f.file_sha256 for f in report.files] == [sha(FIRST)]
    assert query(settings, "SELECT file_sha256, listing_count FROM raw.dump_files") == [
        (sha(FIRST), len(ENTRIES))
    ]
    assert query(settings, "SELECT count(*) FROM raw.listings") == [(len(ENTRIES),)]
    names = query(settings, "SELECT file_sha256, file_name FROM raw.file_names ORDER BY 2")
    assert names == [(sha(FIRST), "listing (copy).txt"), (sha(FIRST), "listing.txt")]


def test_a_file_is_hashed_again_only_when_its_size_or_time_changed(settings: Settings) -> None:
    """The scan trusts a file's known hash while its size and modification time stay
    (reading every landing file on every run would cost seconds at a million listings);
    a file written again gets a new time, and is read."""
    path = put(settings, "a.txt", FIRST)
    ingest(settings)
    stat = path.stat()
    same_size = FIRST.replace(b"Jun", b"Jul", 1)
    assert len(same_size) == len(FIRST) and same_size != FIRST
    path.write_bytes(same_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as if untouched
    assert ingest(settings).already_ingested == 1

    path.write_bytes(same_size)  # written again: a new modification time
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    report = ingest(settings)
    assert [f.file_sha256 for f in report.files] == [sha(same_size)]
    assert query(settings, "SELECT path, size, file_sha256 FROM internal.landing_hashes") == [
        ("a.txt", len(same_size), sha(same_size))
    ]


def test_a_copy_added_later_only_records_its_name(settings: Settings) -> None:
    put(settings, "a.txt", FIRST)
    ingest(settings)
    before = all_tables(settings)
    put(settings, "renamed.txt", FIRST)
    report = ingest(settings)
    assert report.files == []
    assert report.already_ingested == 2
    after = all_tables(settings)
    names = {"raw.file_names", "internal.landing_hashes"}  # the new name, and its hash
    assert {k: v for k, v in after.items() if k not in names} == {
        k: v for k, v in before.items() if k not in names
    }
    assert sorted((s, n) for s, n, _ in after["raw.file_names"]) == [
        (sha(FIRST), "a.txt"),
        (sha(FIRST), "renamed.txt"),
    ]


def test_same_name_in_two_folders_is_one_name(settings: Settings) -> None:
    put(settings, "monday/listing.txt", FIRST)
    put(settings, "tuesday/listing.txt", FIRST)
    report = ingest(settings)
    assert (report.scanned, len(report.files)) == (2, 1)
    assert query(settings, "SELECT file_sha256, file_name FROM raw.file_names") == [
        (sha(FIRST), "listing.txt")
    ]


def test_one_changed_byte_is_another_file(settings: Settings) -> None:
    put(settings, "a.txt", FIRST)
    put(settings, "b.txt", FIRST.replace(b"Jun 3", b"Jun 4"))
    report = ingest(settings)
    assert len(report.files) == 2
    assert query(settings, "SELECT count(*) FROM raw.listings") == [(2 * len(ENTRIES),)]


def test_rerun_over_the_same_landing_folder_changes_nothing(settings: Settings) -> None:
    put(settings, "a.txt", FIRST)
    put(settings, "b.txt", SECOND)
    put(settings, "a copy.txt", FIRST)
    put(settings, "empty.txt", b"")
    put(settings, "cp1252.txt", "caf\u00e9 au lait\n".encode("cp1252"))
    first = refresh(settings, today=TODAY)
    assert first.ingest.listings == 2 * len(ENTRIES)
    assert first.ingest.quarantined == 2
    before = all_tables(settings)
    assert len(before["core.papers"]) == 2 * len(ENTRIES)
    assert before["core.paper_repos"]  # the tidal-memory repository
    archive_before = sorted(p for p in settings.raw_archive_dir.rglob("*"))

    second = refresh(settings, today=TODAY)
    assert second.ingest.files == []
    assert second.ingest.already_ingested == second.ingest.scanned == 5
    assert second.clusters.new_keys == 0
    assert second.listings_scanned_for_links == 0
    assert all_tables(settings) == before
    assert sorted(p for p in settings.raw_archive_dir.rglob("*")) == archive_before


def test_a_new_file_is_the_only_one_parsed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(settings, "a.txt", FIRST)
    put(settings, "b.txt", SECOND)
    refresh(settings, today=TODAY)
    before = all_tables(settings)

    parsed: list[bytes] = []

    def counting_read(data: bytes, *args: object, **kwargs: object):
        parsed.append(data)
        return read_raw_file(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.dumps.ingest, "read_raw_file", counting_read)
    put(settings, "c.txt", THIRD)
    report = refresh(settings, today=TODAY)

    assert parsed == [THIRD]
    assert [(f.file_name, f.status, f.listings) for f in report.ingest.files] == [
        ("c.txt", "loaded", len(ENTRIES))
    ]
    assert report.ingest.already_ingested == 2
    assert report.listings_scanned_for_links == len(ENTRIES)
    after = all_tables(settings)
    # Old rows are untouched; the new file's rows are added.
    for table in ("raw.dump_files", "raw.listings", "core.paper_listings"):
        assert set(before[table]) <= set(after[table]), table
    assert len(after["raw.listings"]) == len(before["raw.listings"]) + len(ENTRIES)
    assert len(after["core.papers"]) == len(before["core.papers"]) + len(ENTRIES)


def _fail_after(real: Callable[..., object], calls_before_failure: int) -> Callable[..., object]:
    """`real`, which raises once it has run `calls_before_failure` times (after doing the
    work of that last call)."""
    count = 0

    def wrapped(*args: object, **kwargs: object) -> object:
        nonlocal count
        count += 1
        result = real(*args, **kwargs)
        if count >= calls_before_failure:
            raise RuntimeError("injected failure")
        return result

    return wrapped


def test_failure_while_writing_raw_leaves_the_warehouse_unchanged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(settings, "a.txt", FIRST)
    refresh(settings, today=TODAY)
    before = all_tables(settings)

    put(settings, "b.txt", SECOND)
    put(settings, "c.txt", THIRD)
    put(settings, "d.txt", b"")
    monkeypatch.setattr(pipeline.dumps.ingest, "_BATCH_ENTRIES", 1)  # one batch per file
    monkeypatch.setattr(
        pipeline.dumps.ingest, "_write_batch", _fail_after(pipeline.dumps.ingest._write_batch, 2)
    )
    with pytest.raises(RuntimeError, match="injected failure"):
        ingest(settings)
    assert all_tables(settings) == before

    # Nothing was half-recorded: the next run loads all three files.
    monkeypatch.undo()
    report = refresh(settings, today=TODAY)
    assert sorted(f.file_name for f in report.ingest.files) == ["b.txt", "c.txt", "d.txt"]
    assert len(all_tables(settings)["raw.listings"]) == 3 * len(ENTRIES)


def test_an_unexpected_error_reading_one_file_quarantines_that_file_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that fails on one file (a bug, or a file it chokes on) must not block the
    others: that file is quarantined with the error's class and message, and kept."""
    put(settings, "a.txt", FIRST)
    ingest(settings)
    put(settings, "b.txt", SECOND)
    put(settings, "c.txt", THIRD)
    monkeypatch.setattr(pipeline.dumps.ingest, "read_raw_file", _fail_after(read_raw_file, 1))
    report = ingest(settings)
    monkeypatch.undo()
    outcomes = {f.file_name: (f.status, f.error) for f in report.files}
    assert outcomes["b.txt"] == ("quarantined", "unreadable: RuntimeError: injected failure")
    assert len(all_tables(settings)["raw.listings"]) == len(ENTRIES)  # a.txt's only
    # Once the reader is mended, the same content is not read again: it stays set aside,
    # kept in the archive for a rebuild.
    assert ingest(settings).files == []
    sha = hashlib.sha256(SECOND).hexdigest()
    assert (settings.raw_archive_dir / sha[:2] / sha).read_bytes() == SECOND


def test_failure_while_writing_leaves_the_warehouse_unchanged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while writing the second batch: the first, already written, is not
    committed alone."""
    put(settings, "a.txt", FIRST)
    ingest(settings)
    before = all_tables(settings)
    put(settings, "b.txt", SECOND)
    put(settings, "c.txt", THIRD)
    monkeypatch.setattr(pipeline.dumps.ingest, "_BATCH_ENTRIES", 1)  # a batch per file
    monkeypatch.setattr(
        pipeline.dumps.ingest, "_write_batch", _fail_after(pipeline.dumps.ingest._write_batch, 2)
    )
    with pytest.raises(RuntimeError, match="injected failure"):
        ingest(settings)
    assert all_tables(settings) == before


@pytest.mark.parametrize("step", ["cluster_new_keys", "build_papers", "rebuild_links"])
def test_failure_while_building_core_tables_leaves_them_unchanged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The step does its writes, then fails: its transaction rolls them all back. The raw
    load before it is its own transaction and stays, so the next run finishes the job."""
    put(settings, "a.txt", FIRST)
    refresh(settings, today=TODAY)
    before = all_tables(settings)

    put(settings, "b.txt", SECOND)
    monkeypatch.setattr(pipeline.steps, step, _fail_after(getattr(pipeline.steps, step), 1))
    with pytest.raises(RuntimeError, match="injected failure"):
        refresh(settings, today=TODAY)
    after = all_tables(settings)
    changed = {name for name in before if after[name] != before[name]}
    raw_load = {"raw.dump_files", "raw.file_names", "raw.listings", "internal.landing_hashes"}
    clusters = {"internal.title_keys", "internal.title_signatures"}
    papers = {"core.papers", "core.paper_listings", "internal.paper_keys"}
    # Each step before the failing one committed in its own transaction; the failing
    # step is undone whole.
    if step == "rebuild_links":
        assert changed == raw_load | clusters | papers
    elif step == "build_papers":
        assert changed == raw_load | clusters
    else:
        assert changed == raw_load

    monkeypatch.undo()
    refresh(settings, today=TODAY)
    recovered = all_tables(settings)

    # The same as a warehouse that never saw the failure.
    clean = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(settings.landing_dir),
            "PAPERS_WAREHOUSE": str(settings.warehouse_path.parent / "clean.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(settings.raw_archive_dir),
        }
    )
    refresh(clean, today=TODAY)
    expected = all_tables(clean)
    for table in ("core.papers", "core.paper_listings", "core.paper_repos", "core.paper_links"):
        assert recovered[table] == expected[table], table
    assert len(recovered["core.papers"]) == 2 * len(ENTRIES)


def _loaded_rows(settings: Settings) -> Tables:
    """What ingest wrote, without what differs between any two runs (times, archive)."""
    return {
        "raw.dump_files": query(
            settings,
            "SELECT * EXCLUDE (ingested_at, archive_path) FROM raw.dump_files ORDER BY ALL",
        ),
        "raw.listings": query(settings, "SELECT * FROM raw.listings ORDER BY ALL"),
        "raw.rejects": query(settings, "SELECT * FROM raw.rejects ORDER BY ALL"),
    }


def test_worker_processes_load_the_same_rows_as_one_process(
    settings: Settings, tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large intake is read by worker processes; here the size limit is lifted so that
    the seeds, three dumps of our own and two bad files are."""
    for seed in sorted(seeds_dir.iterdir()):
        put(settings, seed.name, seed.read_bytes())
    for name, data in (("a.txt", FIRST), ("b.txt", SECOND), ("c.txt", THIRD)):
        put(settings, name, data)
    put(settings, "empty.txt", b"")
    put(settings, "image.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    in_process = ingest_landing(
        settings.landing_dir, settings.warehouse, tmp_path / "a1", TODAY, workers=1
    )
    expected = _loaded_rows(settings)

    pools: list[int] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, workers: int, **kwargs: object) -> None:
            pools.append(workers)
            super().__init__(workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.dumps.ingest, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(pipeline.dumps.ingest, "_POOL_MIN_BYTES", 0)
    pooled_settings = Settings.from_env(
        {"PAPERS_WAREHOUSE": str(tmp_path / "pooled.duckdb"), "PAPERS_OFFLINE": "1"}
    )
    pooled = ingest_landing(
        settings.landing_dir, pooled_settings.warehouse, tmp_path / "a2", TODAY, workers=2
    )
    assert pools == [2]
    assert [(f.file_name, f.status, f.listings) for f in pooled.files] == [
        (f.file_name, f.status, f.listings) for f in in_process.files
    ]
    assert len(expected["raw.listings"]) == pooled.listings > 398
    assert _loaded_rows(pooled_settings) == expected
    assert sorted(p.name for p in (tmp_path / "a2").rglob("*") if p.is_file()) == sorted(
        p.name for p in (tmp_path / "a1").rglob("*") if p.is_file()
    )


def test_a_file_changed_or_gone_after_the_scan_is_left_for_the_next_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(settings, "a.txt", FIRST)
    changing = put(settings, "b.txt", SECOND)
    going = put(settings, "c.txt", THIRD)
    scan = pipeline.dumps.ingest._scan

    def scan_then_change(*args: object) -> object:
        found = scan(*args)  # type: ignore[arg-type]
        changing.write_bytes(SECOND + b"\n")  # still being written
        going.unlink()  # moved away
        return found

    monkeypatch.setattr(pipeline.dumps.ingest, "_scan", scan_then_change)
    report = ingest(settings)
    assert [f.file_name for f in report.files] == ["a.txt"]
    assert report.changed == ["b.txt", "c.txt"]
    assert query(settings, "SELECT file_name FROM raw.dump_files") == [("a.txt",)]
    assert not (settings.raw_archive_dir / sha(SECOND)[:2] / sha(SECOND)).exists()

    monkeypatch.undo()
    report = ingest(settings)
    assert [f.file_name for f in report.files] == ["b.txt"]
    assert query(settings, "SELECT file_sha256 FROM raw.dump_files WHERE file_name = 'b.txt'") == [
        (sha(SECOND + b"\n"),)
    ]


def test_archive_is_content_addressed_and_read_only(settings: Settings) -> None:
    put(settings, "a.txt", FIRST)
    put(settings, "bad.bin", b"\x00\x01\x02 not text")
    ingest(settings)
    rows = query(settings, "SELECT file_sha256, archive_path, byte_size FROM raw.dump_files")
    assert len(rows) == 2
    for digest, archive_path, size in rows:
        path = Path(archive_path)
        assert path == settings.raw_archive_dir / digest[:2] / digest
        data = path.read_bytes()
        assert sha(data) == digest
        assert len(data) == size
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    # The landing copy may go away or change; the archive keeps what was ingested.
    first_archive = settings.raw_archive_dir / sha(FIRST)[:2] / sha(FIRST)
    stat_before = first_archive.stat()
    (settings.landing_dir / "a.txt").unlink()
    put(settings, "again.txt", FIRST)
    ingest(settings)
    assert first_archive.read_bytes() == FIRST
    assert (first_archive.stat().st_ino, first_archive.stat().st_mtime_ns) == (
        stat_before.st_ino,
        stat_before.st_mtime_ns,
    )
    # No temporary files are left beside the archived ones.
    assert sorted(p.name for p in settings.raw_archive_dir.rglob("*") if p.is_file()) == sorted(
        digest for digest, _, _ in rows
    )


def test_archive_raw_recovers_from_a_leftover_temporary_file(tmp_path: Path) -> None:
    digest = sha(FIRST)
    leftover = tmp_path / digest[:2] / f"{digest}.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    leftover.chmod(0o444)
    target = archive_raw(FIRST, digest, tmp_path)
    assert target.read_bytes() == FIRST
    assert not leftover.exists()
    assert archive_raw(FIRST, digest, tmp_path) == target
