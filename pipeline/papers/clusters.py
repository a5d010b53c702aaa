"""Title clusters: which title keys name one paper, before arXiv says more.

Listings whose titles share a `title_key` are one paper. Beyond that, two keys join one
cluster when their titles match (`titles.title_variant`) and their listings agree
(`same_paper`): a plain typo needs abstracts that do not disagree; a `close` match (a
one-letter difference in an acronym, a short word or a real word) needs both abstracts
to agree closely, and stated author counts and organizations to agree. Abstracts agree
when their openings are alike up to small edits, or when all but a sentence or so of
the shorter one is in the other (a revised abstract).

Candidate pairs come from word-position signatures: a typo variant has the same words
but for at most two positions, so when positions are dealt into five groups (position
mod 5), at least three groups are identical. Each spelling of a title key (hyphenated
words joined, and apart, so a typo plus a hyphenation change still lines up) gets one
signature per choice of three groups (ten); a title of up to MAX_SHORT_WORDS words also
gets one per word left out, which a one-word typo variant shares and few others do. They
are stored in `internal.title_signatures`. Keys sharing a signature that few keys have
(MAX_LEFT_OUT_TITLES, MAX_GROUP_TITLES) are the only pairs compared, every spelling of
one with every spelling of the other, after a check of the keys alone (`_plausible`). So
there is no all-pairs comparison, the number of pairs grows with the data rather than its
square, and a new dump is compared with the existing keys without re-reading old raw
files.

A cluster's id is the smallest `key_id` among its keys, a hash of the key's text: the
same input gives the same ids whatever order the files arrived in.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from pipeline.db.connection import Connection, registered, scalar
from pipeline.papers.titles import MIN_TYPO_WORDS, TitleMatch, title_variant
from pipeline.text import joins_hyphens_sql, title_words, title_words_sql

SIGNATURE_GROUPS = 5
# Titles up to this many words also get one signature per word left out: it pairs a
# one-word typo variant with few other titles, where three groups of a short title from a
# small vocabulary are shared by hundreds.
MAX_SHORT_WORDS = 16
_GROUP_CHOICES = tuple(itertools.combinations(range(SIGNATURE_GROUPS), 3))
# The most keys a signature may have and still pair them (more is a common phrase, not a
# typo): a title but one word is nearly unique; three groups of a title, less so.
MAX_LEFT_OUT_TITLES = 50
MAX_GROUP_TITLES = 12
MAX_SPELLINGS = 8  # of one key, compared and given signatures
MAX_KEY_EDITS = 4  # two differing words, two edits each at most
MAX_ABSTRACTS = 16  # of one key, compared (one title may be several papers)
# Abstract agreement: the opening's similarity (0-100), or sentences shared.
ABSTRACT_SAMPLE = 600
ABSTRACT_READ = 4000
OPENING, SENTENCES = 90.0, 2
CLOSE_SIMILARITY, CLOSE_SENTENCES = 97.0, 3
SAME_ABSTRACT = 99.5
SENTENCE_AGREEMENT = 95.0
SENTENCE_SHARE = 0.8
MIN_SENTENCE = 20
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def key_id(title_key: str) -> str:
    """A key's id: `p` and 16 hex digits of the key's SHA-256 (`_NEW_KEYS_SQL` computes
    the same in DuckDB)."""
    return "p" + hashlib.sha256(title_key.encode("utf-8")).hexdigest()[:16]


# Signatures are computed in DuckDB, for a million titles at once. Each of the five
# groups is hashed once (MD5, the same in every DuckDB version, unlike `hash`), and each
# choice of three groups combines its groups' hashes with the word count and the choice,
# by shifts and XOR.
_CHOICES_SQL = str(
    [[i, a + 1, b + 1, c + 1] for i, (a, b, c) in enumerate(_GROUP_CHOICES)]
)  # [choice, group, group, group], 1-based as DuckDB lists are
SIGNATURES_SQL = f"""
CREATE OR REPLACE TEMP TABLE new_title_words AS
WITH spelled AS (SELECT title_key, unnest(spellings) AS title FROM new_keys)
SELECT DISTINCT title_key, words FROM (
    SELECT title_key, {title_words_sql("title")} AS words FROM spelled
    UNION ALL
    SELECT title_key, {title_words_sql("title", join_hyphens=False)} FROM spelled
    WHERE {joins_hyphens_sql("title")}
)
WHERE len(words) >= {MIN_TYPO_WORDS};

CREATE OR REPLACE TEMP TABLE new_signatures AS
WITH grouped AS (
    SELECT title_key, len(words) AS n,
           [(md5_number(array_to_string(list_slice(words, g + 1, -1, {SIGNATURE_GROUPS}), ' '))
             >> 67)::BIGINT
            FOR g IN range({SIGNATURE_GROUPS})] AS h
    FROM new_title_words
)
SELECT title_key,
       xor(xor(xor(h[c[2]], h[c[3]] << 1), h[c[4]] << 2), n * 16 + c[1]) AS signature
