"""A client for arXiv's query API: title searches and ID look-ups, read from Atom.

Throttling, retries and spacing live in `PoliteSession`; this module adds what is
specific to arXiv: errors that arrive as Atom feeds, zero-hit pages that are not to be
believed at once, and `id_list` requests that one malformed ID would sink.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from pipeline.arxiv.ids import ArxivId, format_arxiv_id, parse_arxiv_id
from pipeline.http_session import OfflineError, PoliteSession, RequestFailed
from pipeline.text import collapse

ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV_NS = "http://arxiv.org/schemas/atom"
NS = {"atom": ATOM_NS, "opensearch": OPENSEARCH_NS, "arxiv": ARXIV_NS}

MAX_RESULTS_PER_CALL = 2000
ID_BATCH_SIZE = 100

# Failures a caller should record against the items it asked about, then carry on.
REQUEST_ERRORS: tuple[type[Exception], ...] = (RequestFailed, OfflineError)

# Removed from a title before quoting: `"` and `\` end or escape the phrase, and the
# query parser treats the others as syntax. Phrase search ignores punctuation anyway.
_QUERY_SYNTAX = re.compile(r"[\"\\()\[\]{}:^~*?!+|&/<>=;,\x00-\x1f\x7f]")
_ABS_ID = re.compile(r"/abs/(?P<id>.+?)/?$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class ArxivError(RuntimeError):
    """arXiv answered, but not with results: an error feed, an error status or an
    unreadable feed. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ArxivRecord:
    """One arXiv entry. `arxiv_id` has no version; `updated` is this version's date."""

    arxiv_id: str
    version: int | None
    title: str
    abstract: str
    authors: list[str]
    primary_category: str | None
    categories: list[str]
    published: datetime | None
    updated: datetime | None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None

    @property
    def versioned_id(self) -> str:
        return format_arxiv_id(self.arxiv_id, self.version)

    @property
    def is_complete(self) -> bool:
        """Enough to store as a paper; search entries normally are, or a fetch is due."""
        return bool(
            self.title and self.abstract and self.authors and self.published and self.categories
        )


@dataclass(frozen=True)
class SearchPage:
    total_results: int
    start_index: int
    items_per_page: int
    records: list[ArxivRecord]

    @property
    def complete(self) -> bool:
        """Whether this page holds every hit, so nothing relevant went unseen."""
        return self.start_index == 0 and self.total_results <= len(self.records)


@dataclass
class FetchResult:
    """What `fetch` found, keyed by ID without version; every input lands in one bucket."""

    records: dict[str, ArxivRecord] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def clean_title_for_query(title: str) -> str:
    """The title as a phrase arXiv's query parser accepts: no quotes, backslashes or
    syntax characters, single spaces."""
    return collapse(_QUERY_SYNTAX.sub(" ", title))


def title_phrase_query(titles: Iterable[str]) -> str:
    """`ti:"a" OR ti:"b"`: one request for several titles (titles must be search-clean)."""
    phrases = [f'ti:"{t}"' for t in titles if t]
    if not phrases:
        raise ValueError("no title to search for")
    return " OR ".join(phrases)


def title_words_query(words: Iterable[str]) -> str:
    """`ti:w1 AND ti:w2`: finds titles whose punctuation defeats phrase search."""
    terms = [f"ti:{w}" for w in words if w and not _QUERY_SYNTAX.search(w) and " " not in w]
    if not terms:
        raise ValueError("no word to search for")
    return " AND ".join(terms)


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return collapse(found.text) or None


def _datetime(element: etree._Element, path: str) -> datetime | None:
    value = _text(element, path)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ArxivError(f"malformed feed: bad date {value!r} in {path}") from exc


def _entry_id(entry: etree._Element) -> ArxivId | None:
    """The `<id>` URL `http://arxiv.org/abs/2401.01234v2` as ID and version."""
    raw = _text(entry, "atom:id") or ""
    match = _ABS_ID.search(raw)
    return parse_arxiv_id(match.group("id")) if match else None


def _is_error_entry(entry: etree._Element) -> bool:
    # A paper may well be titled "Error"; arXiv's error entries have no paper ID.
    return _text(entry, "atom:title") == "Error" and _entry_id(entry) is None


def _parse_entry(entry: etree._Element) -> ArxivRecord:
    parsed = _entry_id(entry)
    if parsed is None:
        raise ArxivError(f"malformed feed: entry id {_text(entry, 'atom:id')!r} is not an arXiv ID")
    categories: list[str] = []
    for category in entry.findall("atom:category", NS):
        term = category.get("term")
        if term and term not in categories:
            categories.append(term)
    primary = entry.find("arxiv:primary_category", NS)
    return ArxivRecord(
        arxiv_id=parsed.id,
        version=parsed.version,
        title=_text(entry, "atom:title") or "",
        abstract=_text(entry, "atom:summary") or "",
        authors=[collapse(n.text) for n in entry.findall("atom:author/atom:name", NS) if n.text],
        primary_category=primary.get("term") if primary is not None else None,
        categories=categories,
        published=_datetime(entry, "atom:published"),
        updated=_datetime(entry, "atom:updated"),
        doi=_text(entry, "arxiv:doi"),
        journal_ref=_text(entry, "arxiv:journal_ref"),
        comment=_text(entry, "arxiv:comment"),
    )


