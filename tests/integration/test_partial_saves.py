"""A file saved half-way and completed later (a download cut off, then finished under
the same name) is one file: the complete save's listings stand, the incomplete one is
recorded as superseded and archived, and no paper or observation counts twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.settings import Settings
from tests.builders import Listing, abstract, dump_text, every_step

LISTINGS = [
    Listing(f"Partial Saves of Page {n} Studied", abstract(f"page {n}"), 3, "Oct 3, 2024")
    for n in range(10)
]
COMPLETE = dump_text(LISTINGS).encode()
# Cut in the middle of the sixth entry's abstract, as an interrupted download leaves it.
PARTIAL = COMPLETE[: COMPLETE.index(b"page 5") + 3]


def _settings(root: Path, landing: Path) -> Settings:
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(root / "archive"),
            "PAPERS_OFFLINE": "1",
        }
    )


def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with settings.warehouse.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _counts(settings: Settings) -> dict[str, int]:
    tables = ("raw.listings", "core.papers", "core.paper_listings", "marts.listing_observations")
    return {t: int(_rows(settings, f"SELECT count(*) FROM {t}")[0][0]) for t in tables}


def test_a_completed_save_supersedes_its_incomplete_first_half(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "daily.txt").write_bytes(PARTIAL)
    settings = _settings(tmp_path, landing)
    every_step(settings)
    assert _counts(settings)["raw.listings"] == 6  # the cut-off sixth entry loaded too

    (landing / "daily.txt").write_bytes(COMPLETE)  # the download finished
    every_step(settings)
    expected = {
        "raw.listings": 10,
        "core.papers": 10,
        "core.paper_listings": 10,
        "marts.listing_observations": 10,
    }
    assert _counts(settings) == expected  # not 16 observations for 10 papers
    files = dict(_rows(settings, "SELECT status, count(*) FROM raw.dump_files GROUP BY 1"))
    assert files == {"loaded": 1, "superseded": 1}
    ((error, by, size),) = _rows(
        settings,
        "SELECT error, superseded_by, byte_size FROM raw.dump_files WHERE status = 'superseded'",
    )
    assert size == len(PARTIAL) and by in error and "an incomplete save" in error
    appearances = _rows(settings, "SELECT max(appearances) FROM marts.paper_history")
    assert appearances == [(1,)]
    archived = sorted(len(p.read_bytes()) for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert archived == [len(PARTIAL), len(COMPLETE)]  # nothing lost

    every_step(settings)  # a re-run changes nothing
    assert _counts(settings) == expected


def test_the_archive_rebuilds_the_same_whatever_order_the_saves_come_in(tmp_path: Path) -> None:
    first = tmp_path / "first"
    (first / "landing").mkdir(parents=True)
    (first / "landing" / "a.txt").write_bytes(PARTIAL)
    settings = _settings(first, first / "landing")
    every_step(settings)
    (first / "landing" / "a.txt").write_bytes(COMPLETE)
    every_step(settings)

    # The archive names files by hash, so a rebuild meets both saves in one intake.
    rebuilt = _settings(tmp_path / "rebuilt", first / "archive")
    (tmp_path / "rebuilt").mkdir()
    every_step(rebuilt)
    assert _counts(rebuilt) == _counts(settings)
    papers = "SELECT paper_id, title, listing_count FROM core.papers ORDER BY 1"
    assert _rows(rebuilt, papers) == _rows(settings, papers)
    shutil.rmtree(tmp_path / "rebuilt")
