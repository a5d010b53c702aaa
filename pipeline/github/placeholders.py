"""Placeholder repositories: links that promise code and hold none.

The known failure of paper code links is a repository created for the paper's
announcement and never filled: no commits at all, or a README ("code coming soon"),
perhaps a licence, a `.gitignore` and a figure. A repository is a placeholder when it is
empty, or when every file at its top is such filler and its README says the code is to
come, is only a few lines, or is missing. A repository with any other file (a folder, a
script, a notebook) is not judged: its code may be anywhere in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SHORT_README_LINES = 3
_FILLER = re.compile(
    r"^(readme|license|licence|copying|notice|citation)(\.[a-z]+)?$"
    r"|^\.git(ignore|attributes|keep)$"
    r"|\.(png|jpe?g|gif|svg|webp|pdf)$",
    re.IGNORECASE,
)
_COMING = re.compile(
    r"\bcoming\s+soon\b|\bstay\s+tuned\b|\bunder\s+construction\b|\bto\s+be\s+released\b"
    r"|\b(?:will|would)\s+be\s+(?:made\s+)?(?:publicly\s+)?"
    r"(?:released|available|uploaded|open[- ]?sourced|published)\b"
    r"|\b(?:released|available)\s+soon\b|\bafter\s+(?:the\s+)?(?:paper\s+is\s+)?accept",
    re.IGNORECASE,
)


def says_code_is_coming(readme: str) -> bool:
    return _COMING.search(readme) is not None


def readme_lines(readme: str) -> int:
    """Lines with words in them (headings, badges and blank lines aside)."""
    return sum(1 for line in readme.splitlines() if re.search(r"[A-Za-z]{2,}", line))


def only_filler(root_files: Sequence[str]) -> bool:
    return all(_FILLER.search(name) for name in root_files)


def needs_root_listing(readme: str | None) -> bool:
    """Whether a README is suspicious enough to look at the repository's top files
    (a REST request; GraphQL answers list them anyway)."""
    return (
        readme is None or says_code_is_coming(readme) or readme_lines(readme) < SHORT_README_LINES
    )


def placeholder_reason(
    status: str, readme: str | None, root_files: Sequence[str] | None
) -> str | None:
    """Why the repository is a placeholder, or None when it is not (or cannot be told)."""
    if status == "empty":
        return "empty: no commits"
    if status not in ("ok", "moved") or root_files is None or not only_filler(root_files):
        return None
    if readme is None:
        return "no code: only " + ", ".join(sorted(root_files)) if root_files else "no files"
    if says_code_is_coming(readme):
        return "only a README saying the code is coming"
    if (lines := readme_lines(readme)) < SHORT_README_LINES:
        return f"only a README of {lines} line{'s' if lines != 1 else ''}"
    return None
