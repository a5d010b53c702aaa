"""The warehouse can be rebuilt from the raw archive alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.steps import refresh

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"
PAPERS = """SELECT paper_id, title, published_date, authors_count, organization, comments,
                   upvotes, arxiv_id, listing_count, first_seen
            FROM core.papers ORDER BY paper_id"""
FILES = "SELECT file_sha256, layout, snapshot_date, status FROM raw.dump_files ORDER BY 1"


def _settings(landing: Path, warehouse: Path, archive: Path) -> Settings:
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": str(warehouse),
            "PAPERS_RAW_ARCHIVE": str(archive),
            "PAPERS_OFFLINE": "1",
        }
    )


def _rows(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_archive_alone_rebuilds_the_same_warehouse(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    archive = tmp_path / "archive"
    original = tmp_path / "original.duckdb"
    refresh(_settings(landing, original, archive))
    shutil.rmtree(landing)  # the landing folder is gone; only the archive is left

    rebuilt = tmp_path / "rebuilt.duckdb"
    refresh(_settings(archive, rebuilt, tmp_path / "archive-of-rebuild"))

    assert _rows(rebuilt, PAPERS) == _rows(original, PAPERS)
    assert _rows(rebuilt, FILES) == _rows(original, FILES)
    upvoted = _rows(rebuilt, "SELECT count(*) FROM core.papers WHERE upvotes IS NOT NULL")
    assert upvoted[0][0] > 0  # the fetched JSON kept its sidecar, so its snapshot day
