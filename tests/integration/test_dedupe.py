"""Deduplication through the warehouse: small text dumps in the layout of DUMP_FORMAT.md
go through `pipeline.steps.refresh`, and the core tables must say which listings are
one paper, with ids that do not depend on arrival order and values merged by the
documented rules.

The builders (`Listing`, `dump_text`, `TempWarehouse`) are in `tests.builders`.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.db import quality
from pipeline.db.connection import DuckDBFile
from pipeline.db.schema import schema_sql
from pipeline.papers import build as papers_build
from pipeline.papers.build import build_papers
from pipeline.papers.clusters import (
    SIGNATURES_SQL,
    Evidence,
    abstracts_agree,
    abstracts_agree_closely,
    key_id,
    same_paper,
)
from pipeline.papers.titles import title_variant
from pipeline.text import title_key
from tests.builders import Listing, TempWarehouse, abstract, dump_text


@pytest.fixture
def warehouse(tmp_path: Path) -> TempWarehouse:
    return TempWarehouse(tmp_path / "w")


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
    (
        "each kind of hyphen, with typos",
        [
            "Vision\u2010Language Pre\u2010training with Noisy Web Captions",
            "Vision\u2011Language Pre\u2011training with Noisy Web Captions",
            "Vision-Language Pre-trainng with Noisy Web Captions",
            "Vision\u2013Language Pre training with Noisy Web Captoins",
        ],
    ),
]

# Our own abstracts, in the shape of real ones (five sentences).
GRAPHMIXER = (
    "We introduce GraphMixer, a routing layer that lets message passing networks choose "
    "which neighbours to read. GraphMixer learns a sparse gate per edge and costs one extra "
    "matrix product per layer. On twelve node classification benchmarks it matches "
    "attention-based models while training three times faster. We also show that the "
    "learned gates recover community structure without supervision. Code and trained "
    "models are released."
)
RANKING = (
    "Retrieval augmented systems answer questions from passages they retrieve, but which "
    "answer to show first is rarely studied. We collect forty thousand answers with human "
    "preference labels. A small cross-encoder trained on these labels ranks answers better "
    "than the generator's own likelihood. The gain holds across three domains and two "
    "languages. We release the labels and the ranking model."
)
DEPTH = (
    "Depth from a single video is ambiguous up to scale. We train a depth network from "
    "unlabelled driving videos with a photometric loss and a learned scale prior. The "
    "prior removes most of the scale drift over long sequences. On two public benchmarks "
    "the method halves the error of earlier self-supervised methods. Models run in real "
    "time on a laptop GPU."
)
PROTEINS = (
    "Protein language models learn from sequences alone. We add a contrastive objective "
    "that pairs each sequence with its predicted structure. The resulting embeddings "
    "separate enzyme families that sequence-only models confuse. Fine-tuned on stability "
    "prediction, they improve correlation with measured values by six points. Weights are "
    "public."
)
ADDED_SENTENCE = " The objective adds no parameters and one forward pass per batch."
SAMPLER = (
    "Sampling from diffusion models takes hundreds of network evaluations. We propose "
    "FastSampler, a solver that reuses the previous steps' predictions. It needs ten "
    "evaluations for the quality that earlier solvers reach in fifty. The solver works "
    "with any pretrained model and needs no retraining. An implementation is included."
)


def _revised(text: str) -> str:
    """The abstract with a sentence added after its first: the same paper, revised."""
    first, rest = text.split(". ", 1)
    return f"{first}.{ADDED_SENTENCE} {rest}"


# Pairs that are one paper although their titles differ by more than a plain typo: the
# abstracts and titles decide together.
SAME_PAPER_PAIRS: list[tuple[str, Listing, Listing]] = [
    (
        "method-name typo, abstracts agree",
        Listing("GraphMixer Routing for Sparse Message Passing Networks", GRAPHMIXER),
        Listing("GrapMixer Routing for Sparse Message Passing Networks", GRAPHMIXER),
    ),
    (
        "short-word typo, abstracts agree",
        Listing("On the Ranking of Retrieval Augmented Answers", RANKING),
        Listing("On te Ranking of Retrieval Augmented Answers", RANKING),
    ),
    (
        "typo plus a hyphenation change",
        Listing("Self-Supervised Depth Estimation from Monocular Video", DEPTH),
        Listing("Self Supervised Depth Estimaton from Monocular Video", DEPTH),
    ),
    (
        "typo plus a revised abstract",
        Listing("Contrastive Pretraining of Protein Language Models", PROTEINS),
        Listing("Contrastive Pretraining of Protien Language Models", _revised(PROTEINS)),
    ),
    (
        "name typo plus a revised abstract",
        Listing("FastSampler: Diffusion Sampling in Ten Steps", SAMPLER),
        Listing("FastSamplr: Diffusion Sampling in Ten Steps", _revised(SAMPLER)),
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
        "acronym, abstracts disagree",
        Listing(
            "DDPM Sampling for Faster Generative Image Models",
            "We revisit DDPM, the denoising diffusion probabilistic model, and train it "
            "with a cosine noise schedule that improves likelihood on image benchmarks.",
        ),
        Listing(
            "DDIM Sampling for Faster Generative Image Models",
            "DDIM replaces the Markov chain of diffusion models with a deterministic "
            "implicit process, so that fifty steps give images of the same quality.",
        ),
    ),
    (
        "size word, same abstract",
        Listing("FooNet-S: Efficient Speech Recognition on Phones", SHARED),
        Listing("FooNet-M: Efficient Speech Recognition on Phones", SHARED),
    ),
    (
        "name one letter apart, a sentence changed",
        Listing("GraphMixer Routing for Sparse Message Passing Networks, Revisited", GRAPHMIXER),
        Listing(
            "GraphMixed Routing for Sparse Message Passing Networks, Revisited",
            GRAPHMIXER.replace(
                "On twelve node classification benchmarks",
                "On protein interaction graphs, unlike on citation networks,",
            ),
        ),
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
    for name, first, second in SAME_PAPER_PAIRS:
        add(0, first, name)
        add(1, second, name)
    for name, first, second in DIFFERENT_PAPER_PAIRS:
        add(0, first, name + " (a)")
        add(1, second, name + " (b)")
    return files[0], files[1], label_of


@pytest.mark.parametrize("arrival", ["one refresh", "one file per refresh"])
def test_merges_that_must_and_must_not_happen(warehouse: TempWarehouse, arrival: str) -> None:
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
    assert len(papers_by_label) == (
        len(SAME_PAPER_GROUPS) + len(SAME_PAPER_PAIRS) + 2 * len(DIFFERENT_PAPER_PAIRS)
    )


def test_a_typo_of_a_title_many_papers_share_is_compared_with_each(
    warehouse: TempWarehouse,
) -> None:
    """One title may list several papers (one key, one paper in the warehouse): a typo
    variant agreeing with any of their abstracts, the last in order too, joins them."""
    title = "Scaling Robust Preferences for Contrastive Distillation"
    abstracts = sorted([DEPTH, PROTEINS, RANKING, SAMPLER, GRAPHMIXER, abstract("tides")])
    warehouse.land("a.txt", dump_text([Listing(title, text) for text in abstracts]))
    typo = "Scaling Robust Preferentes for Contrastive Distillation"  # a real word: close
    warehouse.land("b.txt", dump_text([Listing(typo, abstracts[-1])]))
    warehouse.refresh()

    assert warehouse.paper_of("b.txt", 1) == warehouse.paper_of("a.txt", 1)


def test_a_typo_of_a_short_title_among_many_alike_is_found(warehouse: TempWarehouse) -> None:
    """Sixty titles share four of six words, so every signature of three word groups that
    the typo variant shares is too common to compare; the word left out still pairs it."""
    openings = ["Towards", "Learning", "Scaling", "Revisiting", "Probing", "Taming", "Fixing"]
    endings = ["Answers", "Layers", "Kernels", "Policies", "Graphs", "Tokens", "Agents", "Maps"]
    alike = [
        Listing(f"{opening} Sparse Attention through Latent {ending}", abstract(f"{o} {e}"))
        for o, opening in enumerate(openings)
        for e, ending in enumerate(endings)
        if (opening, ending) != ("Revisiting", "Policies")
    ]
    title = "Revisiting Sparse Attention through Latent Policies"
    warehouse.land("a.txt", dump_text([*alike, Listing(title, RANKING)]))
    warehouse.land("b.txt", dump_text([Listing(title.replace("Revisiting", "Revisitng"), RANKING)]))
    warehouse.refresh()

    assert warehouse.paper_of("b.txt", 1) == warehouse.paper_of("a.txt", len(alike) + 1)
    assert warehouse.rows("SELECT count(*) FROM core.papers") == [(len(alike) + 1,)]


def test_papers_read_by_row_id_or_by_join_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few papers' titles and abstracts are read by row id, many by a join: one result."""
    first, second, _ = _listings_together()
    built = {}
    for name, limit in (("by row id", papers_build.MAX_ROWS_BY_ID), ("by join", 0)):
        monkeypatch.setattr(papers_build, "MAX_ROWS_BY_ID", limit)
        warehouse = TempWarehouse(tmp_path / name)
        warehouse.land("a.txt", dump_text(first))
        warehouse.land("b.txt", dump_text(second))
        warehouse.refresh()
        built[name] = warehouse.rows("SELECT * FROM core.papers ORDER BY paper_id")
    assert built["by row id"] == built["by join"]
    assert len(built["by join"]) > 10


