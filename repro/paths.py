"""Where things live: the repository, results, and the cache outside the repository.

Environment variables (all optional):

* ``REPRO_DATA_DIR``: folder with the offline dataset mirrors (``mnist-png.zip``, ``cifar10-jpeg.zip``, ...).
* ``REPRO_CACHE_DIR``: decoded arrays, torchvision downloads, feature statistics; default ``~/.cache/gan-repro``.
* ``REPRO_RESULTS_DIR``: root of the results tree; default ``<repo>/results``. ``./run_all.sh`` always sets it;
  a notebook run interactively (a Jupyter kernel without it) writes to ``<repo>/results-interactive`` instead,
  so that trying a notebook never overwrites the committed results (:func:`output_root`).
* ``REPRO_RUNS_DIR``: root of the training runs (checkpoints, logs); default ``<repo>/runs`` (git-ignored).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .profiles import check_profile

REPO_ROOT = Path(__file__).resolve().parent.parent

DATA_DIR_ENV = "REPRO_DATA_DIR"
CACHE_DIR_ENV = "REPRO_CACHE_DIR"
RESULTS_DIR_ENV = "REPRO_RESULTS_DIR"
RUNS_DIR_ENV = "REPRO_RUNS_DIR"


def cache_dir() -> Path:
    """Root of the cache kept outside the repository (created on first use)."""
    root = Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "gan-repro").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def results_root() -> Path:
    """Root of the results tree: ``$REPRO_RESULTS_DIR`` or ``<repo>/results``."""
    return Path(os.environ.get(RESULTS_DIR_ENV) or REPO_ROOT / "results").expanduser()


INTERACTIVE_RESULTS = REPO_ROOT / "results-interactive"


def interactive_session() -> bool:
    """True inside a Jupyter kernel that ``./run_all.sh`` did not start (the runner always sets
    ``$REPRO_RESULTS_DIR``; a user who sets it has chosen where results go)."""
    return RESULTS_DIR_ENV not in os.environ and "ipykernel" in sys.modules


def output_root() -> Path:
    """Where notebooks write their tables and figures: :func:`results_root`, except in an interactive session
    (:func:`interactive_session`), where it is ``<repo>/results-interactive`` (git-ignored)."""
    return INTERACTIVE_RESULTS if interactive_session() else results_root()


def results_dir(profile: str, notebook: str) -> Path:
    """Folder for one notebook's tables and figures at one profile: ``<output root>/<profile>/<notebook>/``
    (:func:`output_root`: ``results/`` when run by ``./run_all.sh``, ``results-interactive/`` in Jupyter).

    Profiles are kept apart so that a smoke run never overwrites the committed cpu results.
    """
    out = output_root() / check_profile(profile) / notebook
    out.mkdir(parents=True, exist_ok=True)
    return out


def runs_root() -> Path:
    """Root of the training runs: ``$REPRO_RUNS_DIR`` or ``<repo>/runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or REPO_ROOT / "runs").expanduser()


def runs_dir(profile: str, notebook: str) -> Path:
    """Folder of one notebook's training runs at one profile: ``runs/<notebook>/<profile>/`` (not created here:
    each run makes its own folder when it starts)."""
    return runs_root() / notebook / check_profile(profile)
