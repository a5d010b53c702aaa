"""One entry point from a raw file's bytes to a `ParsedDump`, whatever its kind.

The layout is detected, never configured: API JSON, a saved Hugging Face HTML page (a
listing or one paper's), a plain-text copy of a listing page (a browser's, or a
text-mode browser's or crawler's capture with reference links), or Papers with Code's
links archive (JSON, gzipped or not, or Parquet). Whatever cannot be read raises `NotADump` with the
reason that `raw.dump_files.error` records.
"""

from __future__ import annotations

from datetime import date

from pipeline.dumps.decoding import decode_text
from pipeline.dumps.entries import DEFAULT_LIMITS, ParsedDump, ReadLimits
from pipeline.dumps.hf_pages import looks_like_hf_html, looks_like_json, read_hf_html, read_hf_json
from pipeline.dumps.pwc_archive import gunzip, is_gzip, looks_like_pwc, read_pwc_links
from pipeline.dumps.text_captures import looks_like_capture, read_text_capture
from pipeline.dumps.text_pages import read_text_dump


def read_raw_file(
    data: bytes,
    snapshot_hint: date | None = None,
    today: date | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> ParsedDump:
    """Parse a raw file; `snapshot_hint` is the fetch day recorded beside fetched files.
    A gzipped file is read as what it holds."""
    if is_gzip(data):
        data = gunzip(data, limits)
    if looks_like_pwc(data):
        return read_pwc_links(data, limits)
    text = decode_text(data)
    # First: a capture may open with a link (`[Hugging Face][1]`), like a JSON list; no
    # JSON or HTML has a line that opens with `### [`.
    if looks_like_capture(text):
        return read_text_capture(text, today=today)
    if looks_like_json(text):
        return read_hf_json(text, snapshot_hint, limits.max_json_depth)
    if looks_like_hf_html(text):
        return read_hf_html(text, snapshot_hint, limits.max_json_depth)
    return read_text_dump(text, today=today)
