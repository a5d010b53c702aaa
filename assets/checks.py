"""Asset checks. Blocking ones stop bad data from flowing to downstream assets; the same
rules are plain SQL in `pipeline.db.quality`."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from assets.metadata import markdown_table
from assets.resources import PipelineSettings
from assets.tables import asset_key
from pipeline.db import quality
from pipeline.db.quality import arxiv_outcome_shares, repo_status_shares

MIN_MATCHED_SHARE = 0.3
MAX_ERROR_SHARE = 0.1
MAX_NOT_FOUND_SHARE = 0.2
MAX_PLACEHOLDER_SHARE = 0.2


def _result(pipeline_settings: PipelineSettings, rule: quality.Rule) -> AssetCheckResult:
    with pipeline_settings.resolve().warehouse.connect(read_only=True) as con:
        outcome = quality.evaluate(con, rule)
    width = len(outcome.examples[0]) if outcome.examples else 0
    return AssetCheckResult(
        passed=outcome.passed,
        description=rule.description,
        metadata={
            "offending_rows": MetadataValue.int(outcome.offending),
            "examples": MetadataValue.md(
                markdown_table([f"col{i + 1}" for i in range(width)], outcome.examples)
                if outcome.examples
                else "none"
            ),
        },
    )


def _check(asset: AssetKey, rule: quality.Rule):
    @asset_check(asset=asset, name=rule.name, description=rule.description, blocking=True)
    def _evaluate(pipeline_settings: PipelineSettings) -> AssetCheckResult:
        return _result(pipeline_settings, rule)

    return _evaluate


@asset_check(
    asset=asset_key("core.arxiv_matches"),
    name="arxiv_outcomes_in_bounds",
    description=(
        f"warns when fewer than {MIN_MATCHED_SHARE:.0%} of checked papers matched or more "
        f"than {MAX_ERROR_SHARE:.0%} ended in error"
    ),
)
def arxiv_outcomes_in_bounds(pipeline_settings: PipelineSettings) -> AssetCheckResult:
    with pipeline_settings.resolve().warehouse.connect(read_only=True) as con:
        shares = arxiv_outcome_shares(con)
    checked = int(shares["checked"])
    matched, errors = shares["matched"], shares["error"]
    passed = checked == 0 or (matched >= MIN_MATCHED_SHARE and errors <= MAX_ERROR_SHARE)
    reason = (
        "no paper was asked about yet (offline, or nothing new)"
        if checked == 0
        else f"of {checked} papers asked about, {matched:.0%} matched and {errors:.0%} "
        f"ended in error (wanted: at least {MIN_MATCHED_SHARE:.0%} matched, at most "
        f"{MAX_ERROR_SHARE:.0%} in error)"
    )
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.WARN,
        description=reason,
        metadata={
            "papers_checked": MetadataValue.int(checked),
            "matched_share": MetadataValue.text(f"{matched:.1%}"),
            "error_share": MetadataValue.text(f"{errors:.1%}"),
        },
    )


@asset_check(
    asset=asset_key("core.repos"),
    name="repos_mostly_usable",
    description=f"warns when more than {MAX_NOT_FOUND_SHARE:.0%} of the repositories GitHub "
    f"answered for do not exist, or more than {MAX_PLACEHOLDER_SHARE:.0%} are placeholders",
)
def repos_mostly_usable(pipeline_settings: PipelineSettings) -> AssetCheckResult:
    with pipeline_settings.resolve().warehouse.connect(read_only=True) as con:
        shares = repo_status_shares(con)
    checked, missing, empty = int(shares["checked"]), shares["not_found"], shares["placeholder"]
    reason = (
        "GitHub has not answered for any linked repository yet (offline, or nothing new)"
        if checked == 0
        else f"of {checked} repositories GitHub answered for, {missing:.0%} do not exist and "
        f"{empty:.0%} are placeholders (wanted: at most {MAX_NOT_FOUND_SHARE:.0%} and "
        f"{MAX_PLACEHOLDER_SHARE:.0%})"
    )
    return AssetCheckResult(
        passed=missing <= MAX_NOT_FOUND_SHARE and empty <= MAX_PLACEHOLDER_SHARE,
        severity=AssetCheckSeverity.WARN,
        description=reason,
        metadata={
            "repos_answered": MetadataValue.int(checked),
            "not_found_share": MetadataValue.text(f"{missing:.1%}"),
            "placeholder_share": MetadataValue.text(f"{empty:.1%}"),
        },
    )


ASSET_CHECKS = [
    _check(asset_key("core.papers"), quality.UNIQUE_PAPER_ID),
    _check(asset_key("core.papers"), quality.NO_EMPTY_TITLES),
    _check(asset_key("core.paper_listings"), quality.LISTINGS_MAPPED_ONCE),
    _check(asset_key("core.paper_listings"), quality.LISTINGS_HAVE_PAPERS),
    _check(asset_key("core.paper_repos"), quality.REPO_FORMAT),
    _check(asset_key("core.paper_repos"), quality.PAPER_REPOS_DESCRIBED),
    *(_check(asset_key(table), rule) for table, rule in quality.KEY_RULES.items()),
    arxiv_outcomes_in_bounds,
    repos_mostly_usable,
]
