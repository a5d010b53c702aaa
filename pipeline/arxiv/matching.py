"""Resolve paper titles to arXiv IDs, precision first: a wrong ID is worse than none.

A candidate is accepted only when its title says the same thing as ours (same words up to
case, punctuation, hyphenation, accents, TeX and typos, and exactly the same numbers), and
when the title alone is weak evidence (short, a sub- or superset of ours, or merely close)
the abstracts must agree too. Two candidates that remain equally good are `ambiguous`.

Requests are few: titles go out in OR'ed phrase batches; only titles left unmatched are
asked for alone, and then word by word, because arXiv's phrase search trips over hyphens.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from rapidfuzz import fuzz

from pipeline.arxiv.api import (
    MAX_RESULTS_PER_CALL,
    REQUEST_ERRORS,
    ArxivClient,
    ArxivError,
    ArxivRecord,
    SearchPage,
    clean_title_for_query,
    title_phrase_query,
    title_words_query,
)
from pipeline.arxiv.tex import normalize, plain_text
from pipeline.papers.titles import number_signature, typo_variant
from pipeline.text import fold, title_key, title_words

Status = Literal["matched", "not_found", "ambiguous", "error"]
Method = Literal["batch_phrase", "single_phrase", "words"]
# How a candidate's title stands to ours: `same` up to spelling and typos, `close` (a word
# or two apart), `contains` (one's words a strict subset of the other's), or neither.
Relation = Literal["same", "close", "contains", "different", "numbers_differ"]
STATUSES: tuple[Status, ...] = ("matched", "not_found", "ambiguous", "error")

# Title evidence, 0-100 (rapidfuzz). Below CLOSE_TITLE a candidate is another paper.
CLOSE_TITLE = 90.0
# Abstract evidence: AGREE confirms; below CONFLICT the abstracts describe another paper.
# Unrelated English abstracts already score 45-55 on plain similarity, while revisions
# of one abstract stay near 90.
ABSTRACT_AGREE = 85.0
ABSTRACT_CONFLICT = 60.0
# Two candidates closer than this on every score are equally good.
TIE_MARGIN = 5.0
# A title this short or generic names many papers: the abstract must agree.
SHORT_TITLE_WORDS = 3
SHORT_TITLE_CHARS = 25

# --- Evidence for one candidate -------------------------------------------------------


@dataclass(frozen=True)
class TitleQuery:
    paper_id: str
    title: str
    abstract: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The outcome for one paper. `candidates` lists the IDs that tied when ambiguous;
    `error` says why a request failed (status `error`) or why nothing could be searched."""

    paper_id: str
    status: Status
    arxiv_id: str | None = None
    version: int | None = None
    score: float | None = None
    method: Method = "batch_phrase"
    record: ArxivRecord | None = None
    error: str | None = None
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreparedQuery:
    """A query's title and abstract, normalized once for all its candidates."""

    query: TitleQuery
    plain: str
    words: tuple[str, ...]
    key: str
    signature: tuple[str, ...]
    abstract: str | None
    phrase: str

    @property
    def short(self) -> bool:
        return len(self.words) <= SHORT_TITLE_WORDS or len(" ".join(self.words)) < SHORT_TITLE_CHARS


def prepare(query: TitleQuery) -> PreparedQuery:
    plain = plain_text(query.title)
    abstract = normalize(query.abstract) if query.abstract else None
    return PreparedQuery(
        query=query,
        plain=plain,
        words=tuple(title_words(plain)),
        key=title_key(plain),
        signature=number_signature(plain),
        abstract=abstract or None,
        phrase=clean_title_for_query(fold(plain)),
    )


@dataclass(frozen=True)
class Candidate:
    """How one arXiv record compares with a query, and whether it may be the paper."""

    record: ArxivRecord
    title_score: float
    title_relation: Relation
    abstract_score: float | None
    accepted: bool

    @property
    def abstract_agrees(self) -> bool:
        return self.abstract_score is not None and self.abstract_score >= ABSTRACT_AGREE


def abstract_similarity(ours: str, theirs: str) -> float:
    """0-100 agreement of two normalized abstracts; tolerant of reordering and of one
    being a truncated copy of the other, so revisions and clipped summaries still agree."""
    score = max(fuzz.ratio(ours, theirs), fuzz.token_sort_ratio(ours, theirs))
    shorter = min(len(ours), len(theirs))
    if shorter >= 100 and shorter < 0.9 * max(len(ours), len(theirs)):
        score = max(score, fuzz.partial_ratio(ours, theirs) - 3.0)  # a clipped copy
    return float(score)


