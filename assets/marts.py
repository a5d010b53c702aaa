"""The read side: marts for downstream use, and the copy readers open."""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.keys import (
    ARXIV_MATCHES,
    ARXIV_PAPERS,
    PAPER_LINKS,
    PAPER_REPOS,
    READ_COPY,
    WRITER_POOL,
)
from assets.metadata import table_metadata
from assets.resources import PapersResource
from pipeline.catalog import CATALOG
from pipeline.marts import MART_TABLES, load_marts
from pipeline.warehouse import publish_read_copy

_UPSTREAM = [PAPER_REPOS, PAPER_LINKS, ARXIV_MATCHES, ARXIV_PAPERS]


def _key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


@multi_asset(
    name="marts",
    specs=[
        AssetSpec(
            _key(table),
            deps=_UPSTREAM,
            description=CATALOG[table].description,
            group_name="marts",
            kinds={"duckdb", "sql"},
        )
        for table in MART_TABLES
    ],
    pool=WRITER_POOL,
)
def marts(context: AssetExecutionContext, papers: PapersResource) -> Iterator[MaterializeResult]:
    """Appends new observations to the history and (re)creates the mart views."""
    warehouse = papers.settings().warehouse_path
    added = load_marts(warehouse)
    context.log.info(f"{added} new observation(s) in marts.listing_observations")
    for table in MART_TABLES:
        yield MaterializeResult(
            asset_key=_key(table),
            metadata=table_metadata(warehouse, table)
            | {"observations_added": MetadataValue.int(added)},
        )


@asset(
    key=READ_COPY,
    deps=[_key(t) for t in MART_TABLES],
    group_name="marts",
    kinds={"duckdb"},
    pool=WRITER_POOL,
    description="A consistent copy of the warehouse for readers, replaced atomically at "
    "the end of each refresh: notebooks and BI tools open it and are never locked out.",
)
def warehouse_read_copy(papers: PapersResource) -> MaterializeResult:
    settings = papers.settings()
    path = publish_read_copy(settings.warehouse_path, settings.read_copy_path)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "bytes": MetadataValue.int(path.stat().st_size),
        }
    )
