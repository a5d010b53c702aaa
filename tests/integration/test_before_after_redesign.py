"""Nothing lost in the redesign of issue 9: every table holds the same rows as before it,
on the seeds (offline, and online against a fake arXiv) and on the bundled samples.

`tests/data/tables_before_redesign.json` holds the fingerprints (`tests.fingerprints`)
taken with the code before the redesign; its bookkeeping tables then lived in `core`
and now live in `internal`. `core.title_keys` became `internal.title_keys`, with a cluster
id where it had a paper id, so it is compared on the columns both have.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks.arxiv_requests import _session, plant
from pipeline import steps
from pipeline.arxiv.api import ArxivClient
from pipeline.arxiv.outcomes import resolve_clusters
from pipeline.db.schema import TABLE
from pipeline.settings import PROJECT_ROOT, Settings
from tests.builders import every_step
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.local_server import LocalServer
from tests.fingerprints import fingerprint

BEFORE = json.loads(
    (Path(__file__).parents[1] / "data" / "tables_before_redesign.json").read_text()
)
MOVED = {
    f"core.{name}": f"internal.{name}"
    for name in (
        "title_signatures",
        "link_scanned_files",
        "listing_repos",
        "listing_links",
        "arxiv_repos",
    )
}
# Issue 12 gives a hyphenated title key signatures for its words apart as well as joined
# (and every spelling of a key its own): the table of signatures only grows.
GROWN = {"core.title_signatures"}
RESHAPED = {"core.title_keys", *GROWN}
# Issue 14 dates a fetched file's observations by its fetch, not by the day it was for:
# the samples' fetched file gives the same rows on another day, so there these are
# compared by their row counts (the seeds, all text, give the same rows as before).
REDATED = {"samples_offline": {"marts.listing_observations", "marts.paper_history"}}
# Columns added since (issue 10's detection of incomplete saves, issue 13's roles, issue
# 14's Hugging Face facts).
HF_FACTS = ("listed_on", "ai_summary", "ai_keywords", "submitter", "claimed_authors")
ADDED_SINCE = frozenset(
    {
        *(f"raw.listings.{c}" for c in HF_FACTS),
        *(f"core.papers.{c}" for c in (*HF_FACTS, "authors")),
        "raw.dump_files.head_sha256",
        "raw.dump_files.superseded_by",
        "raw.listings.github_stars",
        *(f"core.paper_repos.{c}" for c in ("role", "sources", "sentence", "signals")),
        *(
            f"internal.{t}.{c}"
            for t in ("listing_repos", "arxiv_repos")
            for c in ("sentence", "phrase")
        ),
    }
)
SAMPLES = PROJECT_ROOT / "warehouse" / "samples"


def _settings(root: Path, source: Path, offline: bool) -> Settings:
    shutil.copytree(source, root / "landing")
    env = {
        "PAPERS_LANDING_DIR": str(root / "landing"),
        "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
        "PAPERS_RAW_ARCHIVE": str(root / "archive"),
    }
    return Settings.from_env(env | ({"PAPERS_OFFLINE": "1"} if offline else {}))


def _compare(case: str, warehouse: Path) -> None:
    after = fingerprint(warehouse, skip=ADDED_SINCE)
    redated = REDATED.get(case, set())
    expected = {
        MOVED.get(t, t): fp for t, fp in BEFORE[case].items() if t not in RESHAPED | redated
    }
    assert {t: after.get(t) for t in expected} == expected
    assert {t: after[t]["rows"] for t in redated} == {t: BEFORE[case][t]["rows"] for t in redated}
    for table in GROWN:
        assert after[MOVED[table]]["rows"] >= BEFORE[case][table]["rows"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        keys = con.execute("SELECT count(*) FROM internal.title_keys").fetchall()[0][0]
    assert keys == BEFORE[case]["core.title_keys"]["rows"]


def test_the_bundled_samples_give_the_same_tables(tmp_path: Path) -> None:
    settings = _settings(tmp_path, SAMPLES, offline=True)
    every_step(settings)
    _compare("samples_offline", settings.warehouse_path)


def test_the_seeds_offline_give_the_same_tables(tmp_path: Path, seeds_dir: Path) -> None:
    settings = _settings(tmp_path, seeds_dir, offline=True)
    every_step(settings)
    _compare("seeds_offline", settings.warehouse_path)


@pytest.mark.slow
def test_the_seeds_online_give_the_same_tables_and_requests(
    tmp_path: Path, seeds_dir: Path
) -> None:
    offline = _settings(tmp_path / "offline", seeds_dir, offline=True)
    steps.refresh(offline)
    with duckdb.connect(str(offline.warehouse_path), read_only=True) as con:
        papers = con.execute("SELECT paper_id, title, abstract FROM core.papers").fetchall()
    planted = plant(papers, 0.1, 7)  # what the fingerprints were taken with

    settings = _settings(tmp_path / "online", seeds_dir, offline=False)
    steps.refresh(settings)
    server = LocalServer().start()
    try:
        fake = FakeArxiv(server, planted.papers)
        client = ArxivClient(_session(), fake.url)
        with client.session:
            resolve_clusters(settings.warehouse, client, 30, offline=False)
    finally:
        server.stop()
    steps.build_paper_tables(settings)
    steps.build_link_tables(settings)
    steps.judge_paper_code(settings)
    steps.build_mart_tables(settings)
    assert len(fake.requests) == BEFORE["seeds_online_requests"]
    _compare("seeds_online", settings.warehouse_path)


def test_the_fingerprints_cover_every_table_of_the_old_layout() -> None:
    """A table the old code had and the new one dropped would be lost: there is none."""
    cases = ("samples_offline", "seeds_offline", "seeds_online")
    old = set().union(*(BEFORE[c] for c in cases))
    assert len(old) == 24
    assert {MOVED.get(t, t) for t in old if t not in RESHAPED} <= set(TABLE)
