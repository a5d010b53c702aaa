"""Reading saved Hugging Face API JSON and listing pages into entries."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest

from pipeline.dumps.entries import NotADump, ReadLimits
from pipeline.dumps.hf_pages import (
    HtmlStructureError,
    looks_like_hf_html,
    looks_like_json,
    normalize_arxiv_id,
    read_hf_html,
    read_hf_json,
)
from pipeline.dumps.read import read_raw_file
from tests.fakes.huggingface import (
    DAY,
    api_bytes,
    daily_page_html,
    day_items,
    listing_page_html,
    other_day_items,
    paper_page_html,
    period_page_html,
    search_page_html,
)


def _api_text() -> str:
    return api_bytes(day_items()).decode()


def test_json_reader_maps_every_field() -> None:
    dump = read_hf_json(_api_text())
    assert dump.layout == "hf_api_json"
    assert [e.position for e in dump.entries] == [1, 2, 3, 4, 5]
    assert dump.rejects == []
    first, second, third, fourth = dump.entries[:4]

    assert first.title == 'Seeing & Saying: "Grounded" Video Captions at <1 s Latency'
    assert first.abstract == (
        "We present a streaming captioner that grounds each phrase in the frame it describes. "
        "Latency stays < 1 s on a single GPU & quality matches offline models."
    )
    assert first.arxiv_id == "2611.14207"
    # The hidden author counts: the page lists them too.
    assert first.authors == ["Mei Tanaka", "Jonas Weber", "Priya Raman"]
    assert first.authors_count == 3
    assert first.upvotes == 87
    assert first.comments == 4
    assert (first.org_handle, first.organization) == ("nvidia", "NVIDIA")
    assert first.published_text == "2026-11-18T17:59:52.000Z"
    assert first.published_date == date(2026, 11, 18)
    assert first.github_url == "https://github.com/NVlabs/SeeingSaying"
    assert first.project_page == "https://nvlabs.github.io/SeeingSaying/"

    # A hard line break in an arXiv title reads as the page renders it.
    assert second.title == "Scaling Laws for Sparse Mixture-of-Experts under a Fixed Memory Budget"
    assert (second.org_handle, second.organization) == (None, None)
    assert (second.github_url, second.project_page) == (None, None)
    assert second.comments == 0
    assert second.published_date == date(2026, 11, 17)

    assert third.authors == ["Zoë Müller", "李明"]
    assert third.organization == "ETH Zürich"
    assert (third.github_url, third.project_page) == (None, "https://zoe-bench.github.io")
    assert "(\u03c3 = 2.1)" in (third.abstract or "")

    assert (fourth.upvotes, fourth.comments, fourth.authors_count) == (0, 1, 1)


def test_what_hugging_face_knows_of_each_paper_is_kept() -> None:
    first, second, third = read_hf_json(_api_text()).entries[:3]
    assert first.listed_on == date(2026, 11, 20)  # submittedOnDailyAt, UTC
    assert first.ai_summary == 'A short machine-written summary of Seeing & Saying: "Grounded".'
    assert first.ai_keywords == ["benchmark", "large language models"]
    assert first.submitter == "akhaliq"  # the submitter's handle
    assert (first.claimed_authors, second.claimed_authors, third.claimed_authors) == (1, 0, 1)


def test_json_snapshot_date_comes_from_the_source_then_the_hint() -> None:
    # Nothing stated, no fetch: the latest day its items were put on the daily list.
    unstated = read_hf_json(_api_text())
    assert (unstated.snapshot_date, unstated.snapshot_date_source) == (DAY, "latest_listing_day")
    bare = day_items()
    for item in bare:
        del item["paper"]["submittedOnDailyAt"]
    unknown = read_hf_json(api_bytes(bare).decode())
    assert (unknown.snapshot_date, unknown.snapshot_date_source) == (None, "unknown_not_stated")
    assert unknown.entries[0].listed_on is None

    hinted = read_hf_json(_api_text(), snapshot_hint=DAY)
    assert (hinted.snapshot_date, hinted.snapshot_date_source) == (DAY, "fetch_metadata")

    props = {"periodType": "day", "dateString": "2026-11-20", "dailyPapers": day_items()}
    stated = read_hf_json(json.dumps(props), snapshot_hint=date(2026, 1, 1))
    assert (stated.snapshot_date, stated.snapshot_date_source) == (DAY, "stated_by_source")
    assert [e.title for e in stated.entries] == [e.title for e in unstated.entries]

    # A 2024 page states its day as `date`, a timestamp.
    old = {"date": "2024-08-01T00:00:00.000Z", "prevDate": "2024-07-31T00:00:00.000Z"}
    dated = read_hf_html(listing_page_html(old | {"dailyPapers": day_items()}, day_items()))
    assert (dated.snapshot_date, dated.snapshot_date_source) == (
        date(2024, 8, 1),
        "stated_by_source",
    )

    for not_a_day in ("yesterday", "2026-W47", "2026-11", "2026-11-31"):
        props["dateString"] = not_a_day
        broken = read_hf_json(json.dumps(props), snapshot_hint=date(2026, 1, 1))
        assert (broken.snapshot_date, broken.snapshot_date_source) == (
            date(2026, 1, 1),
            "fetch_metadata",
        ), not_a_day


def test_html_page_and_api_json_for_the_same_day_give_the_same_entries() -> None:
    page = read_hf_html(daily_page_html(DAY, day_items()))
    api = read_hf_json(_api_text(), snapshot_hint=DAY)
    assert page.layout == "hf_html"
    assert (page.snapshot_date, page.snapshot_date_source) == (DAY, "stated_by_source")
    assert len(page.entries) == len(api.entries) == 5
    for from_page, from_api in zip(page.entries, api.entries, strict=True):
        assert asdict(from_page) == asdict(from_api)
    # The escaped characters came back intact from the attribute.
    assert page.entries[0].title == 'Seeing & Saying: "Grounded" Video Captions at <1 s Latency'


def test_a_search_page_reads_its_results_not_the_daily_list_beside_them() -> None:
    results = other_day_items()
    page = read_hf_html(search_page_html(DAY, "retrieval heads", results, day_items()))
    assert [e.title for e in page.entries] == ["Retrieval Heads in Long-Context Transformers"]
    assert page.entries[0].arxiv_id == "2611.12001"
    assert page.snapshot_date == DAY


def test_a_single_paper_object_is_one_entry() -> None:
    paper = day_items()[0]["paper"]
    dump = read_hf_json(json.dumps({**paper, "models": [], "datasets": [], "spaces": []}))
    (entry,) = dump.entries
    assert (entry.position, entry.arxiv_id, entry.upvotes) == (1, "2611.14207", 87)
    assert entry.authors_count == 3
    assert entry.comments is None  # the paper object does not state it


def test_a_saved_paper_page_is_one_listing() -> None:
    item = day_items()[0]
    dump = read_raw_file(paper_page_html(item).encode())
    assert dump.layout == "hf_paper_html"
    (entry,) = dump.entries
    assert (entry.arxiv_id, entry.upvotes, entry.comments) == ("2611.14207", 87, 4)
    assert entry.authors == ["Mei Tanaka", "Jonas Weber", "Priya Raman"]
    assert entry.github_url == "https://github.com/NVlabs/SeeingSaying"
    assert (dump.snapshot_date, dump.snapshot_date_source) == (DAY, "latest_listing_day")
    hinted = read_raw_file(paper_page_html(item).encode(), snapshot_hint=date(2026, 11, 23))
    assert hinted.snapshot_date == date(2026, 11, 23)


def test_a_page_with_neither_a_list_nor_a_paper_names_both() -> None:
    page = paper_page_html(day_items()[0]).replace("&quot;paper&quot;", "&quot;article&quot;")
    with pytest.raises(HtmlStructureError, match=r"DailyPapers.*nor a paper page"):
        read_raw_file(page.encode())


@pytest.mark.parametrize(("period", "stated"), [("week", "2026-W47"), ("month", "2026-11")])
def test_week_and_month_pages_and_their_api_answers_are_read(period: str, stated: str) -> None:
    """A week's or month's list: every item read; the page names no single day, so the
    day is the fetch's, else the latest listing day."""
    items = day_items() + other_day_items()
    page = read_raw_file(period_page_html(period, stated, items).encode())
    api = read_raw_file(api_bytes(items))
    assert len(page.entries) == len(items) == len(api.entries)
    assert [asdict(e) for e in page.entries] == [asdict(e) for e in api.entries]
    assert (page.snapshot_date, page.snapshot_date_source) == (DAY, "latest_listing_day")
    fetched = read_raw_file(api_bytes(items), snapshot_hint=date(2026, 11, 24))
    assert (fetched.snapshot_date, fetched.snapshot_date_source) == (
        date(2026, 11, 24),
        "fetch_metadata",
    )


