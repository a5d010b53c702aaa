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
import zlib
from collections.abc import Iterable
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
    return "p" + hashlib.sha256(title_key.encode("utf-8")).hexdigest()[:16]


def _stable_hash(text: str) -> int:
    """A cheap hash that is the same in every process (Python's own `hash` is not). A
    rare collision only adds a candidate pair, which verification then rejects."""
    data = text.encode()
    return (zlib.crc32(data) & 0x7FFFFFFF) << 32 | zlib.adler32(data)  # fits a BIGINT


def signatures(title: str) -> list[int]:
    """The title's word-position signatures (none below `MIN_TYPO_WORDS` words, which
    `typo_variant` never merges): two titles that may be typo variants share one."""
    words = title_words(title)
    if len(words) < MIN_TYPO_WORDS:
        return []
    groups = [" ".join(words[g::SIGNATURE_GROUPS]) for g in range(SIGNATURE_GROUPS)]
    return [
        _stable_hash(f"{len(words)}|{a}{b}{c}|{groups[a]}|{groups[b]}|{groups[c]}")
        for a, b, c in _GROUP_CHOICES
    ]


def abstracts_agree(a: str | None, b: str | None) -> bool:
    """Same abstract up to small edits; a missing abstract cannot contradict."""
    if not a or not b:
        return True
    norm_a = " ".join(title_words(a[:ABSTRACT_SAMPLE]))
    norm_b = " ".join(title_words(b[:ABSTRACT_SAMPLE]))
    return fuzz.ratio(norm_a, norm_b) >= ABSTRACT_AGREEMENT


def same_paper(title_a: str, abstract_a: str | None, title_b: str, abstract_b: str | None) -> bool:
    return typo_variant(title_a, title_b) and abstracts_agree(abstract_a, abstract_b)


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
SELECT l.file_sha256, l.position, l.title_key, l.title, l.abstract
FROM raw.listings l ANTI JOIN core.paper_listings pl USING (file_sha256, position)
WHERE l.title_key IS NOT NULL
"""

_NEW_KEYS_SQL = f"""
SELECT title_key,
       arg_min(title, (file_sha256, position)) AS sample_title,
       left(arg_min(abstract, (file_sha256, position)), {ABSTRACT_SAMPLE}) AS sample_abstract
FROM unassigned u
ANTI JOIN core.title_keys k USING (title_key)
GROUP BY title_key
"""

_ASSIGN_LISTINGS_SQL = """
INSERT INTO core.paper_listings
SELECT k.paper_id, u.file_sha256, u.position
FROM unassigned u JOIN core.title_keys k USING (title_key)
ORDER BY k.paper_id, u.file_sha256, u.position
"""

_CANDIDATES_SQL = f"""
WITH generic AS (
    SELECT signature FROM (
        SELECT signature FROM new_signatures
        UNION ALL
        SELECT signature FROM core.title_signatures
    )
    GROUP BY signature HAVING count(*) > {MAX_SIGNATURE_TITLES}
),
new AS (SELECT * FROM new_signatures ANTI JOIN generic USING (signature)),
pairs AS (
    SELECT DISTINCT n.title_key AS a, o.title_key AS b
    FROM new n JOIN core.title_signatures o USING (signature)
    UNION
    SELECT DISTINCT n.title_key, m.title_key
    FROM new n JOIN new m USING (signature)
    WHERE n.title_key < m.title_key
),
samples AS (
    SELECT title_key, sample_title, sample_abstract, NULL::VARCHAR AS paper_id FROM new_keys
    UNION ALL
    SELECT k.title_key, k.sample_title, k.sample_abstract, k.paper_id
    FROM core.title_keys k SEMI JOIN pairs p ON p.b = k.title_key
)
SELECT p.a, p.b, sa.sample_title AS title_a, sa.sample_abstract AS abstract_a,
       sb.sample_title AS title_b, sb.sample_abstract AS abstract_b, sb.paper_id AS paper_b
