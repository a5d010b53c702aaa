"""Data-quality rules over the warehouse, as SQL that counts offending rows.

The Dagster checks run these; so can anyone with a DuckDB shell. Each rule's query
returns the offending rows, so a failure can show examples, not just a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.db.connection import scalar
from pipeline.db.schema import TABLES, Table

REPO_PATTERN = r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    offending_sql: str


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    offending: int
    examples: list[tuple[object, ...]]

    @property
    def passed(self) -> bool:
        return self.offending == 0


UNIQUE_PAPER_ID = Rule(
    "unique_paper_id",
    "every paper_id appears once in core.papers",
    "SELECT paper_id, count(*) AS n FROM core.papers GROUP BY paper_id HAVING n > 1",
)
NO_EMPTY_TITLES = Rule(
    "no_empty_titles",
    "every paper has a non-empty title",
    "SELECT paper_id, title FROM core.papers WHERE title IS NULL OR trim(title) = ''",
)
LISTINGS_MAPPED_ONCE = Rule(
    "every_listing_mapped_once",
    "each raw.listings row appears exactly once in core.paper_listings",
    """
    SELECT l.file_sha256, l.position, count(pl.paper_id) AS n
    FROM raw.listings l
    LEFT JOIN core.paper_listings pl USING (file_sha256, position)
    GROUP BY ALL HAVING n <> 1
    UNION ALL
    SELECT pl.file_sha256, pl.position, 0
    FROM core.paper_listings pl ANTI JOIN raw.listings l USING (file_sha256, position)
    """,
)
LISTINGS_HAVE_PAPERS = Rule(
    "listings_point_at_papers",
    "every core.paper_listings row names a paper of core.papers",
    "SELECT paper_id FROM core.paper_listings ANTI JOIN core.papers USING (paper_id)",
)
REPO_FORMAT = Rule(
    "repo_format_valid",
    "repos are owner/name with a matching https://github.com/ URL, one per paper and repo",
    f"""
    SELECT paper_id, repo, url FROM core.paper_repos
    WHERE NOT regexp_full_match(repo, '{REPO_PATTERN}')
       OR url <> 'https://github.com/' || repo
    UNION ALL
    SELECT paper_id, lower(repo), count(*)::VARCHAR FROM core.paper_repos
    GROUP BY ALL HAVING count(*) > 1
    """,
)

PAPER_REPOS_DESCRIBED = Rule(
    "paper_repos_in_repos",
    "every core.paper_repos row has its repository in core.repos",
    """
    SELECT paper_id, repo FROM core.paper_repos
    WHERE lower(repo) NOT IN (SELECT repo FROM core.repos)
    """,
)


def key_rule(table: Table) -> Rule:
    """Its key holds once per row: what a DuckDB file's PRIMARY KEY enforces, checked
    where the warehouse cannot enforce it (a DuckLake)."""
    key = ", ".join(table.key)
    return Rule(
        "unique_key",
        f"every ({key}) appears once in {table.name}",
        f"SELECT {key}, count(*) AS n FROM {table.name} GROUP BY ALL HAVING n > 1",
    )


KEY_RULES = {t.name: key_rule(t) for t in TABLES if t.primary_key}


def evaluate(con: duckdb.DuckDBPyConnection, rule: Rule, examples: int = 5) -> RuleOutcome:
    """Counts the offending rows in DuckDB and fetches only a few examples: a broken
    warehouse can hold millions of them, and a check must not pull them all into memory."""
    offending = scalar(con, f"SELECT count(*) FROM ({rule.offending_sql})")
    rows = con.execute(f"SELECT * FROM ({rule.offending_sql}) LIMIT {int(examples)}").fetchall()
    return RuleOutcome(rule, int(offending or 0), rows)


def arxiv_outcome_shares(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Shares of matched and errored papers among those arXiv was asked about
    (`pending` papers were not asked)."""
    row = con.execute(
        """SELECT count(*) FILTER (WHERE status <> 'pending'),
                  count(*) FILTER (WHERE status = 'matched'),
                  count(*) FILTER (WHERE status = 'error')
           FROM core.arxiv_matches"""
    ).fetchall()[0]
    checked = row[0] or 0
    return {
        "checked": float(checked),
        "matched": row[1] / checked if checked else 0.0,
        "error": row[2] / checked if checked else 0.0,
    }


def repo_status_shares(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Among repositories GitHub described or refused (not `pending`, not `error`): how
    many there are, and the shares that do not exist and that hold no code yet."""
    row = con.execute(
        """SELECT count(*) FILTER (WHERE status NOT IN ('pending', 'error')),
                  count(*) FILTER (WHERE status = 'not_found'),
                  count(*) FILTER (WHERE placeholder)
           FROM core.repos"""
    ).fetchall()[0]
    checked = row[0] or 0
    return {
        "checked": float(checked),
        "not_found": row[1] / checked if checked else 0.0,
        "placeholder": row[2] / checked if checked else 0.0,
    }
