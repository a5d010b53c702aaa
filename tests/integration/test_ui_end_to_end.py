"""End to end through the UI's own API: a real `dagster-webserver` and `dagster-daemon` on
loopback, against a temporary DAGSTER_HOME (the project's `dagster.yaml`: the
`duckdb_writer` pool and the run queue) and a temporary warehouse, offline.

- a `refresh` launched with the GraphQL `launchRun` mutation (what the UI's Launchpad
  sends) is queued, dequeued by the daemon and fills the same warehouse as the plain
  `pipeline.steps.refresh` on the same files;
- the landing sensor, switched on with the UI's `startSensor` mutation, launches exactly
  one `refresh` for a file dropped into the landing folder, and none while nothing new
  arrives.

Both stop every process they started, and check that none is left.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pipeline.db.connection import DuckDBFile
from pipeline.dumps.ingest import landing_files
from pipeline.settings import Settings
from pipeline.steps import refresh
from tests.fakes.dagster_processes import PROJECT_ROOT, DagsterDeployment
from tests.integration.test_dagster import CORE_ASSET_TABLES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"
SENSOR = "landing_sensor"
SENSOR_INTERVAL_S = 2  # PAPERS_SENSOR_INTERVAL_S; the daemon itself ticks every ~5 s
COMPARED_TABLES = sorted(CORE_ASSET_TABLES)
RUN_TIMEOUT_S = 90


# --- the deployment fixture -----------------------------------------------------------------


def _live_children() -> list[psutil.Process]:
    """Every live (not zombie) descendant of this test process."""
    live = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                live.append(child)
        except psutil.NoSuchProcess:
            continue
    return live


class Deployments:
    """Starts deployments for a test and always stops them, whatever the test did."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[DagsterDeployment] = []
        self.children_before = {child.pid for child in _live_children()}

    def start(self, landing_dir: Path) -> DagsterDeployment:
        deployment = DagsterDeployment(
            root=self.root / f"deployment{len(self.started)}",
            landing_dir=landing_dir,
            env_overrides={"PAPERS_SENSOR_INTERVAL_S": str(SENSOR_INTERVAL_S)},
        )
        deployment.root.mkdir(parents=True)
        self.started.append(deployment)
        return deployment.start(timeout_s=75)

    def stop_and_check(self, deployment: DagsterDeployment, within_s: float = 30.0) -> None:
        """Stops the deployment in bounded time and proves no process of ours survived:
        neither one seen in its process trees nor any new child of this test process."""
        started = time.monotonic()
        survivors = deployment.stop()
        took = time.monotonic() - started
        assert not survivors, f"still running after stop: {survivors}"
        assert deployment.known_pids(), "no process was ever seen"
        new_children = [
            child for child in _live_children() if child.pid not in self.children_before
        ]
        assert not new_children, f"children of the test left running: {new_children}"
        assert took < within_s, f"stopping took {took:.1f} s"

    def stop_all(self) -> None:
        for deployment in self.started:
            deployment.stop()


@pytest.fixture
def deployments(tmp_path: Path) -> Iterator[Deployments]:
    manager = Deployments(tmp_path / "dagster")
    try:
        yield manager
    finally:
        manager.stop_all()


# --- the warehouse, and the same files loaded without Dagster ----------------------------


def snapshot(warehouse: Path) -> dict[str, object]:
    """Row counts of the compared tables, the paper ids and the files by status."""
    with DuckDBFile(warehouse, lock_timeout_s=30).connect(read_only=True) as con:
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in COMPARED_TABLES
        }
        paper_ids = sorted(r[0] for r in con.execute("SELECT paper_id FROM core.papers").fetchall())
        files = sorted(con.execute("SELECT file_name, status FROM raw.dump_files").fetchall())
    return {"counts": counts, "paper_ids": paper_ids, "files": files}


def reference_snapshot(files: list[Path], root: Path) -> dict[str, object]:
    """What `pipeline.steps.refresh` (no Dagster, offline) makes of the same files."""
    landing = root / "landing"
    landing.mkdir(parents=True)
    for path in files:
        shutil.copy(path, landing / path.name)
    warehouse = root / "papers.duckdb"
    refresh(
        Settings.from_env(
            {
                "PAPERS_LANDING_DIR": str(landing),
                "PAPERS_WAREHOUSE": str(warehouse),
                "PAPERS_RAW_ARCHIVE": str(root / "raw_archive"),
                "PAPERS_OFFLINE": "1",
            }
        )
    )
    return snapshot(warehouse)


