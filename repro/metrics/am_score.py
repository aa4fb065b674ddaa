"""AM Score: KL(C̄_train || C̄_G) + E_{x~G} H(C(x)) (Zhou et al. 2018, AM-GAN, Eq. 27; metrics.md §6).

Lower is better; 0 is the minimum. C is a classifier trained on the same dataset; C̄_train is the mean of its
predicted probabilities over the training images (not the label histogram).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy.special import xlogy

from .arrays import to_numpy

# Added to every generated probability before the logs, as in the AM-GAN code (code/score.py, am_score).
AM_SCORE_EPS = 1e-18
# Rows (and the training marginal) must sum to one within this tolerance; logits passed by mistake fail it.
PROBABILITY_SUM_TOLERANCE = 1e-3


class AMScore(NamedTuple):
    """AM Score and its two terms; ``total = marginal_kl + mean_entropy``."""

    total: float
    marginal_kl: float  # KL(C̄_train || C̄_G): are the classes produced in the training proportions?
    mean_entropy: float  # E_x H(C(x)): is each sample confidently one class?


def _probabilities_as_float64(values: torch.Tensor | np.ndarray, ndim: int, name: str) -> np.ndarray:
    """Convert probabilities to float64 NumPy and check rank, sign and that the last axis sums to 1."""
    array = to_numpy(values, np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(
            f"{name} must be finite and non-negative probabilities (apply softmax to logits first)"
        )
    worst = np.abs(array.sum(axis=-1) - 1.0).max()
    if worst > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(
            f"{name} must sum to 1 over classes (worst is off by {worst:.3g}); apply softmax first"
        )
    return array


def class_marginal(probabilities: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean predicted class probabilities, C̄_train on the training images (metrics.md §6); (N, C) -> (C,)."""
    return _probabilities_as_float64(probabilities, 2, "probabilities").mean(axis=0)


def am_score(
    generated_probabilities: torch.Tensor | np.ndarray,
    train_marginal: torch.Tensor | np.ndarray,
    eps: float = AM_SCORE_EPS,
) -> AMScore:
    """AM Score of generated predictions (AM-GAN Eq. 27; metrics.md §6); probabilities (N, C), marginal (C,).

    ``train_marginal`` is C̄_train, e.g. ``class_marginal(classifier probabilities on the training set)``.

    As in the AM-GAN code, ``eps`` is added to the generated probabilities before the mean and the logs:
    mean_entropy = mean_x −Σ_c p log p, marginal_kl = −Σ_c ref_c log(p̄_c / ref_c). Classes with ref_c = 0
    contribute 0 to the KL term (the limit; the AM-GAN code would give NaN there).
    """
    generated = _probabilities_as_float64(generated_probabilities, 2, "generated_probabilities")
    marginal_train = _probabilities_as_float64(train_marginal, 1, "train_marginal")
    if generated.shape[1] != marginal_train.shape[0]:
        raise ValueError(
            f"class counts differ: generated_probabilities has {generated.shape[1]}, "
            f"train_marginal has {marginal_train.shape[0]}"
        )
    generated = generated + eps
    mean_entropy = float(np.mean(-np.sum(generated * np.log(generated), axis=1)))
    marginal_generated = generated.mean(axis=0)
    # xlogy(r, r) - xlogy(r, q) = r log(r / q), with 0 log 0 = 0; q > 0 thanks to eps.
    marginal_kl = float(
        np.sum(xlogy(marginal_train, marginal_train) - xlogy(marginal_train, marginal_generated))
    )
    return AMScore(total=marginal_kl + mean_entropy, marginal_kl=marginal_kl, mean_entropy=mean_entropy)
