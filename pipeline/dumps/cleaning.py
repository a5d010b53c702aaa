"""Typed, normalized listings with polars: what `raw.listings` stores for each entry.

Text is NFC with every run of whitespace (no-break spaces included) collapsed to one
space and zero-width characters dropped; counts are integers; dates are DATEs, year-less
ones resolved with the snapshot year of their file and left null when that year is
unknown.
"""

from __future__ import annotations

from dataclasses import fields

import polars as pl

from pipeline.db.schema import polars_schema
from pipeline.dumps.entries import Entry, ParsedDump
from pipeline.dumps.text_pages import MONTHS
from pipeline.text import normalized_text, title_keys

LISTING_SCHEMA = polars_schema("raw.listings")
_TEXT_COLUMNS = (
    "title",
    "abstract",
    "org_handle",
    "organization",
    "published_text",
    "ai_summary",
    "submitter",
)
_ENTRY_FIELDS = [f.name for f in fields(Entry)]


def entries_frame(file_sha256: str, parsed: ParsedDump) -> pl.DataFrame:
    """The entries of one file as a frame, before cleaning."""
    columns = {name: [getattr(e, name) for e in parsed.entries] for name in _ENTRY_FIELDS}
    frame = pl.DataFrame(columns, schema={k: v for k, v in LISTING_SCHEMA.items() if k in columns})
    return frame.with_columns(
        pl.lit(file_sha256, pl.String()).alias("file_sha256"),
        pl.lit(parsed.snapshot_date, pl.Date()).alias("snapshot_date"),
    )


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
        *(normalized_text(c) for c in _TEXT_COLUMNS),
        *(
            pl.col(c).list.eval(pl.element().str.normalize("NFC").str.strip_chars())
            for c in ("authors", "ai_keywords")
        ),
    ).with_columns(_resolved_date())
    return cleaned.with_columns(
        pl.col("title").map_batches(title_keys, return_dtype=pl.String).alias("title_key")
    ).select(pl.col(name).cast(dtype) for name, dtype in LISTING_SCHEMA.items())


def empty_listings() -> pl.DataFrame:
    return pl.DataFrame(schema=LISTING_SCHEMA)
