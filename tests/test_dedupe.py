"""Deduplication through the warehouse: small text dumps in the layout of DUMP_FORMAT.md
go through `pipeline.refresh.refresh`, and the core tables must say which listings are
one paper, with ids that do not depend on arrival order and values merged by the
documented rules.

The helpers at the top (`Listing`, `dump_text`, `Warehouse`) are shared with the other
warehouse tests.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline import quality
from pipeline.dedupe import (
    SIGNATURES_SQL,
    abstracts_agree,
    key_id,
    merge_papers,
)
from pipeline.refresh import RefreshReport, refresh
from pipeline.settings import Settings
from pipeline.titles import title_key
from pipeline.warehouse import connect, ensure_schema

TODAY = date(2026, 6, 1)
HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)


@dataclass(frozen=True)
class Listing:
    """One entry of a text dump; `published` is the metadata date line, e.g.
    `Oct 3, 2024 2` (the trailing number is the comment count)."""

    title: str
    abstract: str
    authors: int | None = None
    published: str | None = None


def dump_text(listings: list[Listing], page_date: str = "Nov 25") -> str:
    """A text dump: page header, the viewing day, then title/abstract[/metadata] blocks."""
    blocks = [*HEADER, page_date]
    for listing in listings:
        blocks += [listing.title, listing.abstract]
        if listing.published is not None:
            blocks.append(f"  • {listing.authors or 1} authors\n·\n{listing.published}")
    return "\n\n".join(blocks) + "\n"


def abstract(topic: str) -> str:
    """A distinct, plausible abstract per topic (our own wording)."""
    return (
        f"We study {topic}. Our method combines a simple training recipe with a careful "
        f"evaluation protocol on {topic}, and improves over strong baselines on every "
        "benchmark we consider while using fewer resources."
    )


@dataclass
class Warehouse:
    """A warehouse in a temporary folder, fed by writing dumps into its landing folder."""

    root: Path
    files: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        # from an environment of our own, so that new settings keep their defaults
        return Settings.from_env(
            {
                "PAPERS_LANDING_DIR": str(self.root / "landing"),
                "PAPERS_WAREHOUSE": str(self.root / "papers.duckdb"),
                "PAPERS_RAW_ARCHIVE": str(self.root / "archive"),
                "PAPERS_OFFLINE": "1",
            }
        )

    def land(self, name: str, text: str) -> Path:
        path = self.root / "landing" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(name)
        return path

    def refresh(self) -> RefreshReport:
        return refresh(self.settings, today=TODAY)

    def rows(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        with connect(self.settings.warehouse_path, read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def paper_of(self, file_name: str, position: int) -> str:
        """The paper id of one listing, found through the lineage table."""
        rows = self.rows(
            """
            SELECT pl.paper_id FROM core.paper_listings pl
            JOIN raw.file_names n USING (file_sha256)
            WHERE n.file_name = ? AND pl.position = ?
            """,
            [file_name, position],
        )
        assert len(rows) == 1, f"{file_name}#{position} maps to {len(rows)} papers"
        return str(rows[0][0])

    def paper(self, paper_id: str) -> dict[str, object]:
        with connect(self.settings.warehouse_path, read_only=True) as con:
            frame = con.sql(f"SELECT * FROM core.papers WHERE paper_id = '{paper_id}'").pl()
        assert frame.height == 1
        return frame.row(0, named=True)

    def table(self, name: str, order: str) -> list[tuple[object, ...]]:
        return self.rows(f"SELECT * FROM {name} ORDER BY {order}")


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "w")


def full_width(text: str) -> str:
    """ASCII letters as their full-width forms, as East Asian input methods type them."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalpha() else ch for ch in text)


