"""The Dagster code location: `dagster job execute -m pipeline.definitions -j refresh`."""

from __future__ import annotations

from dagster import Definitions

from assets.automation import daily_refresh, landing_sensor, refresh_job
from assets.checks import ASSET_CHECKS
from assets.core import core_links, core_papers
from assets.enrichment import arxiv_enrichment, arxiv_outcomes_in_bounds
from assets.huggingface import (
    hf_daily_job,
    hf_daily_papers,
    hf_daily_schedule,
    hf_search_job,
    hf_search_results,
    hf_search_schedule,
)
from assets.marts import marts, warehouse_read_copy
from assets.raw import raw_dumps
from assets.resources import PapersResource

defs = Definitions(
    assets=[
        raw_dumps,
        core_papers,
        core_links,
        arxiv_enrichment,
        marts,
        warehouse_read_copy,
        hf_daily_papers,
        hf_search_results,
    ],
    asset_checks=[*ASSET_CHECKS, arxiv_outcomes_in_bounds],
    jobs=[refresh_job, hf_daily_job, hf_search_job],
    schedules=[daily_refresh, hf_daily_schedule, hf_search_schedule],
    sensors=[landing_sensor],
    resources={"papers": PapersResource()},
)
