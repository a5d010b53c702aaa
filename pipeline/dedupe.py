"""Which listings are the same paper.

Listings whose titles share a `title_key` are one paper. Beyond that, two keys join when
their titles differ only by a typo (`titles.typo_variant`) and their abstracts agree.
Candidate pairs come from word-position signatures: a typo variant has the same words
but for at most two positions, so when positions are dealt into five groups (position
mod 5), at least three groups are identical. Each title gets one signature per choice of
three groups (ten), stored in `core.title_signatures`; titles sharing a signature are
the only pairs compared. So there is no all-pairs comparison, the number of pairs grows
with the data rather than its square, and a new dump is compared with the existing keys
without re-reading old raw files.

A paper's id is the smallest `key_id` among its keys, a hash of the key's text: the
same input gives the same ids whatever order the files arrived in. When a merge gives a
paper a new id, the old one is kept in `core.paper_aliases`.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

import duckdb
import polars as pl
from rapidfuzz import fuzz

from pipeline.titles import title_words, typo_variant

SIGNATURE_GROUPS = 5
_GROUP_CHOICES = tuple(itertools.combinations(range(SIGNATURE_GROUPS), 3))
MIN_TYPO_WORDS = 4
# A signature shared by more titles than this is too generic to point at a typo.
MAX_SIGNATURE_TITLES = 50
ABSTRACT_SAMPLE = 600
ABSTRACT_AGREEMENT = 90.0


def key_id(title_key: str) -> str:
    """A key's id: `p` and 16 hex digits of the key's SHA-256 (`_NEW_KEYS_SQL` computes
    the same in DuckDB)."""
    return "p" + hashlib.sha256(title_key.encode("utf-8")).hexdigest()[:16]


# Signatures are computed in DuckDB, for a million titles at once. The words are those of
# `titles.title_words`, near enough: a signature only proposes a pair, which
# `_verified_pairs` then checks in Python. Each of the five groups is hashed once (MD5, the
# same in every DuckDB version, unlike `hash`), and each choice of three groups combines
# its groups' hashes with the word count and the choice, by shifts and XOR.
_CHOICES_SQL = str(
    [[i, a + 1, b + 1, c + 1] for i, (a, b, c) in enumerate(_GROUP_CHOICES)]
)  # [choice, group, group, group], 1-based as DuckDB lists are
SIGNATURES_SQL = f"""
CREATE OR REPLACE TEMP TABLE new_signatures AS
WITH worded AS (
    SELECT title_key, regexp_extract_all(
        regexp_replace(regexp_replace(lower(strip_accents(sample_title)),
            '(\\p{{L}})-(\\p{{L}})', '\\1\\2', 'g'), '(\\p{{L}})-(\\p{{L}})', '\\1\\2', 'g'),
        '[\\p{{L}}\\p{{N}}]+') AS words
    FROM new_keys
),
grouped AS (
    SELECT title_key, len(words) AS n,
           [(md5_number(array_to_string(list_slice(words, g + 1, -1, {SIGNATURE_GROUPS}), ' '))
             >> 67)::BIGINT
            FOR g IN range({SIGNATURE_GROUPS})] AS h
    FROM worded WHERE len(words) >= {MIN_TYPO_WORDS}
)
SELECT title_key,
       xor(xor(xor(h[c[2]], h[c[3]] << 1), h[c[4]] << 2), n * 16 + c[1]) AS signature
FROM grouped, unnest({_CHOICES_SQL}) AS choice(c)
"""


def abstracts_agree(a: str | None, b: str | None) -> bool:
    """Same abstract up to small edits; a missing abstract cannot contradict."""
    if not a or not b:
        return True
    norm_a = " ".join(title_words(a[:ABSTRACT_SAMPLE]))
    norm_b = " ".join(title_words(b[:ABSTRACT_SAMPLE]))
    return fuzz.ratio(norm_a, norm_b) >= ABSTRACT_AGREEMENT


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
class DedupeReport:
    new_listings: int = 0
    new_keys: int = 0
    fuzzy_pairs: int = 0
    merged_papers: int = 0
    touched_papers: list[str] = field(default_factory=list)


# Listings not in `core.paper_listings` yet: those of the files loaded since last time.
_UNASSIGNED_SQL = """
CREATE OR REPLACE TEMP TABLE unassigned AS
SELECT l.file_sha256, l.position, l.title_key, l.title
FROM raw.listings l ANTI JOIN core.paper_listings pl USING (file_sha256, position)
WHERE l.title_key IS NOT NULL
"""

_NEW_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE new_keys AS
SELECT title_key,
       'p' || left(sha256(title_key), 16) AS key_id,
       arg_min(title, (file_sha256, position)) AS sample_title
FROM unassigned u
ANTI JOIN core.title_keys k USING (title_key)
GROUP BY title_key
"""

