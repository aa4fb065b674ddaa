"""Metrics. The pure functions exported here take features, logits, probabilities or labels and return numbers
(metrics.md §3-§8); nothing in them knows which model made the samples.

Beside them in this package: the feature extractors (``classifier``: the project's score classifiers, pinned
for the cpu and paper profiles in ``weights/``; ``inception``: Inception-v3 from a supplied weights file),
``evaluate`` (sampling a generator into uint8 images, cached real-data references, and scoring images through an
extractor), and ``real_data`` (the real-data rows of notebook 01).
"""

from repro.metrics.am_score import AMScore, am_score, class_marginal
from repro.metrics.fid import fid_from_features, frechet_distance, frechet_distance_sqrtm, gaussian_stats
from repro.metrics.inception_score import inception_score, inception_score_no_split
from repro.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from repro.metrics.modes import (
    STACKED_MNIST_SAMPLES,
    ModeCoverage,
    count_modes,
    kl_to_uniform,
    mode_coverage,
    mode_histogram,
    mode_ids,
)
from repro.metrics.ms_ssim import ClasswiseMSSSIM, classwise_ms_ssim, mean_ms_ssim, ms_ssim, pairwise_ms_ssim

__all__ = [
    "AMScore",
    "ClasswiseMSSSIM",
    "ModeCoverage",
    "STACKED_MNIST_SAMPLES",
    "am_score",
    "class_marginal",
    "classwise_ms_ssim",
    "count_modes",
    "fid_from_features",
    "frechet_distance",
    "frechet_distance_sqrtm",
    "gaussian_stats",
    "inception_score",
    "inception_score_no_split",
    "kernel_inception_distance",
    "kl_to_uniform",
    "mean_ms_ssim",
    "mmd2_unbiased",
    "mode_coverage",
    "mode_histogram",
    "mode_ids",
    "ms_ssim",
    "pairwise_ms_ssim",
    "polynomial_kernel",
]
