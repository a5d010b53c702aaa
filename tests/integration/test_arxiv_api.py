"""The arXiv client against a fake arXiv on loopback: Atom parsing, error feeds, retries,
zero-hit pages and `id_list` look-ups."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.arxiv.api import (
    ArxivClient,
    ArxivError,
    clean_title_for_query,
    parse_feed,
    title_phrase_query,
    title_words_query,
)
from pipeline.clients import arxiv_client
from pipeline.http_session import OfflineError, PoliteSession, RequestFailed
from pipeline.settings import Settings
from tests.fakes.arxiv import ATOM_TYPE, PATH, FakeArxiv, FakePaper, empty_feed, render_feed
from tests.fakes.local_server import LocalServer, Reply

INTERVAL = 0.05

PAPERS = [
    FakePaper(
        "2401.01234",
        r"Sparse $\alpha$-Attention: Scaling to 100\% Sparsity with \emph{Learned} Routing",
        "We route tokens sparsely.\nThe model scales to long inputs.",
        version=2,
        authors=["Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"],
        categories=["cs.LG", "cs.CL", "cs.LG"],
        published="2024-01-02T18:00:00Z",
        updated="2024-02-03T10:30:00Z",
        comment="12 pages,\n 4 figures",
        journal_ref="NeurIPS 2024",
        doi="10.1000/xyz123",
    ),
    FakePaper("2402.00001", "Error", "A paper that happens to be called Error.", version=3),
    FakePaper("hep-th/9901001", "Strings on Old Identifiers", "Old-style ids still work."),
    FakePaper("2403.05678", "A Third Paper About Graphs", "Graphs, graphs and graphs."),
]


@pytest.fixture
def fake(local_server: LocalServer) -> FakeArxiv:
    return FakeArxiv(local_server, PAPERS)


@pytest.fixture
def client(fake: FakeArxiv) -> Iterator[ArxivClient]:
    session = PoliteSession(
        user_agent="papers-warehouse-test (+mailto:test@example.org)",
        min_interval_s=INTERVAL,
        timeout_s=0.5,
        max_retries=3,
        backoff_base_s=0.01,
        max_backoff_s=2.0,
    )
    with session:
        yield ArxivClient(session, fake.url)


def test_search_parses_every_field_from_a_wrapped_tex_entry(client: ArxivClient) -> None:
    page = client.search('ti:"sparse alpha attention"', max_results=5)
    assert page.total_results == 1 and page.complete
    (record,) = page.records
    assert record.arxiv_id == "2401.01234" and record.version == 2
    assert record.versioned_id == "2401.01234v2"
    # Line breaks and indentation collapse; TeX is kept as arXiv wrote it.
    assert record.title == (
        r"Sparse $\alpha$-Attention: Scaling to 100\% Sparsity with \emph{Learned} Routing"
    )
    assert record.abstract == "We route tokens sparsely. The model scales to long inputs."
    assert record.authors == ["Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"]
    assert record.primary_category == "cs.LG"
    assert record.categories == ["cs.LG", "cs.CL"]
    assert record.published == datetime(2024, 1, 2, 18, 0, tzinfo=UTC)
    assert record.updated == datetime(2024, 2, 3, 10, 30, tzinfo=UTC)
    assert (record.doi, record.journal_ref, record.comment) == (
        "10.1000/xyz123",
        "NeurIPS 2024",
        "12 pages, 4 figures",
    )
    assert record.is_complete


def test_feed_with_namespaces_declared_on_the_root_parses_the_same() -> None:
    body = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/x</id><title>q</title><updated>2025-01-01T00:00:00Z</updated>
  <opensearch:itemsPerPage>10</opensearch:itemsPerPage>
  <opensearch:totalResults>25</opensearch:totalResults>
  <opensearch:startIndex>10</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/math/0309136v1</id>
    <title>Knots
      and Things</title>
    <updated>2003-09-08T20:39:26Z</updated><published>2003-09-08T20:39:26Z</published>
    <summary>About knots.</summary>
    <author><name>A. Author</name><arxiv:affiliation>Somewhere</arxiv:affiliation></author>
    <arxiv:primary_category term="math.GT"/>
    <category term="math.GT"/>
  </entry>
</feed>"""
    page = parse_feed(body)
    assert (page.total_results, page.start_index, page.items_per_page) == (25, 10, 10)
    assert not page.complete
    (record,) = page.records
    assert (record.arxiv_id, record.version, record.title) == (
        "math/0309136",
        1,
        "Knots and Things",
    )
    assert record.authors == ["A. Author"]
    assert record.doi is None and record.comment is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<feed><unclosed></feed>", "malformed feed"),
        ("<html><body>Service temporarily unavailable</body></html>", "not an Atom feed"),
        ("", "malformed feed"),
        (
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>no counts</title></feed>',
            "malformed feed: no opensearch:totalResults",
        ),
    ],
    ids=["broken-xml", "html", "empty", "no-total"],
)
def test_unreadable_answers_raise_arxiv_error(
    client: ArxivClient, local_server: LocalServer, body: str, message: str
) -> None:
    local_server.queue(PATH, Reply(200, body, content_type=ATOM_TYPE))
    with pytest.raises(ArxivError, match=message):
        client.search('ti:"graphs"')
    assert client.requests_made == 1


