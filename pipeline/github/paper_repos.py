"""The paper_code step: `core.paper_repos`, each paper's repositories with their role.

It runs after the repos step, so the role can weigh what GitHub said (the README, the
owner, the creation date) beside the text that links the repository. Each link's
evidence is gathered in SQL, one row per paper and repository; `pipeline.github.roles`
decides in Python, per paper. The table is rebuilt in one transaction, so a later merge
of papers or a new README moves or changes the roles with it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl

from pipeline.db.connection import Connection, registered
from pipeline.db.schema import polars_schema
from pipeline.github.roles import LinkContext, Role, classify, settle_paper
from pipeline.links.build import LINKED_REPOS_SQL

_SCHEMA = polars_schema("core.paper_repos")

# One row per paper and repository (case aside): its first spelling, URL and source
# (abstract, then Hugging Face, then arXiv), every source, the texts that link it, and
# what is known of the paper and of the repository.
_EVIDENCE_SQL = f"""
WITH linked AS (
    SELECT k.*, CASE k.source WHEN 'abstract' THEN 0 WHEN 'huggingface' THEN 1 ELSE 2 END
               AS rank,
           CASE WHEN k.source = 'abstract' THEN l.abstract
                WHEN k.source = 'arxiv' THEN concat_ws(' ', a.comment, a.abstract) END AS text
    FROM ({LINKED_REPOS_SQL}) k
    LEFT JOIN raw.listings l ON k.source = 'abstract' AND l.file_sha256 = k.origin
                            AND l.position = k.position
    LEFT JOIN core.arxiv_papers a ON k.source = 'arxiv' AND a.arxiv_id = k.origin
),
per_link AS (
    SELECT paper_id, lower(repo) AS repo_key,
           first(repo ORDER BY rank, origin, position) AS repo,
           first(url ORDER BY rank, origin, position) AS url,
           first(source ORDER BY rank, origin, position) AS source,
           list_sort(list_distinct(list(source))) AS sources,
           list(text ORDER BY rank, origin, position) FILTER (WHERE text IS NOT NULL) AS texts
    FROM linked GROUP BY paper_id, lower(repo)
),
linking AS (
    SELECT repo_key, count(DISTINCT paper_id) AS papers FROM per_link GROUP BY repo_key
)
SELECT pl.paper_id, pl.repo, pl.url, pl.source, pl.sources, pl.texts,
       -- the paper's own date: arXiv's first version, else a stated publication day
       -- (a listing's snapshot day can be years after the paper)
       p.title, p.arxiv_id, coalesce(a.published::DATE, p.published_date) AS paper_date,
       a.authors, p.org_handle,
       split_part(r.full_name, '/', 1) AS repo_owner, r.created_at AS repo_created,
       m.text AS readme, n.papers AS papers_linking
FROM per_link pl
JOIN core.papers p USING (paper_id)
JOIN linking n USING (repo_key)
LEFT JOIN core.arxiv_papers a ON a.arxiv_id = p.arxiv_id
LEFT JOIN core.repos r ON r.repo = pl.repo_key
LEFT JOIN internal.repo_readmes m ON m.repo_id = r.repo_id
ORDER BY pl.paper_id, pl.repo_key
"""


def _context(row: dict[str, Any]) -> LinkContext:
    return LinkContext(
        repo=row["repo"],
        sources=tuple(row["sources"]),
        texts=tuple(row["texts"] or ()),
        paper_title=row["title"],
        arxiv_id=row["arxiv_id"],
        paper_date=row["paper_date"],
        authors=tuple(row["authors"] or ()),
        org_handle=row["org_handle"],
        repo_owner=row["repo_owner"],
        repo_created=row["repo_created"],
        readme=row["readme"],
        papers_linking=row["papers_linking"],
    )


def judge(rows: list[dict[str, Any]]) -> list[Role]:
    """The role of each evidence row, settled paper by paper (rows come in paper order)."""
    by_paper: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_paper[row["paper_id"]].append(index)
    roles: list[Role] = [classify(_context(row)) for row in rows]
    for indexes in by_paper.values():
        for index, settled in zip(indexes, settle_paper([roles[i] for i in indexes]), strict=True):
            roles[index] = settled
    return roles


def rebuild_paper_repos(con: Connection) -> dict[str, int]:
    """Recomputes `core.paper_repos`; returns how many links got each role."""
    found = con.execute(_EVIDENCE_SQL)
    names = [column[0] for column in found.description]
    rows = [dict(zip(names, values, strict=True)) for values in found.fetchall()]
    roles = judge(rows)
    frame = pl.DataFrame(
        {
            "paper_id": [r["paper_id"] for r in rows],
            "repo": [r["repo"] for r in rows],
            "url": [r["url"] for r in rows],
            "source": [r["source"] for r in rows],
            "role": [role.role for role in roles],
            "sources": [list(r["sources"]) for r in rows],
            "sentence": [role.sentence for role in roles],
            "signals": [list(role.signals) for role in roles],
        },
        schema=_SCHEMA,
    )
    with registered(con, new_paper_repos=frame):
        con.execute("DELETE FROM core.paper_repos")
        con.execute("INSERT INTO core.paper_repos BY NAME SELECT * FROM new_paper_repos")
    counts: dict[str, int] = defaultdict(int)
    for role in roles:
        counts[role.role] += 1
    return dict(sorted(counts.items()))
