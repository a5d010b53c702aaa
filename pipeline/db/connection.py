"""The DuckDB warehouse file: connections that are always closed, writes that are all or
nothing, and the copy readers open.

DuckDB lets one process write a database file at a time, and a second writer fails at
once with a lock error. `Warehouse.connect` waits for the lock instead of failing, so two
runs that overlap queue up rather than crash; every write goes through `Warehouse.write`
(one transaction), so a step that fails part-way leaves the previous state.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.db.schema import schema_sql

Connection = duckdb.DuckDBPyConnection


class WarehouseLocked(RuntimeError):
    """Another process kept the database open for writing longer than we would wait."""


def _is_lock_error(exc: duckdb.Error) -> bool:
    message = str(exc).lower()
    return "lock" in message and ("conflicting" in message or "could not set" in message)


@dataclass(frozen=True)
class Warehouse:
    """Where the warehouse is and how to open it. `memory_limit` is DuckDB's share of
    memory: beyond it, large sorts and joins spill to disk instead of growing the process
    (DuckDB's default is 80% of the machine)."""

    path: Path
    memory_limit: str = "3GB"
    lock_timeout_s: float = 300.0

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        """A connection that is closed however the block ends; waits for a writer's lock."""
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(
                    str(self.path), read_only=read_only, config={"memory_limit": self.memory_limit}
                )
                break
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"{self.path} stayed locked by another process for "
                        f"{self.lock_timeout_s:g} s"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A writing connection with every table in place (outside any transaction)."""
        with self.connect() as con:
            con.execute(schema_sql())
            yield con

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A writing connection whose block is one transaction."""
        with self.writer() as con, transaction(con):
            yield con

    def publish_read_copy(self, target: Path) -> Path:
        """Publishes a consistent copy for readers, atomically replacing the previous one.

        Readers (notebooks, BI tools) open the copy read-only and are never locked out by
        a refresh, which holds the warehouse's write lock; the copy is taken while this
        process holds that lock, after a checkpoint, so it is a committed state.

        The temporary copy is removed however the copy fails (a full disk must not stay
        full of a half copy), and a leftover of a process killed mid-copy is removed
        first."""
        temp = target.with_name(f".{target.name}.tmp")
        temp.unlink(missing_ok=True)
        with self.connect() as con:
            con.execute("CHECKPOINT")
            try:
                shutil.copyfile(self.path, temp)
                os.replace(temp, target)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                size = self.path.stat().st_size
                raise OSError(
                    exc.errno,
                    f"no space left in {target.parent} for the read copy ({size:,} bytes): "
                    "free space there, or point PAPERS_READ_COPY elsewhere",
                ) from exc
            finally:
                temp.unlink(missing_ok=True)
        return target


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """All or nothing: on any exception the writes of the block are rolled back."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


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
    """The single value of a query, fetching the whole result (DuckDB 2 refuses further
    work on a connection while a result is left half-read)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_counts(con: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in tables}
