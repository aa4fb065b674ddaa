"""Fréchet Inception Distance from features or Gaussian statistics (Heusel et al. 2017; metrics.md §4).

FID = ||mu1 - mu2||² + Tr Σ1 + Tr Σ2 - 2 Tr (Σ1 Σ2)^{1/2}.
"""

# The statistics and the distance are torch-fidelity's own feature-to-metric functions (metric_fid.py:
# fid_features_to_statistics, fid_statistics_to_metric), called here behind the project's input checks and float64
# convention, so that our FID is torch-fidelity's by construction. The sqrtm reference follows the TTUR /
# pytorch-fid recipe (eps fallback, imaginary-component check).

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

from .arrays import to_numpy

# Added to both covariance diagonals when sqrtm of a singular product is not finite (TTUR, pytorch-fid).
SQRTM_EPS = 1e-6
# Largest |imaginary part| on the diagonal of sqrtm(Σ1 Σ2) that is still treated as round-off (pytorch-fid).
SQRTM_IMAGINARY_TOLERANCE = 1e-3


def features_as_float64(features: torch.Tensor | np.ndarray, name: str = "features") -> np.ndarray:
    """Convert (N, d) features from a tensor or array to a float64 NumPy array, checking shape and values."""
    array = to_numpy(features, np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (N, d), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or inf")
    return array


def gaussian_stats(features: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of (N, d) features, float64, covariance ddof 1 (metrics.md §4.1)."""
    array = features_as_float64(features)
    if array.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to estimate a covariance, got N={array.shape[0]}")
    statistics = fid_features_to_statistics(torch.from_numpy(np.ascontiguousarray(array)))  # np.cov, ddof 1
    # np.cov returns a 0-d array when d = 1; keep (d, d) so the matrix code below stays uniform.
    return statistics["mu"], np.atleast_2d(statistics["sigma"])


def _check_statistics(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cast statistics to float64 and check that mu (d,) and sigma (d, d) agree across both sets."""
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"means must be 1-D of equal length, got {mu1.shape} and {mu2.shape}")
    dim = mu1.shape[0]
    if sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise ValueError(
            f"covariances must have shape ({dim}, {dim}) to match the means, "
            f"got {sigma1.shape} and {sigma2.shape}"
        )
    return mu1, sigma1, mu2, sigma2


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, Σ1) and N(mu2, Σ2) (metrics.md §4.1); mu (d,), sigma (d, d) -> float.

    Tr (Σ1 Σ2)^{1/2} = Σ_i sqrt(λ_i(Σ1 Σ2)). The eigenvalues are cast to complex128 before the square root:
    np.linalg.eigvals returns a real array when all eigenvalues are real, and the tiny negative ones of a
    rank-deficient product would then give NaN (torch-fidelity commit 154062c). The sum's real part is kept.
    """
    mu1, sigma1, mu2, sigma2 = _check_statistics(mu1, sigma1, mu2, sigma2)
    metric = fid_statistics_to_metric({"mu": mu1, "sigma": sigma1}, {"mu": mu2, "sigma": sigma2}, verbose=False)
    return float(metric[KEY_METRIC_FID])


def frechet_distance_sqrtm(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = SQRTM_EPS
) -> float:
    """Reference Fréchet distance via scipy.linalg.sqrtm (TTUR, pytorch-fid; metrics.md §4.1), a cross-check.

    mu (d,), sigma (d, d) -> float. If sqrtm(Σ1 Σ2) is not finite, eps·I is added to both covariances and the
    root is recomputed; a complex root whose diagonal has |imag| > 1e-3 raises ValueError
    ("Imaginary component ...").
    Needs SciPy >= 1.13 (older releases give spurious imaginary parts). Slow for d = 2048: prefer
    ``frechet_distance``.
    """
    mu1, sigma1, mu2, sigma2 = _check_statistics(mu1, sigma1, mu2, sigma2)
    mean_difference = mu1 - mu2
    sqrt_product = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(sqrt_product).all():
        offset = np.eye(sigma1.shape[0]) * eps
        sqrt_product = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(sqrt_product):
        largest_imaginary = np.max(np.abs(np.diagonal(sqrt_product).imag))
        if largest_imaginary > SQRTM_IMAGINARY_TOLERANCE:
            raise ValueError(
                f"Imaginary component {largest_imaginary:.3g} in sqrtm(sigma1 @ sigma2); "
                "use frechet_distance (eigenvalue form) or more samples than feature dimensions"
            )
        sqrt_product = sqrt_product.real
    return float(
        mean_difference @ mean_difference + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(sqrt_product)
    )


def fid_from_features(features_a: torch.Tensor | np.ndarray, features_b: torch.Tensor | np.ndarray) -> float:
    """FID between two feature sets (N_a, d) and (N_b, d) -> float (metrics.md §4); eigenvalue form."""
    array_a = features_as_float64(features_a, "features_a")
    array_b = features_as_float64(features_b, "features_b")
    if array_a.shape[1] != array_b.shape[1]:
        raise ValueError(f"feature dimensions differ: {array_a.shape[1]} vs {array_b.shape[1]}")
    mu_a, sigma_a = gaussian_stats(array_a)
    mu_b, sigma_b = gaussian_stats(array_b)
    return frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
