"""When two titles name one paper: the rules shared by deduplication and arXiv matching.

Two listings are the same paper when their titles differ only in case, punctuation,
hyphenation (`Pre-training`/`Pretraining`), unicode form or spacing; those collapse to
the same `title_key` (`pipeline.text`). A typo may also separate them, but a number,
numeral, part marker or a real word never does on its own: `number_signature` and
`typo_variant` encode those rules. `title_variant` adds a second tier, `close`: a
one-letter difference in an acronym, a method name, a short word or a real word, which
is a typo only when the listings' other evidence (their abstracts) agrees closely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import OSA

from pipeline.text import fold, split_words

MIN_TYPO_WORDS = 4
Tier = Literal["typo", "close"]
# Words that name a model's size or edition: siblings (`-Small` / `-Base`, `Pro` / `Max`)
# share abstracts, so a difference here is never taken for a typo.
_SIZE_WORDS = frozenset(
    {"xs", "s", "m", "l", "xl", "xxl", "tiny", "mini", "small", "base", "medium", "large"}
    | {"huge", "giant", "lite", "pro", "plus", "max", "ultra", "nano", "micro", "flash"}
)

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


def _is_roman(word: str, written: str, previous: str | None) -> bool:
    """A Roman numeral: after a part marker, or (two letters or more) in capitals, as
    titles write them (`Llama III`); a lowercase `vi` or `mix` is a word or a typo."""
    if not _ROMAN.match(word):
        return False
    return previous in _PART_MARKERS or (len(word) > 1 and written.isupper())


def number_signature(title: str, mistyped: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every number a title states, digits, numerals and number words alike, in order:
    two titles whose signatures differ are different papers (`Part I`/`Part II`, `V2`/`V3`).
    Number words in `mistyped` are left out (the other title has a typo of them)."""
    signature: list[str] = []
    previous: str | None = None
    for written in split_words(title):
        word = fold(written)
        digits = re.findall(r"\d+", word)
        if digits:
            signature.extend(str(int(d)) for d in digits)
        elif word in _NUMBER_WORDS and word not in mistyped:
            signature.append(_NUMBER_WORDS[word])
        elif _is_roman(word, written, previous):
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
    """Maps each folded word (hyphenated words joined, and apart) back to its spelling,
    to spot acronyms (`DDPM`)."""
    spelled = split_words(title, join_hyphens=True) + split_words(title)
    return {fold(token): token for token in spelled}


def word_forms(title: str) -> list[list[str]]:
    """The title's words with hyphenated words joined (`title_words`) and, when it has
    any, apart: `Self-Supervised Lerning` must meet `Self Supervised Learning`, and
    `Pre-trainng` must meet `Pretraining`."""
    folded = fold(title)
    joined, apart = split_words(folded, join_hyphens=True), split_words(folded)
    return [joined] if apart == joined else [joined, apart]


def _differing(title_a: str, title_b: str) -> list[list[tuple[str, str]]]:
    """For each form both titles have with the same number of words (at least
    MIN_TYPO_WORDS), the pairs of words that differ, when one or two do."""
    forms_a, forms_b = word_forms(title_a), word_forms(title_b)
    found = []
    # joined with joined, apart with apart (a title without hyphens has one form)
    for i, j in sorted({(0, 0), (len(forms_a) - 1, len(forms_b) - 1)}):
        words_a, words_b = forms_a[i], forms_b[j]
        if len(words_a) != len(words_b) or len(words_a) < MIN_TYPO_WORDS:
            continue
        differing = [(a, b) for a, b in zip(words_a, words_b, strict=True) if a != b]
        if 0 < len(differing) <= 2:
            found.append(differing)
    return found


def _allowed_edits(a: str, b: str) -> int:
    return 1 if max(len(a), len(b)) < 9 else 2


def _typo_pair(a: str, b: str) -> bool:
    """Two differing words read as one word mistyped: long enough to tell, at most one
    edit (two for long words), and at least one of them not a dictionary word."""
    if min(len(a), len(b)) < 5 or a.isdigit() or b.isdigit():
        return False
    if OSA.distance(a, b) > _allowed_edits(a, b):
        return False
    return not (is_known_word(a) and is_known_word(b))


def _close_pair(a: str, b: str) -> bool:
    """A difference that is a typo only with other evidence: an edit in a word of two
    letters or more (an acronym, a short word, a real word)."""
    if min(len(a), len(b)) < 2 or a.isdigit() or b.isdigit():
        return False
    return OSA.distance(a, b) <= _allowed_edits(a, b)


def _names_a_sibling(differing: list[tuple[str, str]]) -> bool:
    """One size or edition word for another, or one letter for another (`Base` / `Large`,
    `FooNet-S` / `FooNet-M`, `Part A` / `Part B`): siblings share abstracts, so this is
    never a typo (`Larrge-Scale` is one, and so is `End-T-End`, a letter dropped)."""
    return any(
        (a in _SIZE_WORDS and b in _SIZE_WORDS) or len(a) == len(b) == 1 for a, b in differing
    )


def _mistyped_numbers(candidates: list[list[tuple[str, str]]]) -> frozenset[str]:
    """Number words whose counterpart is a word that is no number (`zero` / `zerro`)."""
    return frozenset(
        word
        for differing in candidates
        for pair in differing
        for word, other in (pair, pair[::-1])
        if word in _NUMBER_WORDS and other not in _NUMBER_WORDS and not other.isdigit()
    )


def _has_acronym(differing: list[tuple[str, str]], originals: dict[str, str]) -> bool:
    return any(
        _is_acronym(originals.get(a, a)) or _is_acronym(originals.get(b, b)) for a, b in differing
    )


@dataclass(frozen=True)
class TitleMatch:
    """How two titles match (`tier`), and the words that differ (joined form first)."""

    tier: Tier
    differing: tuple[tuple[str, str], ...]


def title_variant(title_a: str, title_b: str) -> TitleMatch | None:
    """How two titles with different keys may still name one paper: `typo` when they
    differ only by plausible typos (enough on its own, with abstracts that do not
    disagree), `close` when the difference is a typo only if the abstracts agree closely
    (an acronym, a short word or a real word one letter apart), None when they never
    do. Either way the number signatures must be equal: numbers, numerals and parts
    always tell papers apart, and so do sizes (`7B` / `70B`, `V2` / `V3`, `Part I` / `II`)."""
    candidates = _differing(title_a, title_b)
    if not candidates or any(_names_a_sibling(differing) for differing in candidates):
        return None
    same_numbers = number_signature(title_a) == number_signature(title_b)
    if not same_numbers:
        # a mistyped number word (`Zerro-Shot`) is a typo with close evidence only
        mistyped = _mistyped_numbers(candidates)
        if not mistyped or number_signature(title_a, mistyped) != number_signature(
            title_b, mistyped
        ):
            return None
    originals = {**_original_tokens(title_a), **_original_tokens(title_b)}
    for differing in candidates if same_numbers else []:
        if all(_typo_pair(a, b) for a, b in differing) and not _has_acronym(differing, originals):
            return TitleMatch("typo", tuple(differing))
    for differing in candidates:
        if all(_close_pair(a, b) for a, b in differing):
            return TitleMatch("close", tuple(differing))
    return None


def typo_variant(title_a: str, title_b: str) -> bool:
    """True when two titles differ only by typos: same number signature, same word
    count, at most two words differing, each differing pair a plausible typo, and no
    acronym among them (`DDPM`/`DDIM` are different methods)."""
    match = title_variant(title_a, title_b)
    return match is not None and match.tier == "typo"
