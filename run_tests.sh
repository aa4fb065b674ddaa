#!/usr/bin/env bash
# The test command: lint, unit tests, and a smoke-profile run of every notebook.
#
#   ./run_tests.sh                 # everything
#   ./run_tests.sh -k data -x      # extra arguments go to pytest
#
# Creates the Python environment in .venv first if it is missing. Tests that need the offline dataset
# mirrors skip (with the reason) unless REPRO_DATA_DIR points at them.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh
"$REPRO_PY" -m ruff check repro tests benchmarks
exec "$REPRO_PY" -m pytest "$@"
