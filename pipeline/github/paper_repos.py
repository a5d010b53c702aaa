"""The paper_code step: `core.paper_repos`, each paper's repositories with their role.

It runs after the repos step, so the role can weigh what GitHub said (the README, the
owner, the creation date) beside what the text linking the repository says (found once
per link by the links and arXiv steps). Each link's evidence is gathered in SQL, one row
per paper and repository, with a digest per paper; only papers whose digest changed
(new links, a merge, new facts or README from GitHub) are judged again, in Python and
paper by paper (`pipeline.github.roles`), so a refresh that adds a few listings judges a
few papers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl

from pipeline.db.connection import Connection, registered
from pipeline.db.schema import polars_schema
from pipeline.github.roles import LinkContext, Role, classify, settle_paper
from pipeline.links.build import LINKED_REPOS_SQL
from pipeline.links.phrases import LinkPhrase

_SCHEMA = polars_schema("core.paper_repos")

# One row per paper and repository (case aside): its first spelling, URL and source
# (abstract, then Hugging Face, then arXiv), every source, the first sentence and phrase
# found, what is known of the paper and of the repository, and a digest of all of it.
_EVIDENCE_SQL = f"""
CREATE OR REPLACE TEMP TABLE code_evidence AS
WITH linked AS (
    SELECT *, CASE source WHEN 'abstract' THEN 0 WHEN 'huggingface' THEN 1
                          WHEN 'arxiv' THEN 2 ELSE 3 END AS rank
    FROM ({LINKED_REPOS_SQL})
),
pwc AS (
    -- Papers with Code's own judgement, where its archive links the repository
    SELECT p.paper_id, lower(w.repo) AS repo_key, bool_or(w.is_official) AS pwc_official
    FROM raw.pwc_links w JOIN core.papers p ON p.arxiv_id = w.paper_arxiv_id
    GROUP BY ALL
),
per_link AS (
    SELECT paper_id, lower(repo) AS repo_key,
           first(repo ORDER BY rank, origin, position) AS repo,
           first(url ORDER BY rank, origin, position) AS url,
           first(source ORDER BY rank, origin, position) AS source,
           list_sort(list_distinct(list(source))) AS sources,
           first(sentence ORDER BY sentence IS NULL, rank, origin, position) AS sentence,
           first(phrase ORDER BY sentence IS NULL, rank, origin, position) AS phrase
    FROM linked GROUP BY paper_id, lower(repo)
),
linking AS (
    SELECT repo_key, count(DISTINCT paper_id) AS papers FROM per_link GROUP BY repo_key
)
SELECT e.*, md5(concat_ws('|', e.repo_key, e.repo, e.source, e.sources::VARCHAR,
                          e.sentence, e.phrase, e.pwc_official, e.title, e.arxiv_id,
                          e.paper_date,
                          e.authors::VARCHAR, e.org_handle, e.repo_owner, e.repo_created,
                          e.readme_version, e.papers_linking)) AS row_md5
FROM (
    SELECT pl.*, p.title, p.arxiv_id,
           -- the paper's own date: arXiv's first version, else a stated publication
           -- day (a listing's snapshot day can be years after the paper)
           coalesce(a.published::DATE, p.published_date) AS paper_date,
           a.authors, p.org_handle,
           split_part(r.full_name, '/', 1) AS repo_owner, r.created_at AS repo_created,
           r.repo_id, m.etag || ':' || length(m.text) AS readme_version,
           n.papers AS papers_linking, w.pwc_official
    FROM per_link pl
    JOIN core.papers p USING (paper_id)
    JOIN linking n USING (repo_key)
    LEFT JOIN core.arxiv_papers a ON a.arxiv_id = p.arxiv_id
    LEFT JOIN core.repos r ON r.repo = pl.repo_key
    LEFT JOIN internal.repo_readmes m ON m.repo_id = r.repo_id
    LEFT JOIN pwc w ON w.paper_id = pl.paper_id AND w.repo_key = pl.repo_key
) e
"""

# Papers whose evidence changed (or is new), and papers that no longer have any link.
_CHANGED_SQL = """
CREATE OR REPLACE TEMP TABLE code_changed AS
SELECT paper_id, md5(string_agg(row_md5, ',' ORDER BY repo_key)) AS evidence_md5
FROM code_evidence GROUP BY paper_id
EXCEPT SELECT paper_id, evidence_md5 FROM internal.paper_code_evidence;
CREATE OR REPLACE TEMP TABLE code_gone AS
SELECT paper_id FROM internal.paper_code_evidence
WHERE paper_id NOT IN (SELECT paper_id FROM code_evidence);
"""

_TO_JUDGE_SQL = """
SELECT e.*, m.text AS readme FROM code_evidence e
LEFT JOIN internal.repo_readmes m ON m.repo_id = e.repo_id
WHERE e.paper_id IN (SELECT paper_id FROM code_changed)
ORDER BY e.paper_id, e.repo_key
"""

_REPLACE_SQL = """
DELETE FROM core.paper_repos WHERE paper_id IN (SELECT paper_id FROM code_changed)
    OR paper_id IN (SELECT paper_id FROM code_gone);
INSERT INTO core.paper_repos BY NAME SELECT * FROM judged;
DELETE FROM internal.paper_code_evidence WHERE paper_id IN (SELECT paper_id FROM code_changed)
    OR paper_id IN (SELECT paper_id FROM code_gone);
INSERT INTO internal.paper_code_evidence SELECT paper_id, evidence_md5 FROM code_changed;
DROP TABLE code_evidence; DROP TABLE code_changed; DROP TABLE code_gone;
"""


def _context(row: dict[str, Any]) -> LinkContext:
    return LinkContext(
        repo=row["repo"],
        sources=tuple(row["sources"]),
        said=LinkPhrase(row["sentence"], row["phrase"]),
        paper_title=row["title"],
        arxiv_id=row["arxiv_id"],
        paper_date=row["paper_date"],
        authors=tuple(row["authors"] or ()),
        org_handle=row["org_handle"],
        repo_owner=row["repo_owner"],
        repo_created=row["repo_created"],
        readme=row["readme"],
        papers_linking=row["papers_linking"],
        pwc_official=row["pwc_official"],
    )


def judge(rows: list[dict[str, Any]]) -> list[Role]:
    """The role of each evidence row, settled paper by paper."""
    by_paper: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_paper[row["paper_id"]].append(index)
    roles: list[Role] = [classify(_context(row)) for row in rows]
    for indexes in by_paper.values():
        for index, settled in zip(indexes, settle_paper([roles[i] for i in indexes]), strict=True):
            roles[index] = settled
    return roles


def _judged_frame(rows: list[dict[str, Any]], roles: list[Role]) -> pl.DataFrame:
    return pl.DataFrame(
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


def rebuild_paper_repos(con: Connection) -> dict[str, int]:
    """Brings `core.paper_repos` up to date; returns how many links of the papers judged
    again got each role (empty when nothing changed)."""
    con.execute(_EVIDENCE_SQL)
    con.execute(_CHANGED_SQL)
    found = con.execute(_TO_JUDGE_SQL)
    names = [column[0] for column in found.description]
    rows = [dict(zip(names, values, strict=True)) for values in found.fetchall()]
    roles = judge(rows)
    with registered(con, judged=_judged_frame(rows, roles)):
        con.execute(_REPLACE_SQL)
    counts: dict[str, int] = defaultdict(int)
    for role in roles:
        counts[role.role] += 1
    return dict(sorted(counts.items()))
