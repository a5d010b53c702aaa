"""The Dagster code location: `dagster job execute -m assets.definitions -j refresh`."""

from dagster import Definitions

from assets.automation import daily_refresh, landing_sensor, refresh_job
from assets.checks import ASSET_CHECKS
from assets.executor import reaping_in_process_executor
from assets.huggingface import (
    hf_daily_job,
    hf_daily_papers,
    hf_daily_schedule,
    hf_search_job,
    hf_search_results,
    hf_search_schedule,
)
from assets.refresh import REFRESH_ASSETS
from assets.resources import PipelineSettings

defs = Definitions(
    assets=[*REFRESH_ASSETS, hf_daily_papers, hf_search_results],
    asset_checks=ASSET_CHECKS,
    jobs=[refresh_job, hf_daily_job, hf_search_job],
    schedules=[daily_refresh, hf_daily_schedule, hf_search_schedule],
    sensors=[landing_sensor],
    resources={"pipeline_settings": PipelineSettings()},
    # Every job, the UI's ad-hoc materializations included, runs its steps in one
    # process (they share one DuckDB file and run one after another anyway, and a
    # process per step costs more to start than the seeds take to load), with the
    # executor that frees the writer slots of killed runs.
    executor=reaping_in_process_executor,
)