FROM pairs p
JOIN samples sa ON sa.title_key = p.a
JOIN samples sb ON sb.title_key = p.b
"""


def _new_keys(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Creates the temp table `new_keys` and the frame `new_signatures`; returns the
    new keys with their key ids."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_keys AS {_NEW_KEYS_SQL}")
    rows = con.execute("SELECT title_key, sample_title FROM new_keys").fetchall()
    keys = [row[0] for row in rows]
    sigs = [signatures(row[1] or "") for row in rows]
    frame = (
        pl.DataFrame(
            {"title_key": keys, "signature": sigs},
            schema={"title_key": pl.String, "signature": pl.List(pl.Int64)},
        )
        .explode("signature")
        .drop_nulls("signature")
    )
    con.register("new_signatures", frame)
    return {key: key_id(key) for key in keys}


def _verified_pairs(con: duckdb.DuckDBPyConnection) -> Iterable[dict[str, str | None]]:
    for pair in con.sql(_CANDIDATES_SQL).pl().iter_rows(named=True):
        if same_paper(pair["title_a"], pair["abstract_a"], pair["title_b"], pair["abstract_b"]):
            yield pair


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
    key_ids = _new_keys(con)
    report.new_keys = len(key_ids)
    if key_ids:
        paper_of, merges = _cluster(con, key_ids, report)
        assigned = pl.DataFrame(
            {
                "title_key": list(key_ids),
                "key_id": list(key_ids.values()),
                "paper_id": [paper_of[key] for key in key_ids],
            },
            schema={"title_key": pl.String, "key_id": pl.String, "paper_id": pl.String},
        )
        con.register("assigned_keys", assigned)
        con.execute(
            """INSERT INTO core.title_keys BY NAME
               SELECT n.title_key, a.key_id, a.paper_id, n.sample_title, n.sample_abstract
               FROM new_keys n JOIN assigned_keys a USING (title_key)"""
        )
        con.execute("INSERT INTO core.title_signatures SELECT * FROM new_signatures")
        con.unregister("assigned_keys")
    con.unregister("new_signatures")
    con.execute("DROP TABLE new_keys")
    if not key_ids:
        return 0, set()
    return merge_papers(con, merges, "title typo variant"), {min(g) for g in merges}


def _cluster(
    con: duckdb.DuckDBPyConnection, key_ids: dict[str, str], report: DedupeReport
) -> tuple[dict[str, str], list[set[str]]]:
    """Each new key's paper: the smallest id among itself, the new keys it is a typo
    variant of and the existing papers it joins; plus the existing papers to merge."""
    links = _UnionFind()
    for key in key_ids:
        links.find(key)
    for pair in _verified_pairs(con):
        report.fuzzy_pairs += 1
        links.union(pair["a"], pair["paper_b"] or pair["b"])
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


def merge_papers(con: duckdb.DuckDBPyConnection, groups: list[set[str]], reason: str) -> int:
    """Makes each group of paper ids one paper under the smallest id, keeping aliases
    (old id -> current id) and the best arXiv outcome of the group."""
    moves = [(old, min(group)) for group in groups for old in sorted(group) if old != min(group)]
    if moves:
        con.executemany(
            "UPDATE core.title_keys SET paper_id = ? WHERE paper_id = ?",
            [(new, old) for old, new in moves],
        )
        con.executemany(
            "INSERT INTO core.paper_aliases VALUES (?, ?, ?, now()::TIMESTAMP)",
            [(old, new, reason) for old, new in moves],
        )
        con.executemany(
            "UPDATE core.paper_aliases SET paper_id = ? WHERE paper_id = ?",
            [(new, old) for old, new in moves],
        )
        con.executemany(
            "UPDATE core.paper_listings SET paper_id = ? WHERE paper_id = ?",
            [(new, old) for old, new in moves],
        )
        con.executemany("DELETE FROM core.papers WHERE paper_id = ?", [(old,) for old, _ in moves])
        con.execute(_FOLD_MATCHES_SQL)
    return len(moves)
