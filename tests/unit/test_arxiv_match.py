"""Resolving titles to arXiv IDs: the verification rules on their own, then whole runs
against a fake arXiv, counting requests and injecting failures."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pipeline.arxiv.api import ArxivClient, ArxivRecord
from pipeline.arxiv.matching import (
    ArxivMatcher,
    MatchRun,
    Method,
    Resolution,
    TitleQuery,
    decide,
    prepare,
    search_words,
)
from pipeline.arxiv.tex import normalize, strip_tex
from pipeline.http_session import PoliteSession
from tests.fakes.arxiv import (
    ATOM_TYPE,
    PATH,
    FakeArxiv,
    FakePaper,
    empty_feed,
    error_reply,
)
from tests.fakes.local_server import LocalServer, Reply, Request, quick_session


def verify(
    query: TitleQuery,
    records: list[ArxivRecord],
    *,
    method: Method = "single_phrase",
    complete: bool = True,
) -> Resolution:
    """The matching rules on one query and some records, without any request."""
    return decide(prepare(query), records, method=method, complete=complete)


INTERVAL = 0.05

ABS_RANK_DOCS = (
    "We study how graph neural networks can be trained to rank documents for retrieval. "
    "Our method builds a query-document graph and propagates relevance signals along its "
    "edges, improving nDCG by 4 points on three benchmarks while using fewer parameters than "
    "cross-encoders. We release code and models."
)
ABS_RANK_RECSYS = (
    "We propose a graph neural network approach to learning to rank in recommender systems. "
    "User-item interactions form a bipartite graph, and we learn pairwise preferences with a "
    "message passing model, outperforming matrix factorization baselines on four public "
    "datasets. Code is available online."
)
ABS_AGENTS = (
    "Large language models are increasingly deployed as agents. We introduce a benchmark of "
    "long-horizon tasks and show that current models fail to plan beyond ten steps, and we "
    "propose a self-rewarding training scheme that improves success rates substantially."
)
ABS_FEWSHOT = (
    "Text-to-image diffusion models can be repurposed as few-shot image classifiers. By "
    "scoring class-conditional denoising errors we obtain competitive accuracy on eleven "
    "benchmarks without any additional training of the generative backbone."
)
ABS_FEWSHOT_TEXT = (
    "We adapt discrete diffusion language models to text classification with only a handful "
    "of labelled examples per class, and compare against prompting and fine-tuning baselines "
    "on sentiment, topic and intent datasets in six languages."
)
ABS_FEWSHOT_OTHER = (
    "We show that a pretrained diffusion transformer adapts to new visual concepts from five "
    "examples through prompt tuning, matching meta-learning methods on miniImageNet and "
    "tieredImageNet while keeping the backbone frozen."
)
ABS_SCALING = (
    "We derive scaling laws for neural networks from a simple random feature model, and show "
    "that the exponents observed in practice follow from the spectrum of the data covariance. "
    "The first part sets up the model and the main theorems."
)
ABS_GEMINI = (
    "This report introduces a family of multimodal models with strong capabilities across "
    "image, audio, video and text understanding, evaluated on a broad set of benchmarks."
)
ABS_OTHER_GEMINI = (
    "Gemini is a spectrograph mounted on an eight metre telescope; we describe its optical "
    "design, calibration pipeline and first light observations of nearby galaxies."
)


def paper(arxiv_id: str, title: str, abstract: str = "", **extra: object) -> FakePaper:
    text = abstract or f"An abstract about {title.lower()} with its own distinct findings."
    return FakePaper(arxiv_id, title, text, **extra)  # type: ignore[arg-type]


CORPUS = [
    paper("2401.10001", "Scaling Laws for Sparse Mixture-of-Experts Language Models"),
    paper("2401.10002", "Attention Sinks: How Streaming Language Models Keep Their Focus"),
    paper("2401.10003", "Pre-training Vision Transformers with Masked Token Prediction"),
    paper("2401.10004", r"Schr\"odinger Bridges Beat Diffusion on Molecular Design"),
    paper(
        "2401.10005",
        r"$\alpha$-Flow: Fast Sampling with 100\% Fewer Steps via \emph{Consistency} Matching",
        version=3,
    ),
    paper(
        "2401.10006",
        "Self-Rewarding Reasoning Agents for Long-Horizon Planning",
        ABS_AGENTS,
        phrase_picky=True,
    ),
    paper("2401.10007", "Diffusion Models Are Few-Shot Learners for Text Classification"),
    paper("2401.10008", "Foundations of Neural Scaling, Part II", ABS_SCALING),
    paper("2401.10009", "Learning to Rank with Graph Neural Networks", ABS_RANK_RECSYS),
    paper("2401.10010", "Learning to Rank with Graph Neural Networks", ABS_RANK_DOCS),
    paper("2401.10011", "Gemini", ABS_GEMINI),
    paper("2401.10012", "DeepThink V2 Technical Report"),
    paper(
        "2401.10013",
        "Diffusion Models Are Few-Shot Learners: Classification Without Training",
        ABS_FEWSHOT,
    ),
]


def record(arxiv_id: str, title: str, abstract: str = "", version: int = 1) -> ArxivRecord:
    return ArxivRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract or f"An abstract about {title.lower()}.",
        authors=["A. Author"],
        primary_category="cs.LG",
        categories=["cs.LG"],
        published=datetime(2024, 1, 1, tzinfo=UTC),
        updated=datetime(2024, 1, 1, tzinfo=UTC),
    )


def _session(**overrides: object) -> PoliteSession:
    return quick_session(**({"min_interval_s": INTERVAL} | overrides))


@pytest.fixture
def fake(local_server: LocalServer) -> FakeArxiv:
    return FakeArxiv(local_server, CORPUS)


@pytest.fixture
def client(fake: FakeArxiv) -> Iterator[ArxivClient]:
    with _session() as session:
        yield ArxivClient(session, fake.url)


def by_paper(run: MatchRun) -> dict[str, tuple[str, str | None]]:
    return {r.paper_id: (r.status, r.arxiv_id) for r in run.resolutions}


# --- Normalization and the verification rules, without requests ------------------------


def test_tex_and_unicode_spellings_normalize_alike() -> None:
    assert strip_tex("$\\alpha$-Flow:\n   100\\% \\emph{Fewer}  Steps -- Fast") == (
        "alpha-Flow: 100% Fewer Steps - Fast"
    )
    assert normalize(r"$\alpha$-Flow: 100\% Fewer Steps") == normalize(
        "\u03b1-Flow: 100% Fewer Steps"
    )
    assert normalize(r"Schr\"odinger and Na\"{\i}ve M\o ller") == normalize(
        "Schrödinger and Naïve Møller"
    )
    assert normalize(r"Vision \& Language: $\mathcal{O}(n^2)$") == normalize(
        "Vision and Language: O(n²)"
    )


def test_exact_title_matches_and_line_breaks_do_not_matter() -> None:
    query = TitleQuery("p1", "Scaling Laws for Sparse Mixture-of-Experts Language Models")
    candidates = [
        record(
            "2401.00001",
            "Scaling Laws for Sparse\n    Mixture-of-Experts Language Models",
            version=2,
        ),
        record("2401.00002", "Scaling Laws for Dense Language Models"),
    ]
    resolution = verify(query, candidates)
    assert (resolution.status, resolution.arxiv_id, resolution.version) == (
        "matched",
        "2401.00001",
        2,
    )
    assert resolution.score == 1.0 and resolution.record is candidates[0]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Foundations of Neural Scaling, Part I", "Foundations of Neural Scaling, Part II"),
        ("DeepThink V3 Technical Report", "DeepThink V2 Technical Report"),
        ("Llama 3 Herd of Models", "Llama 2 Herd of Models"),
        (
            "Two Heads Are Better Than One in Sparse Retrieval",
            "Three Heads Are Better Than One in Sparse Retrieval",
        ),
    ],
)
def test_different_numbers_are_different_papers_even_with_the_same_abstract(
    ours: str, theirs: str
) -> None:
    query = TitleQuery("p", ours, ABS_SCALING)
    assert verify(query, [record("2401.00001", theirs, ABS_SCALING)]).status == "not_found"


def test_a_superset_title_needs_the_abstract_to_agree() -> None:
    decoy = record(
        "2401.00007",
        "Diffusion Models Are Few-Shot Learners for Text Classification",
        ABS_FEWSHOT_TEXT,
    )
    grown = record(
        "2401.00013",
        "Diffusion Models Are Few-Shot Learners: Classification Without Training",
        ABS_FEWSHOT,
    )
    ours = "Diffusion Models Are Few-Shot Learners"
    assert verify(TitleQuery("p", ours, ABS_FEWSHOT), [decoy]).status == "not_found"
    assert verify(TitleQuery("p", ours), [decoy, grown]).status == "not_found"
    matched = verify(TitleQuery("p", ours, ABS_FEWSHOT), [decoy, grown])
    assert (matched.status, matched.arxiv_id) == ("matched", "2401.00013")
    # And the other way round: our title is longer than the only candidate's.
    longer = TitleQuery(
        "p", "Diffusion Models Are Few-Shot Learners for Text Classification in Six Languages"
    )
    assert verify(longer, [decoy]).status == "not_found"


def test_homonyms_are_told_apart_by_abstract_or_left_ambiguous() -> None:
    title = "Learning to Rank with Graph Neural Networks"
    recsys = record("2401.00009", title, ABS_RANK_RECSYS)
    docs = record("2401.00010", title, ABS_RANK_DOCS)
    picked = verify(TitleQuery("p", title, ABS_RANK_DOCS), [recsys, docs])
    assert (picked.status, picked.arxiv_id) == ("matched", "2401.00010")
    assert picked.score is not None and picked.score > 0.95
    unsure = verify(TitleQuery("p", title), [recsys, docs])
    assert (unsure.status, unsure.arxiv_id) == ("ambiguous", None)
    assert set(unsure.candidates) == {"2401.00009", "2401.00010"}


def test_exact_title_with_an_unrelated_abstract_is_not_taken() -> None:
    title = "Learning to Rank with Graph Neural Networks"
    only = record("2401.00009", title, ABS_RANK_RECSYS)
    assert verify(TitleQuery("p", title, ABS_AGENTS), [only]).status == "not_found"


def test_short_titles_need_an_abstract() -> None:
    gemini = record("2401.00011", "Gemini", ABS_GEMINI)
    spectrograph = record("2401.00099", "Gemini", ABS_OTHER_GEMINI)
    thin = verify(TitleQuery("p", "Gemini"), [gemini])
    assert (thin.status, thin.arxiv_id, thin.candidates) == ("ambiguous", None, ("2401.00011",))
    confirmed = verify(TitleQuery("p", "Gemini", ABS_GEMINI), [spectrograph, gemini])
    assert (confirmed.status, confirmed.arxiv_id) == ("matched", "2401.00011")
    other = verify(TitleQuery("p", "Gemini", ABS_GEMINI), [spectrograph])
    assert other.status == "not_found"


def test_a_typo_is_forgiven_but_a_different_word_is_not() -> None:
    title = "Scaling Laws for Neural Language Models in Low Resource Settings"
    typo = record("2401.00001", "Scaling Laws for Neural Langauge Models in Low Resource Settings")
    other = record(
        "2401.00002", "Scaling Laws for Neural Language Models in High Resource Settings"
    )
    assert verify(TitleQuery("p", title), [typo]).arxiv_id == "2401.00001"
    assert verify(TitleQuery("p", title), [other]).status == "not_found"


def test_an_incomplete_result_set_does_not_confirm_a_title_only_match() -> None:
    query = TitleQuery("p", "Attention Sinks: How Streaming Language Models Keep Their Focus")
    candidate = record(
        "2401.00002", "Attention Sinks: How Streaming Language Models Keep Their Focus"
    )
    assert verify(query, [candidate], complete=False).status == "ambiguous"
    assert verify(query, [candidate], complete=True).status == "matched"


def test_search_words_avoid_hyphenated_and_compound_words() -> None:
    words = search_words(
        "Pretraining Multimodal Self-Supervised Transformers for Long-Horizon Planning"
    )
    assert "pretraining" not in words and "multimodal" not in words
    assert not {"self", "supervised", "long", "horizon"} & set(words)
    assert set(words) == {"transformers", "planning"}


# --- Whole runs against the fake arXiv -------------------------------------------------

QUERIES = [
    TitleQuery("exact", "Scaling Laws for Sparse Mixture-of-Experts Language Models"),
    TitleQuery("case", "attention sinks -- how streaming language models keep their FOCUS"),
    TitleQuery("hyphen", "Pretraining Vision Transformers With Masked Token Prediction"),
    TitleQuery("unicode", "Schrödinger Bridges Beat Diffusion on Molecular Design"),
    TitleQuery("tex", "\u03b1-Flow: Fast Sampling with 100% Fewer Steps via Consistency Matching"),
    TitleQuery("picky", "Self-Rewarding Reasoning Agents for Long-Horizon Planning", ABS_AGENTS),
    TitleQuery("superset", "Diffusion Models Are Few-Shot Learners", ABS_FEWSHOT_OTHER),
    TitleQuery("part-i", "Foundations of Neural Scaling, Part I", ABS_SCALING),
    TitleQuery("homonym", "Learning to Rank with Graph Neural Networks", ABS_RANK_DOCS),
    TitleQuery("homonym-bare", "Learning to Rank with Graph Neural Networks"),
    TitleQuery("short", "Gemini"),
    TitleQuery("v3", "DeepThink V3 Technical Report"),
    TitleQuery("absent", "Quantum Gardening with Recurrent Hedge Trimmers"),
]

EXPECTED = {
    "exact": ("matched", "2401.10001"),
    "case": ("matched", "2401.10002"),
    "hyphen": ("matched", "2401.10003"),
    "unicode": ("matched", "2401.10004"),
    "tex": ("matched", "2401.10005"),
    "picky": ("matched", "2401.10006"),
    "superset": ("not_found", None),
    "part-i": ("not_found", None),
    "homonym": ("matched", "2401.10010"),
    "homonym-bare": ("ambiguous", None),
    "short": ("ambiguous", None),
    "v3": ("not_found", None),
    "absent": ("not_found", None),
}


def test_a_run_resolves_every_kind_of_title_correctly(client: ArxivClient, fake: FakeArxiv) -> None:
    progress: list[dict[str, int]] = []
    run = ArxivMatcher(client).resolve(QUERIES, on_progress=progress.append)
    assert by_paper(run) == EXPECTED
    methods = {r.paper_id: r.method for r in run.resolutions}
    assert methods["exact"] == "batch_phrase"
    assert methods["picky"] == "words" and methods["hyphen"] == "words"
    tex = next(r for r in run.resolutions if r.paper_id == "tex")
    assert tex.version == 3 and tex.record is not None and tex.record.authors
    # Matched records come from the search answers: no extra id_list request.
    assert set(run.records) == {a for s, a in EXPECTED.values() if s == "matched"}
    assert not any(r.param("id_list") for r in fake.requests)
    assert run.requests == len(fake.requests)
    assert run.counts["matched"] == 7 and run.counts["ambiguous"] == 2
    assert run.counts["not_found"] == 4 and run.counts["error"] == 0
    assert progress[-1]["done"] == progress[-1]["total"] == len(QUERIES)
    assert progress[-1]["requests"] == run.requests
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)


def test_requests_across_all_stages_keep_the_interval(fake: FakeArxiv) -> None:
    interval = 0.15
    queries = [q for q in QUERIES if q.paper_id in {"exact", "hyphen", "picky", "absent"}]
    # One title per batch and one hit per title: batch answers are cut short, so every
    # stage (batch, single phrase, words, empty-answer retries) makes requests.
    matcher_options = {"batch_size": 1, "per_title_results": 1}
    with _session(min_interval_s=interval) as session:
        run = ArxivMatcher(ArxivClient(session, fake.url), **matcher_options).resolve(queries)
    assert by_paper(run) == {q.paper_id: EXPECTED[q.paper_id] for q in queries}
    assert {r.param("search_query").count(" AND ") > 0 for r in fake.requests} == {True, False}
    times = [r.at for r in fake.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Timestamps are taken on arrival at the server, so allow some jitter (a loaded
    # machine delays an arrival by a few tens of milliseconds).
    assert len(gaps) >= 6 and min(gaps) >= interval - 0.04


def test_thirty_titles_take_a_handful_of_requests(local_server: LocalServer) -> None:
    topics = [
        "Graphs", "Proteins", "Galaxies", "Markets", "Robots", "Glaciers", "Compilers",
        "Languages", "Vaccines", "Batteries", "Forests", "Satellites", "Bridges", "Oceans",
        "Circuits", "Genomes", "Volcanoes", "Traffic", "Weather", "Music", "Chess", "Poetry",
        "Bees", "Cities", "Rivers", "Deserts", "Magnets", "Lasers", "Crystals", "Tides",
    ]  # fmt: skip
    papers = [
        paper(f"2402.{20001 + i}", f"Self-Supervised Representation Learning for {topic}")
        for i, topic in enumerate(topics)
    ]
    fake = FakeArxiv(local_server, papers)
    queries = [TitleQuery(f"p{i}", p.title) for i, p in enumerate(papers)]
    with _session() as session:
        run = ArxivMatcher(ArxivClient(session, fake.url), batch_size=8).resolve(queries)
    assert [r.arxiv_id for r in run.resolutions] == [p.arxiv_id for p in papers]
    assert {r.method for r in run.resolutions} == {"batch_phrase"}
    assert run.requests == len(fake.requests) == 4  # ceil(30 / 8)
    assert [r.param("max_results") for r in fake.requests] == ["40", "40", "40", "30"]


@pytest.mark.parametrize(
    ("failure", "session_retries"),
    [
        (Reply(503, "busy", headers={"Retry-After": "1"}), 1),
        (Reply(429, "slow down"), 1),
        (Reply(200, "Rate exceeded."), 1),
        (Reply(200, empty_feed(), content_type=ATOM_TYPE, delay_s=1.0), 1),  # times out
        (Reply(200, empty_feed(), content_type=ATOM_TYPE), 0),  # the client re-asks itself
    ],
    ids=["503-retry-after", "429", "rate-exceeded", "timeout", "empty-first-page"],
)
def test_transient_failures_are_retried_and_the_run_completes(
    client: ArxivClient,
    fake: FakeArxiv,
    local_server: LocalServer,
    failure: Reply,
    session_retries: int,
) -> None:
    local_server.queue(PATH, failure)
    run = ArxivMatcher(client).resolve(QUERIES)
    assert by_paper(run) == EXPECTED
    # The first batch's own answer was read in the end, not replaced by fallbacks.
    assert next(r for r in run.resolutions if r.paper_id == "exact").method == "batch_phrase"
    assert client.session.retries == session_retries
    assert run.requests == len(fake.requests)


@pytest.mark.parametrize(
    "failure",
    [
        [Reply(503, "down")] * 4,  # more than max_retries
        [Reply(200, "<html><body>Bad gateway</body>", content_type="text/html")],
        [Reply(200, "<feed", content_type=ATOM_TYPE)],
        [error_reply("Invalid query string", 400)],
    ],
    ids=["503-forever", "html-page", "broken-xml", "error-feed-400"],
)
def test_a_failed_batch_is_error_never_not_found_and_the_rest_completes(
    client: ArxivClient, local_server: LocalServer, failure: list[Reply]
) -> None:
    local_server.queue(PATH, *failure)
    run = ArxivMatcher(client, batch_size=4).resolve(QUERIES)
    first_batch = {q.paper_id for q in QUERIES[:4]}
    for resolution in run.resolutions:
        if resolution.paper_id in first_batch:
            assert resolution.status == "error" and resolution.error
            assert resolution.arxiv_id is None
        else:
            assert (resolution.status, resolution.arxiv_id) == EXPECTED[resolution.paper_id]
    assert run.counts["error"] == 4


def test_a_failed_fallback_query_is_error_not_not_found(
    client: ArxivClient, fake: FakeArxiv, local_server: LocalServer
) -> None:
    def word_queries_fail(request: Request) -> Reply:
        if " AND " in (request.param("search_query") or ""):
            return Reply(503, "down")
        return fake.handle(request)

    local_server.route(PATH, word_queries_fail)
    queries = [QUERIES[0], TitleQuery("absent", "Quantum Gardening with Recurrent Hedge Trimmers")]
    run = ArxivMatcher(client).resolve(queries)
    # The batch finds `exact`; the word query for `absent` fails on every retry.
    assert by_paper(run) == {"exact": ("matched", "2401.10001"), "absent": ("error", None)}
    failed = run.resolutions[1]
    assert failed.method == "words" and "HTTP 503" in (failed.error or "")


def test_short_search_entries_are_completed_with_one_id_list_request(
    local_server: LocalServer,
) -> None:
    fake = FakeArxiv(local_server, CORPUS, brief_search=True)
    queries = [QUERIES[0], QUERIES[1], QUERIES[3]]
    with _session() as session:
        run = ArxivMatcher(ArxivClient(session, fake.url)).resolve(queries)
    assert [r.arxiv_id for r in run.resolutions] == ["2401.10001", "2401.10002", "2401.10004"]
    id_lists = [r.param("id_list") for r in fake.requests if r.param("id_list")]
    assert id_lists == ["2401.10001,2401.10002,2401.10004"]
    assert run.requests == 2
    assert all(r.record and r.record.is_complete and r.record.authors for r in run.resolutions)


def test_duplicate_and_empty_titles_cost_nothing_extra(
    client: ArxivClient, fake: FakeArxiv
) -> None:
    queries = [
        TitleQuery("a", "Scaling Laws for Sparse Mixture-of-Experts Language Models"),
        TitleQuery("b", "Scaling laws for sparse mixture-of-experts language models"),
        TitleQuery("c", '  ""  '),
    ]
    run = ArxivMatcher(client).resolve(queries)
    assert by_paper(run) == {
        "a": ("matched", "2401.10001"),
        "b": ("matched", "2401.10001"),
        "c": ("not_found", None),
    }
    assert len(fake.requests) == 1
    assert (fake.requests[0].param("search_query") or "").count("ti:") == 1
