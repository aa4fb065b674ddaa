"""Inception Score from class predictions (Salimans et al. 2016, §4; conventions in metrics.md §3).

IS = exp( E_x KL( p(y|x) || p(y) ) ), computed per split and reported as mean and population std over splits.
"""

# Not torch-fidelity's isc_features_to_metric, although tests pin the two equal on logits: that function takes
# logits only (AM-GAN's and the classifiers' scores also come as probabilities) and takes log p̄ after the mean,
# which gives NaN for a class whose probability underflows to 0 in a whole split (0 · ∞); here the marginal is
# taken in log space. Everything else (float64, the shuffle and its seed, contiguous splits, population std) is
# the same.

from __future__ import annotations

import numpy as np
import torch

from .arrays import to_numpy

IS_SPLITS = 10
IS_SHUFFLE_SEED = 2020
# Rows of a probability input must sum to one within this tolerance; logits passed as probabilities fail it.
PROBABILITY_ROW_SUM_TOLERANCE = 1e-3


def _log_probabilities(predictions: torch.Tensor | np.ndarray, from_logits: bool) -> torch.Tensor:
    """Validate (N, C) predictions and return log p(y|x) in float64, shape (N, C)."""
    values = torch.from_numpy(np.ascontiguousarray(to_numpy(predictions, np.float64)))
    if values.dim() != 2:
        raise ValueError(f"predictions must have shape (N, C), got {tuple(values.shape)}")
    if values.shape[1] < 2:
        raise ValueError(f"predictions need at least 2 classes, got C={values.shape[1]}")
    if not torch.isfinite(values).all():
        raise ValueError("predictions contain NaN or inf")
    if from_logits:
        # log_softmax in float64 avoids log(0) for confident predictions (torch-fidelity does the same).
        return torch.log_softmax(values, dim=1)
    if (values < 0).any():
        raise ValueError("probabilities must be non-negative; pass from_logits=True for logits")
    row_sums = values.sum(dim=1)
    worst = (row_sums - 1.0).abs().max().item()
    if worst > PROBABILITY_ROW_SUM_TOLERANCE:
        raise ValueError(
            f"probability rows must sum to 1 (worst row is off by {worst:.3g}); "
            "pass from_logits=True if these are logits"
        )
    # log(0) = -inf is harmless below: every term with p = 0 is dropped via xlogy-style masking.
    return values.log()


def _mean_kl_to_marginal(log_probs: torch.Tensor) -> float:
    """E_x KL(p(y|x) || p̄(y)) for one split; log_probs (n, C) float64 -> scalar.

    The marginal is taken in log space (logsumexp) so that a class whose probability underflows to zero in
    every sample contributes 0 instead of NaN.
    """
    n = log_probs.shape[0]
    log_marginal = torch.logsumexp(log_probs, dim=0) - np.log(n)
    probs = log_probs.exp()
    # p * (log p - log p̄) with the convention 0 * (anything) = 0.
    kl_terms = torch.where(probs > 0, probs * (log_probs - log_marginal), torch.zeros_like(probs))
    return kl_terms.sum(dim=1).mean().item()


def inception_score(
    predictions: torch.Tensor | np.ndarray,
    *,
    from_logits: bool,
    splits: int = IS_SPLITS,
    shuffle: bool = True,
    shuffle_seed: int = IS_SHUFFLE_SEED,
) -> tuple[float, float]:
    """Inception Score as (mean, std) over splits (Salimans et al. 2016 §4; metrics.md §3.1-3.3).

    predictions: (N, C) logits (``from_logits=True``; for the TF Inception graph, the 1008 unbiased logits
    pool3 · Wᵀ) or probabilities (``from_logits=False``). Computation is in float64. The rows are permuted
    once with ``np.random.RandomState(shuffle_seed)`` (as torch-fidelity does), then cut into ``splits``
    contiguous chunks [i·N/splits, (i+1)·N/splits); each chunk gives s_k = exp(mean KL), and the result is
    (mean_k s_k, std_k s_k) with the population std (ddof = 0).
    """
    log_probs = _log_probabilities(predictions, from_logits)
    num_samples = log_probs.shape[0]
    if splits < 1 or splits > num_samples:
        raise ValueError(f"splits must be between 1 and N={num_samples}, got {splits}")
    if shuffle:
        # Same permutation as torch-fidelity's isc_features_to_metric for the same seed and N.
        permutation = np.random.RandomState(shuffle_seed).permutation(num_samples)
        log_probs = log_probs[torch.from_numpy(permutation)]
    split_scores = []
    for k in range(splits):
        chunk = log_probs[k * num_samples // splits : (k + 1) * num_samples // splits]
        split_scores.append(float(np.exp(_mean_kl_to_marginal(chunk))))
    return float(np.mean(split_scores)), float(np.std(split_scores, ddof=0))


def inception_score_no_split(predictions: torch.Tensor | np.ndarray, *, from_logits: bool) -> float:
    """Single-split IS over all samples, exp(H(p̄) − mean_x H(p(y|x))) (AM-GAN code; metrics.md §3.2).

    predictions: (N, C) logits or probabilities. Equals ``inception_score(..., splits=1)`` mathematically and
    is larger than the 10-split mean because IS grows with the sample count; report the 10-split mean.
    """
    log_probs = _log_probabilities(predictions, from_logits)
    probs = log_probs.exp()
    zero = torch.zeros_like(probs)
    per_sample_entropy = -torch.where(probs > 0, probs * log_probs, zero).sum(dim=1)
    log_marginal = torch.logsumexp(log_probs, dim=0) - np.log(log_probs.shape[0])
    marginal = log_marginal.exp()
    marginal_entropy = -torch.where(marginal > 0, marginal * log_marginal, torch.zeros_like(marginal)).sum()
    return float(np.exp((marginal_entropy - per_sample_entropy.mean()).item()))
