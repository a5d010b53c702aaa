"""Variations of a plain-text listing dump that real dumps show (DUMP_FORMAT.md, "Not seen
in the seeds, but expected"). Each variation is built from one small clean template, and
the entries read from it must be those of the template: what `raw.listings` would hold.
"""

from __future__ import annotations

import codecs
import unicodedata
from datetime import date

import pytest

from pipeline.dumps.cleaning import clean_listings, entries_frame
from pipeline.dumps.entries import ParsedDump
from pipeline.dumps.read import read_raw_file

TODAY = date(2026, 7, 1)

HEADER = [
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
]
PAGE_DATE = "Jun 3"

# (title, abstract, metadata lines or None). Our own words, shaped like the seeds.
ENTRIES: list[tuple[str, str, list[str] | None]] = [
    (
        "Lantern Tokens: Routing Attention Through Learned Beacons",
        "We study how a transformer can route its attention through a handful of learned "
        "beacon tokens, and show that eight beacons recover most of the accuracy of full "
        "attention on long-document question answering while using a fifth of the memory.",
        ["  • 7 authors", "·", "Feb 11, 2025"],
    ),
    (
        "Tidal Memory for Streaming Video Agents",
        "Streaming video agents forget what they saw minutes ago. We propose a tidal memory "
        "that alternates between writing dense clip summaries and pruning them by relevance "
        "to the current goal. Code: https://github.com/example-org/tidal-memory.",
        ["acme-lab Acme Research Lab", "·", "Nov 2, 2025 4"],
    ),
    (
        "Quiet Gradients Under Label Noise",
        "Label noise inflates gradient norms late in training. We damp per-example gradients "
        "by their disagreement with an exponential moving average of past predictions and "
        "report gains of 2 to 5 points on four noisy benchmarks (noise ≤ 0.4, after Müller).",
        ["  • 1 authors", "·", "May 28 3"],
    ),
    (
        "Counting Pebbles With Language Models",
        "Can language models count? We build a benchmark of ten thousand pebble-counting "
        "puzzles described in prose and find that accuracy collapses beyond twenty objects "
        "unless the model is allowed to write intermediate tallies.",
        None,
    ),
    (
        "Orchard: A Benchmark for Multi-Step Tool Use",
        "Orchard contains 1,200 tasks that require chaining three to nine tool calls, with "
        "verifiable end states. Frontier agents solve fewer than half of the tasks, and most "
        "failures come from losing track of intermediate results.",
        ["  • 12 authors", "·", "Apr 9"],
    ),
]

# What a correct reading of the template gives, field by field (TODAY = 2026-07-01:
# the explicit years go up to 2025, so the page `Jun 3` was viewed on 2026-06-03).
EXPECTED_META = [
    {
        "authors_count": 7,
        "org_handle": None,
        "organization": None,
        "published_text": "Feb 11, 2025",
        "published_date": date(2025, 2, 11),
        "comments": None,
    },
    {
        "authors_count": None,
        "org_handle": "acme-lab",
        "organization": "Acme Research Lab",
        "published_text": "Nov 2, 2025",
        "published_date": date(2025, 11, 2),
        "comments": 4,
    },
    {
        "authors_count": 1,
        "org_handle": None,
        "organization": None,
        "published_text": "May 28",
        "published_date": date(2026, 5, 28),
        "comments": 3,
    },
    {
        "authors_count": None,
        "org_handle": None,
        "organization": None,
        "published_text": None,
        "published_date": None,
        "comments": None,
    },
    {
        "authors_count": 12,
        "org_handle": None,
        "organization": None,
        "published_text": "Apr 9",
        "published_date": date(2026, 4, 9),
        "comments": None,
    },
]
COMPARED = (
    "position",
    "title",
    "abstract",
    "authors_count",
    "org_handle",
    "organization",
    "published_text",
    "published_date",
    "comments",
    "title_key",
)


def blocks(
    header: list[str] | None = None,
    entries: list[tuple[str, str, list[str] | None]] | None = None,
    page_date: str | None = PAGE_DATE,
) -> list[str]:
    """The template's lines, one block per list item, blocks separated by a blank line."""
    items = [[line] for line in (HEADER if header is None else header)]
    if page_date is not None:
        items.append([page_date])
    for title, abstract, meta in ENTRIES if entries is None else entries:
        items += [[title], [abstract]]
        if meta is not None:
            items.append(meta)
    return [line for i, block in enumerate(items) for line in ([""] if i else []) + block]


