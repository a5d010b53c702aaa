"""`core.paper_repos` and `core.paper_links` built from abstracts through the refresh:
canonical `owner/name`, one row per paper and repository whatever the spelling or the
number of files, and link kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.db import quality
from pipeline.db.connection import DuckDBFile
from tests.builders import Listing, TempWarehouse, abstract, dump_text

TOKENS = "Fast Tokenizers for Many Languages at Once"
TOKENS_ABSTRACT = (
    "We present a tokenizer that is fast. Code: https://github.com/OpenLab/FastTok.git. "
    "A mirror is listed twice {https://github.com/openlab/fasttok}"
    "{https://github.com/openlab/fasttok}. "
    "Tools live at http://github.com/Other-Org/tool_kit/tree/main, the demo at "
    "https://openlab.github.io/fasttok/ and data at https://huggingface.co/datasets/openlab/toks "
    "(see https://example.com/paper and github.com/orgs/openlab). Models: "
    "https://github.com/a-b/c.d{here}."
)
SPEECH = "Streaming Speech Recognition with Tiny Models"
SPEECH_ABSTRACT = abstract("speech") + " Code at https://github.com/openlab/FastTok)."


@pytest.fixture
def built(tmp_path: Path) -> TempWarehouse:
    warehouse = TempWarehouse(tmp_path / "w")
    warehouse.land(
        "a.txt",
        dump_text(
            [
                Listing(TOKENS, TOKENS_ABSTRACT, 3, "Oct 3, 2024 2"),
                Listing(SPEECH, SPEECH_ABSTRACT, 2, "Sep 1, 2024"),
            ]
        ),
    )
    # the same paper again in another file, same abstract: its repos must collapse
    warehouse.land("b.txt", dump_text([Listing(TOKENS, TOKENS_ABSTRACT)], page_date="Dec 2"))
    warehouse.refresh()
    return warehouse


def _repos(warehouse: TempWarehouse, title: str) -> list[tuple[object, ...]]:
    paper_id = warehouse.rows("SELECT paper_id FROM core.papers WHERE title = ?", [title])[0][0]
    return warehouse.rows(
        "SELECT repo, url, source FROM core.paper_repos WHERE paper_id = ? ORDER BY lower(repo)",
        [paper_id],
    )


def test_one_row_per_paper_and_repo_in_canonical_form(built: TempWarehouse) -> None:
    assert built.rows("SELECT count(*) FROM core.papers") == [(2,)]
    assert _repos(built, TOKENS) == [
        ("a-b/c.d", "https://github.com/a-b/c.d", "abstract"),
        ("OpenLab/FastTok", "https://github.com/OpenLab/FastTok", "abstract"),
        ("Other-Org/tool_kit", "https://github.com/Other-Org/tool_kit", "abstract"),
    ]
    # the other paper names the same repository: it gets its own row
    assert _repos(built, SPEECH) == [
        ("openlab/FastTok", "https://github.com/openlab/FastTok", "abstract")
    ]
    assert built.rows(
        "SELECT count(*), count(DISTINCT (paper_id, lower(repo))) FROM core.paper_repos"
    ) == [(4, 4)]
    assert built.rows(
        "SELECT count(*) FROM core.paper_repos WHERE url <> 'https://github.com/' || repo"
    ) == [(0,)]
    with DuckDBFile(built.settings.warehouse_path).connect(read_only=True) as con:
        assert quality.evaluate(con, quality.REPO_FORMAT).passed


def test_link_kinds(built: TempWarehouse) -> None:
    links = built.rows(
        """
        SELECT p.title, l.url, l.kind FROM core.paper_links l JOIN core.papers p USING (paper_id)
        ORDER BY l.url
        """
    )
    assert links == [
        (TOKENS, "https://example.com/paper", "other"),
        (TOKENS, "https://github.com/orgs/openlab", "other"),
        (TOKENS, "https://huggingface.co/datasets/openlab/toks", "huggingface"),
        (TOKENS, "https://openlab.github.io/fasttok/", "project_page"),
    ]
    kinds = {row[0] for row in built.rows("SELECT DISTINCT kind FROM core.paper_links")}
    assert kinds <= {"project_page", "huggingface", "other"}


def test_listing_level_rows_collapse_per_paper(built: TempWarehouse) -> None:
    # both files were scanned: each listing holds the repos, the paper holds them once
    assert built.rows(
        "SELECT count(DISTINCT file_sha256), count(*) FROM internal.listing_repos"
    ) == [(2, 7)]
    assert built.rows("SELECT count(*) FROM core.paper_links") == [(4,)]


def test_rescan_and_rerun_change_nothing(built: TempWarehouse) -> None:
    before = (
        built.table("core.paper_repos", "ALL"),
        built.table("core.paper_links", "ALL"),
        built.table("internal.listing_repos", "ALL"),
    )
    report = built.refresh()
    assert report.listings_scanned_for_links == 0
    after = (
        built.table("core.paper_repos", "ALL"),
        built.table("core.paper_links", "ALL"),
        built.table("internal.listing_repos", "ALL"),
    )
    assert after == before


def test_repos_follow_a_later_typo_merge(tmp_path: Path) -> None:
    """A typo variant arriving later joins the paper; its repo, spelled in another case,
    does not add a row."""
    title = "Hierarchical Planning Agents for Household Robot Manipulation"
    typo = "Hierarchical Planning Agents for Huosehold Robot Manipulation"
    text = abstract("robot chores") + " Code: https://github.com/RoboLab/Planner."
    warehouse = TempWarehouse(tmp_path / "w")
    warehouse.land("1.txt", dump_text([Listing(title, text)]))
    warehouse.refresh()
    warehouse.land("2.txt", dump_text([Listing(typo, text.replace("RoboLab", "robolab"))]))
    warehouse.refresh()
    rows = warehouse.rows("SELECT paper_id, repo, url FROM core.paper_repos")
    assert len(rows) == 1
    (paper_id, repo, url) = rows[0]
    assert str(repo).lower() == "robolab/planner" and url == f"https://github.com/{repo}"
    assert warehouse.rows("SELECT paper_id FROM core.papers") == [(paper_id,)]


def test_repos_and_links_do_not_depend_on_arrival_order(tmp_path: Path) -> None:
    files = {
        "a.txt": dump_text([Listing(TOKENS, TOKENS_ABSTRACT, 3, "Oct 3, 2024 2")]),
        "b.txt": dump_text(
            [
                Listing(TOKENS, TOKENS_ABSTRACT.replace("OpenLab/FastTok", "openlab/FASTTOK")),
                Listing(SPEECH, SPEECH_ABSTRACT),
            ],
            page_date="Dec 2",
        ),
    }
    states = []
    for name, order in (("ab", ["a.txt", "b.txt"]), ("ba", ["b.txt", "a.txt"])):
        warehouse = TempWarehouse(tmp_path / name)
        for file in order:
            warehouse.land(file, files[file])
            warehouse.refresh()
        states.append(
            (warehouse.table("core.paper_repos", "ALL"), warehouse.table("core.paper_links", "ALL"))
        )
    assert states[0] == states[1]
    assert len(states[0][0]) == 4
