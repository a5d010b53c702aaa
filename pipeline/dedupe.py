"""Which listings are the same paper.

Listings whose titles share a `title_key` are one paper. Beyond that, two keys join when
their titles differ only by a typo (`titles.typo_variant`) and their abstracts agree.
Candidate pairs come from blocking on the first and last `BLOCK_CHARS` characters of the
key: a single typo leaves one end intact, so no all-pairs comparison is needed, and a
new dump is compared with the existing keys in the warehouse without re-reading old raw
files. The blocks are computed from the keys at query time, so a warehouse written with
another block width is still compared correctly.

A paper's id is the smallest `key_id` among its keys, a hash of the key's text: the
same input gives the same ids whatever order the files arrived in. When a merge gives a
paper a new id, the old one is kept in `core.paper_aliases`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import polars as pl
from rapidfuzz import fuzz

from pipeline.titles import title_words, typo_variant

MIN_FUZZY_KEY = 24
# One edit (substitution, insertion, deletion, swap of neighbours) touches at most two
# adjacent characters; in a key longer than 2 * BLOCK_CHARS + 1 characters it cannot
# reach both the first and the last BLOCK_CHARS, so one of the two blocks always agrees.
# (With 16-character blocks a typo in the middle of a 24-31 character key, such as
# `Reinforcement Lerning for Robots`, was never compared.)
BLOCK_CHARS = (MIN_FUZZY_KEY - 2) // 2
ABSTRACT_SAMPLE = 600
ABSTRACT_AGREEMENT = 90.0


def key_id(title_key: str) -> str:
    return "p" + hashlib.sha256(title_key.encode("utf-8")).hexdigest()[:16]


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

_BLOCKS = (
    f"left(title_key, {BLOCK_CHARS}) AS block_prefix, "
    f"right(title_key, {BLOCK_CHARS}) AS block_suffix"
)

_CANDIDATES_SQL = f"""
WITH new AS (
    SELECT * EXCLUDE (block_prefix, block_suffix), {_BLOCKS}
    FROM new_keys WHERE length(title_key) >= {MIN_FUZZY_KEY}
),
old AS (
    SELECT * EXCLUDE (block_prefix, block_suffix), {_BLOCKS}
    FROM core.title_keys WHERE length(title_key) >= {MIN_FUZZY_KEY}
),
pairs AS (
    SELECT n.title_key AS a, o.title_key AS b FROM new n JOIN old o USING (block_prefix)
    UNION
    SELECT n.title_key, o.title_key FROM new n JOIN old o USING (block_suffix)
    UNION
    SELECT n.title_key, m.title_key FROM new n JOIN new m USING (block_prefix)
    WHERE n.title_key < m.title_key
    UNION
    SELECT n.title_key, m.title_key FROM new n JOIN new m USING (block_suffix)
    WHERE n.title_key < m.title_key
),
samples AS (
    SELECT title_key, sample_title, sample_abstract, NULL::VARCHAR AS paper_id FROM new
    UNION ALL
    SELECT title_key, sample_title, sample_abstract, paper_id FROM old
)
SELECT p.a, p.b, sa.sample_title AS title_a, sa.sample_abstract AS abstract_a,
       sb.sample_title AS title_b, sb.sample_abstract AS abstract_b, sb.paper_id AS paper_b
FROM pairs p
JOIN samples sa ON sa.title_key = p.a
JOIN samples sb ON sb.title_key = p.b
"""


def _new_keys(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    keys = con.sql(_NEW_KEYS_SQL).pl()
    fuzzy = pl.col("title_key").str.len_chars() >= MIN_FUZZY_KEY
    return keys.with_columns(
        pl.col("title_key").map_elements(key_id, return_dtype=pl.String).alias("key_id"),
        pl.when(fuzzy).then(pl.col("title_key").str.head(BLOCK_CHARS)).alias("block_prefix"),
        pl.when(fuzzy).then(pl.col("title_key").str.tail(BLOCK_CHARS)).alias("block_suffix"),
    )


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
    new = _new_keys(con)
    report.new_keys = new.height
    if new.is_empty():
        return 0, set()
    con.register("new_keys", new)
    key_ids = dict(zip(new["title_key"], new["key_id"], strict=True))
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
    assigned = new.with_columns(
        pl.col("title_key").replace_strict(paper_of, return_dtype=pl.String).alias("paper_id")
    )
    con.register("assigned_keys", assigned)
    con.execute("INSERT INTO core.title_keys BY NAME SELECT * FROM assigned_keys")
    con.unregister("assigned_keys")
    con.unregister("new_keys")
    return merge_papers(con, merges, "title typo variant"), {min(g) for g in merges}


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
