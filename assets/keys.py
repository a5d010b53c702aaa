"""Asset keys mirror the warehouse's `schema.table` names."""

from dagster import AssetKey

WRITER_POOL = "duckdb_writer"

DUMP_FILES = AssetKey(["raw", "dump_files"])
LISTINGS = AssetKey(["raw", "listings"])
REJECTS = AssetKey(["raw", "rejects"])
PAPERS = AssetKey(["core", "papers"])
PAPER_LISTINGS = AssetKey(["core", "paper_listings"])
PAPER_REPOS = AssetKey(["core", "paper_repos"])
PAPER_LINKS = AssetKey(["core", "paper_links"])


def table_name(key: AssetKey) -> str:
    return ".".join(key.path)


ARXIV_MATCHES = AssetKey(["core", "arxiv_matches"])
ARXIV_PAPERS = AssetKey(["core", "arxiv_papers"])
READ_COPY = AssetKey(["warehouse_read_copy"])
