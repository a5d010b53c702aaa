"""The warehouse as a DuckLake: a catalog in PostgreSQL (or SQLite) and the data as
Parquet files in a folder or an object store, for a team whose runs and readers are on
different machines.

What differs from the DuckDB file lives here and in one DDL switch (`Warehouse.lake`):

- Readers attach the lake read-only and see the last committed snapshot: no read copy.
- Writers take turns. DuckLake lets two transactions that only append to one table
  both commit, which would load a new file twice when two refreshes overlap, so every
  writing connection first takes the lake's writer turn (a PostgreSQL advisory lock,
  or a lock file beside a SQLite catalog) and waits for it as a DuckDB file's writer
  waits for its lock. The turn dies with its connection, so a killed run never blocks
  the next. A writer that does not take turns (a notebook) and commits first makes our
  commit fail as `WriteConflict`, with nothing of it written.
- Extensions are loaded from the installed Python packages, by path, with DuckDB's
  automatic downloads off (`NO_DOWNLOADS`).
- Each step names its commit, so a snapshot can be found again: `refresh_snapshots`
  lists the last snapshot of every refresh (the marts step ends one).
"""

from __future__ import annotations

import fcntl
import importlib.resources
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import IO

import duckdb
import psycopg2

from pipeline.db.connection import NO_DOWNLOADS, Connection, Warehouse, scalar, wait_for
from pipeline.db.schema import Step

ALIAS = "lake"
PREFIX = "ducklake:"
KINDS = ("postgres", "sqlite")
# The refresh's last writing step names its commit so; `refresh_snapshots` looks for it.
REFRESH_END = str(Step.MARTS)
_AUTHOR = "papers-warehouse"
# pg_try_advisory_lock key of the writer turn: "PAPW" (one lake per database).
_TURN_KEY = 0x50415057
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class LakeUnreachable(RuntimeError):
    """The lake's catalog could not be reached; the message names PAPERS_WAREHOUSE."""


