"""Where things live: the repository, results, and the cache outside the repository.

Environment variables (all optional):

* ``REPRO_DATA_DIR``: folder with the offline dataset mirrors (``mnist-png.zip``, ``cifar10-jpeg.zip``, ...).
* ``REPRO_CACHE_DIR``: decoded arrays, torchvision downloads, feature statistics; default ``~/.cache/gan-repro``.
* ``REPRO_RESULTS_DIR``: root of the results tree; default ``<repo>/results``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .profiles import check_profile

REPO_ROOT = Path(__file__).resolve().parent.parent

DATA_DIR_ENV = "REPRO_DATA_DIR"
CACHE_DIR_ENV = "REPRO_CACHE_DIR"
RESULTS_DIR_ENV = "REPRO_RESULTS_DIR"


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
