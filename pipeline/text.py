"""Text clean-up shared by every reader and stage, in one place.

Raw text comes from web pages: no-break and zero-width spaces, runs of blanks, unicode
dashes, accents and case that differ between two copies of one title. Readers make a
line plain (`squeeze`, `collapse`), cleaning normalizes stored text (`normalized_text`),
and grouping and matching compare titles by their words (`fold`, `title_words`,
`title_keys`), in Python and, for a million titles at once, in SQL (`title_words_sql`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import polars as pl

# Invisible characters that copies of web pages carry: zero-width ones, stray byte-order
# marks, and bidirectional embeddings, overrides and isolates (which can make a title or
# a file name read differently from what it is). Every unicode space is folded by
# str.split; control characters a text file should not hold (NUL and the like) go too.
INVISIBLE_CHARS = "\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069"
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]|[\x00-\x08\x0e-\x1f\x7f]")
# Only what must change: runs of spaces, any other whitespace, zero-width characters.
# (A pattern matching every single space costs a replacement per word.)
_ODD_SPACES = r"\s{2,}|[^\S ]"
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
# The hyphen and every dash `fold` turns into one, as an RE2 class for DuckDB.
_DASHES_SQL = r"[-\x{2010}-\x{2015}\x{2212}\x{FE58}\x{FE63}\x{FF0D}]"
_JOINING_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_NON_WORD = re.compile(r"[\W_]+")


def visible(text: str) -> str:
    """`text` without invisible and control characters (for names shown to people)."""
    return _INVISIBLE.sub("", text)


def collapse(text: str | None) -> str:
    """Single-spaced text (arXiv and Hugging Face wrap titles and abstracts)."""
    return " ".join((text or "").split())


def squeeze(line: str) -> str:
    """A line with its spacing made plain: a no-break space between `Oct` and `20`, or
    before `7 authors`, must not stop the date or author count from being recognised."""
    # The common case, checked at C speed: ASCII with no control character and no run
    # of spaces has nothing to squeeze.
    if line.isascii() and line.isprintable() and "  " not in line:
        return line.strip(" ")
    return collapse(_INVISIBLE.sub("", line))


def on_non_ascii(texts: pl.Series, transform: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`texts` with `transform` applied to the values that are not plain ASCII only: the
    unicode work (normalization, folding) is costly, and for ASCII it changes nothing."""
    rows = (texts.str.len_bytes() != texts.str.len_chars()).arg_true()
    if rows.is_empty():
        return texts
    return texts.scatter(rows, transform(texts.gather(rows)))


def _nfc(texts: pl.Series) -> pl.Series:
    return on_non_ascii(texts, lambda s: s.str.normalize("NFC"))


def normalized_text(column: str) -> pl.Expr:
    """A stored text column: NFC, zero-width characters dropped, every run of whitespace
    (no-break spaces included) one space, empty as null."""
    text = (
        pl.col(column)
        .map_batches(_nfc, return_dtype=pl.String)
        .str.replace_all(_INVISIBLE.pattern, "")
        .str.replace_all(_ODD_SPACES, " ")
        .str.strip_chars()
    )
    return text.replace("", None).alias(column)


def fold(text: str) -> str:
    """Lower-case, accent-free, compatibility-normalized text with one kind of dash."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _DASHES.sub("-", stripped).casefold()


def split_words(text: str, join_hyphens: bool = False) -> list[str]:
    """Runs of letters and digits, as written; with `join_hyphens`, a hyphen between
    letters joins them (`pre-training` -> `pretraining`)."""
    return _NON_WORD.sub(" ", _JOINING_HYPHEN.sub("", text) if join_hyphens else text).split()


def title_words(title: str) -> list[str]:
    """Words of a folded title, hyphenated words joined."""
    return split_words(fold(title), join_hyphens=True)


def title_words_sql(column: str, join_hyphens: bool = True) -> str:
    """`title_words` of a VARCHAR column as a DuckDB expression giving a list, near
    enough for proposing candidate pairs (which `title_words` then checks): lower case,
    accents stripped, a hyphen (or any dash `fold` reads as one) between letters joining
    them (or, without `join_hyphens`, parting them like a space)."""
    joined = f"lower(strip_accents({column}))"
    for _ in range(2 if join_hyphens else 0):  # overlapping matches (`a-b-c`): two passes
        joined = f"regexp_replace({joined}, '(\\p{{L}}){_DASHES_SQL}(\\p{{L}})', '\\1\\2', 'g')"
    return f"regexp_extract_all({joined}, '[\\p{{L}}\\p{{N}}]+')"


def joins_hyphens_sql(column: str) -> str:
    """Whether `title_words_sql` joins words of a VARCHAR column (a dash between two
    letters): only then do its words apart differ from its words joined."""
    return f"regexp_matches({column}, '\\p{{L}}{_DASHES_SQL}\\p{{L}}')"


def title_keys(titles: pl.Series) -> pl.Series:
    """Grouping keys: the folded title's letters and digits, where only digit runs stay
    apart, so `Pre training`, `Pre-training` and `Pretraining` agree, `GPT-3` and `GPT3`
    agree, but `Llama 3 1B` does not become `Llama 31B`.

    Vectorised, as ingest keys a million titles: digit runs are fenced with NUL, all
    that is not a letter or digit is dropped, and each fence becomes one space. Only
    titles with non-ASCII characters (a few percent) are folded in Python."""
    folded = on_non_ascii(titles.str.to_lowercase(), lambda s: s.map_elements(fold, pl.String))
    return (
        folded.str.replace_all("\x00", " ", literal=True)
        .str.replace_all(r"\d+", "\x00${0}\x00")
        .str.replace_all(r"(?:[^\w\x00]|[\p{M}_])+", "")  # polars' \w has marks; ours not
        .str.replace_all("\x00+", " ")
        .str.strip_chars(" ")
    )


def title_key(title: str) -> str:
    """`title_keys` of one title."""
    return title_keys(pl.Series([title], dtype=pl.String))[0]


def excerpt(text: str, limit: int = 200) -> str:
    """A short, single-line piece of bad input to show beside its reject reason."""
    flat = collapse(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
