"""Read saved Hugging Face paper listings (API JSON or a listing page) into a `ParsedDump`.

A listing page embeds the same items the JSON API serves, as JSON in the `data-props`
attribute of `<div data-target="DailyPapers">`. Its card markup changes often, so the
page is read through that JSON only, and both readers share one item mapping: a page
fetched by the pipeline, a page saved by hand and the API's JSON for the same day give
the same entries. When the page's structure changes, reading fails with an error that
names what was missing, so the file is quarantined with a reason instead of yielding
nothing quietly.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from bs4 import BeautifulSoup, SoupStrainer

from pipeline.arxiv.ids import parse_arxiv_id
from pipeline.dumps.entries import Entry, NotADump, ParsedDump, ReadLimits, Reject
from pipeline.text import collapse, excerpt

LAYOUT_JSON = "hf_api_json"
LAYOUT_HTML = "hf_html"
LAYOUT_PAPER_HTML = "hf_paper_html"

SNAPSHOT_STATED = "stated_by_source"
SNAPSHOT_FETCH = "fetch_metadata"
SNAPSHOT_LISTING_DAY = "latest_listing_day"
SNAPSHOT_UNKNOWN = "unknown_not_stated"

PROPS_TARGET = "DailyPapers"
_SNIFF_CHARS = 8192
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?![\d-])")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH = ReadLimits.max_json_depth


class HtmlStructureError(NotADump):
    """A Hugging Face page whose structure no longer holds the data where we read it."""


def normalize_arxiv_id(raw: object) -> str | None:
    """The arXiv ID in its preferred form (no version, no old-style subject class), or
    None when `raw` is not a well-formed ID: a wrong ID is worse than none downstream."""
    parsed = parse_arxiv_id(raw) if isinstance(raw, str) else None
    return parsed.id if parsed else None


def _text(value: object) -> str | None:
    """A string field with whitespace runs collapsed, as the page renders it (arXiv
    titles and abstracts carry hard line breaks), so entries compare with text dumps."""
    if not isinstance(value, str):
        return None
    return collapse(value) or None


def _url(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _count(value: object) -> int | None:
    """A non-negative integer as stated; JSON booleans and other types are not counts."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _iso_date(value: str) -> date | None:
    """The calendar date (UTC) of an ISO timestamp such as `2025-10-27T17:59:59.000Z`."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _day_of(value: object) -> date | None:
    return _iso_date(value) if isinstance(value, str) else None


def _first(*values: object) -> object:
    return next((v for v in values if v is not None), None)


def _authors(paper: Mapping[str, Any]) -> list[str] | None:
    """Author names in order, hidden ones included: the count must match the page's."""
    raw = paper.get("authors")
    if not isinstance(raw, list) or not raw:
        return None
    names = []
    for author in raw:
        name = author.get("name") if isinstance(author, Mapping) else author
        names.append(_text(name) or "")
    return names


def _claimed_authors(paper: Mapping[str, Any]) -> int | None:
    """Authors whose entry links a Hugging Face account (`user`): they claimed the paper."""
    raw = paper.get("authors")
    if not isinstance(raw, list) or not raw:
        return None
    return sum(1 for a in raw if isinstance(a, Mapping) and isinstance(a.get("user"), Mapping))


def _keywords(value: object) -> list[str] | None:
    if not isinstance(value, list):
        return None
    words = [word for word in map(_text, value) if word]
    return words or None


def _submitter(item: Mapping[str, Any], paper: Mapping[str, Any]) -> str | None:
    """The Hugging Face user who put the paper on the daily list (their handle)."""
    who = _first(paper.get("submittedOnDailyBy"), item.get("submittedBy"))
    if isinstance(who, Mapping):
        return _text(_first(who.get("user"), who.get("name"), who.get("fullname")))
    return _text(who)


