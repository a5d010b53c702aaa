"""The refresh job, its daily schedule, and the sensor that starts it when files land.

Both start STOPPED (Dagster's default, stated here explicitly): a fresh `dagster dev`
should not begin calling external services by itself. README says how to switch them on.
"""

import hashlib
import json

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from assets.resources import LOAD_SETTINGS, PipelineSettings
from pipeline.db.schema import SCHEMAS
from pipeline.dumps.ingest import loaded_already
from pipeline.landing import fingerprint_landing
from pipeline.settings import Settings

refresh_job = define_asset_job(
    name="refresh",
    selection=AssetSelection.groups(*SCHEMAS),
    description="Loads every new raw file in the landing folder and everything downstream.",
)


@schedule(
    job=refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Daily refresh at 06:00 UTC.",
)
def daily_refresh(context: ScheduleEvaluationContext) -> RunRequest:
    return RunRequest(run_key=context.scheduled_execution_time.strftime("refresh-%Y-%m-%d"))


@sensor(
    job=refresh_job,
    minimum_interval_seconds=LOAD_SETTINGS.sensor_interval_s,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts refresh when new files appear in the landing folder.",
)
def landing_sensor(
    context: SensorEvaluationContext, pipeline_settings: PipelineSettings
) -> RunRequest | SkipReason:
    settings = pipeline_settings.resolve()
    current = fingerprint_landing(settings.landing_dir)
    seen: dict[str, str] = (
        json.loads(context.cursor) if context.cursor else _loaded(settings, current)
    )
    new = sorted(path for path, print_ in current.items() if seen.get(path) != print_)
    if not new:
        if not context.cursor:  # the first look: remember, so as not to hash all again
            context.update_cursor(json.dumps(current, sort_keys=True))
            return SkipReason(f"all {len(current)} file(s) in the landing folder are loaded")
        return SkipReason("no new or changed files in the landing folder")
    context.update_cursor(json.dumps(current, sort_keys=True))
    run_key = landing_run_key({path: current[path] for path in new})
    return RunRequest(run_key=run_key, tags={"papers/new_files": str(len(new))})


def _loaded(settings: Settings, current: dict[str, str]) -> dict[str, str]:
    """On the sensor's first look (an empty cursor), the files already in the warehouse
    count as seen: switching the sensor on must not start a refresh for them."""
    loaded = loaded_already(settings.landing_dir, settings.warehouse)
    names = {str(path.relative_to(settings.landing_dir)) for path in loaded}
    return {name: print_ for name, print_ in current.items() if name in names}


def landing_run_key(new_files: dict[str, str]) -> str:
    """A run key naming the new files by path and fingerprint.

    Dagster drops a request whose run key it has seen before, so the key must differ
    for every distinct batch of files. A fingerprint alone (size and mtime) does not:
    two files copied with their times kept (`cp -p`, an unpacked archive) and of equal
    size share it, and the second batch used to be dropped silently.
    """
    digest = hashlib.sha256(json.dumps(new_files, sort_keys=True).encode()).hexdigest()
    return f"landing-{digest[:32]}"
