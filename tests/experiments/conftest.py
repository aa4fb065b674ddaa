"""Toy offline mirrors for the experiment drivers' end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..metrics.test_classifier import bar_digits


@pytest.fixture
def toy_mnist_mirror(make_image_zip, tmp_path, isolated_cache) -> Callable[[int, int], Path]:
    """``build(n_train, n_test)`` writes a toy ``mnist-png.zip`` (bar digits, n per class and split) into the
    test's folder and returns that folder, to pass as ``data_dir``."""

    def build(n_train: int, n_test: int) -> Path:
        tree = {}
        for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
            images, labels = bar_digits(n, seed)
            tree[split] = {str(k): [im[0] for im, lab in zip(images, labels, strict=True) if lab == k]
                           for k in range(10)}
        make_image_zip(tree, "mnist-png.zip")
        return tmp_path

    return build
