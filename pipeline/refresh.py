"""The refresh as plain function calls, step by step: what the Dagster assets run, and
what scripts, benchmarks and tests can run without Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.core_tables import extract_links, rebuild_links, rebuild_papers
from pipeline.dedupe import DedupeReport, assign_papers
from pipeline.ingest import IngestReport, ingest_landing
from pipeline.settings import Settings
from pipeline.warehouse import open_writer, transaction


def load_papers(warehouse: Path) -> DedupeReport:
    """Maps new listings to papers and recomputes the papers they touched."""
    with open_writer(warehouse) as con, transaction(con):
        report = assign_papers(con)
        rebuild_papers(con, report.touched_papers)
    return report


def load_links(warehouse: Path) -> int:
    """Scans newly loaded listings for links; rebuilds `core.paper_repos`/`paper_links`."""
    with open_writer(warehouse) as con, transaction(con):
        scanned = extract_links(con)
        rebuild_links(con)
    return scanned


@dataclass
class RefreshReport:
    ingest: IngestReport
    papers: DedupeReport
    listings_scanned_for_links: int


def refresh(settings: Settings, today: date | None = None) -> RefreshReport:
    """Raw files to core tables, without enrichment (which needs the network)."""
    ingest = ingest_landing(
        settings.landing_dir,
        settings.warehouse_path,
        settings.raw_archive_dir,
        today,
        settings.ingest_workers,
    )
    papers = load_papers(settings.warehouse_path)
    return RefreshReport(ingest, papers, load_links(settings.warehouse_path))
