"""Bad raw files, one kind per test, each landed beside one good dump and run through
`ingest_landing`: the bad file is quarantined (or its bad entry rejected) with a specific
reason, the good file loads in full, and every file's bytes are kept in the archive."""

from __future__ import annotations

import codecs
import hashlib
import struct
import zlib
from pathlib import Path

import pytest

from pipeline.db.connection import DuckDBFile
from pipeline.dumps.ingest import ingest_landing
from tests.landed import GOOD, GOOD_NAME, GOOD_TITLES, TODAY, Landed, assert_quarantined
from tests.unit.test_dump_variations import ENTRIES, blocks, dump_text


def test_empty_file(land) -> None:
    assert_quarantined(land("empty.txt", b""), "empty file")


@pytest.mark.parametrize("data", [b"   \n\n\t \r\n", "\u00a0 \n\u2007\n".encode()])
def test_whitespace_only_file(land, data: bytes) -> None:
    assert_quarantined(land("blank.txt", data), "empty file", "whitespace")


def test_byte_order_mark_only_file(land) -> None:
    assert_quarantined(land("bom.txt", codecs.BOM_UTF8 + b"\r\n"), "empty file")


def test_binary_file_with_nul_bytes(land) -> None:
    data = bytes(range(256)) * 8
    assert_quarantined(land("blob.bin", data), "binary")


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_png_image(land) -> None:
    assert_quarantined(land("screenshot.txt", _png()), "binary", "PNG")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n", "PNG"),  # a cut-off image: no NUL byte yet
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "ZIP"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "gzip"),
    ],
    ids=["png-header", "pdf", "docx", "gzip"],
)
def test_binary_formats_are_named(land, data: bytes, kind: str) -> None:
    assert_quarantined(land("saved.txt", data), "binary file", kind)


def test_windows_1252_text_is_quarantined_not_guessed(land) -> None:
    """Curly quotes and an accent in Windows-1252 are not valid UTF-8: decoding them as
    Latin-1 would load mojibake, so the file is set aside with the offending bytes."""
    text = dump_text(blocks(entries=[(f"\u201cCafé\u201d {t}", a, m) for t, a, m in ENTRIES]))
    data = text.encode("cp1252", errors="replace")
    assert data.count(b"\x93") == len(ENTRIES)
    error = assert_quarantined(land("cp1252.txt", data), "not valid UTF-8")
    assert "93" in error  # the byte of `“` in Windows-1252, named in the reason


def test_latin1_text_is_quarantined(land) -> None:
    data = dump_text().replace("Orchard", "Öl-Garten").encode("latin-1", errors="replace")
    assert b"\xd6l-Garten" in data
    assert_quarantined(land("latin1.txt", data), "not valid UTF-8", "not guessed")


NOTE_PARAGRAPHS = [
    "Notes from the reading group, 12 March",
    "We went through the two papers on retrieval-augmented generation that Sam suggested "
    "last week, and agreed that the second one is more useful for our pipeline because it "
    "reports latency on commodity hardware, not only accuracy on the usual benchmarks, "
    "which is what the product team keeps asking us about in every planning meeting.",
    "Action items for next week",
    "Priya will rerun the baseline with the new tokenizer and share the numbers in the "
    "channel before Friday, so that we can decide whether to switch before the quarterly "
    "review comes around and the budget for the next half is fixed by the steering group.",
]


@pytest.mark.parametrize(
    "note",
    [
        "\n\n".join(NOTE_PARAGRAPHS),
        "\n".join([*NOTE_PARAGRAPHS, "- book a room", "- ask about GPUs"]),
        "Remember to back up the laptop.\n",
    ],
    ids=["headed-paragraphs", "with-bullets", "one-line"],
)
def test_plain_text_note_is_not_a_dump(land, note: str) -> None:
    assert_quarantined(land("notes.txt", note.encode()), "not a listing dump")


def test_csv_file_is_not_a_dump(land) -> None:
    lines = [
        "title,abstract,published",
        *[
            f'"{title}","{abstract}",2025-01-0{i}'
            for i, (title, abstract, _) in enumerate(ENTRIES, 1)
        ],
    ]
    assert_quarantined(land("export.csv", "\n".join(lines).encode()), "not a listing dump")


def test_unrelated_json_is_not_a_dump(land) -> None:
    data = b'{"name": "papers-warehouse", "version": 3, "tags": ["etl", "duckdb"]}\n'
    # JSON is refused in JSON's terms, not with the text dumps' reason.
    assert_quarantined(land("package.json", data), "not a Hugging Face papers list")


def test_header_without_entries(land) -> None:
    data = dump_text(blocks(entries=[])).encode()
    assert_quarantined(land("header_only.txt", data), "no entries")


