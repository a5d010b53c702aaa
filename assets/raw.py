"""The raw layer: new landing files, read and loaded as they are."""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from assets.keys import DUMP_FILES, LISTINGS, REJECTS, WRITER_POOL, table_name
from assets.metadata import markdown_table, table_metadata
from assets.resources import PapersResource
from pipeline.ingest import IngestReport, ingest_landing

_KINDS = {"duckdb", "polars"}


def _report_metadata(report: IngestReport) -> dict[str, object]:
    files = [
        (f.file_name, f.status, f.layout, f.listings, f.rejects, f.error) for f in report.files
    ]
    return {
        "files_scanned": MetadataValue.int(report.scanned),
        "files_new": MetadataValue.int(len(report.files)),
        "files_already_ingested": MetadataValue.int(report.already_ingested),
        "files_quarantined": MetadataValue.int(report.quarantined),
        "listings_added": MetadataValue.int(report.listings),
        "rejects_added": MetadataValue.int(report.rejects),
        "new_files": MetadataValue.md(
            markdown_table(["file", "status", "layout", "listings", "rejects", "error"], files)
        ),
    }


@multi_asset(
    name="raw_dumps",
    specs=[
        AssetSpec(
            DUMP_FILES,
            description="One row per distinct raw file content: layout, snapshot date, status.",
            group_name="raw",
            kinds=_KINDS,
        ),
        AssetSpec(
            LISTINGS,
            description="One row per paper entry per raw file, cleaned and typed.",
            group_name="raw",
            kinds=_KINDS,
        ),
        AssetSpec(
            REJECTS,
            description="Files and entries set aside, each with a specific reason.",
            group_name="raw",
            kinds=_KINDS,
        ),
    ],
    pool=WRITER_POOL,
)
def raw_dumps(
    context: AssetExecutionContext, papers: PapersResource
) -> Iterator[MaterializeResult]:
    """Scans the landing folder and loads every file content not yet in the warehouse."""
    settings = papers.settings()
    report = ingest_landing(
        settings.landing_dir,
        settings.warehouse_path,
        settings.raw_archive_dir,
        workers=settings.ingest_workers,
    )
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
    run_metadata = _report_metadata(report)
    for key in (DUMP_FILES, LISTINGS, REJECTS):
        metadata = table_metadata(settings.warehouse_path, table_name(key))
        yield MaterializeResult(asset_key=key, metadata=metadata | run_metadata)
