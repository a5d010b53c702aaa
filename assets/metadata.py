"""Materialization metadata: row counts and small markdown previews for the UI."""

from dagster import MetadataValue

from pipeline.db.connection import Warehouse, scalar

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


def table_metadata(warehouse: Warehouse, table: str) -> dict[str, object]:
    """Row count and a preview of the first rows of a warehouse table."""
    with warehouse.connect(read_only=True) as con:
        count = scalar(con, f"SELECT count(*) FROM {table}")
        cursor = con.execute(f"SELECT * FROM {table} ORDER BY 1 LIMIT {PREVIEW_ROWS}")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return {
        "dagster/row_count": MetadataValue.int(int(count or 0)),
        "table": MetadataValue.text(table),
        "warehouse": MetadataValue.path(str(warehouse.path)),
        "preview": MetadataValue.md(markdown_table(columns, rows)),
    }
