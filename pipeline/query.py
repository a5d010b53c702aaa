"""Query the warehouse from the command line, read-only, without a DuckDB install.

python -m pipeline.query                      # table counts and where the file is
python -m pipeline.query "SELECT ..."         # any SQL
python -m pipeline.query warehouse/queries/newest_papers_with_code.sql
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from pipeline.db.connection import Warehouse, table_counts
from pipeline.db.schema import PUBLIC_TABLES
from pipeline.settings import Settings


def _sql(argument: str) -> str:
    path = Path(argument)
    if path.suffix == ".sql" and path.is_file():
        return path.read_text(encoding="utf-8")
    return argument


def summary(warehouse: Warehouse) -> str:
    with warehouse.connect(read_only=True) as con:
        counts = table_counts(con, PUBLIC_TABLES)
    lines = [f"warehouse: {warehouse.path}"]
    lines += [f"  {table:<28} {count:>9,} rows" for table, count in counts.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    readable = [p for p in (settings.read_copy_path, settings.warehouse_path) if p.exists()]
    if not readable:
        print(f"no warehouse at {settings.warehouse_path}: run refresh first", file=sys.stderr)
        return 1
    warehouse = Warehouse(readable[0], settings.duckdb_memory_limit)
    if not argv:
        print(summary(warehouse))
        return 0
    with warehouse.connect(read_only=True) as con:
        frame = con.sql(_sql(argv[0])).pl()
    with pl.Config(tbl_rows=50, fmt_str_lengths=60, tbl_width_chars=160):
        print(frame)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
