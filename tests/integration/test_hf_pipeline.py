"""Hugging Face fetching end to end: Dagster assets against a fake Hugging Face on
loopback, then the same ingestion path as hand-saved dumps."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, build_schedule_context, instance_for_test, materialize

from assets.huggingface import HF_DAILY, hf_daily_papers, hf_daily_schedule, hf_search_results
from assets.resources import PipelineSettings
from pipeline.huggingface.api import FetchedBody
from pipeline.huggingface.fetch import days_to_fetch
from pipeline.landing import save_fetched
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.steps import refresh
from tests.builders import TempWarehouse, every_step
from tests.fakes.huggingface import (
    DAY,
    OTHER_DAY,
    FakeHuggingFace,
    api_bytes,
    daily_page_html,
    day_items,
)
from tests.fakes.local_server import LocalServer, Reply
from tests.integration.test_readme_commands import BACKFILL

LISTING_COLUMNS = (
    "title, abstract, authors_count, org_handle, organization, published_date, comments, "
    "upvotes, arxiv_id, authors, github_url, project_page"
)


@pytest.fixture
def fake(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> FakeHuggingFace:
    monkeypatch.setenv("HF_BASE_URL", local_server.url)
    monkeypatch.setenv("HF_MIN_INTERVAL_S", "0.01")
    monkeypatch.setenv("PAPERS_HTTP_TIMEOUT_S", "0.5")
    monkeypatch.setenv("PAPERS_HTTP_MAX_RETRIES", "2")
    monkeypatch.delenv("PAPERS_OFFLINE", raising=False)
    return FakeHuggingFace(local_server)


def _resource(root: Path) -> PipelineSettings:
    return PipelineSettings(
        landing_dir=str(root / "landing"),
        warehouse=str(root / "papers.duckdb"),
        raw_archive=str(root / "archive"),
    )


def _fetch_day(root: Path, day: date, instance: DagsterInstance | None = None) -> bool:
    result = materialize(
        [hf_daily_papers],
        partition_key=day.isoformat(),
        resources={"pipeline_settings": _resource(root)},
        instance=instance,
        raise_on_error=False,
    )
    return result.success


def _refresh(root: Path) -> Settings:
    settings = _resource(root).resolve()
    refresh(settings)
    return settings


def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_fetched_day_lands_raw_and_loads_with_rich_fields(
    fake: FakeHuggingFace, tmp_path: Path
) -> None:
    assert _fetch_day(tmp_path, DAY)
    landed = sorted(p.name for p in (tmp_path / "landing").iterdir())
    assert any(name.endswith(".fetch.json") for name in landed)
    settings = _refresh(tmp_path)
    items = day_items()
    rows = _rows(settings, "SELECT arxiv_id, upvotes, comments, authors FROM raw.listings")
    assert {r[0] for r in rows} == {item["paper"]["id"] for item in items}
    by_id = {r[0]: r for r in rows}
    first = items[0]
    assert by_id[first["paper"]["id"]][1] == first["paper"]["upvotes"]
    assert by_id[first["paper"]["id"]][2] == first["numComments"]
    assert by_id[first["paper"]["id"]][3] == [a["name"] for a in first["paper"]["authors"]]
    repos = _rows(
        settings, "SELECT repo, source FROM core.paper_repos WHERE source = 'huggingface'"
    )
    assert ("NVlabs/SeeingSaying", "huggingface") in repos
    snapshot = _rows(settings, "SELECT DISTINCT snapshot_date FROM raw.dump_files")
    assert snapshot == [(DAY,)]


def test_a_hand_saved_page_gives_the_same_rows_as_the_fetched_day(
    fake: FakeHuggingFace, tmp_path: Path
) -> None:
    assert _fetch_day(tmp_path / "fetched", DAY)
    fetched = _refresh(tmp_path / "fetched")
    saved = tmp_path / "saved" / "landing"
    saved.mkdir(parents=True)
    (saved / "my copy of the daily page.html").write_text(daily_page_html(DAY, day_items()))
    by_hand = _refresh(tmp_path / "saved")
    query = f"SELECT {LISTING_COLUMNS} FROM raw.listings ORDER BY position"
    assert _rows(fetched, query) == _rows(by_hand, query)
    assert len(_rows(by_hand, query)) == len(day_items())


def test_a_backfill_fetches_each_day_once(fake: FakeHuggingFace, tmp_path: Path) -> None:
    days = [DAY - timedelta(days=n) for n in range(3)]
    fake.set_day(days[2], day_items()[:1])
    instance = DagsterInstance.ephemeral()
    assert all(_fetch_day(tmp_path, day, instance) for day in days)
    fetched = instance.get_materialized_partitions(HF_DAILY)
    assert {d.isoformat() for d in days} <= fetched
    calls = {r.param("date") for r in fake.server.requests_to("/api/daily_papers")}
    assert calls == {d.isoformat() for d in days}


def test_a_refetched_unchanged_day_adds_no_listings(fake: FakeHuggingFace, tmp_path: Path) -> None:
    assert _fetch_day(tmp_path, DAY)
    settings = _refresh(tmp_path)
    before = _rows(settings, "SELECT count(*) FROM raw.listings")
    assert _fetch_day(tmp_path, DAY)
    _refresh(tmp_path)
    assert _rows(settings, "SELECT count(*) FROM raw.listings") == before


def test_a_search_query_lands_in_its_own_file(
    fake: FakeHuggingFace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_SEARCH_QUERIES", "video captions;no such topic anywhere")
    result = materialize([hf_search_results], resources={"pipeline_settings": _resource(tmp_path)})
    assert result.success
    files = [p for p in (tmp_path / "landing").iterdir() if not p.name.endswith(".fetch.json")]
    assert len(files) == 2
    settings = _refresh(tmp_path)
    titles = [r[0] for r in _rows(settings, "SELECT title FROM raw.listings")]
    assert any("Video Captions" in t for t in titles)


def test_a_failed_day_fails_alone_and_is_retried_next_time(
    fake: FakeHuggingFace, tmp_path: Path
) -> None:
    instance = DagsterInstance.ephemeral()
    assert _fetch_day(tmp_path, OTHER_DAY, instance)
    fake.api_unavailable.add(DAY)
    fake.changed_structure = True
    assert not _fetch_day(tmp_path, DAY, instance)
    key = HF_DAILY
    fetched = instance.get_materialized_partitions(key)
    assert OTHER_DAY.isoformat() in fetched and DAY.isoformat() not in fetched
    assert DAY.isoformat() in days_to_fetch(DAY + timedelta(days=1), fetched, date(2026, 1, 1))
    assert any(p.name.startswith(f"hf_daily_{OTHER_DAY}") for p in (tmp_path / "landing").iterdir())


def test_a_changed_page_structure_is_reported_by_name(
    fake: FakeHuggingFace, tmp_path: Path
) -> None:
    fake.api_unavailable.add(DAY)
    fake.changed_structure = True
    result = materialize(
        [hf_daily_papers],
        partition_key=DAY.isoformat(),
        resources={"pipeline_settings": _resource(tmp_path)},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error
    assert "DailyPapers" in str(failure)


@pytest.mark.slow
def test_throttled_and_slow_answers_are_retried(fake: FakeHuggingFace, tmp_path: Path) -> None:
    fake.server.queue(
        "/api/daily_papers",
        Reply(429, "", headers={"RateLimit": '"api";r=0;t=1'}),
        Reply(503, "", headers={"Retry-After": "1"}),
        Reply(200, "[]", delay_s=1.0),
    )
    assert _fetch_day(tmp_path, DAY)
    settings = _refresh(tmp_path)
    assert _rows(settings, "SELECT count(*) FROM raw.listings") == [(len(day_items()),)]


def test_offline_fetches_nothing(
    fake: FakeHuggingFace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERS_OFFLINE", "1")
    monkeypatch.setenv("HF_SEARCH_QUERIES", "video")
    assert _fetch_day(tmp_path, DAY)
    assert materialize(
        [hf_search_results], resources={"pipeline_settings": _resource(tmp_path)}
    ).success
    assert fake.server.requests == []
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").iterdir())


@pytest.mark.slow
def test_the_documented_backfill_command_fetches_a_range_in_one_run(
    fake: FakeHuggingFace, tmp_path: Path
) -> None:
    """README's `--partition-range` command, run as written against the fake: one run,
    each day its own raw file, the day that fails failing alone."""
    first = OTHER_DAY - timedelta(days=1)
    fake.set_day(first, day_items()[:2])
    fake.api_unavailable.add(OTHER_DAY)
    fake.changed_structure = True  # its HTML fallback fails too
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "PAPERS_LANDING_DIR": str(tmp_path / "landing"),
        "PAPERS_WAREHOUSE": str(tmp_path / "papers.duckdb"),
    }
    done = subprocess.run(
        ["bash", "-c", BACKFILL], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode != 0 and f"could not be fetched for {OTHER_DAY}" in log, log[-3000:]
    asked = [r.param("date") for r in fake.server.requests_to("/api/daily_papers")]
    assert {first.isoformat(), DAY.isoformat()} <= set(asked)
    saved = sorted(p.name for p in (tmp_path / "landing").iterdir() if p.suffix == ".json")
    assert any(f"hf_daily_{first}" in n for n in saved) and any(
        f"hf_daily_{DAY}" in n for n in saved
    )
    with DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == 1
        fetched = instance.get_materialized_partitions(HF_DAILY)
    assert fetched == {first.isoformat(), DAY.isoformat()}


def test_a_hand_saved_list_is_observed_on_its_listing_day(tmp_path: Path) -> None:
    """No sidecar, no stated day: the file's day is the latest listing day its items
    state, and the history, first_seen and trending use it, not the loading day."""
    warehouse = TempWarehouse(tmp_path)
    warehouse.land("saved_by_hand.json", api_bytes(day_items()).decode())
    every_step(warehouse.settings, date(2026, 12, 1))
    assert warehouse.rows("SELECT snapshot_date, snapshot_date_source FROM raw.dump_files") == [
        (DAY, "latest_listing_day")
    ]
    assert warehouse.rows("SELECT DISTINCT observed_on FROM marts.paper_history") == [(DAY,)]
    paper = warehouse.rows(
        "SELECT first_seen, listed_on, authors, ai_keywords, submitter, claimed_authors "
        "FROM core.papers WHERE arxiv_id = '2611.14207'"
    )
    assert paper == [
        (
            DAY,
            DAY,
            ["Mei Tanaka", "Jonas Weber", "Priya Raman"],
            ["benchmark", "large language models"],
            "akhaliq",
            1,
        )
    ]
    assert warehouse.rows("SELECT count(*) FROM marts.trending WHERE last_observed = ?", [DAY])[0][
        0
    ] == len(day_items())


def test_the_refetch_window_fetches_recent_days_again_and_older_ones_not() -> None:
    today, start = date(2026, 11, 30), date(2026, 1, 1)
    every_day = {(today - timedelta(days=n)).isoformat() for n in range(1, 40)}
    window = days_to_fetch(today, every_day, start, refetch_days=14)
    assert window == [(today - timedelta(days=n)).isoformat() for n in range(14, 0, -1)]
    # a day older than the window is not fetched again; a missed one inside the retry week is
    missed = every_day - {(today - timedelta(days=5)).isoformat()}
    assert days_to_fetch(today, missed, start, refetch_days=0) == [
        (today - timedelta(days=5)).isoformat()
    ]
    assert days_to_fetch(today, every_day, date(2026, 11, 25), refetch_days=14)[0] == "2026-11-25"


def _fetched_on(root: Path, when: datetime, upvotes: int) -> Path:
    items = day_items()
    items[0]["paper"]["upvotes"] = upvotes
    body = FetchedBody(
        url=f"https://huggingface.co/api/daily_papers?date={DAY}&p=0&limit=100",
        body=api_bytes(items),
        content_type="application/json",
        fetched_at=when,
        kind="daily",
        day=DAY,
        query=None,
        page=0,
    )
    return save_fetched(body, root / "landing")


def test_refetches_of_a_day_draw_each_papers_upvote_curve(tmp_path: Path) -> None:
    """The same day fetched on three days: two changed answers are two observations on
    their fetch days; the unchanged third adds nothing."""
    warehouse = TempWarehouse(tmp_path)
    for day_fetched, upvotes in ((21, 87), (23, 140), (24, 140)):
        _fetched_on(tmp_path, datetime(2026, 11, day_fetched, 5, tzinfo=UTC), upvotes)
        every_step(warehouse.settings, date(2026, 11, day_fetched))
    assert warehouse.rows("SELECT count(*) FROM raw.dump_files") == [(2,)]
    curve = warehouse.rows(
        "SELECT h.observed_on, h.upvotes FROM marts.paper_history h "
        "JOIN core.papers p USING (paper_id) WHERE p.arxiv_id = '2611.14207' ORDER BY 1"
    )
    assert curve == [(date(2026, 11, 21), 87), (date(2026, 11, 23), 140)]
    gain = warehouse.rows(
        "SELECT t.upvote_gain_30d FROM marts.trending t JOIN core.papers p USING (paper_id) "
        "WHERE p.arxiv_id = '2611.14207'"
    )
    assert gain == [(53,)]
    assert warehouse.rows("SELECT paper_id FROM marts.trending LIMIT 1") == warehouse.rows(
        "SELECT paper_id FROM core.papers WHERE arxiv_id = '2611.14207'"
    )


def test_the_daily_schedule_asks_for_every_day_of_the_window_once_a_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "assets.huggingface.LOAD_SETTINGS", Settings.from_env({"HF_REFETCH_DAYS": "3"})
    )
    when = datetime(2026, 11, 30, 5, tzinfo=UTC)
    with instance_for_test() as instance:
        requests = list(
            hf_daily_schedule(build_schedule_context(instance, scheduled_execution_time=when))
        )
    # nothing fetched yet: the retry week; the last three days are among them
    assert [r.partition_key for r in requests] == [f"2026-11-{d}" for d in range(23, 30)]
    assert len({r.run_key for r in requests}) == 7
    assert all(r.run_key.endswith("-on-2026-11-30") for r in requests)