# Groups of titles that are one paper; every group has its own abstract.
NFC = unicodedata.normalize("NFC", "Naïve Café Agents Plan Household Chores")
SAME_PAPER_GROUPS: list[tuple[str, list[str]]] = [
    ("case", ["Sparse Mixture Models at Scale", "SPARSE MIXTURE MODELS AT SCALE"]),
    (
        "punctuation",
        ["Reward Models: A Survey", "Reward Models - a Survey!", "Reward Models, A Survey."],
    ),
    (
        "hyphenation",
        [
            "Pre-training Vision Encoders on Web Data",
            "Pretraining Vision Encoders on Web Data",
            "Pre training Vision Encoders on Web Data",
        ],
    ),
    ("unicode forms", [NFC, unicodedata.normalize("NFD", NFC)]),
    (
        "full width",
        [full_width("Motion") + " Diffusion for Avatars", "Motion Diffusion for Avatars"],
    ),
    (
        "spaces",
        [
            "Token Merging for Faster Decoders",
            "Token  Merging\u00a0for Faster\u202fDecoders ",
        ],
    ),
    (
        "typo in a long word",
        [
            "Reinforcement Learning for Robots",
            "Reinforcement Lerning for Robots",
        ],
    ),
    (
        "transposition",
        [
            "Efficient Reinforcement Learning for Large Language Models",
            "Efficient Reinforcemnet Learning for Large Language Models",
        ],
    ),
]

# Pairs that must stay two papers. Most share one abstract on purpose: the title alone
# must keep them apart; the last two differ only where the abstracts disagree.
SHARED = abstract("a family of models released in several versions")
DIFFERENT_PAPER_PAIRS: list[tuple[str, Listing, Listing]] = [
    (
        "part",
        Listing("Attention Is All You Need Part I", SHARED),
        Listing("Attention Is All You Need Part II", SHARED),
    ),
    (
        "version",
        Listing("Benchmarking Multimodal Reasoning Models V2", SHARED),
        Listing("Benchmarking Multimodal Reasoning Models V3", SHARED),
    ),
    (
        "model number",
        Listing("Language Models Like GPT-3 Are Few Shot Learners", SHARED),
        Listing("Language Models Like GPT-4 Are Few Shot Learners", SHARED),
    ),
    (
        "size",
        Listing("Scaling Laws for 7B Parameter Language Models", SHARED),
        Listing("Scaling Laws for 70B Parameter Language Models", SHARED),
    ),
    (
        "number word",
        Listing("Two Stage Training for Robust Speech Recognition", SHARED),
        Listing("Three Stage Training for Robust Speech Recognition", SHARED),
    ),
    (
        "acronym",
        Listing("DDPM Sampling for Faster Generative Image Models", SHARED),
        Listing("DDIM Sampling for Faster Generative Image Models", SHARED),
    ),
    (
        "real word",
        Listing("Scalable Diffusion Transformers for Image Generation", SHARED),
        Listing("Scalable Diffusion Transformers for Video Generation", SHARED),
    ),
    (
        "graph/grape",
        Listing("Graph Neural Networks for Molecular Property Prediction", abstract("graphs")),
        Listing("Grape Neural Networks for Molecular Property Prediction", abstract("grapes")),
    ),
    (
        "typo-like, abstracts disagree",
        Listing(
            "Hierarchical Planning Agents for Household Robot Manipulation",
            abstract("household robots that plan their chores"),
        ),
        Listing(
            "Hierarchical Planning Agents for Household Robot Manipultaion",
            "A completely different paper: a benchmark of warehouse logistics, "
            "with measurements of conveyor belts and forklift routing over one year.",
        ),
    ),
]


def _listings_together() -> tuple[list[Listing], list[Listing], dict[tuple[int, int], str]]:
    """Two dumps: the first spelling of every group and pair in file 0, the others in
    file 1, so both new-vs-new and new-vs-stored comparisons happen."""
    files: tuple[list[Listing], list[Listing]] = ([], [])
    label_of: dict[tuple[int, int], str] = {}

    def add(file: int, listing: Listing, label: str) -> None:
        files[file].append(listing)
        label_of[(file, len(files[file]))] = label

    for name, titles in SAME_PAPER_GROUPS:
        for index, title in enumerate(titles):
            add(min(index, 1), Listing(title, abstract(name)), name)
    for name, first, second in DIFFERENT_PAPER_PAIRS:
        add(0, first, name + " (a)")
        add(1, second, name + " (b)")
    return files[0], files[1], label_of


