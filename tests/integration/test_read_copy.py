"""The read copy: republished by writing only changed blocks into a spare, and never
rewritten under a reader that still holds it open (a real DuckDB reader process)."""

from __future__ import annotations

import errno
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.db import read_copy
from pipeline.db.read_copy import publish

ROWS = 1_000_000  # a file of some 30 blocks of 1 MiB


def _warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "papers.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE papers AS SELECT i AS id, md5(i::VARCHAR) AS title "
            f"FROM range({ROWS}) t(i)"
        )
    return path


def _add(path: Path, rows: int) -> None:
    """A refresh's small write: a few rows, checkpointed, as before a publish."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"INSERT INTO papers SELECT {ROWS} + i, 'new ' || i FROM range({rows}) t(i)")
        con.execute("CHECKPOINT")


def _count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM papers").fetchall()[0][0])


def test_later_publishes_write_only_the_changed_blocks(tmp_path: Path) -> None:
    source, copy = _warehouse(tmp_path), tmp_path / "papers_read.duckdb"
    first = publish(source, copy)
    assert first.bytes_written == first.bytes  # nothing to start from: a whole copy
    _add(source, 10)
    publish(source, copy)  # the first copy becomes the spare
    _add(source, 10)
    third = publish(source, copy)
    assert 0 < third.bytes_written < third.bytes / 4
    assert filecmp.cmp(source, copy, shallow=False)
    assert _count(copy) == ROWS + 20
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".papers_read.duckdb.spare",
        "papers.duckdb",
        "papers_read.duckdb",
    ]


def test_a_spare_left_half_written_is_made_whole(tmp_path: Path) -> None:
    source, copy = _warehouse(tmp_path), tmp_path / "papers_read.duckdb"
    publish(source, copy)
    publish(source, copy)
    spare = tmp_path / ".papers_read.duckdb.spare"
    with spare.open("r+b") as broken:  # a publish killed while writing into it
        broken.seek(3 * 1024 * 1024)
        broken.write(b"\xff" * 100_000)
        broken.truncate(5 * 1024 * 1024)
    (tmp_path / ".papers_read.duckdb.tmp").write_bytes(b"a link a killed publish left")
    _add(source, 5)
    published = publish(source, copy)
    assert published.bytes_written < published.bytes
    assert filecmp.cmp(source, copy, shallow=False)
    assert _count(copy) == ROWS + 5
    assert not (tmp_path / ".papers_read.duckdb.tmp").exists()


EVERY_BLOCK = "SELECT count(*), sum(hash(title)) FROM papers"  # reads every block
READER = f"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "{EVERY_BLOCK}"
print(con.execute(query).fetchall()[0], flush=True)
sys.stdin.readline()
print(con.execute(query).fetchall()[0], flush=True)
"""


def test_a_copy_a_reader_holds_open_is_never_written_into(tmp_path: Path) -> None:
    source, copy = _warehouse(tmp_path), tmp_path / "papers_read.duckdb"
    publish(source, copy)
    publish(source, copy)
    reader = subprocess.Popen(  # another process, as a notebook would be
        [sys.executable, "-c", READER, str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        before = reader.stdout.readline()
        _add(source, 10)
        assert publish(source, copy).bytes_written < copy.stat().st_size  # the other file
        _add(source, 10)
        held = publish(source, copy)  # the spare now is the reader's file
        assert held.bytes_written == held.bytes
        reader.stdin.write("\n")
        reader.stdin.flush()
        after = reader.stdout.readline()
    finally:
        reader.stdin.close()  # ends the reader, whatever failed above
        reader.wait(timeout=60)
    assert reader.returncode == 0
    assert after == before and before.startswith(f"({ROWS},")
    assert filecmp.cmp(source, copy, shallow=False)
    assert _count(copy) == ROWS + 20


def test_a_reader_in_the_publishing_process_also_keeps_its_file(tmp_path: Path) -> None:
    source, copy = _warehouse(tmp_path), tmp_path / "papers_read.duckdb"
    publish(source, copy)
    publish(source, copy)
    with duckdb.connect(str(copy), read_only=True) as held:
        before = held.execute(EVERY_BLOCK).fetchall()
        _add(source, 10)
        publish(source, copy)
        _add(source, 10)
        assert publish(source, copy).bytes_written == copy.stat().st_size
        assert held.execute(EVERY_BLOCK).fetchall() == before
        assert before[0][0] == ROWS


def _refuse_links(source: os.PathLike[str], target: os.PathLike[str]) -> None:
    raise OSError(errno.EPERM, "Operation not permitted", str(source), None, str(target))


@pytest.mark.parametrize("missing", ["hard links", "open-file-description locks"])
def test_without_hard_links_or_locks_every_publish_is_a_whole_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    if missing == "hard links":  # a file system without them (some network mounts)
        monkeypatch.setattr(read_copy.os, "link", _refuse_links)
    else:  # macOS
        monkeypatch.setattr(read_copy, "_OFD_SETLK", None)
    source, copy = _warehouse(tmp_path), tmp_path / "papers_read.duckdb"
    for rows in (0, 10, 10):
        _add(source, rows)
        published = publish(source, copy)
        assert published.bytes_written == published.bytes
        assert filecmp.cmp(source, copy, shallow=False)
    assert _count(copy) == ROWS + 20