FROM grouped, unnest({_CHOICES_SQL}) AS choice(c)
UNION ALL
-- a short title but word i, negative so that the two kinds never meet
SELECT title_key,
       -1 - (md5_number(i || ':' || array_to_string(list_concat(list_slice(words, 1, i),
                                                                list_slice(words, i + 2, -1)),
                                                    ' ')) >> 67)::BIGINT
FROM (
    SELECT title_key, words, unnest(range(len(words))) AS i FROM new_title_words
    WHERE len(words) <= {MAX_SHORT_WORDS}
);

DROP TABLE new_title_words;
"""


@dataclass(frozen=True)
class Evidence:
    """What a title key's listings say besides the title."""

    abstract: str | None
    authors_count: int | None
    org_handle: str | None


def _sentences(text: str) -> list[str]:
    """The abstract's sentences, as words, long enough to tell apart."""
    words = (" ".join(title_words(part)) for part in _SENTENCE_END.split(text))
    return [sentence for sentence in words if len(sentence) >= MIN_SENTENCE]


def shared_sentences(a: str, b: str) -> tuple[int, float]:
    """How many sentences of the shorter abstract the other has (up to small edits), and
    their share of its sentences: a sentence added or dropped leaves the rest shared."""
    shorter, longer = sorted((_sentences(a), _sentences(b)), key=len)
    if not shorter:
        return 0, 0.0
    found = sum(
        any(fuzz.ratio(s, t, score_cutoff=SENTENCE_AGREEMENT) for t in longer) for s in shorter
    )
    return found, found / len(shorter)


def abstract_similarity(a: str, b: str, limit: int = ABSTRACT_SAMPLE) -> float:
    """0-100: how alike the first `limit` characters of two abstracts are."""
    return fuzz.ratio(" ".join(title_words(a[:limit])), " ".join(title_words(b[:limit])))


def abstracts_agree(a: str | None, b: str | None) -> bool:
    """Same abstract up to small edits, or all but a sentence or so of it shared (a
    revised abstract); a missing abstract cannot contradict."""
    if not a or not b:
        return True
    if abstract_similarity(a, b) >= OPENING:
        return True
    found, share = shared_sentences(a, b)
    return found >= SENTENCES and share >= SENTENCE_SHARE


def abstracts_agree_closely(a: str | None, b: str | None) -> bool:
    """Both abstracts, the same up to small edits over their whole length, or one's
    every sentence (three at least) in the other, which adds or drops a sentence or two.
    Siblings that share an opening, or all sentences but a changed one, do not."""
    if not a or not b:
        return False
    if abstract_similarity(a, b, ABSTRACT_READ) >= CLOSE_SIMILARITY:
        return True
    found, share = shared_sentences(a, b)
    return found >= CLOSE_SENTENCES and share == 1.0


def _uses(abstract: str | None, word: str) -> bool:
    """The abstract has the word (or, for a word of four letters or more, a word it
    begins: `graph` in `graphs`)."""
    if not abstract:
        return False
    words = title_words(abstract)
    return word in words if len(word) < 4 else any(w.startswith(word) for w in words)


def _deliberate(match: TitleMatch, a: Evidence, b: Evidence) -> bool:
    """A differing word that one listing's abstract uses and the other's does not: the
    titles name what their abstracts are about (`DDPM`, `DDIM`), not a typo of it."""
    return any(
        (_uses(a.abstract, word_a) and not _uses(b.abstract, word_a))
        or (_uses(b.abstract, word_b) and not _uses(a.abstract, word_b))
        for word_a, word_b in match.differing
    )


def _facts_disagree(a: Evidence, b: Evidence) -> bool:
    """Author counts or organizations that both listings state, and that differ."""
    return any(
        mine is not None and theirs is not None and mine != theirs
        for mine, theirs in ((a.authors_count, b.authors_count), (a.org_handle, b.org_handle))
    )


def same_paper(match: TitleMatch, a: Evidence, b: Evidence) -> bool:
    """Whether two keys whose titles match are one paper. A plain typo needs abstracts
    that agree (or are missing). A `close` match needs both abstracts to agree closely,
    and no differing word that one abstract uses and the other does not; where the
    listings state different author counts or organizations, the abstracts must be the
    same but for an edit or two (listings of one paper do disagree on those at times;
    siblings' abstracts differ more)."""
    if match.tier == "typo":
        return abstracts_agree(a.abstract, b.abstract)
    if _deliberate(match, a, b) or not abstracts_agree_closely(a.abstract, b.abstract):
        return False
    if not _facts_disagree(a, b):
        return True
    return abstract_similarity(str(a.abstract), str(b.abstract), ABSTRACT_READ) >= SAME_ABSTRACT


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[set[str]]:
        by_root: dict[str, set[str]] = {}
        for item in list(self.parent):
            by_root.setdefault(self.find(item), set()).add(item)
        return list(by_root.values())