# Each new key's paper: its own key id unless it was clustered with others.
_INSERT_KEYS_SQL = """
INSERT INTO core.title_keys BY NAME
SELECT n.title_key, n.key_id, coalesce(c.paper_id, n.key_id) AS paper_id, n.sample_title
FROM new_keys n LEFT JOIN clustered_keys c USING (title_key)
"""

_ASSIGN_LISTINGS_SQL = """
INSERT INTO core.paper_listings
SELECT k.paper_id, u.file_sha256, u.position
FROM unassigned u JOIN core.title_keys k USING (title_key)
ORDER BY k.paper_id, u.file_sha256, u.position
"""

# Pairs of keys sharing a signature that is neither unique nor too generic: a new key
# with an existing one, or two new keys. Narrowing to such signatures first keeps the
# joins small: almost every signature of a million titles is unique, and a small dump
# only counts the existing signatures it shares.
_CANDIDATES_SQL = f"""
WITH shared AS (
    SELECT signature FROM (
        SELECT signature FROM new_signatures
        UNION ALL
        SELECT signature FROM core.title_signatures SEMI JOIN new_signatures USING (signature)
    )
    GROUP BY signature HAVING count(*) BETWEEN 2 AND {MAX_SIGNATURE_TITLES}
),
new AS (SELECT * FROM new_signatures SEMI JOIN shared USING (signature)),
old AS (SELECT * FROM core.title_signatures SEMI JOIN shared USING (signature)),
pairs AS (
    SELECT n.title_key AS a, o.title_key AS b
    FROM new n JOIN old o USING (signature)
    UNION
    SELECT n.title_key, m.title_key
    FROM new n JOIN new m USING (signature)
    WHERE n.title_key < m.title_key
),
samples AS (
    SELECT title_key, sample_title, NULL::VARCHAR AS paper_id FROM new_keys
    UNION ALL
    SELECT k.title_key, k.sample_title, k.paper_id
    FROM core.title_keys k SEMI JOIN pairs p ON p.b = k.title_key
)
SELECT p.a, p.b, sa.sample_title AS title_a, sb.sample_title AS title_b, sb.paper_id AS paper_b
FROM pairs p
JOIN samples sa ON sa.title_key = p.a
JOIN samples sb ON sb.title_key = p.b
ORDER BY p.a, p.b
"""

# A key's abstract, for the agreement test: its first listing's (read for a few keys only).
_ABSTRACTS_SQL = f"""
SELECT title_key, left(arg_min(abstract, (file_sha256, position)), {ABSTRACT_SAMPLE})
FROM raw.listings SEMI JOIN typo_keys USING (title_key)
GROUP BY title_key
"""


def _verified_pairs(con: duckdb.DuckDBPyConnection) -> list[dict[str, str | None]]:
    """Candidate pairs that are typo variants with agreeing abstracts. Titles are checked
    first, so that abstracts are read only for the few pairs that pass."""
    typos = [
        pair
        for pair in con.sql(_CANDIDATES_SQL).pl().iter_rows(named=True)
        if typo_variant(pair["title_a"], pair["title_b"])
    ]
    keys = sorted({pair[side] for pair in typos for side in ("a", "b")})
    con.register("typo_keys", pl.DataFrame({"title_key": keys}, schema={"title_key": pl.String}))
    abstracts = dict(con.execute(_ABSTRACTS_SQL).fetchall())
    con.unregister("typo_keys")
    return [
        pair
        for pair in typos
        if abstracts_agree(abstracts.get(pair["a"]), abstracts.get(pair["b"]))
    ]


def assign_papers(con: duckdb.DuckDBPyConnection) -> DedupeReport:
    """Maps every listing not yet mapped to a paper: by title key, giving new keys a
    paper (merging typo variants). Runs inside the caller's transaction; the report
    names the papers touched, for `core.papers` to recompute."""
    con.execute(_UNASSIGNED_SQL)
    report = DedupeReport()
    report.merged_papers, merged_into = _assign_new_keys(con, report)
    con.execute(_ASSIGN_LISTINGS_SQL)
    touched = con.execute(
        """SELECT DISTINCT k.paper_id FROM unassigned u JOIN core.title_keys k USING (title_key)"""
    ).fetchall()
    report.new_listings = con.execute("SELECT count(*) FROM unassigned").fetchall()[0][0]
    report.touched_papers = sorted({row[0] for row in touched} | merged_into)
    con.execute("DROP TABLE unassigned")
    return report


