#!/usr/bin/env bash
# Command two: set up, then run the linter and the whole test suite (no internet needed).
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== pytest"
.venv/bin/pytest -q "$@"
