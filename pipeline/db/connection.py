"""The warehouse: connections that are always closed, writes that are all or nothing,
and what readers open. Two backends answer to one interface, chosen by PAPERS_WAREHOUSE:

- `DuckDBFile` (the default): one DuckDB file. DuckDB lets one process write a file at a
  time and a second writer fails at once with a lock error, so `connect` waits for the
  lock instead; readers open a copy republished after each refresh.
- `DuckLake` (`pipeline.db.lake`): a catalog in PostgreSQL or SQLite with the data as
  Parquet files, which readers on other machines attach read-only at the last committed
  snapshot, while a refresh writes.

Every write goes through `Warehouse.write` (one transaction), so a step that fails
part-way leaves the previous state on either backend.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from pipeline.db.read_copy import publish as publish_copy
from pipeline.db.schema import DECLARED_COLUMNS, PRESENT_COLUMNS_SQL, schema_sql

Connection = duckdb.DuckDBPyConnection
T = TypeVar("T")

# Extensions come with the installed packages (`pipeline.db.lake` loads them by path);
# nothing may be fetched from the network while a pipeline runs.
NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class WarehouseLocked(RuntimeError):
    """Another writer kept the warehouse longer than we would wait."""


class WriteConflict(RuntimeError):
    """Another writer committed to the lake while this transaction was open; nothing of
    this transaction was written."""


def wait_for(attempt: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """The first non-None result of `attempt`, retried with a growing pause until
    `timeout_s` has passed; then `WarehouseLocked` naming `what` is held."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        result = attempt()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise WarehouseLocked(f"{what} stayed locked by another writer for {timeout_s:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class Warehouse(ABC):
    """Where the warehouse is and how to open it. `memory_limit` is DuckDB's share of
    memory: beyond it, large sorts and joins spill to disk instead of growing the process
    (DuckDB's default is 80% of the machine)."""

    memory_limit: str
    lock_timeout_s: float
    # DuckLake has no PRIMARY KEY / UNIQUE constraints and no per-column compression
    # (Parquet compresses on its own): the one difference in the tables' DDL.
    lake: bool = False

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the warehouse is, as a person reads it (never a password)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether a refresh has created the warehouse yet."""

    @abstractmethod
    def problem(self) -> str | None:
        """Why a refresh could not write here (naming the setting), or None."""

    @abstractmethod
    def session(self, read_only: bool) -> Iterator[Connection]:
        """An open connection (a context manager); a writer's waits for its turn."""

    @abstractmethod
    def publish_for_readers(self, read_copy: Path) -> dict[str, str | int]:
        """Makes the last commit what readers see; returns what to show about it."""

    def for_readers(self, read_copy: Path) -> Warehouse:
        """What a reader should open: the warehouse itself unless it has a read copy."""
        return self

    def at(self, snapshot: int) -> Warehouse:
        """The warehouse as of a snapshot (time travel), read-only."""
        raise ValueError(f"{self.location} keeps no snapshots: time travel needs a DuckLake")

    def refresh_snapshots(self) -> list[int]:
        """The snapshot each refresh ended on, newest first."""
        raise ValueError(f"{self.location} keeps no snapshots: time travel needs a DuckLake")

    def label(self, con: Connection, message: str) -> None:  # noqa: B027 (optional)
        """Names the commit of the current transaction (a lake keeps it with the
        snapshot, for time travel); a DuckDB file has nowhere to keep it."""

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        """A connection that is closed however the block ends."""
        with self.session(read_only) as con:
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A writing connection with every table in place (outside any transaction)."""
        with self.connect() as con:
            present = set(con.execute(PRESENT_COLUMNS_SQL).fetchall())
            if DECLARED_COLUMNS - present:
                con.execute(schema_sql(lake=self.lake))
            yield con

    @contextmanager
    def write(self, message: str | None = None) -> Iterator[Connection]:
        """A writing connection whose block is one transaction, named `message`."""
        with self.writer() as con, transaction(con):
            if message:
                self.label(con, message)
            yield con


def _is_lock_error(exc: duckdb.Error) -> bool:
    message = str(exc).lower()
    return "lock" in message and ("conflicting" in message or "could not set" in message)


@dataclass(frozen=True)
class DuckDBFile(Warehouse):
    """The warehouse as one DuckDB file (the default backend)."""

    path: Path
    memory_limit: str = "3GB"
    lock_timeout_s: float = 300.0

    @property
    def location(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def problem(self) -> str | None:
        if not self.path.parent.is_dir():
            return f"PAPERS_WAREHOUSE: the folder {self.path.parent} does not exist"
        return None

    def for_readers(self, read_copy: Path) -> Warehouse:
        """The read copy when one was published (never locked by a refresh)."""
        copy = replace(self, path=read_copy)
        return copy if copy.exists() else self

    def _open(self, read_only: bool) -> Connection | None:
        config = {"memory_limit": self.memory_limit, **NO_DOWNLOADS}
        try:
            return duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            return None

    @contextmanager
    def session(self, read_only: bool) -> Iterator[Connection]:
        yield wait_for(lambda: self._open(read_only), self.lock_timeout_s, str(self.path))

    def publish_for_readers(self, read_copy: Path) -> dict[str, str | int]:
        """Publishes a consistent copy for readers, atomically replacing the previous one.

        Readers (notebooks, BI tools) open the copy read-only and are never locked out by
        a refresh, which holds the warehouse's write lock; the copy is taken while this
        process holds that lock, after a checkpoint, so it is a committed state. Only the
        blocks that changed since an earlier publish are written (`pipeline.db.read_copy`)."""
        with self.connect() as con:
            con.execute("CHECKPOINT")
            published = publish_copy(self.path, read_copy)
        return {
            "path": str(read_copy),
            "bytes": published.bytes,
            "bytes_written": published.bytes_written,
        }


def _is_conflict(exc: duckdb.Error) -> bool:
    return "transaction conflict" in str(exc).lower()


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """All or nothing: on any exception the writes of the block are rolled back, and a
    commit refused because another writer committed first is a `WriteConflict`."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:
        if not _is_conflict(exc):
            raise
        raise WriteConflict(
            "another writer committed to the warehouse while this step was writing; "
            f"nothing of this step was written, and running it again redoes it ({exc})"
        ) from exc


@contextmanager
def registered(con: Connection, **frames: pl.DataFrame) -> Iterator[Connection]:
    """Frames visible to SQL under their keyword names for the block, then unregistered."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


def scalar(con: Connection, sql: str, params: list[object] | None = None) -> object:
    """The single value of a query, fetching the whole result (DuckDB 2.0 refused further
    work on a connection while a result is left half-read)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_counts(con: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in tables}
