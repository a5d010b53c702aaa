"""A real Dagster deployment for end-to-end tests: `dagster-webserver` and `dagster-daemon`
as subprocesses on loopback, a temporary DAGSTER_HOME with the project's `dagster.yaml`,
the warehouse paths in a temporary folder, and the GraphQL API the UI uses.

Every process is started in its own session (its own process group), so stopping a
deployment signals the whole group, code servers and run workers included; whatever is
still alive after a grace period is killed, and `stop` reports any process that survived.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests
from dagster import DagsterInstance

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TERMINAL_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# Any service a step might call despite PAPERS_OFFLINE lands on a closed loopback port.
CLOSED_PORT_URL = "http://127.0.0.1:9"


class DeploymentError(AssertionError):
    """The deployment did not do what a test waited for; the message carries its logs."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_executable(name: str) -> str:
    """A console script of the running interpreter's environment (`.venv/bin/<name>`)."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}")
    return str(path)


def wait_until(
    condition: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.5
) -> Any:
    """Polls `condition` until it returns something truthy; fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def _error_chain(error: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A GraphQL PythonError and the errors that caused it, outermost first."""
    return [error, *error.get("causes", [])] if error else []


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass
class DagsterDeployment:
    """Webserver + daemon against one temporary DAGSTER_HOME and warehouse."""

    root: Path
    landing_dir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: list[ManagedProcess] = field(default_factory=list)
    _seen: dict[int, psutil.Process] = field(default_factory=dict)
    _location: tuple[str, str] | None = None
    _stopped: bool = False

    # --- paths and environment ----------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def warehouse(self) -> Path:
        path = self.root / "warehouse" / "papers.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)  # a refresh refuses a missing folder
        return path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERS_", "DAGSTER_"))}
        env.update(
            {
                "DAGSTER_HOME": str(self.home),
                "PAPERS_LANDING_DIR": str(self.landing_dir),
                "PAPERS_WAREHOUSE": str(self.warehouse),
                "PAPERS_RAW_ARCHIVE": str(self.root / "warehouse" / "raw_archive"),
                "PAPERS_READ_COPY": str(self.root / "warehouse" / "papers_read.duckdb"),
                "PAPERS_OFFLINE": "1",
                "ARXIV_API_URL": CLOSED_PORT_URL,
                "HF_BASE_URL": CLOSED_PORT_URL,
                "GITHUB_API_URL": CLOSED_PORT_URL,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env_overrides)
        return env

    def _prepare_home(self) -> None:
        """The project's instance config, with its SQLite storage created up front: the
        webserver and the daemon starting together would otherwise race to create the
        same tables (`table ... already exists`)."""
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", self.home / "dagster.yaml")
        with DagsterInstance.from_config(str(self.home)) as instance:
            instance.get_runs(limit=1)
            instance.all_instigator_state()
            instance.event_log_storage.get_concurrency_keys()

    # --- processes ----------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> ManagedProcess:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                args,
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, children included
            )
        process = ManagedProcess(name, popen, log)
        self.processes.append(process)
        return process

    def start(self, timeout_s: float = 60.0) -> DagsterDeployment:
        self._prepare_home()
        workspace = str(PROJECT_ROOT / "workspace.yaml")
        self._spawn(
            "webserver",
            [
                venv_executable("dagster-webserver"),
                *("-h", "127.0.0.1", "-p", str(self.port), "-w", workspace),
            ],
        )
        self._spawn("daemon", [venv_executable("dagster-daemon"), "run", "-w", workspace])
        self.wait_for(self._repository_loaded, timeout_s, "the webserver to load the code")
        return self

    def _check_alive(self) -> None:
        for process in self.processes:
            code = process.popen.poll()
            if code is not None:
                raise DeploymentError(
                    f"{process.name} exited with {code}:\n{process.tail()}\n{self.logs()}"
                )

    def logs(self, chars: int = 2500) -> str:
        return "\n".join(f"--- {p.name} log ---\n{p.tail(chars)}" for p in self.processes)

    def wait_for(self, condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
        """`wait_until`, failing early with the logs when a process dies."""

        def check() -> Any:
            self._check_alive()
            return condition()

        try:
            return wait_until(check, timeout_s, what)
        except TimeoutError as exc:
            raise DeploymentError(f"{exc}\n{self.logs()}") from None

    def _snapshot(self) -> list[psutil.Process]:
        """Every process of ours alive now: the started ones and all their descendants."""
        for process in self.processes:
            if process.popen.poll() is not None:
                continue  # exited and reaped: its id may belong to someone else by now
            try:
                root = psutil.Process(process.popen.pid)
            except psutil.NoSuchProcess:
                continue
            for member in [root, *_descendants(root.pid)]:
                self._seen.setdefault(member.pid, member)
        return _alive(self._seen.values())

    def _signal_all(self, sig: signal.Signals, members: list[psutil.Process]) -> None:
        """`sig` to each started process's group, while its leader is alive and unreaped
        (so the group id is still ours), and to every known member by its own id (psutil
        checks a process is still the one seen, so a reused id is never signalled)."""
        for process in self.processes:
            if process.popen.poll() is None:
                _signal_group(process.popen.pid, sig)
        for member in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.send_signal(sig)

    def stop(self, grace_s: float = 15.0, kill_wait_s: float = 5.0) -> list[psutil.Process]:
        """SIGTERM to every process of ours, then SIGKILL to whatever outlived `grace_s`.
        Returns the processes still alive afterwards (none, when all went well). Safe to
        call again: a stopped deployment is left alone."""
        if self._stopped:
            return _alive(self._seen.values())
        self._stopped = True
        self._signal_all(signal.SIGTERM, self._snapshot())
        deadline = time.monotonic() + grace_s
        while (alive := self._snapshot()) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive:
            self._signal_all(signal.SIGKILL, alive)
            psutil.wait_procs(alive, timeout=kill_wait_s)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=kill_wait_s)
        return _alive(self._seen.values())

    def known_pids(self) -> set[int]:
        return set(self._seen)

    # --- GraphQL --------------------------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise DeploymentError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def _repository_loaded(self) -> tuple[str, str] | None:
        try:
            data = self.graphql(REPOSITORIES_QUERY)
        except (requests.ConnectionError, requests.Timeout, DeploymentError):
            return None
        result = data["repositoriesOrError"]
        if result["__typename"] != "RepositoryConnection":
            return None
        for repo in result["nodes"]:
            if any(job["name"] == "refresh" for job in repo["jobs"]):
                self._location = (repo["location"]["name"], repo["name"])
                return self._location
        return None

    @property
    def location(self) -> tuple[str, str]:
        """(repositoryLocationName, repositoryName) of the code location with `refresh`."""
        if self._location is None:
            raise DeploymentError("the code location is not loaded yet")
        return self._location

    def launch_run(self, job_name: str) -> str:
        location, repository = self.location
        data = self.graphql(
            LAUNCH_RUN_MUTATION,
            {
                "executionParams": {
                    "selector": {
                        "repositoryLocationName": location,
                        "repositoryName": repository,
                        "jobName": job_name,
                    },
                    "runConfigData": {},
                }
            },
        )
        result = data["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise DeploymentError(f"launchRun failed: {result}")
        return result["run"]["runId"]

    def run(self, run_id: str) -> dict[str, Any]:
        result = self.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        if result["__typename"] != "Run":
            raise DeploymentError(f"runOrError: {result}")
        result["tags"] = {tag["key"]: tag["value"] for tag in result["tags"]}
        return result

    def wait_for_run(self, run_id: str, timeout_s: float) -> dict[str, Any]:
        return self.wait_for(
            lambda: (run := self.run(run_id))["status"] in TERMINAL_RUN_STATUSES and run,
            timeout_s,
            f"run {run_id} to finish",
        )

    def runs(self, job_name: str) -> list[dict[str, Any]]:
        result = self.graphql(RUNS_QUERY, {"filter": {"pipelineName": job_name}})["runsOrError"]
        if result["__typename"] != "Runs":
            raise DeploymentError(f"runsOrError: {result}")
        for run in result["results"]:
            run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
        return result["results"]

    def run_failure_messages(self, run_id: str) -> str:
        result = self.graphql(RUN_LOGS_QUERY, {"runId": run_id})["logsForRun"]
        events = result.get("events", [])
        return "\n".join(
            " ".join(
                [
                    f"{event['__typename']}: {event.get('message', '')}",
                    *(error["message"] for error in _error_chain(event.get("error"))),
                ]
            )
            for event in events
            if "Failure" in event["__typename"]
        )

    def _sensor_selector(self, sensor_name: str) -> dict[str, str]:
        location, repository = self.location
        return {
            "repositoryLocationName": location,
            "repositoryName": repository,
            "sensorName": sensor_name,
        }

    def start_sensor(self, sensor_name: str) -> dict[str, Any]:
        result = self.graphql(
            START_SENSOR_MUTATION, {"sensorSelector": self._sensor_selector(sensor_name)}
        )["startSensor"]
        if result["__typename"] != "Sensor":
            raise DeploymentError(f"startSensor failed: {result}")
        return result

    def sensor_ticks(self, sensor_name: str, limit: int = 50) -> list[dict[str, Any]]:
        """The sensor's ticks, newest first."""
        result = self.graphql(
            SENSOR_TICKS_QUERY,
            {"sensorSelector": self._sensor_selector(sensor_name), "limit": limit},
        )["sensorOrError"]
        if result["__typename"] != "Sensor":
            raise DeploymentError(f"sensorOrError: {result}")
        return result["sensorState"]["ticks"]


REPOSITORIES_QUERY = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } jobs { name } }
    }
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN_MUTATION = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on Error { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName tags { key value } }
    ... on Error { message }
  }
}
"""

RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName creationTime tags { key value } } }
    ... on Error { message }
  }
}
"""

RUN_LOGS_QUERY = """
query RunLogs($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level }
        ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
      }
    }
    ... on Error { message }
  }
}
"""

START_SENSOR_MUTATION = """
mutation StartSensor($sensorSelector: SensorSelector!) {
  startSensor(sensorSelector: $sensorSelector) {
    __typename
    ... on Sensor { name minIntervalSeconds sensorState { status } }
    ... on Error { message }
  }
}
"""

SENSOR_TICKS_QUERY = """
query SensorTicks($sensorSelector: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $sensorSelector) {
    __typename
    ... on Sensor {
      sensorState {
        status
        ticks(limit: $limit) { tickId status timestamp runIds skipReason error { message } }
      }
    }
    ... on Error { message }
  }
}
"""


def cli_env(root: Path) -> dict[str, str]:
    """The environment of a `dagster job execute` on a warehouse in `root`, offline, with a
    DAGSTER_HOME of its own there."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    return os.environ | {
        "PAPERS_LANDING_DIR": str(root / "landing"),
        "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
        "PAPERS_RAW_ARCHIVE": str(root / "archive"),
        "PAPERS_READ_COPY": str(root / "papers_read.duckdb"),
        "DAGSTER_HOME": str(home),
        "PAPERS_OFFLINE": "1",
    }