@dataclass(frozen=True)
class ObjectStore:
    """Credentials for an `s3://` data path (DuckDB's httpfs), never shown."""

    key_id: str
    secret: str
    region: str = ""
    endpoint: str = ""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _extension_file(name: str) -> Path:
    """The extension shipped in the `duckdb-extension-<name>` package, for this DuckDB."""
    package = importlib.resources.files(f"duckdb_extension_{name}")
    return Path(str(package)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


@dataclass(frozen=True)
class DuckLake(Warehouse):
    """`catalog` is `postgres:<libpq connection string>` or `sqlite:<path>`; `data_path`
    a folder or an `s3://` URL. `snapshot` attaches the lake as of that snapshot (read
    only: time travel)."""

    catalog: str
    data_path: str
    memory_limit: str = "3GB"
    lock_timeout_s: float = 300.0
    snapshot: int | None = None
    object_store: ObjectStore | None = field(default=None, repr=False)
    lake = True

    @property
    def kind(self) -> str:
        return self.catalog.partition(":")[0]

    @property
    def target(self) -> str:
        """The connection string (postgres) or catalog file (sqlite)."""
        return self.catalog.partition(":")[2]

    @property
    def location(self) -> str:
        masked = _PASSWORD.sub(r"\1***", self.target)
        return f"{PREFIX}{self.kind}:{masked} (data {self.data_path})"

    @property
    def remote_data(self) -> bool:
        return "://" in self.data_path

    def problem(self) -> str | None:
        if self.kind not in KINDS:
            return (
                "PAPERS_WAREHOUSE: a lake is ducklake:postgres:<connection string> or "
                f"ducklake:sqlite:<path>, got {PREFIX}{self.kind}:…"
            )
        if self.kind == "sqlite" and not Path(self.target).parent.is_dir():
            return f"PAPERS_WAREHOUSE: the folder {Path(self.target).parent} does not exist"
        if not self.remote_data and not Path(self.data_path).parent.is_dir():
            parent = Path(self.data_path).parent
            return f"PAPERS_LAKE_DATA_PATH: the folder {parent} does not exist"
        return None

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return Path(self.target).exists()
        with self._catalog_connection() as pg, pg.cursor() as cursor:
            cursor.execute("SELECT to_regclass('ducklake_snapshot') IS NOT NULL")
            return bool(cursor.fetchone()[0])

    @contextmanager
    def session(self, read_only: bool) -> Iterator[Connection]:
        """A connection of this process's DuckDB instance that has the lake attached
        (opening one costs a third of a second, most of it loading the extensions). Any
        DuckDB error drops the instance, so that an instance left broken (its catalog
        gone and back) is not kept; the next session attaches afresh."""
        turn: AbstractContextManager[object] = nullcontext() if read_only else self._writer_turn()
        with turn:
            try:
                con = _attached(self, read_only).cursor()
                con.execute(f"USE {ALIAS}")
                yield con
            except duckdb.Error:
                _attached.cache_clear()
                raise

    def label(self, con: Connection, message: str) -> None:
        con.execute(f"CALL {ALIAS}.set_commit_message(?, ?)", [_AUTHOR, message])

    def publish_for_readers(self, read_copy: Path) -> dict[str, str | int]:
        """Nothing to copy: every reader attaching the lake sees the last commit."""
        with self.connect(read_only=True) as con:
            snapshot = int(scalar(con, f"SELECT id FROM {ALIAS}.current_snapshot()"))
        return {"lake": self.location, "snapshot": snapshot}

    def refresh_snapshots(self) -> list[int]:
        with self.connect(read_only=True) as con:
            rows = con.execute(
                f"SELECT snapshot_id FROM ducklake_snapshots('{ALIAS}') "
                "WHERE commit_message = ? ORDER BY snapshot_id DESC",
                [REFRESH_END],
            ).fetchall()
        return [int(row[0]) for row in rows]

    def at(self, snapshot: int) -> DuckLake:
        return replace(self, snapshot=snapshot)

    def config(self) -> dict[str, object]:
        spill = Path(tempfile.gettempdir()) / "papers-warehouse-spill"
        return {"memory_limit": self.memory_limit, "temp_directory": str(spill), **NO_DOWNLOADS}

    def _extensions(self) -> list[str]:
        names = ["ducklake", f"{self.kind}_scanner"]
        return [*names, "httpfs"] if self.remote_data else names

    def attach(self, con: Connection, read_only: bool) -> None:
        """Loads the extensions into `con`'s instance and attaches the lake there."""
        for name in self._extensions():
            con.execute(f"LOAD {_sql_string(str(_extension_file(name)))}")
        if self.object_store is not None:
            store = self.object_store
            con.execute(
                "CREATE SECRET lake_store (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?)",
                [store.key_id, store.secret, store.region, store.endpoint],
            )
        options = ["READ_ONLY"] if read_only else [f"DATA_PATH {_sql_string(self.data_path)}"]
        if self.snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(self.snapshot)}")
        try:
            con.execute(
                f"ATTACH {_sql_string(PREFIX + self.catalog)} AS {ALIAS} ({', '.join(options)})"
            )
        except duckdb.Error as exc:
            raise LakeUnreachable(f"PAPERS_WAREHOUSE: cannot open {self.location}: {exc}") from exc

    @contextmanager
    def _catalog_connection(self) -> Iterator[psycopg2.extensions.connection]:
        try:
            pg = psycopg2.connect(self.target)
        except psycopg2.OperationalError as exc:
            message = " ".join(str(exc).split())
            raise LakeUnreachable(
                f"PAPERS_WAREHOUSE: cannot reach {self.location}: {message}"
            ) from exc
        try:
            yield pg
        finally:
            pg.close()

    @contextmanager
    def _writer_turn(self) -> Iterator[object]:
        """Holds the lake's writer turn for the block (see the module's docstring)."""
        if self.kind == "sqlite":
            with open(f"{self.target}.writer", "a") as lock:
                yield wait_for(lambda: _flock(lock), self.lock_timeout_s, self.location)
            return
        with self._catalog_connection() as pg:
            pg.autocommit = True

            def take() -> bool | None:
                with pg.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [_TURN_KEY])
                    return True if cursor.fetchone()[0] else None

            yield wait_for(take, self.lock_timeout_s, self.location)


@lru_cache(maxsize=4)
def _attached(lake: DuckLake, read_only: bool) -> Connection:
    """A DuckDB instance of this process with `lake` attached, kept for its sessions."""
    instance = duckdb.connect(config=lake.config())
    try:
        lake.attach(instance, read_only)
    except BaseException:
        instance.close()
        raise
    return instance


def _flock(lock: IO[str]) -> bool | None:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    return True
