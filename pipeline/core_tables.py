"""Derived `core.*` tables, computed with SQL from the listings and their paper keys.

A paper's row is recomputed from all its listings whenever a refresh touches it (and
only then), so a re-run reproduces exactly the same rows and one new dump costs in
proportion to its size. What is expensive, reading files, choosing papers and scanning
abstracts for links, is done once per new file elsewhere.

How a paper's values are chosen (deterministic, independent of arrival order): listings
are ordered newest snapshot first (unknown snapshot dates last), then by file hash and
position. The title and abstract come from the first listing in that order; every other
field (published date, author count, organization, comments, upvotes, arXiv ID) from the
first listing that states it, so an explicit value beats none.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.links import github_repo, repos_and_links

_STATED = (
    "published_date",
    "authors_count",
    "org_handle",
    "organization",
    "comments",
    "upvotes",
    "arxiv_id",
)


def _stated(column: str) -> str:
    return f"arg_min({column}, rank) FILTER (WHERE {column} IS NOT NULL) AS {column}"


# `rank` orders listings without sorting them: files are ranked (a few thousand rows),
# and a listing's rank is its file's rank then its position. arg_min then picks per
# paper, and only the chosen listing's title and abstract are read, at the end.
_PAPERS_SELECT = f"""
WITH file_rank AS (
    SELECT file_sha256, coalesce(snapshot_date, ingested_at::DATE) AS seen_on,
           row_number() OVER (ORDER BY snapshot_date DESC NULLS LAST, file_sha256) AS file_rank
    FROM raw.dump_files
),
listed AS (
    SELECT pl.paper_id, l.file_sha256, l.position, {", ".join(f"l.{c}" for c in _STATED)},
           f.seen_on, (f.file_rank << 32) + l.position AS rank
    FROM core.paper_listings pl
    JOIN raw.listings l USING (file_sha256, position)
    JOIN file_rank f USING (file_sha256)
    WHERE {{scope}}
),
stated AS (
    SELECT paper_id,
           arg_min(file_sha256, rank) AS first_file,
           arg_min(position, rank) AS first_position,
           {", ".join(_stated(c) for c in _STATED)},
           count(*)::INTEGER AS listing_count,
           min(seen_on) AS first_seen,
           max(seen_on) AS last_seen
    FROM listed GROUP BY paper_id
)
SELECT s.* EXCLUDE (first_file, first_position)
           REPLACE (coalesce(m.arxiv_id, s.arxiv_id) AS arxiv_id),
       l.title, l.abstract
FROM stated s
JOIN raw.listings l ON l.file_sha256 = s.first_file AND l.position = s.first_position
LEFT JOIN core.arxiv_matches m ON m.paper_id = s.paper_id AND m.status = 'matched'
"""

PAPER_REPOS_SQL = """
DELETE FROM core.paper_repos;
INSERT INTO core.paper_repos
WITH stated AS (
    SELECT pl.paper_id, r.repo, r.url, r.source, r.file_sha256 AS origin, r.position
    FROM core.listing_repos r JOIN core.paper_listings pl USING (file_sha256, position)
    UNION ALL
    SELECT p.paper_id, a.repo, a.url, 'arxiv', a.arxiv_id, 0
    FROM core.arxiv_repos a JOIN core.papers p USING (arxiv_id)
)
SELECT paper_id,
       first(repo ORDER BY rank, origin, position) AS repo,
       first(url ORDER BY rank, origin, position) AS url,
       first(source ORDER BY rank, origin, position) AS source
FROM (
    SELECT *, CASE source WHEN 'abstract' THEN 0 WHEN 'huggingface' THEN 1 ELSE 2 END AS rank
    FROM stated
)
GROUP BY paper_id, lower(repo)
ORDER BY 1, 2;
"""

PAPER_LINKS_SQL = """
DELETE FROM core.paper_links;
INSERT INTO core.paper_links
SELECT pl.paper_id, k.url, first(k.kind ORDER BY k.file_sha256, k.position) AS kind
FROM core.listing_links k JOIN core.paper_listings pl USING (file_sha256, position)
GROUP BY pl.paper_id, k.url
ORDER BY 1, 2;
"""

_UNSCANNED_SQL = """
SELECT l.file_sha256, l.position, l.abstract, l.github_url, l.project_page
FROM raw.listings l
WHERE l.file_sha256 NOT IN (SELECT file_sha256 FROM core.link_scanned_files)
"""


def rebuild_papers(con: duckdb.DuckDBPyConnection, paper_ids: list[str] | None = None) -> None:
    """Recomputes `core.papers`: every paper, or only `paper_ids` (those a refresh
    touched), so that one new dump does not recompute a million papers."""
    if paper_ids is None:
        con.execute("DELETE FROM core.papers")
        con.execute("INSERT INTO core.papers BY NAME " + _PAPERS_SELECT.format(scope="true"))
        return
    con.register(
        "touched_papers", pl.DataFrame({"paper_id": paper_ids}, schema={"paper_id": pl.String})
    )
    scope = "pl.paper_id IN (SELECT paper_id FROM touched_papers)"
    con.execute("DELETE FROM core.papers WHERE paper_id IN (SELECT paper_id FROM touched_papers)")
    con.execute("INSERT INTO core.papers BY NAME " + _PAPERS_SELECT.format(scope=scope))
    con.unregister("touched_papers")


def _stated_repos(listings: pl.DataFrame) -> pl.DataFrame:
    """Repositories the source names in its own field (Hugging Face's `githubRepo`)."""
    stated = listings.filter(pl.col("github_url").is_not_null()).select(
        "file_sha256",
        "position",
        pl.col("github_url")
        .map_elements(github_repo, return_dtype=pl.String, skip_nulls=True)
        .alias("repo"),
    )
    return stated.drop_nulls("repo").with_columns(
        pl.format("https://github.com/{}", "repo").alias("url"),
        pl.lit("huggingface").alias("source"),
    )


def _stated_links(listings: pl.DataFrame) -> pl.DataFrame:
    return listings.filter(pl.col("project_page").is_not_null()).select(
        "file_sha256",
        "position",
        pl.col("project_page").alias("url"),
        pl.lit("project_page").alias("kind"),
    )


def extract_links(con: duckdb.DuckDBPyConnection) -> int:
    """Scans the listings of files not scanned yet for repositories and other links."""
    listings = con.sql(_UNSCANNED_SQL).pl()
    if listings.is_empty():
        return 0
    repos, links = repos_and_links(listings, "abstract", ["file_sha256", "position"])
    repos = pl.concat(
        [repos.with_columns(pl.lit("abstract").alias("source")), _stated_repos(listings)],
        how="vertical_relaxed",
    )
    links = pl.concat([links, _stated_links(listings)], how="vertical_relaxed")
    scanned = listings.select("file_sha256").unique()
    for name, frame in (("new_repos", repos), ("new_links", links), ("scanned", scanned)):
        con.register(name, frame)
    con.execute("INSERT INTO core.listing_repos BY NAME SELECT * FROM new_repos")
    con.execute("INSERT INTO core.listing_links BY NAME SELECT * FROM new_links")
    con.execute("INSERT INTO core.link_scanned_files SELECT file_sha256 FROM scanned")
    for name in ("new_repos", "new_links", "scanned"):
        con.unregister(name)
    return listings.height


def rebuild_links(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(PAPER_REPOS_SQL)
    con.execute(PAPER_LINKS_SQL)
