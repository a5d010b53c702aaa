"""The Dagster layer: definitions, the refresh job on a temporary warehouse, blocking
asset checks, the landing sensor and the daily schedule, and the CLI as the contract
runs it (`dagster job execute -m assets.definitions -j refresh`), alone and twice at
once."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    ExecuteInProcessResult,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    materialize,
)

import pipeline.landing
from assets.automation import daily_refresh, landing_run_key, landing_sensor
from assets.checks import ASSET_CHECKS
from assets.definitions import defs
from assets.resources import PipelineSettings
from pipeline.db import quality
from pipeline.db.connection import DuckDBFile
from pipeline.db.schema import TABLE, Step, tables_of
from tests.builders import TODAY, Listing, TempWarehouse, abstract, dump_text, every_step
from tests.fakes.dagster_processes import cli_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORE_ASSET_TABLES = {
    "raw.dump_files",
    "raw.listings",
    "raw.rejects",
    "core.papers",
    "core.paper_listings",
    "core.paper_repos",
    "core.paper_links",
}
CHECKS = {
    ("core.papers", "unique_paper_id"),
    ("core.papers", "no_empty_titles"),
    ("core.paper_listings", "every_listing_mapped_once"),
    ("core.paper_listings", "listings_point_at_papers"),
    ("core.paper_repos", "repo_format_valid"),
    ("core.paper_repos", "paper_repos_in_repos"),
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here may reach the internet: offline, and every service URL on a closed
    loopback port in case something ignores the flag."""
    monkeypatch.setenv("PAPERS_OFFLINE", "1")
    for name in (
        "PAPERS_LANDING_DIR",
        "PAPERS_WAREHOUSE",
        "PAPERS_RAW_ARCHIVE",
        "PAPERS_READ_COPY",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("ARXIV_API_URL", "HF_BASE_URL", "GITHUB_API_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")


def _table(key: AssetKey) -> str:
    return ".".join(key.path)


def _dumps(files: int = 2, per_file: int = 6) -> dict[str, str]:
    """Small dumps whose papers overlap from one file to the next, with a repository."""
    dumps = {}
    for f in range(files):
        listings = [
            Listing(
                f"Robust Method Number {chr(65 + (f + i) % 26)} for Tiny Agents",
                abstract(f"tiny agents, variant {(f + i) % 26}")
                + f" Code: https://github.com/lab{(f + i) % 26}/agents.",
                2 + i,
                f"Oct {1 + i}, 2024 {i}",
            )
            for i in range(per_file)
        ]
        dumps[f"dump_{f}.txt"] = dump_text(listings, page_date="Nov 25")
    return dumps


def _resource(root: Path) -> PipelineSettings:
    return PipelineSettings(
        landing_dir=str(root / "landing"),
        warehouse=str(root / "papers.duckdb"),
        raw_archive=str(root / "archive"),
    )


def _land(root: Path, dumps: dict[str, str]) -> None:
    (root / "landing").mkdir(parents=True, exist_ok=True)
    for name, text in dumps.items():
        (root / "landing" / name).write_text(text, encoding="utf-8")


def _run_refresh(root: Path) -> ExecuteInProcessResult:
    return defs.resolve_job_def("refresh").execute_in_process(
        instance=DagsterInstance.ephemeral(),
        resources={"pipeline_settings": _resource(root)},
        raise_on_error=False,
    )


def _materialized(result: ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    materializations = (
        event.event_specific_data.materialization
        for event in result.get_asset_materialization_events()
    )
    return {_table(m.asset_key): m.metadata for m in materializations}


def _counts(warehouse: Path, tables: tuple[str, ...]) -> dict[str, int]:
    with DuckDBFile(warehouse).connect(read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


# --- definitions -------------------------------------------------------------------------


def test_definitions_load_with_contract_asset_keys_and_blocking_checks() -> None:
    job = defs.resolve_job_def("refresh")
    keys = {_table(k) for k in job.asset_layer.executable_asset_keys}
    assert keys >= CORE_ASSET_TABLES
    assert {k for k in keys if k.split(".")[0] in ("raw", "internal", "core", "marts")} <= set(
        TABLE
    )
    graph = defs.resolve_asset_graph()
    checks = {(_table(k.asset_key), k.name): k for k in graph.asset_check_keys}
    assert set(checks) >= CHECKS
    for name in CHECKS:
        assert graph.get_check_spec(checks[name]).blocking, name
    assert defs.resolve_schedule_def("daily_refresh").job_name == "refresh"
    assert defs.resolve_sensor_def("landing_sensor").job_name == "refresh"


def test_resource_paths_follow_an_overridden_warehouse(tmp_path: Path) -> None:
    """Paths derived from the warehouse's (raw archive, read copy) must follow the
    resource's warehouse, or a test run would overwrite the project's own files."""
    settings = PipelineSettings(warehouse=str(tmp_path / "w.duckdb")).resolve()
    assert settings.warehouse_path == tmp_path / "w.duckdb"
    assert settings.raw_archive_dir.parent == tmp_path
    assert settings.read_copy_path.parent == tmp_path
    assert settings.offline
    explicit = PipelineSettings(
        warehouse=str(tmp_path / "w.duckdb"), read_copy=str(tmp_path / "r" / "copy.duckdb")
    ).resolve()
    assert explicit.read_copy_path == tmp_path / "r" / "copy.duckdb"


# --- the refresh job -------------------------------------------------------------------------


@pytest.mark.slow
def test_refresh_job_materializes_with_row_counts_and_previews(tmp_path: Path) -> None:
    _land(tmp_path, _dumps())
    result = _run_refresh(tmp_path)
    assert result.success
    materialized = _materialized(result)
    assert set(materialized) >= CORE_ASSET_TABLES
    layered = {key for key in materialized if key.split(".")[0] in ("raw", "core")}
    assert layered <= set(TABLE)
    counts = _counts(tmp_path / "papers.duckdb", tuple(sorted(CORE_ASSET_TABLES)))
    assert counts["raw.listings"] == 12 and counts["core.papers"] == 7
    assert counts["core.paper_repos"] == 7
    for table in CORE_ASSET_TABLES:
        metadata = materialized[table]
        assert metadata["dagster/row_count"].value == counts[table], table
        preview = metadata["preview"]  # a Dagster table, not markdown
        assert len(preview.records) == min(counts[table], 20), table
    papers = materialized["core.papers"]["preview"]
    assert papers.schema.columns[0].name == "paper_id"
    assert all(r.data["paper_id"].startswith("p") for r in papers.records)
    assert materialized["raw.dump_files"]["files_new"].value == 2
    view = materialized["marts.trending"]  # its count and preview would run its query
    assert view["table"].value == "marts.trending" and "preview" not in view
    assert "dagster/row_count" not in view
    assert materialized["warehouse_read_copy"]["bytes_written"].value > 0
    evaluations = result.get_asset_check_evaluations()
    assert {(_table(e.asset_key), e.check_name) for e in evaluations} >= CHECKS
    assert all(e.passed for e in evaluations)

    # a second run finds nothing new and changes nothing
    again = _run_refresh(tmp_path)
    assert again.success
    assert _materialized(again)["raw.dump_files"]["files_new"].value == 0
    assert _counts(tmp_path / "papers.duckdb", tuple(sorted(CORE_ASSET_TABLES))) == counts


# --- checks on bad data ----------------------------------------------------------------------

_CORRUPTIONS: dict[str, tuple[str, ...]] = {
    "unique_paper_id": (
        # rebuilt without constraints, so that a duplicate gets in whatever the schema says
        "CREATE TABLE core.papers_copy AS SELECT * FROM core.papers",
        "DROP TABLE core.papers",
        "ALTER TABLE core.papers_copy RENAME TO papers",
        "INSERT INTO core.papers SELECT * FROM core.papers ORDER BY paper_id LIMIT 1",
    ),
    "no_empty_titles": (
        "UPDATE core.papers SET title = '  ' "
        "WHERE paper_id = (SELECT min(paper_id) FROM core.papers)",
    ),
    "every_listing_mapped_once": ("DELETE FROM core.paper_listings WHERE position = 1",),
    "listings_point_at_papers": (
        "UPDATE core.paper_listings SET paper_id = 'p_missing' WHERE position = 2",
    ),
    "paper_repos_in_repos": ("DELETE FROM core.repos",),
    "repo_format_valid": (
        "INSERT INTO core.paper_repos (paper_id, repo, url, source) SELECT paper_id, 'not a repo', "
        "'https://github.com/not a repo', 'abstract' FROM core.papers LIMIT 1",
        "INSERT INTO core.paper_repos (paper_id, repo, url, source) SELECT paper_id, 'owner/name', "
        "'https://gitlab.com/owner/name', 'abstract' FROM core.papers LIMIT 1",
    ),
}
_RULES = {
    rule.name: rule
    for rule in (
        quality.UNIQUE_PAPER_ID,
        quality.NO_EMPTY_TITLES,
        quality.LISTINGS_MAPPED_ONCE,
        quality.LISTINGS_HAVE_PAPERS,
        quality.REPO_FORMAT,
        quality.PAPER_REPOS_DESCRIBED,
    )
}


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = TempWarehouse(tmp_path_factory.mktemp("built"))
    for name, text in _dumps().items():
        warehouse.land(name, text)
    every_step(warehouse.settings, TODAY)  # the repos step too: core.repos is checked
    return warehouse.settings.warehouse_path


def _corrupt(source: Path, target_root: Path, rules: list[str]) -> Path:
    target_root.mkdir(parents=True, exist_ok=True)
    target = target_root / "papers.duckdb"
    shutil.copy(source, target)
    with DuckDBFile(target).connect() as con:
        for rule in rules:
            for statement in _CORRUPTIONS[rule]:
                con.execute(statement)
    return target


@pytest.mark.parametrize("broken", sorted(_CORRUPTIONS))
def test_quality_rules_catch_bad_data(built_warehouse: Path, tmp_path: Path, broken: str) -> None:
    with DuckDBFile(built_warehouse).connect(read_only=True) as con:
        assert all(quality.evaluate(con, rule).passed for rule in _RULES.values())
    target = _corrupt(built_warehouse, tmp_path, [broken])
    with DuckDBFile(target).connect(read_only=True) as con:
        failed = {name for name, rule in _RULES.items() if not quality.evaluate(con, rule).passed}
        outcome = quality.evaluate(con, _RULES[broken], examples=1)
    assert broken in failed
    # a moved listing may count twice; an invented repository has no core.repos row
    also = {"every_listing_mapped_once", "paper_repos_in_repos"}
    assert failed <= {broken} | also
    assert outcome.offending >= 1 and len(outcome.examples) == 1


def test_dagster_checks_fail_on_bad_data(built_warehouse: Path, tmp_path: Path) -> None:
    _corrupt(built_warehouse, tmp_path, sorted(_CORRUPTIONS))
    result = materialize(
        list(defs.assets or []) + ASSET_CHECKS,
        selection=AssetSelection.all_asset_checks(),
        resources={"pipeline_settings": _resource(tmp_path)},
        raise_on_error=False,
    )
    assert not result.success
    assert result.get_asset_materialization_events() == []  # only the checks ran
    evaluations = {
        (_table(e.asset_key), e.check_name): e for e in result.get_asset_check_evaluations()
    }
    assert set(evaluations) >= CHECKS
    for name in CHECKS:
        evaluation = evaluations[name]
        assert not evaluation.passed, name
        assert evaluation.metadata["offending_rows"].value >= 1, name
        assert evaluation.metadata["examples"].value.startswith("| col1"), name
    repo_examples = evaluations[("core.paper_repos", "repo_format_valid")].metadata["examples"]
    assert "not a repo" in repo_examples.value


@pytest.mark.slow
def test_failing_blocking_check_stops_downstream_assets(tmp_path: Path) -> None:
    _land(tmp_path, _dumps())
    assert _run_refresh(tmp_path).success
    # a listing without a title key cannot be assigned a paper: the papers step succeeds,
    # the lineage check fails, and what depends on the lineage must not run: the links
    # and the marts after them
    with DuckDBFile(tmp_path / "papers.duckdb").connect() as con:
        con.execute(
            "INSERT INTO raw.listings (file_sha256, position, title) "
            "SELECT file_sha256, 999, 'broken' FROM raw.dump_files ORDER BY 1 LIMIT 1"
        )
    result = _run_refresh(tmp_path)
    assert not result.success
    materialized = set(_materialized(result))
    assert {"core.papers", "core.paper_listings"} <= materialized
    upstream = (Step.RAW_FILES, Step.TITLE_CLUSTERS, Step.ARXIV, Step.PAPERS)
    assert materialized == {t.name for step in upstream for t in tables_of(step)}
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert failed == {"every_listing_mapped_once"}
    assert "core_links" not in {
        e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"
    }


# --- sensor and schedule ---------------------------------------------------------------------


def _tick(root: Path, cursor: str | None) -> tuple[RunRequest | SkipReason, str | None]:
    context = build_sensor_context(cursor=cursor, resources={"pipeline_settings": _resource(root)})
    return landing_sensor(context), context.cursor


@pytest.mark.slow
def test_switching_the_sensor_on_over_loaded_files_requests_no_run(tmp_path: Path) -> None:
    _land(tmp_path, _dumps())
    assert _run_refresh(tmp_path).success
    result, cursor = _tick(tmp_path, None)  # the sensor's very first tick
    assert isinstance(result, SkipReason) and "are loaded" in str(result.skip_message)
    assert set(json.loads(cursor or "{}")) == set(_dumps())
    assert isinstance(_tick(tmp_path, cursor)[0], SkipReason)
    extra = dump_text([Listing("A Paper That Arrived After the Sensor", abstract("late"))])
    (tmp_path / "landing" / "late.txt").write_text(extra)
    result, _ = _tick(tmp_path, cursor)
    assert isinstance(result, RunRequest) and result.tags["papers/new_files"] == "1"


def test_landing_sensor_requests_one_run_per_new_file(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    result, cursor = _tick(tmp_path, None)
    assert isinstance(result, SkipReason)

    dumps = _dumps(files=3)
    names = sorted(dumps)
    (tmp_path / "landing" / names[0]).write_text(dumps[names[0]])
    result, cursor = _tick(tmp_path, cursor)
    assert isinstance(result, RunRequest) and result.tags["papers/new_files"] == "1"
    assert names[0] in json.loads(cursor or "{}")
    first_key = result.run_key

    again, same_cursor = _tick(tmp_path, cursor)  # nothing new: skip, cursor kept
    assert isinstance(again, SkipReason) and same_cursor == cursor

    # a second file of the same size and modification time (as `cp -p` leaves them)
    # must still get its own run: a reused run key is silently dropped by Dagster
    first = tmp_path / "landing" / names[0]
    second = tmp_path / "landing" / names[1]
    second.write_text(dumps[names[0]].replace("Nov 25", "Nov 26"))
    stat = first.stat()
    os.utime(second, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result, cursor = _tick(tmp_path, cursor)
    assert isinstance(result, RunRequest) and result.tags["papers/new_files"] == "1"
    assert result.run_key != first_key
    assert isinstance(_tick(tmp_path, cursor)[0], SkipReason)

    # a changed file counts as new again; hidden and partial files never do
    (tmp_path / "landing" / ".hidden.txt").write_text("x")
    (tmp_path / "landing" / "download.part").write_text("x")
    assert isinstance(_tick(tmp_path, cursor)[0], SkipReason)
    first.write_text(dumps[names[0]] + "\n")
    result, _ = _tick(tmp_path, cursor)
    assert isinstance(result, RunRequest) and result.run_key not in {first_key}


def test_sensor_tick_survives_a_file_vanishing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file listed and then moved away before its size is read is skipped, not fatal."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "kept.txt").write_text(_dumps(files=1)["dump_0.txt"])
    gone = landing / "gone.txt"
    monkeypatch.setattr(
        pipeline.landing, "landing_files", lambda folder: sorted([*folder.iterdir(), gone])
    )
    assert set(pipeline.landing.fingerprint_landing(landing)) == {"kept.txt"}
    result, cursor = _tick(tmp_path, None)
    assert isinstance(result, RunRequest) and set(json.loads(cursor or "{}")) == {"kept.txt"}


def test_landing_run_keys_name_files_and_fingerprints() -> None:
    assert landing_run_key({"a.txt": "f1"}) != landing_run_key({"b.txt": "f1"})
    assert landing_run_key({"a.txt": "f1"}) != landing_run_key({"a.txt": "f2"})
    assert landing_run_key({"a.txt": "f1", "b.txt": "f2"}) == landing_run_key(
        {"b.txt": "f2", "a.txt": "f1"}
    )
    assert re.fullmatch(r"landing-[0-9a-f]{32}", landing_run_key({"x": "y"}))


def test_daily_schedule_requests_one_keyed_run_per_day() -> None:
    when = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    request = daily_refresh(build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, RunRequest)
    assert request.run_key == "refresh-2026-03-02"
    later = daily_refresh(build_schedule_context(scheduled_execution_time=when.replace(day=3)))
    assert later.run_key != request.run_key
    assert daily_refresh.cron_schedule == "0 6 * * *"


# --- the CLI, alone and twice at once --------------------------------------------------------


def _dagster_command() -> list[str]:
    executable = Path(sys.executable).with_name("dagster")
    if executable.exists():
        return [str(executable)]
    return [sys.executable, "-m", "dagster"]


def _start_refresh(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*_dagster_command(), "job", "execute", "-m", "assets.definitions", "-j", "refresh"],
            cwd=PROJECT_ROOT,
            env=cli_env(root),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _assert_consistent(warehouse: Path, listings: int, papers: int) -> None:
    counts = _counts(warehouse, ("raw.dump_files", "raw.listings", "core.papers"))
    assert counts["raw.listings"] == listings and counts["core.papers"] == papers
    with DuckDBFile(warehouse).connect(read_only=True) as con:
        for rule in _RULES.values():
            assert quality.evaluate(con, rule).passed, rule.name


@pytest.mark.slow
def test_cli_refresh_job(tmp_path: Path) -> None:
    _land(tmp_path, _dumps())
    process = _start_refresh(tmp_path, tmp_path / "run.log")
    assert process.wait(timeout=120) == 0, (tmp_path / "run.log").read_text()[-3000:]
    log = (tmp_path / "run.log").read_text()
    assert "RUN_SUCCESS" in log
    _assert_consistent(tmp_path / "papers.duckdb", listings=12, papers=7)


def _many_dumps() -> dict[str, str]:
    """Enough rows that the two runs' writes overlap in time."""
    dumps = {}
    for f in range(4):
        listings = [
            Listing(
                f"Study {n} of Agents That Learn Skill {chr(65 + n % 26)}{n}",
                abstract(f"skill {n}") + f" https://github.com/lab{n}/skill{n}",
                3,
                f"Oct {1 + n % 28}, 2024 {n % 5}",
            )
            for n in range(f * 150, f * 150 + 200)  # 50 papers shared with the next file
        ]
        dumps[f"many_{f}.txt"] = dump_text(listings)
    return dumps


def _prepare_dagster_home(root: Path) -> None:
    """A DAGSTER_HOME with its storage created. No `dagster.yaml`: without the project's
    writer pool the two runs meet at the DuckDB lock, which is what is tested here.

    Dagster creates its SQLite storage on first use, and two processes doing that at the
    same moment race (`table ... already exists`); a real DAGSTER_HOME persists, so only
    the first run on a new one could hit that.
    """
    home = Path(cli_env(root)["DAGSTER_HOME"])
    with DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)


@pytest.mark.slow
def test_two_cli_refresh_runs_at_once(tmp_path: Path) -> None:
    _land(tmp_path, _many_dumps())
    _prepare_dagster_home(tmp_path)
    logs = [tmp_path / "run1.log", tmp_path / "run2.log"]
    processes = [_start_refresh(tmp_path, log) for log in logs]
    codes = [p.wait(timeout=180) for p in processes]
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], "\n".join(t[-3000:] for t in texts)
    # the writes were serialized: one run loaded all four files, the other found none new
    new_files = sorted(
        int(m.group(1)) for t in texts for m in re.finditer(r"(\d+) new file\(s\) of 4", t)
    )
    assert new_files == [0, 4]
    _assert_consistent(tmp_path / "papers.duckdb", listings=800, papers=650)


def test_refresh_waits_for_another_writer(tmp_path: Path) -> None:
    """DuckDB lets one process write a file; a refresh that finds it locked waits for the
    lock instead of failing."""
    warehouse = TempWarehouse(tmp_path / "w")
    warehouse.land("a.txt", dump_text([Listing("Waiting for Locks Politely", abstract("locks"))]))
    path = warehouse.settings.warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(1.5); c.close()",
            str(path),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        started = time.monotonic()
        warehouse.refresh()
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert waited >= 0.5  # it really waited for the holder
    assert warehouse.rows("SELECT count(*) FROM core.papers") == [(1,)]


def test_lineage_holds_every_table_and_the_landing_folder_feeds_raw() -> None:
    graph = defs.resolve_asset_graph()
    nodes = {_table(key): graph.get(key) for key in graph.get_all_asset_keys()}
    assert set(TABLE) <= set(nodes)  # raw.file_names, core.paper_aliases, ... included
    for name, node in nodes.items():
        if name != "warehouse_read_copy":
            assert node.group_name == name.split(".")[0], name  # key prefix = group
    parents = {_table(k) for k in nodes["raw.listings"].parent_keys}
    assert parents == {"landing.hf_daily_papers", "landing.hf_search_results"}
    assert {_table(k) for k in nodes["core.papers"].parent_keys} >= {"internal.arxiv_outcomes"}


@pytest.mark.slow
@pytest.mark.parametrize("selection", ["core/papers", "marts/trending"])
def test_one_step_materializes_from_the_cli_and_republishes_the_read_copy(
    tmp_path: Path, selection: str
) -> None:
    """`dagster asset materialize --select <one table>` runs that table's step (which
    writes all its tables in one transaction) and republishes the copy readers open."""
    _land(tmp_path, _dumps())
    env = cli_env(tmp_path)
    assert _start_refresh(tmp_path, tmp_path / "refresh.log").wait(timeout=120) == 0
    read_copy = tmp_path / "papers_read.duckdb"
    published = read_copy.stat().st_mtime_ns
    command = [*_dagster_command(), "asset", "materialize", "-m", "assets.definitions"]
    done = subprocess.run(
        [*command, "--select", selection],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "RUN_SUCCESS" in output and "DagsterInvalidSubsetError" not in output
    assert "also rewrote" in output and "published for readers" in output
    assert read_copy.stat().st_mtime_ns > published
    _assert_consistent(tmp_path / "papers.duckdb", listings=12, papers=7)