def _organization(
    item: Mapping[str, Any], paper: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    org = _first(item.get("organization"), paper.get("organization"))
    if not isinstance(org, Mapping):
        return None, None
    handle = _text(org.get("name"))
    return handle, _text(org.get("fullname")) or handle


def _paper_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """Listing items wrap the paper in `paper`; `/api/papers/{id}` is the paper itself."""
    paper = item.get("paper")
    return paper if isinstance(paper, Mapping) else item


def _entry(position: int, item: object) -> tuple[Entry | None, Reject | None]:
    """One item mapped to an `Entry`, or a `Reject` saying why it cannot be one. Both when
    the entry loads but a stated value had to be dropped: the reject is then a note that
    says which, so the loss is visible in `raw.rejects`."""
    if not isinstance(item, Mapping):
        reason = f"item {position} is not a JSON object"
        return None, Reject(position, reason, excerpt(repr(item)))
    paper = _paper_of(item)
    title = _text(_first(paper.get("title"), item.get("title")))
    if title is None:
        reason = f"item {position}: missing title"
        return None, Reject(position, reason, excerpt(json.dumps(item, ensure_ascii=False)))
    authors = _authors(paper)
    handle, organization = _organization(item, paper)
    published = paper.get("publishedAt")
    published_text = published.strip() if isinstance(published, str) else None
    raw_id = paper.get("id")
    entry = Entry(
        position=position,
        title=title,
        abstract=_text(_first(paper.get("summary"), item.get("summary"))),
        authors_count=len(authors) if authors is not None else None,
        org_handle=handle,
        organization=organization,
        published_text=published_text,
        published_date=_iso_date(published_text) if published_text else None,
        comments=_count(_first(item.get("numComments"), paper.get("numComments"))),
        upvotes=_count(paper.get("upvotes")),
        arxiv_id=normalize_arxiv_id(raw_id),
        authors=authors,
        github_url=_url(_first(paper.get("githubRepo"), item.get("githubRepo"))),
        project_page=_url(_first(paper.get("projectPage"), item.get("projectPage"))),
        github_stars=_count(_first(paper.get("githubStars"), item.get("githubStars"))),
        listed_on=_day_of(paper.get("submittedOnDailyAt")),
        ai_summary=_text(paper.get("ai_summary")),
        ai_keywords=_keywords(paper.get("ai_keywords")),
        submitter=_submitter(item, paper),
        claimed_authors=_claimed_authors(paper),
    )
    if raw_id is not None and entry.arxiv_id is None:
        note = f"item {position}: invalid arXiv id in paper.id, left empty; entry kept"
        return entry, Reject(position, note, excerpt(str(raw_id)))
    return entry, None


def _is_props(obj: object) -> bool:
    return isinstance(obj, Mapping) and ("dailyPapers" in obj or "searchResults" in obj)


def _is_item(obj: object) -> bool:
    """A listing item (with `paper`) or a bare paper object (with `id` and `title`)."""
    if not isinstance(obj, Mapping):
        return False
    return isinstance(obj.get("paper"), Mapping) or ("id" in obj and "title" in obj)


def _props_items(props: Mapping[str, Any]) -> tuple[str, object]:
    """Which list a page shows: a search page (`query.q` with `searchResults`) shows its
    results; the daily list beside them is the unfiltered list, not what was searched."""
    query = props.get("query")
    searched = isinstance(query, Mapping) and bool(query.get("q"))
    if "searchResults" in props and (searched or "dailyPapers" not in props):
        return "searchResults", props["searchResults"]
    return "dailyPapers", props.get("dailyPapers")


def _items_of(data: object) -> tuple[list[object], str | None]:
    """The items of any accepted shape and the page's stated day string, if any."""
    if isinstance(data, list):
        return data, None
    if _is_props(data):
        key, items = _props_items(data)
        if not isinstance(items, list):
            raise NotADump(f"page data: '{key}' is not a list but {type(items).__name__}")
        # `dateString` on today's pages; `date` (an ISO timestamp) on 2024's.
        stated = _first(data.get("dateString"), data.get("date"))
        return items, stated if isinstance(stated, str) else None
    if _is_item(data):
        return [data], None
    if isinstance(data, Mapping):
        keys = ", ".join(sorted(map(str, data))[:12]) or "none"
        raise NotADump(
            "JSON object is not a Hugging Face papers list, paper or page data "
            f"(no 'dailyPapers', 'searchResults', 'paper' or 'id'+'title'; keys: {keys})"
        )
    raise NotADump(f"JSON is a {type(data).__name__}, not a Hugging Face papers list or object")


def _snapshot(
    stated: str | None, hint: date | None, entries: list[Entry]
) -> tuple[date | None, str]:
    """The page's own day (`dateString`, or 2024's `date`) wins when it names one (a week
    page's `2025-W43` or a month's `2025-10` does not); else what the fetch recorded;
    else the latest day its items were put on the daily list (`submittedOnDailyAt`: a
    hand-saved list was seen no earlier); else unknown."""
    day = _DAY.match(stated.strip()) if stated else None
    if day:
        try:
            return date.fromisoformat(day.group()), SNAPSHOT_STATED
        except ValueError:
            pass
    if hint is not None:
        return hint, SNAPSHOT_FETCH
    listed = [e.listed_on for e in entries if e.listed_on is not None]
    if listed:
        return max(listed), SNAPSHOT_LISTING_DAY
    return None, SNAPSHOT_UNKNOWN


def _parse(data: object, layout: str, snapshot_hint: date | None) -> ParsedDump:
    items, stated = _items_of(data)
    dump = ParsedDump(layout=layout)
    for position, item in enumerate(items, start=1):
        entry, reject = _entry(position, item)
        if entry is not None:
            dump.entries.append(entry)
        if reject is not None:
            dump.rejects.append(reject)
    dump.snapshot_date, dump.snapshot_date_source = _snapshot(stated, snapshot_hint, dump.entries)
    return dump


def _check_depth(text: str, max_depth: int) -> None:
    """Refuses JSON nested deeper than `max_depth` before parsing it: Python's parser
    recurses once per level and dies with `RecursionError` on a file of `[` x 100,000."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > max_depth:
            raise NotADump(f"JSON nested more than {max_depth} levels deep (PAPERS_MAX_JSON_DEPTH)")


def load_json(text: str, max_depth: int = _DEPTH) -> object:
    """`json.loads` with a depth limit; raises `NotADump` saying why it cannot be read."""
    _check_depth(text, max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise NotADump(f"not valid JSON: {exc.msg} at {where}") from exc


def read_hf_json(
    text: str, snapshot_hint: date | None = None, max_depth: int = _DEPTH
) -> ParsedDump:
    """Entries of `/api/daily_papers` or `/api/papers/search` output (a list), one
    `/api/papers/{id}` object, or a page's `data-props` object. `snapshot_hint` is the
    day the fetch was for, used only when the JSON does not state its day."""
    return _parse(load_json(text, max_depth), LAYOUT_JSON, snapshot_hint)


def _paper_page_props(text: str, max_depth: int) -> dict[str, Any] | None:
    """A single paper page's component props: the first `data-props` holding a `paper`
    object (the page embeds it in a component of its own, not DailyPapers)."""
    only = SoupStrainer(attrs={"data-props": True})
    for element in BeautifulSoup(text, "lxml", parse_only=only).find_all(
        attrs={"data-props": True}
    ):
        raw = element.get("data-props")
        if not isinstance(raw, str) or '"paper"' not in raw:
            continue
        with contextlib.suppress(NotADump):
            props = load_json(raw, max_depth)
            if isinstance(props, dict) and isinstance(props.get("paper"), Mapping):
                return props
    return None


def _page_props(text: str, max_depth: int) -> dict[str, Any]:
    """The `data-props` JSON of the DailyPapers element; raises naming what is missing."""
    only = SoupStrainer("div", attrs={"data-target": PROPS_TARGET})
    element = BeautifulSoup(text, "lxml", parse_only=only).find(
        "div", attrs={"data-target": PROPS_TARGET}
    )
    if element is None:
        raise HtmlStructureError(
            f'no <div data-target="{PROPS_TARGET}"> element, nor a paper page\'s data-props '
            'with a "paper" object'
        )
    raw = element.get("data-props")
    if not isinstance(raw, str):
        raise HtmlStructureError(
            f'<div data-target="{PROPS_TARGET}"> element has no data-props attribute'
        )
    try:
        props = load_json(raw, max_depth)
    except NotADump as exc:
        raise HtmlStructureError(
            f'data-props of <div data-target="{PROPS_TARGET}"> cannot be read: {exc}'
        ) from exc
    if not isinstance(props, dict):
        raise HtmlStructureError(
            f'data-props of <div data-target="{PROPS_TARGET}"> is a {type(props).__name__}, '
            "not an object"
        )
    if not _is_props(props):
        raise HtmlStructureError(
            f'data-props of <div data-target="{PROPS_TARGET}"> has no "dailyPapers" '
            'or "searchResults" list'
        )
    return props


def read_hf_html(
    text: str, snapshot_hint: date | None = None, max_depth: int = _DEPTH
) -> ParsedDump:
    """Entries of a saved listing page (daily, week, month or search), or the one entry
    of a paper's own page (`/papers/<arXiv id>`), read from the JSON the page embeds;
    raises `HtmlStructureError` naming what was missing."""
    try:
        props = _page_props(text, max_depth)
    except HtmlStructureError:
        paper = _paper_page_props(text, max_depth)
        if paper is None:
            raise
        return _parse(paper, LAYOUT_PAPER_HTML, snapshot_hint)
    try:
        return _parse(props, LAYOUT_HTML, snapshot_hint)
    except HtmlStructureError:
        raise
    except NotADump as exc:
        raise HtmlStructureError(str(exc)) from exc


def _head(text: str) -> str:
    return text[:_SNIFF_CHARS].lstrip("\ufeff \t\r\n").lower()


def looks_like_hf_html(text: str) -> bool:
    """An HTML page from Hugging Face. Deliberately not requiring the DailyPapers element:
    a page whose structure changed must reach `read_hf_html` to be quarantined with why."""
    head = _head(text)
    if not (head.startswith(("<!doctype html", "<html")) or "<html" in head[:1024]):
        return False
    return "huggingface" in head or "hugging face" in head or PROPS_TARGET in text


def looks_like_json(text: str) -> bool:
    """Text that opens like a JSON list or object: read as JSON, and quarantined with a
    JSON reason when it is not Hugging Face's (a text dump never opens so)."""
    return _head(text)[:1] in ("[", "{")
