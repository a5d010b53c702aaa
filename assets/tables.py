"""Asset keys and specs of the warehouse's tables, derived from `pipeline.db.schema`.

A table's key mirrors its `schema.table` name and its group is its schema, so what the
UI shows is what DuckDB holds; each table is an asset of the step that writes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetKey, AssetSpec, TableColumn, TableSchema

from pipeline.db.schema import Step, Table, tables_of

WRITER_POOL = "duckdb_writer"
READ_COPY = AssetKey(["warehouse_read_copy"])


def asset_key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def table_name(key: AssetKey) -> str:
    return ".".join(key.path)


def column_schema(table: Table) -> TableSchema:
    return TableSchema(
        columns=[TableColumn(c.name, c.type, description=c.description) for c in table.columns]
    )


def step_specs(step: Step, reads: Iterable[str], kinds: set[str]) -> list[AssetSpec]:
    """One spec per table the step writes, each depending on the tables the step reads."""
    deps = [asset_key(t) for t in reads]
    return [
        AssetSpec(
            asset_key(table.name),
            deps=deps,
            description=table.description,
            group_name=table.schema,
            kinds={"duckdb", *kinds},
            metadata={
                "dagster/column_schema": column_schema(table),
                "dagster/table_name": table.name,
            },
        )
        for table in tables_of(step)
    ]


def step_keys(step: Step) -> list[AssetKey]:
    return [asset_key(t.name) for t in tables_of(step)]
