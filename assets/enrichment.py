"""arXiv enrichment: IDs resolved from titles, arXiv's records, merges by arXiv ID."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetSpec,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset_check,
    multi_asset,
)

from assets.keys import ARXIV_MATCHES, ARXIV_PAPERS, PAPER_REPOS, PAPERS, WRITER_POOL, table_name
from assets.metadata import table_metadata
from assets.resources import PapersResource
from pipeline.clients import arxiv_client
from pipeline.enrichment import EnrichmentReport, enrich_with_arxiv
from pipeline.quality import arxiv_outcome_shares
from pipeline.warehouse import connect

_KINDS = {"duckdb", "python"}
MIN_MATCHED_SHARE = 0.3
MAX_ERROR_SHARE = 0.1


def _report_metadata(report: EnrichmentReport) -> dict[str, object]:
    metadata: dict[str, object] = {
        f"papers_{status}": MetadataValue.int(count) for status, count in report.counts.items()
    }
    return metadata | {
        "requests_made": MetadataValue.int(report.requests),
        "cache_hits": MetadataValue.int(report.cache_hits),
        "ids_stated_by_source": MetadataValue.int(report.from_source),
        "records_stored": MetadataValue.int(report.records_stored),
        "papers_merged_by_arxiv_id": MetadataValue.int(report.merged_papers),
        "offline": MetadataValue.bool(report.offline),
    }


@multi_asset(
    name="arxiv_enrichment",
    specs=[
        AssetSpec(
            ARXIV_MATCHES,
            deps=[PAPERS, PAPER_REPOS],
            description="The outcome of resolving each paper to arXiv.",
            group_name="enrichment",
            kinds=_KINDS,
        ),
        AssetSpec(
            ARXIV_PAPERS,
            deps=[PAPERS],
            description="arXiv's own record of each matched paper.",
            group_name="enrichment",
            kinds=_KINDS,
        ),
    ],
    pool=WRITER_POOL,
    # Request failures are recorded per paper and never raised; this retries the rest
    # (a warehouse lock held too long, a full disk) a little later.
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
)
def arxiv_enrichment(
    context: AssetExecutionContext, papers: PapersResource
) -> Iterator[MaterializeResult]:
    """Asks arXiv about papers without a final outcome, politely and in batches."""
    settings = papers.settings()

    def progress(report: EnrichmentReport) -> None:
        context.log.info(f"arXiv progress: {report.counts}, {report.requests} requests")

    client = arxiv_client(settings)
    with client.session:
        report = enrich_with_arxiv(
            settings.warehouse_path,
            client,
            settings.arxiv_recheck_days,
            settings.offline,
            on_progress=progress,
        )
    context.log.info(
        f"arXiv: {report.counts}, {report.requests} requests, {report.cache_hits} cached"
    )
    for key in (ARXIV_MATCHES, ARXIV_PAPERS):
        yield MaterializeResult(
            asset_key=key,
            metadata=table_metadata(settings.warehouse_path, table_name(key))
            | _report_metadata(report),
        )


@asset_check(
    asset=ARXIV_MATCHES,
    name="arxiv_outcomes_in_bounds",
    description=(
        f"warns when fewer than {MIN_MATCHED_SHARE:.0%} of checked papers matched or more "
        f"than {MAX_ERROR_SHARE:.0%} ended in error"
    ),
)
def arxiv_outcomes_in_bounds(papers: PapersResource) -> AssetCheckResult:
    with connect(papers.settings().warehouse_path, read_only=True) as con:
        shares = arxiv_outcome_shares(con)
    checked = shares["checked"]
    passed = checked == 0 or (
        shares["matched"] >= MIN_MATCHED_SHARE and shares["error"] <= MAX_ERROR_SHARE
    )
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.WARN,
        metadata={k: MetadataValue.float(float(v)) for k, v in shares.items()},
    )
