"""Asset checks. Blocking ones stop bad data from flowing to downstream assets."""

from dagster import AssetCheckResult, AssetKey, MetadataValue, asset_check

from assets.keys import PAPER_LISTINGS, PAPER_REPOS, PAPERS
from assets.metadata import markdown_table
from assets.resources import PapersResource
from pipeline import quality
from pipeline.warehouse import connect


def _result(papers: PapersResource, rule: quality.Rule) -> AssetCheckResult:
    with connect(papers.settings().warehouse_path, read_only=True) as con:
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
    def _evaluate(papers: PapersResource) -> AssetCheckResult:
        return _result(papers, rule)

    return _evaluate


ASSET_CHECKS = [
    _check(PAPERS, quality.UNIQUE_PAPER_ID),
    _check(PAPERS, quality.NO_EMPTY_TITLES),
    _check(PAPER_LISTINGS, quality.LISTINGS_MAPPED_ONCE),
    _check(PAPER_LISTINGS, quality.LISTINGS_HAVE_PAPERS),
    _check(PAPER_REPOS, quality.REPO_FORMAT),
]
