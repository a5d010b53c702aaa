"""A killed run never blocks the next one, and every process the pipeline starts stops.

Real processes and the project's own `dagster.yaml` (a `duckdb_writer` pool of one): a
refresh run by `dagster job execute` is killed with SIGKILL while it holds the writer
slot, and the next refresh must free that slot and finish; a refresh waiting for a slot
says at INFO level which run holds it, and stops on SIGTERM; ingest workers end when the
process that spawned them is killed.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from pipeline.settings import PROJECT_ROOT
from tests.builders import Listing, abstract, dump_text
from tests.fakes.dagster_processes import cli_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
POOL = "duckdb_writer"


def _home(root: Path) -> Path:
    home = Path(cli_env(root)["DAGSTER_HOME"])
    shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)  # the storage exists before two processes race for it
    return home


def _env(root: Path) -> dict[str, str]:
    return cli_env(root) | {"PAPERS_INGEST_WORKERS": "1"}


def _land(root: Path, files: int, per_file: int) -> None:
    landing = root / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        listings = [
            Listing(
                f"Killed Run Study {f} Number {n}", abstract(f"study {f} {n}"), 3, "Oct 1, 2024"
            )
            for n in range(per_file)
        ]
        (landing / f"dump_{f}.txt").write_text(dump_text(listings))


def _refresh(root: Path, log: Path) -> subprocess.Popen[bytes]:
    dagster = Path(sys.executable).parent / "dagster"
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(dagster), "job", "execute", "-m", "assets.definitions", "-j", "refresh"],
            cwd=PROJECT_ROOT,
            env=_env(root),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _claimed(home: Path) -> list[str]:
    with DagsterInstance.from_config(str(home)) as instance:
        return [
            s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        ]


def _runs(home: Path) -> dict[str, DagsterRunStatus]:
    with DagsterInstance.from_config(str(home)) as instance:
        return {run.run_id: run.status for run in instance.get_runs()}


def test_a_refresh_killed_holding_the_writer_slot_does_not_block_the_next(tmp_path: Path) -> None:
    home = _home(tmp_path)
    _land(tmp_path, files=40, per_file=400)  # the raw step takes a few seconds
    first = _refresh(tmp_path, tmp_path / "first.log")
    _wait_for(lambda: _claimed(home), 120, "the first refresh to hold the writer slot")
    (killed,) = _claimed(home)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert _runs(home)[killed] == DagsterRunStatus.STARTED  # what Dagster alone leaves
    assert _claimed(home) == [killed]

    started = time.monotonic()
    second = _refresh(tmp_path, tmp_path / "second.log")
    code = second.wait(timeout=180)
    log = (tmp_path / "second.log").read_text()
    assert code == 0, log[-3000:]
    assert time.monotonic() - started < 150
    assert f"the process of run {killed}" in log and "is gone" in log
    runs = _runs(home)
    assert runs[killed] == DagsterRunStatus.FAILURE
    assert sorted(runs.values(), key=str) == sorted(
        [DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS], key=str
    )
    assert _claimed(home) == []


def test_a_waiting_refresh_says_what_it_waits_for_and_stops_on_sigterm(tmp_path: Path) -> None:
    home = _home(tmp_path)
    _land(tmp_path, files=1, per_file=3)
    with DagsterInstance.from_config(str(home)) as instance:
        # A live holder the reaper must leave alone: a run with no process of ours.
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(POOL)
        assert storage.claim_concurrency_slot(POOL, "holder-run", "raw_files").is_claimed
    waiting = _refresh(tmp_path, tmp_path / "waiting.log")
    log = tmp_path / "waiting.log"
    _wait_for(lambda: "waits for a slot of pool duckdb_writer" in log.read_text(), 120, "the wait")
    assert "held by run holder-run (step raw_files)" in log.read_text()
    waiting.send_signal(signal.SIGTERM)
    started = time.monotonic()
    waiting.wait(timeout=60)
    assert time.monotonic() - started < 30
    assert not psutil.pid_exists(waiting.pid) or psutil.Process(waiting.pid).status() == "zombie"
    assert list(_runs(home).values()) == [DagsterRunStatus.CANCELED]
    assert _claimed(home) == ["holder-run"]  # the live holder was left alone


def test_ingest_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    _land(tmp_path, files=24, per_file=1500)  # enough for the workers to be busy a while
    script = textwrap.dedent(
        f"""
        import pipeline.dumps.ingest as ingest
        from pipeline.db.connection import DuckDBFile
        from pathlib import Path
        if __name__ == "__main__":
            ingest._POOL_MIN_BYTES = 0
            ingest.ingest_landing(
                Path({str(tmp_path / "landing")!r}),
                DuckDBFile(Path({str(tmp_path / "w.duckdb")!r})),
                Path({str(tmp_path / "archive")!r}),
                workers=2,
            )
        """
    )
    (tmp_path / "run.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "run.py")], cwd=PROJECT_ROOT)
    process = psutil.Process(parent.pid)

    def workers() -> list[psutil.Process]:
        return [c for c in process.children(recursive=True) if "spawn" in " ".join(c.cmdline())]

    _wait_for(lambda: len(workers()) >= 2, 60, "two ingest workers")
    spawned = workers()
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    _, alive = psutil.wait_procs(spawned, timeout=15)
    assert alive == [], [p.pid for p in alive]
