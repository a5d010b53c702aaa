"""arXiv identifiers: validate them and split off the version.

arXiv refuses a whole `id_list` request when one ID in it is malformed, so every ID is
validated here before it is sent, and stored in one canonical form (no version, old-style
IDs without their subject class) so that joins across sources agree.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Archives of old-style identifiers (`hep-th/9901001`), which ran from 1991 to March 2007.
OLD_ARCHIVES = frozenset(
    {
        "acc-phys",
        "adap-org",
        "alg-geom",
        "ao-sci",
        "astro-ph",
        "atom-ph",
        "bayes-an",
        "chao-dyn",
        "chem-ph",
        "cmp-lg",
        "comp-gas",
        "cond-mat",
        "cs",
        "dg-ga",
        "funct-an",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math",
        "math-ph",
        "mtrl-th",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "patt-sol",
        "physics",
        "plasm-ph",
        "q-alg",
        "q-bio",
        "quant-ph",
        "solv-int",
        "supr-con",
    }
)

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z][a-z-]*[a-z](?:\.[a-z]{2})?/\d{7}"
_VERSION = r"(?:v(?P<version>\d+))?"
_ID_RE = re.compile(rf"(?:arxiv:\s*)?(?P<id>{_NEW}|{_OLD}){_VERSION}", re.IGNORECASE)


class ArxivId(NamedTuple):
    """An ID without its version, and the version when one was given."""

    id: str
    version: int | None

    def __str__(self) -> str:
        return format_arxiv_id(self.id, self.version)


def format_arxiv_id(arxiv_id: str, version: int | None = None) -> str:
    """The ID as arXiv writes it, `2401.01234v2`, or without `vN` when version is None."""
    return arxiv_id if version is None else f"{arxiv_id}v{version}"


def _valid_new(yymm: int, number: str) -> bool:
    month = yymm % 100
    if not 1 <= month <= 12 or int(number) == 0:
        return False
    # Four-digit sequence numbers ran from April 2007 to December 2014, five from 2015.
    return 704 <= yymm <= 1412 if len(number) == 4 else yymm >= 1501


def _valid_old(archive: str, digits: str) -> bool:
    year, month = int(digits[:2]), int(digits[2:4])
    if archive not in OLD_ARCHIVES or not 1 <= month <= 12 or int(digits[4:]) == 0:
        return False
    chronological = (year - 91) % 100 * 100 + month  # 9107 -> 7, 0703 -> 1603
    return 7 <= chronological <= 1603


def _canonical(raw_id: str) -> str | None:
    """The canonical form of a syntactically plausible ID, or None if it cannot exist."""
    if "/" not in raw_id:
        yymm, number = raw_id.split(".")
        return raw_id if _valid_new(int(yymm), number) else None
    archive_part, digits = raw_id.split("/")
    # `math.GT/0309136` is cited by arXiv as `math/0309136`: the class is not part of it.
    archive = archive_part.split(".")[0].lower()
    return f"{archive}/{digits}" if _valid_old(archive, digits) else None


def _from_match(match: re.Match[str]) -> ArxivId | None:
    version_text = match.group("version")
    version = int(version_text) if version_text is not None else None
    if version == 0:
        return None
    canonical = _canonical(match.group("id"))
    return ArxivId(canonical, version) if canonical is not None else None


def parse_arxiv_id(text: str) -> ArxivId | None:
    """`(id without version, version or None)` when the whole of `text` (optionally
    prefixed `arXiv:`) is one valid ID, else None."""
    match = _ID_RE.fullmatch(text.strip())
    return _from_match(match) if match else None
