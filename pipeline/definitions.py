"""The Dagster code location: `dagster job execute -m pipeline.definitions -j refresh`."""

from __future__ import annotations

from dagster import Definitions

from assets.automation import daily_refresh, landing_sensor, refresh_job
from assets.checks import ASSET_CHECKS
from assets.core import core_links, core_papers
from assets.raw import raw_dumps
from assets.resources import PapersResource

defs = Definitions(
    assets=[raw_dumps, core_papers, core_links],
    asset_checks=ASSET_CHECKS,
    jobs=[refresh_job],
    schedules=[daily_refresh],
    sensors=[landing_sensor],
    resources={"papers": PapersResource()},
)
