# Sourced by run_all.sh and run_tests.sh: make sure the project's virtual environment exists and is current.
#
# Creates $REPRO_VENV (default: <repo>/.venv) with the first of $REPRO_PYTHON, python3.11, python3 that is
# Python >= 3.11, then installs the project with its dev extra (pyproject.toml pins torch and torchvision).
# A stamp file holding the hash of pyproject.toml makes this a no-op until the dependencies change.
# Afterwards $REPRO_PY is the environment's python.

_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPRO_VENV="${REPRO_VENV:-$_repo_root/.venv}"
_stamp="$REPRO_VENV/.gan-repro-installed"
_want="$(sha256sum "$_repo_root/pyproject.toml" | cut -c1-16)"

if [ "$(cat "$_stamp" 2>/dev/null)" != "$_want" ] || ! "$REPRO_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  _python=""
  for _candidate in "${REPRO_PYTHON:-}" python3.11 python3; do
    [ -n "$_candidate" ] || continue
    if command -v "$_candidate" >/dev/null 2>&1 &&
       "$_candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      _python="$_candidate"; break
    fi
  done
  if [ -z "$_python" ]; then
    echo "error: no Python >= 3.11 found; install one or set REPRO_PYTHON=/path/to/python3" >&2
    exit 1
  fi
  echo "[env] setting up $REPRO_VENV with $("$_python" --version) (first run only: a few minutes) ..." >&2
  _t0=$(date +%s)
  if ! "$REPRO_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    if [ -e "$REPRO_VENV" ] && [ "$REPRO_VENV" != "$_repo_root/.venv" ] && [ ! -f "$_stamp" ]; then
      echo "error: $REPRO_VENV exists but has no working pip, and this script did not create it; fix or unset REPRO_VENV" >&2
      exit 1
    fi
    rm -rf "$REPRO_VENV"  # our own environment, missing or broken (e.g. made without ensurepip): start afresh
    if ! "$_python" -m venv "$REPRO_VENV"; then
      rm -rf "$REPRO_VENV"
      echo "error: '$_python -m venv' failed; install the venv module (Debian/Ubuntu: apt install python3-venv)" >&2
      exit 1
    fi
  fi
  _log="$REPRO_VENV/pip-install.log"
  if ! "$REPRO_VENV/bin/python" -m pip install --disable-pip-version-check -e "$_repo_root[dev]" >"$_log" 2>&1 ||
     ! "$REPRO_VENV/bin/python" -c "import repro, torch, torchvision, papermill" 2>>"$_log"; then
    tail -n 30 "$_log" >&2
    echo "error: installing the environment into $REPRO_VENV failed; full log: $_log" >&2
    exit 1
  fi
  echo "$_want" > "$_stamp"
  echo "[env] ready in $(( $(date +%s) - _t0 )) s" >&2
fi
REPRO_PY="$REPRO_VENV/bin/python"
export REPRO_VENV REPRO_PY
