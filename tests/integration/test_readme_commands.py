"""Every command README.md shows, run exactly as written, the way a newcomer meets it.

The project is copied (its tracked and unignored files, as a fresh clone has them) into a
temporary folder with `../shared` beside it where this checkout has one. There, the
README's set-up command, `./scripts/demo.sh`, creates the copy's own `.venv` from the lock
file, and then each command README shows runs with `bash -c` from the copy's root, in the
order README gives them. A command is found in README wherever it starts with
`./scripts/` or `.venv/bin/` (after optional `NAME=value` settings): in `bash` blocks
and in inline code, so a command added to README without a way to check it here fails
`test_every_readme_command_is_checked`.

No command may reach the internet: the environment is offline (`PAPERS_OFFLINE=1`), with
the service URLs on a local fake arXiv (for the one command that turns the network on,
`PAPERS_OFFLINE=0 ./scripts/demo.sh`) or a closed loopback port. `dg dev` is started,
checked to serve the code location on its default port (3000), and stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests

from tests.fakes.arxiv import FakeArxiv, FakePaper
from tests.fakes.dagster_processes import (
    CLOSED_PORT_URL,
    PROJECT_ROOT,
    REPOSITORIES_QUERY,
    wait_until,
)
from tests.fakes.local_server import LocalServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

README = PROJECT_ROOT / "README.md"
SETUP = "./scripts/demo.sh"
DEV_URL = "http://127.0.0.1:3000"  # `dg dev` and `dagster dev` without `-p`
COMMAND_START = re.compile(r"^(?:[A-Z_]+=\S+ )*(?:\./scripts/|\.venv/bin/)")


@dataclass(frozen=True)
class Check:
    """How a README command is checked: `run` to the end (exit 0, `output` in what it
    prints), `serve` until the UI answers, or `ci`: the test suite itself, which
    `.ci/run` runs on every fresh clone. `before` is a README command run first, for
    the state README's words put the command in."""

    kind: str = "run"
    output: str = ""
    timeout_s: float = 300
    before: str = ""


LAKE = "PAPERS_WAREHOUSE=ducklake:sqlite:warehouse/lake.sqlite"
BACKFILL = (
    ".venv/bin/dg launch --assets landing/hf_daily_papers --partition-range 2026-11-18...2026-11-20"
)

DEDUPE_BENCH = "python3 -m uv run --frozen --group bench python -m benchmarks.dedupe_vs_splink"

