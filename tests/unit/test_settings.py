"""Settings are checked when they are read, and a bad one is refused with its variable
named, before any work or request is done."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.db.connection import DuckDBFile
from pipeline.db.lake import DuckLake, LakeUnreachable
from pipeline.settings import PROJECT_ROOT, Settings, SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PAPERS_OFFLINE", "maybe", "must be 1 or 0"),
        ("ARXIV_MIN_INTERVAL_S", "-1", "at least 0"),
        ("HF_MIN_INTERVAL_S", "soon", "must be a number"),
        ("ARXIV_RECHECK_DAYS", "-3", "at least 0"),
        ("ARXIV_RECHECK_DAYS", "2.5", "whole number"),
        ("PAPERS_HTTP_TIMEOUT_S", "0", "more than 0"),
        ("PAPERS_HTTP_MAX_RETRIES", "-1", "at least 0"),
        ("PAPERS_HTTP_DEADLINE_S", "0", "more than 0"),
        ("PAPERS_SENSOR_INTERVAL_S", "0", "at least 1"),
        ("PAPERS_INGEST_WORKERS", "-2", "at least 0"),
        ("GITHUB_REFRESH_HOURS", "0", "more than 0"),
        ("GITHUB_MIN_INTERVAL_S", "-1", "at least 0"),
        ("PAPERS_MAX_FILE_MB", "0", "more than 0"),
        ("PAPERS_MAX_JSON_DEPTH", "1", "at least 2"),
        ("ARXIV_API_URL", "export.arxiv.org/api/query", "http:// or https:// URL"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=variable) as raised:
        Settings.from_env({variable: value})
    assert says in str(raised.value) and repr(value) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "offline"),
    [("on", True), ("TRUE", True), ("1", True), ("off", False), ("0", False), ("", False)],
)
def test_offline_reads_every_usual_spelling(value: str, offline: bool) -> None:
    assert Settings.from_env({"PAPERS_OFFLINE": value}).offline is offline


def test_an_invalid_start_date_stops_only_what_uses_it(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HF_START_DATE": "2026-13-01",
            "PAPERS_LANDING_DIR": str(tmp_path),
            "PAPERS_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "PAPERS_OFFLINE": "1",
        }
    )
    with pytest.raises(SettingsError, match="HF_START_DATE"):
        _ = settings.hf_start
    steps.refresh(settings)  # the refresh does not read it
    assert settings.warehouse_path.exists()


def test_the_code_location_loads_with_an_invalid_start_date() -> None:
    env = {
        "HF_START_DATE": "yesterday",
        "PAPERS_OFFLINE": "1",
        "PATH": str(Path(sys.executable).parent),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", "from assets.definitions import defs; print(len(defs.jobs or []))"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]


def test_a_missing_landing_folder_or_warehouse_folder_stops_the_refresh(tmp_path: Path) -> None:
    missing_landing = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(tmp_path / "nowhere"),
            "PAPERS_WAREHOUSE": str(tmp_path / "w.duckdb"),
        }
    )
    with pytest.raises(SettingsError, match="PAPERS_LANDING_DIR"):
        steps.refresh(missing_landing)
    missing_folder = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(tmp_path),
            "PAPERS_WAREHOUSE": str(tmp_path / "gone" / "w.duckdb"),
        }
    )
    with pytest.raises(SettingsError, match="PAPERS_WAREHOUSE"):
        steps.refresh(missing_folder)
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "gone").exists()


def test_the_settings_shown_never_hold_the_token() -> None:
    token = "FAKE-TOKEN-" + "x" * 20  # an obviously fake token
    shown = Settings.from_env({"GITHUB_TOKEN": token, "PAPERS_OFFLINE": "1"}).shown()
    assert shown["github_token"] == "set" and shown["offline"] == "True"
    assert token not in repr(shown) and "landing_dir" in shown and "warehouse_path" in shown


def test_a_malformed_token_is_refused_without_being_echoed() -> None:
    token = "FAKE-TOKEN pasted with a space"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"GITHUB_TOKEN": token})
    assert "GITHUB_TOKEN" in str(refused.value) and "FAKE-TOKEN" not in str(refused.value)
    assert (
        Settings.from_env({"GITHUB_TOKEN": "  FAKE-TOKEN-fine\n"}).github_token == "FAKE-TOKEN-fine"
    )


def test_a_lake_is_chosen_by_the_warehouse_setting() -> None:
    settings = Settings.from_env(
        {
            "PAPERS_WAREHOUSE": "ducklake:postgres:dbname=lake host=db password=FAKE-PW-0",
            "PAPERS_LAKE_DATA_PATH": "s3://bucket/lake/",
            "AWS_ACCESS_KEY_ID": "FAKE-KEY-ID",
            "AWS_SECRET_ACCESS_KEY": "FAKE-SECRET-0000",
        }
    )
    lake = settings.warehouse
    assert isinstance(lake, DuckLake) and lake.lake
    assert (lake.kind, lake.target) == ("postgres", "dbname=lake host=db password=FAKE-PW-0")
    assert lake.data_path == "s3://bucket/lake/" and lake.remote_data
    shown = repr(settings) + str(settings.shown())
    assert "FAKE-PW-0" not in shown and "FAKE-SECRET" not in shown and "FAKE-KEY-ID" not in shown
    assert settings.shown()["warehouse"].startswith(
        "ducklake:postgres:dbname=lake host=db password=***"
    )
    assert settings.shown()["object_store"] == "set"
    # the archive keeps its default beside the project's warehouse folder
    assert settings.raw_archive_dir == PROJECT_ROOT / "warehouse" / "raw_archive"


def test_a_sqlite_lake_and_its_data_folder_are_taken_from_the_project_root() -> None:
    lake = Settings.from_env(
        {"PAPERS_WAREHOUSE": "ducklake:sqlite:warehouse/lake.sqlite"}
    ).warehouse
    assert isinstance(lake, DuckLake)
    assert lake.target == str(PROJECT_ROOT / "warehouse" / "lake.sqlite")
    assert lake.data_path == str(PROJECT_ROOT / "warehouse" / "lake_data")
    file = Settings.from_env({}).warehouse
    assert isinstance(file, DuckDBFile) and not file.lake


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PAPERS_WAREHOUSE", "ducklake:mysql:db=lake", "ducklake:postgres:"),
        ("PAPERS_WAREHOUSE", "ducklake:postgres:", "ducklake:sqlite:"),
        ("PAPERS_LAKE_DATA_PATH", "gs://bucket/lake", "only s3:// URLs"),
    ],
)
def test_a_bad_lake_setting_is_refused_naming_its_variable(
    variable: str, value: str, says: str
) -> None:
    env = {"PAPERS_WAREHOUSE": "ducklake:sqlite:/tmp/lake.sqlite", variable: value}
    with pytest.raises(SettingsError, match=variable) as raised:
        Settings.from_env(env)
    assert says in str(raised.value)


def test_a_lake_in_a_missing_folder_stops_the_refresh(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    for env, variable in (
        (
            {"PAPERS_WAREHOUSE": f"ducklake:sqlite:{tmp_path / 'gone' / 'lake.sqlite'}"},
            "PAPERS_WAREHOUSE",
        ),
        (
            {
                "PAPERS_WAREHOUSE": f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}",
                "PAPERS_LAKE_DATA_PATH": str(tmp_path / "gone" / "data"),
            },
            "PAPERS_LAKE_DATA_PATH",
        ),
    ):
        settings = Settings.from_env(env | {"PAPERS_LANDING_DIR": str(tmp_path / "landing")})
        with pytest.raises(SettingsError, match=f"{variable}: the folder .*gone does not exist"):
            steps.refresh(settings)
    assert not (tmp_path / "lake.sqlite").exists()


def test_an_unreachable_lake_catalog_is_named(tmp_path: Path) -> None:
    lake = Settings.from_env(
        {"PAPERS_WAREHOUSE": "ducklake:postgres:host=127.0.0.1 port=1 dbname=x connect_timeout=2"}
    ).warehouse
    with pytest.raises(LakeUnreachable, match="PAPERS_WAREHOUSE: cannot reach ducklake:postgres:"):
        lake.exists()
