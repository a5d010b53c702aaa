"""The papers step: title clusters and arXiv outcomes become papers, with their lineage.

A paper is a title cluster, or several clusters that arXiv resolved to one ID; its id is
the smallest cluster id among them. Each run derives every title key's paper afresh
(cheap, in SQL) and compares it with the previous run's (`internal.paper_keys`), so only
the listings of keys whose paper changed, and new listings, are mapped again, and only
the papers they touch are recomputed: one new dump costs in proportion to its size. A
paper id that a merge retired is kept in `core.paper_aliases`.

How a paper's values are chosen (deterministic, independent of arrival order): listings
are ordered newest snapshot first (unknown snapshot dates last), then by file hash and
position. The title and abstract come from the first listing in that order; every other
field (published date, authors, organization, comments, upvotes, arXiv ID, Hugging Face's
summary, keywords, submitter and claims) from the first listing that states it, so an
explicit value beats none; the day Hugging Face listed it is the earliest stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipeline.arxiv.outcomes import BEST_OUTCOME_FIRST, FILE_RANK_SQL
from pipeline.db.connection import Connection, registered, scalar

TYPO_MERGE = "title typo variant"
ARXIV_MERGE = "same arXiv ID"

_STATED = (
    "published_date",
    "authors_count",
    "org_handle",
    "organization",
    "comments",
    "upvotes",
    "arxiv_id",
    "authors",
    "ai_summary",
    "ai_keywords",
    "submitter",
    "claimed_authors",
)


@dataclass
class PapersReport:
    listings_mapped: int = 0
    papers_retired: dict[str, int] = field(default_factory=dict)  # by reason
    touched_papers: list[str] = field(default_factory=list)


# Every title key's paper now: clusters resolved to one arXiv ID are one paper, under the
# smallest cluster id. A cluster has one outcome, so the groups are disjoint.
_KEY_PAPERS_SQL = """
CREATE OR REPLACE TEMP TABLE key_papers AS
WITH matched AS (
    SELECT cluster_id, min(cluster_id) OVER (PARTITION BY arxiv_id) AS paper_id
    FROM internal.arxiv_outcomes WHERE status = 'matched' AND arxiv_id IS NOT NULL
)
SELECT k.title_key, k.cluster_id, coalesce(m.paper_id, k.cluster_id) AS paper_id
FROM internal.title_keys k LEFT JOIN matched m USING (cluster_id)
"""

_CHANGED_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE changed_keys AS
SELECT n.title_key, n.cluster_id, n.paper_id AS new_id, o.paper_id AS old_id
FROM key_papers n LEFT JOIN internal.paper_keys o USING (title_key)
WHERE o.paper_id IS DISTINCT FROM n.paper_id
"""

# Files whose listings and lineage rows differ in number: new files, files whose
# listings were withdrawn, and files with a listing no key maps yet. Everywhere else the
# two are the same rows (a listing has one lineage row, and a file's listings are
# withdrawn all together), so only these files' rows are compared one by one.
_UNSETTLED_FILES_SQL = """
CREATE OR REPLACE TEMP TABLE unsettled_files AS
SELECT file_sha256
FROM (SELECT file_sha256, count(*) AS listed FROM raw.listings GROUP BY ALL) l
FULL JOIN (SELECT file_sha256, count(*) AS mapped FROM core.paper_listings GROUP BY ALL) m
    USING (file_sha256)
WHERE l.listed IS DISTINCT FROM m.mapped
"""

# Listings whose paper changed with their key's, and listings not mapped yet.
_REMAPPED_SQL = """
CREATE OR REPLACE TEMP TABLE remapped AS
SELECT l.file_sha256, l.position, c.new_id AS paper_id
FROM raw.listings l JOIN changed_keys c USING (title_key)
UNION
SELECT l.file_sha256, l.position, k.paper_id
FROM (SELECT * FROM raw.listings SEMI JOIN unsettled_files USING (file_sha256)) l
ANTI JOIN (SELECT * FROM core.paper_listings SEMI JOIN unsettled_files USING (file_sha256)) pl
    USING (file_sha256, position)
JOIN key_papers k USING (title_key)
"""

