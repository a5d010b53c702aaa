"""What Hugging Face knows about papers that came from elsewhere: papers a text capture
listed with their arXiv IDs are looked up with `GET /api/papers/<id>` on a fake Hugging
Face over loopback, raw first, and the next ingestion gives them Hugging Face's facts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.huggingface.lookups import OFFLINE_CAUSE, LookupReport
from pipeline.landing import read_sidecar
from pipeline.settings import Settings
from tests.builders import TempWarehouse
from tests.fakes.huggingface import FakeHuggingFace, api_bytes
from tests.fakes.local_server import LocalServer, Reply

FOUND, ABSENT, THROTTLED, LISTED = "2611.31001", "2611.31002", "2611.31003", "2611.31004"

# A crawler's capture of a listing page (our own writing): three papers whose arXiv IDs
# come from the reference list, none of them in a Hugging Face JSON file.
CAPTURE = f"""\
Daily Papers

Nov 24

### [Quiet Gradients: Training Without Loud Updates][32]

[
* 3 authors
][34]

[87][36]

We train networks whose updates stay small, and show that quiet gradients
generalize better on every benchmark we tried.

### [A Benchmark of Small Things][40]

[
* 1 author
][41]

[-][42]

### [Maps Without Borders][44]

[
* 12 authors
][45]

[5][46]

References

