"""Files that used to block or fool ingestion: each is set aside with a specific reason
while the good file beside it loads, and nothing of what should stay private is stored.

The cases come from a fault campaign (issue 10): deep JSON, a deep `data-props`, an
unreadable file, an oversized file, links out of the landing folder, binary excerpts,
stray NUL bytes, bidirectional overrides, UTF-16 without a byte-order mark, `[]`.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

import pytest

import pipeline.dumps.ingest
from pipeline.db.connection import DuckDBFile
from pipeline.dumps.entries import ReadLimits
from pipeline.dumps.ingest import IngestReport, ingest_landing
from tests.landed import GOOD, GOOD_TITLES, TODAY, assert_quarantined
from tests.unit.test_dump_variations import ENTRIES, blocks, dump_text

SECRET = b"root:x:0:0:SECRET-TOKEN-4711:/root:/bin/bash\n"


def _ingest(root: Path, limits: ReadLimits | None = None) -> IngestReport:
    return ingest_landing(
        root / "landing",
        DuckDBFile(root / "papers.duckdb"),
        root / "archive",
        today=TODAY,
        limits=limits or ReadLimits(),
    )


def test_json_nested_deeper_than_the_limit_is_quarantined_and_the_run_goes_on(land) -> None:
    landed = land("deep.json", b"[" * 100_000)
    assert_quarantined(landed, "nested more than 100 levels deep", "PAPERS_MAX_JSON_DEPTH")


def test_a_page_whose_data_props_is_too_deep_is_quarantined(land) -> None:
    props = html.escape("[" * 100_000, quote=True)
    page = (
        "<!doctype html><html><head><title>Daily Papers - Hugging Face</title></head><body>"
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{props}">'
        "</div></body></html>"
    )
    assert_quarantined(land("deep.html", page.encode()), "data-props", "nested more than")


def test_an_unreadable_file_is_skipped_named_and_left_for_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root every file is readable, so the permission error is injected where the
    scan reads the file."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "good.txt").write_bytes(GOOD)
    (landing / "locked.txt").write_bytes(b"whatever")
    real = pipeline.dumps.ingest._sha256_of

    def denied(path: Path) -> str:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(pipeline.dumps.ingest, "_sha256_of", denied)
    report = _ingest(tmp_path)
    assert report.skipped == {"locked.txt": "unreadable: PermissionError: Permission denied"}
    assert [f.file_name for f in report.files] == ["good.txt"]
    monkeypatch.undo()
    assert [f.file_name for f in _ingest(tmp_path).files] == ["locked.txt"]  # read once it can be


def test_a_file_over_the_size_limit_is_archived_and_quarantined_unread(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    small = dump_text(blocks(entries=ENTRIES[:1])).encode()
    (landing / "small.txt").write_bytes(small)
    (landing / "big.txt").write_bytes(GOOD)
    limit = ReadLimits(max_bytes=len(small) + 10)
    outcomes = {f.file_name: f for f in _ingest(tmp_path, limit).files}
    assert outcomes["small.txt"].status == "loaded"
    assert outcomes["big.txt"].status == "quarantined"
    assert "too large to read" in str(outcomes["big.txt"].error)
    assert "PAPERS_MAX_FILE_MB" in str(outcomes["big.txt"].error)
    sha = hashlib.sha256(GOOD).hexdigest()
    assert (tmp_path / "archive" / sha[:2] / sha).read_bytes() == GOOD  # nothing lost


def test_a_link_out_of_the_landing_folder_is_never_read_or_stored(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_bytes(SECRET)
    landing = tmp_path / "landing"
    (landing / "sub").mkdir(parents=True)
    (landing / "good.txt").write_bytes(GOOD)
    (landing / "passwd.txt").symlink_to(secret)
    (landing / "sub" / "outside").symlink_to(secret.parent, target_is_directory=True)
    (landing / "again.txt").symlink_to(landing / "good.txt")  # inside: an alias, fine
    report = _ingest(tmp_path)
    assert report.skipped == {"passwd.txt": "a link to a file outside the landing folder: not read"}
    assert [f.file_name for f in report.files] == ["again.txt"]  # the good content, once
    archived = [p.read_bytes() for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert SECRET not in archived and archived == [GOOD]
    warehouse = (tmp_path / "papers.duckdb").read_bytes()
    assert b"SECRET-TOKEN-4711" not in warehouse and b"root:x:0:0" not in warehouse


def test_no_excerpt_is_kept_of_a_file_that_is_not_text(land) -> None:
    landed = land("photo.png", b"\x89PNG\r\n\x1a\n" + SECRET * 4)
    assert_quarantined(landed, "binary file: PNG image")
    assert landed.rows(
        "SELECT excerpt FROM raw.rejects WHERE file_sha256 = ?", [landed.bad_sha]
    ) == [("",)]


@pytest.mark.parametrize("where", ["early", "late"])
def test_a_stray_nul_byte_is_dropped_wherever_it_is(land, where: str) -> None:
    text = dump_text()
    cut = 40 if where == "early" else len(text) - 200
    landed = land(f"nul_{where}.txt", (text[:cut] + "\x00" + text[cut:]).encode())
    titles = landed.rows(
        "SELECT title, abstract FROM raw.listings WHERE file_sha256 = ? ORDER BY position",
        [landed.bad_sha],
    )
    assert [t for t, _ in titles] == GOOD_TITLES
    assert not any("\x00" in (t + (a or "")) for t, a in titles)


def test_bidirectional_overrides_are_dropped_from_titles_and_file_names(land) -> None:
    override = "\u202e"
    text = dump_text().replace(GOOD_TITLES[0], override + GOOD_TITLES[0] + "\u2066")
    landed = land(f"list{override}txt.exe", text.encode())
    (name,) = landed.bad("file_name")
    assert name == "listtxt.exe"
    titles = landed.rows(
        "SELECT title FROM raw.listings WHERE file_sha256 = ? ORDER BY position", [landed.bad_sha]
    )
    assert [t for (t,) in titles] == GOOD_TITLES


def test_utf16_without_a_byte_order_mark_says_so(land) -> None:
    landed = land("utf16.txt", dump_text().encode("utf-16-le"))
    assert_quarantined(landed, "UTF-16 text without a byte-order mark")


def test_an_empty_json_list_says_the_file_lists_no_entry(land) -> None:
    assert_quarantined(
        land("empty_day.json", b"[]"), "no readable entries: the file lists no entry"
    )


def test_the_run_reports_json_that_is_not_a_listing_in_json_terms(land) -> None:
    data = json.dumps({"models": [{"id": "x"}]}).encode()
    assert_quarantined(land("models.json", data), "JSON object is not a Hugging Face")
