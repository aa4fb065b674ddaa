#!/usr/bin/env bash
# Run every numbered notebook headless (papermill), at the cpu profile unless told otherwise.
#
#   ./run_all.sh                      # all notebooks, cpu profile
#   ./run_all.sh --profile smoke      # seconds per notebook
#   ./run_all.sh 00 01 --timeout 900  # a subset, by number, name or topic
#   ./run_all.sh --list
#   ./run_all.sh --profile paper --dry-run   # every paper configuration built, trained a few steps, resumed, scored
#
# Creates the Python environment in .venv first if it is missing. Executed notebooks, tables and figures go
# to results/<profile>/<notebook>/, logs to results/<profile>/logs/, and results/<profile>/manifest.json
# records every run. Exits non-zero if any notebook failed, after running the others.
set -euo pipefail
export REPRO_INVOKED_FROM="$PWD"  # relative paths the user gave (--data-dir, REPRO_DATA_DIR) are relative to here
cd "$(dirname "$0")"
source scripts/ensure_env.sh
exec "$REPRO_PY" -m repro.notebook_runner "$@"
