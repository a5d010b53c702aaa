"""Fetching Hugging Face listings from a fake Hugging Face, and landing them raw."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from pipeline.dumps.hf_pages import read_hf_html, read_hf_json
from pipeline.http_session import OfflineError, PoliteSession, RequestFailed
from pipeline.huggingface.api import FetchedBody, HfClient, HfFetchError
from pipeline.landing import read_sidecar, save_fetched, snapshot_hint
from tests.fakes.huggingface import (
    DAY,
    OTHER_DAY,
    FakeHuggingFace,
    api_bytes,
    day_items,
    generated_items,
)
from tests.fakes.local_server import LocalServer, Reply, quick_session

START = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def _clock() -> Iterator[datetime]:
    """Fetch times one second apart, so names with timestamps are predictable."""
    return (START + timedelta(seconds=n) for n in count())


def _session(**overrides: object) -> PoliteSession:
    # The timeout leaves room for a loaded CI machine: only the `timeout` case below is
    # meant to run into it.
    quick = {"min_interval_s": 0.02, "timeout_s": 1.0, "max_retries": 2}
    return quick_session(**(quick | overrides))


@pytest.fixture
def fake(local_server: LocalServer) -> FakeHuggingFace:
    return FakeHuggingFace(local_server)


@pytest.fixture
def client(fake: FakeHuggingFace) -> Iterator[HfClient]:
    with _session() as session:
        yield HfClient(session, fake.url + "/", page_size=2, now=_clock().__next__)


def _day_titles() -> list[str]:
    """The titles of `DAY` as read: whitespace collapsed, as the page renders them."""
    return [" ".join(item["title"].split()) for item in day_items()]


def _entries(bodies: list[FetchedBody]) -> list[str]:
    return [e.title for b in bodies for e in read_hf_json(b.body.decode()).entries]


def test_a_day_is_fetched_page_by_page_and_kept_unchanged(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    bodies = client.daily_papers(DAY)
    assert [b.page for b in bodies] == [0, 1, 2]
    requests = fake.server.requests_to("/api/daily_papers")
    assert [(r.param("date"), r.param("limit"), r.param("p")) for r in requests] == [
        ("2026-11-20", "2", "0"),
        ("2026-11-20", "2", "1"),
        ("2026-11-20", "2", "2"),
    ]  # the third page is short: no fourth request
    for page, body in enumerate(bodies):
        assert body.body == api_bytes(fake.page_items(DAY, page, 2))
        assert body.url.endswith(f"/api/daily_papers?date=2026-11-20&limit=2&p={page}")
        assert body.content_type.startswith("application/json")
        assert (body.kind, body.day, body.query) == ("daily", DAY, None)
        assert body.fetched_at.tzinfo is not None
    assert _entries(bodies) == _day_titles()


def test_paging_stops_at_an_empty_page(fake: FakeHuggingFace, client: HfClient) -> None:
    fake.set_day(DAY, day_items()[:4])
    bodies = client.daily_papers(DAY)
    assert len(bodies) == 2
    assert [r.param("p") for r in fake.server.requests_to("/api/daily_papers")] == ["0", "1", "2"]


def test_a_day_without_papers_gives_no_body(fake: FakeHuggingFace, client: HfClient) -> None:
    assert client.daily_papers(date(2026, 11, 22)) == []
    assert len(fake.server.requests_to("/api/daily_papers")) == 1
    assert fake.server.requests == fake.server.requests_to("/api/daily_papers")


def test_a_long_day_pages_by_one_hundred(fake: FakeHuggingFace) -> None:
    fake.set_day(DAY, generated_items(DAY, 130))
    with _session() as session:
        bodies = HfClient(session, fake.url).daily_papers(DAY)
    assert [r.param("limit") for r in fake.server.requests_to("/api/daily_papers")] == ["100"] * 2
    assert [len(json.loads(b.body)) for b in bodies] == [100, 30]
    assert len(set(_entries(bodies))) == 130


def test_a_server_ignoring_the_page_number_is_an_error(local_server: LocalServer) -> None:
    local_server.route("/api/daily_papers", lambda _r: Reply(200, api_bytes(day_items()[:2])))
    local_server.route("/papers/date/2026-11-20", lambda _r: Reply(404, "not found"))
    with _session() as session, pytest.raises(HfFetchError, match="`p` is ignored"):
        HfClient(session, local_server.url, page_size=2).daily_papers(DAY)


def test_a_search_is_fetched_with_the_query_cut_to_250_characters(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    query = "clarification web tasks " + "x" * 300
    body = client.search(query, limit=500)
    (request,) = fake.server.requests_to("/api/papers/search")
    assert request.param("q") == query[:250]
    assert request.param("limit") == "120"
    assert (body.kind, body.day, body.query) == ("search", None, query[:250])

    short = client.search("clarification web tasks")
    assert [e.title for e in read_hf_json(short.body.decode()).entries] == [
        "Agents That Ask: Clarification Policies for Web Tasks"
    ]


def test_a_refused_search_is_a_clear_error(fake: FakeHuggingFace, client: HfClient) -> None:
    fake.server.queue("/api/papers/search", Reply(400, '{"error": "bad q"}'))
    with pytest.raises(HfFetchError, match=r"HTTP 400.*bad q"):
        client.search("agents")
    with pytest.raises(ValueError, match="empty"):
        client.search("   ")


def test_a_search_failing_after_retries_raises_request_failed(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    fake.server.queue("/api/papers/search", *[Reply(503, "down")] * 3)
    with pytest.raises(RequestFailed, match="HTTP 503"):
        client.search("agents")
    assert len(fake.server.requests_to("/api/papers/search")) == 3


def test_an_api_400_falls_back_to_the_html_page(fake: FakeHuggingFace, client: HfClient) -> None:
    fake.api_unavailable.add(DAY)
    (body,) = client.daily_papers(DAY)
    assert body.url.endswith("/papers/date/2026-11-20")
    assert body.content_type.startswith("text/html")
    assert (body.kind, body.day, body.page) == ("daily", DAY, None)
    page = read_hf_html(body.body.decode(), snapshot_hint=DAY)
    api = read_hf_json(api_bytes(day_items()).decode(), snapshot_hint=DAY)
    assert page.entries == api.entries


def test_an_api_failure_mid_day_takes_the_whole_day_from_the_page(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    fake.server.queue("/api/daily_papers", Reply(200, api_bytes(day_items()[:2])), Reply(404, ""))
    bodies = client.daily_papers(DAY)
    assert [b.page for b in bodies] == [None]  # no API page mixed in
    assert len(read_hf_html(bodies[0].body.decode()).entries) == 5


def test_a_redirect_to_another_day_means_no_list_for_that_day(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    saturday = date(2026, 11, 21)
    fake.api_unavailable.add(saturday)
    fake.redirect(saturday, DAY)
    assert client.daily_papers(saturday) == []
    assert fake.server.requests_to("/papers/date/2026-11-20")  # the redirect was real


def test_a_page_stating_another_day_means_no_list_for_that_day(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    fake.api_unavailable.add(OTHER_DAY)
    fake.server.route("/papers/date/2026-11-19", lambda _r: fake._page(DAY))
    assert client.daily_papers(OTHER_DAY) == []


def test_a_changed_page_on_fallback_fails_naming_what_is_missing(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    fake.api_unavailable.add(DAY)
    fake.changed_structure = True
    with pytest.raises(HfFetchError) as error:
        client.daily_papers(DAY)
    message = str(error.value)
    assert "HTTP 400" in message
    assert 'no <div data-target="DailyPapers"> element' in message


def test_a_future_day_with_no_page_is_an_error_naming_both_failures(
    fake: FakeHuggingFace, client: HfClient
) -> None:
    with pytest.raises(HfFetchError, match=r"API failed .*HTTP 400.*HTML page failed .*HTTP 404"):
        client.daily_papers(date(2026, 12, 1))


@pytest.mark.parametrize(
    ("failure", "least_gap_s"),
    [
        (Reply(429, "", headers={"RateLimit": '"api";r=0;t=1', "RateLimit-Policy": "x"}), 0.95),
        (Reply(503, "busy", headers={"Retry-After": "1"}), 0.95),
        (Reply(200, "[]", delay_s=1.6), 0.95),
    ],
    ids=["429-ratelimit-t", "503-retry-after", "timeout"],
)
def test_throttling_and_timeouts_are_retried(
    fake: FakeHuggingFace, client: HfClient, failure: Reply, least_gap_s: float
) -> None:
    fake.server.queue("/api/daily_papers", failure)
    bodies = client.daily_papers(DAY)
    assert _entries(bodies) == _day_titles()
    first, second = fake.server.requests_to("/api/daily_papers")[:2]
    assert first.param("p") == second.param("p") == "0"
    assert second.at - first.at >= least_gap_s
    assert client.session.retries == 1
    assert not fake.server.requests_to("/papers/date/2026-11-20")


def test_offline_makes_no_request(fake: FakeHuggingFace) -> None:
    with _session(offline=True) as session:
        client = HfClient(session, fake.url)
        with pytest.raises(OfflineError):
            client.daily_papers(DAY)
        with pytest.raises(OfflineError):
            client.search("agents")
    assert fake.server.requests == []
    assert session.requests_made == 0


# Landing: raw first.


def _landed(landing: Path) -> list[str]:
    return sorted(p.name for p in landing.iterdir())


def test_fetched_pages_are_saved_unchanged_with_sidecars(client: HfClient, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    bodies = client.daily_papers(DAY)
    paths = [save_fetched(b, landing) for b in bodies]
    assert [p.name for p in paths] == [f"hf_daily_2026-11-20_p{n}.json" for n in range(3)]
    assert _landed(landing) == sorted(
        [p.name for p in paths] + [p.name + ".fetch.json" for p in paths]
    )  # no temp files left behind
    for path, body in zip(paths, bodies, strict=True):
        assert path.read_bytes() == body.body
        sidecar = json.loads((landing / (path.name + ".fetch.json")).read_text())
        assert sidecar == read_sidecar(path)
        assert sidecar["url"] == body.url
        assert (sidecar["kind"], sidecar["day"], sidecar["query"]) == ("daily", "2026-11-20", None)
        assert sidecar["sha256"] == hashlib.sha256(body.body).hexdigest()
        assert sidecar["content_type"] == body.content_type
        assert datetime.fromisoformat(sidecar["fetched_at"]) == body.fetched_at
        assert snapshot_hint(sidecar) == DAY


def test_refetching_an_unchanged_day_adds_no_file(client: HfClient, tmp_path: Path) -> None:
    first = client.daily_papers(DAY)
    paths = [save_fetched(b, tmp_path) for b in first]
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = client.daily_papers(DAY)
    assert [b.body for b in again] == [b.body for b in first]
    assert again[0].fetched_at > first[0].fetched_at
    assert [save_fetched(b, tmp_path) for b in again] == paths
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_a_changed_day_lands_beside_the_old_file(
    fake: FakeHuggingFace, client: HfClient, tmp_path: Path
) -> None:
    old = save_fetched(client.daily_papers(OTHER_DAY)[0], tmp_path)
    old_bytes = old.read_bytes()
    items = fake.days[OTHER_DAY]
    items[0]["paper"]["upvotes"] += 1
    new_body = client.daily_papers(OTHER_DAY)[0]
    new = save_fetched(new_body, tmp_path)
    assert new != old
    assert new.name == f"hf_daily_2026-11-19_p0_{new_body.fetched_at:%Y%m%dT%H%M%SZ}.json"
    assert old.read_bytes() == old_bytes
    assert new.read_bytes() == new_body.body
    assert read_sidecar(new)["sha256"] == hashlib.sha256(new_body.body).hexdigest()  # type: ignore[index]
    # Both versions were fetched again later: nothing new.
    assert save_fetched(new_body, tmp_path) == new
    assert len(_landed(tmp_path)) == 4


def test_searches_and_pages_get_descriptive_distinct_names(
    fake: FakeHuggingFace, client: HfClient, tmp_path: Path
) -> None:
    plus = save_fetched(client.search("C++"), tmp_path)
    plain = save_fetched(client.search("C"), tmp_path)
    assert plus.name.startswith("hf_search_c-") and plus.name.endswith("Z.json")
    assert plain.name.startswith("hf_search_c-") and plain != plus
    assert read_sidecar(plus)["query"] == "C++"  # type: ignore[index]
    assert snapshot_hint(read_sidecar(plus)) == START.date()

    fake.api_unavailable.add(DAY)
    page = save_fetched(client.daily_papers(DAY)[0], tmp_path)
    assert page.name == "hf_daily_2026-11-20.html"
    assert read_hf_html(page.read_text(encoding="utf-8")).snapshot_date == DAY


def test_a_sidecar_that_does_not_describe_the_file_is_ignored(
    client: HfClient, tmp_path: Path
) -> None:
    path = save_fetched(client.daily_papers(OTHER_DAY)[0], tmp_path)
    assert read_sidecar(path) is not None
    path.write_bytes(b"[]")
    assert read_sidecar(path) is None
    assert read_sidecar(tmp_path / "hand_saved.html") is None