def _title_relation(
    query: PreparedQuery, plain: str, words: Sequence[str]
) -> tuple[float, Relation]:
    ours, theirs = " ".join(query.words), " ".join(words)
    if number_signature(plain) != query.signature:
        return fuzz.ratio(ours, theirs), "numbers_differ"  # Part I is not Part II
    if title_key(plain) == query.key:
        return 100.0, "same"
    score = float(fuzz.ratio(ours, theirs))
    if typo_variant(query.plain, plain):
        return score, "same"
    ours_set, theirs_set = set(query.words), set(words)
    if ours_set < theirs_set or theirs_set < ours_set:
        return score, "contains"  # token-set similarity would call these identical
    if min(score, fuzz.token_sort_ratio(ours, theirs)) >= CLOSE_TITLE:
        return score, "close"
    return score, "different"


def assess(query: PreparedQuery, record: ArxivRecord) -> Candidate:
    """Compare one record with a query and decide whether it can be the same paper."""
    plain = plain_text(record.title)
    title_score, relation = _title_relation(query, plain, title_words(plain))
    # Abstracts decide only between titles that could be ours; comparing them for every
    # unrelated hit of a batch would cost more time than the request interval.
    comparable = relation in ("same", "close", "contains")
    theirs = normalize(record.abstract) if record.abstract and comparable else ""
    abstract_score = (
        abstract_similarity(query.abstract, theirs) if query.abstract and theirs else None
    )
    agrees = abstract_score is not None and abstract_score >= ABSTRACT_AGREE
    conflicts = abstract_score is not None and abstract_score < ABSTRACT_CONFLICT
    if relation == "same":
        accepted = agrees if query.short else not conflicts
    else:
        accepted = relation in ("close", "contains") and agrees
    return Candidate(record, title_score, relation, abstract_score, accepted)


def _rank(candidate: Candidate) -> tuple[bool, float, float]:
    return (candidate.abstract_agrees, candidate.abstract_score or 0.0, candidate.title_score)


def _tied(best: Candidate, other: Candidate) -> bool:
    if best.abstract_agrees != other.abstract_agrees:
        return False
    if abs((best.abstract_score or 0.0) - (other.abstract_score or 0.0)) >= TIE_MARGIN:
        return False
    return abs(best.title_score - other.title_score) < TIE_MARGIN


def _score(candidate: Candidate) -> float:
    """Reported confidence, 0-1: title similarity, averaged with the abstract's if known."""
    if candidate.abstract_score is None:
        return round(candidate.title_score / 100, 3)
    return round((candidate.title_score + candidate.abstract_score) / 200, 3)


def decide(
    query: PreparedQuery,
    records: Iterable[ArxivRecord],
    *,
    method: Method,
    complete: bool = True,
) -> Resolution:
    """Pick the one record that is this paper, or say why none can be picked.

    `complete` says whether the search returned all its hits; if not, a title-only match
    could hide an unseen namesake, so it is reported `ambiguous` rather than matched."""
    paper_id = query.query.paper_id
    unique = {record.arxiv_id: record for record in records}
    assessed = [assess(query, record) for record in unique.values()]
    accepted = sorted((c for c in assessed if c.accepted), key=_rank, reverse=True)
    if not accepted:
        # A short title that arXiv does carry, with nothing to confirm which paper it is.
        namesakes = tuple(c.record.arxiv_id for c in assessed if _unconfirmed_namesake(query, c))
        if namesakes:
            note = "short title: the abstract must confirm it"
            return Resolution(
                paper_id, "ambiguous", method=method, error=note, candidates=namesakes
            )
        return Resolution(paper_id, "not_found", method=method)
    best = accepted[0]
    tied = [c for c in accepted[1:] if _tied(best, c)]
    if tied or (not complete and not best.abstract_agrees):
        ids = tuple(c.record.arxiv_id for c in [best, *tied])
        return Resolution(paper_id, "ambiguous", score=_score(best), method=method, candidates=ids)
    record = best.record
    return Resolution(
        paper_id,
        "matched",
        arxiv_id=record.arxiv_id,
        version=record.version,
        score=_score(best),
        method=method,
        record=record,
    )


def _unconfirmed_namesake(query: PreparedQuery, candidate: Candidate) -> bool:
    conflicts = (
        candidate.abstract_score is not None and candidate.abstract_score < ABSTRACT_CONFLICT
    )
    return query.short and candidate.title_relation == "same" and not conflicts


# --- Word-by-word fallback ------------------------------------------------------------

