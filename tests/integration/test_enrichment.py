"""arXiv enrichment through the warehouse: small dumps go through `refresh`, then
`resolve_clusters` asks a fake arXiv on loopback (`tests.fakes.arxiv`). The tables must
say which papers are which arXiv papers, failures must leave papers `error` (never
`not_found`) for the next run to retry, and a re-run must not ask arXiv anything.
The last tests run the same through the Dagster `refresh` job."""

from __future__ import annotations

import copy
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from assets.definitions import defs
from assets.resources import PipelineSettings
from assets.tables import asset_key
from pipeline.arxiv.api import ArxivClient
from pipeline.arxiv.outcomes import EnrichmentReport, resolve_clusters
from pipeline.http_session import PoliteSession
from pipeline.papers.clusters import key_id
from pipeline.settings import Settings
from pipeline.steps import build_link_tables, build_paper_tables, judge_paper_code, refresh
from pipeline.text import title_key
from tests.builders import Listing
from tests.builders import dump_text as shared_dump_text
from tests.fakes.arxiv import ATOM_TYPE, PATH, FakeArxiv, FakePaper
from tests.fakes.huggingface import api_bytes, day_items
from tests.fakes.local_server import LocalServer, Reply, Request

RETRIES = 2  # the session's retries: a failure must outlast RETRIES + 1 attempts
SEARCH_METHODS = {"batch_phrase", "single_phrase", "words"}

# --- papers: as the listing shows them, and as arXiv holds them ------------------------

SPARSE = "Sparse Attention Routing for Long-Context Language Models"
ABS_SPARSE = (
    "Long inputs make attention the bottleneck of language models. We route each query to "
    "a small set of key blocks chosen by a learned scorer, which halves memory at 128k "
    "tokens and keeps retrieval accuracy within one point of dense attention on every "
    "benchmark we tried."
)
GLYPH = "GlyphNet: Reading Historical Scripts with Tiny Models"
ABS_GLYPH = (
    "Historical scripts are hard to read for models trained on modern print. GlyphNet is a "
    "compact recognizer that learns glyph shapes from a few hundred annotated lines per "
    "script and reaches the accuracy of large models with 95% fewer parameters on six "
    "archives of letters and ledgers."
)
SELFPLAY = "Self-Play Fine-Tuning for Small Language Models"
ABS_SELFPLAY = (
    "Small language models rarely improve by talking to themselves. We show that self-play "
    "fine-tuning works once the opponent is a frozen earlier checkpoint, and that three "
    "rounds lift a one-billion-parameter model to the level of models four times its size "
    "on reasoning tasks."
)
WIDE = "Learning Dynamics of Wide Networks, Part I"
ABS_WIDE = (
    "This first part sets up a mean-field description of training wide two-layer networks "
    "and proves that gradient flow converges to a global minimum when the width grows "
    "faster than the number of training samples."
)
REWARD = "Reward Models for Code Generation"
ABS_REWARD = (
    "We train reward models that judge generated code by executing it against synthesized "
    "tests, and show that they rank candidate programs better than models trained on human "
    "preferences alone, across four programming benchmarks."
)
TACTILE = "Tactile Sensing for Deformable Object Manipulation"
ABS_TACTILE = (
    "Deformable objects such as cloth and dough change shape under contact. We mount "
    "low-cost tactile pads on a parallel gripper and learn policies that fold towels and "
    "knead dough from forty demonstrations each."
)
BIRDS = "Counting Wetland Birds from Drone Audio Recordings"
ABS_BIRDS = (
    "We count birds in wetlands from audio recorded by drones hovering above the reeds, "
    "separating overlapping calls with a source separation network trained on synthetic "
    "mixtures of field recordings from three seasons."
)


