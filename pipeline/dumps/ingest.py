"""From the landing folder to `raw.*`: each new file content is archived, read, cleaned
and loaded in one transaction.

A file is known by the SHA-256 of its bytes, so a renamed or re-saved copy is not read
twice (its other name is recorded in `raw.file_names`). The archive keeps every raw
file, good or bad, under its hash and read-only, so the warehouse can be rebuilt from it
whatever later happens to the landing folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path

import polars as pl

from pipeline.db.connection import Connection, Warehouse, registered, transaction
from pipeline.db.schema import polars_schema
from pipeline.dumps.cleaning import clean_listings, empty_listings, entries_frame
from pipeline.dumps.entries import (
    DEFAULT_LIMITS,
    NotADump,
    NotText,
    ParsedDump,
    ReadLimits,
    Reject,
)
from pipeline.dumps.read import read_raw_file
from pipeline.landing import landing_files, outside_link, read_sidecar, sidecar_path, snapshot_hint
from pipeline.text import excerpt, visible

_BATCH_ENTRIES = 100_000
# Below this much new content, reading in this process beats starting workers (about a
# second each, for importing polars and the readers).
_POOL_MIN_FILES = 4
_POOL_MIN_BYTES = 32 * 1024**2


@dataclass
class FileOutcome:
    file_name: str
    file_sha256: str
    status: str
    layout: str | None = None
    listings: int = 0
    rejects: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    scanned: int = 0
    already_ingested: int = 0
    files: list[FileOutcome] = field(default_factory=list)
    # Files that changed or went away between the scan and the read: left for next run.
    changed: list[str] = field(default_factory=list)
    # Files not read at all, with why: unreadable (permissions), or links out of the
    # landing folder. Nothing of them is stored; they stay in the landing folder.
    skipped: dict[str, str] = field(default_factory=dict)
    # Incomplete saves withdrawn for their complete save: (partial, complete) hashes.
    superseded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def listings(self) -> int:
        return sum(f.listings for f in self.files)

    @property
    def rejects(self) -> int:
        return sum(f.rejects for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.status == "quarantined" for f in self.files)


# Saves of one file share their first bytes, and 512 of them (a page's header and first
# entry) tell saves of different pages apart; a save shorter than that is not compared.
HEAD_BYTES = 512

# Pairs of loaded files, one a new one, that begin alike: the shorter may be an
# incomplete save of the longer (a download saved half-way, completed later).
_PREFIX_CANDIDATES_SQL = """
SELECT a.file_sha256, a.archive_path, b.file_sha256, b.archive_path
FROM raw.dump_files a
JOIN raw.dump_files b ON a.head_sha256 = b.head_sha256 AND a.byte_size < b.byte_size
WHERE a.status = 'loaded' AND b.status = 'loaded'
  AND (a.file_sha256 IN (SELECT sha FROM new_files) OR b.file_sha256 IN (SELECT sha FROM new_files))
