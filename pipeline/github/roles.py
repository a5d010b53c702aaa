"""Official or mentioned: what each repository linked to a paper is to that paper.

A paper's abstract links its own code ("our code is available at …") as readily as the
tools it used ("built on …", "we use …") and other papers' code it compares with. A
wrong `official` is worse than none, so precision comes first: `official` needs either
strong evidence (Hugging Face's own field, set by authors or admins; a README that cites
the paper; Papers with Code's `is_official`) or an own-code phrase nearest the link with
nothing against it; `mentioned` needs a use phrase nearest the link, or a repository
that many papers link (a shared tool); everything else is `unknown`. A paper keeps
several official repositories only when the evidence says so (strong evidence for each,
or one sentence naming them together); otherwise the candidates without strong
evidence become `unknown`.

Every decision lists the signals it used, stored with the link in `core.paper_repos`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from pipeline.links.phrases import NOTHING_SAID, LinkPhrase
from pipeline.text import fold, split_words

LINKED_BY_MANY = 3
NEAR_BEFORE = timedelta(days=180)
NEAR_AFTER = timedelta(days=365)
LONG_BEFORE = timedelta(days=365)
STRONG = frozenset({"huggingface_stated", "readme_cites_paper", "pwc_official"})


@dataclass(frozen=True)
class LinkContext:
    """What is known about one (paper, repository) link."""

    repo: str  # owner/name as linked
    sources: tuple[str, ...]  # abstract, huggingface, arxiv, pwc_archive
    said: LinkPhrase = NOTHING_SAID  # what the text linking it says
    paper_title: str | None = None
    arxiv_id: str | None = None
    paper_date: date | None = None
    authors: tuple[str, ...] = ()
    org_handle: str | None = None
    repo_owner: str | None = None  # canonical owner, after renames
    repo_created: datetime | None = None
    readme: str | None = None
    papers_linking: int = 1
    pwc_official: bool | None = None


@dataclass(frozen=True)
class Role:
    role: str  # official, mentioned, unknown
    signals: tuple[str, ...]
    sentence: str | None = None
    strong: bool = field(default=False, compare=False)


def _cites_paper(readme: str, arxiv_id: str | None, title: str | None) -> bool:
    text = readme.lower()
    if arxiv_id and (arxiv_id in text or f"huggingface.co/papers/{arxiv_id}" in text):
        return True
    words = split_words(fold(title)) if title else []
    return len(words) >= 4 and " ".join(words) in " ".join(split_words(fold(readme)))


def _owner_matches(owner: str, authors: Sequence[str], org: str | None) -> str | None:
    handle = re.sub(r"[^a-z0-9]", "", owner.lower())
    if org and handle == re.sub(r"[^a-z0-9]", "", org.lower()):
        return "owner_is_organization"
    for author in authors:
        parts = [re.sub(r"[^a-z0-9]", "", p) for p in fold(author).split()]
        parts = [p for p in parts if len(p) > 1]
        if len(parts) >= 2 and (
            handle in {"".join(parts), parts[0] + parts[-1], parts[0][0] + parts[-1]}
            or handle == parts[-1] + parts[0]
        ):
            return "owner_is_author"
    return None


def _time_signal(created: datetime | None, paper: date | None) -> str | None:
    if created is None or paper is None:
        return None
    day = datetime.combine(paper, datetime.min.time())
    if day - NEAR_BEFORE <= created <= day + NEAR_AFTER:
        return "created_near_paper"
    return "created_long_before" if created < day - LONG_BEFORE else None


def classify(link: LinkContext) -> Role:
    """The role of one link, from its own evidence (see the module docstring)."""
    signals: list[str] = []
    if "huggingface" in link.sources:
        signals.append("huggingface_stated")
    if link.pwc_official:
        signals.append("pwc_official")
    elif link.pwc_official is False:
        signals.append("pwc_not_official")
    if link.readme and _cites_paper(link.readme, link.arxiv_id, link.paper_title):
        signals.append("readme_cites_paper")
    phrase = link.said.phrase.split(":", 1) if link.said.phrase else None
    if phrase:
        signals.append(f"{phrase[0]}_phrase:{phrase[1]}")
    if link.papers_linking >= LINKED_BY_MANY:
        signals.append(f"linked_by_{link.papers_linking}_papers")
    if when := _time_signal(link.repo_created, link.paper_date):
        signals.append(when)
    owner = link.repo_owner or link.repo.split("/")[0]
    if who := _owner_matches(owner, link.authors, link.org_handle):
        signals.append(who)
    strong = any(s in STRONG for s in signals)
    role = _decide(strong, phrase[0] if phrase else None, signals)
    return Role(role, tuple(signals), link.said.sentence, strong)


def _decide(strong: bool, phrase: str | None, signals: Sequence[str]) -> str:
    shared = any(s.startswith("linked_by_") for s in signals)
    old = "created_long_before" in signals
    if strong:
        return "official"
    if phrase == "use" or (shared and phrase != "own"):
        return "mentioned"
    if "pwc_not_official" in signals:  # Papers with Code judged it someone else's
        return "unknown" if phrase == "own" else "mentioned"
    if phrase == "own":
        return "unknown" if shared or old else "official"
    near = "created_near_paper" in signals
    ours = "owner_is_author" in signals or "owner_is_organization" in signals
    return "official" if near and ours else "unknown"


def settle_paper(roles: Sequence[Role]) -> list[Role]:
    """At most one official repository per paper unless the evidence says several: with
    several candidates, those with strong evidence stay official (all of them), or, when
    none has, all stay if one sentence names them together; the rest become unknown."""
    officials = [r for r in roles if r.role == "official"]
    if len(officials) <= 1:
        return list(roles)
    if any(r.strong for r in officials):
        keep = {id(r) for r in officials if r.strong}
    elif len({r.sentence for r in officials}) == 1 and officials[0].sentence:
        keep = {id(r) for r in officials}
    else:
        keep = set()
    return [
        r
        if r.role != "official" or id(r) in keep
        else replace(r, role="unknown", signals=(*r.signals, "another_candidate_official"))
        for r in roles
    ]