def test_a_paper_titled_error_is_not_an_error_feed(client: ArxivClient) -> None:
    (record,) = client.search('ti:"error"').records
    assert (record.arxiv_id, record.title, record.version) == ("2402.00001", "Error", 3)


def test_an_unparsable_query_is_an_arxiv_error_and_not_retried(
    client: ArxivClient, fake: FakeArxiv
) -> None:
    with pytest.raises(ArxivError, match="Invalid query string") as caught:
        client.search('ti:"unbalanced')
    assert caught.value.status == 400
    assert len(fake.requests) == 1


def test_a_zero_hit_first_page_is_asked_for_once_more(
    client: ArxivClient, fake: FakeArxiv, local_server: LocalServer
) -> None:
    local_server.queue(PATH, Reply(200, empty_feed(), content_type=ATOM_TYPE))
    page = client.search('ti:"a third paper about graphs"')
    assert [r.arxiv_id for r in page.records] == ["2403.05678"]
    assert client.empty_retries == 1 and len(fake.requests) == 2


def test_a_real_zero_hit_is_believed_after_one_retry(client: ArxivClient, fake: FakeArxiv) -> None:
    page = client.search('ti:"nothing like this exists"')
    assert page.records == [] and page.total_results == 0
    assert client.empty_retries == 1 and len(fake.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        Reply(503, "busy", headers={"Retry-After": "1"}),
        Reply(429, "slow down"),
        Reply(200, "Rate exceeded."),
        Reply(200, render_feed([], 0), delay_s=1.0),  # slower than the 0.5 s timeout
    ],
    ids=["503-retry-after", "429", "rate-exceeded", "timeout"],
)
def test_throttling_and_timeouts_are_retried(
    client: ArxivClient, fake: FakeArxiv, local_server: LocalServer, failure: Reply
) -> None:
    local_server.queue(PATH, failure)
    page = client.search('ti:"strings on old identifiers"')
    assert [r.arxiv_id for r in page.records] == ["hep-th/9901001"]
    assert len(fake.requests) == 2 and client.empty_retries == 0
    if "Retry-After" in failure.headers:
        assert fake.requests[1].at - fake.requests[0].at >= 0.95


def test_persistent_failure_raises_request_failed(
    client: ArxivClient, local_server: LocalServer
) -> None:
    local_server.queue(PATH, *[Reply(503, "down") for _ in range(4)])
    with pytest.raises(RequestFailed, match="HTTP 503"):
        client.search('ti:"graphs"')