# Ids that no key maps to any more, each with the paper its keys moved to and why: an
# arXiv merge when the key's cluster is not the paper, else a typo merge of clusters.
_RETIRED_SQL = f"""
CREATE OR REPLACE TEMP TABLE retired AS
SELECT old_id,
       min(new_id) AS new_id,
       CASE WHEN bool_or(new_id <> cluster_id) THEN '{ARXIV_MERGE}' ELSE '{TYPO_MERGE}' END
           AS reason
FROM changed_keys
WHERE old_id IS NOT NULL AND old_id NOT IN (SELECT paper_id FROM key_papers)
GROUP BY old_id
"""

# Lineage of listings the raw step withdrew (an incomplete save superseded by its
# complete one): their papers lose them.
_WITHDRAWN_SQL = """
CREATE OR REPLACE TEMP TABLE withdrawn AS
SELECT pl.*
FROM (SELECT * FROM core.paper_listings SEMI JOIN unsettled_files USING (file_sha256)) pl
ANTI JOIN (SELECT * FROM raw.listings SEMI JOIN unsettled_files USING (file_sha256)) l
    USING (file_sha256, position)
"""

_MAP_LISTINGS_SQL = """
DELETE FROM core.paper_listings pl USING withdrawn w
WHERE pl.file_sha256 = w.file_sha256 AND pl.position = w.position;
DELETE FROM core.paper_listings pl USING remapped r
WHERE pl.file_sha256 = r.file_sha256 AND pl.position = r.position;
INSERT INTO core.paper_listings
SELECT paper_id, file_sha256, position FROM remapped ORDER BY paper_id, file_sha256, position;
UPDATE core.paper_aliases a SET paper_id = r.new_id FROM retired r WHERE a.paper_id = r.old_id;
INSERT INTO core.paper_aliases SELECT old_id, new_id, reason, now()::TIMESTAMP FROM retired;
DELETE FROM internal.paper_keys WHERE title_key IN (SELECT title_key FROM changed_keys);
INSERT INTO internal.paper_keys SELECT title_key, new_id FROM changed_keys;
"""

# Each paper's arXiv outcome: the best of its clusters'. Only rows that differ from the
# stored ones are rewritten, and their papers recomputed (their arxiv_id may change).
_MATCHES_SQL = f"""
CREATE OR REPLACE TEMP TABLE paper_matches AS
SELECT * EXCLUDE (cluster_id) FROM (
    SELECT p.paper_id, o.*
    FROM internal.arxiv_outcomes o
    JOIN (SELECT DISTINCT cluster_id, paper_id FROM key_papers) p USING (cluster_id)
)
QUALIFY row_number() OVER (PARTITION BY paper_id ORDER BY {BEST_OUTCOME_FIRST}, cluster_id) = 1;
CREATE OR REPLACE TEMP TABLE match_changes AS
SELECT paper_id FROM (
    SELECT * FROM paper_matches EXCEPT SELECT * FROM core.arxiv_matches
)
UNION
SELECT paper_id FROM (
    SELECT paper_id FROM core.arxiv_matches EXCEPT SELECT paper_id FROM paper_matches
);
DELETE FROM core.arxiv_matches WHERE paper_id IN (SELECT paper_id FROM match_changes);
INSERT INTO core.arxiv_matches BY NAME
SELECT * FROM paper_matches SEMI JOIN match_changes USING (paper_id);
"""

_TOUCHED_SQL = """
SELECT new_id FROM changed_keys
UNION SELECT old_id FROM changed_keys WHERE old_id IS NOT NULL
UNION SELECT paper_id FROM remapped
UNION SELECT paper_id FROM match_changes
UNION SELECT paper_id FROM withdrawn
"""


def _stated(column: str) -> str:
    return f"arg_min({column}, rank) FILTER (WHERE {column} IS NOT NULL) AS {column}"


