"""Stacked-MNIST mode coverage: number of digit triples produced and KL to uniform (MS-GAN protocol;
metrics.md §7).

A mode is the triple of digits predicted separately for the R, G and B channels; its id is
100·c_R + 10·c_G + c_B.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..stacked_mnist import STACKED_MNIST_MODES
from .arrays import to_numpy

STACKED_MNIST_SAMPLES = 25_600  # 400 batches of 64, as in the MS-GAN code; state the count if you change it
DIGIT_CLASSES = 10
# a channel is read "with confidence" when the MNIST classifier gives its digit at least this probability. Our
# reading (no paper states one): the papers count every sample's argmax, which a classifier returns for any blob.
# The pinned classifier is trained with label smoothing 0.1, so its top probability stays below about 0.91; at 0.7,
# 92.7% of real Stacked-MNIST samples have all three channels read with confidence (5% of real channels fall below
# 0.80), against 0.0% of the Dist-GAN pilot's blobs at K/4 (measured 2026-12-04, 6,400 samples each)
CONFIDENT_PROBABILITY = 0.7
# a mode counts as drawn when at least this many samples read with confidence fall in it (the papers' "modes with at
# least 10 samples" convention): a few digit-like samples among blobs do not make a generator that draws digits
CONFIDENT_MIN_SAMPLES = 10


def stacked_score_key(key: str) -> str:
    """A Stacked-MNIST scorer's kept-row name: the evaluation's key and the confidence threshold, which changes the
    scores (rows kept before the confident mode count existed are then scored again, not reused)."""
    return f"{key}-c{CONFIDENT_PROBABILITY:g}"


class ModeCoverage(NamedTuple):
    """Mode-coverage summary of one sample set (metrics.md §7)."""

    num_modes: int  # ids with at least `min_count` samples (1 = the papers' convention)
    kl_to_uniform: float  # KL(p_model || uniform over all modes), natural log
    num_samples: int
    min_count: int


def mode_ids(labels: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mode ids (N,) in [0, 1000) from per-channel digit labels (N, 3) or already combined ids (N,)."""
    array = to_numpy(labels)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"labels must be integers (predicted classes, not probabilities), got dtype {array.dtype}"
        )
    if array.ndim == 2 and array.shape[1] == 3:
        if array.min(initial=0) < 0 or array.max(initial=0) >= DIGIT_CLASSES:
            raise ValueError(
                f"per-channel digit labels must lie in [0, {DIGIT_CLASSES}), got {array.min()}..{array.max()}"
            )
        return (100 * array[:, 0] + 10 * array[:, 1] + array[:, 2]).astype(np.int64)
    if array.ndim == 1:
        if array.min(initial=0) < 0 or array.max(initial=0) >= STACKED_MNIST_MODES:
            raise ValueError(
                f"mode ids must lie in [0, {STACKED_MNIST_MODES}), got {array.min()}..{array.max()}"
            )
        return array.astype(np.int64)
    raise ValueError(f"labels must have shape (N, 3) per channel or (N,) combined, got {array.shape}")


def mode_histogram(labels: torch.Tensor | np.ndarray) -> np.ndarray:
    """Sample count of each of the 1000 modes (1000,) from labels (N, 3) or mode ids (N,)."""
    ids = mode_ids(labels)
    if ids.size == 0:
        raise ValueError("no samples: labels are empty")
    return np.bincount(ids, minlength=STACKED_MNIST_MODES)


def count_modes(labels: torch.Tensor | np.ndarray, min_count: int = 1) -> int:
    """Number of modes with at least ``min_count`` samples (metrics.md §7: papers 1; 10 is a robust extra)."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    return int((mode_histogram(labels) >= min_count).sum())


def kl_to_uniform(labels: torch.Tensor | np.ndarray) -> float:
    """KL(p_model || uniform over 1000 modes) = Σ_j p_j log(1000 p_j) over non-empty j (metrics.md §7)."""
    counts = mode_histogram(labels)
    probabilities = counts[counts > 0] / counts.sum()
    # Empty modes are skipped (0 log 0 = 0), so no eps is needed.
    return float(np.sum(probabilities * np.log(probabilities * STACKED_MNIST_MODES)))


def confident_samples(confidence: torch.Tensor | np.ndarray,
                      threshold: float = CONFIDENT_PROBABILITY) -> np.ndarray:
    """(N,) bool: the samples whose three channels are all read with top-class probability ≥ ``threshold``, from
    (N, 3) per-channel probabilities (:func:`repro.metrics.classifier.per_channel_predictions`)."""
    probabilities = to_numpy(confidence)
    if probabilities.ndim != 2:
        raise ValueError(f"expected (N, channels) probabilities, got shape {probabilities.shape}")
    return (probabilities >= threshold).all(axis=1)


def confident_modes(ids: np.ndarray, confident: np.ndarray, min_count: int = CONFIDENT_MIN_SAMPLES) -> int:
    """Modes with at least ``min_count`` samples read with confidence: (N,) mode ids and the (N,) bool of
    :func:`confident_samples`; 0 when no sample is read with confidence."""
    counts = np.bincount(np.asarray(ids)[np.asarray(confident, dtype=bool)], minlength=STACKED_MNIST_MODES)
    return int((counts >= min_count).sum())


def mode_coverage(labels: torch.Tensor | np.ndarray, min_count: int = 1) -> ModeCoverage:
    """Modes covered and KL to uniform for one sample set (MS-GAN Stacked-MNIST table; metrics.md §7).

    labels: (N, 3) per-channel predicted digits or (N,) mode ids; the protocol uses N = STACKED_MNIST_SAMPLES.
    A perfect sampler still has KL ≈ 999 / (2N) ≈ 0.0195 at N = 25,600 from finite sampling alone.
    """
    ids = mode_ids(labels)
    return ModeCoverage(
        num_modes=count_modes(ids, min_count),
        kl_to_uniform=kl_to_uniform(ids),
        num_samples=int(ids.size),
        min_count=min_count,
    )
