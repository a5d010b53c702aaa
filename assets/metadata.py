"""Materialization metadata: tables' row counts and previews of their first rows, as
Dagster tables (sortable in the UI, not markdown behind a click)."""

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from pipeline.db.connection import Connection, Warehouse, scalar
from pipeline.db.schema import Table

PREVIEW_ROWS = 20
_CELL = 80
_TEXT_CELL = 300


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def markdown_table(columns: list[str], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _value(value: object) -> str | int | float | bool | None:
    """A cell as a table record holds it: numbers and flags as they are, the rest text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= _TEXT_CELL else text[: _TEXT_CELL - 1] + "…"


def tables_metadata(warehouse: Warehouse, tables: list[Table]) -> dict[str, dict[str, object]]:
    """Row count and a preview of the first rows of each table, over one connection (a
    lake's costs a quarter second to open).

    A view gets neither: counting or previewing it runs its whole query over the core
    tables (4.6 s for the marts at 1M listings, ten times their own SQL), and what it
    shows depends on when it is read, not on this run. Its columns are in its spec."""
    with warehouse.connect(read_only=True) as con:
        return {table.name: _table_metadata(con, warehouse, table) for table in tables}


def _table_metadata(con: Connection, warehouse: Warehouse, table: Table) -> dict[str, object]:
    where = {
        "table": MetadataValue.text(table.name),
        "warehouse": MetadataValue.text(warehouse.location),
    }
    if table.view:
        return where
    count = scalar(con, f"SELECT count(*) FROM {table.name}")
    cursor = con.execute(f"SELECT * FROM {table.name} ORDER BY 1 LIMIT {PREVIEW_ROWS}")
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    schema = TableSchema(columns=[TableColumn(name, "string") for name in columns])
    records = [TableRecord(dict(zip(columns, map(_value, row), strict=True))) for row in rows]
    return where | {
        "dagster/row_count": MetadataValue.int(int(count or 0)),
        "preview": MetadataValue.table(records, schema),
    }
