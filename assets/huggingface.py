"""Fresh listings from Hugging Face, saved to the landing folder for `refresh` to load.

Not part of `refresh`: these assets need the network and a partition (a day), and the
refresh must run without either. Their files are picked up by the landing sensor or the
next scheduled refresh.
"""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    BackfillPolicy,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    multi_asset,
    schedule,
)

from assets.resources import LOAD_SETTINGS, PipelineSettings
from pipeline.clients import hf_client
from pipeline.http_session import OfflineError
from pipeline.huggingface.fetch import FETCH_ERRORS, days_to_fetch, fetch_day, fetch_searches
from pipeline.settings import Settings, SettingsError

HF_DAILY = AssetKey(["landing", "hf_daily_papers"])
HF_SEARCH = AssetKey(["landing", "hf_search_results"])


def _first_day() -> str:
    """HF_START_DATE, or the default while it is invalid: the code location must load
    for the refresh, which does not use it; the fetch then fails naming the variable."""
    try:
        return LOAD_SETTINGS.hf_start.isoformat()
    except SettingsError:
        return Settings.hf_start_date


daily_partitions = DailyPartitionsDefinition(start_date=_first_day(), timezone="UTC")
_RETRY = RetryPolicy(max_retries=2, delay=60)


def _files_metadata(paths: list[str]) -> dict[str, object]:
    return {
        "files_saved": MetadataValue.int(len(paths)),
        "files": MetadataValue.md("\n".join(f"- `{p}`" for p in paths) or "none"),
    }


@multi_asset(
    name="hf_daily_papers",
    specs=[
        AssetSpec(
            HF_DAILY,
            description="The day's Hugging Face daily papers, saved raw to the landing folder.",
            group_name="landing",
            kinds={"python"},
            skippable=True,
        )
    ],
    partitions_def=daily_partitions,
    # A range of days (a backfill, `--partition-range` on the CLI) is one run that
    # fetches the days one after another, each saved as its own raw file.
    backfill_policy=BackfillPolicy.single_run(),
    retry_policy=_RETRY,
)
def hf_daily_papers(context: AssetExecutionContext, pipeline_settings: PipelineSettings):
    """Fetches each day of the run (JSON API, HTML page as fallback). A day that fails
    fails alone: the others are saved and materialized, and the run then fails naming
    it, so the schedule fetches it again. Offline it fetches nothing and materializes
    nothing, so the days stay to be fetched."""
    settings = pipeline_settings.resolve()
    days = [date.fromisoformat(key) for key in context.partition_keys]
    if min(days) < settings.hf_start:  # an invalid HF_START_DATE stops here, naming it
        raise Failure(
            f"{min(days)} is before HF_START_DATE ({settings.hf_start})", allow_retries=False
        )
    if settings.offline:
        context.log.info(f"PAPERS_OFFLINE is set: not fetching {', '.join(map(str, days))}")
        return
    client, failed = hf_client(settings), {}
    for day in days:
        try:
            saved = fetch_day(client, day, settings.landing_dir)
        except (*FETCH_ERRORS, OfflineError) as exc:
            # The HTTP client already retried: said once, without the client's stack.
            failed[day] = str(exc)
            context.log.warning(f"daily papers for {day} could not be fetched: {exc}")
            continue
        metadata = _files_metadata([p.name for p in saved])
        yield AssetMaterialization(HF_DAILY, partition=day.isoformat(), metadata=metadata)
    if failed:
        listed = "; ".join(f"{day}: {error}" for day, error in failed.items())
        raise Failure(f"daily papers could not be fetched for {listed}", allow_retries=False)


@multi_asset(
    name="hf_search_results",
    specs=[
        AssetSpec(
            HF_SEARCH,
            description="Results of the configured topic searches (HF_SEARCH_QUERIES), raw.",
            group_name="landing",
            kinds={"python"},
            skippable=True,
        )
    ],
    retry_policy=_RETRY,
)
def hf_search_results(context: AssetExecutionContext, pipeline_settings: PipelineSettings):
    """Fetches every configured search into its own raw file; a failed query is reported
    and retried next time, the others are kept."""
    settings = pipeline_settings.resolve()
    if settings.offline or not settings.hf_search_queries:
        context.log.info("offline or no HF_SEARCH_QUERIES: nothing to fetch")
        return
    outcome = fetch_searches(hf_client(settings), settings.hf_search_queries, settings.landing_dir)
    for query, error in outcome.failed.items():
        context.log.warning(f"search {query!r} failed: {error}")
    if outcome.failed and not outcome.saved:
        raise Failure(f"every search failed: {outcome.failed}", allow_retries=False)
    yield MaterializeResult(
        asset_key=HF_SEARCH,
        metadata=_files_metadata([p.name for p in outcome.saved.values()])
        | {"queries_failed": MetadataValue.int(len(outcome.failed))},
    )


hf_daily_job = define_asset_job(
    "hf_daily_fetch",
    selection=[HF_DAILY],
    description="Fetches one day of Hugging Face daily papers into the landing folder.",
)
hf_search_job = define_asset_job(
    "hf_search_fetch",
    selection=[HF_SEARCH],
    description="Fetches the topic searches of HF_SEARCH_QUERIES into the landing folder.",
)


@schedule(
    job=hf_daily_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Fetches each of the last HF_REFETCH_DAYS days again (their upvotes are "
    "still settling; an unchanged answer adds nothing) and any missed day, before the refresh.",
)
def hf_daily_schedule(context: ScheduleEvaluationContext):
    fetched = context.instance.get_materialized_partitions(HF_DAILY)
    start = daily_partitions.start.date()
    today = context.scheduled_execution_time.date()
    for key in days_to_fetch(today, fetched, start, LOAD_SETTINGS.hf_refetch_days):
        yield RunRequest(run_key=f"hf-daily-{key}-on-{today}", partition_key=key)


@schedule(
    job=hf_search_job,
    cron_schedule="30 5 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Fetches the configured topic searches daily.",
)
def hf_search_schedule(context: ScheduleEvaluationContext):
    return RunRequest(run_key=context.scheduled_execution_time.strftime("hf-search-%Y-%m-%d"))
