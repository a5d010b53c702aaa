"""When two titles name one paper: the rules shared by deduplication and arXiv matching.

Two listings are the same paper when their titles differ only in case, punctuation,
hyphenation (`Pre-training`/`Pretraining`), unicode form or spacing; those collapse to
the same `title_key` (`pipeline.text`). A typo may also separate them, but a number,
numeral, part marker or a real word never does: `number_signature` and `typo_variant`
encode those rules.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from pipeline.text import fold, split_words, title_words

_ROMAN = re.compile(r"^(?=[ivxlc])c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_PART_MARKERS = frozenset(
    {"part", "chapter", "vol", "volume", "phase", "stage", "level", "book", "episode", "round"}
)
_NUMBER_WORDS = {
    word: str(value)
    for value, words in enumerate(
        [
            ("zero",),
            ("one", "first", "single"),
            ("two", "second", "double", "twice"),
            ("three", "third", "triple"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
            ("eleven",),
            ("twelve",),
            ("hundred",),
        ]
    )
    for word in words
}
_NUMBER_WORDS["hundred"] = "100"


def _is_roman(word: str, previous: str | None) -> bool:
    if not _ROMAN.match(word):
        return False
    # A lone `i`, `v`, `x`, `l` or `c` is a numeral only after a part marker.
    return len(word) > 1 or previous in _PART_MARKERS


def number_signature(title: str) -> tuple[str, ...]:
    """Every number a title states, digits, numerals and number words alike, in order:
    two titles whose signatures differ are different papers (`Part I`/`Part II`, `V2`/`V3`)."""
    signature: list[str] = []
    previous: str | None = None
    for word in split_words(fold(title)):
        digits = re.findall(r"\d+", word)
        if digits:
            signature.extend(str(int(d)) for d in digits)
        elif word in _NUMBER_WORDS:
            signature.append(_NUMBER_WORDS[word])
        elif _is_roman(word, previous):
            signature.append(str(_roman_value(word)))
        previous = word
    return tuple(signature)


def _roman_value(numeral: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    for ch, nxt in zip(numeral, [*numeral[1:], ""], strict=True):
        value = values[ch]
        total += -value if nxt and values[nxt] > value else value
    return total


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True))


def is_known_word(word: str) -> bool:
    """A dictionary word, allowing regular plurals (the word list has few)."""
    words = _dictionary()
    if word in words:
        return True
    if word.endswith("ies") and word[:-3] + "y" in words:
        return True
    return (word.endswith("es") and word[:-2] in words) or (
        word.endswith("s") and word[:-1] in words
    )


def _is_acronym(original_token: str) -> bool:
    return sum(ch.isupper() for ch in original_token) >= 2


def _original_tokens(title: str) -> dict[str, str]:
    """Maps each folded word back to its spelling, to spot acronyms (`DDPM`)."""
    spelled = split_words(title, join_hyphens=True)
    return {fold(token): token for token in spelled}


def _typo_pair(a: str, b: str) -> bool:
    """Two differing words read as one word mistyped: long enough to tell, at most one
    edit (two for long words), and at least one of them not a dictionary word."""
    if min(len(a), len(b)) < 5 or a.isdigit() or b.isdigit():
        return False
    allowed = 1 if max(len(a), len(b)) < 9 else 2
    if OSA.distance(a, b) > allowed:
        return False
    return not (is_known_word(a) and is_known_word(b))


def typo_variant(title_a: str, title_b: str) -> bool:
    """True when two titles differ only by typos: same number signature, same word
    count, at most two words differing, each differing pair a plausible typo, and no
    acronym among them (`DDPM`/`DDIM` are different methods)."""
    # Cheapest tests first; the number signature and acronyms need more parsing.
    words_a, words_b = title_words(title_a), title_words(title_b)
    if len(words_a) != len(words_b) or len(words_a) < 4:
        return False
    differing = [(a, b) for a, b in zip(words_a, words_b, strict=True) if a != b]
    if not differing or len(differing) > 2:
        return False
    if not all(_typo_pair(a, b) for a, b in differing):
        return False
    if number_signature(title_a) != number_signature(title_b):
        return False
    originals = {**_original_tokens(title_a), **_original_tokens(title_b)}
    return not any(
        _is_acronym(originals.get(a, a)) or _is_acronym(originals.get(b, b)) for a, b in differing
    )