COMMANDS: dict[str, Check] = {
    SETUP: Check(output="Ran offline (PAPERS_OFFLINE=1)"),
    "./scripts/test.sh": Check("ci"),
    "PAPERS_OFFLINE=0 ./scripts/demo.sh": Check(output="core.arxiv_papers"),
    './scripts/test.sh -m "not slow"': Check("ci"),
    "PAPERS_LANDING_DIR=warehouse/raw_archive PAPERS_WAREHOUSE=warehouse/rebuilt.duckdb "
    "PAPERS_RAW_ARCHIVE=/tmp/unused .venv/bin/dg launch --job refresh": Check(output="RUN_SUCCESS"),
    ".venv/bin/python -m pipeline.query warehouse/queries/rejected_and_why.sql": Check(
        output="reason"
    ),
    ".venv/bin/dg launch --job refresh": Check(output="RUN_SUCCESS"),
    "DAGSTER_HOME=$PWD/.dagster_home .venv/bin/dg dev": Check("serve"),
    "PAPERS_OFFLINE=1 DAGSTER_HOME=$PWD/.dagster_home .venv/bin/dg dev": Check("serve"),
    ".venv/bin/dg launch --assets core/papers": Check(output="RUN_SUCCESS"),
    ".venv/bin/dg check defs": Check(output="All definitions loaded successfully"),
    '.venv/bin/python -m pipeline.query "SELECT count(*) AS papers FROM core.papers"': Check(
        output="papers"
    ),
    ".venv/bin/dagster job execute -m assets.definitions -j refresh": Check(output="RUN_SUCCESS"),
    f"{LAKE} .venv/bin/dg launch --job refresh": Check(output="RUN_SUCCESS"),
    f"{LAKE} .venv/bin/python -m pipeline.query": Check(output="ducklake:sqlite:"),
    # "once the lake has seen two refreshes"
    f'{LAKE} .venv/bin/python -m pipeline.query --as-of previous-refresh "SELECT count(*) AS '
    'papers FROM core.papers"': Check(
        output="papers", before=f"{LAKE} .venv/bin/dg launch --job refresh"
    ),
    "DAGSTER_HOME=$PWD/.dagster_home .venv/bin/dagster dev -w workspace.yaml": Check("serve"),
    ".venv/bin/dg launch --assets marts/trending": Check(output="RUN_SUCCESS"),
    # offline here: tests/integration/test_hf_pipeline.py runs it against a fake Hugging Face
    BACKFILL: Check(output="PAPERS_OFFLINE is set: not fetching 2026-11-18, 2026-11-19"),
    "DAGSTER_HOME=$PWD/.dagster_home .venv/bin/dagster schedule start daily_refresh "
    "-w workspace.yaml": Check(output="Started schedule daily_refresh"),
    "DAGSTER_HOME=$PWD/.dagster_home .venv/bin/dagster sensor start landing_sensor "
    "-w workspace.yaml": Check(output="Started sensor landing_sensor"),
    ".venv/bin/python -m benchmarks.bench_refresh --entries 1000000 "
    "--backends file,postgres": Check(output="backends side by side", timeout_s=1500),
    ".venv/bin/python -m benchmarks.arxiv_requests": Check(output="precision"),
    ".venv/bin/python -m benchmarks.github_requests": Check(output="rows/s", timeout_s=900),
    # Splink is a benchmark-only dependency: `uv run --group bench` installs it
    f"{DEDUPE_BENCH} --entries 100000": Check(output="Splink 5 (dedupe only)", timeout_s=1200),
    f"{DEDUPE_BENCH} --entries 100000 --vocabulary small": Check(
        output="Splink 5 (dedupe only)", timeout_s=1200
    ),
}


def readme_commands(text: str) -> list[str]:
    """The commands README shows, in its order: lines of `bash` blocks (without their
    comments) and inline code that starts like a command, with its line breaks joined."""
    commands: list[str] = []
    prose_parts: list[str] = []
    position = 0
    for block in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        prose_parts.append(text[position : block.start()])
        position = block.end()
        if block.group(1) == "bash":
            for line in block.group(2).splitlines():
                command = line.split("  #", 1)[0].strip()
                if command:
                    commands.append(command)
    prose_parts.append(text[position:])
    for span in re.finditer(r"`([^`]+)`", "".join(prose_parts)):
        command = " ".join(span.group(1).split())
        if COMMAND_START.match(command):
            commands.append(command)
    return list(dict.fromkeys(commands))


# --- the fresh copy ---------------------------------------------------------------------


@dataclass
class Copy:
    root: Path
    env: dict[str, str]
    arxiv: FakeArxiv
    setup_output: str


