"""`python -m pipeline.query`, as a person runs it: help, tables, CSV and JSON, row
limits, and one clear line (and exit code 2) for what it cannot run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT, Settings
from tests.builders import every_step

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("query")
    shutil.copytree(SAMPLES, root / "landing")
    variables = {
        "PAPERS_LANDING_DIR": str(root / "landing"),
        "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
        "PAPERS_OFFLINE": "1",
    }
    every_step(Settings.from_env(variables))
    return os.environ | variables


def _query(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.query", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_and_the_table_summary(env: dict[str, str]) -> None:
    helped = _query(env, "--help")
    assert helped.returncode == 0 and "--csv" in helped.stdout and "--max-rows" in helped.stdout
    summary = _query(env)
    assert summary.returncode == 0
    assert "core.papers" in summary.stdout and "marts.trending" in summary.stdout


def test_csv_json_and_row_limits(env: dict[str, str]) -> None:
    sql = "SELECT paper_id, title FROM core.papers ORDER BY paper_id"
    as_csv = _query(env, "--csv", sql)
    assert as_csv.returncode == 0
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "paper_id,title" and len(lines) == 15
    as_json = _query(env, "--json", "--max-rows", "3", sql)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"paper_id", "title"}
    assert "11 more rows" in as_json.stderr


def test_text_is_not_cut_short(env: dict[str, str]) -> None:
    shown = _query(env, "SELECT max_by(title, length(title)) AS t FROM core.papers")
    longest = _query(env, "--csv", "SELECT max_by(title, length(title)) AS t FROM core.papers")
    title = longest.stdout.splitlines()[1].strip('"')
    assert len(title) > 60 and title in shown.stdout


def test_a_query_file_runs_and_a_missing_one_is_an_error(env: dict[str, str]) -> None:
    ran = _query(env, "warehouse/queries/rejected_and_why.sql")
    assert ran.returncode == 0 and "cut off" in ran.stdout
    missing = _query(env, "warehouse/queries/no_such_query.sql")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no query file warehouse/queries/no_such_query.sql"


def test_bad_sql_is_one_line_and_exit_code_2(env: dict[str, str]) -> None:
    bad = _query(env, "SELEC nothing FROM nowhere")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: Parser Error") and len(bad.stderr.splitlines()) == 1
    extra = _query(env, "SELECT 1", "SELECT 2")
    assert extra.returncode == 2 and "unrecognized arguments" in extra.stderr


def test_no_warehouse_yet_says_so(tmp_path: Path) -> None:
    env = os.environ | {"PAPERS_WAREHOUSE": str(tmp_path / "none.duckdb")}
    missing = _query(env)
    assert missing.returncode == 1 and "run refresh first" in missing.stderr
