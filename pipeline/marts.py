"""The marts: views for downstream use and the append-only observation history."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.catalog import apply_comments
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import open_writer, transaction

MARTS_SQL = PROJECT_ROOT / "warehouse" / "sql" / "marts.sql"
MART_TABLES = (
    "marts.paper_history",
    "marts.trending",
    "marts.papers_with_repos",
    "marts.papers_by_organization",
    "marts.unresolved_papers",
    "marts.data_quality",
)


def build_marts(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)creates the views, appends new observations; returns observations added."""
    count_sql = "SELECT count(*) FROM marts.listing_observations"
    before = con.execute(count_sql).fetchall()[0][0]
    con.execute(MARTS_SQL.read_text(encoding="utf-8"))
    apply_comments(con)
    return con.execute(count_sql).fetchall()[0][0] - before


def load_marts(warehouse: Path) -> int:
    with open_writer(warehouse) as con, transaction(con):
        return build_marts(con)