# `rank` orders listings without sorting them: files are ranked (a few thousand rows),
# and a listing's rank is its file's rank then its position. arg_min then picks per
# paper, and only the chosen listing's title and abstract are read, at the end.
_PAPER_VALUES_SQL = f"""
CREATE OR REPLACE TEMP TABLE paper_values AS
WITH {FILE_RANK_SQL},
listed AS (
    SELECT pl.paper_id, l.rowid AS listing_row, {", ".join(f"l.{c}" for c in _STATED)},
           l.listed_on, f.seen_on, (f.file_rank << 32) + l.position AS rank
    FROM core.paper_listings pl
    JOIN raw.listings l USING (file_sha256, position)
    JOIN file_rank f USING (file_sha256)
    WHERE pl.paper_id IN (SELECT paper_id FROM touched_papers)
)
SELECT paper_id,
       arg_min(listing_row, rank) AS first_row,
       {", ".join(_stated(c) for c in _STATED)},
       count(*)::INTEGER AS listing_count,
       min(seen_on) AS first_seen,
       max(seen_on) AS last_seen,
       min(listed_on) AS listed_on
FROM listed GROUP BY paper_id
"""

# The chosen listings' titles and abstracts. A few papers' rows are named by row id, so
# that the scan reads only their blocks: a join makes a step's fresh DuckDB instance read
# and decompress every listing's abstract (1.4 s at 1M).
MAX_ROWS_BY_ID = 10_000
_PAPERS_SQL = """
DELETE FROM core.papers WHERE paper_id IN (SELECT paper_id FROM touched_papers);
INSERT INTO core.papers BY NAME
SELECT v.* EXCLUDE (first_row) REPLACE (coalesce(m.arxiv_id, v.arxiv_id) AS arxiv_id),
       l.title, l.abstract
FROM paper_values v
JOIN (SELECT rowid AS first_row, title, abstract FROM raw.listings WHERE {rows}) l
    USING (first_row)
LEFT JOIN core.arxiv_matches m ON m.paper_id = v.paper_id AND m.status = 'matched';
DROP TABLE paper_values;
"""


def _write_papers(con: Connection) -> None:
    """Recomputes the papers in `touched_papers`."""
    con.execute(_PAPER_VALUES_SQL)
    rows = [row[0] for row in con.execute("SELECT first_row FROM paper_values").fetchall()]
    if len(rows) > MAX_ROWS_BY_ID:
        chosen = "true"  # the join reads them all anyway
    else:
        chosen = f"rowid IN ({', '.join(map(str, [-1, *rows]))})"  # -1: no row, never empty
    con.execute(_PAPERS_SQL.format(rows=chosen))


_TEMP_TABLES = (
    "key_papers",
    "changed_keys",
    "unsettled_files",
    "remapped",
    "retired",
    "paper_matches",
    "withdrawn",
)


def build_papers(con: Connection) -> PapersReport:
    """Maps listings to papers where their key's paper changed or they are new, records
    retired ids, folds arXiv outcomes per paper and recomputes the papers touched. Runs
    inside the caller's transaction."""
    for sql in (
        _KEY_PAPERS_SQL,
        _CHANGED_KEYS_SQL,
        _UNSETTLED_FILES_SQL,
        _REMAPPED_SQL,
        _RETIRED_SQL,
        _WITHDRAWN_SQL,
    ):
        con.execute(sql)
    con.execute(_MAP_LISTINGS_SQL)
    con.execute(_MATCHES_SQL)
    report = PapersReport(
        listings_mapped=int(scalar(con, "SELECT count(*) FROM remapped") or 0),
        papers_retired=dict(
            con.execute("SELECT reason, count(*) FROM retired GROUP BY reason").fetchall()
        ),
        touched_papers=sorted(row[0] for row in con.execute(_TOUCHED_SQL).fetchall()),
    )
    touched = pl.DataFrame({"paper_id": report.touched_papers}, schema={"paper_id": pl.String})
    with registered(con, touched_papers=touched):
        _write_papers(con)
    for table in (*_TEMP_TABLES, "match_changes"):
        con.execute(f"DROP TABLE {table}")
    return report
