"""Order-free fingerprints of every warehouse table, to show that a change of code leaves
every row as it was.

Columns that record when something ran (load and check times, the archive's temporary
path) are left out, and the day the rows were built stands as `TODAY`, so a fingerprint
taken on another day of the same input compares equal.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from pipeline.db.connection import DuckDBFile, Warehouse

VOLATILE_COLUMNS = frozenset({"ingested_at", "recorded_at", "checked_at", "archive_path"})
# `raw.file_names.first_seen` is the time a name was first seen, and a landing file's
# modification time is when it was written: volatile too.
VOLATILE = {("raw", "file_names", "first_seen"), ("internal", "landing_hashes", "mtime_ns")}


def _value(value: object, today: date) -> object:
    return "TODAY" if value == today else value


def fingerprint(
    warehouse: Warehouse | Path, today: date | None = None, skip: frozenset[str] = frozenset()
) -> dict[str, dict[str, object]]:
    """`schema.table` -> {rows, sha256} for every table and view of the warehouse (a
    DuckDB file's path, or any backend), less the `schema.table.column`s in `skip`."""
    today = today or date.today()
    out: dict[str, dict[str, object]] = {}
    if isinstance(warehouse, Path):
        warehouse = DuckDBFile(warehouse)
    with warehouse.connect(read_only=True) as con:
        columns = con.execute(
            """SELECT schema_name, table_name, column_name FROM duckdb_columns()
               WHERE database_name = current_database() AND NOT internal
               ORDER BY schema_name, table_name, column_index"""
        ).fetchall()
        by_table: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            volatile = column in VOLATILE_COLUMNS or (schema, table, column) in VOLATILE
            if volatile or f"{schema}.{table}.{column}" in skip:
                continue
            by_table.setdefault((schema, table), []).append(column)
        for (schema, table), names in sorted(by_table.items()):
            select = ", ".join(f'"{n}"' for n in names)
            rows = con.execute(f"SELECT {select} FROM {schema}.{table}").fetchall()
            lines = sorted(repr(tuple(_value(v, today) for v in row)) for row in rows)
            digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
            out[f"{schema}.{table}"] = {"rows": len(rows), "sha256": digest}
    return out