def test_fetch_never_sends_malformed_ids_and_matches_results_by_id(
    client: ArxivClient, fake: FakeArxiv
) -> None:
    result = client.fetch(
        [
            "2401.01234",
            "not-an-id",
            "2403.05678v1",
            "arXiv:hep-th/9901001",
            "2401.0123",
            "2412.99999",  # well formed, not held: silently left out by arXiv
            "2401.01234v2",  # same paper again
        ],
        batch_size=2,
    )
    assert result.invalid == ["not-an-id", "2401.0123"]
    assert result.missing == ["2412.99999"]
    assert result.failed == {}
    assert set(result.records) == {"2401.01234", "2403.05678", "hep-th/9901001"}
    assert result.records["2401.01234"].version == 2
    assert result.records["2403.05678"].version == 1
    assert result.records["hep-th/9901001"].title == "Strings on Old Identifiers"
    sent = [r.param("id_list") for r in fake.requests]
    assert sent == ["2401.01234,2403.05678v1", "hep-th/9901001,2412.99999"]
    assert all(r.param("max_results") == "2" for r in fake.requests)


def test_fetch_records_a_failed_batch_and_goes_on(
    client: ArxivClient, fake: FakeArxiv, local_server: LocalServer
) -> None:
    local_server.queue(PATH, Reply(400, "<html>bad</html>", content_type="text/html"))
    result = client.fetch(["2401.01234", "2402.00001", "2403.05678"], batch_size=2)
    assert set(result.failed) == {"2401.01234", "2402.00001"}
    assert "HTTP 400" in result.failed["2401.01234"]
    assert set(result.records) == {"2403.05678"}
    assert len(fake.requests) == 2


def test_requests_are_spaced_by_the_interval(fake: FakeArxiv) -> None:
    interval = 0.15
    with PoliteSession(user_agent="test", min_interval_s=interval) as session:
        client = ArxivClient(session, fake.url)
        for _ in range(3):
            client.search('ti:"graphs"')  # one hit
        client.search('ti:"no such title"')  # zero hits: asked twice
        client.fetch(["2401.01234", "2403.05678"], batch_size=1)
    times = [r.at for r in fake.requests]
    assert len(times) == 7
    # Arrival times at the server: allow a little jitter on loopback.
    assert min(b - a for a, b in itertools.pairwise(times)) >= interval - 0.015


def test_titles_are_cleaned_into_queries_the_parser_accepts(client: ArxivClient) -> None:
    title = 'A "Third" Paper: (About) [Graphs]?\\'
    cleaned = clean_title_for_query(title)
    assert '"' not in cleaned and "\\" not in cleaned and "(" not in cleaned
    query = title_phrase_query([cleaned, clean_title_for_query("Strings on Old Identifiers")])
    assert query.count('ti:"') == 2 and " OR " in query
    page = client.search(query, max_results=10)
    assert {r.arxiv_id for r in page.records} == {"2403.05678", "hep-th/9901001"}
    assert title_words_query(["third", "graphs"]) == "ti:third AND ti:graphs"
    with pytest.raises(ValueError):
        title_phrase_query(["", ""])


def test_max_results_is_bounded(client: ArxivClient) -> None:
    with pytest.raises(ValueError):
        client.search('ti:"graphs"', max_results=0)
    with pytest.raises(ValueError):
        client.search('ti:"graphs"', max_results=2001)
    assert client.requests_made == 0


def test_a_client_from_settings_is_paced_and_identified(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PAPERS_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
            "ARXIV_MIN_INTERVAL_S": "0.25",
            "PAPERS_OFFLINE": "1",
            "PAPERS_CONTACT": "ops@example.org",
        }
    )
    client = arxiv_client(settings)
    assert client.api_url == "http://127.0.0.1:9/api/query"
    assert client.session.min_interval_s == 0.25
    assert "ops@example.org" in client.session.user_agent
    with pytest.raises(OfflineError):
        client.search('ti:"graphs"')
    assert client.fetch(["2401.01234"]).failed["2401.01234"].startswith("PAPERS_OFFLINE")
    assert client.requests_made == 0
