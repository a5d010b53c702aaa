"""`core.paper_repos` end to end: links found in abstracts and in Hugging Face's field,
described by a fake GitHub, judged official / mentioned / unknown with their evidence,
and the checks that tie `core.paper_repos` to `core.repos`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dagster import AssetCheckSeverity, AssetSelection, materialize

from assets.checks import ASSET_CHECKS, repos_mostly_usable
from assets.definitions import defs
from assets.resources import PipelineSettings
from pipeline import steps
from pipeline.db import quality
from pipeline.github.api import GitHubClient
from pipeline.github.repos import refresh_repos
from tests.builders import Listing, TempWarehouse, abstract, dump_text, every_step
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.huggingface import api_bytes
from tests.fakes.local_server import LocalServer, quick_session
from tests.integration.test_enrichment import hf_api_item
from tests.integration.test_marts_and_queries import QUERIES

TWO = "Retrieval Heads Are Built From Simple Parts"
CITED = "Sparse Routing for Efficient Long Context Models"
BARE = "A Study of Bare Links in Abstracts of Papers"
HF = "Hugging Face Knows Which Repository Is Ours"


def _roles(warehouse: TempWarehouse) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    rows = warehouse.rows(
        "SELECT r.repo, r.role, r.sources, r.signals FROM core.paper_repos r ORDER BY r.repo"
    )
    return {repo: (role, tuple(sources), tuple(signals)) for repo, role, sources, signals in rows}


def test_roles_with_their_evidence(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = TempWarehouse(tmp_path)
    listings = [
        Listing(
            TWO,
            f"{abstract('retrieval heads')} We build on https://github.com/big/lib and "
            "release our code at https://github.com/small/ours.",
        ),
        Listing(CITED, f"{abstract('sparse routing')} https://github.com/lab/router"),
        Listing(BARE, f"{abstract('bare links')} https://github.com/some/where"),
    ]
    warehouse.land("papers.txt", dump_text(listings))
    item = hf_api_item("2503.01234", HF, abstract("repositories that are ours"))
    item["paper"]["githubRepo"] = "https://github.com/hf-lab/stated"
    warehouse.land("hf.json", api_bytes([item]).decode())
    settings = warehouse.settings
    steps.refresh(settings)
    fake = FakeGitHub(
        local_server,
        [
            FakeRepo(1, "big/lib", created_at="2018-01-01T00:00:00Z"),
            FakeRepo(2, "small/ours", created_at="2024-11-01T00:00:00Z"),
            FakeRepo(3, "lab/router", readme=f"# Router\n\nCode for *{CITED}*.\n\nRun it.\n"),
            FakeRepo(4, "some/where"),
            FakeRepo(5, "hf-lab/stated", created_at="2026-11-01T00:00:00Z"),
        ],
    )
    client = GitHubClient(quick_session(), fake.url)
    with client.session:
        refresh_repos(settings.warehouse, client, 24, False)
    counts = steps.judge_paper_code(settings)

    roles = _roles(warehouse)
    assert roles["big/lib"][0] == "mentioned" and "use_phrase:build on" in roles["big/lib"][2]
    assert roles["small/ours"][0] == "official"
    assert "own_phrase:our code" in roles["small/ours"][2]
    assert roles["lab/router"][0] == "official" and "readme_cites_paper" in roles["lab/router"][2]
    assert roles["some/where"][0] == "unknown"
    assert roles["hf-lab/stated"] == (
        "official",
        ("huggingface",),
        ("huggingface_stated", "created_near_paper"),  # listed on 2026-11-17
    )
    assert counts == {"mentioned": 1, "official": 3, "unknown": 1}
    # Nothing changed: no paper is judged again, and the table stays as it is.
    before = warehouse.rows("SELECT * FROM core.paper_repos ORDER BY ALL")
    assert steps.judge_paper_code(settings) == {}
    assert warehouse.rows("SELECT * FROM core.paper_repos ORDER BY ALL") == before
    sentence = warehouse.rows("SELECT sentence FROM core.paper_repos WHERE repo = 'small/ours'")
    assert sentence == [
        (
            "We build on https://github.com/big/lib and release our code at "
            "https://github.com/small/ours.",
        )
    ]
    with settings.warehouse.connect(read_only=True) as con:
        assert quality.evaluate(con, quality.PAPER_REPOS_DESCRIBED).passed
    # New facts for one repository: only its paper is judged again (a README that now
    # cites the paper makes the bare link official).
    fake.repos[4].readme = f"# Where\n\nThe code of *{BARE}*.\n\nEnjoy.\n"
    client = GitHubClient(quick_session(), fake.url)
    with client.session:
        refresh_repos(settings.warehouse, client, 24, False, now=datetime(2030, 1, 1))
    assert steps.judge_paper_code(settings) == {"official": 1}
    assert _roles(warehouse)["some/where"][0] == "official"
    # The check fails when a link has no core.repos row.
    with settings.warehouse.write() as con:
        con.execute("DELETE FROM core.repos WHERE repo = 'some/where'")
    with settings.warehouse.connect(read_only=True) as con:
        outcome = quality.evaluate(con, quality.PAPER_REPOS_DESCRIBED)
    assert outcome.offending == 1 and outcome.examples[0][1] == "some/where"


def test_papers_with_code_and_star_trends(tmp_path: Path, local_server: LocalServer) -> None:
    warehouse = TempWarehouse(tmp_path)
    listings = [
        Listing(
            f"Code Status Study {name}",
            f"{abstract(name)} Our code is at https://github.com/lab/{name}.",
        )
        for name in ("fine", "soon", "gone", "rising")
    ]
    warehouse.land("papers.txt", dump_text(listings))
    settings = warehouse.settings
    steps.refresh(settings)
    coming = "# Soon\n\nThe code will be released after acceptance.\n"
    fake = FakeGitHub(
        local_server,
        [
            FakeRepo(1, "lab/fine", stars=10),
            FakeRepo(2, "lab/soon", readme=coming, files=["README.md"]),
            FakeRepo(4, "lab/rising", stars=100),
        ],
    )
    start = datetime(2026, 5, 1, 8, 0)
    for day, stars in ((0, 100), (20, 130), (27, 190), (31, 250)):
        fake.repos[4].stars = stars
        client = GitHubClient(quick_session(), fake.url)
        with client.session:
            refresh_repos(settings.warehouse, client, 24, False, now=start + timedelta(days=day))
    steps.judge_paper_code(settings)
    steps.build_mart_tables(settings)

    with settings.warehouse.connect(read_only=True) as con:
        status = dict(
            con.execute("SELECT official_repo, code_status FROM marts.papers_with_code").fetchall()
        )
        trending = con.execute(
            "SELECT repo, stars, star_gain_7d, star_gain_30d, papers FROM marts.repo_trending "
            "ORDER BY repo"
        ).fetchall()
        missing = con.execute(
            (QUERIES / "papers_missing_code.sql").read_text(encoding="utf-8")
        ).fetchall()
        growing = con.execute(
            (QUERIES / "fastest_growing_repos.sql").read_text(encoding="utf-8")
        ).fetchall()
    assert status == {
        "lab/fine": "available",
        "lab/soon": "placeholder",
        "lab/gone": "gone",
        "lab/rising": "available",
    }
    # lab/rising: 250 on day 31; 7 days back is day 24, whose last observation is day 20
    # (130); 30 days back is day 1, whose last is day 0 (100).
    assert ("lab/rising", 250, 120, 150, 1) in trending
    assert ("lab/fine", 10, 0, 0, 1) in trending
    assert {row[2] for row in missing} == {"lab/soon", "lab/gone"}
    assert [row[0] for row in growing] == ["lab/rising"]

    # One of four repositories is gone, one of the rest a placeholder: the WARN check says so.
    result = materialize(
        [*defs.assets, *ASSET_CHECKS],
        selection=AssetSelection.checks(repos_mostly_usable),
        resources={
            "pipeline_settings": PipelineSettings(
                landing_dir=str(settings.landing_dir),
                warehouse=str(settings.warehouse_path),
                raw_archive=str(settings.raw_archive_dir),
            )
        },
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert evaluation.description == (
        "of 4 repositories GitHub answered for, 25% do not exist and 25% are placeholders "
        "(wanted: at most 20% and 20%)"
    )


def test_hugging_face_stars_are_observations(tmp_path: Path) -> None:
    warehouse = TempWarehouse(tmp_path)
    item = hf_api_item("2503.04444", "Stars Seen on Hugging Face", abstract("stars"))
    item["paper"]["githubRepo"] = "https://github.com/Star-Lab/seen"
    item["paper"]["githubStars"] = 321
    warehouse.land("hf.json", api_bytes([item]).decode())
    every_step(warehouse.settings)  # offline: GitHub is not asked
    every_step(warehouse.settings)  # and a re-run adds nothing
    rows = warehouse.rows(
        "SELECT repo, source, status, stars FROM core.repo_observations ORDER BY observed_at"
    )
    assert rows == [("star-lab/seen", "huggingface", "pending", 321)]
