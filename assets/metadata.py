"""Materialization metadata: row counts and small markdown previews for the UI."""

from pathlib import Path

from dagster import MetadataValue, TableColumn, TableSchema

from pipeline.catalog import CATALOG, column_types
from pipeline.warehouse import connect, scalar

PREVIEW_ROWS = 5
_CELL = 80


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def markdown_table(columns: list[str], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def column_schema(table: str, types: list[tuple[str, str]]) -> TableSchema:
    """Column names and DuckDB types, with the descriptions of `pipeline.catalog`."""
    described = CATALOG[table].columns if table in CATALOG else {}
    return TableSchema(
        columns=[
            TableColumn(name, data_type, description=described.get(name))
            for name, data_type in types
        ]
    )


def table_metadata(warehouse: Path, table: str, order_by: str = "1") -> dict[str, object]:
    """Row count, column schema and a preview of the first rows of a warehouse table."""
    with connect(warehouse, read_only=True) as con:
        count = scalar(con, f"SELECT count(*) FROM {table}")
        types = column_types(con, table)
        cursor = con.execute(f"SELECT * FROM {table} ORDER BY {order_by} LIMIT {PREVIEW_ROWS}")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return {
        "dagster/row_count": MetadataValue.int(count),
        "dagster/column_schema": column_schema(table, types),
        "table": MetadataValue.text(table),
        "warehouse": MetadataValue.path(str(warehouse)),
        "preview": MetadataValue.md(markdown_table(columns, rows)),
    }
