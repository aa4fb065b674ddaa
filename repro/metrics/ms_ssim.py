"""Class-wise MS-SSIM for intra-class diversity (AM-GAN Table 3; Wang et al. 2003 MS-SSIM; metrics.md §8).

MS-SSIM follows the TF code that AM-GAN used (ZhimingZhou/AM-GANs-for-reproduce, code/score.py, class MSSSIM),
re-written in PyTorch:
* images shifted to [0, L] with L = the width of their value range (AM-GAN: [-1, 1] -> [0, 2], L = 2);
* 5 scales with the standard weights, 2x2 average-pool down-sampling between scales;
* an 11x11 Gaussian window (sigma 1.5) that shrinks to the image at small scales: size = min(11, H, W) and
  sigma = 1.5 · size / 11, so 32x32 images use windows of 11, 11, 8, 4 and 2 taps at the five scales;
* 'valid' filtering per channel, and |σ12| in the contrast-structure term (the "trick" of the AM-GAN code),
  which keeps every factor in [0, 1] so the fractional powers are defined.
Libraries such as pytorch_msssim and torchmetrics refuse 32x32 inputs at 5 scales with an 11-tap window and
clip negative σ12 instead of taking |σ12|, so they do not reproduce this statistic.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .arrays import to_numpy

MS_SSIM_WEIGHTS = (
    0.0448,
    0.2856,
    0.3001,
    0.2363,
    0.1333,
)  # Wang et al. 2003; they sum to 1.0001, as published
SSIM_K1 = 0.01
SSIM_K2 = 0.03
WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
AM_GAN_SAMPLES_PER_CLASS = 10  # AM-GAN: 10 images per class -> 5 mirrored pairs
RANDOM_PAIRS_PER_CLASS = 50  # [our reading] a less noisy variant, labelled as ours in tables
PAIR_SEED = 2020
# Pixels may exceed the declared value range by this much (round-off from the generator's output layer).
VALUE_RANGE_SLACK = 1e-6


class ClasswiseMSSSIM(NamedTuple):
    """Per-class mean MS-SSIM and its summaries over classes (AM-GAN Table 3 reports ``max_over_classes``)."""

    per_class: tuple[float, ...]  # index = class id
    max_over_classes: float  # lower = more diverse within the least diverse class
    mean_over_classes: float


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    """Normalised (size, size) Gaussian like MATLAB fspecial; centred between pixels when size is even."""
    coordinates = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    profile = torch.exp(-(coordinates**2) / (2.0 * sigma**2))
    window = torch.outer(profile, profile)
    return window / window.sum()


def _ssim_and_contrast_structure(
    images_a: torch.Tensor, images_b: torch.Tensor, data_range: float, window_size: int, window_sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term of each pair at one scale; (N, C, H, W) -> (N,), (N,)."""
    _, channels, height, width = images_a.shape
    size = min(window_size, height, width)
    # The AM-GAN / TF code shrinks sigma with the window so that the window keeps its shape.
    sigma = size * window_sigma / window_size
    window = _gaussian_window(size, sigma).to(images_a.device).expand(channels, 1, size, size)

    def local_mean(values: torch.Tensor) -> torch.Tensor:
        return F.conv2d(values, window, groups=channels)  # 'valid' filtering, each channel on its own

    mean_a, mean_b = local_mean(images_a), local_mean(images_b)
    variance_a = local_mean(images_a * images_a) - mean_a**2
    variance_b = local_mean(images_b * images_b) - mean_b**2
    covariance = (local_mean(images_a * images_b) - mean_a * mean_b).abs()

    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    contrast_structure = (2.0 * covariance + c2) / (variance_a + variance_b + c2)
    luminance = (2.0 * mean_a * mean_b + c1) / (mean_a**2 + mean_b**2 + c1)
    ssim = luminance * contrast_structure
    return ssim.mean(dim=(1, 2, 3)), contrast_structure.mean(dim=(1, 2, 3))


def ms_ssim(
    images_a: torch.Tensor,
    images_b: torch.Tensor,
    *,
    value_range: tuple[float, float] = (-1.0, 1.0),
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    window_size: int = WINDOW_SIZE,
    window_sigma: float = WINDOW_SIGMA,
) -> torch.Tensor:
    """MS-SSIM of each image pair (Wang et al. 2003, AM-GAN variant; metrics.md §8); (N, C, H, W) x2 -> (N,).

    MS-SSIM = Π_{s<S} cs_s^{w_s} · ssim_S^{w_S} over S = len(weights) scales, in float64, in [0, 1]
    (1 for identical images). ``value_range`` is the range the pixels live in; it sets L and the shift to
    [0, L].
    """
    if images_a.shape != images_b.shape or images_a.dim() != 4:
        raise ValueError(
            f"images must be two (N, C, H, W) tensors of one shape, got {tuple(images_a.shape)} and "
            f"{tuple(images_b.shape)}"
        )
    low, high = value_range
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}")
    scales = len(weights)
    if min(images_a.shape[-2:]) < 2 ** (scales - 1):
        raise ValueError(
            f"images of size {tuple(images_a.shape[-2:])} are too small for {scales} scales; "
            f"need at least {2 ** (scales - 1)} pixels per side or fewer weights"
        )
    # Shifting to [0, L] matters: the luminance term is not shift invariant and needs non-negative pixels.
    shifted_a = images_a.detach().to(torch.float64) - low
    shifted_b = images_b.detach().to(torch.float64) - low
    data_range = high - low
    for name, shifted in (("images_a", shifted_a), ("images_b", shifted_b)):
        if shifted.min() < -VALUE_RANGE_SLACK or shifted.max() > data_range + VALUE_RANGE_SLACK:
            raise ValueError(
                f"{name} has pixels in [{shifted.min().item() + low:.4g}, {shifted.max().item() + low:.4g}], "
                f"outside value_range={value_range}; pass the range your images use"
            )
    shifted_a, shifted_b = shifted_a.clamp(0.0, data_range), shifted_b.clamp(0.0, data_range)

    result = torch.ones(images_a.shape[0], dtype=torch.float64, device=shifted_a.device)
    for scale, weight in enumerate(weights):
        ssim, contrast_structure = _ssim_and_contrast_structure(
            shifted_a, shifted_b, data_range, window_size, window_sigma
        )
        if scale == scales - 1:
            result = result * ssim**weight
        else:
            result = result * contrast_structure**weight
            # ceil_mode averages the valid pixels of a partial window, as TF's 'SAME' average pool does.
            shifted_a = F.avg_pool2d(shifted_a, kernel_size=2, stride=2, ceil_mode=True)
            shifted_b = F.avg_pool2d(shifted_b, kernel_size=2, stride=2, ceil_mode=True)
    return result


