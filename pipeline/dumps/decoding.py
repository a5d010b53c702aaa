"""Turning a raw file's bytes into text, or a specific reason why not.

Only encodings we can be certain of are decoded: UTF-8 (with or without a byte-order
mark) and UTF-16/32 announced by their byte-order mark. Anything else would be a guess
(a Latin-1 reading of Windows-1252 text silently corrupts it), so it is quarantined.
"""

from __future__ import annotations

import codecs
import re

from pipeline.dumps.entries import NotADump, NotText

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters (category Cc) but those text uses (tab to carriage return, U+0009-0D).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
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
    """Share of binary control characters in the whole text (a regex, at C speed): a
    few stray ones are dropped by cleaning wherever they are; many mean binary."""
    return len(_BINARY_CONTROLS.findall(text)) / max(1, len(text))


def _looks_like_bomless_utf16(data: bytes) -> bool:
    """UTF-16 text without its byte-order mark: a NUL in every other byte, as ASCII
    letters give it. Decoding it would still be a guess of byte order, so it is refused
    with a reason that says what it is."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    return len(sample) >= 8 and max(even.count(0), odd.count(0)) > 0.4 * (len(sample) // 2)


def decode_text(data: bytes) -> str:
    """Text of a raw file with `\\n` line endings; raises `NotADump` with the reason."""
    if not data.strip():
        raise NotADump("empty file" if not data else "empty file: only whitespace")
    if kind := _binary_kind(data):
        raise NotText(f"binary file: {kind}")
    body, encoding = _strip_bom(data)
    if encoding == "utf-8" and _looks_like_bomless_utf16(body):
        raise NotText(
            "UTF-16 text without a byte-order mark: its byte order would be a guess; "
            "save it as UTF-8 (or UTF-16 with a BOM)"
        )
    sample = body[:65536]
    if encoding == "utf-8" and len(_BINARY_BYTES.findall(sample)) > 0.01 * len(sample):
        raise NotText("binary file: too many control bytes for text")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.start + 4].hex(" ")
        raise NotText(
            f"not valid {encoding.upper()}: bytes {bad} at offset {exc.start}; "
            "the encoding cannot be determined with certainty, so the file is not guessed at"
        ) from exc
    if _control_share(text) > 0.01:
        raise NotText("binary file: too many control characters for text")
    if not text.strip():
        raise NotADump("empty file: only whitespace")
    return text.replace("\r\n", "\n").replace("\r", "\n")
