"""The real seed dumps in ../shared/seeds, read and loaded: the numbers DUMP_FORMAT.md
records for them, a few entries field by field, and a whole refresh into DuckDB."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.dumps.cleaning import clean_listings, entries_frame
from pipeline.dumps.entries import ParsedDump
from pipeline.dumps.read import read_raw_file
from pipeline.settings import Settings
from pipeline.steps import refresh

# A fixed "today" after every snapshot day, so that the inference does not depend on the
# machine's clock.
TODAY = date(2026, 11, 23)

# DUMP_FORMAT.md, "What the seeds hold":
# file -> (layout, entries, with date, with author count, with organization)
SEED_TABLE = {
    "000_fa950fc6bbecc914.txt": ("blocks_with_metadata", 44, 44, 42, 2),
    "001_29d32a19458ad256.txt": ("compact", 119, 0, 0, 0),
    "002_07ce5001ea40c23a.txt": ("blocks_with_metadata", 64, 63, 62, 1),
    "003_64c3dcc8a29e76bd.txt": ("blocks_with_metadata", 103, 102, 100, 2),
    "004_e4ecf9b2195ea1aa.txt": ("blocks_without_metadata", 68, 0, 0, 0),
}
ORG_TITLE = "Optimizing What Matters: AUC-Driven Learning for Robust Neural Retrieval"
SNAPSHOTS = {
    "000_fa950fc6bbecc914.txt": date(2026, 5, 15),
    "001_29d32a19458ad256.txt": None,
    "002_07ce5001ea40c23a.txt": date(2025, 11, 25),
    "003_64c3dcc8a29e76bd.txt": date(2025, 10, 28),
    "004_e4ecf9b2195ea1aa.txt": None,
}


def read_seed(path: Path, today: date = TODAY) -> tuple[ParsedDump, pl.DataFrame]:
    parsed = read_raw_file(path.read_bytes(), today=today)
    return parsed, clean_listings(entries_frame("0" * 64, parsed))


def entry(frame: pl.DataFrame, title: str) -> dict[str, object]:
    rows = frame.filter(pl.col("title") == title).to_dicts()
    assert len(rows) == 1, f"{title!r} found {len(rows)} times"
    return rows[0]


def test_the_seeds_are_the_documented_files(seeds_dir: Path) -> None:
    assert sorted(p.name for p in seeds_dir.iterdir()) == sorted(SEED_TABLE)


@pytest.mark.parametrize("name", sorted(SEED_TABLE))
def test_per_file_counts_and_layout(seeds_dir: Path, name: str) -> None:
    layout, entries, with_date, with_authors, with_org = SEED_TABLE[name]
    parsed, frame = read_seed(seeds_dir / name)
    assert parsed.layout == layout
    assert parsed.rejects == []
    assert frame.height == entries
    assert frame.get_column("position").to_list() == list(range(1, entries + 1))
    assert frame.get_column("published_text").is_not_null().sum() == with_date
    assert frame.get_column("published_date").is_not_null().sum() == with_date
    assert frame.get_column("authors_count").is_not_null().sum() == with_authors
    assert frame.get_column("organization").is_not_null().sum() == with_org
    assert frame.get_column("org_handle").is_not_null().sum() == with_org
    # An entry states an author count or an organization, never both.
    both = frame.filter(
        pl.col("authors_count").is_not_null() & pl.col("organization").is_not_null()
    )
    assert both.height == 0
    assert frame.get_column("title").null_count() == 0
    assert frame.get_column("abstract").null_count() == 0
    # No entry is page chrome or a date read as a title.
    titles = frame.get_column("title")
    assert not titles.str.contains(r"^(?:Subscribe|Daily Papers|new)$|Subscribe").any()
    assert not titles.str.contains(r"^[A-Z][a-z]{2} \d{1,2}(, \d{4})?( \d+)?$").any()
    # Abstracts are long; a title read as an abstract would not be.
    assert frame.get_column("abstract").str.len_chars().min() >= 100


def test_398_listings_in_all(seeds_dir: Path) -> None:
    assert sum(read_seed(p)[1].height for p in sorted(seeds_dir.iterdir())) == 398


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_snapshot_dates(seeds_dir: Path, name: str) -> None:
    parsed, _ = read_seed(seeds_dir / name)
    assert parsed.snapshot_date == SNAPSHOTS[name]
    if SNAPSHOTS[name] is None:
        assert parsed.snapshot_date_source.startswith("unknown:")
        assert len(parsed.snapshot_date_source) > len("unknown: ")
    else:
        assert parsed.snapshot_date_source.startswith("inferred")


def test_snapshot_of_000_is_unknown_before_the_day_it_was_viewed(seeds_dir: Path) -> None:
    """On 2026-05-14 the page of 000 (`May 15`, latest written year 2025) cannot have been
    viewed yet, and no other year is allowed: the year is unknown, not guessed."""
    parsed, frame = read_seed(seeds_dir / "000_fa950fc6bbecc914.txt", today=date(2026, 5, 14))
    assert parsed.snapshot_date is None
    assert "future" in parsed.snapshot_date_source
    year_less = frame.filter(~pl.col("published_text").str.contains(r"\d{4}$"))
    assert year_less.height > 0
    assert year_less.get_column("published_date").null_count() == year_less.height


def test_organization_entry_of_000(seeds_dir: Path) -> None:
    _, frame = read_seed(seeds_dir / "000_fa950fc6bbecc914.txt")
    row = entry(frame, ORG_TITLE)
    assert row["org_handle"] == "ServiceNow-AI"
    assert row["organization"] == "ServiceNow-AI"
    assert row["authors_count"] is None
    assert row["published_text"] == "Sep 30, 2025"
    assert row["published_date"] == date(2025, 9, 30)
    assert row["comments"] == 2
    assert str(row["abstract"]).startswith("Dual-encoder retrievers depend on the principle")
    orgs = frame.filter(pl.col("org_handle").is_not_null()).get_column("org_handle").to_list()
    assert "ServiceNow-AI" in orgs


def test_org_handle_and_name_differ_in_003(seeds_dir: Path) -> None:
    _, frame = read_seed(seeds_dir / "003_64c3dcc8a29e76bd.txt")
    google = frame.filter(pl.col("org_handle") == "google").to_dicts()
    assert [(r["organization"], r["published_text"], r["comments"]) for r in google] == [
        ("Google", "Oct 21", 2)
    ]
    # Year-less: the year the page was viewed (2025-10-28).
    assert google[0]["published_date"] == date(2025, 10, 21)


def test_year_less_date_with_comment_count_in_002(seeds_dir: Path) -> None:
    _, frame = read_seed(seeds_dir / "002_07ce5001ea40c23a.txt")
    row = entry(frame, "EvoSyn: Generalizable Evolutionary Data Synthesis for Verifiable Learning")
    assert row["published_text"] == "Oct 20"
    assert row["published_date"] == date(2025, 10, 20)
    assert row["comments"] == 2
    assert row["authors_count"] == 6
    assert row["organization"] is None


def test_entry_without_metadata_in_002(seeds_dir: Path) -> None:
    _, frame = read_seed(seeds_dir / "002_07ce5001ea40c23a.txt")
    row = entry(frame, "Hunyuan-MT Technical Report")
    assert str(row["abstract"]).startswith("In this report, we introduce Hunyuan-MT-7B")
    for column in (
        "authors_count",
        "org_handle",
        "organization",
        "published_text",
        "published_date",
        "comments",
        "upvotes",
        "arxiv_id",
    ):
        assert row[column] is None, column
    # Its neighbours keep their own metadata: nothing shifted.
    position = int(row["position"])  # type: ignore[call-overload]
    before, after = (
        frame.filter(pl.col("position") == position + d).to_dicts()[0] for d in (-1, 1)
    )
    assert before["published_date"] == date(2024, 3, 11)
    assert after["title"].startswith("EvoSyn")


def test_glued_subscribe_title_in_001(seeds_dir: Path) -> None:
    _, frame = read_seed(seeds_dir / "001_29d32a19458ad256.txt")
    first = frame.row(0, named=True)
    assert first["position"] == 1
    assert first["title"] == "Bootstrapping Autonomous Driving Radars with Self-Supervised Learning"
    assert str(first["abstract"]).startswith("The perception of autonomous vehicles using radars")
    assert not frame.get_column("title").str.contains("Subscribe").any()
    assert frame.row(1, named=True)["title"] == (
        "Weakly Supervised Face Naming with Symmetry-Enhanced Contrastive Loss"
    )


def test_no_break_space_and_non_ascii_survive_cleaning(seeds_dir: Path) -> None:
    frames = [read_seed(p)[1] for p in sorted(seeds_dir.iterdir())]
    text = pl.concat(frames).select(pl.concat_str("title", "abstract", separator=" "))
    joined = "\n".join(text.to_series().to_list())
    assert "\u00a0" not in joined  # collapsed into a plain space
    assert "  " not in joined
    assert "Ü" in joined  # other non-ASCII characters are kept as they are


@pytest.fixture
def refreshed(seeds_dir: Path, tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(seeds_dir, landing)
    for path in landing.iterdir():
        path.chmod(0o644)
    settings = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": str(tmp_path / "papers.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(tmp_path / "archive"),
            "PAPERS_OFFLINE": "1",
        }
    )
    report = refresh(settings, today=TODAY)
    assert report.ingest.quarantined == 0
    assert report.ingest.listings == 398
    return settings.warehouse_path


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> list[tuple[object, ...]]:
    return con.execute(sql, params or []).fetchall()


def test_refresh_of_the_seeds(refreshed: Path) -> None:
    with duckdb.connect(str(refreshed), read_only=True) as con:
        assert _rows(con, "SELECT count(*) FROM raw.listings") == [(398,)]
        assert _rows(con, "SELECT count(*) FROM core.papers") == [(367,)]
        assert _rows(con, "SELECT count(*) FROM core.paper_repos") == [(72,)]
        assert _rows(con, "SELECT count(*) FROM raw.rejects") == [(0,)]
        # Every listing is in the lineage exactly once, and nothing else is.
        assert _rows(
            con,
            """
            SELECT count(*) FROM raw.listings l
            FULL JOIN (
                SELECT file_sha256, position, count(*) AS n
                FROM core.paper_listings GROUP BY ALL
            ) p USING (file_sha256, position)
            WHERE p.n IS DISTINCT FROM 1 OR l.title IS NULL
            """,
        ) == [(0,)]
        assert _rows(con, "SELECT count(*) FROM core.paper_listings") == [(398,)]
        # 27 papers are listed more than once; the 398 listings make 367 papers.
        assert _rows(con, "SELECT count(*) FROM core.papers WHERE listing_count > 1") == [(27,)]
        assert _rows(con, "SELECT sum(listing_count) FROM core.papers") == [(398,)]


def test_refresh_column_types(refreshed: Path) -> None:
    with duckdb.connect(str(refreshed), read_only=True) as con:
        types = dict(
            _rows(
                con,
                """
                SELECT table_schema || '.' || table_name || '.' || column_name, data_type
                FROM information_schema.columns
                """,
            )
        )
    for column, expected in {
        "raw.listings.authors_count": "INTEGER",
        "raw.listings.comments": "INTEGER",
        "raw.listings.position": "INTEGER",
        "raw.listings.published_date": "DATE",
        "raw.dump_files.snapshot_date": "DATE",
        "core.papers.authors_count": "INTEGER",
        "core.papers.comments": "INTEGER",
        "core.papers.published_date": "DATE",
    }.items():
        assert types[column] == expected, column


def test_refresh_dump_files_rows(refreshed: Path) -> None:
    with duckdb.connect(str(refreshed), read_only=True) as con:
        rows = _rows(
            con,
            """
            SELECT file_name, layout, snapshot_date, snapshot_date_source, status, error,
                   listing_count
            FROM raw.dump_files ORDER BY file_name
            """,
        )
        per_file = _rows(
            con,
            """
            SELECT f.file_name, count(l.published_date), count(l.authors_count),
                   count(l.organization), count(l.comments)
            FROM raw.dump_files f LEFT JOIN raw.listings l USING (file_sha256)
            GROUP BY ALL ORDER BY 1
            """,
        )
    assert [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in rows] == [
        (name, layout, SNAPSHOTS[name], "loaded", None, entries)
        for name, (layout, entries, *_) in sorted(SEED_TABLE.items())
    ]
    for name, _, _, source, *_ in rows:
        assert source.startswith("unknown" if SNAPSHOTS[name] is None else "inferred"), name
    assert [r[:4] for r in per_file] == [
        (name, with_date, with_authors, with_org)
        for name, (_, _, with_date, with_authors, with_org) in sorted(SEED_TABLE.items())
    ]


def test_refresh_keeps_the_field_checked_entries(refreshed: Path) -> None:
    with duckdb.connect(str(refreshed), read_only=True) as con:
        rows = _rows(
            con,
            """
            SELECT title, org_handle, published_date, comments, authors_count
            FROM core.papers
            WHERE title IN (?, ?)
            ORDER BY title
            """,
            [ORG_TITLE, "Hunyuan-MT Technical Report"],
        )
    assert rows == [
        ("Hunyuan-MT Technical Report", None, None, None, None),
        (
            ORG_TITLE,
            "ServiceNow-AI",
            date(2025, 9, 30),
            2,
            None,
        ),
    ]


@pytest.mark.parametrize("name", ["000_fa950fc6bbecc914.txt", "004_e4ecf9b2195ea1aa.txt"])
def test_seed_without_its_page_header_still_reads(seeds_dir: Path, name: str) -> None:
    """Only the list copied: the same entries, but no page date, so no snapshot day."""
    _, full = read_seed(seeds_dir / name)
    text = (seeds_dir / name).read_text(encoding="utf-8")
    first_title = full.get_column("title")[0]
    body = text[text.index(first_title) :]
    parsed, frame = read_seed_text(body)
    assert parsed.snapshot_date is None
    columns = ["position", "title", "abstract", "authors_count", "organization", "comments"]
    assert frame.select(columns).equals(full.select(columns))


def read_seed_text(text: str) -> tuple[ParsedDump, pl.DataFrame]:
    parsed = read_raw_file(text.encode("utf-8"), today=TODAY)
    return parsed, clean_listings(entries_frame("0" * 64, parsed))
