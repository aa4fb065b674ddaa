"""The metrics on real data: the floor (or ceiling) every generator is compared with (notebook 01).

Each function returns table rows (dicts) carrying their own protocol fields; the notebook adds the run's
protocol (profile, seed, git commit) when it writes them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..data import ImageDataset
from ..images import to_float
from ..stacked_mnist import make_stacked_mnist
from .classifier import TrainedClassifier, per_channel_predictions
from .evaluate import Extractor, RealReference, real_outputs, score_outputs
from .modes import confident_modes, confident_samples, mode_coverage, mode_ids
from .ms_ssim import classwise_ms_ssim


def classifier_row(classifier: TrainedClassifier) -> dict[str, Any]:
    """What a classifier is and how good it is: architecture, recipe, test accuracy, time, weights hash."""
    recipe = classifier.recipe
    return {
        "dataset": recipe.dataset,
        "architecture": "ConvClassifier widths " + "-".join(map(str, recipe.widths)),
        "parameters": sum(p.numel() for p in classifier.model.parameters()),
        "recipe": (
            f"{recipe.epochs} epochs, batch {recipe.batch_size}, SGD-Nesterov lr {recipe.lr} warm-up/decay, "
            f"wd {recipe.weight_decay}, label smoothing {recipe.label_smoothing}, shift {recipe.translate}px"
            + (", flips" if recipe.flip else "")
            + (", bf16" if recipe.bf16 else "")
            + (f", {recipe.train_images} train images" if recipe.train_images else "")
        ),
        "test_accuracy": classifier.test_accuracy,
        "train_seconds": round(classifier.train_seconds, 1),
        "train_source": classifier.source,
        "weights_sha256": classifier.weights_sha256[:16],
    }


def real_floor_rows(
    dataset: str,
    extractor: Extractor,
    *,
    n_train: int | None,
    n_test: int | None,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """IS and AM Score of real train and test images, and FID/KID of train vs test, under one extractor.

    The AM Score's reference marginal is the mean prediction on the train images (Zhou et al. Eq. 27), so
    "train" is its minimum by construction and "test" is the floor a generator can hope for.
    """
    train = real_outputs(dataset, "train", extractor, n_train, data_dir, seed)
    test = real_outputs(dataset, "test", extractor, n_test, data_dir, seed)
    rows = []
    for name, images, reference in (("train", train, test), ("test", test, train)):
        scores = score_outputs(
            images.logits, images.features, reference=reference, train_marginal=train.class_marginal
        )
        accuracy = float((images.logits.argmax(1) == images.labels).mean())
        rows.append({"dataset": dataset, "images": f"real {name}", "extractor": extractor.name,
                     "accuracy": accuracy, **scores})
    return rows


def stacked_mnist_real_row(
    mnist_classifier: TrainedClassifier, mnist_train: ImageDataset, n: int, seed: int
) -> dict[str, Any]:
    """Modes covered and KL to uniform of ``n`` real Stacked-MNIST images, each channel classified separately."""
    stacked = make_stacked_mnist(mnist_train, n, seed)
    predicted, confidence = per_channel_predictions(mnist_classifier.model, stacked.images)
    confident = confident_samples(confidence)
    coverage = mode_coverage(predicted)
    true_coverage = mode_coverage(stacked.labels)
    return {
        "samples": n,
        "modes_predicted": coverage.num_modes,
        "kl_predicted": coverage.kl_to_uniform,
        "modes_true_labels": true_coverage.num_modes,
        "kl_true_labels": true_coverage.kl_to_uniform,
        "modes_10plus_predicted": mode_coverage(predicted, min_count=10).num_modes,
        "modes_confident_predicted": confident_modes(mode_ids(predicted), confident),
        "confident_fraction": float(confident.mean()),
        "triple_accuracy": float((mode_ids(predicted) == stacked.labels).mean()),
        "extractor": mnist_classifier.name,
    }


def sample_count_rows(
    train: RealReference, test: RealReference, sizes: Sequence[int], seed: int = 0
) -> list[dict[str, Any]]:
    """IS, FID and KID of real train subsets of each size (FID/KID against all of ``test``).

    Shows the sample-count bias of metrics.md §3.4 and §4.2: IS grows and FID shrinks with N, so only numbers
    at the same N are comparable.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        index = rng.choice(train.n, size=size, replace=False)
        scores = score_outputs(
            train.logits[index], train.features[index], reference=test, train_marginal=train.class_marginal,
            metrics=("is", "fid", "kid"),
        )
        rows.append({"dataset": train.dataset, "n_train_subset": size, **scores})
    return rows


def ms_ssim_real_rows(dataset: ImageDataset, seed: int = 0) -> list[dict[str, Any]]:
    """Class-wise MS-SSIM of real images (AM-GAN Table 3's reference): the paper's 5 mirrored pairs of 10
    images per class, and our 50 random pairs per class."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(dataset))  # so the "first 10 per class" are a random draw, not file order
    # 100 random images per class are plenty for 50 random pairs, and spare a float copy of the whole split
    subset = np.concatenate([order[dataset.labels[order] == c][:100] for c in range(dataset.num_classes)])
    images = to_float(torch.from_numpy(dataset.images[subset]))
    labels = dataset.labels[subset]
    rows = []
    for pairing in ("mirrored", "random"):
        result = classwise_ms_ssim(images, labels, num_classes=dataset.num_classes, pairing=pairing, seed=seed)
        rows.append({
            "dataset": dataset.name,
            "split": dataset.split,
            "pairing": (
                "AM-GAN: 10 per class, 5 mirrored pairs" if pairing == "mirrored"
                else "ours: 50 random pairs among 100 per class"
            ),
            "max_over_classes": result.max_over_classes,
            "mean_over_classes": result.mean_over_classes,
        })
    return rows

