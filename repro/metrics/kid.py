"""Kernel Inception Distance: unbiased MMD², cubic polynomial kernel, random subsets (Bińkowski et al. 2018;
metrics.md §5).
"""

# The kernel, the unbiased estimator and the subset loop follow torch-fidelity's metric_kid.py (Apache-2.0),
# itself adapted from mbinkowski/MMD-GAN (BSD-3-Clause); the random draws are made in the same order, so equal
# inputs and seed give the same subsets.

from __future__ import annotations

import numpy as np
import torch

from repro.metrics.fid import features_as_float64

# torch-fidelity's defaults (defaults.py: kid_subsets, kid_subset_size, kid_kernel_poly_*, rng_seed).
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_SEED = 2020
KID_DEGREE = 3
KID_COEF0 = 1.0


def polynomial_kernel(
    x: np.ndarray,
    y: np.ndarray,
    degree: int = KID_DEGREE,
    gamma: float | None = None,
    coef0: float = KID_COEF0,
) -> np.ndarray:
    """k(x, y) = (gamma·<x, y> + coef0)^degree (metrics.md §5); x (n, d), y (m, d) -> (n, m).

    gamma=None means 1/d, torch-fidelity's default.
    """
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (gamma * (x @ y.T) + coef0) ** degree


def mmd2_unbiased(kernel_xx: np.ndarray, kernel_xy: np.ndarray, kernel_yy: np.ndarray) -> float:
    """Unbiased MMD² from (m, m) kernel matrices (metrics.md §5): within-set sums drop the diagonal.

    MMD²_u = Σ_{i≠j} k(x_i, x_j)/(m(m−1)) + Σ_{i≠j} k(y_i, y_j)/(m(m−1)) − 2 Σ_{i,j} k(x_i, y_j)/m².
    """
    m = kernel_xx.shape[0]
    if m < 2 or kernel_xx.shape != (m, m) or kernel_xy.shape != (m, m) or kernel_yy.shape != (m, m):
        raise ValueError(
            f"kernel matrices must all be (m, m) with m >= 2, got {kernel_xx.shape}, {kernel_xy.shape}, "
            f"{kernel_yy.shape}"
        )
    off_diagonal_xx = kernel_xx.sum() - np.trace(kernel_xx)
    off_diagonal_yy = kernel_yy.sum() - np.trace(kernel_yy)
    return float((off_diagonal_xx + off_diagonal_yy) / (m * (m - 1)) - 2.0 * kernel_xy.sum() / (m * m))


def kernel_inception_distance(
    features_a: torch.Tensor | np.ndarray,
    features_b: torch.Tensor | np.ndarray,
    *,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = KID_SEED,
    degree: int = KID_DEGREE,
    gamma: float | None = None,
    coef0: float = KID_COEF0,
) -> tuple[float, float]:
    """KID as (mean, std) of unbiased MMD² over random subsets (metrics.md §5); features (N_a, d), (N_b, d).

    Each of ``subsets`` rounds draws ``subset_size`` rows of a, then of b, without replacement from one
    ``np.random.RandomState(seed)`` (torch-fidelity's order). The std is the population std (ddof = 0). The
    kernel is computed in float64 (torch-fidelity keeps the input dtype, float32 for Inception features). KID
    may be slightly negative: the estimator is unbiased. A subset larger than either set raises ValueError
    rather than silently changing the protocol.
    """
    array_a = features_as_float64(features_a, "features_a")
    array_b = features_as_float64(features_b, "features_b")
    if array_a.shape[1] != array_b.shape[1]:
        raise ValueError(f"feature dimensions differ: {array_a.shape[1]} vs {array_b.shape[1]}")
    num_a, num_b = array_a.shape[0], array_b.shape[0]
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    if subset_size > min(num_a, num_b):
        raise ValueError(
            f"KID subset_size={subset_size} is larger than a feature set (N_a={num_a}, N_b={num_b}); "
            f"pass subset_size <= {min(num_a, num_b)} and record it with the result, or provide more samples"
        )
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")

    rng = np.random.RandomState(seed)
    kernel_kwargs = {"degree": degree, "gamma": gamma, "coef0": coef0}
    mmd2_values = np.empty(subsets)
    for index in range(subsets):
        subset_a = array_a[rng.choice(num_a, subset_size, replace=False)]
        subset_b = array_b[rng.choice(num_b, subset_size, replace=False)]
        mmd2_values[index] = mmd2_unbiased(
            polynomial_kernel(subset_a, subset_a, **kernel_kwargs),
            polynomial_kernel(subset_a, subset_b, **kernel_kwargs),
            polynomial_kernel(subset_b, subset_b, **kernel_kwargs),
        )
    return float(mmd2_values.mean()), float(mmd2_values.std(ddof=0))
