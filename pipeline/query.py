"""Query the warehouse from the command line, read-only, without a DuckDB install.

    python -m pipeline.query                       # row counts and where the file is
    python -m pipeline.query "SELECT ..."          # any SQL
    python -m pipeline.query warehouse/queries/newest_papers_with_code.sql
    python -m pipeline.query --csv FILE_OR_SQL     # or --json; --max-rows N
    python -m pipeline.query --as-of previous-refresh FILE_OR_SQL   # a lake, back in time

It reads the read copy when there is one (never locked by a refresh), else the
warehouse; a lake is read at its last committed snapshot, or at the one `--as-of`
names (a snapshot number, or `previous-refresh`: where the refresh before the last
ended). Exit codes: 0 answered, 1 no warehouse yet, 2 a bad query or argument.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import polars as pl

from pipeline.db.connection import Warehouse, table_counts
from pipeline.db.schema import PUBLIC_TABLES
from pipeline.settings import Settings, SettingsError

NO_WAREHOUSE, BAD_QUERY = 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.query",
        description="Query the papers warehouse, read-only. Without a query, print the "
        "row count of every table.",
    )
    parser.add_argument("query", nargs="?", help="SQL, or the path of a .sql file")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    shape.add_argument("--json", action="store_true", help="print JSON (one object a row)")
    parser.add_argument(
        "--max-rows", type=int, default=50, help="rows to print at most (default 50; 0: all)"
    )
    parser.add_argument(
        "--as-of",
        metavar="SNAPSHOT",
        help="a lake only: read it as of a snapshot number, or previous-refresh",
    )
    return parser


def _sql(argument: str) -> str:
    """The query: a `.sql` file's text (which must exist), or the argument itself."""
    if argument.strip().lower().endswith(".sql"):
        path = Path(argument)
        if not path.is_file():
            raise FileNotFoundError(f"no query file {argument}")
        return path.read_text(encoding="utf-8")
    return argument


PREVIOUS_REFRESH = "previous-refresh"


def _as_of(warehouse: Warehouse, snapshot: str) -> Warehouse:
    """The warehouse at the snapshot `--as-of` names; ValueError when there is none."""
    if snapshot == PREVIOUS_REFRESH:
        ends = warehouse.refresh_snapshots()
        if len(ends) < 2:
            raise ValueError(f"{warehouse.location} holds {len(ends)} refresh(es): no previous one")
        return warehouse.at(ends[1])
    if not snapshot.isdigit():
        raise ValueError(f"--as-of takes a snapshot number or {PREVIOUS_REFRESH}, got {snapshot!r}")
    return warehouse.at(int(snapshot))


def summary(warehouse: Warehouse) -> str:
    with warehouse.connect(read_only=True) as con:
        counts = table_counts(con, PUBLIC_TABLES)
    lines = [f"warehouse: {warehouse.location}"]
    lines += [f"  {table:<28} {count:>9,} rows" for table, count in counts.items()]
    return "\n".join(lines)


def _print(frame: pl.DataFrame, args: argparse.Namespace) -> None:
    shown = frame if args.max_rows <= 0 else frame.head(args.max_rows)
    if args.csv:
        sys.stdout.write(shown.write_csv())
    elif args.json:
        sys.stdout.write(shown.write_ndjson())
    else:
        with pl.Config(tbl_rows=shown.height, fmt_str_lengths=200, tbl_width_chars=200):
            print(shown)
    if shown.height < frame.height:
        print(f"({frame.height - shown.height} more rows; --max-rows 0 shows all)", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_QUERY
    warehouse = settings.warehouse.for_readers(settings.read_copy_path)
    try:
        if not warehouse.exists():
            print(f"no warehouse at {warehouse.location}: run refresh first", file=sys.stderr)
            return NO_WAREHOUSE
        if args.as_of is not None:
            warehouse = _as_of(warehouse, args.as_of)
    except (ValueError, RuntimeError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_QUERY
    if args.query is None:
        print(summary(warehouse))
        return 0
    try:
        sql = _sql(args.query)
        with warehouse.connect(read_only=True) as con:
            relation = con.sql(sql)
            frame = relation.pl() if relation is not None else pl.DataFrame()
    except (OSError, duckdb.Error) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return BAD_QUERY
    _print(frame, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