@pytest.mark.parametrize("arrival", ["one refresh", "one file per refresh"])
def test_merges_that_must_and_must_not_happen(warehouse: Warehouse, arrival: str) -> None:
    first, second, label_of = _listings_together()
    warehouse.land("a.txt", dump_text(first))
    if arrival == "one file per refresh":
        warehouse.refresh()
    warehouse.land("b.txt", dump_text(second))
    warehouse.refresh()

    names = ("a.txt", "b.txt")
    papers_by_label: dict[str, set[str]] = {}
    for (file, position), label in label_of.items():
        papers_by_label.setdefault(label, set()).add(warehouse.paper_of(names[file], position))
    for label, ids in papers_by_label.items():
        assert len(ids) == 1, f"{label}: spellings became {len(ids)} papers"
    owners: dict[str, str] = {}
    for label, ids in papers_by_label.items():
        (paper_id,) = ids
        assert paper_id not in owners, f"{label} merged with {owners.get(paper_id)}"
        owners[paper_id] = label
    assert warehouse.rows("SELECT count(*) FROM core.papers") == [(len(papers_by_label),)]
    assert len(papers_by_label) == len(SAME_PAPER_GROUPS) + 2 * len(DIFFERENT_PAPER_PAIRS)


def test_every_listing_maps_to_exactly_one_paper(warehouse: Warehouse) -> None:
    first, second, _ = _listings_together()
    warehouse.land("a.txt", dump_text(first))
    warehouse.land("b.txt", dump_text(second))
    warehouse.land("a-again.txt", dump_text(first[:3] + second[:3], page_date="Dec 1"))
    warehouse.refresh()

    (listings,) = warehouse.rows("SELECT count(*) FROM raw.listings")[0]
    assert listings == len(first) + len(second) + 6
    assert warehouse.rows(
        """
        SELECT count(*), count(DISTINCT (file_sha256, position)) FROM core.paper_listings
        """
    ) == [(listings, listings)]
    assert warehouse.rows(
        "SELECT count(*) FROM raw.listings ANTI JOIN core.paper_listings "
        "USING (file_sha256, position)"
    ) == [(0,)]
    with connect(warehouse.settings.warehouse_path, read_only=True) as con:
        for rule in (
            quality.LISTINGS_MAPPED_ONCE,
            quality.LISTINGS_HAVE_PAPERS,
            quality.UNIQUE_PAPER_ID,
            quality.NO_EMPTY_TITLES,
        ):
            assert quality.evaluate(con, rule).passed, rule.name
    # listing_count agrees with the lineage
    assert warehouse.rows(
        """
        SELECT count(*) FROM core.papers p
        JOIN (SELECT paper_id, count(*) AS n FROM core.paper_listings GROUP BY 1) l
        USING (paper_id) WHERE p.listing_count <> l.n
        """
    ) == [(0,)]


def _order_files() -> dict[str, str]:
    """Three dumps whose papers overlap: exact repeats, typo variants in both directions
    of key_id order, and a paper each file has alone."""
    base = "Hierarchical Planning Agents for Household Robot Manipulation"
    smaller = "Hierarchical Planning Agents for Huosehold Robot Manipulation"
    larger = "Hierarchical Planning Agents for Household Robot Manpiulation"
    assert key_id(title_key(smaller)) < key_id(title_key(base)) < key_id(title_key(larger))
    chores = abstract("household robots that plan their chores")
    common = Listing(
        "Sparse Mixture Models at Scale", abstract("sparse mixtures"), 4, "Jan 5, 2024"
    )
    return {
        "a.txt": dump_text(
            [
                Listing(base, chores, 7, "Oct 3, 2024 2"),
                common,
                Listing("Only In File A", abstract("file a"), 2, "Sep 9, 2024 1"),
            ],
            page_date="Nov 25",
        ),
        "b.txt": dump_text(
            [
                Listing(smaller, chores),
                Listing(
                    "SPARSE MIXTURE MODELS AT SCALE",
                    abstract("sparse mixtures"),
                    5,
                    "Jan 5, 2024 9",
                ),
                Listing("Only In File B", abstract("file b"), 3, "Feb 2, 2025"),
            ],
            page_date="Mar 2",
        ),
        "c.txt": dump_text([Listing(larger, chores, 8, "Oct 3, 2024 4"), common], "Dec 24"),
    }


def _build(root: Path, batches: list[list[str]]) -> Warehouse:
    files = _order_files()
    warehouse = Warehouse(root)
    for batch in batches:
        for name in batch:
            warehouse.land(name, files[name])
        warehouse.refresh()
    return warehouse