def _assign_new_keys(con: duckdb.DuckDBPyConnection, report: DedupeReport) -> tuple[int, set[str]]:
    con.execute(_NEW_KEYS_SQL)
    report.new_keys = con.execute("SELECT count(*) FROM new_keys").fetchall()[0][0]
    merges: list[set[str]] = []
    if report.new_keys:
        con.execute(SIGNATURES_SQL)
        paper_of, merges = _cluster(con, report)
        con.register(
            "clustered_keys",
            pl.DataFrame(
                {"title_key": list(paper_of), "paper_id": list(paper_of.values())},
                schema={"title_key": pl.String, "paper_id": pl.String},
            ),
        )
        con.execute(_INSERT_KEYS_SQL)
        con.execute("INSERT INTO core.title_signatures SELECT * FROM new_signatures")
        con.unregister("clustered_keys")
        con.execute("DROP TABLE new_signatures")
    con.execute("DROP TABLE new_keys")
    return merge_papers(con, merges, "title typo variant"), {min(g) for g in merges}


def _cluster(
    con: duckdb.DuckDBPyConnection, report: DedupeReport
) -> tuple[dict[str, str], list[set[str]]]:
    """The paper of each new key in a verified typo pair (every other new key is a paper
    of its own): the smallest id among itself, the new keys it is a typo variant of and
    the existing papers it joins; plus the existing papers to merge."""
    links = _UnionFind()
    for pair in _verified_pairs(con):
        report.fuzzy_pairs += 1
        links.union(str(pair["a"]), str(pair["paper_b"] or pair["b"]))
    if not links.parent:
        return {}, []
    con.register("linked", pl.DataFrame({"item": list(links.parent)}, schema={"item": pl.String}))
    key_ids = dict(
        con.execute(
            "SELECT title_key, key_id FROM new_keys SEMI JOIN linked ON item = title_key"
        ).fetchall()
    )
    con.unregister("linked")
    paper_of: dict[str, str] = {}
    merges: list[set[str]] = []
    for group in links.groups():
        existing = {item for item in group if item not in key_ids}
        paper_id = min([key_ids[k] for k in group if k in key_ids] + list(existing))
        paper_of.update({k: paper_id for k in group if k in key_ids})
        if len(existing) > 1 or (existing and paper_id not in existing):
            merges.append(existing | {paper_id})
    return paper_of, merges


# After a merge, a paper keeps the best arXiv outcome among those of the ids it absorbed.
_FOLD_MATCHES_SQL = """
CREATE OR REPLACE TEMP TABLE folded_matches AS
SELECT * FROM (
    SELECT coalesce(a.paper_id, m.paper_id) AS paper_id, m.* EXCLUDE (paper_id)
    FROM core.arxiv_matches m LEFT JOIN core.paper_aliases a ON a.old_paper_id = m.paper_id
)
QUALIFY row_number() OVER (
    PARTITION BY paper_id
    ORDER BY CASE status WHEN 'matched' THEN 4 WHEN 'ambiguous' THEN 3 WHEN 'not_found' THEN 2
                         WHEN 'error' THEN 1 ELSE 0 END DESC,
             checked_at DESC NULLS LAST
) = 1;
DELETE FROM core.arxiv_matches;
INSERT INTO core.arxiv_matches SELECT * FROM folded_matches;
DROP TABLE folded_matches;
"""


# Groups are disjoint, so no move's new id is another's old one: one pass is enough.
_MOVE_PAPERS_SQL = """
UPDATE core.title_keys k SET paper_id = m.new_id FROM moves m WHERE k.paper_id = m.old_id;
INSERT INTO core.paper_aliases SELECT old_id, new_id, reason, now()::TIMESTAMP FROM moves;
UPDATE core.paper_aliases a SET paper_id = m.new_id FROM moves m WHERE a.paper_id = m.old_id;
UPDATE core.paper_listings l SET paper_id = m.new_id FROM moves m WHERE l.paper_id = m.old_id;
DELETE FROM core.papers WHERE paper_id IN (SELECT old_id FROM moves);
"""


def merge_papers(con: duckdb.DuckDBPyConnection, groups: list[set[str]], reason: str) -> int:
    """Makes each group of paper ids one paper under the smallest id, keeping aliases
    (old id -> current id) and the best arXiv outcome of the group."""
    moves = [(old, min(group)) for group in groups for old in sorted(group) if old != min(group)]
    if moves:
        # Set-based, one statement per table: a merge by arXiv ID can move thousands.
        con.register(
            "moves",
            pl.DataFrame(
                [(old, new, reason) for old, new in moves],
                schema={"old_id": pl.String, "new_id": pl.String, "reason": pl.String},
                orient="row",
            ),
        )
        con.execute(_MOVE_PAPERS_SQL)
        con.unregister("moves")
        con.execute(_FOLD_MATCHES_SQL)
    return len(moves)