def assert_succeeded(deployment: DagsterDeployment, run: dict[str, object]) -> None:
    run_id = str(run["runId"])
    assert run["status"] == "SUCCESS", (
        f"run {run_id} ended {run['status']}:\n"
        f"{deployment.run_failure_messages(run_id)}\n{deployment.logs()}"
    )


# --- the tests ------------------------------------------------------------------------------


def test_refresh_launched_through_graphql_fills_the_warehouse(
    deployments: Deployments, tmp_path: Path
) -> None:
    started = time.monotonic()
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    expected = reference_snapshot(
        [path for path in landing.iterdir() if path.is_file()], tmp_path / "reference"
    )

    deployment = deployments.start(landing)
    run_id = deployment.launch_run("refresh")
    run = deployment.wait_for_run(run_id, RUN_TIMEOUT_S)
    assert_succeeded(deployment, run)
    assert run["jobName"] == "refresh"

    got = snapshot(deployment.warehouse)
    assert got == expected
    counts = got["counts"]
    assert isinstance(counts, dict)
    # the samples as the README describes them: every raw file recorded (sidecars are
    # not raw files), the one that is not a dump quarantined, the cut-off entry rejected
    assert counts["raw.dump_files"] == len(landing_files(landing))
    assert [name for name, status in got["files"] if status == "quarantined"] == [
        "meeting_notes.txt"
    ]
    assert counts["raw.listings"] > 0 and 0 < counts["core.papers"] <= counts["raw.listings"]
    assert counts["raw.rejects"] == 2  # the quarantined file and the cut-off entry
    # the last step of the job ran too: the readers' copy was published
    assert (deployment.warehouse.parent / "papers_read.duckdb").is_file()

    deployments.stop_and_check(deployment)
    assert time.monotonic() - started < 120


def _sensor_runs(deployment: DagsterDeployment) -> list[dict[str, object]]:
    return [
        run
        for run in deployment.runs("refresh")
        if isinstance(run["tags"], dict) and run["tags"].get("dagster/sensor_name") == SENSOR
    ]


def _ticks(deployment: DagsterDeployment) -> list[dict[str, object]]:
    ticks = deployment.sensor_ticks(SENSOR)
    failed = [tick for tick in ticks if tick["status"] == "FAILURE"]
    assert not failed, f"sensor ticks failed: {failed}\n{deployment.logs()}"
    return ticks


def test_landing_sensor_launches_one_refresh_per_new_file(
    deployments: Deployments, tmp_path: Path
) -> None:
    dropped = SAMPLES / "search_retrieval_2026-03.txt"
    expected = reference_snapshot([dropped], tmp_path / "reference")
    landing = tmp_path / "landing"
    landing.mkdir()

    deployment = deployments.start(landing)
    sensor = deployment.start_sensor(SENSOR)
    assert sensor["sensorState"]["status"] == "RUNNING"
    assert sensor["minIntervalSeconds"] == SENSOR_INTERVAL_S  # PAPERS_SENSOR_INTERVAL_S

    # the daemon evaluates it on the empty folder: a skipped tick, no run
    deployment.wait_for(
        lambda: any(tick["status"] == "SKIPPED" for tick in _ticks(deployment)),
        45,
        "the sensor's first tick",
    )
    assert deployment.runs("refresh") == []

    shutil.copy(dropped, landing / dropped.name)
    run = deployment.wait_for(
        lambda: next(
            (r for r in _sensor_runs(deployment) if r["status"] in {"SUCCESS", "FAILURE"}),
            None,
        ),
        RUN_TIMEOUT_S,
        "the sensor's refresh run to finish",
    )
    assert_succeeded(deployment, run)
    assert isinstance(run["tags"], dict) and run["tags"]["papers/new_files"] == "1"
    assert snapshot(deployment.warehouse) == expected
    assert expected["files"] == [(dropped.name, "loaded")]

    # nothing new lands: the next ticks skip, and no second run starts
    finished = time.time()
    deployment.wait_for(
        lambda: (
            sum(
                tick["status"] == "SKIPPED" and float(str(tick["timestamp"])) > finished
                for tick in _ticks(deployment)
            )
            >= 2
        ),
        45,
        "two sensor ticks after the run",
    )
    requesting = [tick for tick in _ticks(deployment) if tick["runIds"]]
    assert [tick["runIds"] for tick in requesting] == [[run["runId"]]]
    assert [r["runId"] for r in deployment.runs("refresh")] == [run["runId"]]

    deployments.stop_and_check(deployment)
