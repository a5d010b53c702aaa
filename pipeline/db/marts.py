"""The marts: views for downstream use and the append-only observation history."""

from __future__ import annotations

from pathlib import Path

from pipeline.db.connection import Connection, scalar
from pipeline.db.schema import comment_sql

MARTS_SQL = Path(__file__).resolve().parents[2] / "warehouse" / "sql" / "marts.sql"


def build_marts(con: Connection, lake: bool = False) -> int:
    """Appends new observations, (re)creates the views and writes every table's and
    column's description (on a lake, views' columns have none); returns the
    observations added."""
    count_sql = "SELECT count(*) FROM marts.listing_observations"
    before = int(scalar(con, count_sql) or 0)
    con.execute(MARTS_SQL.read_text(encoding="utf-8"))
    con.execute(comment_sql(lake=lake))
    return int(scalar(con, count_sql) or 0) - before
