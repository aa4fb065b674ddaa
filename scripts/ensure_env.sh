# Sourced by run_all.sh and run_tests.sh (or run alone, `bash scripts/ensure_env.sh`): make sure the project's virtual
# environment exists and is current.
#
# Creates $REPRO_VENV (default: <repo>/.venv) with the first of $REPRO_PYTHON, python3.11, python3 that is
# Python >= 3.11, then installs the project with its dev extra (pyproject.toml pins torch and torchvision).
# A stamp file holding the hash of pyproject.toml and requirements-lock.txt makes this a no-op until the
# dependencies change.
# Every time, it refuses an environment whose `import repro` is another checkout's (its runs would run that code
# and write that checkout's runs/), and installs the Jupyter kernel "Python (gan-repro)" into the environment's
# own prefix if it is missing. Afterwards $REPRO_PY is the environment's python.

_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv_given="${REPRO_VENV:+yes}"
REPRO_VENV="${REPRO_VENV:-$_repo_root/.venv}"
case "$REPRO_VENV" in /*) ;; *) REPRO_VENV="$PWD/$REPRO_VENV" ;; esac  # the checks below run python from /
_stamp="$REPRO_VENV/.gan-repro-installed"
# requirements-lock.txt pins every package to the versions the tests last passed with (CI's environment);
# REPRO_UNLOCKED=1 installs the newest versions pyproject.toml allows instead (e.g. on a platform the pins miss)
_lock=()
[ "${REPRO_UNLOCKED:-}" = 1 ] || [ ! -f "$_repo_root/requirements-lock.txt" ] || _lock=(-c "$_repo_root/requirements-lock.txt")
_want="$(cat "$_repo_root/pyproject.toml" "$_repo_root/requirements-lock.txt" 2>/dev/null | sha256sum | cut -c1-16)${_lock:+-locked}"

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
  if ! "$REPRO_VENV/bin/python" -m pip install --disable-pip-version-check "${_lock[@]}" -e "$_repo_root[dev]" >"$_log" 2>&1 ||
     ! "$REPRO_VENV/bin/python" -c "import repro, torch, torchvision, papermill" 2>>"$_log"; then
    tail -n 30 "$_log" >&2
    echo "error: installing the environment into $REPRO_VENV failed; full log: $_log" >&2
    exit 1
  fi
  echo "$_want" > "$_stamp"
  echo "[env] ready in $(( $(date +%s) - _t0 )) s" >&2
fi
REPRO_PY="$REPRO_VENV/bin/python"

# The environment must run this checkout's code: an editable install from another checkout (a second clone, a
# worktree, a conda env made elsewhere) would import that one's repro. From / so that no current directory shadows.
_imported="$(cd / && "$REPRO_PY" -c 'import os, repro; print(os.path.dirname(os.path.realpath(repro.__file__)))' \
  2>/dev/null)"
_here="$(cd "$_repo_root/repro" && pwd -P)"
if [ "$_imported" != "$_here" ]; then
  _unset="${_venv_given:+, or unset REPRO_VENV to use $_repo_root/.venv}"
  echo "error: $REPRO_VENV imports repro from ${_imported:-nowhere (import repro fails)}, not from this checkout" \
       "($_here)${PYTHONPATH:+ with PYTHONPATH=$PYTHONPATH}; install this checkout into it:" \
       "'$REPRO_PY -m pip install -e \"$_repo_root[dev]\"'$_unset" >&2
  exit 1
fi

# The named kernel that `jupyter lab` from this environment offers, in the environment's own prefix (never in
# ~/.local); papermill keeps using the environment's default python3 kernel.
if [ ! -f "$REPRO_VENV/share/jupyter/kernels/gan-repro/kernel.json" ] &&
   ! "$REPRO_PY" -m ipykernel install --prefix "$REPRO_VENV" --name gan-repro --display-name "Python (gan-repro)" \
     >/dev/null 2>&1; then
  echo "warning: could not install the Jupyter kernel gan-repro into $REPRO_VENV (headless runs do not need it);" \
       "to retry: $REPRO_PY -m ipykernel install --prefix $REPRO_VENV --name gan-repro" \
       "--display-name 'Python (gan-repro)'" >&2
fi
export REPRO_VENV REPRO_PY
