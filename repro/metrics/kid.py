"""Kernel Inception Distance: unbiased MMD², cubic polynomial kernel, random subsets (Bińkowski et al. 2018;
metrics.md §5).
"""

# The kernel, the unbiased estimator and the subset loop are torch-fidelity's own (metric_kid.py: kernel_poly, mmd2,
# kid_features_to_metric), called behind the project's input checks and float64 convention, so that our KID is
# torch-fidelity's by construction (same subsets for the same seed).

from __future__ import annotations

import numpy as np
import torch
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kernel_poly, kid_features_to_metric, mmd2

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
    return kernel_poly(x, y, kid_kernel_poly_degree=degree, kid_kernel_poly_gamma=gamma,
                       kid_kernel_poly_coef0=coef0)


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
    return float(mmd2(kernel_xx, kernel_xy, kernel_yy, mmd_est="unbiased"))


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

    metric = kid_features_to_metric(
        torch.from_numpy(np.ascontiguousarray(array_a)), torch.from_numpy(np.ascontiguousarray(array_b)),
        kid_subsets=subsets, kid_subset_size=subset_size,
        kid_kernel="poly", kid_kernel_poly_degree=degree, kid_kernel_poly_gamma=gamma, kid_kernel_poly_coef0=coef0,
        rng_seed=seed, verbose=False,
    )
    return float(metric[KEY_METRIC_KID_MEAN]), float(metric[KEY_METRIC_KID_STD])