_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into"),
        *("is", "it", "its", "of", "on", "or", "over", "the", "their", "this", "to", "via"),
        *("vs", "what", "when", "where", "which", "with", "without", "we", "you", "your"),
        *("our", "how", "why", "can", "do", "does", "not", "no", "all", "any", "using"),
        *("based", "towards", "toward", "through", "than", "then", "beyond", "between"),
    }
)
# Words that are often written both joined and hyphenated (`multimodal`/`multi-modal`):
# arXiv indexes the two spellings as different terms, so they make poor search terms.
_COMPOUND_PREFIXES = (
    "pre", "post", "multi", "self", "non", "semi", "cross", "intra", "zero", "few", "meta",
    "hyper", "ultra", "sub",
)  # fmt: skip
_WORD_SPLIT = re.compile(r"[\W_]+")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")


def search_words(plain_title: str, limit: int = 6) -> list[str]:
    """Distinctive words of a title to AND together, longest first; hyphenated words and
    likely compounds are avoided since arXiv may spell them the other way."""
    folded = fold(plain_title)
    hyphenated = {w for m in _HYPHENATED.findall(folded) for w in _WORD_SPLIT.split(m)}
    words: list[str] = []
    for word in _WORD_SPLIT.split(folded):
        if len(word) < 3 or word in _STOPWORDS or not word.isascii() or word in words:
            continue
        if word.isdigit():
            continue
        if word not in hyphenated:
            words.append(word)
    safe = [w for w in words if not (w.startswith(_COMPOUND_PREFIXES) and len(w) > 6)]
    chosen = safe if len(safe) >= 2 else words
    return sorted(chosen, key=len, reverse=True)[:limit]


# --- The run --------------------------------------------------------------------------


@dataclass
class MatchRun:
    """A run's results: one resolution per query, in input order; the records of matched
    IDs; and how many requests it took."""

    resolutions: list[Resolution]
    records: dict[str, ArxivRecord]
    requests: int
    empty_retries: int = 0
    counts: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[dict[str, int]], None]


class ArxivMatcher:
    """Resolves titles with few requests: OR'ed phrase batches of `batch_size` titles
    (`per_title_results` hits each), then a phrase query for each title still unmatched,
    then a word query for those still not found."""

    def __init__(
        self,
        client: ArxivClient,
        *,
        batch_size: int = 8,
        per_title_results: int = 5,
        phrase_max_results: int = 10,
        words_max_results: int = 20,
    ) -> None:
        if batch_size < 1 or per_title_results < 1:
            raise ValueError("batch_size and per_title_results must be at least 1")
        self.client = client
        self.batch_size = batch_size
        self.per_title_results = per_title_results
        self.phrase_max_results = phrase_max_results
        self.words_max_results = words_max_results

    def resolve(
        self, queries: Sequence[TitleQuery], on_progress: ProgressCallback | None = None
    ) -> MatchRun:
        """Resolve every query; request failures become `error` resolutions, never an
        exception, so one bad batch does not cost the run."""
        run = _Run(self, [prepare(q) for q in queries], on_progress)
        run.execute()
        return run.result()