def mirrored_pairs(count: int) -> np.ndarray:
    """AM-GAN's pairs (i, count − 1 − i) for i < count // 2 (metrics.md §8); -> (count // 2, 2) int64."""
    first = np.arange(count // 2)
    return np.stack([first, count - 1 - first], axis=1)


def random_pairs(count: int, num_pairs: int, rng: np.random.RandomState) -> np.ndarray:
    """``num_pairs`` index pairs (i, j), i ≠ j, uniform over ordered pairs of ``count`` items; -> (P, 2)."""
    if count < 2:
        raise ValueError(f"need at least 2 images to form a pair, got {count}")
    first = rng.randint(count, size=num_pairs)
    # Adding 1..count-1 modulo count gives a second index that is uniform over the others.
    second = (first + 1 + rng.randint(count - 1, size=num_pairs)) % count
    return np.stack([first, second], axis=1)


def pairwise_ms_ssim(
    images: torch.Tensor, pairs: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)
) -> torch.Tensor:
    """MS-SSIM of the given index pairs of a set; images (N, C, H, W), pairs (P, 2) -> (P,)."""
    index = torch.as_tensor(np.asarray(pairs), dtype=torch.long, device=images.device)
    return ms_ssim(images[index[:, 0]], images[index[:, 1]], value_range=value_range)


def mean_ms_ssim(
    images: torch.Tensor,
    num_pairs: int = RANDOM_PAIRS_PER_CLASS,
    seed: int = PAIR_SEED,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> float:
    """Mean MS-SSIM over ``num_pairs`` random pairs of distinct images of a set; (N, C, H, W) -> float."""
    pairs = random_pairs(images.shape[0], num_pairs, np.random.RandomState(seed))
    return float(pairwise_ms_ssim(images, pairs, value_range).mean())


def classwise_ms_ssim(
    images: torch.Tensor,
    labels: torch.Tensor | np.ndarray,
    *,
    num_classes: int,
    pairing: str = "mirrored",
    samples_per_class: int = AM_GAN_SAMPLES_PER_CLASS,
    num_random_pairs: int = RANDOM_PAIRS_PER_CLASS,
    seed: int = PAIR_SEED,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> ClasswiseMSSSIM:
    """Per-class mean MS-SSIM, and its max and mean over classes (AM-GAN Table 3; metrics.md §8).

    images (N, C, H, W) with class ``labels`` (N,) (D's argmax, or the label the sample was drawn for).
    ``pairing="mirrored"`` is AM-GAN's protocol: the first ``samples_per_class`` images of each class, in
    input order, paired (i, n − 1 − i). ``pairing="random"`` [our reading] draws ``num_random_pairs`` pairs of
    distinct images from all images of each class, with one RandomState(seed) across classes in class order.
    Every class in range(num_classes) must have enough images; a missing class raises rather than being
    skipped.
    """
    label_array = to_numpy(labels).reshape(-1)
    if label_array.shape[0] != images.shape[0]:
        raise ValueError(f"got {images.shape[0]} images but {label_array.shape[0]} labels")
    if pairing not in ("mirrored", "random"):
        raise ValueError(f"pairing must be 'mirrored' (AM-GAN) or 'random', got {pairing!r}")
    if num_classes < 1 or samples_per_class < 2:
        raise ValueError(
            f"need num_classes >= 1 and samples_per_class >= 2, got {num_classes}, {samples_per_class}"
        )
    needed = samples_per_class if pairing == "mirrored" else 2
    rng = np.random.RandomState(seed)
    per_class = []
    for class_id in range(num_classes):
        members = np.flatnonzero(label_array == class_id)
        if members.size < needed:
            raise ValueError(
                f"class {class_id} has {members.size} images, {pairing} pairing needs at least {needed}; "
                "generate more samples for it"
            )
        if pairing == "mirrored":
            pairs = members[mirrored_pairs(samples_per_class)]
        else:
            pairs = members[random_pairs(members.size, num_random_pairs, rng)]
        per_class.append(float(pairwise_ms_ssim(images, pairs, value_range).mean()))
    return ClasswiseMSSSIM(
        per_class=tuple(per_class),
        max_over_classes=max(per_class),
        mean_over_classes=float(np.mean(per_class)),
    )