def arxiv_sparse() -> FakePaper:
    return FakePaper(
        "2403.01234",
        SPARSE,
        ABS_SPARSE,
        version=2,
        authors=["Mei Tanaka", "Jonas Weber", "Priya Raman"],
        categories=["cs.CL", "cs.LG", "stat.ML"],
        published="2024-03-02T17:59:52Z",
        updated="2024-05-10T09:00:00Z",
        comment="14 pages, 6 figures. Code: https://github.com/TanakaLab/SparseRoute",
        journal_ref="TACL 12 (2024) 1-14",
        doi="10.1162/tacl_a_00999",
    )


def arxiv_glyph() -> FakePaper:
    """TeX in the title and abstract, and a repository named only in arXiv's abstract."""
    return FakePaper(
        "2402.05678",
        r"$\textsc{GlyphNet}$: Reading Historical Scripts with Tiny Models",
        ABS_GLYPH.replace("GlyphNet is", r"\emph{GlyphNet} is").replace("95%", r"95\%")
        + " Code: https://github.com/ramanlab/glyphnet",
        authors=["Zoë Müller", "Li Ming"],
        categories=["cs.CV"],
    )


def arxiv_selfplay() -> FakePaper:
    """Hyphens defeat arXiv's phrase search for this one; word search finds it."""
    return FakePaper("2401.09876", SELFPLAY, ABS_SELFPLAY, phrase_picky=True)


def decoys() -> list[FakePaper]:
    """Papers that are not ours: the second part of WIDE, a superset of REWARD's title."""
    return [
        FakePaper(
            "2405.11111",
            "Learning Dynamics of Wide Networks, Part II",
            "This second part extends the mean-field description of training wide networks "
            "to deep architectures and proves that gradient flow converges when every layer "
            "grows faster than the number of training samples.",
        ),
        FakePaper(
            "2405.22222",
            "Reward Models for Code Generation in Low-Resource Programming Languages",
            "Programming languages with little public code, such as COBOL and Fortran, are "
            "poorly served by code models; we collect preference data for eight of them and "
            "train reward models that transfer across languages.",
        ),
    ]


# --- helpers ------------------------------------------------------------------------------


def dump_text(entries: list[tuple[str, str]]) -> str:
    """A text dump of (title, abstract) entries, without metadata blocks."""
    return shared_dump_text([Listing(title, abstract) for title, abstract in entries])


def build(root: Path, files: dict[str, str | bytes]) -> Settings:
    """A warehouse in `root` built by `refresh` from the files given (name -> content)."""
    landing = root / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (landing / name).write_bytes(content)
        else:
            (landing / name).write_text(content, encoding="utf-8")
    settings = Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(landing),
            "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(root / "archive"),
        }
    )
    refresh(settings)
    return settings


