"""Shared fixtures: an isolated cache, image-folder zips built on the fly, and the real mirrors when present."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from repro.data import find_mirror


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh REPRO_CACHE_DIR, so tests neither reuse nor pollute the user's decoded arrays."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("REPRO_CACHE_DIR", str(cache))
    return cache


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


ImageTree = dict[str, dict[str, list[np.ndarray]]]


def random_tree(
    seed: int, splits: dict[str, int], classes: tuple[str, ...] = ("cat", "dog", "eel"), shape=(8, 8, 3)
) -> ImageTree:
    """{split: {class: [HxW(xC) uint8 images]}} with ``splits[split]`` images per class."""
    rng = np.random.default_rng(seed)
    return {
        split: {cls: [rng.integers(0, 256, size=shape, dtype=np.uint8) for _ in range(n)] for cls in classes}
        for split, n in splits.items()
    }


@pytest.fixture
def make_image_zip(tmp_path: Path) -> Callable[..., Path]:
    """Build ``<tmp>/<file_name>`` as a zip of <split>/<class>/<i>.png from an image tree (lossless)."""

    def build(tree: ImageTree, file_name: str = "toy.zip", folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for split, by_class in tree.items():
                for cls, images in by_class.items():
                    for i, image in enumerate(images):
                        archive.writestr(f"{split}/{cls}/{i}.png", png_bytes(image))
        return path

    return build


@pytest.fixture
def real_data_dir() -> Path:
    """The offline mirrors (REPRO_DATA_DIR); tests using this skip when they are absent (CI has them)."""
    root = os.environ.get("REPRO_DATA_DIR")
    if not root or find_mirror("mnist", root) is None or find_mirror("cifar10", root) is None:
        pytest.skip("needs the offline mirrors: set REPRO_DATA_DIR to the folder with mnist-png.zip, cifar10-jpeg.zip")
    return Path(root)


@pytest.fixture
def real_dataset(real_data_dir: Path) -> Callable[..., object]:
    """Load a real dataset split from the mirrors (through the user's cache, decoded once)."""
    from repro.data import load_dataset

    return lambda name, split="train": load_dataset(name, split, real_data_dir)


def write_csv(folder: Path, name: str, rows: list[dict]) -> Path:
    """``folder/name.csv`` with ``rows`` (columns: every key, first-seen order): a committed results table, for
    tests of code that reads them back."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    return path
