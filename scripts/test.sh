#!/usr/bin/env bash
# Command two: set up, then run the linter and the whole test suite (no internet needed).
# Arguments go to pytest: `./scripts/test.sh -m "not slow"` is the fast loop.
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== dg check defs"
PAPERS_OFFLINE=1 .venv/bin/dg check defs
echo "== pytest"
.venv/bin/pytest -q --durations=10 "$@"
