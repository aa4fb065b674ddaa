"""Tests for repro.metrics.ms_ssim: MS-SSIM properties, a SciPy restatement, the class-wise protocol."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import signal

from repro.metrics.ms_ssim import (
    MS_SSIM_WEIGHTS,
    classwise_ms_ssim,
    mean_ms_ssim,
    mirrored_pairs,
    ms_ssim,
    random_pairs,
)


def uniform_images(count: int, seed: int, size: int = 32) -> torch.Tensor:
    return torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def am_gan_ms_ssim_reference(image_a: np.ndarray, image_b: np.ndarray) -> float:
    """One pair (C, H, W) in [-1, 1]; restates the TF steps of AM-GAN's code/score.py with SciPy/NumPy."""
    a, b = image_a.astype(np.float64) + 1.0, image_b.astype(np.float64) + 1.0
    c1, c2 = (0.01 * 2.0) ** 2, (0.03 * 2.0) ** 2
    factors = []
    for level in range(5):
        size = min(11, a.shape[1], a.shape[2])
        sigma = size / 11.0 * 1.5
        grid = np.arange(size) - (size - 1) / 2.0
        window = np.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / (2 * sigma**2))
        window /= window.sum()

        def blur(x, window=window):
            return np.stack([signal.convolve(channel, window, mode="valid") for channel in x])

        mu_a, mu_b = blur(a), blur(b)
        var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
        cov = np.abs(blur(a * b) - mu_a * mu_b)
        cs_map = (2 * cov + c2) / (var_a + var_b + c2)
        if level < 4:
            factors.append(cs_map.mean() ** MS_SSIM_WEIGHTS[level])
            a = a.reshape(3, a.shape[1] // 2, 2, a.shape[2] // 2, 2).mean(axis=(2, 4))
            b = b.reshape(3, b.shape[1] // 2, 2, b.shape[2] // 2, 2).mean(axis=(2, 4))
        else:
            luminance = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
            factors.append((luminance * cs_map).mean() ** MS_SSIM_WEIGHTS[level])
    return float(np.prod(factors))


def test_identical_images_give_one():
    images = uniform_images(4, 0)
    np.testing.assert_allclose(ms_ssim(images, images).numpy(), 1.0, atol=1e-12)


def test_symmetric_and_within_unit_interval():
    images_a, images_b = uniform_images(8, 1), uniform_images(8, 2)
    smooth_b = F.interpolate(uniform_images(8, 3, size=8), size=32, mode="bilinear")
    for other in (images_b, smooth_b, (images_a + 0.2 * images_b).clamp(-1, 1)):
        forward, backward = ms_ssim(images_a, other), ms_ssim(other, images_a)
        torch.testing.assert_close(forward, backward, rtol=0, atol=1e-12)
        assert ((forward >= 0) & (forward <= 1)).all()


def test_independent_noise_is_low_and_similarity_falls_with_distortion():
    # At 32x32 the coarse scales see few pixels and |σ12| is never negative, so independent uniform noise
    # gives ≈ 0.3 under the AM-GAN convention rather than ≈ 0; it must still sit far below any related pair.
    images, noise = uniform_images(16, 4), uniform_images(16, 5)
    independent = ms_ssim(images, noise).mean().item()
    assert independent < 0.4
    scores = [
        ms_ssim(images, (images + strength * noise).clamp(-1, 1)).mean().item() for strength in (0.1, 0.5)
    ]
    assert scores[0] > scores[1] > independent
    assert scores[0] > 0.95


def test_constant_images_reduce_to_luminance_term():
    # No variance anywhere: every contrast-structure factor is 1 and only the last scale's luminance remains.
    zeros, halves = torch.zeros(1, 3, 32, 32), torch.full((1, 3, 32, 32), 0.5)
    c1 = (0.01 * 2) ** 2
    luminance = (2 * 1.0 * 1.5 + c1) / (1.0**2 + 1.5**2 + c1)  # pixels shifted from [-1, 1] to [0, 2]
    assert ms_ssim(zeros, halves).item() == pytest.approx(luminance ** MS_SSIM_WEIGHTS[-1], rel=1e-12)


def test_matches_independent_scipy_restatement_of_am_gan_code():
    images_a = uniform_images(3, 6)
    images_b = (0.5 * images_a + 0.5 * uniform_images(3, 7)).clamp(-1, 1)
    ours = ms_ssim(images_a, images_b).numpy()
    expected = [
        am_gan_ms_ssim_reference(a.numpy(), b.numpy()) for a, b in zip(images_a, images_b, strict=True)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_value_range_sets_scale_consistently():
    images_a, images_b = uniform_images(4, 8), uniform_images(4, 9)
    in_minus_one_one = ms_ssim(images_a, images_b, value_range=(-1.0, 1.0))
    in_zero_one = ms_ssim((images_a + 1) / 2, (images_b + 1) / 2, value_range=(0.0, 1.0))
    torch.testing.assert_close(in_minus_one_one, in_zero_one, rtol=1e-10, atol=1e-12)


def test_pixels_outside_value_range_raise():
    with pytest.raises(ValueError, match="outside value_range"):
        ms_ssim(uniform_images(1, 0) * 2, uniform_images(1, 1))


def test_too_small_images_raise():
    with pytest.raises(ValueError, match="too small"):
        ms_ssim(uniform_images(1, 0, size=8), uniform_images(1, 1, size=8))


def test_mirrored_pairs_follow_am_gan():
    np.testing.assert_array_equal(mirrored_pairs(10), [[0, 9], [1, 8], [2, 7], [3, 6], [4, 5]])


def test_random_pairs_are_distinct_and_seeded():
    pairs = random_pairs(5, 1000, np.random.RandomState(0))
    assert (pairs[:, 0] != pairs[:, 1]).all()
    assert pairs.min() == 0 and pairs.max() == 4
    assert len({tuple(pair) for pair in pairs}) == 20  # every ordered pair of 5 items shows up
    np.testing.assert_array_equal(pairs, random_pairs(5, 1000, np.random.RandomState(0)))


def test_mean_ms_ssim_of_copies_is_one():
    copies = uniform_images(1, 10).repeat(6, 1, 1, 1)
    assert mean_ms_ssim(copies, num_pairs=10) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("pairing", ["mirrored", "random"])
def test_classwise_reports_per_class_max_and_mean(pairing):
    # Class 0: ten copies of one image (MS-SSIM 1); class 1: independent noise. Labels are interleaved so the
    # function has to gather each class's members itself.
    copies = uniform_images(1, 11).repeat(10, 1, 1, 1)
    noise = uniform_images(10, 12)
    images = torch.stack([copies, noise], dim=1).reshape(20, 3, 32, 32)
    labels = np.tile([0, 1], 10)
    result = classwise_ms_ssim(images, labels, num_classes=2, pairing=pairing, num_random_pairs=20)
    assert result.per_class[0] == pytest.approx(1.0, abs=1e-12)
    assert result.per_class[1] < 0.4
    assert result.max_over_classes == pytest.approx(1.0, abs=1e-12)
    assert result.mean_over_classes == pytest.approx((1.0 + result.per_class[1]) / 2, rel=1e-12)


def test_classwise_mirrored_uses_first_samples_in_order():
    images = uniform_images(12, 13)
    labels = np.zeros(12, dtype=np.int64)
    result = classwise_ms_ssim(images, labels, num_classes=1)
    expected = ms_ssim(images[:5], images[5:10].flip(0)).mean().item()
    assert result.per_class[0] == pytest.approx(expected, rel=1e-12)


def test_class_with_too_few_samples_raises():
    with pytest.raises(ValueError, match="class 1 has 0 images"):
        classwise_ms_ssim(uniform_images(10, 14), np.zeros(10, dtype=np.int64), num_classes=2)
