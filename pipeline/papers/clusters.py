"""Title clusters: which title keys name one paper, before arXiv says more.

Listings whose titles share a `title_key` are one paper. Beyond that, two keys join one
cluster when their titles differ only by a typo (`titles.typo_variant`) and their
abstracts agree. Candidate pairs come from word-position signatures: a typo variant has
the same words but for at most two positions, so when positions are dealt into five
groups (position mod 5), at least three groups are identical. Each title gets one
signature per choice of three groups (ten), stored in `internal.title_signatures`; titles
sharing a signature are the only pairs compared. So there is no all-pairs comparison,
the number of pairs grows with the data rather than its square, and a new dump is
compared with the existing keys without re-reading old raw files.

A cluster's id is the smallest `key_id` among its keys, a hash of the key's text: the
same input gives the same ids whatever order the files arrived in.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz

from pipeline.db.connection import Connection, registered, scalar
from pipeline.papers.titles import typo_variant
from pipeline.text import title_words, title_words_sql

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


# Signatures are computed in DuckDB, for a million titles at once. Each of the five
# groups is hashed once (MD5, the same in every DuckDB version, unlike `hash`), and each
# choice of three groups combines its groups' hashes with the word count and the choice,
# by shifts and XOR.
_CHOICES_SQL = str(
    [[i, a + 1, b + 1, c + 1] for i, (a, b, c) in enumerate(_GROUP_CHOICES)]
)  # [choice, group, group, group], 1-based as DuckDB lists are
SIGNATURES_SQL = f"""
CREATE OR REPLACE TEMP TABLE new_signatures AS
WITH worded AS (
    SELECT title_key, {title_words_sql("sample_title")} AS words FROM new_keys
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
class ClusterReport:
    new_keys: int = 0
    typo_pairs: int = 0
    clusters_merged: int = 0


# Title keys not clustered yet: those of the files loaded since last time.
_NEW_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE new_keys AS
SELECT title_key,
       'p' || left(sha256(title_key), 16) AS key_id,
       arg_min(title, (file_sha256, position)) AS sample_title
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
WITH shared AS (
    SELECT signature FROM (
        SELECT signature FROM new_signatures
        UNION ALL
        SELECT signature FROM internal.title_signatures SEMI JOIN new_signatures USING (signature)
    )
    GROUP BY signature HAVING count(*) BETWEEN 2 AND {MAX_SIGNATURE_TITLES}
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
),
samples AS (
    SELECT title_key, sample_title, NULL::VARCHAR AS cluster_id FROM new_keys
    UNION ALL
    SELECT k.title_key, k.sample_title, k.cluster_id
    FROM internal.title_keys k SEMI JOIN pairs p ON p.b = k.title_key
)
SELECT p.a, p.b, sa.sample_title AS title_a, sb.sample_title AS title_b,
       sb.cluster_id AS cluster_b
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

# Groups are disjoint, so no move's new id is another's old one: one pass is enough.
_MERGE_CLUSTERS_SQL = """
UPDATE internal.title_keys k SET cluster_id = m.new_id FROM moves m WHERE k.cluster_id = m.old_id
"""


def _verified_pairs(con: Connection) -> list[dict[str, str | None]]:
    """Candidate pairs that are typo variants with agreeing abstracts. Titles are checked
    first, so that abstracts are read only for the few pairs that pass."""
    typos = [
        pair
        for pair in con.sql(_CANDIDATES_SQL).pl().iter_rows(named=True)
        if typo_variant(pair["title_a"], pair["title_b"])
    ]
    keys = sorted({pair[side] for pair in typos for side in ("a", "b")})
    typo_keys = pl.DataFrame({"title_key": keys}, schema={"title_key": pl.String})
    with registered(con, typo_keys=typo_keys):
        abstracts = dict(con.execute(_ABSTRACTS_SQL).fetchall())
    return [
        pair
        for pair in typos
        if abstracts_agree(abstracts.get(pair["a"]), abstracts.get(pair["b"]))
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
