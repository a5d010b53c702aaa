"""The links step: repositories and other links found for each paper.

Each raw file's listings are scanned once (`internal.link_scanned_files`) and what they
link to is kept per listing; `core.paper_links` is then recomputed from those rows and
the paper lineage, so a later merge of papers moves their links too. Repository links
go on to the GitHub steps (`LINKED_REPOS_SQL`).
"""

from __future__ import annotations

import polars as pl

from pipeline.db.connection import Connection, registered
from pipeline.links.phrases import link_phrase
from pipeline.links.urls import github_repo, repos_and_links

# Every repository link of every paper, one row per occurrence: in a listing (its
# abstract, or the source's own field), in arXiv's record of the paper, or in Papers
# with Code's archive (joined by arXiv ID). The GitHub
# steps read links from here: `core.repos` describes them, `core.paper_repos` judges them.
LINKED_REPOS_SQL = """
SELECT pl.paper_id, r.repo, r.url, r.source, r.file_sha256 AS origin, r.position,
       r.sentence, r.phrase
FROM internal.listing_repos r JOIN core.paper_listings pl USING (file_sha256, position)
UNION ALL
SELECT p.paper_id, a.repo, a.url, 'arxiv', a.arxiv_id, 0, a.sentence, a.phrase
FROM internal.arxiv_repos a JOIN core.papers p USING (arxiv_id)
UNION ALL
SELECT p.paper_id, w.repo, 'https://github.com/' || w.repo, 'pwc_archive', w.file_sha256,
       w.position, NULL, NULL
FROM raw.pwc_links w JOIN core.papers p ON p.arxiv_id = w.paper_arxiv_id
"""

PAPER_LINKS_SQL = """
DELETE FROM core.paper_links;
INSERT INTO core.paper_links
SELECT pl.paper_id, k.url, first(k.kind ORDER BY k.file_sha256, k.position) AS kind
FROM internal.listing_links k JOIN core.paper_listings pl USING (file_sha256, position)
GROUP BY pl.paper_id, k.url
ORDER BY 1, 2;
"""

# Files whose listings have not been scanned, then their listings: the files are named
# as a list, which the scan of raw.listings applies before it reads an abstract (an
# anti join would read and decompress every abstract, 0.7 s at 1M).
_UNSCANNED_FILES_SQL = """
SELECT file_sha256 FROM raw.dump_files ANTI JOIN internal.link_scanned_files USING (file_sha256)
"""
_UNSCANNED_SQL = """
SELECT l.file_sha256, l.position, l.abstract, l.github_url, l.project_page
FROM raw.listings l
WHERE l.file_sha256 = ANY(?)
"""


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


def _with_phrases(repos: pl.DataFrame, listings: pl.DataFrame) -> pl.DataFrame:
    """Repositories found in abstracts, each with the sentence around it and the phrase
    nearest it (what the abstract says the repository is)."""
    found = repos.join(
        listings.select("file_sha256", "position", "abstract"),
        on=["file_sha256", "position"],
        how="left",
        maintain_order="left",
    )
    said = [
        link_phrase(text, repo)
        for text, repo in zip(found.get_column("abstract"), found.get_column("repo"), strict=True)
    ]
    return found.drop("abstract").with_columns(
        pl.lit("abstract").alias("source"),
        pl.Series("sentence", [s.sentence for s in said], dtype=pl.String),
        pl.Series("phrase", [s.phrase for s in said], dtype=pl.String),
    )


def extract_links(con: Connection) -> int:
    """Scans the listings of files not scanned yet for repositories and other links."""
    files = [row[0] for row in con.execute(_UNSCANNED_FILES_SQL).fetchall()]
    listings = con.execute(_UNSCANNED_SQL, [files]).pl()
    if listings.is_empty():
        return 0
    repos, links = repos_and_links(listings, "abstract", ["file_sha256", "position"])
    repos = pl.concat(
        [_with_phrases(repos, listings), _stated_repos(listings)], how="diagonal_relaxed"
    )
    links = pl.concat([links, _stated_links(listings)], how="vertical_relaxed")
    scanned = listings.select("file_sha256").unique()
    with registered(con, new_repos=repos, new_links=links, scanned=scanned):
        con.execute("INSERT INTO internal.listing_repos BY NAME SELECT * FROM new_repos")
        con.execute("INSERT INTO internal.listing_links BY NAME SELECT * FROM new_links")
        con.execute("INSERT INTO internal.link_scanned_files SELECT file_sha256 FROM scanned")
    return listings.height


_WITHDRAWN_SQL = """
DELETE FROM internal.listing_repos
WHERE file_sha256 IN (SELECT file_sha256 FROM raw.dump_files WHERE status = 'superseded');
DELETE FROM internal.listing_links
WHERE file_sha256 IN (SELECT file_sha256 FROM raw.dump_files WHERE status = 'superseded');
"""


def rebuild_links(con: Connection) -> None:
    """Recomputes `core.paper_links` from the per-listing links, after dropping the
    per-listing rows of files whose listings were withdrawn. (`core.paper_repos` is the
    GitHub steps' work: `pipeline.github.paper_repos`.)"""
    con.execute(_WITHDRAWN_SQL)
    con.execute(PAPER_LINKS_SQL)