ORDER BY 1, 3
"""


def supersede_partial_saves(con: Connection, new: list[str]) -> list[tuple[str, str]]:
    """Withdraws the listings of every loaded file whose bytes are the beginning of
    another loaded file's: an incomplete save would otherwise count its papers twice and
    keep its cut-off last entry. The file stays recorded (`superseded`) and archived.
    Compared by content, not name, so a rebuild from the archive does the same."""
    frame = pl.DataFrame({"sha": new}, schema={"sha": pl.String})
    with registered(con, new_files=frame):
        candidates = con.execute(_PREFIX_CANDIDATES_SQL).fetchall()
    superseded: list[tuple[str, str]] = []
    for short, short_path, long, long_path in candidates:
        if short in {s for s, _ in superseded}:
            continue
        beginning = Path(short_path).read_bytes()
        with Path(long_path).open("rb") as whole:
            if whole.read(len(beginning)) != beginning:
                continue
        superseded.append((short, long))
        con.execute(
            """UPDATE raw.dump_files SET status = 'superseded', superseded_by = ?,
                   error = 'an incomplete save: the file ' || ? || ' begins with it'
               WHERE file_sha256 = ?""",
            [long, long, short],
        )
        con.execute("DELETE FROM raw.listings WHERE file_sha256 = ?", [short])
    return superseded


def _write_once(target: Path, data: bytes) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    temp.unlink(missing_ok=True)  # a read-only leftover of a run killed mid-write
    try:
        temp.write_bytes(data)
        temp.chmod(0o444)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)  # a half-written copy (a full disk) must not stay


def archive_raw(data: bytes, sha256: str, archive_dir: Path, source: Path | None = None) -> Path:
    """Keeps an immutable copy of the bytes under their hash (written once, read-only),
    with the fetch sidecar beside it when there is one, so that pointing
    `PAPERS_LANDING_DIR` at the archive rebuilds the same warehouse."""
    target = archive_dir / sha256[:2] / sha256
    _write_once(target, data)
    sidecar = sidecar_path(source) if source is not None else None
    if sidecar is not None and sidecar.is_file():
        _write_once(sidecar_path(target), sidecar.read_bytes())
    return target


@dataclass
class _Loaded:
    """One new file, read: its `raw.dump_files` row and its cleaned listings."""

    row: dict[str, object]
    listings: pl.DataFrame
    rejects: list[Reject]
    code_links: pl.DataFrame = field(default_factory=lambda: empty_code_links())


def _file_row(path: Path, sha: str, size: int, archive: Path, head: bytes) -> dict[str, object]:
    sidecar = read_sidecar(path, sha) or {}
    return {
        "file_sha256": sha,
        "head_sha256": hashlib.sha256(head[:HEAD_BYTES]).hexdigest(),
        "file_name": visible(path.name),
        "ingested_at": datetime.now(UTC).replace(tzinfo=None),
        "byte_size": size,
        "archive_path": str(archive),
        "source_url": sidecar.get("url"),
        "fetched_at": sidecar.get("fetched_at"),
        "snapshot_hint": snapshot_hint(sidecar),
    }


def _quarantined(row: dict[str, object], reason: str, shown: str) -> _Loaded:
    """A file none of which is read: a `raw.dump_files` row saying why, and a whole-file
    reject showing `shown` (empty for what is not text)."""
    row |= {"status": "quarantined", "error": reason, "layout": None}
    row |= {"snapshot_date": None, "snapshot_date_source": "unknown: file not read"}
    return _Loaded(row, empty_listings(), [Reject(None, reason, shown)])


def _read(path: Path, data: bytes, sha: str, archive: Path, job: _Job) -> _Loaded:
    row = _file_row(path, sha, len(data), archive, data)
    hint = row.pop("snapshot_hint")
    try:
        parsed = read_raw_file(data, hint, job.today, job.limits)  # type: ignore[arg-type]
        listings, untitled = _split_untitled(clean_listings(entries_frame(sha, parsed)))
    except NotText as exc:
        return _quarantined(row, str(exc), "")
    except NotADump as exc:
        return _quarantined(row, str(exc), _head(data))
    except Exception as exc:  # a reader's bug or a file it chokes on: this file alone
        return _quarantined(row, f"unreadable: {type(exc).__name__}: {exc}"[:500], "")
    rejects = parsed.rejects + untitled
    code_links = _code_links(sha, parsed)
    row |= _parsed_fields(parsed, listings.height + code_links.height, rejects)
    if row["status"] == "quarantined":
        # A file none of whose entries could be read is a whole-file reject too.
        rejects = [Reject(None, str(row["error"]), _head(data)), *rejects]
    return _Loaded(row, listings, rejects, code_links)


def empty_code_links() -> pl.DataFrame:
    return pl.DataFrame(schema=_CODE_LINKS_SCHEMA)


def _code_links(sha: str, parsed: ParsedDump) -> pl.DataFrame:
    """The rows of a Papers with Code links archive, keyed by the file."""
    if parsed.code_links is None:
        return empty_code_links()
    return parsed.code_links.with_columns(pl.lit(sha).alias("file_sha256")).select(
        list(_CODE_LINKS_SCHEMA)
    )


def _split_untitled(listings: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
    """Entries whose title is empty once cleaned cannot be a paper: they are rejected."""
    untitled = pl.col("title_key").fill_null("") == ""
    rejects = [
        Reject(position, "empty title: no letters or digits once cleaned", excerpt(abstract or ""))
        for position, abstract in listings.filter(untitled).select("position", "abstract").rows()
    ]
    return listings.filter(~untitled), rejects


def _parsed_fields(
    parsed: ParsedDump, listing_count: int, rejects: list[Reject]
) -> dict[str, object]:
    status, error = "loaded", None
    if listing_count == 0:
        reasons = "; ".join(sorted({r.reason for r in rejects})) or "the file lists no entry"
        status, error = "quarantined", f"no readable entries: {reasons}"
    return {
        "layout": parsed.layout,
        "snapshot_date": parsed.snapshot_date,
        "snapshot_date_source": parsed.snapshot_date_source,
        "status": status,
        "error": error,
    }


def _head(data: bytes) -> str:
    """The opening of a text file, to recognise it by."""
    return visible(data[:120].decode("utf-8", errors="backslashreplace"))


def _known(con: Connection) -> tuple[set[str], set[tuple[str, str]]]:
    hashes = {row[0] for row in con.execute("SELECT file_sha256 FROM raw.dump_files").fetchall()}
    names = set(con.execute("SELECT file_sha256, file_name FROM raw.file_names").fetchall())
    return hashes, names


@dataclass(frozen=True)
class _Job:
    """A new file content to read: sent to a worker process as it is (paths, no bytes)."""

    path: Path
    sha256: str
    size: int
    archive_dir: Path
    today: date
    limits: ReadLimits


def _load(job: _Job) -> _Loaded | None:
    """Archives and reads one new file; None when it changed or went away since the scan
    (a file still being written or moved), which leaves it for the next run. A file
    larger than the limit is archived and quarantined without being read."""
    if job.size > job.limits.max_bytes:
        return _too_large(job)
    try:
        data = job.path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != job.sha256:
        return None
    archive = archive_raw(data, job.sha256, job.archive_dir, job.path)
    return _read(job.path, data, job.sha256, archive, job)


def _too_large(job: _Job) -> _Loaded | None:
    target = job.archive_dir / job.sha256[:2] / job.sha256
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(target.name + ".tmp")
        try:
            shutil.copyfile(job.path, temp)
            if _sha256_of(temp) != job.sha256:
                return None  # changed while it was copied: the next run tries again
            temp.chmod(0o444)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
    with target.open("rb") as head:
        row = _file_row(job.path, job.sha256, job.size, target, head.read(HEAD_BYTES))
    row.pop("snapshot_hint")
    limit = job.limits.max_bytes / 1024**2
    reason = f"too large to read: {job.size / 1024**2:,.0f} MB, over PAPERS_MAX_FILE_MB ({limit:g})"
    return _quarantined(row, reason, "")


def _sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _exit_with_parent(parent: int) -> None:
    """Run in each worker: it ends as soon as the process that started it is gone (killed
    with -9, it cannot stop its workers), rather than idle on with its memory."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _loaded_files(jobs: list[_Job], workers: int) -> Iterator[_Loaded | None]:
    """The jobs' results in job order. Reading is CPU-bound Python, so a large intake is
    spread over worker processes while this process writes; a small one (an incremental
    refresh) is read here, as starting workers would cost more than it saves."""
    small = len(jobs) < _POOL_MIN_FILES or sum(j.size for j in jobs) < _POOL_MIN_BYTES
    if workers <= 1 or small:
        yield from map(_load, jobs)
        return
    # Spawned, not forked: a fork would copy this process's DuckDB and polars threads.
    with ProcessPoolExecutor(
        workers,
        mp_context=get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        window: deque[Future[_Loaded | None]] = deque()
        for job in jobs:
            window.append(pool.submit(_load, job))
            if len(window) > 2 * workers:  # bounds the frames held in memory
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _batches(items: Iterable[_Loaded]) -> Iterator[list[_Loaded]]:
    """Groups files so that memory stays bounded however large the landing folder is."""
    batch: list[_Loaded] = []
    size = 0
    for item in items:
        batch.append(item)
        size += item.listings.height + item.code_links.height
        if size >= _BATCH_ENTRIES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_REJECTS_SCHEMA = polars_schema("raw.rejects")
_CODE_LINKS_SCHEMA = polars_schema("raw.pwc_links")


def _write_batch(con: Connection, batch: list[_Loaded]) -> None:
    listings = pl.concat([item.listings for item in batch])
    code_links = pl.concat([item.code_links for item in batch])
    files = pl.DataFrame(
        [
            item.row | {"listing_count": item.listings.height, "reject_count": len(item.rejects)}
            for item in batch
        ],
        infer_schema_length=None,
    )
    rejects = pl.DataFrame(
        [
            {
                "file_sha256": item.row["file_sha256"],
                "position": r.position,
                "reason": r.reason,
                "excerpt": r.excerpt,
            }
            for item in batch
            for r in item.rejects
        ],
        schema=_REJECTS_SCHEMA,
    )
    with registered(
        con, new_files=files, new_listings=listings, new_rejects=rejects, new_code=code_links
    ):
        con.execute(
            "INSERT INTO raw.dump_files BY NAME "
            "SELECT * REPLACE (fetched_at::TIMESTAMP AS fetched_at) FROM new_files"
        )
        con.execute(
            "INSERT INTO raw.file_names SELECT file_sha256, file_name, ingested_at FROM new_files"
        )
        con.execute("INSERT INTO raw.listings BY NAME SELECT * FROM new_listings")
        con.execute("INSERT INTO raw.rejects BY NAME SELECT * FROM new_rejects")
        con.execute("INSERT INTO raw.pwc_links BY NAME SELECT * FROM new_code")


@dataclass
class _Scan:
    """What a scan of the landing folder found: the new contents (path, hash, size), in
    landing order and each once; new names of contents already ingested; and every
    hashed file by path inside the folder, as of its size and modification time."""

    new: list[tuple[Path, str, int]] = field(default_factory=list)
    new_names: list[tuple[str, str]] = field(default_factory=list)
    hashes: dict[str, tuple[int, int, str]] = field(default_factory=dict)


def _hashes(con: Connection) -> dict[str, tuple[int, int, str]]:
    rows = con.execute("SELECT path, size, mtime_ns, file_sha256 FROM internal.landing_hashes")
    return {path: (size, mtime, sha) for path, size, mtime, sha in rows.fetchall()}


def _sha256_as_of(path: Path, known: tuple[int, int, str] | None) -> tuple[str, int, int]:
    """The file's hash, size and modification time: the hash known for this size and
    time, else read (stat first, so a file written while it is read is read again)."""
    stat = path.stat()
    if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return known[2], stat.st_size, stat.st_mtime_ns
    return _sha256_of(path), stat.st_size, stat.st_mtime_ns


def _scan(landing_dir: Path, con: Connection, report: IngestReport) -> _Scan:
    """Recognises every landing file by its hash; only files whose size or modification
    time changed since the last scan (or new ones) are read to be hashed."""
    known, known_names = _known(con)
    hashed = _hashes(con)
    scan = _Scan()
    for path in landing_files(landing_dir):
        report.scanned += 1
        name = visible(path.name)
        if outside_link(path, landing_dir):
            report.skipped[name] = "a link to a file outside the landing folder: not read"
            continue
        inside = path.relative_to(landing_dir).as_posix()
        try:
            sha, size, mtime_ns = _sha256_as_of(path, hashed.get(inside))
        except OSError as exc:
            report.skipped[name] = f"unreadable: {type(exc).__name__}: {exc.strerror}"
            continue
        scan.hashes[inside] = (size, mtime_ns, sha)
        if sha in known:
            report.already_ingested += 1
            if (sha, name) not in known_names:
                scan.new_names.append((sha, name))
                known_names.add((sha, name))
            continue
        known.add(sha)
        known_names.add((sha, name))
        scan.new.append((path, sha, size))
    return scan


_HASHES_SCHEMA = polars_schema("internal.landing_hashes")


def _keep_hashes(con: Connection, scan: _Scan, landing_dir: Path, changed: set[Path]) -> None:
    """Keeps the hashes of the files seen this time, but those that changed while read."""
    gone = {path.relative_to(landing_dir).as_posix() for path in changed}
    rows = [(p, *known) for p, known in scan.hashes.items() if p not in gone]
    hashes = pl.DataFrame(rows, schema=_HASHES_SCHEMA, orient="row")
    with registered(con, landing_hashes=hashes):
        con.execute("DELETE FROM internal.landing_hashes")
        con.execute("INSERT INTO internal.landing_hashes BY NAME SELECT * FROM landing_hashes")


def loaded_already(landing_dir: Path, warehouse: Warehouse) -> set[Path]:
    """The landing files whose content the warehouse holds (none when it does not
    exist yet). Hashes every file, so it is for a first look, not for every tick."""
    if not warehouse.exists():
        return set()
    with warehouse.connect(read_only=True) as con:
        known = {row[0] for row in con.execute("SELECT file_sha256 FROM raw.dump_files").fetchall()}
    loaded = set()
    for path in landing_files(landing_dir):
        with contextlib.suppress(OSError):
            if not outside_link(path, landing_dir) and _sha256_of(path) in known:
                loaded.add(path)
    return loaded


def ingest_landing(
    landing_dir: Path,
    warehouse: Warehouse,
    archive_dir: Path,
    today: date | None = None,
    workers: int | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> IngestReport:
    """Loads every landing file whose content is not in the warehouse yet, reading them
    in up to `workers` processes (default: one per CPU). The workers are spawned, so a
    script calling this needs the `if __name__ == "__main__":` guard."""
    today = today or date.today()
    report = IngestReport()
    with warehouse.writer() as con:
        scan = _scan(landing_dir, con, report)
        jobs = [_Job(path, sha, size, archive_dir, today, limits) for path, sha, size in scan.new]
        changed: set[Path] = set()

        def loaded() -> Iterator[_Loaded]:
            for job, item in zip(
                jobs, _loaded_files(jobs, workers or os.cpu_count() or 1), strict=True
            ):
                if item is None:
                    report.changed.append(job.path.name)
                    changed.add(job.path)
                    continue
                report.files.append(_outcome(item))
                yield item

        with transaction(con):
            for batch in _batches(loaded()):
                _write_batch(con, batch)
            report.superseded = supersede_partial_saves(con, [f.file_sha256 for f in report.files])
            if scan.new_names:
                con.executemany(
                    "INSERT INTO raw.file_names VALUES (?, ?, now()::TIMESTAMP)", scan.new_names
                )
            _keep_hashes(con, scan, landing_dir, changed)
    return report


def _outcome(loaded: _Loaded) -> FileOutcome:
    row = loaded.row
    return FileOutcome(
        file_name=str(row["file_name"]),
        file_sha256=str(row["file_sha256"]),
        status=str(row["status"]),
        layout=row["layout"],  # type: ignore[arg-type]
        listings=loaded.listings.height,
        rejects=len(loaded.rejects),
        error=row["error"],  # type: ignore[arg-type]
    )