def _core_state(warehouse: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    return {
        "core.papers": warehouse.table("core.papers", "paper_id"),
        "core.paper_listings": warehouse.table("core.paper_listings", "ALL"),
        "core.paper_repos": warehouse.table("core.paper_repos", "ALL"),
        "core.paper_links": warehouse.table("core.paper_links", "ALL"),
    }


def test_paper_ids_do_not_depend_on_arrival_order(tmp_path: Path) -> None:
    orders = [
        [["a.txt"], ["b.txt"], ["c.txt"]],
        [["c.txt"], ["b.txt"], ["a.txt"]],
        [["b.txt"], ["a.txt", "c.txt"]],
        [["a.txt", "b.txt", "c.txt"]],
    ]
    states = [_core_state(_build(tmp_path / f"order{i}", order)) for i, order in enumerate(orders)]
    for state in states[1:]:
        assert state == states[0]
    papers = states[0]["core.papers"]
    assert len(papers) == 4  # the planning paper (3 spellings), sparse mixtures, A, B
    smallest = key_id(title_key("Hierarchical Planning Agents for Huosehold Robot Manipulation"))
    assert smallest in {row[0] for row in papers}


def test_paper_id_stable_across_runs(warehouse: Warehouse) -> None:
    files = _order_files()
    warehouse.land("a.txt", files["a.txt"])
    warehouse.refresh()
    before = _core_state(warehouse)
    report = warehouse.refresh()  # nothing new
    assert report.papers.new_keys == 0
    assert _core_state(warehouse) == before
    # an unrelated file adds a paper and leaves the others' ids alone
    warehouse.land("d.txt", dump_text([Listing("Unrelated Work on Tides", abstract("tides"))]))
    warehouse.refresh()
    ids = {row[0] for row in warehouse.rows("SELECT paper_id FROM core.papers")}
    assert {row[0] for row in before["core.papers"]} < ids
    assert len(ids) == len(before["core.papers"]) + 1
    # ids are a function of the titles: the same paper in a fresh warehouse gets the same id
    fresh = Warehouse(warehouse.root.parent / "fresh")
    fresh.land("a.txt", files["a.txt"])
    fresh.refresh()
    assert fresh.table("core.papers", "paper_id") == before["core.papers"]


BASE = "Hierarchical Planning Agents for Household Robot Manipulation"
CHORES = abstract("household robots that plan their chores")


def test_typo_variant_arriving_later_joins_and_keeps_alias(warehouse: Warehouse) -> None:
    smaller = "Hierarchical Planning Agents for Huosehold Robot Manipulation"
    smallest = "Hierarchcial Planning Agents for Household Robot Manipulation"
    ids = [key_id(title_key(t)) for t in (BASE, smaller, smallest)]
    assert ids[0] > ids[1] > ids[2]

    warehouse.land("1.txt", dump_text([Listing(BASE, CHORES, 3, "Oct 3, 2024")]))
    warehouse.refresh()
    assert warehouse.paper_of("1.txt", 1) == ids[0]

    warehouse.land("2.txt", dump_text([Listing(smaller, CHORES)]))
    report = warehouse.refresh()
    assert report.papers.fuzzy_pairs == 1 and report.papers.merged_papers == 1
    assert warehouse.paper_of("1.txt", 1) == warehouse.paper_of("2.txt", 1) == ids[1]
    assert warehouse.rows("SELECT old_paper_id, paper_id FROM core.paper_aliases") == [
        (ids[0], ids[1])
    ]

    warehouse.land("3.txt", dump_text([Listing(smallest, CHORES)]))
    warehouse.refresh()
    assert {warehouse.paper_of(f"{i}.txt", 1) for i in (1, 2, 3)} == {ids[2]}
    # every alias, old ones included, points at the paper's current id
    assert sorted(warehouse.rows("SELECT old_paper_id, paper_id FROM core.paper_aliases")) == [
        (ids[1], ids[2]),
        (ids[0], ids[2]),
    ]
    assert warehouse.rows("SELECT count(*) FROM core.papers") == [(1,)]
    assert warehouse.paper(ids[2])["listing_count"] == 3


def test_a_later_title_bridging_two_papers_merges_them(warehouse: Warehouse) -> None:
    """Three words apart, two spellings are two papers; a spelling a typo away from each
    arrives later and makes them one, under the smallest key id of the three."""
    bridge = "Hierarchical Planning Agents for Huosehold Robot Manipulation"
    far = "Hierarchical Plannign Agents for Huosehold Robot Manipulaiton"
    ids = {t: key_id(title_key(t)) for t in (BASE, bridge, far)}
    assert min(ids.values()) == ids[bridge]
    warehouse.land("1.txt", dump_text([Listing(BASE, CHORES)]))
    warehouse.land("3.txt", dump_text([Listing(far, CHORES)]))
    warehouse.refresh()
    assert warehouse.rows("SELECT count(*) FROM core.papers") == [(2,)]

    warehouse.land("2.txt", dump_text([Listing(bridge, CHORES)]))
    report = warehouse.refresh()
    assert report.papers.merged_papers == 2
    assert {warehouse.paper_of(f"{i}.txt", 1) for i in (1, 2, 3)} == {ids[bridge]}
    assert sorted(
        warehouse.rows("SELECT old_paper_id, paper_id FROM core.paper_aliases")
    ) == sorted([(ids[BASE], ids[bridge]), (ids[far], ids[bridge])])
    assert warehouse.paper(ids[bridge])["listing_count"] == 3


def test_typo_variant_with_larger_id_keeps_the_existing_id(warehouse: Warehouse) -> None:
    larger = "Hierarchical Planning Agents for Household Robot Manpiulation"
    assert key_id(title_key(larger)) > key_id(title_key(BASE))
    warehouse.land("1.txt", dump_text([Listing(BASE, CHORES)]))
    warehouse.refresh()
    warehouse.land("2.txt", dump_text([Listing(larger, CHORES)]))
    report = warehouse.refresh()
    assert report.papers.fuzzy_pairs == 1 and report.papers.merged_papers == 0
    assert warehouse.paper_of("2.txt", 1) == key_id(title_key(BASE))
    assert warehouse.rows("SELECT count(*) FROM core.paper_aliases") == [(0,)]


def test_typo_anywhere_in_a_short_title_is_found(warehouse: Warehouse) -> None:
    """Signatures must find a typo in any word, even in the shortest title that may
    merge: a typo in the middle of a four-word title is the hard case."""
    title = "Reinforcement Learning for Robots"
    typo = "Reinforcement Lerning for Robots"  # the edit sits in the middle of the key
    warehouse.land("1.txt", dump_text([Listing(title, abstract("robots"))]))
    warehouse.refresh()
    warehouse.land("2.txt", dump_text([Listing(typo, abstract("robots"))]))
    warehouse.refresh()
    assert warehouse.paper_of("1.txt", 1) == warehouse.paper_of("2.txt", 1)


def test_merged_values_follow_the_rules(warehouse: Warehouse) -> None:
    """Newest snapshot first (unknown last): title and abstract from the newest listing,
    every other value from the newest listing that states it."""
    old_title = "Pre-training Vision Encoders on Web Data"
    new_title = "Pretraining Vision Encoders on Web Data"
    web = abstract("web data for vision encoders")
    warehouse.land(
        "old.txt",  # viewed 2025-11-25 (latest year written: 2024)
        dump_text(
            [
                Listing(old_title, web, 6, "Oct 3, 2024 2"),
                Listing(
                    "Token Merging for Faster Decoders", abstract("tokens"), 4, "Jul 1, 2024 3"
                ),
                Listing("Sparse Mixture Models at Scale", abstract("mixtures"), 9, "May 5, 2024 1"),
            ],
            page_date="Nov 25",
        ),
    )
    warehouse.land(
        "new.txt",  # viewed 2026-03-02 (latest year written: 2025)
        dump_text(
            [
                Listing(new_title, web + " Code is released."),  # no metadata
                Listing("Token Merging for Faster Decoders", abstract("tokens"), 5, "Jul 1, 2024"),
                Listing("Sparse Mixture Models at Scale", abstract("mixtures"), 9, "May 5, 2024 8"),
                Listing("Dated Elsewhere", abstract("dates"), 1, "Feb 2, 2025"),
            ],
            page_date="Mar 2",
        ),
    )
    warehouse.land(
        "unknown.txt",  # no year anywhere: snapshot date unknown, ranks last
        dump_text([Listing("Sparse Mixture Models at Scale", abstract("mixtures"), 2, "May 5 99")]),
    )
    warehouse.refresh()
    snapshots = dict(warehouse.rows("SELECT file_name, snapshot_date FROM raw.dump_files"))
    assert snapshots == {
        "old.txt": date(2025, 11, 25),
        "new.txt": date(2026, 3, 2),
        "unknown.txt": None,
    }

    vision = warehouse.paper(warehouse.paper_of("old.txt", 1))
    assert warehouse.paper_of("new.txt", 1) == vision["paper_id"]
    assert vision["title"] == new_title  # the newest snapshot's wording
    assert vision["abstract"].endswith("Code is released.")
    assert vision["published_date"] == date(2024, 10, 3)  # explicit date over none
    assert vision["authors_count"] == 6
    assert vision["comments"] == 2  # only the old snapshot states it
    assert (vision["first_seen"], vision["last_seen"]) == (date(2025, 11, 25), date(2026, 3, 2))
    assert vision["listing_count"] == 2

    tokens = warehouse.paper(warehouse.paper_of("old.txt", 2))
    assert tokens["authors_count"] == 5  # newest snapshot that states it
    assert tokens["comments"] == 3  # the newest snapshot has no count: the older one's

    mixtures = warehouse.paper(warehouse.paper_of("old.txt", 3))
    assert warehouse.paper_of("unknown.txt", 1) == mixtures["paper_id"]
    assert mixtures["comments"] == 8  # newest dated snapshot beats the undated one's 99
    assert mixtures["authors_count"] == 9
    assert mixtures["listing_count"] == 3
    assert mixtures["first_seen"] == date(2025, 11, 25)
    assert mixtures["last_seen"] >= date(2026, 3, 2)  # the undated file counts as seen on ingest


def test_abstract_agreement() -> None:
    text = abstract("robots")
    assert abstracts_agree(text, text.replace("robots", "robot"))
    assert abstracts_agree(text, None) and abstracts_agree(None, None)
    assert not abstracts_agree(text, abstract("a survey of compilers and type systems"))
    assert not abstracts_agree(text, "Unrelated: a study of tides and lunar cycles.")


def test_merge_papers_moves_keys_and_chains_aliases() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(
        "INSERT INTO core.title_keys (title_key, key_id, paper_id) VALUES "
        "('k1', 'p3', 'p3'), ('k2', 'p2', 'p2'), ('k3', 'p1', 'p1')"
    )
    assert merge_papers(con, [{"p3", "p2"}], "test") == 1
    assert merge_papers(con, [{"p2", "p1"}], "test") == 1
    assert con.execute("SELECT DISTINCT paper_id FROM core.title_keys").fetchall() == [("p1",)]
    assert sorted(
        con.execute("SELECT old_paper_id, paper_id FROM core.paper_aliases").fetchall()
    ) == [
        ("p2", "p1"),
        ("p3", "p1"),
    ]
    assert merge_papers(con, [], "test") == 0


def signatures(title: str) -> set[int]:
    """The signatures `assign_papers` computes for a new key with this sample title."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE new_keys AS SELECT 'k' AS title_key, ? AS sample_title", [title])
    con.execute(SIGNATURES_SQL)
    return {row[0] for row in con.execute("SELECT signature FROM new_signatures").fetchall()}


def test_typo_variants_share_a_signature_and_other_titles_rarely_do() -> None:
    base = "Sparse Mixture of Experts for Long Context Retrieval Models"
    one_typo = "Sparse Mixture of Experts for Long Contxet Retrieval Models"
    two_typos = "Sparse Mixtrue of Experts for Long Context Retreival Models"
    other = "Dense Mixture of Agents for Short Context Ranking Models"
    assert len(signatures(base)) == 10
    assert signatures(base) & signatures(one_typo)
    assert signatures(base) & signatures(two_typos)
    assert signatures("Pre-training Robust Vision Modles") & signatures(
        "Pretraining Robust Vision Models"
    )
    assert not signatures(base) & signatures(other)
    assert not signatures(base) & signatures(base + " Again")  # word counts differ
    assert signatures("Three Word Title") == set()
