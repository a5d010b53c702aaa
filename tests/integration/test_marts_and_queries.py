"""The read side on the bundled sample warehouse: marts, history, documented queries,
comments, and readers during a refresh."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.db.schema import Step, tables_of
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.steps import (
    build_link_tables,
    build_mart_tables,
    build_paper_tables,
    judge_paper_code,
    publish_for_readers,
    refresh,
    resolve_arxiv,
)

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"
QUERIES = PROJECT_ROOT / "warehouse" / "queries"
MART_VIEWS = tuple(t.name for t in tables_of(Step.MARTS) if t.view)


def _settings(root: Path) -> Settings:
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(root / "landing"),
            "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
            "PAPERS_OFFLINE": "1",
        }
    )


def _build(root: Path, files: list[Path]) -> Settings:
    landing = root / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, landing / path.name)
    settings = _settings(root)
    refresh(settings)
    resolve_arxiv(settings)  # offline: every cluster pending
    build_paper_tables(settings)
    build_link_tables(settings)
    judge_paper_code(settings)
    build_mart_tables(settings)
    return settings


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    settings = _build(tmp_path_factory.mktemp("sample"), sorted(SAMPLES.iterdir()))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield con


def _query(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, object]]:
    cursor = con.execute((QUERIES / name).read_text())
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_every_documented_query_is_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    for path in QUERIES.glob("*.sql"):
        assert f"warehouse/queries/{path.name}" in readme


def test_newest_papers_with_code(sample: duckdb.DuckDBPyConnection) -> None:
    rows = _query(sample, "newest_papers_with_code.sql")
    assert rows[0]["title"] == "Token Budgets for Reasoning Models"
    assert rows[0]["repos"] == ["meridian-ai/token-budgets"]
    dates = [r["published_date"] for r in rows if r["published_date"] is not None]
    assert dates == sorted(dates, reverse=True)
    assert all(r["repos"] for r in rows)


def test_most_upvoted_this_month(sample: duckdb.DuckDBPyConnection) -> None:
    rows = _query(sample, "most_upvoted_this_month.sql")
    assert [(r["title"], r["upvotes"]) for r in rows] == [
        ("Token Budgets for Reasoning Models", 88),
        ("Sparse Late Interaction for Multilingual Passage Retrieval", 41),
        ("Benchmarking Retrieval Under Index Staleness", 12),
    ]


def test_papers_in_several_dumps(sample: duckdb.DuckDBPyConnection) -> None:
    rows = {r["title"]: r for r in _query(sample, "papers_in_several_dumps.sql")}
    sparse = rows["Sparse Late Interaction for Multilingual Passage Retrieval"]
    assert sparse["dumps"] == 3
    assert set(rows) == {
        "Sparse Late Interaction for Multilingual Passage Retrieval",
        "Pre-training Dense Retrievers with Synthetic Queries",
        "Query Rewriting Agents for Conversational Search",
    }


def test_repos_shared_by_several_papers(sample: duckdb.DuckDBPyConnection) -> None:
    rows = _query(sample, "repos_shared_by_several_papers.sql")
    assert [(r["repo"], r["papers"]) for r in rows] == [("dexhand-lab/diffusion-policies", 2)]


def test_rejected_and_why(sample: duckdb.DuckDBPyConnection) -> None:
    rows = _query(sample, "rejected_and_why.sql")
    by_file = {r["file_name"]: r for r in rows}
    assert by_file["meeting_notes.txt"]["position"] is None
    assert by_file["meeting_notes.txt"]["status"] == "quarantined"
    assert "not a listing dump" in by_file["meeting_notes.txt"]["reason"]
    assert by_file["cut_off_download.txt"]["position"] == 2
    assert by_file["cut_off_download.txt"]["reason"].startswith("cut off")


# Star history needs GitHub's answers, which the offline sample has none of: tested with
# a fake GitHub in test_paper_code.py.
NEEDS_GITHUB = {"marts.repo_trending"}


def test_marts_answer_and_are_described(sample: duckdb.DuckDBPyConnection) -> None:
    for table in set(MART_VIEWS) - NEEDS_GITHUB:
        assert sample.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] > 0, table
    described = sample.execute(
        """SELECT view_name FROM duckdb_views()
           WHERE schema_name = 'marts' AND comment IS NOT NULL"""
    ).fetchall()
    assert {f"marts.{v[0]}" for v in described} >= set(MART_VIEWS)
    undocumented = sample.execute(
        """SELECT table_name, column_name FROM duckdb_columns()
           WHERE schema_name = 'marts' AND table_name = 'paper_history' AND comment IS NULL"""
    ).fetchall()
    assert undocumented == []


def test_organizations_and_quality_counts(sample: duckdb.DuckDBPyConnection) -> None:
    orgs = dict(
        sample.execute("SELECT org_handle, papers FROM marts.papers_by_organization").fetchall()
    )
    assert orgs == {"meridian-ai": 2}
    quality = {
        (m, d): n for m, d, n in sample.execute("SELECT * FROM marts.data_quality").fetchall()
    }
    assert quality[("files_by_status", "quarantined")] == 1
    assert quality[("rejects_by_reason", "cut off")] == 1
    assert (
        quality[("unresolved_papers", "pending")]
        == sample.execute("SELECT count(*) FROM core.papers WHERE arxiv_id IS NULL").fetchall()[0][
            0
        ]
    )


def test_history_keeps_every_observation_across_runs(tmp_path: Path) -> None:
    text = SAMPLES / "search_retrieval_2026-03.txt"
    settings = _build(tmp_path, [text])
    sql = """SELECT h.observed_on, h.upvotes, h.comments FROM marts.paper_history h
             JOIN core.papers p USING (paper_id)
             WHERE p.title = 'Sparse Late Interaction for Multilingual Passage Retrieval'
             ORDER BY 1"""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        first = con.execute(sql).fetchall()
    assert first == [(date(2026, 3, 2), None, 3)]
    _build(tmp_path, [SAMPLES / "hf_daily_2026-03-03_p0.json", *SAMPLES.glob("*.fetch.json")])
    build_mart_tables(settings)  # a further run adds nothing twice
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        history = con.execute(sql).fetchall()
        observations = con.execute("SELECT count(*) FROM marts.listing_observations").fetchall()
        listings = con.execute("SELECT count(*) FROM raw.listings").fetchall()
    # the day 2026-03-03 as fetched on 2026-03-04: observed when it was fetched
    assert history == [(date(2026, 3, 2), None, 3), (date(2026, 3, 4), 41, 3)]
    assert observations == listings


def _slow_landing(root: Path, copies: int) -> None:
    """Enough distinct dumps that a refresh takes a few seconds."""
    landing = root / "landing"
    landing.mkdir(parents=True)
    template = (SAMPLES / "search_retrieval_2026-03.txt").read_text()
    for n in range(copies):
        (landing / f"copy_{n}.txt").write_text(
            template.replace("Sparse Late Interaction", f"Sparse Late Interaction {n}")
        )


@pytest.mark.slow
def test_a_reader_of_the_read_copy_is_never_locked_out(tmp_path: Path) -> None:
    settings = _build(tmp_path, [SAMPLES / "search_retrieval_2026-03.txt"])
    publish_for_readers(settings)
    shutil.rmtree(tmp_path / "landing")
    _slow_landing(tmp_path, 400)
    env = {
        "PAPERS_LANDING_DIR": str(tmp_path / "landing"),
        "PAPERS_WAREHOUSE": str(settings.warehouse_path),
        "PAPERS_OFFLINE": "1",
        "PATH": str(Path(sys.executable).parent),
    }
    script = (
        "from pipeline.steps import refresh, publish_for_readers; "
        "from pipeline.settings import Settings; s = Settings.from_env(); "
        "refresh(s); publish_for_readers(s)"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env)
    reads = 0
    try:
        while writer.poll() is None:
            with duckdb.connect(str(settings.read_copy_path), read_only=True) as con:
                assert con.execute("SELECT count(*) FROM core.papers").fetchall()[0][0] >= 6
            reads += 1
            time.sleep(0.05)
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert reads >= 3, "the refresh ended before the reader could try during it"
    with duckdb.connect(str(settings.read_copy_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.dump_files").fetchall()[0][0] == 401
