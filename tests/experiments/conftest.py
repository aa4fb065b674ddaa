"""Toy offline mirrors for the experiment drivers' end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
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


@pytest.fixture
def toy_cifar(make_image_zip, tmp_path, isolated_cache) -> Path:
    """A toy ``cifar10-jpeg.zip`` in the test's folder (returned, to pass as ``data_dir``): 13 training and 2
    test images per class, class k a bright band in row block k."""
    rng = np.random.default_rng(0)
    tree = {}
    for split, n in (("train", 13), ("test", 2)):  # 130 training images: the smoke classifier needs 128
        tree[split] = {}
        for k in range(10):
            images = rng.integers(0, 80, size=(n, 32, 32, 3)).astype(np.uint8)
            images[:, 3 * k : 3 * k + 3, :, k % 3] = 255
            tree[split][f"c{k}"] = list(images)
    make_image_zip(tree, "cifar10-jpeg.zip")
    return tmp_path
