"""Where things live: the repository, results, and the cache outside the repository.

Environment variables (all optional):

* ``REPRO_DATA_DIR``: folder with the offline dataset mirrors (``mnist-png.zip``, ``cifar10-jpeg.zip``, ...).
* ``REPRO_CACHE_DIR``: decoded arrays, torchvision downloads, feature statistics; default ``~/.cache/gan-repro``.
* ``REPRO_RESULTS_DIR``: root of the results tree; default ``<repo>/results``.
* ``REPRO_RUNS_DIR``: root of the training runs (checkpoints, logs); default ``<repo>/runs`` (git-ignored).
"""

from __future__ import annotations

import os
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


def results_dir(profile: str, notebook: str) -> Path:
    """Folder for one notebook's tables and figures at one profile: ``results/<profile>/<notebook>/``.

    Profiles are kept apart so that a smoke run never overwrites the committed cpu results.
    """
    out = results_root() / check_profile(profile) / notebook
    out.mkdir(parents=True, exist_ok=True)
    return out


def runs_root() -> Path:
    """Root of the training runs: ``$REPRO_RUNS_DIR`` or ``<repo>/runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or REPO_ROOT / "runs").expanduser()


def runs_dir(profile: str, notebook: str) -> Path:
    """Folder of one notebook's training runs at one profile: ``runs/<notebook>/<profile>/`` (not created here:
    each run makes its own folder when it starts)."""
    return runs_root() / notebook / check_profile(profile)