def test_an_item_without_title_is_rejected_and_the_others_load() -> None:
    items = day_items()[:3]
    del items[1]["title"]
    del items[1]["paper"]["title"]
    dump = read_hf_json(json.dumps(items))
    assert [e.position for e in dump.entries] == [1, 3]
    (reject,) = dump.rejects
    assert reject.position == 2
    assert "missing title" in reject.reason
    assert "2611.13880" in reject.excerpt


def test_an_item_that_is_not_an_object_is_rejected() -> None:
    dump = read_hf_json(json.dumps([day_items()[0], "oops"]))
    assert len(dump.entries) == 1
    assert dump.rejects[0].position == 2
    assert "not a JSON object" in dump.rejects[0].reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2611.14207", "2611.14207"),
        ("2611.14207v3", "2611.14207"),
        ("1312.6114", "1312.6114"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math/0309136"),
        ("2611.1420", None),  # four digits after 1412
        ("1312.61140", None),  # five digits before 1501
        ("2613.14207", None),  # month 13
        ("0612.1234", None),  # before new-style IDs began
        ("not-an-id", None),
        (2611.14207, None),
    ],
)
def test_arxiv_ids_are_validated(raw: object, expected: str | None) -> None:
    assert normalize_arxiv_id(raw) == expected


def test_an_invalid_arxiv_id_is_dropped_with_a_note_and_the_entry_kept() -> None:
    items = day_items()[:2]
    items[0]["paper"]["id"] = "26.11.14207"
    dump = read_hf_json(json.dumps(items))
    assert [e.arxiv_id for e in dump.entries] == [None, "2611.13880"]
    assert dump.entries[0].title.startswith("Seeing & Saying")
    (note,) = dump.rejects
    assert note.position == 1
    assert "invalid arXiv id" in note.reason
    assert note.excerpt == "26.11.14207"