def test_every_listing_maps_to_exactly_one_paper(warehouse: TempWarehouse) -> None:
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
    with DuckDBFile(warehouse.settings.warehouse_path).connect(read_only=True) as con:
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


def _build(root: Path, batches: list[list[str]]) -> TempWarehouse:
    files = _order_files()
    warehouse = TempWarehouse(root)
    for batch in batches:
        for name in batch:
            warehouse.land(name, files[name])
        warehouse.refresh()
    return warehouse


def _core_state(warehouse: TempWarehouse) -> dict[str, list[tuple[object, ...]]]:
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


def test_paper_id_stable_across_runs(warehouse: TempWarehouse) -> None:
    files = _order_files()
    warehouse.land("a.txt", files["a.txt"])
    warehouse.refresh()
    before = _core_state(warehouse)
    report = warehouse.refresh()  # nothing new
    assert report.clusters.new_keys == 0
    assert _core_state(warehouse) == before
    # an unrelated file adds a paper and leaves the others' ids alone
    warehouse.land("d.txt", dump_text([Listing("Unrelated Work on Tides", abstract("tides"))]))
    warehouse.refresh()
    ids = {row[0] for row in warehouse.rows("SELECT paper_id FROM core.papers")}
    assert {row[0] for row in before["core.papers"]} < ids
    assert len(ids) == len(before["core.papers"]) + 1
    # ids are a function of the titles: the same paper in a fresh warehouse gets the same id
    fresh = TempWarehouse(warehouse.root.parent / "fresh")
    fresh.land("a.txt", files["a.txt"])
    fresh.refresh()
    assert fresh.table("core.papers", "paper_id") == before["core.papers"]


