"""The core layer: deduplicated papers, their lineage, repositories and links."""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from assets.keys import (
    LISTINGS,
    PAPER_LINKS,
    PAPER_LISTINGS,
    PAPER_REPOS,
    PAPERS,
    WRITER_POOL,
    table_name,
)
from assets.metadata import table_metadata
from assets.resources import PapersResource
from pipeline.refresh import load_links, load_papers

_KINDS = {"duckdb", "polars"}


@multi_asset(
    name="core_papers",
    specs=[
        AssetSpec(
            PAPERS,
            deps=[LISTINGS],
            description="One row per distinct paper, values merged deterministically.",
            group_name="core",
            kinds=_KINDS,
        ),
        AssetSpec(
            PAPER_LISTINGS,
            deps=[LISTINGS],
            description="Lineage: which raw listing became which paper.",
            group_name="core",
            kinds=_KINDS,
        ),
    ],
    pool=WRITER_POOL,
)
def core_papers(
    context: AssetExecutionContext, papers: PapersResource
) -> Iterator[MaterializeResult]:
    """Assigns new listings to papers (exact title key, then typo variants) and rebuilds
    the paper table from all listings."""
    warehouse = papers.settings().warehouse_path
    report = load_papers(warehouse)
    context.log.info(
        f"{report.new_keys} new title key(s), {report.fuzzy_pairs} typo pair(s), "
        f"{report.merged_papers} paper id(s) merged"
    )
    run_metadata = {
        "listings_mapped": MetadataValue.int(report.new_listings),
        "papers_recomputed": MetadataValue.int(len(report.touched_papers)),
        "new_title_keys": MetadataValue.int(report.new_keys),
        "typo_pairs_merged": MetadataValue.int(report.fuzzy_pairs),
        "paper_ids_merged": MetadataValue.int(report.merged_papers),
    }
    for key in (PAPERS, PAPER_LISTINGS):
        yield MaterializeResult(
            asset_key=key, metadata=table_metadata(warehouse, table_name(key)) | run_metadata
        )


@multi_asset(
    name="core_links",
    specs=[
        AssetSpec(
            PAPER_REPOS,
            deps=[PAPER_LISTINGS],
            description="GitHub repositories linked to a paper, as canonical owner/name.",
            group_name="core",
            kinds=_KINDS,
        ),
        AssetSpec(
            PAPER_LINKS,
            deps=[PAPER_LISTINGS],
            description="Other links found for a paper, with their kind.",
            group_name="core",
            kinds=_KINDS,
        ),
    ],
    pool=WRITER_POOL,
)
def core_links(
    context: AssetExecutionContext, papers: PapersResource
) -> Iterator[MaterializeResult]:
    """Scans abstracts of newly loaded files for links and rebuilds the per-paper tables."""
    warehouse = papers.settings().warehouse_path
    scanned = load_links(warehouse)
    context.log.info(f"scanned {scanned} new listing(s) for links")
    for key in (PAPER_REPOS, PAPER_LINKS):
        yield MaterializeResult(
            asset_key=key,
            metadata=table_metadata(warehouse, table_name(key))
            | {"listings_scanned": MetadataValue.int(scanned)},
        )