def test_a_changed_page_structure_names_what_is_missing() -> None:
    changed = daily_page_html(DAY, day_items(), changed_structure=True)
    with pytest.raises(HtmlStructureError, match='no <div data-target="DailyPapers"> element'):
        read_hf_html(changed)

    no_attr = changed.replace(
        'data-target="PapersFeed" data-props=', 'data-target="DailyPapers" x='
    )
    with pytest.raises(HtmlStructureError, match="has no data-props attribute"):
        read_hf_html(no_attr)

    no_lists = listing_page_html({"periodType": "day", "papers": []}, [])
    with pytest.raises(HtmlStructureError, match='no "dailyPapers" or "searchResults"'):
        read_hf_html(no_lists)

    bad_json = daily_page_html(DAY, []).replace("dailyPapers&quot;:[]", "dailyPapers&quot;:[")
    with pytest.raises(HtmlStructureError, match="not valid JSON"):
        read_hf_html(bad_json)

    # A structure error is a whole-file reject for ingestion.
    assert issubclass(HtmlStructureError, NotADump)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"models": [], "likes": 3}', "not a Hugging Face papers list"),
        ("42", "not a Hugging Face papers list"),
        ('{"dailyPapers": {"a": 1}}', "'dailyPapers' is not a list"),
    ],
)
def test_json_that_is_not_a_listing_is_not_a_dump(text: str, reason: str) -> None:
    with pytest.raises(NotADump, match=reason):
        read_hf_json(text)


def test_sniffers_tell_hugging_face_files_from_others() -> None:
    page = daily_page_html(DAY, day_items())
    assert looks_like_hf_html(page)
    assert looks_like_hf_html(daily_page_html(DAY, [], changed_structure=True))
    assert not looks_like_hf_html("<!doctype html><html><head><title>Blog</title></head></html>")
    assert not looks_like_hf_html("Daily Papers\n\nMay 15\n\nA title about huggingface\n")

    # Anything that opens like JSON is read as JSON, so that JSON which is not Hugging
    # Face's is refused with a JSON reason rather than the text dumps' one.
    assert looks_like_json(_api_text())
    assert looks_like_json("[]")
    assert looks_like_json(json.dumps({"dateString": "2026-11-20", "dailyPapers": []}))
    assert looks_like_json(json.dumps(day_items()[0]["paper"]))
    assert looks_like_json('{"models": []}')
    assert looks_like_json("[{not json")
    assert not looks_like_json(page)
    assert not looks_like_json("Daily Papers\n[1] a title\n")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"models": []}', "JSON object is not a Hugging Face papers list"),
        ("[{not json", "not valid JSON"),
        ("[" * 100_000, "nested more than 5 levels deep"),
        ('{"a": "[[[[[["}', "JSON object is not a Hugging Face"),  # brackets in strings
    ],
)
def test_json_files_that_are_not_hugging_face_say_why_in_json_terms(text: str, reason: str) -> None:
    with pytest.raises(NotADump, match=reason):
        read_raw_file(text.encode(), limits=ReadLimits(max_json_depth=5))