def rows(settings: Settings, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def pid(title: str) -> str:
    """The paper id a single listing with this title gets."""
    return key_id(title_key(title))


def matches(settings: Settings) -> dict[str, tuple]:
    """paper_id -> (status, arxiv_id, score, method, checked_at)."""
    found = rows(
        settings,
        "SELECT paper_id, status, arxiv_id, score, method, checked_at FROM core.arxiv_matches",
    )
    assert len(found) == len({r[0] for r in found}), "one outcome per paper"
    return {r[0]: r[1:] for r in found}


def statuses(settings: Settings) -> dict[str, str]:
    return {paper: m[0] for paper, m in matches(settings).items()}


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    tables = (
        "core.papers",
        "core.paper_listings",
        "core.paper_repos",
        "core.paper_aliases",
        "core.arxiv_matches",
        "core.arxiv_papers",
    )
    return {t: sorted(rows(settings, f"SELECT * FROM {t}"), key=repr) for t in tables}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def searched(requests: list[Request]) -> str:
    """Every search query and ID list sent, in lower case, for `in` tests."""
    return " | ".join(
        (r.param("search_query") or r.param("id_list") or "").lower() for r in requests
    )


@pytest.fixture
def fake(local_server: LocalServer) -> FakeArxiv:
    return FakeArxiv(local_server, [])


def make_client(url: str) -> ArxivClient:
    session = PoliteSession(
        user_agent="papers-warehouse-test (+mailto:test@example.org)",
        min_interval_s=0.05,
        timeout_s=0.5,
        max_retries=RETRIES,
        backoff_base_s=0.01,
    )
    return ArxivClient(session, url)


@pytest.fixture
def client(fake: FakeArxiv) -> Iterator[ArxivClient]:
    arxiv = make_client(fake.url)
    with arxiv.session:
        yield arxiv


def resolve(
    settings: Settings, client: ArxivClient, recheck_days: int = 30, offline: bool = False
) -> EnrichmentReport:
    return resolve_clusters(settings.warehouse, client, recheck_days, offline=offline)


def enrich(
    settings: Settings, client: ArxivClient, recheck_days: int = 30, offline: bool = False
) -> EnrichmentReport:
    """What the refresh job does after the raw load: resolve title clusters on arXiv,
    then build the papers and links with what it learnt."""
    report = resolve(settings, client, recheck_days, offline)
    build_paper_tables(settings)
    build_link_tables(settings)
    judge_paper_code(settings)
    return report


# --- resolving ----------------------------------------------------------------------------


def test_papers_resolve_to_their_ids_with_records_and_repos(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse(), arxiv_glyph(), arxiv_selfplay()]
    entries = [(SPARSE, ABS_SPARSE), (GLYPH, ABS_GLYPH), (SELFPLAY, ABS_SELFPLAY)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    before = utcnow()
    report = enrich(settings, client)
    after = utcnow()

    found = matches(settings)
    expected = {SPARSE: "2403.01234", GLYPH: "2402.05678", SELFPLAY: "2401.09876"}
    assert set(found) == {pid(t) for t in expected}
    for title, arxiv_id in expected.items():
        status, got, score, method, checked_at = found[pid(title)]
        assert (status, got) == ("matched", arxiv_id), title
        assert 0.85 <= score <= 1.0, (title, score)
        assert method in SEARCH_METHODS
        assert before <= checked_at <= after
    assert found[pid(SPARSE)][3] == "batch_phrase"  # found in the first, batched request
    assert found[pid(SELFPLAY)][3] == "words"  # hyphens: only word search finds it
    assert report.counts == {"matched": 3}
    assert report.requests == len(fake.requests) <= 5

    papers = dict(rows(settings, "SELECT paper_id, arxiv_id FROM core.papers"))
    assert papers == {pid(t): arxiv_id for t, arxiv_id in expected.items()}

    record = rows(
        settings,
        """SELECT version, title, authors, primary_category, categories, published, updated,
                  doi, journal_ref, comment
           FROM core.arxiv_papers WHERE arxiv_id = '2403.01234'""",
    )
    assert record == [
        (
            2,
            SPARSE,
            ["Mei Tanaka", "Jonas Weber", "Priya Raman"],
            "cs.CL",
            ["cs.CL", "cs.LG", "stat.ML"],
            datetime(2024, 3, 2, 17, 59, 52),
            datetime(2024, 5, 10, 9, 0),
            "10.1162/tacl_a_00999",
            "TACL 12 (2024) 1-14",
            "14 pages, 6 figures. Code: https://github.com/TanakaLab/SparseRoute",
        )
    ]
    glyph = rows(
        settings, "SELECT authors, abstract FROM core.arxiv_papers WHERE arxiv_id = '2402.05678'"
    )
    assert glyph[0][0] == ["Zoë Müller", "Li Ming"]
    assert "\n" not in glyph[0][1] and "  " not in glyph[0][1]  # arXiv's wrapping collapsed
    assert rows(settings, "SELECT count(*) FROM core.arxiv_papers") == [(3,)]

    repos = rows(settings, "SELECT paper_id, repo, url, source FROM core.paper_repos")
    assert sorted(repos) == sorted(
        [
            (
                pid(SPARSE),
                "TanakaLab/SparseRoute",
                "https://github.com/TanakaLab/SparseRoute",
                "arxiv",
            ),
            (pid(GLYPH), "ramanlab/glyphnet", "https://github.com/ramanlab/glyphnet", "arxiv"),
        ]
    )


def test_decoys_and_absent_papers_are_not_found_never_a_wrong_id(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse(), *decoys()]
    entries = [(SPARSE, ABS_SPARSE), (WIDE, ABS_WIDE), (REWARD, ABS_REWARD), (TACTILE, ABS_TACTILE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    enrich(settings, client)

    found = matches(settings)
    assert found[pid(SPARSE)][:2] == ("matched", "2403.01234")
    for title in (WIDE, REWARD, TACTILE):
        assert found[pid(title)][:2] == ("not_found", None), title
    # The decoys were seen (the searches returned them) and still not taken.
    sent = searched(fake.requests)
    assert "wide" in sent and "reward" in sent
    assert rows(settings, "SELECT arxiv_id FROM core.papers WHERE arxiv_id IS NOT NULL") == [
        ("2403.01234",)
    ]
    assert rows(settings, "SELECT arxiv_id FROM core.arxiv_papers") == [("2403.01234",)]


def test_a_rerun_makes_no_request_and_changes_nothing(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse(), arxiv_selfplay(), *decoys()]
    entries = [(SPARSE, ABS_SPARSE), (SELFPLAY, ABS_SELFPLAY), (WIDE, ABS_WIDE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    first = enrich(settings, client)
    assert first.requests > 0
    asked = len(fake.requests)
    state = snapshot(settings)

    again = enrich(settings, client)
    assert len(fake.requests) == asked
    assert (again.requests, again.cache_hits, again.counts) == (0, 3, {})
    assert snapshot(settings) == state


def test_offline_asks_nothing_and_leaves_papers_pending_until_an_online_run(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse()]
    entries = [(SPARSE, ABS_SPARSE), (TACTILE, ABS_TACTILE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})

    report = enrich(settings, client, offline=True)
    assert fake.requests == [] and report.requests == 0
    assert report.offline and report.counts == {"pending": 2}
    assert statuses(settings) == {pid(SPARSE): "pending", pid(TACTILE): "pending"}
    assert rows(settings, "SELECT count(*) FROM core.papers WHERE arxiv_id IS NOT NULL") == [(0,)]

    # Offline again: still nothing asked, still pending, and the rows as they were.
    before = rows(settings, "SELECT * FROM internal.arxiv_outcomes ORDER BY cluster_id")
    enrich(settings, client, offline=True)
    assert fake.requests == []
    assert rows(settings, "SELECT * FROM internal.arxiv_outcomes ORDER BY cluster_id") == before

    enrich(settings, client)
    assert statuses(settings) == {pid(SPARSE): "matched", pid(TACTILE): "not_found"}
    assert rows(settings, "SELECT arxiv_id FROM core.papers WHERE paper_id = ?", [pid(SPARSE)]) == [
        ("2403.01234",)
    ]


# --- failures -----------------------------------------------------------------------------

MALFORMED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
    "  <entry><id>http://arxiv.org/abs/2401.0"
)
FAILURES: dict[str, Reply] = {
    "503": Reply(503, "Service Unavailable"),
    "rate_exceeded": Reply(200, "Rate exceeded."),
    "malformed_feed": Reply(200, MALFORMED, content_type=ATOM_TYPE),
    "timeout": Reply(200, "", content_type=ATOM_TYPE, delay_s=1.0),
}


def breaker(fake: FakeArxiv, reply: Reply, when: Callable[[Request], bool]) -> dict[str, bool]:
    """Answers `reply` to the requests `when` picks while the returned switch is on."""
    switch = {"on": True}

    def handle(request: Request) -> Reply:
        return reply if switch["on"] and when(request) else fake.handle(request)

    fake.server.route(PATH, handle)
    return switch


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failing_arxiv_leaves_papers_in_error_and_the_next_run_retries_only_them(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path, failure: str
) -> None:
    """The batched phrase request succeeds and settles SPARSE; every later request (the
    word-by-word search for SELFPLAY and TACTILE, one OR'ed request) fails."""
    fake.papers = [arxiv_sparse(), arxiv_selfplay()]
    entries = [(SPARSE, ABS_SPARSE), (SELFPLAY, ABS_SELFPLAY), (TACTILE, ABS_TACTILE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    switch = breaker(fake, FAILURES[failure], lambda r: " AND " in r.param("search_query"))

    report = enrich(settings, client)  # completes: failures are recorded, not raised
    # Answers that keep timing out make arXiv unreachable for the run: the rest is left
    # `pending` with that cause rather than `error`; other failures are `error`.
    left = "pending" if failure == "timeout" else "error"
    assert statuses(settings) == {
        pid(SPARSE): "matched",
        pid(SELFPLAY): left,  # on arXiv, not found only because arXiv failed
        pid(TACTILE): left,  # absent, but arXiv never said so
    }
    assert report.counts == {"matched": 1, left: 2}
    errors = rows(settings, "SELECT error FROM core.arxiv_matches WHERE status = ?", [left])
    assert len(errors) == 2 and all(e[0] for e in errors)
    if failure == "timeout":
        assert all("127.0.0.1 unreachable: timed out" in e[0] for e in errors)
    attempts = 1 if failure == "malformed_feed" else RETRIES + 1
    assert len(fake.requests) == 1 + attempts
    # Everything else is in place.
    assert rows(settings, "SELECT count(*) FROM core.papers") == [(3,)]
    assert rows(settings, "SELECT count(*) FROM core.paper_listings") == [(3,)]
    assert rows(settings, "SELECT arxiv_id FROM core.arxiv_papers") == [("2403.01234",)]
    assert rows(settings, "SELECT repo FROM core.paper_repos") == [("TanakaLab/SparseRoute",)]

    switch["on"] = False
    asked = len(fake.requests)
    retry = enrich(settings, client)
    sent = searched(fake.requests[asked:])
    assert "small" in sent and "tactile" in sent and "sparse" not in sent
    assert retry.requests == len(fake.requests) - asked
    assert retry.cache_hits == 1
    assert statuses(settings) == {
        pid(SPARSE): "matched",
        pid(SELFPLAY): "matched",
        pid(TACTILE): "not_found",
    }


@pytest.fixture
def cut_off_url() -> Iterator[str]:
    """A server that drops every connection half-way through the body it announced, as
    a connection reset mid-answer does (`requests` raises `ChunkedEncodingError`)."""
    listener = socket.create_server(("127.0.0.1", 0))
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: 4000\r\n\r\n"

    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(head + MALFORMED.encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{PATH}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_connection_cut_mid_answer_leaves_papers_in_error(
    fake: FakeArxiv, client: ArxivClient, cut_off_url: str, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse()]
    entries = [(SPARSE, ABS_SPARSE), (TACTILE, ABS_TACTILE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    cut_off = make_client(cut_off_url)
    with cut_off.session:
        report = enrich(settings, cut_off)  # does not raise
    assert report.counts == {"error": 2}
    assert statuses(settings) == {pid(SPARSE): "error", pid(TACTILE): "error"}
    assert rows(settings, "SELECT count(*) FROM core.papers") == [(2,)]
    enrich(settings, client)
    assert statuses(settings) == {pid(SPARSE): "matched", pid(TACTILE): "not_found"}


def test_a_failed_batch_errors_all_its_papers_and_nothing_is_lost(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [arxiv_sparse()]
    entries = [(SPARSE, ABS_SPARSE), (TACTILE, ABS_TACTILE)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    fake.server.queue(PATH, *[Reply(503, "")] * (RETRIES + 1))
    enrich(settings, client)
    assert statuses(settings) == {pid(SPARSE): "error", pid(TACTILE): "error"}
    assert rows(settings, "SELECT count(*) FROM core.arxiv_papers") == [(0,)]
    enrich(settings, client)
    assert statuses(settings) == {pid(SPARSE): "matched", pid(TACTILE): "not_found"}


def test_a_record_the_search_gave_in_part_is_fetched_whole_later(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Search entries without abstract and authors are completed by ID; when that fetch
    fails, no half record is stored, and the next run fetches it."""
    fake = FakeArxiv(local_server, [arxiv_sparse()], brief_search=True)
    switch = breaker(fake, Reply(503, ""), lambda r: r.param("id_list") is not None)
    settings = build(tmp_path, {"dump.txt": dump_text([(SPARSE, ABS_SPARSE)])})
    client = make_client(fake.url)
    with client.session:
        enrich(settings, client)
        assert statuses(settings) == {pid(SPARSE): "matched"}
        assert rows(settings, "SELECT count(*) FROM core.arxiv_papers") == [(0,)]
        switch["on"] = False
        asked = len(fake.requests)
        report = enrich(settings, client)
    assert [r.param("id_list") for r in fake.requests[asked:]] == ["2403.01234"]
    assert report.requests == 1 and report.records_stored == 1
    assert rows(settings, "SELECT authors FROM core.arxiv_papers") == [
        (["Mei Tanaka", "Jonas Weber", "Priya Raman"],)
    ]


def test_a_stale_not_found_is_asked_again_and_a_fresh_one_is_not(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    entries = [(TACTILE, ABS_TACTILE), (BIRDS, ABS_BIRDS)]
    settings = build(tmp_path, {"dump.txt": dump_text(entries)})
    enrich(settings, client)
    assert statuses(settings) == {pid(TACTILE): "not_found", pid(BIRDS): "not_found"}
    fresh_checked = matches(settings)[pid(BIRDS)][4]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "UPDATE internal.arxiv_outcomes SET checked_at = checked_at - INTERVAL 31 DAY "
            "WHERE cluster_id = ?",
            [pid(TACTILE)],
        ).fetchall()
    # Since then, arXiv has got the paper.
    fake.papers = [FakePaper("2406.04321", TACTILE, ABS_TACTILE)]
    asked = len(fake.requests)

    report = enrich(settings, client, recheck_days=30)
    sent = searched(fake.requests[asked:])
    assert "tactile" in sent and "birds" not in sent
    assert report.cache_hits == 1
    found = matches(settings)
    assert found[pid(TACTILE)][:2] == ("matched", "2406.04321")
    assert found[pid(TACTILE)][4] > utcnow() - timedelta(minutes=5)
    assert found[pid(BIRDS)][0] == "not_found" and found[pid(BIRDS)][4] == fresh_checked


# --- merging by arXiv ID ------------------------------------------------------------------

OLD_TITLE = "Verifier Guided Decoding for Math Problems"
NEW_TITLE = "Verifier Guided Decoding for Math Word Problems Without Reward Models"
ABS_VERIFIER = (
    "Decoding guided by a small learned verifier improves the accuracy of language models "
    "on grade-school math word problems by nine points, without training a reward model or "
    "sampling more than four candidates per step."
)
VERIFIER_ID = "2411.07777"


def hf_api_item(arxiv_id: str, title: str, summary: str) -> dict:
    """A Hugging Face daily-papers item in the real shape, stating the arXiv ID."""
    item = copy.deepcopy(day_items()[1])
    item["paper"]["id"] = arxiv_id
    for holder in (item, item["paper"]):
        holder["title"] = title
        holder["summary"] = summary
    return item


def test_papers_with_one_arxiv_id_become_one_paper_under_the_smaller_id(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    """A title that changed: the text dump has the old one, Hugging Face's JSON the new
    one with the arXiv ID; arXiv's title search only knows the new one."""
    fake.papers = [FakePaper(VERIFIER_ID, NEW_TITLE, ABS_VERIFIER, authors=["R. Okafor"])]
    files: dict[str, str | bytes] = {
        "old.txt": dump_text([(OLD_TITLE, ABS_VERIFIER), (TACTILE, ABS_TACTILE)]),
        "hf_daily.json": api_bytes([hf_api_item(VERIFIER_ID, NEW_TITLE, ABS_VERIFIER)]),
    }
    settings = build(tmp_path, files)
    old, new = pid(OLD_TITLE), pid(NEW_TITLE)
    assert {r[0] for r in rows(settings, "SELECT paper_id FROM core.papers")} == {
        old,
        new,
        pid(TACTILE),
    }
    survivor, absorbed = min(old, new), max(old, new)

    report = resolve(settings, client)
    merged = build_paper_tables(settings)
    build_link_tables(settings)
    judge_paper_code(settings)
    assert report.from_source == 1 and merged.papers_retired == {"same arXiv ID": 1}
    # The paper whose source states its ID is never searched for.
    assert "without" not in searched(fake.requests)

    papers = rows(
        settings,
        "SELECT paper_id, arxiv_id, listing_count FROM core.papers WHERE paper_id <> ?",
        [pid(TACTILE)],
    )
    assert papers == [(survivor, VERIFIER_ID, 2)]
    listings = rows(
        settings,
        """SELECT pl.paper_id, f.layout FROM core.paper_listings pl
           JOIN raw.dump_files f USING (file_sha256)
           WHERE pl.paper_id <> ? ORDER BY f.layout""",
        [pid(TACTILE)],
    )
    assert listings == [(survivor, "blocks_without_metadata"), (survivor, "hf_api_json")]
    aliases = rows(settings, "SELECT old_paper_id, paper_id, reason FROM core.paper_aliases")
    assert aliases == [(absorbed, survivor, "same arXiv ID")]
    found = matches(settings)
    assert absorbed not in found
    status, arxiv_id, _, method, _ = found[survivor]
    assert (status, arxiv_id) == ("matched", VERIFIER_ID)
    assert method in {"source", *SEARCH_METHODS}
    assert rows(settings, "SELECT arxiv_id, authors FROM core.arxiv_papers") == [
        (VERIFIER_ID, ["R. Okafor"])
    ]

    # A re-run asks nothing and changes nothing, the merged paper included.
    state, asked = snapshot(settings), len(fake.requests)
    again = enrich(settings, client)
    assert len(fake.requests) == asked and again.from_source == 0
    assert snapshot(settings) == state


def test_an_id_stated_by_the_source_needs_no_search(
    fake: FakeArxiv, client: ArxivClient, tmp_path: Path
) -> None:
    fake.papers = [FakePaper(VERIFIER_ID, NEW_TITLE, ABS_VERIFIER, authors=["R. Okafor"])]
    item = hf_api_item(VERIFIER_ID, NEW_TITLE, ABS_VERIFIER)
    settings = build(tmp_path, {"hf_daily.json": api_bytes([item])})
    report = enrich(settings, client)
    assert matches(settings)[pid(NEW_TITLE)][:4] == ("matched", VERIFIER_ID, 1.0, "source")
    assert [r.param("id_list") for r in fake.requests] == [VERIFIER_ID]  # the record only
    assert report.requests == 1 and report.records_stored == 1


# --- through Dagster ----------------------------------------------------------------------


@pytest.fixture
def arxiv_env(fake: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> FakeArxiv:
    monkeypatch.setenv("ARXIV_API_URL", fake.url)
    monkeypatch.setenv("ARXIV_MIN_INTERVAL_S", "0.01")
    monkeypatch.setenv("PAPERS_HTTP_TIMEOUT_S", "0.5")
    monkeypatch.setenv("PAPERS_HTTP_MAX_RETRIES", "1")
    monkeypatch.delenv("PAPERS_OFFLINE", raising=False)
    for name in ("PAPERS_LANDING_DIR", "PAPERS_WAREHOUSE", "PAPERS_RAW_ARCHIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PAPERS_READ_COPY", raising=False)
    for name in ("HF_BASE_URL", "GITHUB_API_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    return fake


def run_refresh_job(root: Path, files: dict[str, str]) -> tuple[ExecuteInProcessResult, Settings]:
    landing = root / "landing"
    landing.mkdir(parents=True)
    for name, text in files.items():
        (landing / name).write_text(text, encoding="utf-8")
    resource = PipelineSettings(
        landing_dir=str(landing),
        warehouse=str(root / "papers.duckdb"),
        raw_archive=str(root / "archive"),
    )
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=DagsterInstance.ephemeral(),
        resources={"pipeline_settings": resource},
        raise_on_error=False,
    )
    return result, resource.resolve()


def match_metadata(result: ExecuteInProcessResult) -> dict[str, object]:
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key == asset_key("internal.arxiv_outcomes"):
            return {k: v.value for k, v in materialization.metadata.items()}
    raise AssertionError("internal/arxiv_outcomes was not materialized")


@pytest.mark.slow
def test_the_refresh_job_resolves_papers_and_reports_counts(
    arxiv_env: FakeArxiv, tmp_path: Path
) -> None:
    arxiv_env.papers = [arxiv_sparse(), arxiv_glyph()]
    entries = [(SPARSE, ABS_SPARSE), (GLYPH, ABS_GLYPH), (TACTILE, ABS_TACTILE)]
    result, settings = run_refresh_job(tmp_path, {"dump.txt": dump_text(entries)})
    assert result.success
    assert statuses(settings) == {
        pid(SPARSE): "matched",
        pid(GLYPH): "matched",
        pid(TACTILE): "not_found",
    }
    metadata = match_metadata(result)
    assert metadata["papers_matched"] == 2 and metadata["papers_not_found"] == 1
    assert metadata["requests_made"] == len(arxiv_env.requests) > 0
    assert metadata["cache_hits"] == 0
    assert rows(settings, "SELECT count(*) FROM core.paper_repos WHERE source = 'arxiv'") == [(2,)]


@pytest.mark.slow
def test_the_refresh_job_succeeds_when_arxiv_is_down(arxiv_env: FakeArxiv, tmp_path: Path) -> None:
    arxiv_env.server.route(PATH, lambda _request: Reply(503, "Service Unavailable"))
    entries = [(SPARSE, ABS_SPARSE), (GLYPH, ABS_GLYPH), (TACTILE, ABS_TACTILE)]
    result, settings = run_refresh_job(tmp_path, {"dump.txt": dump_text(entries)})
    assert result.success
    assert rows(settings, "SELECT count(*) FROM raw.listings") == [(3,)]
    assert rows(settings, "SELECT count(*) FROM core.papers") == [(3,)]
    assert rows(settings, "SELECT count(*) FROM core.paper_listings") == [(3,)]
    assert set(statuses(settings).values()) == {"error"} and len(statuses(settings)) == 3
    metadata = match_metadata(result)
    assert metadata["papers_error"] == 3 and "papers_matched" not in metadata
    assert metadata["requests_made"] == len(arxiv_env.requests) == 2  # one batch, one retry
    # The outcome check warns (it does not fail the run).
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["arxiv_outcomes_in_bounds"].passed
    # It says why, in words and rounded shares, not as bare floats.
    evaluation = checks["arxiv_outcomes_in_bounds"]
    assert evaluation.description.startswith("of 3 papers asked about, 0% matched and 100%")
    assert evaluation.metadata["error_share"].value == "100.0%"
