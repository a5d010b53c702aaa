"""What a reader makes of one raw file: its entries as read, and what it could not read.

Every reader (text dumps, saved Hugging Face pages, API JSON) returns a `ParsedDump`, so
that a fetched page and a hand-saved page go through the same path to `raw.listings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(slots=True)
class Entry:
    """One paper entry as the source states it; fields the source does not state stay None."""

    position: int
    title: str
    abstract: str | None = None
    authors_count: int | None = None
    org_handle: str | None = None
    organization: str | None = None
    published_text: str | None = None
    published_date: date | None = None
    comments: int | None = None
    upvotes: int | None = None
    arxiv_id: str | None = None
    authors: list[str] | None = None
    github_url: str | None = None
    project_page: str | None = None
    github_stars: int | None = None
    listed_on: date | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    submitter: str | None = None
    claimed_authors: int | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """Something set aside: a whole file (position None) or one entry, with a specific reason."""

    position: int | None
    reason: str
    excerpt: str = ""


@dataclass
class ParsedDump:
    """A file's readable content. `snapshot_date` is the day the page was viewed or
    fetched; None with the reason in `snapshot_date_source` when it cannot be known."""

    layout: str
    entries: list[Entry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    snapshot_date: date | None = None
    snapshot_date_source: str = "unknown"
    # Rows of raw.pwc_links (a polars frame) for a Papers with Code links archive.
    code_links: Any = None


class NotADump(ValueError):
    """The whole file cannot be read as a listing dump; the message is the reject reason."""


class NotText(NotADump):
    """The file is not text we can decode with certainty: nothing of it is shown anywhere
    (no excerpt), since it may be anything."""


@dataclass(frozen=True)
class ReadLimits:
    """How much one file may ask of a reader (PAPERS_MAX_FILE_MB, PAPERS_MAX_JSON_DEPTH):
    a larger or deeper file is quarantined, not read."""

    max_bytes: int = 512 * 1024**2
    max_json_depth: int = 100


DEFAULT_LIMITS = ReadLimits()