def _int(feed: etree._Element, path: str, default: int | None = None) -> int:
    value = _text(feed, path)
    if value is None:
        if default is None:
            raise ArxivError(f"malformed feed: no {path}")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ArxivError(f"malformed feed: {path} is {value!r}") from exc


def _root(body: bytes | str) -> etree._Element:
    data = body.encode() if isinstance(body, str) else body
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ArxivError(f"malformed feed: {exc}") from exc
    if root is None or root.tag != f"{{{ATOM_NS}}}feed":
        tag = getattr(root, "tag", None)
        raise ArxivError(f"malformed feed: root element is {tag!r}, not an Atom feed")
    return root


def error_message(body: bytes | str) -> str | None:
    """The message of an arXiv error feed, or None when `body` is not one."""
    try:
        root = _root(body)
    except ArxivError:
        return None
    entries = root.findall("atom:entry", NS)
    if len(entries) == 1 and _is_error_entry(entries[0]):
        return _text(entries[0], "atom:summary") or "unspecified arXiv error"
    return None


def parse_feed(body: bytes | str) -> SearchPage:
    """Read an API answer; an error feed or anything unreadable raises `ArxivError`."""
    root = _root(body)
    entries = root.findall("atom:entry", NS)
    if len(entries) == 1 and _is_error_entry(entries[0]):
        raise ArxivError(_text(entries[0], "atom:summary") or "unspecified arXiv error")
    total = _int(root, "opensearch:totalResults")
    records = [_parse_entry(entry) for entry in entries]
    return SearchPage(
        total_results=total,
        start_index=_int(root, "opensearch:startIndex", 0),
        items_per_page=_int(root, "opensearch:itemsPerPage", len(records)),
        records=records,
    )


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ArxivClient:
    """Queries arXiv through a `PoliteSession` (which spaces and retries requests)."""

    def __init__(self, session: PoliteSession, api_url: str) -> None:
        self.session = session
        self.api_url = api_url
        self.empty_retries = 0

    @property
    def requests_made(self) -> int:
        return self.session.requests_made

    def query(self, params: dict[str, str | int]) -> SearchPage:
        """One API call. A non-200 answer raises `ArxivError` with arXiv's message (it is
        not retried: the session already retried what can be); transport failures raise
        `RequestFailed` or `OfflineError`."""
        response = self.session.get(self.api_url, params=params)
        if response.status_code != 200:
            message = error_message(response.content)
            detail = message or collapse(response.text)[:200] or "no body"
            raise ArxivError(f"HTTP {response.status_code}: {detail}", response.status_code)
        return parse_feed(response.content)

    def search(self, search_query: str, max_results: int = 10, start: int = 0) -> SearchPage:
        """One page of a search. A first page with no entries is asked for once more
        before it is believed: arXiv sometimes answers a good query with an empty page."""
        if not 1 <= max_results <= MAX_RESULTS_PER_CALL:
            raise ValueError(f"max_results must be 1..{MAX_RESULTS_PER_CALL}, got {max_results}")
        params: dict[str, str | int] = {
            "search_query": search_query,
            "start": start,
            "max_results": max_results,
        }
        page = self.query(params)
        if start == 0 and not page.records:
            self.empty_retries += 1
            page = self.query(params)
        return page

    def fetch(self, ids: Iterable[str], batch_size: int = ID_BATCH_SIZE) -> FetchResult:
        """Full records for `ids` through `id_list`. Malformed IDs are reported in
        `invalid` and never sent; results are matched back by `<id>`, not by order; a
        failed batch lands in `failed` and the other batches still run."""
        result = FetchResult()
        wanted: dict[str, str] = {}  # as sent -> ID without version
        seen: set[str] = set()
        for raw in ids:
            parsed = parse_arxiv_id(raw)
            if parsed is None:
                result.invalid.append(raw)
            elif parsed.id not in seen:  # the first spelling of an ID wins
                seen.add(parsed.id)
                wanted[str(parsed)] = parsed.id
        for batch in _chunks(list(wanted), batch_size):
            self._fetch_batch(batch, wanted, result)
        return result

    def _fetch_batch(self, batch: Sequence[str], wanted: dict[str, str], out: FetchResult) -> None:
        params: dict[str, str | int] = {"id_list": ",".join(batch), "max_results": len(batch)}
        try:
            page = self.query(params)
        except (ArxivError, *REQUEST_ERRORS) as exc:
            out.failed.update({wanted[sent]: str(exc) for sent in batch})
            return
        returned = {record.arxiv_id: record for record in page.records}
        for sent in batch:
            arxiv_id = wanted[sent]
            if arxiv_id in returned:
                out.records[arxiv_id] = returned[arxiv_id]
            else:
                out.missing.append(arxiv_id)
