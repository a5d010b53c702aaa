"""Typed, normalized listings with polars: what `raw.listings` stores for each entry.

Text is NFC with every run of whitespace (no-break spaces included) collapsed to one
space and zero-width characters dropped; counts are integers; dates are DATEs, year-less
ones resolved with the snapshot year of their file and left null when that year is
unknown.
"""

from __future__ import annotations

from dataclasses import fields

import polars as pl

from pipeline.records import Entry, ParsedDump
from pipeline.text_dump import MONTHS, ZERO_WIDTH_CHARS
from pipeline.titles import on_non_ascii, title_keys

LISTING_SCHEMA: dict[str, pl.DataType] = {
    "file_sha256": pl.String(),
    "position": pl.Int32(),
    "title": pl.String(),
    "abstract": pl.String(),
    "authors_count": pl.Int32(),
    "org_handle": pl.String(),
    "organization": pl.String(),
    "published_text": pl.String(),
    "published_date": pl.Date(),
    "comments": pl.Int32(),
    "upvotes": pl.Int32(),
    "arxiv_id": pl.String(),
    "authors": pl.List(pl.String()),
    "github_url": pl.String(),
    "project_page": pl.String(),
    "title_key": pl.String(),
}
_TEXT_COLUMNS = ("title", "abstract", "org_handle", "organization", "published_text")
# Only what must change: runs of spaces, any other whitespace, zero-width characters.
# (A pattern matching every single space costs a replacement per word.)
_ODD_SPACES = r"\s{2,}|[^\S ]"
_ZERO_WIDTH = f"[{ZERO_WIDTH_CHARS}]"
_ENTRY_FIELDS = [f.name for f in fields(Entry)]


def entries_frame(file_sha256: str, parsed: ParsedDump) -> pl.DataFrame:
    """The entries of one file as a frame, before cleaning."""
    columns = {name: [getattr(e, name) for e in parsed.entries] for name in _ENTRY_FIELDS}
    frame = pl.DataFrame(columns, schema={k: v for k, v in LISTING_SCHEMA.items() if k in columns})
    return frame.with_columns(
        pl.lit(file_sha256, pl.String()).alias("file_sha256"),
        pl.lit(parsed.snapshot_date, pl.Date()).alias("snapshot_date"),
    )


def _nfc(texts: pl.Series) -> pl.Series:
    return on_non_ascii(texts, lambda s: s.str.normalize("NFC"))


def _normalized_text(column: str) -> pl.Expr:
    text = (
        pl.col(column)
        .map_batches(_nfc, return_dtype=pl.String)
        .str.replace_all(_ZERO_WIDTH, "")
        .str.replace_all(_ODD_SPACES, " ")
        .str.strip_chars()
    )
    return text.replace("", None).alias(column)


def _resolved_date() -> pl.Expr:
    """A written date (`Jul 16, 2025`, `Oct 20`) as a DATE; year-less ones take the
    snapshot's year, and stay null without one."""
    parts = pl.col("published_text").str.extract_groups(
        r"^(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2})(?:, ?(?P<year>\d{4}))?$"
    )
    month = (
        parts.struct.field("month")
        .str.to_lowercase()
        .replace_strict(MONTHS, default=None, return_dtype=pl.Int32)
    )
    year = pl.coalesce(parts.struct.field("year").cast(pl.Int32), pl.col("snapshot_date").dt.year())
    iso = pl.format(
        "{}-{}-{}",
        year,
        month.cast(pl.String).str.zfill(2),
        parts.struct.field("day").str.zfill(2),
    )
    parsed = iso.str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(pl.col("published_date"), parsed).alias("published_date")


def clean_listings(frame: pl.DataFrame) -> pl.DataFrame:
    """Cleaned listings in `raw.listings` column order."""
    cleaned = frame.with_columns(
        *(_normalized_text(c) for c in _TEXT_COLUMNS),
        pl.col("authors").list.eval(pl.element().str.normalize("NFC").str.strip_chars()),
    ).with_columns(_resolved_date())
    return cleaned.with_columns(
        pl.col("title").map_batches(title_keys, return_dtype=pl.String).alias("title_key")
    ).select(pl.col(name).cast(dtype) for name, dtype in LISTING_SCHEMA.items())


def empty_listings() -> pl.DataFrame:
    return pl.DataFrame(schema=LISTING_SCHEMA)
