"""Reading plain-text copies of Hugging Face listing pages (the three layouts of
DUMP_FORMAT.md) into entries, and inferring the day each page was viewed.

Blank lines are not needed to find entries: a title is followed by its abstract and,
optionally, a three-line metadata block recognised by its `·` line. So one line-based
reader serves the block layouts and the compact one, and stray or missing blank lines do
not shift entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from pipeline.dumps.entries import Entry, NotADump, ParsedDump, Reject
from pipeline.text import excerpt, squeeze

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
DATE_LINE = re.compile(
    r"^(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2})(?:, ?(?P<year>\d{4}))?(?: (?P<comments>\d+))?$"
)
AUTHORS_LINE = re.compile(r"^(?:[•\-*]\s*)?(?P<count>\d+)\s+authors?$", re.IGNORECASE)
META_SEPARATOR = "·"
SUBSCRIBE = "Subscribe"
BOILERPLATE = (
    "new",
    "get trending papers in your email inbox",
    "get trending papers in your email inbox once a day",
    "subscribe",
    "daily papers",
    "trending papers",
    "byak and the research community",
)
_MAX_TITLE = 500
# A header-less text is read as a listing only with this much evidence (seed titles are
# at most 169 characters and 22 words, abstracts at least 475 characters).
_MIN_HEADERLESS_ENTRIES = 3
_MIN_HEADERLESS_ABSTRACT = 300
_MAX_HEADERLESS_TITLE = 300
_MAX_TITLE_WORDS = 40
_FIELD_SEPARATOR = re.compile(r"[,;](?=[^\s\d])")  # `a,b` as in CSV; prose writes `a, b`


@dataclass(frozen=True)
class DateText:
    month: int
    day: int
    year: int | None
    comments: int | None
    text: str


def parse_date_line(line: str) -> DateText | None:
    """`Jul 16, 2025`, `Oct 20`, `Sep 30, 2025 2` (trailing comment count) or None."""
    match = DATE_LINE.match(line)
    if not match or match["month"].lower() not in MONTHS:
        return None
    day = int(match["day"])
    if not 1 <= day <= 31:
        return None
    year = int(match["year"]) if match["year"] else None
    comments = int(match["comments"]) if match["comments"] else None
    written = line if comments is None else line[: match.start("comments")].rstrip()
    return DateText(MONTHS[match["month"].lower()], day, year, comments, written)


def is_boilerplate(line: str) -> bool:
    """Page chrome above the list; tolerant of small wording and punctuation changes."""
    key = re.sub(r"[^a-z ]+", "", line.lower()).strip()
    if not key or len(key) > 60:
        return False
    return any(key == known or fuzz.ratio(key, known) >= 88 for known in BOILERPLATE)


@dataclass
class _Header:
    body_start: int
    page_date: DateText | None = None
    found: bool = False
    glued_title: str | None = None


def _read_header(lines: list[str]) -> _Header:
    header = _Header(body_start=0)
    for index, line in enumerate(lines):
        if not line:
            continue
        glued = line[len(SUBSCRIBE) : len(SUBSCRIBE) + 1]
        if line.startswith(SUBSCRIBE) and glued.isalnum() and len(line) > len(SUBSCRIBE) + 3:
            # The compact layout glues the first title to the Subscribe button.
            header.found, header.glued_title = True, line[len(SUBSCRIBE) :].strip()
            header.body_start = index + 1
            return header
        if is_boilerplate(line):
            header.found = True
        elif header.page_date is None and (date_text := parse_date_line(line)):
            header.page_date = date_text
        else:
            header.body_start = index
            return header
    header.body_start = len(lines)
    return header


@dataclass
class _Reader:
    """Walks the non-blank body lines, turning them into entries."""

    lines: list[str]
    entries: list[Entry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    date_texts: list[DateText] = field(default_factory=list)
    metadata_blocks: int = 0
    position: int = 0

    def run(self, first_title: str | None) -> None:
        current = self._start(first_title) if first_title else None
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if current is not None and current.abstract is not None and self._meta_at(i):
                i = self._read_meta(i, current)
                continue
            if current is None or current.abstract is not None:
                current = self._start(line)
            else:
                current.abstract = line
            i += 1
        if current is not None and current.abstract is None:
            self._reject(current, "cut off: the file ends after a title, before its abstract")

    def _start(self, title: str) -> Entry:
        self.position += 1
        entry = Entry(position=self.position, title=title)
        self.entries.append(entry)
        return entry

    def _meta_at(self, i: int) -> bool:
        line = self.lines[i]
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        return (
            line == META_SEPARATOR or following == META_SEPARATOR or bool(AUTHORS_LINE.match(line))
        )

    def _read_meta(self, i: int, entry: Entry) -> int:
        """Consumes `[authors | organization] · date`; returns the next line index."""
        self.metadata_blocks += 1
        if self.lines[i] != META_SEPARATOR:
            self._apply_head(self.lines[i], entry)
            i += 1
        if i >= len(self.lines):
            self._reject(entry, "cut off: the file ends inside a metadata block, before `·`")
            return i
        if self.lines[i] == META_SEPARATOR:
            i += 1
        date_text = parse_date_line(self.lines[i]) if i < len(self.lines) else None
        if date_text is None:
            if i >= len(self.lines):
                self._reject(
                    entry, "cut off: the file ends inside a metadata block, before its date"
                )
            return i
        entry.published_text = date_text.text
        entry.comments = date_text.comments
        self.date_texts.append(date_text)
        return i + 1

    @staticmethod
    def _apply_head(line: str, entry: Entry) -> None:
        if match := AUTHORS_LINE.match(line):
            entry.authors_count = int(match["count"])
            return
        handle, _, name = line.partition(" ")
        entry.org_handle, entry.organization = handle, (name.strip() or handle)

    def _reject(self, entry: Entry, reason: str) -> None:
        self.entries.remove(entry)
        self.rejects.append(Reject(entry.position, reason, excerpt(entry.title)))


def infer_snapshot_date(
    page_date: DateText | None, date_texts: list[DateText], today: date
) -> tuple[date | None, str]:
    """The day the page was viewed. The page shows only month and day; the year is the
    smallest one later than every year written in the file, and cannot lie in the future.
    """
    if page_date is None:
        return None, "unknown: no page date line"
    if page_date.year is not None:
        return _safe_date(page_date.year, page_date), "stated on the page"
    years = [d.year for d in date_texts if d.year is not None]
    if not years:
        return None, "unknown: no entry date states a year"
    year = max(years) + 1
    candidate = _safe_date(year, page_date)
    if candidate is None:
        return None, f"unknown: {page_date.text} is not a day in {year}"
    if candidate > today:
        return None, f"unknown: inferred {candidate.isoformat()} lies in the future"
    return candidate, f"inferred: the year after the latest year written ({max(years)})"


def _safe_date(year: int, date_text: DateText) -> date | None:
    try:
        return date(year, date_text.month, date_text.day)
    except ValueError:
        return None


def _validate(reader: _Reader) -> None:
    for entry in list(reader.entries):
        if len(entry.title) > _MAX_TITLE:
            reader._reject(entry, f"title of {len(entry.title)} characters: entry misaligned")


def _listing_shaped(entry: Entry) -> bool:
    """A title as listing pages show one (a short line, not a sentence, not a row of
    comma-separated fields) followed by an abstract-length paragraph."""
    title, abstract = entry.title, entry.abstract or ""
    return (
        len(title) <= _MAX_HEADERLESS_TITLE
        and len(title.split()) <= _MAX_TITLE_WORDS
        and not title.endswith(".")
        and not _FIELD_SEPARATOR.search(title)
        and len(abstract) >= _MIN_HEADERLESS_ABSTRACT
        and len(abstract) >= 2 * len(title)
    )


def _looks_like_listing(reader: _Reader) -> bool:
    """Without a page header, accept only text that clearly reads as a listing: metadata
    blocks on most entries, or several title/abstract pairs of the listing's shape. A
    note of a few headed paragraphs or a CSV export is shaped like neither, and loading
    it would invent papers, so it is quarantined instead."""
    entries = reader.entries
    if not entries:
        return False
    if reader.metadata_blocks >= 0.5 * len(entries):
        return True
    shaped = sum(1 for e in entries if _listing_shaped(e))
    return len(entries) >= _MIN_HEADERLESS_ENTRIES and shaped >= 0.8 * len(entries)


def read_text_dump(text: str, today: date | None = None) -> ParsedDump:
    """Entries of a text dump; raises `NotADump` for text that is not a listing page."""
    lines = [squeeze(line) for line in text.split("\n")]
    header = _read_header(lines)
    body = lines[header.body_start :]
    reader = _Reader([line for line in body if line])
    reader.run(header.glued_title)
    _validate(reader)
    if not header.found and not _looks_like_listing(reader):
        raise NotADump("not a listing dump: no page header and no title/abstract entries")
    if not reader.entries and not reader.rejects:
        raise NotADump("not a listing dump: a page header but no entries after it")
    snapshot, source = infer_snapshot_date(
        header.page_date, reader.date_texts, today or date.today()
    )
    return ParsedDump(
        layout=_layout(header, body, reader),
        entries=reader.entries,
        rejects=reader.rejects,
        snapshot_date=snapshot,
        snapshot_date_source=source,
    )


def _layout(header: _Header, body: list[str], reader: _Reader) -> str:
    trimmed = "\n".join(body).strip("\n")
    if header.glued_title is not None or "\n\n" not in trimmed:
        return "compact"
    return "blocks_with_metadata" if reader.metadata_blocks else "blocks_without_metadata"