BASE = "Hierarchical Planning Agents for Household Robot Manipulation"
CHORES = abstract("household robots that plan their chores")


def test_typo_variant_arriving_later_joins_and_keeps_alias(warehouse: TempWarehouse) -> None:
    smaller = "Hierarchical Planning Agents for Huosehold Robot Manipulation"
    smallest = "Hierarchcial Planning Agents for Household Robot Manipulation"
    ids = [key_id(title_key(t)) for t in (BASE, smaller, smallest)]
    assert ids[0] > ids[1] > ids[2]

    warehouse.land("1.txt", dump_text([Listing(BASE, CHORES, 3, "Oct 3, 2024")]))
    warehouse.refresh()
    assert warehouse.paper_of("1.txt", 1) == ids[0]

    warehouse.land("2.txt", dump_text([Listing(smaller, CHORES)]))
    report = warehouse.refresh()
    assert report.clusters.typo_pairs == 1 and sum(report.papers.papers_retired.values()) == 1
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


def test_a_later_title_bridging_two_papers_merges_them(warehouse: TempWarehouse) -> None:
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
    assert sum(report.papers.papers_retired.values()) == 2
    assert {warehouse.paper_of(f"{i}.txt", 1) for i in (1, 2, 3)} == {ids[bridge]}
    assert sorted(
        warehouse.rows("SELECT old_paper_id, paper_id FROM core.paper_aliases")
    ) == sorted([(ids[BASE], ids[bridge]), (ids[far], ids[bridge])])
    assert warehouse.paper(ids[bridge])["listing_count"] == 3