def _copy_project(destination: Path) -> None:
    """What a fresh clone holds: the tracked files and new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _environment(arxiv_url: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAPERS_", "DAGSTER_", "ARXIV_", "HF_", "GITHUB_"))
        and name not in {"VIRTUAL_ENV", "PYTEST_CURRENT_TEST"}
    }
    return env | {
        "PAPERS_OFFLINE": "1",
        "ARXIV_API_URL": arxiv_url,
        "ARXIV_MIN_INTERVAL_S": "0",
        "HF_BASE_URL": CLOSED_PORT_URL,
        "GITHUB_API_URL": CLOSED_PORT_URL,
    }


def run_command(command: str, cwd: Path, env: dict[str, str], timeout_s: float) -> str:
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` exited with {done.returncode}:\n{output[-4000:]}"
    return output


def _one_pending_paper(root: Path) -> FakePaper:
    """A paper of the demo's warehouse as arXiv would hold it, so the online demo finds it."""
    with duckdb.connect(str(root / "warehouse" / "papers_read.duckdb"), read_only=True) as db:
        title, abstract = db.execute(
            "SELECT p.title, p.abstract FROM core.papers p JOIN core.arxiv_matches m "
            "USING (paper_id) WHERE m.status = 'pending' ORDER BY p.paper_id LIMIT 1"
        ).fetchone()
    return FakePaper("2603.01234", title, abstract)


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copy]:
    base = tmp_path_factory.mktemp("fresh_clone")
    root = base / "main"
    _copy_project(root)
    shared = PROJECT_ROOT.parent / "shared"
    if shared.is_dir():
        (base / "shared").symlink_to(shared)
    server = LocalServer().start()
    try:
        arxiv = FakeArxiv(server, [])
        env = _environment(arxiv.url)
        output = run_command(SETUP, root, env, COMMANDS[SETUP].timeout_s)
        arxiv.papers.append(_one_pending_paper(root))
        yield Copy(root, env, arxiv, output)
    finally:
        server.stop()


# --- the tests --------------------------------------------------------------------------


def test_every_readme_command_is_checked() -> None:
    shown = readme_commands(README.read_text(encoding="utf-8"))
    assert set(shown) == set(COMMANDS), (
        f"README shows commands this test does not check: {sorted(set(shown) - set(COMMANDS))}; "
        f"checked but no longer in README: {sorted(set(COMMANDS) - set(shown))}"
    )


def test_the_test_commands_are_what_ci_runs() -> None:
    """`./scripts/test.sh` (with or without pytest arguments) is the suite this test is
    part of, so it is not run from inside it: `.ci/run` runs it on every fresh clone."""
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec bash scripts/test\.sh$", ci, re.M), ci
    assert '"not slow"' in README.read_text(encoding="utf-8")
    assert "slow:" in (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _serve(command: str, copy: Copy) -> None:
    """Starts the UI as README says, waits until it serves the code location, stops it."""
    log = copy.root / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=copy.root,
            env=copy.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: _location_served(process), 120, f"`{command}` to serve the UI")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{log.read_text(errors='replace')[-4000:]}") from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _location_served(process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the UI exited with {process.returncode}")
    try:
        response = requests.post(
            f"{DEV_URL}/graphql", json={"query": REPOSITORIES_QUERY}, timeout=5
        )
        nodes = response.json()["data"]["repositoriesOrError"].get("nodes", [])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return False
    return any(
        node["location"]["name"] == "papers_warehouse"
        and any(job["name"] == "refresh" for job in node["jobs"])
        for node in nodes
    )


@pytest.mark.parametrize("command", list(COMMANDS))
def test_readme_command(command: str, project_copy: Copy) -> None:
    check = COMMANDS[command]
    if check.kind == "ci":
        pytest.skip("the test suite itself: .ci/run runs it (see the test above)")
    requests_before = len(project_copy.arxiv.requests)
    if command == SETUP:
        output = project_copy.setup_output
    elif check.kind == "serve":
        _serve(command, project_copy)
        output = ""
    else:
        if check.before:
            run_command(check.before, project_copy.root, project_copy.env, check.timeout_s)
        output = run_command(command, project_copy.root, project_copy.env, check.timeout_s)
    assert check.output in output, f"`{command}` did not print {check.output!r}:\n{output[-3000:]}"
    asked_arxiv = len(project_copy.arxiv.requests) > requests_before
    assert asked_arxiv == ("PAPERS_OFFLINE=0" in command), "only the online demo asks arXiv"
    if "PAPERS_OFFLINE=0" in command:
        with duckdb.connect(
            str(project_copy.root / "warehouse" / "papers_read.duckdb"), read_only=True
        ) as db:
            assert db.execute("SELECT count(*) FROM core.arxiv_papers").fetchone() == (1,)