class _Run:
    """State of one `resolve` call: which queries are settled and what was seen."""

    def __init__(
        self,
        matcher: ArxivMatcher,
        items: list[PreparedQuery],
        on_progress: ProgressCallback | None,
    ) -> None:
        self.m = matcher
        self.client = matcher.client
        self.items = items
        self.on_progress = on_progress
        self.final: dict[int, Resolution] = {}
        self.seen: dict[int, dict[str, ArxivRecord]] = {i: {} for i in range(len(items))}
        self.fully_searched: set[int] = set()
        self.start_requests = self.client.requests_made
        self.start_empty = self.client.empty_retries

    def execute(self) -> None:
        for i, item in enumerate(self.items):
            if not item.phrase:
                self._settle(i, Resolution(item.query.paper_id, "not_found", error="empty title"))
        self._batches()
        self._singles()
        self._complete_records()

    def _by_phrase(self, indices: Iterable[int]) -> dict[str, list[int]]:
        """Queries grouped by search phrase, so a title listed twice is searched once."""
        groups: dict[str, list[int]] = {}
        for i in indices:
            groups.setdefault(self.items[i].phrase, []).append(i)
        return groups

    def _batches(self) -> None:
        groups = self._by_phrase(i for i in range(len(self.items)) if i not in self.final)
        phrases = list(groups)
        for start in range(0, len(phrases), self.m.batch_size):
            batch = phrases[start : start + self.m.batch_size]
            indices = [i for phrase in batch for i in groups[phrase]]
            page = self._search(
                title_phrase_query(batch),
                self.m.per_title_results * len(batch),
                indices,
                "batch_phrase",
            )
            if page is not None:
                for i in indices:
                    self._judge(i, page, "batch_phrase", settle_on={"matched"})
                if page.complete:
                    self.fully_searched.update(indices)
            self._progress()

    def _singles(self) -> None:
        """A phrase query of its own for a title whose batch answer was cut short (a
        complete batch answer already held every hit its phrase has); then words."""
        pending = [i for i in range(len(self.items)) if i not in self.final]
        for phrase, indices in self._by_phrase(
            i for i in pending if i not in self.fully_searched
        ).items():
            page = self._search(
                title_phrase_query([phrase]), self.m.phrase_max_results, indices, "single_phrase"
            )
            if page is not None:
                for i in indices:
                    self._judge(i, page, "single_phrase", settle_on={"matched", "ambiguous"})
            self._progress()
        self._words([i for i in pending if i not in self.final])

    def _words(self, indices: list[int]) -> None:
        """Word-by-word queries, OR'ed in batches like the phrases; a title whose batch
        answer was cut short is asked about again alone."""
        searchable: dict[str, list[int]] = {}
        for i in indices:
            words = search_words(self.items[i].plain)
            if words:
                searchable.setdefault(title_words_query(words), []).append(i)
            else:
                self._judge_seen(i, "single_phrase")
        queries = list(searchable)
        for start in range(0, len(queries), self.m.batch_size):
            batch = queries[start : start + self.m.batch_size]
            members = [i for q in batch for i in searchable[q]]
            self._words_batch(batch, members, searchable)
            self._progress()

    def _words_batch(
        self, batch: list[str], members: list[int], searchable: dict[str, list[int]]
    ) -> None:
        combined = " OR ".join(f"({q})" for q in batch) if len(batch) > 1 else batch[0]
        limit = min(MAX_RESULTS_PER_CALL, self.m.words_max_results * len(batch))
        page = self._search(combined, limit, members, "words")
        if page is None:
            return
        final = {"matched", "ambiguous"} | ({"not_found"} if page.complete else set())
        for i in members:
            self._judge(i, page, "words", settle_on=final)
        if len(batch) > 1 and not page.complete:
            for q in batch:
                left = [i for i in searchable[q] if i not in self.final]
                if left:
                    self._words_batch([q], left, searchable)
        else:
            for i in members:
                if i not in self.final:
                    self._judge_seen(i, "words")

    def _search(
        self, search_query: str, max_results: int, indices: list[int], method: Method
    ) -> SearchPage | None:
        """One search; a failure settles `indices` as `error` and returns None."""
        try:
            return self.client.search(search_query, max_results=max_results)
        except (ArxivError, *REQUEST_ERRORS) as exc:
            for i in indices:
                paper_id = self.items[i].query.paper_id
                self._settle(i, Resolution(paper_id, "error", method=method, error=str(exc)))
            return None

    def _judge(self, i: int, page: SearchPage, method: Method, settle_on: set[str]) -> None:
        """Decide on everything seen so far for query `i`, so that a namesake seen in an
        earlier request still counts against a later candidate."""
        self.seen[i].update({r.arxiv_id: r for r in page.records})
        resolution = decide(
            self.items[i], self.seen[i].values(), method=method, complete=page.complete
        )
        if resolution.status in settle_on:
            self._settle(i, resolution)

    def _judge_seen(self, i: int, method: Method) -> None:
        self._settle(i, decide(self.items[i], self.seen[i].values(), method=method))

    def _settle(self, i: int, resolution: Resolution) -> None:
        self.final[i] = resolution

    def _complete_records(self) -> None:
        """Search entries are full records; fetch by ID only those that came back short."""
        short = {
            r.arxiv_id
            for r in self.final.values()
            if r.status == "matched"
            and r.arxiv_id
            and (r.record is None or not r.record.is_complete)
        }
        if not short:
            return
        fetched = self.client.fetch(sorted(short))
        for i, resolution in self.final.items():
            record = fetched.records.get(resolution.arxiv_id or "")
            if record is not None:
                self.final[i] = replace(resolution, record=record, version=record.version)

    def counts(self) -> dict[str, int]:
        tally = Counter(r.status for r in self.final.values())
        counts = {status: tally.get(status, 0) for status in STATUSES}
        counts.update(
            total=len(self.items),
            done=len(self.final),
            requests=self.client.requests_made - self.start_requests,
        )
        return counts

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.counts())

    def result(self) -> MatchRun:
        resolutions = [self.final[i] for i in range(len(self.items))]
        records = {r.arxiv_id: r.record for r in resolutions if r.arxiv_id and r.record is not None}
        return MatchRun(
            resolutions=resolutions,
            records=records,
            requests=self.client.requests_made - self.start_requests,
            empty_retries=self.client.empty_retries - self.start_empty,
            counts=self.counts(),
        )