def test_typo_variant_with_larger_id_keeps_the_existing_id(warehouse: TempWarehouse) -> None:
    larger = "Hierarchical Planning Agents for Household Robot Manpiulation"
    assert key_id(title_key(larger)) > key_id(title_key(BASE))
    warehouse.land("1.txt", dump_text([Listing(BASE, CHORES)]))
    warehouse.refresh()
    warehouse.land("2.txt", dump_text([Listing(larger, CHORES)]))
    report = warehouse.refresh()
    assert report.clusters.typo_pairs == 1 and sum(report.papers.papers_retired.values()) == 0
    assert warehouse.paper_of("2.txt", 1) == key_id(title_key(BASE))
    assert warehouse.rows("SELECT count(*) FROM core.paper_aliases") == [(0,)]


def test_typo_anywhere_in_a_short_title_is_found(warehouse: TempWarehouse) -> None:
    """Signatures must find a typo in any word, even in the shortest title that may
    merge: a typo in the middle of a four-word title is the hard case."""
    title = "Reinforcement Learning for Robots"
    typo = "Reinforcement Lerning for Robots"  # the edit sits in the middle of the key
    warehouse.land("1.txt", dump_text([Listing(title, abstract("robots"))]))
    warehouse.refresh()
    warehouse.land("2.txt", dump_text([Listing(typo, abstract("robots"))]))
    warehouse.refresh()
    assert warehouse.paper_of("1.txt", 1) == warehouse.paper_of("2.txt", 1)


@pytest.mark.parametrize("dash", ["\u2010", "\u2011"], ids=["U+2010", "U+2011"])
def test_a_typo_of_a_title_with_unicode_hyphens_is_found(
    warehouse: TempWarehouse, dash: str
) -> None:
    """The SQL word splitter joins words across every dash Python does: otherwise the
    word positions of the signatures shift and the typo variant is never a candidate."""
    title = f"Self{dash}Supervised Grasp{dash}Planning for Household Robot Manipulators"
    typo = f"Self{dash}Supervised Grasp{dash}Planning for Housheold Robot Manipulators"
    warehouse.land("1.txt", dump_text([Listing(title, abstract("grasp planning"))]))
    warehouse.land("2.txt", dump_text([Listing(typo, abstract("grasp planning"))]))
    warehouse.refresh()
    assert warehouse.paper_of("1.txt", 1) == warehouse.paper_of("2.txt", 1)


def test_merged_values_follow_the_rules(warehouse: TempWarehouse) -> None:
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


def test_close_agreement_takes_a_revision_but_not_a_sibling() -> None:
    assert abstracts_agree(PROTEINS, _revised(PROTEINS))  # a sentence added
    assert abstracts_agree_closely(PROTEINS, _revised(PROTEINS))
    assert abstracts_agree_closely(_revised(SAMPLER), SAMPLER)
    assert abstracts_agree_closely(GRAPHMIXER, GRAPHMIXER.replace("twelve", "twelwe"))
    changed = GRAPHMIXER.replace("three times faster", "on a tenth of the memory")
    assert not abstracts_agree_closely(GRAPHMIXER, changed)  # a sentence changed
    sibling = GRAPHMIXER.split(". ")[0] + ". " + DEPTH  # a shared opening
    assert not abstracts_agree_closely(GRAPHMIXER, sibling)
    assert not abstracts_agree_closely(GRAPHMIXER, None)  # both are needed


def test_a_close_match_weighs_author_counts_and_organizations() -> None:
    match = title_variant(
        "GraphMixer Routing for Sparse Message Passing",
        "GrapMixer Routing for Sparse Message Passing",
    )
    assert match is not None and match.tier == "close"
    edited = GRAPHMIXER.replace("twelve", "twelwe").replace("faster", "quicker")
    assert abstracts_agree_closely(GRAPHMIXER, edited)
    assert same_paper(match, Evidence(GRAPHMIXER, 3, None), Evidence(edited, None, "lab"))
    # stated facts that differ need the abstracts the same but for an edit or two
    assert not same_paper(match, Evidence(GRAPHMIXER, 3, None), Evidence(edited, 5, None))
    assert not same_paper(match, Evidence(GRAPHMIXER, None, "a"), Evidence(edited, None, "b"))
    assert same_paper(match, Evidence(GRAPHMIXER, 3, None), Evidence(GRAPHMIXER, 5, None))
    assert not same_paper(match, Evidence(GRAPHMIXER, 3, None), Evidence(None, 3, None))


