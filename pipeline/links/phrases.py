"""What the text around a repository link says of it: the sentence holding the link,
and the phrase nearest it, own code ("our code is available at …") or use ("built on
…", "we use …"). Found once per link when the links step scans new listings, and by
the arXiv step for its records; `pipeline.github.roles` weighs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_OWN = re.compile(
    r"\bour (?:own )?(?:code|codes|implementation|source code|models?|weights|data ?sets?|data"
    r"|benchmark|toolkit|library|framework|project|repository|repo|system|tool|pipeline)\b"
    r"|\bcodes? (?:and [a-z ,]+ )?(?:is|are|will be|has been|have been) (?:\w+ ){0,2}"
    r"(?:available|released|open[- ]?sourced|accessible|provided|hosted)\b"
    r"|\bwe (?:release|open[- ]?source|publish|make|provide|share|maintain)\b"
    r"|\b(?:publicly |freely )?available (?:at|on|from|here|via)\b"
    r"|\bcan be (?:found|accessed|downloaded) (?:at|on|from|here)\b"
    r"|\b(?:code|project|github|repo|repository|implementation)s?\s*(?:page)?\s*:"
    r"|\bopen[- ]sourced?\b|\breleased (?:at|on)\b",
)
_USE = re.compile(
    r"\bbuil(?:t|d|ding) (?:up)?on\b|\bbased on\b|\bon top of\b|\bpowered by\b"
    r"|\bwe (?:use|used|adopt|adopted|employ|employed|leverage|leveraged|utilize|utilized"
    r"|follow|followed|extend|extended|borrow|borrowed|fine-?tune|fine-?tuned|rely on)\b"
    r"|\busing\b|\bimplemented (?:with|in|using)\b|\bwith the help of\b"
    r"|\bbaselines?\b|\bprovided by\b|\b(?:adapted|taken|obtained|forked|derived) from\b"
    r"|\bet al\b|\bcompared? (?:with|to|against)\b|\bprior work\b|\bthird[- ]party\b"
    r"|\b(?:existing|popular|widely used|off-the-shelf) (?:\w+ )?"
    r"(?:tools?|toolkits?|librar(?:y|ies)|frameworks?|implementations?|codebases?)\b"
    r"|\b(?:the )?(?:official )?(?:implementation|code) (?:of|from)\b",
)
# A sentence ends at . ! ? before a space, or at a line break; not after "et al." and
# the like.
_REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# Sentences are looked for this far around a link (abstracts run to a few thousand
# characters; a sentence is far shorter).
_SENTENCE_WINDOW = 600
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
# Words after which a full stop does not end the sentence ("Smith et al. (github…)").
_ABBREVIATIONS = re.compile(r"(?:\bal|\be\.g|\bi\.e|\bcf|\bvs|\bFig|\bEq)$")


@dataclass(frozen=True)
class LinkPhrase:
    """What the text around one link says of it: the sentence, and the nearest own-code
    (`own:…`) or use (`use:…`) phrase."""

    sentence: str | None
    phrase: str | None


NOTHING_SAID = LinkPhrase(None, None)


def sentence_around(text: str, repo: str) -> tuple[str, int, int] | None:
    """The sentence holding the link to `repo`, and where the link starts and ends in it.
    One compiled pattern finds every GitHub link (this runs once per link found)."""
    found = _find_link(text, repo.lower())
    if found is None:
        return None
    link_start, link_end = found
    window = max(0, link_start - _SENTENCE_WINDOW)
    before = _SENTENCE_END.finditer(text, window, link_start)
    last = next((end for end in reversed(list(before)) if _ends_sentence(text, end)), None)
    start = last.end() if last else window
    after = next(_sentence_ends(text, link_end, link_end + _SENTENCE_WINDOW), None)
    stop = after.start() + 1 if after else min(len(text), link_end + _SENTENCE_WINDOW)
    sentence = text[start:stop].strip()
    offset = text.index(sentence, start) if sentence else start
    return sentence, link_start - offset, link_end - offset


def _find_link(text: str, wanted: str) -> tuple[int, int] | None:
    """Where `github.com/<wanted>` is in `text` (any case; a trailing `.git` or full stop
    aside), from the host to the end of the name."""
    lowered = text.lower()
    at = lowered.find("github.com/")
    while at >= 0:
        name = _REPO_NAME.match(text, at + len("github.com/"))
        if name is not None:
            raw = name.group(0).rstrip(".")
            if raw.lower().removesuffix(".git") == wanted:
                return at, name.start() + len(raw)
        at = lowered.find("github.com/", at + 1)
    return None


def _ends_sentence(text: str, end: re.Match[str]) -> bool:
    """Whether a full stop, mark or line break found by `_SENTENCE_END` ends a sentence."""
    return end.group(0) == "\n" or not _ABBREVIATIONS.search(
        text, max(0, end.start() - 4), end.start()
    )


def _sentence_ends(text: str, start: int, stop: int) -> Iterator[re.Match[str]]:
    return (end for end in _SENTENCE_END.finditer(text, start, stop) if _ends_sentence(text, end))


def link_phrase(text: str | None, repo: str) -> LinkPhrase:
    found = sentence_around(text, repo) if text else None
    if found is None:
        return NOTHING_SAID
    nearest = _nearest_phrase(*found)
    return LinkPhrase(found[0], f"{nearest[0]}:{nearest[1]}" if nearest else None)


def _nearest_phrase(sentence: str, link_start: int, link_end: int) -> tuple[str, str] | None:
    """('own' or 'use', phrase) of the phrase nearest the link: what the sentence says of
    this link when it names several (weighing phrases after the link a little less)."""
    lowered = sentence.lower()
    best: tuple[float, str, str] | None = None
    for kind, pattern in (("own", _OWN), ("use", _USE)):
        for match in pattern.finditer(lowered):
            if match.start() >= link_start and match.end() <= link_end:
                continue  # inside the URL itself
            if match.end() <= link_start:
                distance = float(link_start - match.end())
            else:
                distance = 1.5 * max(0, match.start() - link_end)
            if best is None or distance < best[0]:
                best = (distance, kind, match.group(0).strip())
    return (best[1], best[2]) if best else None