def _rejects(landed: Landed) -> list[tuple[object, ...]]:
    return landed.rows(
        "SELECT position, reason, excerpt FROM raw.rejects WHERE file_sha256 = ? "
        "ORDER BY position NULLS FIRST",
        [landed.bad_sha],
    )


def _loaded_titles(landed: Landed) -> list[object]:
    rows = landed.rows(
        "SELECT title FROM raw.listings WHERE file_sha256 = ? ORDER BY position", [landed.bad_sha]
    )
    return [t for (t,) in rows]


# The cut-off files below are saves of another day's page (`OTHER_DAY`): cut-off saves of
# the good file itself would be withdrawn in its favour (tests/integration/test_partial_saves.py).
OTHER_DAY = "Jun 2"


def test_file_cut_off_after_a_title(land) -> None:
    lines = [*blocks(page_date=OTHER_DAY), "", "Half a Title That Lost Its Abstract"]
    landed = land("cut.txt", "\n".join(lines).encode())
    assert landed.bad("status, error, listing_count") == ("loaded", None, len(ENTRIES))
    assert _loaded_titles(landed) == GOOD_TITLES
    [(position, reason, excerpt)] = _rejects(landed)
    assert position == len(ENTRIES) + 1
    assert "cut off" in str(reason) and "abstract" in str(reason)
    assert excerpt == "Half a Title That Lost Its Abstract"


def test_file_cut_off_inside_a_metadata_block(land) -> None:
    """The last entry's block stops after `·`: its date is lost, so the entry is rejected
    rather than loaded as if it had none; the entries before it load."""
    lines = blocks(page_date=OTHER_DAY)
    assert lines[-3:] == ["  • 12 authors", "·", "Apr 9"]
    landed = land("cut_meta.txt", "\n".join(lines[:-1]).encode())
    assert _loaded_titles(landed) == GOOD_TITLES[:-1]
    [(position, reason, excerpt)] = _rejects(landed)
    assert position == len(ENTRIES)
    assert "cut off" in str(reason) and "date" in str(reason)
    assert excerpt == GOOD_TITLES[-1]
    assert landed.bad("status, listing_count, reject_count") == ("loaded", 4, 1)


def test_file_cut_off_after_the_author_count(land) -> None:
    lines = blocks(page_date=OTHER_DAY)
    landed = land("cut_authors.txt", "\n".join(lines[:-2]).encode())
    assert _loaded_titles(landed) == GOOD_TITLES[:-1]
    [(position, reason, _)] = _rejects(landed)
    assert position == len(ENTRIES)
    assert "cut off" in str(reason)


@pytest.mark.parametrize("title", ["???", "— … —", "* * *"])
def test_title_of_punctuation_only(land, title: str) -> None:
    entries = list(ENTRIES)
    entries[2] = (title, ENTRIES[2][1], ENTRIES[2][2])
    landed = land("punct.txt", dump_text(blocks(entries=entries)).encode())
    assert _loaded_titles(landed) == GOOD_TITLES[:2] + GOOD_TITLES[3:]
    [(position, reason, _)] = _rejects(landed)
    assert position == 3
    assert "empty title" in str(reason)
    # The entries after it keep their own metadata: nothing shifted.
    assert landed.rows(
        "SELECT position, authors_count FROM raw.listings WHERE file_sha256 = ? AND position > 3 "
        "ORDER BY position",
        [landed.bad_sha],
    ) == [(4, None), (5, 12)]


def test_every_entry_rejected_quarantines_the_file(land) -> None:
    lines = [*blocks(entries=[]), "", "A Lonely Title"]
    landed = land("lonely.txt", "\n".join(lines).encode())
    error = assert_quarantined(landed, "no readable entries", "cut off")
    assert error.startswith("no readable entries")
    positions = [p for p, _, _ in _rejects(landed)]
    assert positions == [None, 1]


def test_many_bad_files_at_once_do_not_stop_the_run(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    bad = {
        "a.txt": b"",
        "b.bin": _png(),
        "c.txt": "é".encode("latin-1") * 50,
        "d.csv": b"x,y\n1,2\n",
    }
    for name, data in bad.items():
        (landing / name).write_bytes(data)
    (landing / GOOD_NAME).write_bytes(GOOD)
    report = ingest_landing(
        landing, DuckDBFile(tmp_path / "w.duckdb"), tmp_path / "archive", today=TODAY
    )
    assert report.scanned == 5
    assert report.quarantined == 4
    assert report.listings == len(ENTRIES)
    assert {f.file_name for f in report.files if f.status == "quarantined"} == set(bad)
    assert all(f.error for f in report.files if f.status == "quarantined")
    archived = sorted(p.name for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert archived == sorted(hashlib.sha256(d).hexdigest() for d in [*bad.values(), GOOD])
