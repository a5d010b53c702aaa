"""Text captures of Hugging Face listing pages, as text-mode browsers and crawling tools
save them: every link is a reference, `[text][n]`, and a complete capture ends with the
numbered list of the references' URLs.

    Daily Papers                        page chrome, then the day viewed (as in a copy)
    Nov 20
    ### [Title of the paper][32]        one heading per paper
    [
    * 3 authors                         the author block, bracketed
    ][34]
    Submitted by [akhaliq][35]          optional
    [87][36]                            upvotes; `[-][36]` when it has none
    Abstract text, when shown.          optional, any number of lines
    ...
    References
    32. https://huggingface.co/papers/2611.14207   (or `[32]: https://…`)

A title's arXiv ID comes from its reference (`/papers/<id>`). A capture cut before the
reference list still loads its entries, without IDs. The viewing day's year is inferred
as for a browser copy (`text_pages.infer_snapshot_date`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pipeline.dumps.entries import Entry, NotADump, ParsedDump, Reject
from pipeline.dumps.hf_pages import normalize_arxiv_id
from pipeline.dumps.text_pages import AUTHORS_LINE, DateText, infer_snapshot_date, parse_date_line
from pipeline.text import collapse, excerpt, squeeze

LAYOUT = "text_capture"
HEADING = re.compile(r"^#{1,6}\s*\[(?P<title>.*)\]\[(?P<ref>\d+)\]$")
_HEADING_ANYWHERE = re.compile(r"^#{1,6}\s*\[.+\]\[\d+\]\s*$", re.MULTILINE)
REFERENCE = re.compile(r"^(?:\[(?P<bracketed>\d+)\]:|(?P<numbered>\d+)\.)\s+(?P<url>\S+)$")
_LINK_ONLY = re.compile(r"^\[(?P<text>[^\]]*)\]\[\d+\]$")
_BLOCK_END = re.compile(r"^\]\[\d+\]$")
_SUBMITTED = re.compile(r"^Submitted by\s+\[(?P<who>[^\]]+)\]\[\d+\]$", re.IGNORECASE)
_PAPER_URL = re.compile(r"/papers/(?P<id>[^/?#\s]+)")
_NO_UPVOTES = "-"


def looks_like_capture(text: str) -> bool:
    """A text with reference-style headings (`### [Title][n]`): no browser copy has them.
    A text with no line opening with `#` is told at once (the pattern scans 5 MB in 15 ms)."""
    if not text.startswith("#") and "\n#" not in text:
        return False
    return _HEADING_ANYWHERE.search(text) is not None


@dataclass
class _Card:
    """One heading and the lines under it."""

    position: int
    title: str
    reference: int
    lines: list[str] = field(default_factory=list)


def _references(lines: list[str]) -> dict[int, str]:
    found = {}
    for line in lines:
        if match := REFERENCE.match(line):
            found[int(match["bracketed"] or match["numbered"])] = match["url"]
    return found


def _cards(lines: list[str]) -> tuple[list[str], list[_Card]]:
    """The lines above the first heading, and each heading with its lines (the
    reference list left out)."""
    header: list[str] = []
    cards: list[_Card] = []
    for line in lines:
        if REFERENCE.match(line) or line.lower() == "references":
            continue
        if match := HEADING.match(line):
            cards.append(_Card(len(cards) + 1, collapse(match["title"]), int(match["ref"])))
        elif cards:
            cards[-1].lines.append(line)
        else:
            header.append(line)
    return header, cards


def _upvotes(text: str) -> int | None:
    if text == _NO_UPVOTES:
        return 0
    return int(text) if text.isdigit() else None


def _entry(card: _Card, references: dict[int, str]) -> tuple[Entry, DateText | None]:
    entry = Entry(position=card.position, title=card.title)
    in_block, abstract, written = False, [], None
    for line in card.lines:
        if line == "[":
            in_block = True
        elif in_block and _BLOCK_END.match(line):
            in_block = False
        elif authors := AUTHORS_LINE.match(line):
            entry.authors_count = int(authors["count"])
        elif submitted := _SUBMITTED.match(line):
            entry.submitter = collapse(submitted["who"])
        elif (link := _LINK_ONLY.match(line)) and entry.upvotes is None:
            entry.upvotes = _upvotes(link["text"].strip())
        elif written is None and (date_text := parse_date_line(line)):
            written = date_text
            entry.published_text, entry.comments = date_text.text, date_text.comments
        elif not in_block and not _LINK_ONLY.match(line):
            abstract.append(line)
    entry.abstract = collapse(" ".join(abstract)) or None
    url = references.get(card.reference, "")
    paper = _PAPER_URL.search(url) if "huggingface.co" in url or url.startswith("/") else None
    entry.arxiv_id = normalize_arxiv_id(paper["id"]) if paper else None
    return entry, written


def read_text_capture(text: str, today: date | None = None) -> ParsedDump:
    """Entries of a capture; raises `NotADump` when it has no paper heading."""
    lines = [squeeze(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    references = _references(lines)
    header, cards = _cards(lines)
    if not cards:
        raise NotADump("not a listing capture: no `### [Title][n]` heading")
    dump = ParsedDump(layout=LAYOUT)
    written: list[DateText] = []
    for card in cards:
        if not card.title:
            reason = f"heading {card.position} has an empty title"
            dump.rejects.append(Reject(card.position, reason, excerpt(" ".join(card.lines))))
            continue
        entry, date_text = _entry(card, references)
        dump.entries.append(entry)
        if date_text is not None:
            written.append(date_text)
    page_date = next((d for line in header if (d := parse_date_line(line))), None)
    dump.snapshot_date, dump.snapshot_date_source = infer_snapshot_date(
        page_date, written, today or date.today()
    )
    return dump
