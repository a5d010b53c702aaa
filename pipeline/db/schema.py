"""Every table of the warehouse, declared once: columns, DuckDB types, key, a description
for every column, and the step that writes it.

Everything else is derived from these declarations: the DDL (`schema_sql`), the polars
schemas frames are built with (`polars_schema`), the `COMMENT ON` descriptions BI tools
show (`comment_sql`), and, in the Dagster layer, one asset per table with its column
schema. The marts' views are written in `warehouse/sql/marts.sql`; their columns are
declared here too, and a test checks that the live warehouse agrees with every
declaration.

Schemas: `raw` (files as read), `core` (papers and what is known of them), `marts` (the
read side), and `internal`: bookkeeping of the steps (title keys, signatures, scan
records, per-listing links, per-cluster arXiv outcomes) that users need not read.

Tables rebuilt by delete-and-insert in one transaction carry no PRIMARY KEY (DuckDB
checks such keys eagerly); their uniqueness is an asset check instead. Titles and
abstracts, the bulk of the data, are compressed with ZSTD: DuckDB's default for strings
(DICT_FSST) triples the time of a million-row insert, while ZSTD costs about what no
compression does and writes less than half the default's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl


class Step(StrEnum):
    """The steps of a refresh, in order; each writes its own tables and no other's."""

    RAW_FILES = "raw_files"
    TITLE_CLUSTERS = "title_clusters"
    ARXIV = "arxiv"
    PAPERS = "papers"
    HF_LOOKUPS = "hf_lookups"
    LINKS = "links"
    REPOS = "repos"
    PAPER_CODE = "paper_code"
    MARTS = "marts"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    not_null: bool = False
    zstd: bool = False

    def ddl(self, lake: bool = False) -> str:
        compression = " USING COMPRESSION zstd" if self.zstd and not lake else ""
        return f"{self.name} {self.type}{' NOT NULL' if self.not_null else ''}{compression}"


@dataclass(frozen=True)
class Table:
    name: str
    step: Step
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    primary_key: bool = False  # enforce `key` in DuckDB (only for insert-only tables)
    view: bool = False
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, lake: bool = False) -> str:
        """CREATE TABLE; on a DuckLake without the key and compression it cannot hold."""
        lines = [c.ddl(lake) for c in self.columns]
        if self.primary_key and not lake:
            lines.append(f"PRIMARY KEY ({', '.join(self.key)})")
        body = ",\n    ".join(lines)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {body}\n);"


def _c(name: str, type_: str, description: str, **options: bool) -> Column:
    return Column(name, type_, description, **options)


_SHA = _c("file_sha256", "VARCHAR", "SHA-256 of the raw file's bytes.", not_null=True)
_POSITION = _c("position", "INTEGER", "1-based order of the entry in its file.", not_null=True)
_PAPER = _c("paper_id", "VARCHAR", "The paper (core.papers).", not_null=True)
_TITLE_KEY = _c(
    "title_key", "VARCHAR", "Normalized title: listings sharing one are one paper.", not_null=True
)
_REPO = _c("repo", "VARCHAR", "owner/name as the source spells it.", not_null=True)
_REPO_URL = _c("url", "VARCHAR", "https://github.com/owner/name.", not_null=True)
_REPO_SOURCE = _c(
    "source", "VARCHAR", "Where it was found: abstract, huggingface or arxiv.", not_null=True
)
_LINK_SENTENCE = _c("sentence", "VARCHAR", "The sentence around the link, in the text.")
_LINK_PHRASE = _c(
    "phrase", "VARCHAR", "The phrase nearest the link: own:… (own code) or use:… (a tool)."
)
_LINK_URL = _c(
    "url", "VARCHAR", "The link, cleaned (scheme added, host lower-cased).", not_null=True
)
_LINK_KIND = _c("kind", "VARCHAR", "project_page, huggingface or other.", not_null=True)


# What Hugging Face states about a paper beyond the listing: on raw.listings as stated,
# on core.papers from the newest listing stating it (the day: the earliest).
_HF_FACTS = (
    _c("listed_on", "DATE", "Day Hugging Face put the paper on its daily list (UTC)."),
    _c("ai_summary", "VARCHAR", "Hugging Face's machine-written one-line summary."),
    _c("ai_keywords", "VARCHAR[]", "Hugging Face's machine-extracted keywords."),
    _c("submitter", "VARCHAR", "Hugging Face user who submitted the paper to the daily list."),
    _c("claimed_authors", "INTEGER", "Authors who linked the paper to their Hugging Face account."),
)


