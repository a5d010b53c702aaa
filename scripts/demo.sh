#!/usr/bin/env bash
# Command one: set up, then run the `refresh` job on the bundled sample dumps.
source "$(dirname "$0")/bootstrap.sh"

export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
export PAPERS_LANDING_DIR="${PAPERS_LANDING_DIR:-warehouse/landing}"
export PAPERS_WAREHOUSE="${PAPERS_WAREHOUSE:-warehouse/papers.duckdb}"
# The demo makes no network call unless asked to (PAPERS_OFFLINE=0 ./scripts/demo.sh):
# enrichment is then recorded as pending and done by a later online refresh.
export PAPERS_OFFLINE="${PAPERS_OFFLINE:-1}"

mkdir -p "$DAGSTER_HOME" "$PAPERS_LANDING_DIR"
cp -n warehouse/samples/* "$PAPERS_LANDING_DIR"/ 2>/dev/null || true
echo "== running the refresh job on $PAPERS_LANDING_DIR"
.venv/bin/dg launch --job refresh > .dagster_home/last_refresh.log 2>&1 || {
  tail -40 .dagster_home/last_refresh.log
  echo "refresh failed; full log in .dagster_home/last_refresh.log" >&2
  exit 1
}
echo "== done (log: .dagster_home/last_refresh.log)"
echo "new in this run: $(grep -o '[0-9]* new file(s) of [0-9]* scanned[^|]*quarantined' .dagster_home/last_refresh.log | tail -1)"
.venv/bin/python -m pipeline.query
if [ "$PAPERS_OFFLINE" = "1" ]; then
  echo "Ran offline (PAPERS_OFFLINE=1): arXiv was not asked, so core.arxiv_papers is empty and"
  echo "papers whose source states no arXiv ID are 'pending' in core.arxiv_matches; GitHub was"
  echo "not asked either, so core.repos lists the linked repositories as 'pending'."
  echo "PAPERS_OFFLINE=0 ./scripts/demo.sh asks both (set GITHUB_TOKEN for GraphQL batches)."
fi
cat <<MSG

Query it:
  .venv/bin/python -m pipeline.query "SELECT title, listing_count FROM core.papers ORDER BY listing_count DESC LIMIT 5"
  .venv/bin/python -m pipeline.query warehouse/queries/newest_papers_with_code.sql
or from Python: duckdb.connect("warehouse/papers_read.duckdb", read_only=True)  # never locked by a refresh
The UI: PAPERS_OFFLINE=$PAPERS_OFFLINE DAGSTER_HOME=$DAGSTER_HOME .venv/bin/dg dev
MSG
