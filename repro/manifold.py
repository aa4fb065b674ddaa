"""Manifold matching in a discriminator's feature space (MMGAN, Park et al. 2018), as pure functions of embeddings.

The paper's method section was not available to us; everything here is our reading of its abstract (mmgan.md §1,
"[our reading]" throughout), each reading a named option:

* a batch's **manifold** is a hypersphere: a centre c = mean h_i and a radius r = mean ‖h_i − c‖ (§1.2);
* the **kernel trick** computes the same centre distance and radii in the RKHS of a kernel from Gram matrices
  only (§1.3): ‖c_R − c_F‖² = mean K_RR + mean K_FF − 2 mean K_RF (the biased MMD²) and
  d_i² = K_ii − (2/n) Σ_j K_ij + mean K_AA. Kernels: ``"linear"`` (recovers the explicit centre and radius),
  ``"rbf"`` (Gaussian, bandwidth by the median heuristic) and ``"rbf_multi"`` (the mean of Gaussians at
  σ ∈ {1, 2, 4, 8, 16} × the median σ);
* the **correlation regulariser** compares the average pairwise sample correlation of the fake batch with the real
  batch's, both standardised with the real batch's per-dimension statistics (§1.5, and why: each set standardised
  with its own statistics has ρ ≈ −1/(n − 1) whatever its diversity).
"""

from __future__ import annotations

import torch

from .errors import ConfigError

KERNELS = ("linear", "rbf", "rbf_multi")
MULTI_BANDWIDTH_SCALES = (1.0, 2.0, 4.0, 8.0, 16.0)
RADIUS_EPS = 1e-8  # inside the square root, so the radius is differentiable where an item sits on the centre


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """‖a_i − b_j‖² (n, m) for a (n, d), b (m, d), clamped at 0 against rounding."""
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)


def median_bandwidth(embeddings: torch.Tensor) -> torch.Tensor:
    """The median heuristic (mmgan.md §1.3): 2σ² = the median of the pairwise squared distances i ≠ j among
    ``embeddings`` (n, d), detached, so that a pair at the median distance has kernel value e^{−1}."""
    n = embeddings.shape[0]
    if n < 2:
        raise ValueError("the median heuristic needs at least 2 embeddings")
    distances = squared_distances(embeddings.detach(), embeddings.detach())
    off_diagonal = distances[~torch.eye(n, dtype=torch.bool, device=distances.device)]
    return off_diagonal.median().clamp_min(1e-12)


def gram(
    a: torch.Tensor, b: torch.Tensor, kernel: str, two_sigma_sq: torch.Tensor | float | None = None
) -> torch.Tensor:
    """The Gram matrix k(a_i, b_j) (n, m). ``two_sigma_sq`` (2σ²) is needed by the Gaussian kernels."""
    if kernel == "linear":
        return a @ b.T
    if kernel not in KERNELS:
        raise ConfigError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    if two_sigma_sq is None:
        raise ValueError(f"the {kernel!r} kernel needs a bandwidth (two_sigma_sq, e.g. median_bandwidth(real))")
    distances = squared_distances(a, b)
    if kernel == "rbf":
        return torch.exp(-distances / two_sigma_sq)
    return torch.stack([torch.exp(-distances / (two_sigma_sq * s * s)) for s in MULTI_BANDWIDTH_SCALES]).mean(0)


def centre_distance_sq(k_rr: torch.Tensor, k_ff: torch.Tensor, k_rf: torch.Tensor) -> torch.Tensor:
    """‖c_R − c_F‖² in the kernel's feature space: mean K_RR + mean K_FF − 2 mean K_RF (diagonals included)."""
    return k_rr.mean() + k_ff.mean() - 2 * k_rf.mean()


def radius(k_aa: torch.Tensor) -> torch.Tensor:
    """r_A = mean_i sqrt(d_i² + ε), d_i² = K_ii − (2/n) Σ_j K_ij + mean K: the mean distance to the centre."""
    squared = torch.diagonal(k_aa) - 2 * k_aa.mean(1) + k_aa.mean()
    return (squared.clamp_min(0) + RADIUS_EPS).sqrt().mean()


def manifold_statistics(real: torch.Tensor, fake: torch.Tensor, kernel: str = "rbf",
                        two_sigma_sq: torch.Tensor | float | None = None) -> dict[str, torch.Tensor]:
    """Centre distance² and both radii of the real (n, d) and fake (m, d) embedding sets under ``kernel``."""
    k_rr, k_ff, k_rf = (gram(a, b, kernel, two_sigma_sq) for a, b in ((real, real), (fake, fake), (real, fake)))
    return {"centre_distance_sq": centre_distance_sq(k_rr, k_ff, k_rf), "radius_real": radius(k_rr),
            "radius_fake": radius(k_ff)}


def manifold_matching_loss(real: torch.Tensor, fake: torch.Tensor, kernel: str = "rbf",
                           two_sigma_sq: torch.Tensor | float | None = None, match_radius: bool = True) -> torch.Tensor:
    """L_MM = ‖c_R − c_F‖² + (r_R − r_F)² (mmgan.md §1.2-1.3). With ``match_radius=False`` and the linear kernel it
    is squared-L2 feature matching of the batch means (Salimans et al. 2016, §3.1)."""
    stats = manifold_statistics(real, fake, kernel, two_sigma_sq)
    loss = stats["centre_distance_sq"]
    if match_radius:
        loss = loss + (stats["radius_real"] - stats["radius_fake"]) ** 2
    return loss


def matching_to_statistics(fake: torch.Tensor, centre: torch.Tensor, radius_real: torch.Tensor,
                           match_radius: bool = True) -> torch.Tensor:
    """L_MM against stored real statistics (linear kernel, moving-averaged centre and radius; mmgan.md §1.4)."""
    fake_centre = fake.mean(0)
    loss = (fake_centre - centre).pow(2).sum()
    if match_radius:
        fake_radius = ((fake - fake_centre).pow(2).sum(1) + RADIUS_EPS).sqrt().mean()
        loss = loss + (radius_real - fake_radius) ** 2
    return loss


def average_pairwise_correlation(embeddings: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """ρ = mean_{i≠j} of the sample-correlation matrix of ``embeddings`` (n, d) after standardising each dimension
    with ``mean`` and ``std`` (d,): the cosine similarity of the row-centred standardised rows (mmgan.md §1.5)."""
    n = embeddings.shape[0]
    if n < 2:
        raise ValueError("a pairwise correlation needs at least 2 embeddings")
    standardised = (embeddings - mean) / (std + 1e-8)
    centred = standardised - standardised.mean(1, keepdim=True)
    unit = centred / (centred.norm(dim=1, keepdim=True) + 1e-8)
    correlation = unit @ unit.T
    return (correlation.sum() - torch.diagonal(correlation).sum()) / (n * (n - 1))


def correlation_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """L_corr = (ρ(F) − ρ(R))², both standardised with the real batch's per-dimension statistics (detached)."""
    mean, std = real.detach().mean(0), real.detach().std(0)
    return (average_pairwise_correlation(fake, mean, std) - average_pairwise_correlation(real.detach(), mean, std)) ** 2
