"""The assets of the refresh: one multi-asset per step, one asset per table it writes.

Each asset calls one plain function of `pipeline.steps` and reports what it did; every
writer is in the `duckdb_writer` pool, as DuckDB allows one writing process per file.
"""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    multi_asset,
)

from assets.metadata import markdown_table, tables_metadata
from assets.resources import PipelineSettings
from assets.tables import READ_COPY, WRITER_POOL, asset_key, step_keys, step_specs, table_name
from pipeline import steps
from pipeline.arxiv.outcomes import EnrichmentReport
from pipeline.db.schema import TABLE, Step, tables_of
from pipeline.dumps.ingest import IngestReport
from pipeline.github.repos import ReposReport
from pipeline.huggingface.lookups import LookupReport
from pipeline.settings import Settings

# The steps that wait on a service record its failures per item and never raise them;
# this retries the rest (a warehouse lock held too long, a full disk) a little later.
NETWORK_STEP_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL)


def _results(
    context: AssetExecutionContext,
    settings: Settings,
    step: Step,
    run_metadata: dict[str, object],
) -> Iterator[MaterializeResult]:
    """A result for each of the step's tables the run selected. A step writes all its
    tables in one transaction whatever was selected (they are computed together), so
    the others are named in the log. A run that writes the warehouse without the read
    copy (one step materialized on its own) republishes the copy itself, so readers
    never see an older warehouse than the last write."""
    selected = context.selected_asset_keys
    also = [table_name(key) for key in step_keys(step) if key not in selected]
    if also:
        context.log.info(f"the {step} step also rewrote {', '.join(also)} (one transaction)")
    keys = [key for key in step_keys(step) if key in selected]
    metadata = tables_metadata(settings.warehouse, [TABLE[table_name(key)] for key in keys])
    for key in keys:
        yield MaterializeResult(asset_key=key, metadata=metadata[table_name(key)] | run_metadata)
    run_selection = context.run.asset_selection
    if run_selection is not None and READ_COPY not in run_selection:
        shown = steps.publish_for_readers(settings)
        context.log.info(f"published for readers: {shown}")


def _ingest_metadata(report: IngestReport) -> dict[str, object]:
    files = [
        (f.file_name, f.status, f.layout, f.listings, f.rejects, f.error) for f in report.files
    ]
    return {
        "files_scanned": MetadataValue.int(report.scanned),
        "files_new": MetadataValue.int(len(report.files)),
        "files_already_ingested": MetadataValue.int(report.already_ingested),
        "files_quarantined": MetadataValue.int(report.quarantined),
        "files_not_read": MetadataValue.int(len(report.skipped)),
        "files_superseded": MetadataValue.int(len(report.superseded)),
        "listings_added": MetadataValue.int(report.listings),
        "rejects_added": MetadataValue.int(report.rejects),
        "new_files": MetadataValue.md(
            markdown_table(["file", "status", "layout", "listings", "rejects", "error"], files)
        ),
    }


