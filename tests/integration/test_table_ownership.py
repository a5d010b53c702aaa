"""One owner per table: each step of the refresh writes exactly the tables its Dagster
asset declares, and data flows one way (raw -> title clusters -> arXiv -> papers ->
links -> repos -> paper code -> marts).

The steps run one by one, as the refresh job runs them, over input that makes every
table change at least once: text dumps, a bad file and a renamed copy, a Hugging Face
file stating an arXiv ID (a merge by arXiv ID), a later typo variant (a merge of
clusters), a fake arXiv whose record names a repository, and a fake Hugging Face that
knows some of the papers the text dumps listed. Before and after each step
every table is fingerprinted (views by their definition, since a view's rows follow its
sources); what changed must belong to the step.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assets.refresh import REFRESH_ASSETS
from assets.tables import table_name
from pipeline import steps
from pipeline.arxiv.api import ArxivClient
from pipeline.arxiv.outcomes import resolve_clusters
from pipeline.db.connection import Warehouse
from pipeline.db.schema import TABLE
from pipeline.github.api import GitHubClient
from pipeline.github.repos import refresh_repos
from pipeline.huggingface.api import HfClient
from pipeline.huggingface.lookups import look_up_papers
from pipeline.settings import PROJECT_ROOT, Settings
from tests.builders import Listing, abstract, dump_text
from tests.conftest import backend_warehouse
from tests.fakes.arxiv import FakeArxiv, FakePaper
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.huggingface import FakeHuggingFace, api_bytes
from tests.fakes.local_server import LocalServer, quick_session
from tests.fingerprints import fingerprint
from tests.integration.test_enrichment import (
    ABS_VERIFIER,
    NEW_TITLE,
    OLD_TITLE,
    VERIFIER_ID,
    hf_api_item,
    make_client,
)
from tests.integration.test_pwc_archive import as_json, pwc_record

BASE = "Hierarchical Planning Agents for Household Robot Manipulation"
TYPO = "Hierarchical Planning Agents for Huosehold Robot Manipulation"  # a smaller key id
CHORES = abstract("household robots that plan their chores")
SAMPLES = PROJECT_ROOT / "warehouse" / "samples"
EMPTY = {"rows": 0, "sha256": hashlib.sha256(b"").hexdigest()}


def _state(warehouse: Warehouse) -> dict[str, object]:
    """Base tables by their rows, views by their definition."""
    with warehouse.connect(read_only=True) as con:
        views = dict(
            con.execute(
                "SELECT schema_name || '.' || view_name, sql FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal"
            ).fetchall()
        )
    return {name: views.get(name, print_) for name, print_ in fingerprint(warehouse).items()}


def _declared() -> dict[str, set[str]]:
    """Asset (step) name -> the tables it declares, as Dagster shows them."""
    return {
        a.node_def.name: {table_name(k) for k in a.keys}
        for a in REFRESH_ASSETS
        if a.node_def.name != "warehouse_read_copy"  # a file beside the warehouse
    }


def _steps(
    settings: Settings, client: ArxivClient, github: GitHubClient, hf: HfClient
) -> dict[str, Callable[[], object]]:
    """Asset name -> the plain function that asset calls (arXiv, GitHub and Hugging Face
    asked through the clients given, on loopback)."""
    landing = settings.landing_dir
    return {
        "raw_files": lambda: steps.load_raw_files(settings),
        "title_clusters": lambda: steps.cluster_titles(settings),
        "arxiv_outcomes": lambda: resolve_clusters(settings.warehouse, client, 30, False),
        "papers": lambda: steps.build_paper_tables(settings),
        "hf_lookups": lambda: look_up_papers(settings.warehouse, hf, landing, 30, False),
        "links": lambda: steps.build_link_tables(settings),
        "repos": lambda: refresh_repos(settings.warehouse, github, 24, False),
        "paper_code": lambda: steps.judge_paper_code(settings),
        "marts": lambda: steps.build_mart_tables(settings),
    }


@pytest.fixture(params=["file", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Online (against the fakes), on a DuckDB file and on a DuckLake: the enrichment
    steps write a lake as they write a file."""
    env = backend_warehouse(request, tmp_path, request.param).env
    return Settings.from_env({k: v for k, v in env.items() if k != "PAPERS_OFFLINE"})


def _land_first(landing: Path) -> None:
    shutil.copytree(SAMPLES, landing)
    (landing / "again.txt").write_bytes((SAMPLES / "daily_compact_copy.txt").read_bytes())
    (landing / "ours.txt").write_text(
        dump_text([Listing(BASE, CHORES, 3, "Oct 3, 2024"), Listing(OLD_TITLE, ABS_VERIFIER)])
    )


def _land_second(landing: Path) -> None:
    (landing / "hf.json").write_bytes(
        api_bytes([hf_api_item(VERIFIER_ID, NEW_TITLE, ABS_VERIFIER)])
    )
    (landing / "typo.txt").write_text(dump_text([Listing(TYPO, CHORES)]))
    pwc = [pwc_record(VERIFIER_ID, "https://github.com/verifier-lab/decoding", True)]
    (landing / "links-between-papers-and-code.json").write_bytes(as_json(pwc))


def test_each_step_writes_exactly_the_tables_its_asset_declares(
    settings: Settings, local_server: LocalServer
) -> None:
    fake = FakeArxiv(
        local_server,
        [
            FakePaper(
                VERIFIER_ID,
                NEW_TITLE,
                ABS_VERIFIER,
                comment="Code: https://github.com/verifier-lab/decoding",
            )
        ],
    )
    client = make_client(fake.url)
    github = FakeGitHub(local_server, [FakeRepo(77, "verifier-lab/decoding")])
    hf = HfClient(quick_session(), FakeHuggingFace(local_server).url)
    declared = _declared()
    run = _steps(settings, client, GitHubClient(quick_session(), github.url), hf)
    assert set(run) == set(declared)
    every_table = set().union(*declared.values())
    assert every_table == set(TABLE)  # every table is some asset's
    assert sum(len(tables) for tables in declared.values()) == len(TABLE)  # and one only

    writers: dict[str, set[str]] = {}
    _land_first(settings.landing_dir)
    with client.session:
        for land in (None, _land_second):
            if land is not None:
                land(settings.landing_dir)
            for step, function in run.items():
                warehouse = settings.warehouse
                before = _state(warehouse) if warehouse.exists() else {}
                function()
                after = _state(warehouse)
                # A table that did not exist yet was empty: creating it writes no row.
                changed = {t for t in after if after[t] != before.get(t, EMPTY)}
                assert changed <= declared[step], (step, sorted(changed - declared[step]))
                for table in changed:
                    writers.setdefault(table, set()).add(step)
    # The input exercised every table, each written by its own step only.
    assert set(writers) == set(TABLE), sorted(set(TABLE) - set(writers))
    assert all(len(steps_) == 1 for steps_ in writers.values()), writers
    with settings.warehouse.connect(read_only=True) as con:
        reasons = con.execute("SELECT reason FROM core.paper_aliases ORDER BY 1").fetchall()
    assert reasons == [("same arXiv ID",), ("title typo variant",)]
