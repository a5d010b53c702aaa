"""Every table is declared once, in `pipeline.db.schema`; the live warehouse (a DuckDB
file, and a DuckLake), the DDL, the `COMMENT ON` descriptions and Dagster's column schema
must all agree with it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from assets.definitions import defs
from assets.tables import asset_key
from pipeline.db.schema import SCHEMAS, TABLE, TABLES
from pipeline.dumps.cleaning import LISTING_SCHEMA
from pipeline.settings import PROJECT_ROOT, Settings
from tests.builders import every_step

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"


@pytest.fixture(scope="module", params=["file", "lake"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("schema")
    shutil.copytree(SAMPLES, root / "landing")
    lake = f"ducklake:sqlite:{root / 'lake.sqlite'}"
    settings = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(root / "landing"),
            "PAPERS_WAREHOUSE": lake if request.param == "lake" else str(root / "papers.duckdb"),
            "PAPERS_LAKE_DATA_PATH": str(root / "lake_data"),
            "PAPERS_OFFLINE": "1",
        }
    )
    every_step(settings)
    with settings.warehouse.connect(read_only=True) as con:
        yield con


def _live_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    rows = con.execute(
        f"""SELECT schema_name || '.' || table_name, column_name, data_type, is_nullable, comment
            FROM duckdb_columns()
            WHERE database_name = current_database() AND schema_name IN {tuple(SCHEMAS)}
              AND NOT internal
            ORDER BY schema_name, table_name, column_index"""
    ).fetchall()
    columns: dict[str, list[tuple[object, ...]]] = {}
    for table, *column in rows:
        columns.setdefault(table, []).append(tuple(column))
    return columns


def test_the_live_warehouse_holds_exactly_the_declared_tables(live: duckdb.DuckDBPyConnection):
    assert set(_live_columns(live)) == set(TABLE)
    views = {
        f"{s}.{v}"
        for s, v in live.execute(
            "SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal"
        ).fetchall()
    }
    assert views == {t.name for t in TABLES if t.view}


@pytest.mark.parametrize("table", sorted(TABLE))
def test_columns_types_and_descriptions_agree(live: duckdb.DuckDBPyConnection, table: str):
    declared = TABLE[table]
    lake = live.execute("SELECT current_database()").fetchall() == [("lake",)]
    expected = [
        # Views report every column nullable, whatever their sources say; a DuckLake
        # keeps no comments on a view's columns.
        (
            c.name,
            c.type,
            declared.view or not c.not_null,
            None if lake and declared.view else c.description,
        )
        for c in declared.columns
    ]
    assert _live_columns(live)[table] == expected
    kind = "views" if declared.view else "tables"
    name_column = "view_name" if declared.view else "table_name"
    schema, name = table.split(".")
    comment = live.execute(
        f"SELECT comment FROM duckdb_{kind}() WHERE database_name = current_database() "
        f"AND schema_name = ? AND {name_column} = ?",
        [schema, name],
    ).fetchall()
    assert comment == [(declared.description,)]


def test_dagster_shows_the_declared_column_schema() -> None:
    graph = defs.resolve_asset_graph()
    for table in TABLES:
        spec = graph.get(asset_key(table.name))
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in table.columns
        ], table.name
        assert spec.metadata["dagster/table_name"] == table.name
        assert spec.group_name == table.schema
        assert spec.description == table.description


def test_frames_are_built_with_the_declared_types(live: duckdb.DuckDBPyConnection) -> None:
    """The polars schema cleaning builds listings with is derived from the declaration,
    so a frame inserts without a cast."""
    assert list(LISTING_SCHEMA) == list(TABLE["raw.listings"].column_names)
    frame = live.sql("SELECT * FROM raw.listings").pl()
    assert frame.schema == LISTING_SCHEMA


def test_a_table_is_declared_once_with_a_key_that_exists(tmp_path: Path) -> None:
    assert len({t.name for t in TABLES}) == len(TABLES)
    for table in TABLES:
        assert len(set(table.column_names)) == len(table.column_names), table.name
        assert set(table.key) <= set(table.column_names), table.name
        assert all(c.description.strip() for c in table.columns), table.name