@multi_asset(
    name="raw_files",
    # Fed by the landing folder, which the Hugging Face fetches write to.
    specs=step_specs(
        Step.RAW_FILES,
        reads=["landing.hf_daily_papers", "landing.hf_search_results"],
        kinds={"polars"},
    ),
    pool=WRITER_POOL,
    can_subset=True,
)
def raw_files(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Scans the landing folder and loads every file content not yet in the warehouse."""
    settings = pipeline_settings.resolve()
    report = steps.load_raw_files(settings)
    context.log.info(
        f"{len(report.files)} new file(s) of {report.scanned} scanned: "
        f"{report.listings} listings, {report.rejects} rejects, "
        f"{report.quarantined} file(s) quarantined"
    )
    for outcome in report.files:
        if outcome.status == "quarantined":
            context.log.warning(f"quarantined {outcome.file_name}: {outcome.error}")
    for name in report.changed:
        context.log.warning(f"{name} changed while it was being read; left for the next run")
    for name, reason in report.skipped.items():
        context.log.warning(f"{name} was not read: {reason}")
    for partial, complete in report.superseded:
        context.log.info(f"{partial} was an incomplete save of {complete}: its listings withdrawn")
    # The settings in effect, which the resource's unset fields do not show (no token).
    shown = {"settings": MetadataValue.json(settings.shown())}
    yield from _results(context, settings, Step.RAW_FILES, _ingest_metadata(report) | shown)


@multi_asset(
    name="title_clusters",
    specs=step_specs(Step.TITLE_CLUSTERS, reads=["raw.listings"], kinds={"python"}),
    pool=WRITER_POOL,
    can_subset=True,
)
def title_clusters(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Clusters new title keys: exact keys, then typo variants with agreeing abstracts."""
    settings = pipeline_settings.resolve()
    report = steps.cluster_titles(settings)
    context.log.info(
        f"{report.new_keys} new title key(s), {report.typo_pairs} typo pair(s), "
        f"{report.clusters_merged} cluster(s) merged"
    )
    yield from _results(
        context,
        settings,
        Step.TITLE_CLUSTERS,
        {
            "new_title_keys": MetadataValue.int(report.new_keys),
            "typo_pairs_merged": MetadataValue.int(report.typo_pairs),
            "clusters_merged": MetadataValue.int(report.clusters_merged),
        },
    )


def _arxiv_metadata(report: EnrichmentReport) -> dict[str, object]:
    metadata: dict[str, object] = {
        f"papers_{status}": MetadataValue.int(count) for status, count in report.counts.items()
    }
    return metadata | {
        "requests_made": MetadataValue.int(report.requests),
        "cache_hits": MetadataValue.int(report.cache_hits),
        "ids_stated_by_source": MetadataValue.int(report.from_source),
        "records_stored": MetadataValue.int(report.records_stored),
        "zero_hit_retries": MetadataValue.int(report.zero_hit_retries),
        "offline": MetadataValue.bool(report.offline),
    }


@multi_asset(
    name="arxiv_outcomes",
    specs=step_specs(Step.ARXIV, reads=["internal.title_keys", "raw.listings"], kinds={"python"}),
    # Not in the writer pool: it spends its time waiting on arXiv, and other runs' writers
    # (marts, the read copy) must not wait with it. Its short writes wait for DuckDB's
    # lock instead.
    retry_policy=NETWORK_STEP_RETRY,
    can_subset=True,
)
def arxiv_outcomes(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Asks arXiv about title clusters without a final outcome, politely and in batches."""
    settings = pipeline_settings.resolve()

    def progress(report: EnrichmentReport) -> None:
        context.log.info(f"arXiv progress: {report.counts}, {report.requests} requests")

    def waiting(seconds: float, why: str) -> None:
        context.log.info(f"arXiv: waiting {seconds:.0f} s before retrying ({why})")

    report = steps.resolve_arxiv(settings, on_progress=progress, on_wait=waiting)
    if report.stopped:
        context.log.warning(f"arXiv: {report.stopped}; the rest is left pending")
    context.log.info(
        f"arXiv: {report.counts}, {report.requests} requests, {report.cache_hits} cached"
    )
    yield from _results(context, settings, Step.ARXIV, _arxiv_metadata(report))


@multi_asset(
    name="papers",
    specs=step_specs(
        Step.PAPERS,
        reads=["internal.title_keys", "internal.arxiv_outcomes", "raw.listings"],
        kinds={"sql"},
    ),
    pool=WRITER_POOL,
    can_subset=True,
)
def papers(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Maps listings to papers (merging clusters with one arXiv ID) and recomputes the
    papers that changed."""
    settings = pipeline_settings.resolve()
    report = steps.build_paper_tables(settings)
    context.log.info(
        f"{report.listings_mapped} listing(s) mapped, {len(report.touched_papers)} paper(s) "
        f"recomputed, ids retired: {report.papers_retired or 'none'}"
    )
    yield from _results(
        context,
        settings,
        Step.PAPERS,
        {
            "listings_mapped": MetadataValue.int(report.listings_mapped),
            "papers_recomputed": MetadataValue.int(len(report.touched_papers)),
            "paper_ids_merged": MetadataValue.int(sum(report.papers_retired.values())),
        },
    )


@multi_asset(
    name="links",
    specs=step_specs(
        Step.LINKS,
        reads=["raw.listings", "core.paper_listings", "core.papers", "internal.arxiv_repos"],
        kinds={"polars"},
    ),
    pool=WRITER_POOL,
    can_subset=True,
)
def links(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Scans abstracts of newly loaded files for links and rebuilds the per-paper tables."""
    settings = pipeline_settings.resolve()
    scanned = steps.build_link_tables(settings)
    context.log.info(f"scanned {scanned} new listing(s) for links")
    yield from _results(
        context, settings, Step.LINKS, {"listings_scanned": MetadataValue.int(scanned)}
    )


def _lookups_metadata(report: LookupReport) -> dict[str, object]:
    metadata: dict[str, object] = {
        f"papers_{status}": MetadataValue.int(count) for status, count in report.counts.items()
    }
    return metadata | {
        "papers_newly_wanted": MetadataValue.int(report.wanted_new),
        "papers_due": MetadataValue.int(report.due),
        "requests_made": MetadataValue.int(report.requests),
        "files_saved": MetadataValue.int(len(report.files_saved)),
        "stopped": MetadataValue.text(report.stopped or "no"),
        "offline": MetadataValue.bool(report.offline),
    }


@multi_asset(
    name="hf_lookups",
    specs=step_specs(
        Step.HF_LOOKUPS,
        reads=["core.papers", "core.paper_listings", "raw.dump_files"],
        kinds={"python"},
    ),
    # Not in the writer pool, like the arXiv step. Its answers land in the landing folder
    # for the next `raw_files` run (a dependency the graph cannot show: it would be a cycle).
    retry_policy=NETWORK_STEP_RETRY,
    can_subset=True,
)
def hf_lookups(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Asks Hugging Face about papers with an arXiv ID that only text dumps listed."""
    settings = pipeline_settings.resolve()
    report = steps.look_up_on_hf(settings)
    if report.stopped:
        context.log.warning(f"Hugging Face: {report.stopped}; the rest is left for the next run")
    context.log.info(
        f"Hugging Face: {report.due} paper(s) due, {report.requests} request(s), "
        f"answers {report.answers or 'none'}; {len(report.files_saved)} raw file(s) saved "
        f"for the next ingestion; now {report.counts}"
    )
    yield from _results(context, settings, Step.HF_LOOKUPS, _lookups_metadata(report))


# What `LINKED_REPOS_SQL` reads: every repository link of every paper.
_LINKED_REPOS_READS = [
    "internal.listing_repos",
    "internal.arxiv_repos",
    "core.paper_listings",
    "core.papers",
]


def _repos_metadata(report: ReposReport) -> dict[str, object]:
    metadata: dict[str, object] = {
        f"repos_{status}": MetadataValue.int(count) for status, count in report.counts.items()
    }
    budget = report.budget_remaining
    return metadata | {
        "repos_newly_linked": MetadataValue.int(report.linked_new),
        "repos_due": MetadataValue.int(report.due),
        "repos_asked": MetadataValue.int(report.asked),
        "requests_made": MetadataValue.int(report.requests),
        "not_modified_304": MetadataValue.int(report.not_modified),
        "rate_budget_left": MetadataValue.text("unknown" if budget is None else str(budget)),
        "stopped": MetadataValue.text(report.stopped or "no"),
        "offline": MetadataValue.bool(report.offline),
    }


@multi_asset(
    name="repos",
    specs=step_specs(Step.REPOS, reads=_LINKED_REPOS_READS, kinds={"github"}),
    # Not in the writer pool, like the arXiv step: it waits on GitHub, and writes in short
    # transactions that wait for DuckDB's lock.
    retry_policy=NETWORK_STEP_RETRY,
    can_subset=True,
)
def repos(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Asks GitHub about linked repositories that are due: facts, renames, dead links."""
    settings = pipeline_settings.resolve()
    report = steps.describe_repos(settings)
    if report.stopped:
        context.log.warning(f"GitHub: {report.stopped}; the rest is left for the next run")
    context.log.info(
        f"GitHub: {report.asked} of {report.due} due repositories asked, "
        f"{report.requests} requests ({report.not_modified} not modified); now {report.counts}"
    )
    yield from _results(context, settings, Step.REPOS, _repos_metadata(report))


@multi_asset(
    name="paper_code",
    specs=step_specs(
        Step.PAPER_CODE,
        reads=[
            *_LINKED_REPOS_READS,
            "raw.listings",
            "core.arxiv_papers",
            "core.repos",
            "internal.repo_readmes",
        ],
        kinds={"python"},
    ),
    pool=WRITER_POOL,
    can_subset=True,
)
def paper_code(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Judges each paper's repositories: official, mentioned or unknown, with evidence."""
    settings = pipeline_settings.resolve()
    roles = steps.judge_paper_code(settings)
    context.log.info(f"paper-repository links by role: {roles or 'none'}")
    metadata = {f"links_{role}": MetadataValue.int(n) for role, n in roles.items()}
    yield from _results(context, settings, Step.PAPER_CODE, metadata)


_MART_READS = [
    "raw.listings",
    "raw.dump_files",
    "raw.rejects",
    "core.papers",
    "core.paper_listings",
    "core.paper_repos",
    "core.arxiv_matches",
    "core.repos",
    "core.repo_observations",
]


@multi_asset(
    name="marts",
    specs=step_specs(Step.MARTS, reads=_MART_READS, kinds={"sql"}),
    pool=WRITER_POOL,
    can_subset=True,
)
def marts(
    context: AssetExecutionContext, pipeline_settings: PipelineSettings
) -> Iterator[MaterializeResult]:
    """Appends new observations to the history and (re)creates the mart views."""
    settings = pipeline_settings.resolve()
    added = steps.build_mart_tables(settings)
    context.log.info(f"{added} new observation(s) in marts.listing_observations")
    yield from _results(
        context, settings, Step.MARTS, {"observations_added": MetadataValue.int(added)}
    )


@asset(
    key=READ_COPY,
    deps=[asset_key(t.name) for t in tables_of(Step.MARTS)],
    group_name="marts",
    kinds={"duckdb"},
    pool=WRITER_POOL,
    description="What readers see after each refresh: a consistent copy of a DuckDB file, "
    "replaced atomically, which notebooks and BI tools open and are never locked out of; "
    "on a DuckLake, the snapshot the refresh committed (readers attach the lake itself).",
)
def warehouse_read_copy(pipeline_settings: PipelineSettings) -> MaterializeResult:
    shown = steps.publish_for_readers(pipeline_settings.resolve())
    return MaterializeResult(
        metadata={
            name: MetadataValue.int(value) if isinstance(value, int) else MetadataValue.text(value)
            for name, value in shown.items()
        }
    )


REFRESH_ASSETS = [
    raw_files,
    title_clusters,
    arxiv_outcomes,
    papers,
    hf_lookups,
    links,
    repos,
    paper_code,
    marts,
    warehouse_read_copy,
]