def test_retired_paper_ids_chain_their_aliases() -> None:
    """Three clusters merged one after another, each under a smaller id: every retired id
    points at the paper that holds its listings now, not at an id retired since."""
    con = duckdb.connect()
    con.execute(schema_sql())
    con.execute(
        "INSERT INTO raw.dump_files (file_sha256, file_name, ingested_at, status, "
        "listing_count, reject_count, byte_size, archive_path) "
        "VALUES ('f', 'f.txt', now(), 'loaded', 3, 0, 1, 'a')"
    )
    for position, key in enumerate(("k1", "k2", "k3"), start=1):
        con.execute(
            "INSERT INTO raw.listings (file_sha256, position, title, title_key) "
            "VALUES ('f', ?, ?, ?)",
            [position, key, key],
        )
    con.execute("INSERT INTO internal.title_keys VALUES ('k1', 'p3', 'p3', 'k1')")
    build_papers(con)
    con.execute("INSERT INTO internal.title_keys VALUES ('k2', 'p2', 'p2', 'k2')")
    con.execute("UPDATE internal.title_keys SET cluster_id = 'p2'")
    assert build_papers(con).papers_retired == {"title typo variant": 1}
    con.execute("INSERT INTO internal.title_keys VALUES ('k3', 'p1', 'p1', 'k3')")
    con.execute("UPDATE internal.title_keys SET cluster_id = 'p1'")
    assert build_papers(con).papers_retired == {"title typo variant": 1}
    assert con.execute("SELECT DISTINCT paper_id FROM core.paper_listings").fetchall() == [("p1",)]
    assert con.execute("SELECT paper_id FROM core.papers").fetchall() == [("p1",)]
    assert sorted(
        con.execute("SELECT old_paper_id, paper_id FROM core.paper_aliases").fetchall()
    ) == [
        ("p2", "p1"),
        ("p3", "p1"),
    ]
    assert build_papers(con).papers_retired == {}


def signatures(*spellings: str) -> set[int]:
    """The signatures `cluster_new_keys` computes for a new key with these spellings."""
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE new_keys AS SELECT 'k' AS title_key, ?::VARCHAR[] AS spellings",
        [list(spellings)],
    )
    con.execute(SIGNATURES_SQL)
    return {row[0] for row in con.execute("SELECT signature FROM new_signatures").fetchall()}


def test_typo_variants_share_a_signature_and_other_titles_rarely_do() -> None:
    base = "Sparse Mixture of Experts for Long Context Retrieval Models"
    one_typo = "Sparse Mixture of Experts for Long Contxet Retrieval Models"
    two_typos = "Sparse Mixtrue of Experts for Long Context Retreival Models"
    other = "Dense Mixture of Agents for Short Context Ranking Models"
    long = " ".join([base] * 2)  # 18 words: three groups are rare enough on their own
    assert len(signatures(base)) == 10 + 9  # three of five groups, and a word left out
    assert len(signatures(long)) == 10
    assert {s for s in signatures(base) & signatures(one_typo) if s < 0}  # but `Contxet`
    assert signatures(base) & signatures(two_typos)
    assert signatures("Pre-training Robust Vision Modles") & signatures(
        "Pretraining Robust Vision Models"
    )
    assert not signatures(base) & signatures(other)
    assert not signatures(base) & signatures(base + " Again")  # word counts differ
    assert signatures("Three Word Title") == set()


def test_a_typo_with_a_hyphenation_change_shares_a_signature_through_any_spelling() -> None:
    """Words joined across a hyphen and apart: `Self-Supervised` lines up with `Self
    Supervised` (apart) and `Pre-trainng` with `Pretraining` (joined), and a key's every
    spelling counts, not one sample."""
    spaced = "Self Supervised Depth Estimation from Monocular Video"
    hyphenated_typo = "Self-Supervised Depth Estimaton from Monocular Video"
    assert signatures(spaced) & signatures(hyphenated_typo)
    assert signatures("Pre-trainng Robust Vision Encoders") & signatures(
        "Pretraining Robust Vision Encoders"
    )
    one_key = ("Pre training Robust Vision Encoders", "Pretraining Robust Vision Encoders")
    typo = "Pretrainng Robust Vision Encoders"
    assert not signatures(one_key[0]) & signatures(typo)
    assert signatures(*one_key) & signatures(typo)