@dataclass
class ClusterReport:
    new_keys: int = 0
    typo_pairs: int = 0
    clusters_merged: int = 0


# Title keys not clustered yet: those of the files loaded since last time.
_NEW_KEYS_SQL = f"""
CREATE OR REPLACE TEMP TABLE new_keys AS
SELECT title_key,
       'p' || left(sha256(title_key), 16) AS key_id,
       arg_min(title, (file_sha256, position)) AS sample_title,
       list_slice(list_sort(list_distinct(list(title))), 1, {MAX_SPELLINGS}) AS spellings
FROM raw.listings l
ANTI JOIN internal.title_keys k USING (title_key)
WHERE title_key IS NOT NULL
GROUP BY title_key
"""

# Each new key's cluster: its own key id unless it was clustered with others.
_INSERT_KEYS_SQL = """
INSERT INTO internal.title_keys BY NAME
SELECT n.title_key, n.key_id, coalesce(c.cluster_id, n.key_id) AS cluster_id, n.sample_title
FROM new_keys n LEFT JOIN clustered_keys c USING (title_key)
"""

# Pairs of keys sharing a signature that is neither unique nor too generic: a new key
# with an existing one, or two new keys. Narrowing to such signatures first keeps the
# joins small: almost every signature of a million titles is unique, and a small dump
# only counts the existing signatures it shares.
_CANDIDATES_SQL = f"""
CREATE OR REPLACE TEMP TABLE candidate_pairs AS
WITH shared AS (
    SELECT signature FROM (
        SELECT signature FROM new_signatures
        UNION ALL
        SELECT signature FROM internal.title_signatures SEMI JOIN new_signatures USING (signature)
    )
    GROUP BY signature
    HAVING count(*) BETWEEN 2 AND CASE WHEN signature < 0 THEN {MAX_LEFT_OUT_TITLES}
                                       ELSE {MAX_GROUP_TITLES} END
),
new AS (SELECT * FROM new_signatures SEMI JOIN shared USING (signature)),
old AS (SELECT * FROM internal.title_signatures SEMI JOIN shared USING (signature)),
pairs AS (
    SELECT n.title_key AS a, o.title_key AS b
    FROM new n JOIN old o USING (signature)
    UNION
    SELECT n.title_key, m.title_key
    FROM new n JOIN new m USING (signature)
    WHERE n.title_key < m.title_key
)
SELECT p.a, p.b, k.cluster_id AS cluster_b
FROM pairs p LEFT JOIN internal.title_keys k ON k.title_key = p.b
"""

# Every spelling of the keys in candidate pairs (one key's titles differ in case,
# hyphens and spacing): a typo of any spelling is compared with every other.
_SPELLINGS_SQL = f"""
WITH paired AS (
    SELECT a AS title_key FROM plausible_pairs UNION SELECT b FROM plausible_pairs
)
SELECT title_key, list_slice(list_sort(list_distinct(list(title))), 1, {MAX_SPELLINGS})
FROM raw.listings SEMI JOIN paired USING (title_key)
GROUP BY title_key
"""

# What the listings of a key say besides the title, for the keys of title-matched pairs
# only: their abstracts (a few; one key may be two papers of one title, or one paper with
# a revised abstract), and the first stated author count and organization.
_EVIDENCE_SQL = f"""
SELECT title_key,
       list_slice(list_sort(list_distinct(list(left(abstract, {ABSTRACT_READ})))), 1,
                  {MAX_ABSTRACTS}),
       arg_min(authors_count, (file_sha256, position)) FILTER (authors_count IS NOT NULL),
       arg_min(org_handle, (file_sha256, position)) FILTER (org_handle IS NOT NULL)
FROM raw.listings SEMI JOIN typo_keys USING (title_key)
GROUP BY title_key
"""


# Groups are disjoint, so no move's new id is another's old one: one pass is enough.
_MERGE_CLUSTERS_SQL = """
UPDATE internal.title_keys k SET cluster_id = m.new_id FROM moves m WHERE k.cluster_id = m.old_id
"""


def _best_match(spellings_a: list[str], spellings_b: list[str]) -> TitleMatch | None:
    """The strongest way any spelling of one key matches any spelling of the other."""
    matches = [title_variant(a, b) for a in spellings_a for b in spellings_b]
    found = [m for m in matches if m is not None]
    return min(found, key=lambda m: m.tier != "typo", default=None)