def dump_text(lines: list[str] | None = None, newline: str = "\n") -> str:
    return newline.join(blocks() if lines is None else lines) + newline


def read(data: str | bytes, today: date = TODAY) -> tuple[ParsedDump, list[dict[str, object]]]:
    """The file as read and as cleaned for `raw.listings`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    parsed = read_raw_file(raw, today=today)
    rows = clean_listings(entries_frame("f" * 64, parsed)).select(COMPARED).to_dicts()
    return parsed, rows


@pytest.fixture(scope="module")
def template() -> tuple[ParsedDump, list[dict[str, object]]]:
    return read(dump_text())


def assert_same_as_template(
    data: str | bytes, template: tuple[ParsedDump, list[dict[str, object]]]
) -> ParsedDump:
    parsed, rows = read(data)
    expected_parsed, expected_rows = template
    assert rows == expected_rows
    assert parsed.layout == expected_parsed.layout
    assert parsed.snapshot_date == expected_parsed.snapshot_date
    assert parsed.rejects == []
    return parsed


def test_clean_template_reads_field_by_field(template) -> None:
    parsed, rows = template
    assert parsed.layout == "blocks_with_metadata"
    assert parsed.snapshot_date == date(2026, 6, 3)
    assert parsed.snapshot_date_source.startswith("inferred")
    assert parsed.rejects == []
    assert [r["position"] for r in rows] == [1, 2, 3, 4, 5]
    assert [(r["title"], r["abstract"]) for r in rows] == [(t, a) for t, a, _ in ENTRIES]
    for row, expected in zip(rows, EXPECTED_META, strict=True):
        assert {k: row[k] for k in expected} == expected, row["title"]


def test_windows_line_endings(template) -> None:
    assert_same_as_template(dump_text(newline="\r\n"), template)


def test_old_mac_carriage_returns(template) -> None:
    assert_same_as_template(dump_text(newline="\r"), template)


def test_utf8_byte_order_mark(template) -> None:
    assert_same_as_template(codecs.BOM_UTF8 + dump_text().encode("utf-8"), template)


def test_utf8_byte_order_mark_with_windows_line_endings(template) -> None:
    data = codecs.BOM_UTF8 + dump_text(newline="\r\n").encode("utf-8")
    assert_same_as_template(data, template)


def test_no_break_spaces_in_title_abstract_and_metadata(template) -> None:
    nbsp = "\u00a0"
    lines = blocks()
    swapped = {
        ENTRIES[1][0]: f"Tidal{nbsp}Memory for Streaming{nbsp}Video Agents",
        "acme-lab Acme Research Lab": f"acme-lab{nbsp}Acme{nbsp}Research Lab",
        "Nov 2, 2025 4": f"Nov{nbsp}2,{nbsp}2025{nbsp}4",
        "  • 7 authors": f"{nbsp}{nbsp}•{nbsp}7{nbsp}authors",
        "May 28 3": f"May{nbsp}28 3",
        PAGE_DATE: PAGE_DATE.replace(" ", nbsp),
    }
    lines = [swapped.get(line, line) for line in lines]
    abstract = ENTRIES[0][1]
    lines[lines.index(abstract)] = abstract.replace("learned ", f"learned{nbsp}", 1) + nbsp
    assert any(nbsp in line for line in lines)
    assert_same_as_template(dump_text(lines), template)


def test_decomposed_unicode_is_stored_composed(template) -> None:
    """Text copied from a PDF or a Mac often comes decomposed (NFD): it is stored NFC, and
    the entries around it, plain ASCII, are untouched and keep their order."""
    lines = blocks()
    title = ENTRIES[2][0]
    lines[lines.index(title)] = unicodedata.normalize("NFD", "Café " + title)
    _, rows = read(dump_text(lines))
    _, expected_rows = template
    assert rows[2]["title"] == unicodedata.normalize("NFC", "Café " + title)
    assert rows[2]["title"] != unicodedata.normalize("NFD", rows[2]["title"])
    assert [r["title"] for i, r in enumerate(rows) if i != 2] == [
        r["title"] for i, r in enumerate(expected_rows) if i != 2
    ]
    assert rows[2]["title_key"] == "cafe" + expected_rows[2]["title_key"]


def test_trailing_and_leading_blanks_on_lines(template) -> None:
    lines = [f"{line} \t " if line else "   " for line in blocks()]
    lines = [f" {line}" if line.startswith("·") else line for line in lines]
    assert_same_as_template(dump_text(lines), template)


def test_several_blank_lines_in_a_row(template) -> None:
    lines = [x for line in blocks() for x in ([line, "", ""] if not line else [line])]
    assert "\n\n\n\n" in dump_text(lines)
    assert_same_as_template("\n\n\n" + dump_text(lines) + "\n\n\n", template)


def test_missing_final_newline(template) -> None:
    text = dump_text().rstrip("\n")
    assert not text.endswith("\n")
    assert_same_as_template(text, template)


@pytest.mark.parametrize(
    "header",
    [
        HEADER[1:],  # no `new` line
        [
            "new",
            "Get trending papers in your email inbox!",
            "Subscribe",
            "Daily papers",
            *HEADER[4:],
        ],
        ["Get trending papers in your email inbox once a day!", *HEADER[2:]],
        ["NEW", "Get trending papers in your email inbox", "Subscribe", "Daily Papers"],
    ],
    ids=["no-new-line", "daily-papers-lower-case", "once-a-day", "no-byline"],
)
def test_header_boilerplate_that_differs_a_little(header: list[str], template) -> None:
    assert_same_as_template(dump_text(blocks(header=header)), template)


def test_compact_layout(template) -> None:
    head = ["Get trending papers in your email inbox once a day!", HEADER[1]]
    lines = [*head, "Subscribe" + ENTRIES[0][0], ENTRIES[0][1]]
    for title, abstract, _ in ENTRIES[1:]:
        lines += [title, abstract]
    parsed, rows = read(dump_text(lines))
    _, expected = template
    assert parsed.layout == "compact"
    assert parsed.rejects == []
    assert rows[0]["title"] == ENTRIES[0][0]  # the glued `Subscribe` is not in the title
    assert [(r["title"], r["abstract"]) for r in rows] == [
        (r["title"], r["abstract"]) for r in expected
    ]
    assert all(r["published_text"] is None and r["authors_count"] is None for r in rows)
    assert parsed.snapshot_date is None


def test_blocks_without_metadata(template) -> None:
    bare = [(title, abstract, None) for title, abstract, _ in ENTRIES]
    parsed, rows = read(dump_text(blocks(entries=bare)))
    _, expected = template
    assert parsed.layout == "blocks_without_metadata"
    assert [(r["title"], r["abstract"]) for r in rows] == [
        (r["title"], r["abstract"]) for r in expected
    ]
    for row in rows:
        assert row["authors_count"] is row["organization"] is row["published_date"] is None
    # A page date but no year anywhere: the snapshot day cannot be known.
    assert parsed.snapshot_date is None
    assert parsed.snapshot_date_source.startswith("unknown")


def test_entry_without_metadata_between_entries_with_metadata(template) -> None:
    _, rows = template
    no_meta = rows[3]
    assert no_meta["title"] == "Counting Pebbles With Language Models"
    assert no_meta["abstract"] == ENTRIES[3][1]
    assert all(no_meta[k] is None for k in EXPECTED_META[3])
    # The next entry is not shifted by the missing block.
    assert rows[4]["title"] == ENTRIES[4][0] and rows[4]["authors_count"] == 12


def test_organization_entry(template) -> None:
    _, rows = template
    org = rows[1]
    assert (org["org_handle"], org["organization"]) == ("acme-lab", "Acme Research Lab")
    assert org["authors_count"] is None
    assert (org["published_date"], org["comments"]) == (date(2025, 11, 2), 4)


def test_organization_with_a_one_word_name(template) -> None:
    entries = list(ENTRIES)
    entries[1] = (ENTRIES[1][0], ENTRIES[1][1], ["tinylab Tinylab", "·", "Nov 2, 2025 4"])
    _, rows = read(dump_text(blocks(entries=entries)))
    assert (rows[1]["org_handle"], rows[1]["organization"]) == ("tinylab", "Tinylab")
    assert rows[1]["abstract"] == ENTRIES[1][1]


def test_one_authors(template) -> None:
    _, rows = template
    assert rows[2]["authors_count"] == 1
    assert rows[2]["title"] == "Quiet Gradients Under Label Noise"


def test_year_less_date_takes_the_inferred_year() -> None:
    """Move the latest written year on by one: the page, and so every year-less date,
    moves with it."""
    entries = list(ENTRIES)
    entries[1] = (
        ENTRIES[1][0],
        ENTRIES[1][1],
        ["acme-lab Acme Research Lab", "·", "Nov 2, 2026 4"],
    )
    parsed, rows = read(dump_text(blocks(entries=entries)), today=date(2027, 12, 31))
    assert parsed.snapshot_date == date(2027, 6, 3)
    assert rows[2]["published_text"] == "May 28"
    assert (rows[2]["published_date"], rows[2]["comments"]) == (date(2027, 5, 28), 3)
    assert rows[4]["published_date"] == date(2027, 4, 9)
    assert rows[1]["published_date"] == date(2026, 11, 2)


def test_date_in_the_future_makes_the_year_unknown() -> None:
    """Viewed `Jun 3` after a 2025 date: 2026-06-03 at the earliest, which is after
    `today`, so no year fits and year-less dates stay null (never guessed)."""
    parsed, rows = read(dump_text(), today=date(2026, 5, 1))
    assert parsed.snapshot_date is None
    assert "future" in parsed.snapshot_date_source
    assert rows[2]["published_text"] == "May 28"
    assert rows[2]["published_date"] is None
    assert rows[2]["comments"] == 3
    assert rows[4]["published_date"] is None
    # Dates that state their year are unaffected.
    assert rows[0]["published_date"] == date(2025, 2, 11)
    assert rows[1]["published_date"] == date(2025, 11, 2)


def test_no_page_date_line_means_unknown_snapshot() -> None:
    parsed, rows = read(dump_text(blocks(page_date=None)))
    assert parsed.snapshot_date is None
    assert parsed.snapshot_date_source.startswith("unknown")
    assert [r["title"] for r in rows] == [t for t, _, _ in ENTRIES]
    assert rows[2]["published_date"] is None


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_byte_order_mark(encoding: str, template) -> None:
    data = dump_text(newline="\r\n").encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    assert_same_as_template(data, template)


def test_all_variations_at_once(template) -> None:
    nbsp = "\u00a0"
    lines = [f"{line}  " for line in blocks(header=HEADER[1:])]
    lines = [line.replace("Nov 2, 2025 4", f"Nov{nbsp}2, 2025 4") for line in lines]
    lines = [x for line in lines for x in ([line, ""] if not line.strip() else [line])]
    text = "\r\n".join(lines)
    assert_same_as_template(codecs.BOM_UTF8 + text.encode("utf-8"), template)


def test_dump_without_page_header_is_still_read(template) -> None:
    """A copy of the list alone: its metadata blocks show it is a listing. With no page
    date the year-less dates stay null; everything else is as in the template."""
    parsed, rows = read(dump_text(blocks(header=[], page_date=None)))
    _, expected = template
    assert parsed.layout == "blocks_with_metadata"
    assert parsed.snapshot_date is None
    unchanged = [c for c in COMPARED if c != "published_date"]
    assert [{c: r[c] for c in unchanged} for r in rows] == [
        {c: r[c] for c in unchanged} for r in expected
    ]
    assert [r["published_date"] for r in rows] == [
        date(2025, 2, 11),
        date(2025, 11, 2),
        None,
        None,
        None,
    ]


def test_header_less_title_abstract_pairs_are_read() -> None:
    extra = (
        " All experiments were repeated with five seeds, and we report the mean together"
        " with its standard deviation."
    )
    bare = [(title, abstract + extra, None) for title, abstract, _ in ENTRIES]
    parsed, rows = read(dump_text(blocks(header=[], entries=bare, page_date=None)))
    assert parsed.layout == "blocks_without_metadata"
    assert [(r["title"], r["abstract"]) for r in rows] == [(t, a) for t, a, _ in bare]