def _outcome_columns(subject: Column) -> tuple[Column, ...]:
    """The columns of an arXiv outcome, about a title cluster or a paper."""
    return (
        subject,
        _c(
            "status",
            "VARCHAR",
            "matched, not_found, ambiguous, error or pending.",
            not_null=True,
        ),
        _c("arxiv_id", "VARCHAR", "The arXiv ID when matched, without version."),
        _c("score", "DOUBLE", "Confidence 0-1: title similarity, averaged with the abstract's."),
        _c("method", "VARCHAR", "source, batch_phrase, single_phrase, words or offline."),
        _c("checked_at", "TIMESTAMP", "When arXiv was asked (or the source read)."),
        _c("error", "VARCHAR", "Why a request failed, or what made the outcome uncertain."),
    )


TABLES: tuple[Table, ...] = (
    # --- raw: what the files say ---------------------------------------------------------
    Table(
        "raw.dump_files",
        Step.RAW_FILES,
        "One row per distinct raw file content (by SHA-256), loaded or quarantined.",
        (
            _c(
                "file_sha256",
                "VARCHAR",
                "SHA-256 of the file's bytes; its identity.",
                not_null=True,
            ),
            _c(
                "file_name",
                "VARCHAR",
                "Name of the first file seen with this content.",
                not_null=True,
            ),
            _c(
                "layout",
                "VARCHAR",
                "Detected layout: blocks_with_metadata, blocks_without_metadata, compact, "
                "hf_api_json, hf_html (a listing page), hf_paper_html (a paper's page), "
                "text_capture (a text-mode browser's or crawler's capture), pwc_links.",
            ),
            _c("snapshot_date", "DATE", "Day the page was viewed or fetched; null when unknown."),
            _c(
                "snapshot_date_source",
                "VARCHAR",
                "How snapshot_date was found (stated_by_source, fetch_metadata, "
                "latest_listing_day, year inferences of text dumps), or why it is unknown.",
            ),
            _c("ingested_at", "TIMESTAMP", "When the file was loaded (UTC).", not_null=True),
            _c(
                "status",
                "VARCHAR",
                "loaded, quarantined, or superseded (an incomplete save of a file that "
                "arrived complete later: its listings are withdrawn).",
                not_null=True,
            ),
            _c("error", "VARCHAR", "Why the file was quarantined."),
            _c("listing_count", "INTEGER", "Entries loaded from the file.", not_null=True),
            _c("reject_count", "INTEGER", "Rows of raw.rejects for the file.", not_null=True),
            _c("byte_size", "BIGINT", "Size of the file in bytes.", not_null=True),
            _c("archive_path", "VARCHAR", "Its read-only copy in the raw archive.", not_null=True),
            _c("source_url", "VARCHAR", "URL it was fetched from (fetched files only)."),
            _c("fetched_at", "TIMESTAMP", "When it was fetched (fetched files only)."),
            _c(
                "head_sha256",
                "VARCHAR",
                "SHA-256 of the first 512 bytes: files sharing it may be one save and its end.",
            ),
            _c("superseded_by", "VARCHAR", "The complete save that superseded this file."),
        ),
        key=("file_sha256",),
        primary_key=True,
    ),
    Table(
        "raw.file_names",
        Step.RAW_FILES,
        "Every name a raw file content was seen under in the landing folder.",
        (
            _SHA,
            _c("file_name", "VARCHAR", "A name the content was landed under.", not_null=True),
            _c("first_seen", "TIMESTAMP", "When this name was first seen.", not_null=True),
        ),
        key=("file_sha256", "file_name"),
    ),
    Table(
        "raw.listings",
        Step.RAW_FILES,
        "One row per paper entry per raw file, cleaned and typed.",
        (
            _SHA,
            _POSITION,
            _c("title", "VARCHAR", "Title as listed, whitespace normalized.", zstd=True),
            _c("abstract", "VARCHAR", "Abstract as listed, whitespace normalized.", zstd=True),
            _c("authors_count", "INTEGER", "Number of authors, where stated."),
            _c("org_handle", "VARCHAR", "Handle of the stated organization (`google`)."),
            _c("organization", "VARCHAR", "Display name of the stated organization."),
            _c("published_text", "VARCHAR", "The publication date as written."),
            _c(
                "published_date",
                "DATE",
                "Publication date; year-less dates take the snapshot year.",
            ),
            _c("comments", "INTEGER", "Comment count on Hugging Face (a dump's trailing number)."),
            _c("upvotes", "INTEGER", "Upvotes, where the source states them (pages and API JSON)."),
            _c("arxiv_id", "VARCHAR", "arXiv ID, where the source states it (no version)."),
            _c("authors", "VARCHAR[]", "Author names in order, where the source lists them."),
            _c(
                "github_url",
                "VARCHAR",
                "Repository URL the source states (Hugging Face's githubRepo).",
            ),
            _c("project_page", "VARCHAR", "Project page the source states."),
            _c("title_key", "VARCHAR", "Normalized title used to group listings into papers."),
            _c(
                "github_stars",
                "INTEGER",
                "Stars of github_url as Hugging Face showed them (githubStars).",
            ),
            *_HF_FACTS,
        ),
        key=("file_sha256", "position"),
    ),
    Table(
        "raw.pwc_links",
        Step.RAW_FILES,
        "Rows of Papers with Code's links-between-papers-and-code archive, as read.",
        (
            _SHA,
            _c("position", "INTEGER", "1-based order of the row in its file.", not_null=True),
            _c(
                "paper_arxiv_id",
                "VARCHAR",
                "arXiv ID of the paper, without version.",
                not_null=True,
            ),
            _c("paper_url", "VARCHAR", "The paper's Papers with Code page."),
            _c("paper_title", "VARCHAR", "Its title there."),
            _c("repo_url", "VARCHAR", "The repository URL as given.", not_null=True),
            _c("repo", "VARCHAR", "owner/name read from repo_url.", not_null=True),
            _c("framework", "VARCHAR", "Deep-learning framework named (pytorch, tf, …)."),
            _c("is_official", "BOOLEAN", "Papers with Code: the authors' own repository."),
            _c("mentioned_in_paper", "BOOLEAN", "Papers with Code: the paper names it."),
            _c(
                "mentioned_in_github",
                "BOOLEAN",
                "Papers with Code: its README cites the paper (inferred from usage).",
            ),
        ),
        key=("file_sha256", "position"),
        primary_key=True,
    ),
    Table(
        "raw.rejects",
        Step.RAW_FILES,
        "What could not be read, and why: whole files (position null) or single entries.",
        (
            _SHA,
            _c("position", "INTEGER", "The entry's position; null for the whole file."),
            _c("reason", "VARCHAR", "Specific reason the input was set aside.", not_null=True),
            _c("excerpt", "VARCHAR", "A piece of the input, for a person to recognise it."),
        ),
    ),
    # --- internal: the steps' bookkeeping ------------------------------------------------
    Table(
        "internal.landing_hashes",
        Step.RAW_FILES,
        "The content hash of each landing file as of its size and modification time, so a "
        "file that has not changed is not read again to be recognised.",
        (
            _c("path", "VARCHAR", "The file's path inside the landing folder.", not_null=True),
            _c("size", "BIGINT", "Its size in bytes when hashed.", not_null=True),
            _c("mtime_ns", "BIGINT", "Its modification time (ns) when hashed.", not_null=True),
            _SHA,
        ),
        key=("path",),
    ),
    Table(
        "internal.title_keys",
        Step.TITLE_CLUSTERS,
        "Each title key and its cluster: keys whose titles differ by a typo are one cluster.",
        (
            _TITLE_KEY,
            _c("key_id", "VARCHAR", "`p` and 16 hex digits of the key's SHA-256.", not_null=True),
            _c(
                "cluster_id",
                "VARCHAR",
                "The smallest key_id of the key's cluster; a paper's id before arXiv merges.",
                not_null=True,
            ),
            _c("sample_title", "VARCHAR", "The key's first title, for comparing typo variants."),
        ),
        key=("title_key",),
    ),
    Table(
        "internal.title_signatures",
        Step.TITLE_CLUSTERS,
        "Word-position signatures of each title key: keys sharing one are typo candidates.",
        (
            _TITLE_KEY,
            _c(
                "signature",
                "BIGINT",
                "Hash of three of five word groups, or of a short title but one word.",
                not_null=True,
            ),
        ),
    ),
    Table(
        "internal.arxiv_outcomes",
        Step.ARXIV,
        "The outcome of resolving each title cluster to arXiv.",
        _outcome_columns(_c("cluster_id", "VARCHAR", "The title cluster.", not_null=True)),
        key=("cluster_id",),
    ),
    Table(
        "internal.arxiv_repos",
        Step.ARXIV,
        "GitHub repositories named in arXiv's abstract or comment of a record.",
        (
            _c("arxiv_id", "VARCHAR", "The record (core.arxiv_papers).", not_null=True),
            _REPO,
            _REPO_URL,
            _LINK_SENTENCE,
            _LINK_PHRASE,
        ),
    ),
    Table(
        "internal.paper_keys",
        Step.PAPERS,
        "The paper each title key belongs to, as of the last papers step.",
        (_TITLE_KEY, _PAPER),
        key=("title_key",),
    ),
    Table(
        "internal.link_scanned_files",
        Step.LINKS,
        "Raw files whose listings were scanned for links.",
        (_SHA,),
        key=("file_sha256",),
        primary_key=True,
    ),
    Table(
        "internal.listing_repos",
        Step.LINKS,
        "GitHub repositories found per listing.",
        (_SHA, _POSITION, _REPO, _REPO_URL, _REPO_SOURCE, _LINK_SENTENCE, _LINK_PHRASE),
    ),
    Table(
        "internal.listing_links",
        Step.LINKS,
        "Other links found per listing.",
        (_SHA, _POSITION, _LINK_URL, _LINK_KIND),
    ),
    # --- core: papers ----------------------------------------------------------------------
    Table(
        "core.papers",
        Step.PAPERS,
        "One row per distinct paper; values merged deterministically from its listings.",
        (
            _c(
                "paper_id",
                "VARCHAR",
                "Stable paper id (hash of its title key); see core.paper_aliases.",
                not_null=True,
            ),
            _c("title", "VARCHAR", "Title of its newest listing.", zstd=True),
            _c("abstract", "VARCHAR", "Abstract of its newest listing.", zstd=True),
            _c("published_date", "DATE", "Publication date, from the newest listing stating it."),
            _c(
                "authors_count", "INTEGER", "Number of authors, from the newest listing stating it."
            ),
            _c("org_handle", "VARCHAR", "Organization handle, from the newest listing stating it."),
            _c("organization", "VARCHAR", "Organization, from the newest listing stating it."),
            _c("comments", "INTEGER", "Comment count, from the newest snapshot stating it."),
            _c("upvotes", "INTEGER", "Upvotes, from the newest snapshot stating it."),
            _c("arxiv_id", "VARCHAR", "arXiv ID without version, stated by a source or resolved."),
            _c("listing_count", "INTEGER", "Listings that are this paper."),
            _c("first_seen", "DATE", "Earliest snapshot (or ingestion) date of its listings."),
            _c("last_seen", "DATE", "Latest snapshot (or ingestion) date of its listings."),
            _c(
                "authors",
                "VARCHAR[]",
                "Author names in order, from the newest listing naming them.",
            ),
            *_HF_FACTS,
        ),
        key=("paper_id",),
    ),
    Table(
        "core.paper_listings",
        Step.PAPERS,
        "Lineage: which raw listing became which paper; every listing appears once.",
        (_PAPER, _SHA, _POSITION),
        key=("file_sha256", "position"),
    ),
    Table(
        "core.paper_aliases",
        Step.PAPERS,
        "Paper ids that a merge retired, and the paper they now belong to.",
        (
            _c("old_paper_id", "VARCHAR", "The retired id.", not_null=True),
            _c("paper_id", "VARCHAR", "The paper it belongs to now.", not_null=True),
            _c("reason", "VARCHAR", "title typo variant or same arXiv ID.", not_null=True),
            _c("recorded_at", "TIMESTAMP", "When the merge was recorded.", not_null=True),
        ),
        key=("old_paper_id",),
    ),
    Table(
        "core.arxiv_matches",
        Step.PAPERS,
        "Outcome of resolving each paper to arXiv (the best of its title clusters').",
        _outcome_columns(_PAPER),
        key=("paper_id",),
    ),
    Table(
        "core.arxiv_papers",
        Step.ARXIV,
        "arXiv's own record of each matched paper.",
        (
            _c("arxiv_id", "VARCHAR", "arXiv ID without version.", not_null=True),
            _c("version", "INTEGER", "Version of this record."),
            _c("title", "VARCHAR", "Title as arXiv states it."),
            _c("abstract", "VARCHAR", "Abstract as arXiv states it."),
            _c("authors", "VARCHAR[]", "Authors in order."),
            _c("primary_category", "VARCHAR", "Primary arXiv category."),
            _c("categories", "VARCHAR[]", "Every category."),
            _c("published", "TIMESTAMP", "First version's date."),
            _c("updated", "TIMESTAMP", "This version's date."),
            _c("doi", "VARCHAR", "DOI, when arXiv has one."),
            _c("journal_ref", "VARCHAR", "Journal reference, when given."),
            _c("comment", "VARCHAR", "The authors' comment (pages, venue, code link)."),
        ),
        key=("arxiv_id",),
    ),
    Table(
        "core.hf_lookups",
        Step.HF_LOOKUPS,
        "Papers with an arXiv ID but no Hugging Face listing, looked up on Hugging Face "
        "(`/api/papers/<id>`): what it said, and the raw file its answer was saved as.",
        (
            _c("arxiv_id", "VARCHAR", "The paper's arXiv ID, without version.", not_null=True),
            _c(
                "status",
                "VARCHAR",
                "found (its answer is a raw file), not_on_hf (404), error (the request "
                "failed) or pending (not asked yet).",
                not_null=True,
            ),
            _c("checked_at", "TIMESTAMP", "When Hugging Face was last asked."),
            _c("file_name", "VARCHAR", "The landing file its answer was saved as (found)."),
            _c("error", "VARCHAR", "Why it was not asked, or how the request failed."),
        ),
        key=("arxiv_id",),
    ),
    Table(
        "internal.paper_code_evidence",
        Step.PAPER_CODE,
        "A digest of the evidence each paper's repository roles were judged on: a paper "
        "is judged again only when it changes.",
        (
            _PAPER,
            _c(
                "evidence_md5",
                "VARCHAR",
                "MD5 of the paper's links and their evidence.",
                not_null=True,
            ),
        ),
        key=("paper_id",),
    ),
    Table(
        "core.paper_repos",
        Step.PAPER_CODE,
        "GitHub repositories linked to a paper, one row per paper and repository, with "
        "what the repository is to the paper and the evidence for it.",
        (
            _PAPER,
            _REPO,
            _REPO_URL,
            _c(
                "source",
                "VARCHAR",
                "Where it was first found: abstract, huggingface, arxiv or pwc_archive.",
                not_null=True,
            ),
            _c(
                "role",
                "VARCHAR",
                "official (the paper's own code), mentioned (a tool, library, dataset or "
                "other paper's code it names) or unknown.",
            ),
            _c("sources", "VARCHAR[]", "Every source that links it."),
            _c("sentence", "VARCHAR", "The sentence around the link, where it is in a text."),
            _c(
                "signals",
                "VARCHAR[]",
                "The evidence the role rests on (huggingface_stated, readme_cites_paper, "
                "own_phrase:…, use_phrase:…, created_near_paper, created_long_before, "
                "owner_is_author, owner_is_organization, linked_by_N_papers, …).",
            ),
        ),
        key=("paper_id", "repo"),
    ),
    Table(
        "core.paper_links",
        Step.LINKS,
        "Other links found for a paper, with their kind.",
        (_PAPER, _LINK_URL, _LINK_KIND),
        key=("paper_id", "url"),
    ),
    Table(
        "core.repos",
        Step.REPOS,
        "Each GitHub repository linked to a paper, as GitHub describes it. Facts are "
        "those of the last answer; a failed re-check keeps them and says why in `error`.",
        (
            _c(
                "repo",
                "VARCHAR",
                "owner/name in lower case, as linked (core.paper_repos.repo, lower-cased).",
                not_null=True,
            ),
            _c(
                "status",
                "VARCHAR",
                "ok, moved (renamed or transferred: see full_name), not_found, blocked "
                "(451, legal takedown), empty (no commits), error (asked, no answer yet) "
                "or pending (not asked yet: offline, budget spent, service down).",
                not_null=True,
            ),
            _c("repo_id", "BIGINT", "GitHub's numeric id: one per repository, across renames."),
            _c("full_name", "VARCHAR", "The canonical owner/name, after renames and transfers."),
            _c("description", "VARCHAR", "The repository's description."),
            _c("homepage", "VARCHAR", "Its homepage URL, when set."),
            _c("topics", "VARCHAR[]", "Its topics."),
            _c("stars", "INTEGER", "Stargazers."),
            _c("forks", "INTEGER", "Forks."),
            _c("watchers", "INTEGER", "Watchers (subscribers)."),
            _c("open_issues", "INTEGER", "Open issues (REST counts open pull requests too)."),
            _c("language", "VARCHAR", "Primary language."),
            _c(
                "license", "VARCHAR", "SPDX id of the licence (NOASSERTION: GitHub could not tell)."
            ),
            _c("archived", "BOOLEAN", "Archived (read-only) by its owner."),
            _c("disabled", "BOOLEAN", "Disabled by GitHub."),
            _c("fork", "BOOLEAN", "A fork of another repository."),
            _c("fork_parent", "VARCHAR", "For a fork: the repository it was forked from."),
            _c("fork_source", "VARCHAR", "For a fork: the root of its fork network (REST only)."),
            _c("default_branch", "VARCHAR", "The default branch."),
            _c("size_kb", "BIGINT", "Size in KB as GitHub reports it (0 is not proof of empty)."),
            _c("created_at", "TIMESTAMP", "When the repository was created (UTC)."),
            _c("pushed_at", "TIMESTAMP", "Its last push (UTC)."),
            _c("fetched_at", "TIMESTAMP", "When GitHub last answered with facts (or 304)."),
            _c("checked_at", "TIMESTAMP", "When GitHub was last asked, answered or not."),
            _c("etag", "VARCHAR", "ETag of the last REST answer, for If-None-Match."),
            _c("error", "VARCHAR", "Why the last check failed or was not made; null when fine."),
            _c("root_files", "VARCHAR[]", "Names at the top of the default branch, when known."),
            _c(
                "placeholder",
                "BOOLEAN",
                "Holds no code: empty, or only a README (with licence, .gitignore, images) "
                "saying the code is coming, only a few lines long, or no README at all. "
                "Null until its README was read.",
            ),
            _c("placeholder_reason", "VARCHAR", "Why it is a placeholder."),
        ),
        key=("repo",),
    ),
    Table(
        "internal.repo_readmes",
        Step.REPOS,
        "The README of each repository (by repo_id, so a renamed one is read once), "
        "re-checked with its ETag.",
        (
            _c("repo_id", "BIGINT", "GitHub's id of the repository.", not_null=True),
            _c(
                "status",
                "VARCHAR",
                "ok, none (no README), or error (never read yet).",
                not_null=True,
            ),
            _c("text", "VARCHAR", "The README's text.", zstd=True),
            _c("etag", "VARCHAR", "ETag of the answer, for If-None-Match."),
            _c("fetched_at", "TIMESTAMP", "When GitHub last answered (or said 304)."),
            _c("checked_at", "TIMESTAMP", "When it was last asked.", not_null=True),
            _c("error", "VARCHAR", "Why the last check failed."),
        ),
        key=("repo_id",),
    ),
    Table(
        "core.repo_observations",
        Step.REPOS,
        "Append-only history of each repository's stars, forks and pushes, one row per "
        "time it was observed.",
        (
            _c("repo", "VARCHAR", "owner/name in lower case (core.repos).", not_null=True),
            _c("observed_at", "TIMESTAMP", "When it was observed (UTC).", not_null=True),
            _c(
                "source",
                "VARCHAR",
                "github (its API) or huggingface (githubStars in a saved or fetched "
                "listing; observed on the file's snapshot day).",
                not_null=True,
            ),
            _c("status", "VARCHAR", "The repository's status then (core.repos).", not_null=True),
            _c("stars", "INTEGER", "Stargazers then."),
            _c("forks", "INTEGER", "Forks then."),
            _c("pushed_at", "TIMESTAMP", "Last push as of then."),
        ),
        key=("repo", "observed_at", "source"),
        primary_key=True,
    ),
    # --- marts: the read side --------------------------------------------------------------
    Table(
        "marts.listing_observations",
        Step.MARTS,
        "Every observation of a listing, appended once and never updated: the history "
        "(an incomplete save's are withdrawn when its complete save arrives).",
        (
            _SHA,
            _POSITION,
            _c(
                "observed_on",
                "DATE",
                "When it was observed: the fetch's day for a fetched file, else the "
                "snapshot date, else the ingestion date.",
                not_null=True,
            ),
            _c("snapshot_date", "DATE", "The file's snapshot date; null when unknown."),
            _c("upvotes", "INTEGER", "Upvotes stated in that observation."),
            _c("comments", "INTEGER", "Comment count stated in that observation."),
            _c("recorded_at", "TIMESTAMP", "When it was added to the history.", not_null=True),
        ),
        key=("file_sha256", "position"),
    ),
    Table(
        "marts.paper_history",
        Step.MARTS,
        "Per paper and snapshot day: upvotes, comments and listing appearances.",
        (
            _c("paper_id", "VARCHAR", "Current paper id."),
            _c("observed_on", "DATE", "Snapshot date (ingestion date when unknown)."),
            _c("snapshot_date_known", "BOOLEAN", "False when observed_on is an ingestion date."),
            _c("upvotes", "INTEGER", "Upvotes stated that day, if any."),
            _c("comments", "INTEGER", "Comment count stated that day, if any."),
            _c("appearances", "INTEGER", "Listings of the paper observed that day."),
            _c("files", "VARCHAR[]", "Raw files the observations come from."),
        ),
        view=True,
    ),
    Table(
        "marts.trending",
        Step.MARTS,
        "Papers of the last 30 days of observations, ranked by upvote gain, then appearances.",
        (
            _c("paper_id", "VARCHAR", "The paper."),
            _c("title", "VARCHAR", "Its title."),
            _c("appearances_30d", "INTEGER", "Listings observed in the last 30 days."),
            _c("snapshots_30d", "INTEGER", "Distinct days the paper was observed."),
            _c("upvotes_latest", "INTEGER", "Upvotes at the latest observation."),
            _c(
                "upvote_gain_30d",
                "INTEGER",
                "Upvotes gained between the first and latest observation.",
            ),
            _c("last_observed", "DATE", "Latest observation day."),
        ),
        view=True,
    ),
    Table(
        "marts.papers_with_code",
        Step.MARTS,
        "Each paper with its official repository as GitHub describes it, and whether "
        "its code is there.",
        (
            _c("paper_id", "VARCHAR", "The paper."),
            _c("title", "VARCHAR", "Its title."),
            _c("arxiv_id", "VARCHAR", "arXiv ID, when known."),
            _c("published_date", "DATE", "Publication date."),
            _c("official_repo", "VARCHAR", "owner/name of its official repository (most starred)."),
            _c("official_url", "VARCHAR", "https://github.com/owner/name."),
            _c("full_name", "VARCHAR", "The repository's canonical name after renames."),
            _c("repo_status", "VARCHAR", "core.repos status of that repository."),
            _c("stars", "INTEGER", "Its stars."),
            _c("license", "VARCHAR", "Its licence (SPDX id)."),
            _c("last_push", "TIMESTAMP", "Its last push."),
            _c("archived", "BOOLEAN", "Archived by its owner."),
            _c("placeholder", "BOOLEAN", "Holds no code yet (see core.repos)."),
            _c("placeholder_reason", "VARCHAR", "Why it is a placeholder."),
            _c("official_repos", "INTEGER", "How many repositories are official."),
            _c("linked_repos", "INTEGER", "How many repositories it links in all."),
            _c(
                "code_status",
                "VARCHAR",
                "available, placeholder, gone (404 or taken down), unverified (not asked "
                "yet, or no answer), no_official_repository or no_repository.",
            ),
        ),
        view=True,
    ),
    Table(
        "marts.repo_trending",
        Step.MARTS,
        "Star gain of each repository over 7 and 30 days, from core.repo_observations.",
        (
            _c("repo", "VARCHAR", "owner/name in lower case."),
            _c("full_name", "VARCHAR", "Canonical name."),
            _c("status", "VARCHAR", "core.repos status."),
            _c("stars", "INTEGER", "Stars at the latest observation."),
            _c("last_observed", "TIMESTAMP", "The latest observation."),
            _c("first_observed", "TIMESTAMP", "The first observation."),
            _c(
                "star_gain_7d",
                "INTEGER",
                "Stars gained since 7 days before the latest observation (since the first "
                "one, when it is younger).",
            ),
            _c("star_gain_30d", "INTEGER", "The same over 30 days."),
            _c("papers", "INTEGER", "Papers linking it."),
        ),
        view=True,
    ),
    Table(
        "marts.papers_with_repos",
        Step.MARTS,
        "Papers that have code, with their repositories.",
        (
            _c("paper_id", "VARCHAR", "The paper."),
            _c("title", "VARCHAR", "Its title."),
            _c("published_date", "DATE", "Publication date."),
            _c("arxiv_id", "VARCHAR", "arXiv ID, when known."),
            _c("organization", "VARCHAR", "Stated organization."),
            _c("upvotes", "INTEGER", "Latest upvotes stated."),
            _c("first_seen", "DATE", "Earliest snapshot date."),
            _c("last_seen", "DATE", "Latest snapshot date."),
            _c("repos", "VARCHAR[]", "owner/name of each repository."),
            _c("repo_urls", "VARCHAR[]", "https://github.com/owner/name of each repository."),
            _c("repo_sources", "VARCHAR[]", "Where the repositories were found."),
            _c("repo_count", "INTEGER", "Number of repositories."),
        ),
        view=True,
    ),
    Table(
        "marts.papers_by_organization",
        Step.MARTS,
        "Papers grouped by the organization the listing states.",
        (
            _c("org_handle", "VARCHAR", "Organization handle."),
            _c("organization", "VARCHAR", "Organization display name."),
            _c("papers", "INTEGER", "Distinct papers."),
            _c("listings", "INTEGER", "Listings of those papers."),
            _c("latest_published", "DATE", "Newest publication date."),
            _c("recent_titles", "VARCHAR[]", "Up to five newest titles."),
        ),
        view=True,
    ),
    Table(
        "marts.unresolved_papers",
        Step.MARTS,
        "Papers without an arXiv ID, with the state of their resolution.",
        (
            _c("paper_id", "VARCHAR", "The paper."),
            _c("title", "VARCHAR", "Its title."),
            _c("arxiv_status", "VARCHAR", "Latest outcome, or not_checked."),
            _c("checked_at", "TIMESTAMP", "When arXiv was last asked."),
            _c("error", "VARCHAR", "Why the last request failed, if it did."),
        ),
        view=True,
    ),
    Table(
        "marts.data_quality",
        Step.MARTS,
        "Data-quality counts: rejects by reason, files by status, unknown snapshot "
        "dates, unresolved papers.",
        (
            _c("metric", "VARCHAR", "What is counted."),
            _c("detail", "VARCHAR", "The category."),
            _c("count", "INTEGER", "How many."),
        ),
        view=True,
    ),
)