def _plausible(pairs: pl.DataFrame) -> pl.DataFrame:
    """The candidate pairs whose keys could match, told by the keys alone: the same
    digits, and at most MAX_KEY_EDITS edits apart (the most two differing words can be;
    a key ignores hyphens and spaces, so a hyphenation change costs nothing). Most
    candidates of titles from a small vocabulary end here, before a title is parsed."""
    if pairs.is_empty():
        return pairs
    digits = pl.col("a").str.extract_all(r"\d+") == pl.col("b").str.extract_all(r"\d+")
    pairs = pairs.filter(digits)
    near = [
        OSA.distance(a, b, score_cutoff=MAX_KEY_EDITS) <= MAX_KEY_EDITS
        for a, b in zip(pairs["a"], pairs["b"], strict=True)
    ]
    return pairs.filter(pl.Series(near, dtype=pl.Boolean))


def _verified_pairs(con: Connection) -> list[dict[str, str | None]]:
    """Candidate pairs whose titles match (`title_variant`) and whose listings agree
    (`same_paper`). Cheap tests come first: keys in bulk, then titles, so that abstracts
    are read only for the few pairs whose titles pass."""
    con.execute(_CANDIDATES_SQL)
    pairs = _plausible(con.sql("SELECT * FROM candidate_pairs ORDER BY a, b").pl())
    con.execute("DROP TABLE candidate_pairs")
    with registered(con, plausible_pairs=pairs):
        spellings = dict(con.execute(_SPELLINGS_SQL).fetchall())
    matched = []
    for pair in pairs.iter_rows(named=True):
        match = _best_match(spellings.get(pair["a"], []), spellings.get(pair["b"], []))
        if match is not None:
            matched.append((pair, match))
    keys = sorted({pair[side] for pair, _ in matched for side in ("a", "b")})
    typo_keys = pl.DataFrame({"title_key": keys}, schema={"title_key": pl.String})
    with registered(con, typo_keys=typo_keys):
        evidence = {
            key: [Evidence(text, authors, org) for text in abstracts or [None]]
            for key, abstracts, authors, org in con.execute(_EVIDENCE_SQL).fetchall()
        }
    missing = [Evidence(None, None, None)]
    return [
        pair
        for pair, match in matched
        if any(
            same_paper(match, a, b)
            for a in evidence.get(pair["a"], missing)
            for b in evidence.get(pair["b"], missing)
        )
    ]


def cluster_new_keys(con: Connection) -> ClusterReport:
    """Gives every title key not clustered yet its cluster, joining typo variants (and
    merging existing clusters a new key bridges). Runs inside the caller's transaction."""
    con.execute(_NEW_KEYS_SQL)
    report = ClusterReport(new_keys=int(scalar(con, "SELECT count(*) FROM new_keys") or 0))
    if report.new_keys:
        con.execute(SIGNATURES_SQL)
        cluster_of, moves = _cluster(con, report)
        clustered = pl.DataFrame(
            {"title_key": list(cluster_of), "cluster_id": list(cluster_of.values())},
            schema={"title_key": pl.String, "cluster_id": pl.String},
        )
        moved = pl.DataFrame(moves, schema={"old_id": pl.String, "new_id": pl.String}, orient="row")
        with registered(con, clustered_keys=clustered, moves=moved):
            con.execute(_MERGE_CLUSTERS_SQL)
            con.execute(_INSERT_KEYS_SQL)
        con.execute("INSERT INTO internal.title_signatures SELECT * FROM new_signatures")
        con.execute("DROP TABLE new_signatures")
        report.clusters_merged = len(moves)
    con.execute("DROP TABLE new_keys")
    return report


def _cluster(
    con: Connection, report: ClusterReport
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The cluster of each new key in a verified typo pair (every other new key is a
    cluster of its own): the smallest id among itself, the new keys it is a typo variant
    of and the existing clusters it joins; plus the existing clusters to re-id
    (old id, new id)."""
    links = _UnionFind()
    for pair in _verified_pairs(con):
        report.typo_pairs += 1
        links.union(str(pair["a"]), str(pair["cluster_b"] or pair["b"]))
    if not links.parent:
        return {}, []
    linked = pl.DataFrame({"item": list(links.parent)}, schema={"item": pl.String})
    with registered(con, linked=linked):
        key_ids = dict(
            con.execute(
                "SELECT title_key, key_id FROM new_keys SEMI JOIN linked ON item = title_key"
            ).fetchall()
        )
    cluster_of: dict[str, str] = {}
    moves: list[tuple[str, str]] = []
    for group in links.groups():
        existing = {item for item in group if item not in key_ids}
        cluster_id = min([key_ids[k] for k in group if k in key_ids] + list(existing))
        cluster_of.update({k: cluster_id for k in group if k in key_ids})
        moves += [(old, cluster_id) for old in sorted(existing) if old != cluster_id]
    return cluster_of, moves
