"""The steps of a refresh as plain functions: what the Dagster assets run, and what
scripts, benchmarks and tests can run without Dagster.

Each step opens its own writing connection and writes its own tables (`db.schema` says
which) in one transaction, so a step that fails leaves the warehouse as the step before
left it. Data flows one way: raw files -> title clusters -> arXiv outcomes -> papers
-> links -> repos -> paper code -> marts. Beside them, the Hugging Face lookups read the
papers and write only raw files to the landing folder (and their own bookkeeping), which
the next ingestion loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pipeline.arxiv.outcomes import EnrichmentReport, resolve_clusters
from pipeline.clients import arxiv_client, github_client, hf_client
from pipeline.db.marts import build_marts
from pipeline.db.schema import Step
from pipeline.dumps.ingest import IngestReport, ingest_landing
from pipeline.github.paper_repos import rebuild_paper_repos
from pipeline.github.repos import ReposReport, refresh_repos
from pipeline.huggingface.lookups import LookupReport, look_up_papers
from pipeline.links.build import extract_links, rebuild_links
from pipeline.papers.build import PapersReport, build_papers
from pipeline.papers.clusters import ClusterReport, cluster_new_keys
from pipeline.settings import Settings


def load_raw_files(settings: Settings, today: date | None = None) -> IngestReport:
    """Archives and loads every landing file whose content is not in the warehouse yet;
    first checks that the landing folder and the warehouse's folder exist."""
    settings.check_paths()
    return ingest_landing(
        settings.landing_dir,
        settings.warehouse,
        settings.raw_archive_dir,
        today,
        settings.ingest_workers,
        settings.read_limits,
    )


def cluster_titles(settings: Settings) -> ClusterReport:
    """Gives every new title key its cluster, joining typo variants."""
    with settings.warehouse.write(Step.TITLE_CLUSTERS) as con:
        return cluster_new_keys(con)


def resolve_arxiv(
    settings: Settings,
    on_progress: Callable[[EnrichmentReport], None] | None = None,
    on_wait: Callable[[float, str], None] | None = None,
) -> EnrichmentReport:
    """Asks arXiv about clusters without a final outcome (nothing when offline), for at
    most ARXIV_MAX_RUN_S. It holds no connection while it waits on arXiv and writes in
    short transactions of its own, so what it learnt survives an interruption."""
    client = arxiv_client(settings, on_wait)
    with client.session:
        return resolve_clusters(
            settings.warehouse,
            client,
            settings.arxiv_recheck_days,
            settings.offline,
            on_progress=on_progress,
            max_run_s=settings.arxiv_max_run_s,
        )


def build_paper_tables(settings: Settings) -> PapersReport:
    """Papers, their lineage, aliases and arXiv outcomes, for what changed."""
    with settings.warehouse.write(Step.PAPERS) as con:
        return build_papers(con)


def look_up_on_hf(settings: Settings) -> LookupReport:
    """Asks Hugging Face about papers with an arXiv ID that no Hugging Face file listed
    (nothing when offline), for at most HF_LOOKUP_MAX_RUN_S; what it finds lands in the
    landing folder as raw files, which the next ingestion loads."""
    client = hf_client(settings)
    with client.session:
        return look_up_papers(
            settings.warehouse,
            client,
            settings.landing_dir,
            settings.hf_recheck_days,
            settings.offline,
            settings.hf_lookup_max_run_s,
        )


def build_link_tables(settings: Settings) -> int:
    """Scans newly loaded listings for links; rebuilds `core.paper_links`."""
    with settings.warehouse.write(Step.LINKS) as con:
        scanned = extract_links(con)
        rebuild_links(con)
    return scanned


def describe_repos(settings: Settings) -> ReposReport:
    """Asks GitHub about linked repositories that are due (nothing when offline), holding
    no connection while it waits, like the arXiv step."""
    client = github_client(settings)
    with client.session:
        return refresh_repos(
            settings.warehouse, client, settings.github_refresh_hours, settings.offline
        )


def judge_paper_code(settings: Settings) -> dict[str, int]:
    """Rebuilds `core.paper_repos`: each link's role (official, mentioned, unknown) with
    its evidence; returns the count per role."""
    with settings.warehouse.write(Step.PAPER_CODE) as con:
        return rebuild_paper_repos(con)


def build_mart_tables(settings: Settings) -> int:
    """Appends new observations to the history and (re)creates the views."""
    with settings.warehouse.write(Step.MARTS) as con:
        return build_marts(con, settings.warehouse.lake)


def publish_for_readers(settings: Settings) -> dict[str, str | int]:
    """Makes the last commit what readers see: a new read copy of a DuckDB file (a lake's
    readers see each commit as it lands); returns what to show about it."""
    return settings.warehouse.publish_for_readers(settings.read_copy_path)


@dataclass
class RefreshReport:
    ingest: IngestReport
    clusters: ClusterReport
    papers: PapersReport
    listings_scanned_for_links: int
    links_by_role: dict[str, int]


def refresh(settings: Settings, today: date | None = None) -> RefreshReport:
    """Raw files to core tables with the arXiv outcomes and GitHub facts known so far,
    without asking either (which needs the network): `resolve_arxiv` and
    `describe_repos`, then the steps after each again, add what they learn."""
    ingest = load_raw_files(settings, today)
    clusters = cluster_titles(settings)
    papers = build_paper_tables(settings)
    scanned = build_link_tables(settings)
    return RefreshReport(ingest, clusters, papers, scanned, judge_paper_code(settings))
