"""The warehouse on each backend: a DuckDB file, and a DuckLake with its catalog in a real
PostgreSQL server started by the tests (a quick subset also with a SQLite catalog).

A refresh builds the same tables on every backend, a second one changes nothing, a
failing step leaves the previous state, a reader during a refresh never fails and never
sees half of a step, two refreshes at once end consistent, a refresh killed mid-write
leaves the previous snapshot, and extensions come from the installed packages only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest

from pipeline import steps
from pipeline.db import quality
from pipeline.db.lake import DuckLake
from pipeline.query import main as query_main
from pipeline.settings import PROJECT_ROOT, Settings
from tests.builders import TODAY, Listing, TempWarehouse, abstract, dump_text, every_step
from tests.conftest import backend_warehouse
from tests.fingerprints import fingerprint
from tests.postgres_server import PostgresServer

SAMPLES = PROJECT_ROOT / "warehouse" / "samples"
CONSISTENCY = (
    quality.UNIQUE_PAPER_ID,
    quality.LISTINGS_MAPPED_ONCE,
    quality.LISTINGS_HAVE_PAPERS,
    quality.NO_EMPTY_TITLES,
)
# Holds at every commit of every step: a file's listings land with its row, whole.
FILES_WHOLE = """
SELECT f.file_sha256 FROM raw.dump_files f
LEFT JOIN (SELECT file_sha256, count(*) AS n FROM raw.listings GROUP BY ALL) l USING (file_sha256)
WHERE f.status = 'loaded' AND f.listing_count <> coalesce(l.n, 0)
"""


@pytest.fixture(params=["file", "postgres", "sqlite"])
def each_backend(request: pytest.FixtureRequest, tmp_path: Path) -> TempWarehouse:
    return backend_warehouse(request, tmp_path / "w", request.param)


def _land_samples(warehouse: TempWarehouse) -> None:
    for sample in sorted(SAMPLES.iterdir()):
        warehouse.land(sample.name, sample.read_text(encoding="utf-8"))


def _many_dumps(files: int, per_file: int) -> dict[str, str]:
    """Files that share a quarter of their papers with the next, enough for writes of
    two processes to overlap in time."""
    dumps = {}
    for f in range(files):
        start = f * per_file * 3 // 4
        listings = [
            Listing(
                f"Study {n} of Lakes That Learn Skill {chr(65 + n % 26)}{n}",
                abstract(f"lake skill {n}") + f" https://github.com/lab{n}/skill{n}",
                3,
                f"Oct {1 + n % 28}, 2024 {n % 5}",
            )
            for n in range(start, start + per_file)
        ]
        dumps[f"many_{f}.txt"] = dump_text(listings)
    return dumps


def _assert_consistent(warehouse: TempWarehouse) -> None:
    with warehouse.settings.warehouse.connect(read_only=True) as con:
        for rule in CONSISTENCY:
            outcome = quality.evaluate(con, rule)
            assert outcome.passed, (rule.name, outcome.examples)


def _up_to_papers(warehouse: TempWarehouse) -> tuple[Settings, dict[str, dict[str, object]]]:
    """The samples loaded and clustered, and the fingerprint the papers step starts from."""
    _land_samples(warehouse)
    settings = warehouse.settings
    steps.load_raw_files(settings, TODAY)
    steps.cluster_titles(settings)
    return settings, fingerprint(settings.warehouse, TODAY)


def _env(warehouse: TempWarehouse) -> dict[str, str]:
    return os.environ | warehouse.env | {"PAPERS_INGEST_WORKERS": "1"}


def _python(warehouse: TempWarehouse, script: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT,
        env=_env(warehouse),
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("lake", ["postgres", "sqlite"])
def test_a_lake_holds_exactly_what_the_file_holds(
    request: pytest.FixtureRequest, tmp_path: Path, lake: str
) -> None:
    built = {}
    for backend in ("file", lake):
        warehouse = backend_warehouse(request, tmp_path / backend, backend)
        _land_samples(warehouse)
        every_step(warehouse.settings, TODAY)
        built[backend] = fingerprint(warehouse.settings.warehouse, TODAY)
    assert built["file"]["core.papers"]["rows"] > 0
    assert built[lake] == built["file"]


def test_a_second_refresh_changes_nothing(each_backend: TempWarehouse) -> None:
    _land_samples(each_backend)
    every_step(each_backend.settings, TODAY)
    before = fingerprint(each_backend.settings.warehouse, TODAY)
    every_step(each_backend.settings, TODAY)
    assert fingerprint(each_backend.settings.warehouse, TODAY) == before
    _assert_consistent(each_backend)


def test_a_failing_step_leaves_the_previous_state(
    each_backend: TempWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, before = _up_to_papers(each_backend)
    real = steps.build_papers

    def build_then_fail(con: duckdb.DuckDBPyConnection) -> object:
        real(con)  # every table of the step written, not yet committed
        raise OSError("disk gone mid-step")

    monkeypatch.setattr(steps, "build_papers", build_then_fail)
    with pytest.raises(OSError, match="disk gone"):
        steps.build_paper_tables(settings)
    assert fingerprint(settings.warehouse, TODAY) == before
    monkeypatch.setattr(steps, "build_papers", real)
    steps.build_paper_tables(settings)  # the step heals on its next run
    _assert_consistent(each_backend)


@pytest.mark.slow
def test_a_reader_during_a_refresh_never_fails_nor_sees_half_a_step(
    any_warehouse: TempWarehouse,
) -> None:
    for name, text in _many_dumps(12, 150).items():
        any_warehouse.land(name, text)
    parked = any_warehouse.root / "parked"
    parked.mkdir()
    for name in any_warehouse.files[1:]:
        shutil.move(any_warehouse.root / "landing" / name, parked / name)
    settings = any_warehouse.settings
    steps.refresh(settings, TODAY)
    steps.publish_for_readers(settings)
    for name in any_warehouse.files[1:]:
        shutil.move(parked / name, any_warehouse.root / "landing" / name)
    writer = _python(
        any_warehouse,
        """
        from pipeline import steps
        from pipeline.settings import Settings
        s = Settings.from_env()
        steps.refresh(s)
        steps.publish_for_readers(s)
        """,
    )
    readers = settings.warehouse.for_readers(settings.read_copy_path)
    reads, seen = 0, set()
    try:
        while writer.poll() is None:
            with readers.connect(read_only=True) as con:
                assert quality.evaluate(con, quality.UNIQUE_PAPER_ID).passed
                assert quality.evaluate(con, quality.LISTINGS_HAVE_PAPERS).passed
                assert con.execute(FILES_WHOLE).fetchall() == []
                seen.add(con.execute("SELECT count(*) FROM raw.dump_files").fetchall()[0][0])
            reads += 1
    finally:
        _, stderr = writer.communicate(timeout=300)
    assert writer.returncode == 0, stderr.decode()[-3000:]
    assert reads >= 3, "the refresh ended before the reader could try during it"
    assert min(seen) >= 1
    with readers.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.dump_files").fetchall() == [(12,)]
    _assert_consistent(any_warehouse)


@pytest.mark.slow
def test_two_refreshes_at_once_end_consistent(any_warehouse: TempWarehouse) -> None:
    for name, text in _many_dumps(6, 150).items():
        any_warehouse.land(name, text)
    script = """
        from pipeline import steps
        from pipeline.settings import Settings
        print(steps.refresh(Settings.from_env()).ingest.listings)
        """
    writers = [_python(any_warehouse, script) for _ in range(2)]
    outcomes = [w.communicate(timeout=300) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [e.decode()[-2000:] for _, e in outcomes]
    counts = any_warehouse.rows(
        "SELECT count(*), count(DISTINCT file_sha256) FROM raw.dump_files WHERE status = 'loaded'"
    )
    assert counts == [(6, 6)]  # each file loaded once, by one of the two
    assert any_warehouse.rows("SELECT count(*) FROM raw.listings") == [(900,)]
    _assert_consistent(any_warehouse)


@pytest.mark.slow
def test_a_refresh_killed_mid_write_leaves_the_previous_snapshot(
    any_warehouse: TempWarehouse,
) -> None:
    settings, before = _up_to_papers(any_warehouse)
    marker = any_warehouse.root / "written"
    killed = _python(
        any_warehouse,
        f"""
        import time
        from pathlib import Path
        from pipeline import steps
        from pipeline.settings import Settings
        real = steps.build_papers

        def build_and_hang(con):
            real(con)
            Path({str(marker)!r}).touch()  # written, not committed
            time.sleep(120)

        steps.build_papers = build_and_hang
        steps.build_paper_tables(Settings.from_env())
        """,
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), killed.communicate()[1].decode()[-2000:]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert fingerprint(settings.warehouse, TODAY) == before
    steps.build_paper_tables(settings)  # the killed writer's turn was freed
    _assert_consistent(any_warehouse)


def test_extensions_load_from_the_packages_with_downloads_off(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A refresh on a lake in a process whose home holds no DuckDB extensions: it loads
    them from the installed packages, installs nothing, and could not download."""
    warehouse = backend_warehouse(request, tmp_path / "w", "sqlite")
    _land_samples(warehouse)
    home = tmp_path / "home"
    home.mkdir()
    script = """
        from pipeline import steps
        from pipeline.settings import Settings
        s = Settings.from_env()
        steps.refresh(s)
        with s.warehouse.connect(read_only=True) as con:
            print(con.execute(
                "SELECT current_setting('autoinstall_known_extensions'), "
                "current_setting('autoload_known_extensions')").fetchall())
            print(sorted(con.execute(
                "SELECT extension_name FROM duckdb_extensions() WHERE loaded AND installed "
                "AND install_mode IS DISTINCT FROM 'STATICALLY_LINKED'").fetchall()))
        """
    env = _env(warehouse) | {"HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    settings_line, installed_line = done.stdout.strip().splitlines()[-2:]
    assert settings_line == "[(False, False)]"
    assert installed_line == "[]"  # loaded by path, none installed in an extension folder
    assert not (home / ".duckdb").exists()
    with warehouse.settings.warehouse.connect(read_only=True) as con:
        loaded = {
            name
            for (name,) in con.execute(
                "SELECT extension_name FROM duckdb_extensions() WHERE loaded"
            ).fetchall()
        }
        assert {"ducklake", "sqlite_scanner"} <= loaded
        assert con.execute("SELECT count(*) FROM core.papers").fetchall()[0][0] > 0


def _two_refreshes(warehouse: TempWarehouse) -> TempWarehouse:
    """A paper, a refresh; a second paper, a second refresh."""
    for name, title in (("a.txt", "Lakes Remember Every Snapshot"), ("b.txt", "A Second Paper")):
        warehouse.land(name, dump_text([Listing(title, abstract(name))]))
        every_step(warehouse.settings, TODAY)
    return warehouse


def test_time_travel_to_the_previous_refresh(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    warehouse = _two_refreshes(backend_warehouse(request, tmp_path / "w", "postgres"))
    lake = warehouse.settings.warehouse
    assert isinstance(lake, DuckLake)
    ends = lake.refresh_snapshots()
    assert len(ends) == 2 and ends[0] > ends[1]
    with lake.at(ends[1]).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.papers").fetchall() == [(1,)]
    with lake.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.papers").fetchall() == [(2,)]


def test_a_lake_key_the_file_would_enforce_is_checked(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """DuckLake has no PRIMARY KEY: a duplicate gets in, and the key's check names it."""
    warehouse = backend_warehouse(request, tmp_path / "w", "postgres")
    _land_samples(warehouse)
    every_step(warehouse.settings, TODAY)
    rule = quality.KEY_RULES["raw.dump_files"]
    with warehouse.settings.warehouse.write() as con:
        assert quality.evaluate(con, rule).passed
        con.execute("INSERT INTO raw.dump_files SELECT * FROM raw.dump_files LIMIT 1")
    with warehouse.settings.warehouse.connect(read_only=True) as con:
        outcome = quality.evaluate(con, rule)
    assert outcome.offending == 1


def test_the_query_command_reads_a_lake_and_its_previous_refresh(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = _two_refreshes(backend_warehouse(request, tmp_path / "w", "postgres"))
    env = warehouse.env
    env["PAPERS_WAREHOUSE"] = env["PAPERS_WAREHOUSE"] + " password=FAKE-PASSWORD-0000"
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def query(*argv: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.query", "--csv", *argv],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout + done.stderr

    code, shown = query()
    assert code == 0 and "core.papers" in shown
    assert "ducklake:postgres:" in shown and "FAKE-PASSWORD" not in shown
    count = "SELECT count(*) AS papers FROM core.papers"
    assert query(count) == (0, "papers\n2\n")
    assert query("--as-of", "previous-refresh", count) == (0, "papers\n1\n")
    code, shown = query("--as-of", "yesterday", count)
    assert code == 2 and "--as-of takes a snapshot number" in shown


@pytest.mark.slow
def test_dagster_keeps_its_runs_in_postgres_beside_the_lake(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresServer
) -> None:
    """dagster-postgres: the instance's runs and events in the same server as the lake's
    catalog, and the refresh job run through Dagster on the lake."""
    warehouse = backend_warehouse(request, tmp_path / "w", "postgres")
    _land_samples(warehouse)
    storage_dsn = postgres.new_database()
    storage = dict(part.split("=") for part in storage_dsn.split())
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        textwrap.dedent(f"""\
        storage:
          postgres:
            postgres_db:
              hostname: {storage["host"]}
              port: {storage["port"]}
              username: {storage["user"]}
              db_name: {storage["dbname"]}
              scheme: postgresql+psycopg2  # the driver installed (SQLAlchemy 2.1 expects psycopg 3)
        concurrency:
          pools:
            default_limit: 1
        telemetry:
          enabled: false
        """)
    )
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "job", "execute", "-m", "assets.definitions", "-j", "refresh"],
        cwd=PROJECT_ROOT,
        env=_env(warehouse) | {"DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert warehouse.rows("SELECT count(*) > 0 FROM core.papers") == [(True,)]
    pg = psycopg2.connect(storage_dsn)
    try:
        with pg.cursor() as cursor:
            cursor.execute("SELECT status FROM runs")
            assert cursor.fetchall() == [("SUCCESS",)]
            events = "SELECT count(*) FROM event_logs WHERE dagster_event_type = %s"
            cursor.execute(events, ["ASSET_MATERIALIZATION"])
            assert cursor.fetchone()[0] >= 20
            cursor.execute(events, ["ASSET_CHECK_EVALUATION"])
            assert cursor.fetchone()[0] >= 8
    finally:
        pg.close()


def test_a_lost_catalog_connection_heals_at_the_next_session(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresServer
) -> None:
    """A long-lived process (the daemon's sensor) keeps its attached lake between
    sessions; a server restart must cost at most the session that meets it."""
    warehouse = backend_warehouse(request, tmp_path / "w", "postgres")
    _land_samples(warehouse)
    steps.refresh(warehouse.settings, TODAY)
    lake = warehouse.settings.warehouse
    count = "SELECT count(*) FROM core.papers"
    with lake.connect(read_only=True) as con:
        papers = con.execute(count).fetchall()
    postgres.restart()
    outcomes = []
    for _ in range(2):
        try:
            with lake.connect(read_only=True) as con:
                outcomes.append(con.execute(count).fetchall())
        except duckdb.Error as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes[-1] == papers, outcomes
    steps.cluster_titles(warehouse.settings)  # a writer too


def test_time_travel_on_a_file_says_it_needs_a_lake(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse = backend_warehouse(request, tmp_path / "w", "file")
    warehouse.land("a.txt", dump_text([Listing("A Paper On A File", abstract("f"))]))
    every_step(warehouse.settings, TODAY)
    for name, value in warehouse.env.items():
        monkeypatch.setenv(name, value)
    assert query_main(["--as-of", "previous-refresh", "SELECT 1"]) == 2
    assert "keeps no snapshots: time travel needs a DuckLake" in capsys.readouterr().err
