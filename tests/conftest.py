"""Shared fixtures: the real seed dumps (when ../shared is beside the project), a
loopback HTTP server, a real PostgreSQL server, and a warehouse on each backend."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import TempWarehouse
from tests.fakes.local_server import LocalServer
from tests.postgres_server import PostgresServer, start_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_ROOT.parent / "shared" / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the real seed dumps are not here: {SEEDS_DIR} is absent (../shared)")
    return SEEDS_DIR


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One server for the session; each test takes a database of its own."""
    server = start_server()
    if server is None:
        pytest.skip("no PostgreSQL server here: install the Debian package postgresql")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def backend_warehouse(request: pytest.FixtureRequest, root: Path, backend: str) -> TempWarehouse:
    """An empty warehouse under `root` on `backend`: file, postgres or sqlite (a lake)."""
    root.mkdir(parents=True, exist_ok=True)
    if backend == "file":
        return TempWarehouse(root)
    if backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        return TempWarehouse(root, lake=f"postgres:{server.new_database()}")
    return TempWarehouse(root, lake=f"sqlite:{root / 'catalog.sqlite'}")


@pytest.fixture(params=["file", "postgres"])
def any_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> TempWarehouse:
    """The test runs on a DuckDB file and on a DuckLake with a PostgreSQL catalog."""
    return backend_warehouse(request, tmp_path / "w", request.param)