32. https://huggingface.co/papers/{FOUND}
34. https://huggingface.co/papers/{FOUND}#authors
36. https://huggingface.co/login
40. https://huggingface.co/papers/{ABSENT}
41. https://huggingface.co/papers/{ABSENT}#authors
42. https://huggingface.co/login
44. https://huggingface.co/papers/{THROTTLED}
45. https://huggingface.co/papers/{THROTTLED}#authors
46. https://huggingface.co/login
"""


def _paper(arxiv_id: str, title: str, **extra: object) -> dict[str, object]:
    """A paper object as `/api/papers/<id>` serves it (the fake adds models and the like)."""
    return {
        "id": arxiv_id,
        "authors": [{"_id": "6920c1f3a8b4e5d000000001", "name": "Ines Duarte", "hidden": False}],
        "publishedAt": "2026-11-21T10:00:00.000Z",
        "title": title,
        "summary": "We train networks whose updates stay small, and show that quiet "
        "gradients generalize better on every benchmark we tried.",
        "upvotes": 91,
        "discussionId": f"6921{arxiv_id.replace('.', '')}a1b2",
        **extra,
    }


QUIET = _paper(
    FOUND,
    "Quiet Gradients: Training Without Loud Updates",
    githubRepo="https://github.com/quiet-lab/quiet-gradients",
    projectPage="https://quiet-lab.github.io",
    ai_summary="Small updates generalize better.",
    ai_keywords=["optimization", "generalization"],
)
MAPS = _paper(THROTTLED, "Maps Without Borders")


@pytest.fixture
def fake(local_server: LocalServer) -> FakeHuggingFace:
    hf = FakeHuggingFace(local_server)
    hf.papers = {FOUND: QUIET, THROTTLED: MAPS}
    return hf


@pytest.fixture
def warehouse(tmp_path: Path) -> TempWarehouse:
    """The capture and a Hugging Face API file (whose paper needs no lookup), loaded."""
    temp = TempWarehouse(tmp_path)
    temp.land("capture.txt", CAPTURE)
    listed = [{"paper": _paper(LISTED, "Listed Papers Need No Lookup"), "numComments": 0}]
    temp.land("hf_daily.json", api_bytes(listed).decode())
    temp.refresh()
    return temp


def _online(temp: TempWarehouse, fake: FakeHuggingFace, **env: str) -> Settings:
    settings = {k: v for k, v in temp.env.items() if k != "PAPERS_OFFLINE"}
    return Settings.from_env(
        settings
        | {"HF_BASE_URL": fake.url, "HF_MIN_INTERVAL_S": "0.01", "PAPERS_HTTP_MAX_RETRIES": "2"}
        | env
    )


def _lookups(temp: TempWarehouse) -> dict[str, tuple[object, ...]]:
    rows = temp.rows("SELECT arxiv_id, status, file_name, error FROM core.hf_lookups")
    return {row[0]: row[1:] for row in rows}


def _asked(server: LocalServer) -> list[str]:
    return [
        r.path.removeprefix("/api/papers/") for r in server.requests if "/api/papers/" in r.path
    ]


@pytest.fixture
def throttled_once(fake: FakeHuggingFace) -> Iterator[None]:
    """Hugging Face's 429, with the seconds to the window's reset in `RateLimit`."""
    limited = Reply(
        429,
        json.dumps({"error": "rate limited"}),
        headers={
            "RateLimit": '"api";r=0;t=1',
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
        },
    )
    fake.server.queue(f"/api/papers/{THROTTLED}", limited)
    yield


def test_found_404_and_429_then_found_raw_first(
    warehouse: TempWarehouse, fake: FakeHuggingFace, throttled_once: None
) -> None:
    report = steps.look_up_on_hf(_online(warehouse, fake))
    assert report.answers == {"found": 2, "not_on_hf": 1}
    assert sorted(_asked(fake.server)) == [FOUND, ABSENT, THROTTLED, THROTTLED]  # 429, then 200
    retried = fake.server.requests_to(f"/api/papers/{THROTTLED}")
    assert retried[1].at - retried[0].at >= 1.0  # waited for the window's reset (t=1)
    assert LISTED not in _asked(fake.server)  # a Hugging Face file listed it already
    lookups = _lookups(warehouse)
    assert lookups[ABSENT] == ("not_on_hf", None, None)
    assert lookups[FOUND] == ("found", f"hf_paper_{FOUND}.json", None)
    # Raw first: the body as served, with its fetch record, in the landing folder.
    landed = warehouse.root / "landing" / f"hf_paper_{FOUND}.json"
    assert json.loads(landed.read_bytes())["githubRepo"] == QUIET["githubRepo"]
    sidecar = read_sidecar(landed, None) or {}
    assert (sidecar["kind"], sidecar["arxiv_id"]) == ("paper", FOUND)
    assert sidecar["url"].endswith(f"/api/papers/{FOUND}")


def test_the_next_ingestion_gives_the_paper_what_hugging_face_knows(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    steps.look_up_on_hf(_online(warehouse, fake))
    paper_id = warehouse.paper_of("capture.txt", 1)
    assert warehouse.paper(paper_id)["ai_summary"] is None
    warehouse.refresh()
    assert warehouse.paper_of(f"hf_paper_{FOUND}.json", 1) == paper_id  # the same paper
    paper = warehouse.paper(paper_id)
    assert (paper["ai_summary"], paper["ai_keywords"]) == (
        QUIET["ai_summary"],
        QUIET["ai_keywords"],
    )
    assert paper["listing_count"] == 2
    links = warehouse.rows(
        "SELECT repo, source, role FROM core.paper_repos WHERE paper_id = ?",
        [paper_id],
    )
    assert links == [("quiet-lab/quiet-gradients", "huggingface", "official")]


def test_a_rerun_makes_no_request_until_the_recheck_window_ends(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    settings = _online(warehouse, fake)
    steps.look_up_on_hf(settings)
    warehouse.refresh()  # the found papers now have their Hugging Face listing
    asked = len(fake.server.requests)
    again = steps.look_up_on_hf(settings)
    assert (again.due, again.requests, len(fake.server.requests)) == (0, 0, asked)
    assert again.counts == {"found": 2, "not_on_hf": 1}
    later = steps.look_up_on_hf(_online(warehouse, fake, HF_RECHECK_DAYS="0"))
    assert (later.due, later.requests) == (1, 1)  # only the 404 is asked again
    assert _asked(fake.server)[-1] == ABSENT


def test_offline_asks_nothing_and_leaves_the_papers_pending_with_the_cause(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    report: LookupReport = steps.look_up_on_hf(warehouse.settings)  # PAPERS_OFFLINE=1
    assert (report.offline, report.due, report.requests) == (True, 3, 0)
    assert fake.server.requests == []
    assert {v for v in _lookups(warehouse).values()} == {("pending", None, OFFLINE_CAUSE)}
    online = steps.look_up_on_hf(_online(warehouse, fake))
    assert online.due == 3  # the cause is cleared when they are asked
    assert all(error is None for *_, error in _lookups(warehouse).values())


def test_throttling_longer_than_a_run_should_wait_stops_asking(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    long_wait = Reply(429, "{}", headers={"RateLimit": '"api";r=0;t=280'})
    for arxiv_id in (FOUND, ABSENT, THROTTLED):
        fake.server.queue(f"/api/papers/{arxiv_id}", long_wait)
    report = steps.look_up_on_hf(_online(warehouse, fake))
    assert report.stopped is not None and "280" in report.stopped
    assert report.requests == 1  # one answer said it: the others were not asked
    lookups = _lookups(warehouse)
    assert {status for status, _, _ in lookups.values()} == {"pending"}
    assert all("not asked" in str(error) for *_, error in lookups.values())


def test_an_unreachable_hugging_face_costs_seconds(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    fake.server.stop()
    report = steps.look_up_on_hf(_online(warehouse, fake))
    assert report.stopped is not None and "refuses connections" in report.stopped
    assert report.answers == {}
    assert {status for status, _, _ in _lookups(warehouse).values()} == {"pending"}


def test_papers_seen_later_on_hugging_face_are_not_asked_again(
    warehouse: TempWarehouse, fake: FakeHuggingFace
) -> None:
    """A daily list that arrives after the offline run lists the paper itself."""
    steps.look_up_on_hf(warehouse.settings)
    daily = [{"paper": MAPS, "numComments": 1}]
    warehouse.land("hf_daily_later.json", api_bytes(daily).decode())
    warehouse.refresh()
    steps.look_up_on_hf(_online(warehouse, fake))
    assert THROTTLED not in _asked(fake.server)
    assert sorted(_asked(fake.server)) == [FOUND, ABSENT]
