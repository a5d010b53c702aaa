"""Turning a raw file's bytes into text, or a specific reason why not.

Only encodings we can be certain of are decoded: UTF-8 (with or without a byte-order
mark) and UTF-16/32 announced by their byte-order mark. Anything else would be a guess
(a Latin-1 reading of Windows-1252 text silently corrupts it), so it is quarantined.
"""

from __future__ import annotations

import codecs
import re

from pipeline.dumps.entries import NotADump

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters (category Cc) but those text uses (tab to carriage return, U+0009-0D).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Common binary formats, named so that the reason says what the file is. Some (a PDF, a
# short PNG header) would otherwise pass for text in an unknown encoding.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or an office document)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"SQLite format 3\x00", "SQLite database"),
)


def _binary_kind(data: bytes) -> str | None:
    """What binary format the bytes announce, if one we know."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def _strip_bom(data: bytes) -> tuple[bytes, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :], encoding
    return data, "utf-8"


def _control_share(text: str) -> float:
    sample = text[:65536]
    return len(_BINARY_CONTROLS.findall(sample)) / max(1, len(sample))


def decode_text(data: bytes) -> str:
    """Text of a raw file with `\\n` line endings; raises `NotADump` with the reason."""
    if not data.strip():
        raise NotADump("empty file" if not data else "empty file: only whitespace")
    if kind := _binary_kind(data):
        raise NotADump(f"binary file: {kind}")
    body, encoding = _strip_bom(data)
    if encoding == "utf-8" and b"\x00" in body[:65536]:
        raise NotADump("binary file: contains NUL bytes")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.start + 4].hex(" ")
        raise NotADump(
            f"not valid {encoding.upper()}: bytes {bad} at offset {exc.start}; "
            "the encoding cannot be determined with certainty, so the file is not guessed at"
        ) from exc
    if _control_share(text) > 0.01:
        raise NotADump("binary file: too many control characters for text")
    if not text.strip():
        raise NotADump("empty file: only whitespace")
    return text.replace("\r\n", "\n").replace("\r", "\n")