TABLE: dict[str, Table] = {t.name: t for t in TABLES}
SCHEMAS = ("raw", "internal", "core", "marts")
# What users read; `internal` is the steps' own.
PUBLIC_TABLES = tuple(t.name for t in TABLES if t.schema != "internal")


def tables_of(step: Step) -> tuple[Table, ...]:
    return tuple(t for t in TABLES if t.step == step)


def schema_sql(lake: bool = False) -> str:
    """The DDL of every schema and table (views are created by the marts step). A column
    declared after a warehouse was created is added to it (nullable ones, which is what
    new columns are), so an existing warehouse takes a new release without a migration.
    On a DuckLake (`lake`), keys are not declared: their asset checks still hold them."""
    schemas = [f"CREATE SCHEMA IF NOT EXISTS {s};" for s in SCHEMAS]
    added = [
        f"ALTER TABLE {t.name} ADD COLUMN IF NOT EXISTS {c.name} {c.type};"
        for t in TABLES
        if not t.view
        for c in t.columns
        if not c.not_null
    ]
    return "\n".join(schemas + [t.ddl(lake) for t in TABLES if not t.view] + added)


# Every (schema, table, column) the DDL creates: a warehouse holding them all needs none
# of it (running it costs a quarter second on a lake, a tenth on a file).
DECLARED_COLUMNS = frozenset(
    (t.schema, t.name.split(".")[1], c.name) for t in TABLES if not t.view for c in t.columns
)
PRESENT_COLUMNS_SQL = """
SELECT schema_name, table_name, column_name FROM duckdb_columns()
WHERE database_name = current_database() AND NOT internal
"""

_POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "BOOLEAN": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "VARCHAR[]": pl.List(pl.String()),
}


def polars_schema(table: str, columns: tuple[str, ...] | None = None) -> dict[str, pl.DataType]:
    """The polars schema of a table's columns (all, or those named), for building frames
    that insert without casts."""
    declared = TABLE[table]
    names = columns or declared.column_names
    return {name: _POLARS_TYPES[declared.column(name).type] for name in names}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_sql(tables: tuple[Table, ...] = TABLES, lake: bool = False) -> str:
    """`COMMENT ON` every table (or view) and column, so DuckDB and BI tools show them;
    a DuckLake keeps no comments on a view's columns."""
    statements = []
    for table in tables:
        kind = "VIEW" if table.view else "TABLE"
        statements.append(f"COMMENT ON {kind} {table.name} IS {_quote(table.description)};")
        statements += [
            f"COMMENT ON COLUMN {table.name}.{c.name} IS {_quote(c.description)};"
            for c in table.columns
            if not (lake and table.view)
        ]
    return "\n".join(statements)
