#!/usr/bin/env bash
# Write requirements-lock.txt from a fresh environment made from pyproject.toml alone (so that nothing installed by
# hand leaks into the pins):
#   python3 -m venv /tmp/lockenv && /tmp/lockenv/bin/pip install -e '.[dev]' && scripts/write_lock.sh /tmp/lockenv
# then run ./run_tests.sh (which reinstalls .venv under the new pins) and commit the file with the change.
set -euo pipefail
venv="${1:?usage: scripts/write_lock.sh VENV (a fresh environment with this checkout installed)}"
cd "$(dirname "$0")/.."
{
  echo "# The versions the tests last passed with: a fresh venv from pyproject.toml ($("$venv/bin/python" --version), $(uname -sm))."
  echo "# scripts/ensure_env.sh installs under these constraints (REPRO_UNLOCKED=1: without them)."
  echo "# Regenerate after a dependency change with scripts/write_lock.sh (see its header)."
  "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^#\|^-e '
} > requirements-lock.txt.tmp
mv requirements-lock.txt.tmp requirements-lock.txt
echo "wrote requirements-lock.txt ($(grep -vc '^#' requirements-lock.txt) pins)"
