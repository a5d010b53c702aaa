"""Refresh benchmark on synthetic dumps: a full rebuild, then one small incremental dump.

    .venv/bin/python -m benchmarks.bench_refresh --entries 1000000
    .venv/bin/python -m benchmarks.bench_refresh --entries 1000000 --backends file,postgres

Not a test: it prints its figures beside the targets and leaves the judging to the
reader. The refresh is run as `pipeline.steps.refresh` runs it (ingest, clusters, papers,
links, paper code, with the same arguments), one step at a time so that each step is
timed on its own.
Generating the dumps is timed apart and not counted.

A step that fails, outlives `--step-timeout` or goes over `--rss-limit-gb` is stopped and
reported as such, and the next steps still run; the incremental phase then is skipped,
as it would not meet the warehouse it is meant to measure. Each step's figures are
printed as soon as it ends, so a run killed from outside still leaves them.

`--rss-limit-gb` is best effort: a DuckDB query notices the stop only between its tasks,
and one that allocates fast (the dedupe candidate query at 1M listings) can still run
far past the limit, so on a shared machine keep an outside watchdog as well. Do not
use `ulimit -v` instead: DuckDB and polars reserve far more address space than they
touch, so steps fail there at a fraction of the cap in resident memory.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import psutil

from benchmarks.synthetic_dumps import Corpus, generate_dumps, write_incremental_dump
from pipeline.db.connection import table_counts
from pipeline.dumps.ingest import IngestReport, ingest_landing
from pipeline.papers.build import PapersReport
from pipeline.papers.clusters import ClusterReport
from pipeline.settings import Settings
from pipeline.steps import build_link_tables, build_paper_tables, cluster_titles, judge_paper_code
from tests.postgres_server import PostgresServer, start_server

TARGET_ENTRIES = 1_000_000
TARGET_FULL_S = 120.0
TARGET_FULL_RSS = 6 * 1024**3
TARGET_INCREMENTAL_S = 15.0
INCREMENTAL_ENTRIES, INCREMENTAL_REPEATS, INCREMENTAL_TYPOS = 100, 10, 1
COUNTED_TABLES = ("raw.listings", "core.papers", "core.paper_repos")
SAMPLE_INTERVAL_S = 0.02
GB = 1024**3

T = TypeVar("T")


class StepStopped(Exception):
    """A step was stopped: it outlived `--step-timeout` or went over `--rss-limit-gb`."""


class RssSampler:
    """Samples the resident set size of this process and its children (the ingest
    workers) in a background thread and keeps the peaks (of the phase and of the current
    step). Over `limit`, it signals the main thread (SIGUSR1) so that `step_guard` stops
    the step."""

    def __init__(self, limit: int | None = None, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._process = psutil.Process()
        self._limit, self.tripped = limit, False
        self._interval_s = interval_s
        self._main = threading.main_thread().ident or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.start = self.peak = self.step_peak = self._rss()

    def _rss(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            with suppress(psutil.Error):  # a worker that just ended
                total += child.memory_info().rss
        return total

    def _sample(self) -> None:
        rss = self._rss()
        self.peak, self.step_peak = max(self.peak, rss), max(self.step_peak, rss)
        if self._limit and rss > self._limit and not self.tripped:
            self.tripped = True
            signal.pthread_kill(self._main, signal.SIGUSR1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval_s)

    def new_step(self) -> None:
        """Starts a new per-step peak (`step_peak`); `peak` keeps the phase's."""
        self.step_peak = self._rss()
        self.tripped = False

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def maxrss_bytes() -> int:
    """Peak RSS of this process over its whole life so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def step_guard(timeout_s: float | None, rss_limit: int | None) -> Iterator[None]:
    """Raises `StepStopped` in the block after `timeout_s`, or when the RSS sampler
    signals that `rss_limit` was passed. The exception is raised once Python code runs:
    DuckDB queries check for it as they run, a long polars call only when it returns."""

    def _timeout(signum: int, frame: object) -> None:
        raise StepStopped(f"still running after {timeout_s:g} s, stopped")

    def _memory(signum: int, frame: object) -> None:
        raise StepStopped(f"RSS went over {_gb(rss_limit or 0)}, stopped")

    previous = signal.signal(signal.SIGALRM, _timeout), signal.signal(signal.SIGUSR1, _memory)
    signal.setitimer(signal.ITIMER_REAL, timeout_s or 0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGUSR1, previous[1])


@dataclass
class Step(Generic[T]):
    seconds: float
    cpu_s: float  # CPU time of the process in the step, all threads (the box may be shared)
    peak_rss: int
    result: T | None = None
    error: str | None = None


@dataclass(frozen=True)
class Limits:
    timeout_s: float | None = None
    rss: int | None = None


def run_step(name: str, run: Callable[[], T], rss: RssSampler, limits: Limits) -> Step[T]:
    """Runs one refresh step; a failure (or a stop) is a measurement too. A line is
    printed at once, so that a run killed from outside still leaves its figures."""
    gc.collect()  # what an earlier step left behind is not this step's memory
    rss.new_step()
    start, cpu = time.perf_counter(), time.process_time()
    result, error = None, None
    try:
        with step_guard(limits.timeout_s, limits.rss):
            result = run()
    except Exception as exc:
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        if rss.tripped:  # DuckDB reports the stop as a bare "Query interrupted"
            error = f"stopped: RSS went over {_gb(limits.rss or 0)} ({error})"
    step = Step(time.perf_counter() - start, time.process_time() - cpu, rss.step_peak)
    step.result, step.error = result, error
    print(
        f"  {name}: {_seconds(step.seconds)}, cpu {_seconds(step.cpu_s)}, "
        f"peak RSS {_gb(step.peak_rss)}" + (f", FAILED: {error}" if error else ""),
        flush=True,
    )
    return step


@dataclass
class PhaseResult:
    wall_s: float
    ingest: Step[IngestReport]
    clusters: Step[ClusterReport]
    papers: Step[PapersReport]
    links: Step[int]
    paper_code: Step[dict[str, int]]
    rss_start: int
    rss_peak: int
    maxrss: int

    @property
    def steps(self) -> dict[str, Step[Any]]:
        return {
            "ingest": self.ingest,
            "clusters": self.clusters,
            "papers": self.papers,
            "links": self.links,
            "paper code": self.paper_code,
        }

    @property
    def complete(self) -> bool:
        return all(step.error is None for step in self.steps.values())

    @property
    def listings(self) -> int:
        return self.ingest.result.listings if self.ingest.result else 0


def run_refresh(settings: Settings, limits: Limits) -> PhaseResult:
    """`refresh(settings)` step by step: ingest, title clusters, papers, links, paper code."""
    with RssSampler(limits.rss) as rss:
        start = time.perf_counter()
        ingest = run_step(
            "ingest",
            lambda: ingest_landing(
                settings.landing_dir,
                settings.warehouse,
                settings.raw_archive_dir,
                workers=settings.ingest_workers,
            ),
            rss,
            limits,
        )
        clusters = run_step("clusters", lambda: cluster_titles(settings), rss, limits)
        papers = run_step("papers", lambda: build_paper_tables(settings), rss, limits)
        links = run_step("links", lambda: build_link_tables(settings), rss, limits)
        code = run_step("paper code", lambda: judge_paper_code(settings), rss, limits)
        wall = time.perf_counter() - start
    return PhaseResult(
        wall, ingest, clusters, papers, links, code, rss.start, rss.peak, maxrss_bytes()
    )


@dataclass
class Expected:
    """Row counts a correct refresh gives for what the generator wrote."""

    listings: int
    papers: int
    paper_repos: int

    @classmethod
    def of(cls, corpus: Corpus) -> Expected:
        return cls(
            corpus.entries, corpus.papers - corpus.title_collisions, corpus.papers_with_github
        )

    def as_dict(self) -> dict[str, int]:
        values = (self.listings, self.papers, self.paper_repos)
        return dict(zip(COUNTED_TABLES, values, strict=True))


@dataclass
class Table:
    """Rows of (figure, measured, target, verdict), printed with aligned columns."""

    title: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, figure: str, measured: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((figure, measured, target, verdict))

    def print(self) -> None:
        header = ("figure", "measured", "target or detail", "")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(4)]
        print(f"\n{self.title}")
        for row in [header, *self.rows]:
            cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
            print("  " + "   ".join([*cells, row[3]]).rstrip())


def _seconds(value: float) -> str:
    return f"{value:,.1f} s" if value >= 1 else f"{value * 1000:,.0f} ms"


def _gb(value: int) -> str:
    return f"{value / GB:,.2f} GB"


def _verdict(ok: bool, applies: bool) -> str:
    if not applies:
        return "(target is for 1M listings)"
    return "OK" if ok else "MISSED"


def _add_steps(table: Table, phase: PhaseResult) -> None:
    for name, step in phase.steps.items():
        share = step.seconds / phase.wall_s if phase.wall_s else 0.0
        where = f"{share:.0%}, cpu {_seconds(step.cpu_s)}, peak RSS {_gb(step.peak_rss)}"
        if step.error:
            table.add(f"  {name}", _seconds(step.seconds), where, f"FAILED: {step.error}")
        else:
            table.add(f"  {name}", _seconds(step.seconds), where)


def _add_phase(
    table: Table,
    name: str,
    phase: PhaseResult,
    entries: int,
    target_s: float,
    target_rss: int | None = None,
) -> None:
    applies = entries >= TARGET_ENTRIES
    verdict = _verdict(phase.wall_s <= target_s, applies) if phase.complete else "INCOMPLETE"
    table.add(f"{name}: wall time", _seconds(phase.wall_s), f"<= {target_s:g} s", verdict)
    _add_steps(table, phase)
    table.add("  throughput", f"{phase.listings / phase.wall_s:,.0f} listings/s")
    rss_target = f"<= {_gb(target_rss)}" if target_rss else ""
    rss_ok = target_rss is None or max(phase.rss_peak, phase.maxrss) <= target_rss
    table.add("  peak RSS, sampled in the phase", _gb(phase.rss_peak), rss_target)
    table.add(
        "  ru_maxrss (process so far)",
        _gb(phase.maxrss),
        rss_target,
        _verdict(rss_ok, applies) if target_rss else "",
    )
    if not applies and target_rss is not None and phase.complete:
        projected = phase.wall_s * TARGET_ENTRIES / max(1, phase.listings)
        # Not judged: start-up costs (worker processes, connections) do not grow with the
        # input, so a small run projects high; only a run at 1M can meet the target.
        table.add(
            "  wall time, linear projection to 1M",
            _seconds(projected),
            f"target {target_s:g} s at 1M; an overestimate",
            "(run --entries 1000000 to judge)",
        )


def _details(label: str, phase: PhaseResult) -> str:
    parts = [f"{label}:"]
    if ingest := phase.ingest.result:
        parts.append(
            f"{len(ingest.files)} files read ({ingest.quarantined} quarantined), "
            f"{ingest.listings:,} listings, {ingest.rejects:,} rejects;"
        )
    if clusters := phase.clusters.result:
        parts.append(
            f"{clusters.new_keys:,} new title keys, {clusters.typo_pairs:,} typo pairs, "
            f"{clusters.clusters_merged:,} clusters merged;"
        )
    if papers := phase.papers.result:
        parts.append(f"{papers.listings_mapped:,} listings mapped;")
    if phase.links.result is not None:
        parts.append(f"{phase.links.result:,} listings scanned for links")
    return " ".join(parts)


def row_counts(settings: Settings) -> dict[str, int]:
    with settings.warehouse.connect(read_only=True) as con:
        return table_counts(con, COUNTED_TABLES)


def _count_table(title: str, counts: dict[str, int], expected: Expected) -> Table:
    """Counts beside what the generator wrote."""
    table = Table(title)
    for name, count in counts.items():
        wanted = expected.as_dict()[name]
        table.add(name, f"{count:,}", f"expected {wanted:,}", "OK" if count == wanted else "DIFF")
    return table


@contextmanager
def work_directory(path: Path | None, keep: bool) -> Iterator[Path]:
    """A fresh directory for landing files and the warehouse, emptied afterwards (and
    removed, unless it was given and existed before)."""
    existed = path is not None and path.exists()
    if path is None:
        root = Path(tempfile.mkdtemp(prefix="bench_refresh_"))
    elif existed and any(path.iterdir()):
        raise SystemExit(f"--workdir {path} is not empty: the benchmark needs an empty one")
    else:
        root = path
        root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    finally:
        if keep:
            print(f"\nkept {root}")
        elif existed:
            for child in root.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(root, ignore_errors=True)


BACKENDS = ("file", "postgres", "sqlite")


def settings_for(
    root: Path, landing: Path, backend: str, server: PostgresServer | None
) -> Settings:
    """A warehouse under `root` on `backend`, reading `landing`: the DuckDB file, or a
    DuckLake with its catalog in `server` (postgres) or a SQLite file, data in `root`."""
    (root / "warehouse").mkdir(parents=True, exist_ok=True)  # a refresh needs the folder
    warehouse = str(root / "warehouse" / "papers.duckdb")
    if backend == "postgres" and server is not None:
        warehouse = f"ducklake:postgres:{server.new_database()}"
    elif backend == "sqlite":
        warehouse = f"ducklake:sqlite:{root / 'warehouse' / 'catalog.sqlite'}"
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": warehouse,
            "PAPERS_LAKE_DATA_PATH": str(root / "warehouse" / "lake_data"),
            "PAPERS_RAW_ARCHIVE": str(root / "warehouse" / "raw_archive"),
            "PAPERS_OFFLINE": "1",
        }
    )


def _generate(landing: Path, entries: int, seed: int) -> Corpus:
    start = time.perf_counter()
    corpus = generate_dumps(landing, entries, seed)
    layouts = ", ".join(f"{n:,} {layout}" for layout, n in corpus.entries_by_layout.items())
    print(
        f"generated in {_seconds(time.perf_counter() - start)} (not counted): "
        f"{len(corpus.files)} files, {corpus.bytes / GB:.2f} GB, {corpus.entries:,} entries "
        f"({layouts}); {corpus.papers:,} papers, {corpus.repeats:,} repeats, "
        f"{corpus.typos:,} typo variants, {corpus.title_collisions:,} title collisions "
        "(papers generated with a title an earlier one had: one paper each)"
    )
    return corpus


@dataclass
class BackendRun:
    settings: Settings
    full_expected: Expected
    full: PhaseResult | None = None
    full_counts: dict[str, int] = field(default_factory=dict)
    incremental: PhaseResult | None = None


@contextmanager
def postgres_for(backends: list[str]) -> Iterator[PostgresServer | None]:
    """A throwaway PostgreSQL server (the tests' own) when a backend needs one."""
    if "postgres" not in backends:
        yield None
        return
    server = start_server()
    if server is None:
        raise SystemExit("the postgres backend needs PostgreSQL: install the package postgresql")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def _report(name: str, entries: int, corpus: Corpus, result: BackendRun) -> None:
    table = Table(
        f"{name}: timings (targets are for 1M listings; {result.settings.warehouse.location})"
    )
    assert result.full is not None
    _add_phase(table, "full rebuild", result.full, entries, TARGET_FULL_S, TARGET_FULL_RSS)
    if result.incremental is not None:
        _add_phase(table, "incremental (+100)", result.incremental, entries, TARGET_INCREMENTAL_S)
    else:
        table.add("incremental (+100)", "skipped", "", "the full rebuild did not complete")
    table.print()
    print()
    print(_details("full rebuild", result.full))
    _count_table(
        "row counts after the full rebuild", result.full_counts, result.full_expected
    ).print()
    if result.incremental is not None:
        print()
        print(_details("incremental", result.incremental))
        counts = row_counts(result.settings)
        _count_table("row counts after the incremental dump", counts, Expected.of(corpus)).print()


def _side_by_side(results: dict[str, BackendRun]) -> None:
    table = Table("backends side by side (wall time)")
    for name, result in results.items():
        full = _seconds(result.full.wall_s) if result.full else "-"
        incremental = _seconds(result.incremental.wall_s) if result.incremental else "-"
        table.add(name, full, f"incremental (+100) {incremental}")
    table.print()


def run(entries: int, seed: int, root: Path, limits: Limits, backends: list[str]) -> None:
    """Generates the dumps once; every backend rebuilds from them, then each takes the
    same incremental dump (written after all full rebuilds, so none sees it early)."""
    landing = root / "landing"
    print(f"refresh benchmark: {entries:,} entries, seed {seed}, work directory {root}")
    corpus = _generate(landing, entries, seed)
    with postgres_for(backends) as server:
        expected = Expected.of(corpus)
        results = {
            b: BackendRun(settings_for(root / b, landing, b, server), expected) for b in backends
        }
        for name, result in results.items():
            print(f"{name}: full rebuild", flush=True)
            result.full = run_refresh(result.settings, limits)
            result.full_counts = row_counts(result.settings)
        write_incremental_dump(
            landing, corpus, INCREMENTAL_ENTRIES, INCREMENTAL_REPEATS, INCREMENTAL_TYPOS
        )
        for name, result in results.items():
            if result.full is not None and result.full.complete:
                print(f"{name}: incremental (+100)", flush=True)
                result.incremental = run_refresh(result.settings, limits)
        for name, result in results.items():
            _report(name, entries, corpus, result)
        if len(results) > 1:
            _side_by_side(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="listings to generate")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--workdir", type=Path, help="empty directory to work in (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--step-timeout", type=float, help="stop a step after this many s")
    parser.add_argument("--rss-limit-gb", type=float, help="stop a step whose RSS goes over")
    parser.add_argument(
        "--backends",
        default="file",
        help="comma-separated, run one after another on the same dumps: file (DuckDB file), "
        "postgres (DuckLake, catalog on a throwaway PostgreSQL server), sqlite (DuckLake, "
        "SQLite catalog); default file",
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"--backends takes some of {', '.join(BACKENDS)}, got {args.backends!r}")
    rss_limit = int(args.rss_limit_gb * GB) if args.rss_limit_gb else None
    with work_directory(args.workdir, args.keep) as root:
        run(args.entries, args.seed, root, Limits(args.step_timeout, rss_limit), backends)


if __name__ == "__main__":
    main()
