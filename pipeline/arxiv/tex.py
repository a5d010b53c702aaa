"""arXiv's titles and abstracts are TeX-flavoured: plain text for comparing them with
listings (`$x$` keeps `x`, `\\emph{x}` keeps `x`, accents go onto their letter)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.text import collapse, title_words

_GREEK_COMMANDS = frozenset(
    {
        *("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta"),
        *("theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi"),
        *("rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi"),
        *("psi", "omega"),
    }
)
_GREEK_NAME = re.compile(r"^GREEK (?:SMALL|CAPITAL) LETTER (?:FINAL )?([A-Z]+)$")
_TEX_ACCENT = re.compile(r"\\(?:[`'^\"~=.]|[cvuHkdbrt](?![a-zA-Z]))\s*(?:\{(\w?)\}|(\w))")
# Letters TeX writes as commands (`\ss`, `\o`, `\aa`): their plain-letter spelling.
_TEX_LETTER = {"ss": "ss", "o": "o", "O": "O", "aa": "a", "AA": "A", "ae": "ae", "AE": "AE",
               "l": "l", "L": "L", "i": "i", "j": "j", "oe": "oe", "OE": "OE"}  # fmt: skip
_TEX_LETTER_RE = re.compile(r"\\(ss|o|O|aa|AA|ae|AE|l|L|i|j|oe|OE)(?![a-zA-Z]) ?")
# Letters that unicode does not decompose into a base letter and an accent.
_LATIN_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "\u0131": "i", "ß": "ss",
     "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ð": "d"}
)  # fmt: skip
# Sub- and superscripts glue to their base (`n^2`, `n²`, `x_i`).
_TEX_SCRIPT = re.compile(r"(?<!\\)[\^_]")
_TEX_ESCAPE = re.compile(r"\\([%&$#_{}])")
_TEX_COMMAND = re.compile(r"\\([a-zA-Z]+)\*?")
_TEX_SPACING = re.compile(r"\\[,;:! ]|\\\\|~")
_DOLLAR_PLACEHOLDER = "\x00"


def strip_tex(text: str) -> str:
    """Plain text from arXiv's TeX-flavoured titles and abstracts: `$x$` keeps `x`,
    `\\emph{x}` keeps `x`, `\\%` is `%`, accents go onto their letter, `--` is a dash,
    braces and line breaks disappear."""
    text = _TEX_LETTER_RE.sub(lambda m: _TEX_LETTER[m.group(1)], text)
    text = _TEX_ACCENT.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _TEX_ESCAPE.sub(lambda m: _DOLLAR_PLACEHOLDER if m.group(1) == "$" else m.group(1), text)
    text = _TEX_SCRIPT.sub("", text.replace("$", ""))
    text = _TEX_SPACING.sub(" ", text)
    # Greek keeps its name so that `$\alpha$` meets the Greek letter; other commands
    # (`\emph`, `\mathbf`) vanish and leave their argument.
    text = _TEX_COMMAND.sub(lambda m: m.group(1) if m.group(1) in _GREEK_COMMANDS else "", text)
    text = text.replace("{", "").replace("}", "").replace(_DOLLAR_PLACEHOLDER, "$")
    text = text.replace("---", "-").replace("--", "-")
    return collapse(text)


@lru_cache(maxsize=256)
def _greek_name(ch: str) -> str:
    match = _GREEK_NAME.match(unicodedata.name(ch, ""))
    return match.group(1).lower() if match else ch


def plain_text(text: str) -> str:
    """TeX-free, NFKC text with Greek letters spelled out (as TeX writes them) and `&` as
    `and`."""
    text = unicodedata.normalize("NFKC", strip_tex(text)).translate(_LATIN_LETTERS)
    text = "".join(_greek_name(ch) if "\u0370" <= ch <= "\u03ff" else ch for ch in text)
    return collapse(text.replace("&", " and "))


def normalize(text: str) -> str:
    """Comparison form of a title or abstract: the words of `title_words`, one space apart."""
    return " ".join(title_words(plain_text(text)))
