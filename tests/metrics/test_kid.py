"""Tests for repro.metrics.kid: direct MMD² evaluation and agreement with torch-fidelity."""

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from repro.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel


def direct_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """MMD²_u of metrics.md §5 written as explicit sums over pairs, with the cubic kernel and gamma = 1/d."""
    m, dim = x.shape

    def kernel(u, v):
        return (u @ v / dim + 1.0) ** 3

    within_x = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    within_y = sum(kernel(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    across = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m))
    return within_x / (m * (m - 1)) + within_y / (m * (m - 1)) - 2.0 * across / m**2


def test_polynomial_kernel_defaults():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    y = np.array([[3.0, 1.0]])
    expected = (x @ y.T / 2 + 1.0) ** 3
    np.testing.assert_allclose(polynomial_kernel(x, y), expected, rtol=1e-14)


def test_mmd2_matches_direct_evaluation():
    rng = np.random.RandomState(0)
    x, y = rng.randn(7, 5), rng.randn(7, 5) + 0.5
    value = mmd2_unbiased(polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y))
    assert value == pytest.approx(direct_mmd2_unbiased(x, y), rel=1e-12)


def test_single_full_subset_equals_direct_evaluation():
    # With subset_size = N the subset is a permutation of the whole set, and MMD²_u ignores order.
    rng = np.random.RandomState(1)
    x, y = rng.randn(9, 4), 1.5 * rng.randn(9, 4)
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=9)
    assert mean == pytest.approx(direct_mmd2_unbiased(x, y), rel=1e-12)
    assert std == 0.0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_torch_fidelity_on_random_features(dtype):
    rng = np.random.RandomState(2)
    features_a = torch.from_numpy(rng.randn(500, 64)).to(dtype)
    features_b = torch.from_numpy(1.1 * rng.randn(500, 64) + 0.2).to(dtype)
    expected = kid_features_to_metric(
        features_a, features_b, kid_subsets=20, kid_subset_size=200, rng_seed=2020, verbose=False
    )
    mean, std = kernel_inception_distance(features_a, features_b, subsets=20, subset_size=200, seed=2020)
    # torch-fidelity keeps float32 inputs in float32 while we always use float64: looser float32 tolerance.
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    assert mean == pytest.approx(expected["kernel_inception_distance_mean"], rel=tolerance)
    assert std == pytest.approx(expected["kernel_inception_distance_std"], rel=tolerance)


def test_same_distribution_is_near_zero_and_shift_is_positive():
    rng = np.random.RandomState(3)
    features_a, features_b = rng.randn(300, 16), rng.randn(300, 16)
    same, _ = kernel_inception_distance(features_a, features_b, subsets=10, subset_size=100)
    shifted, _ = kernel_inception_distance(features_a, features_b + 1.0, subsets=10, subset_size=100)
    assert abs(same) < 0.05 * shifted
    assert shifted > 0


def test_seed_controls_subsets():
    rng = np.random.RandomState(4)
    features_a, features_b = rng.randn(100, 8), rng.randn(100, 8) + 0.3
    first = kernel_inception_distance(features_a, features_b, subsets=5, subset_size=50, seed=7)
    assert first == kernel_inception_distance(features_a, features_b, subsets=5, subset_size=50, seed=7)
    assert first != kernel_inception_distance(features_a, features_b, subsets=5, subset_size=50, seed=8)


def test_subset_larger_than_a_set_raises():
    with pytest.raises(ValueError, match="subset_size=1000 is larger"):
        kernel_inception_distance(np.zeros((2000, 4)), np.zeros((999, 4)))


def test_feature_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="feature dimensions differ"):
        kernel_inception_distance(np.zeros((10, 3)), np.zeros((10, 4)), subset_size=5)
