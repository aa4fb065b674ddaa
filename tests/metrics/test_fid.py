"""Tests for repro.metrics.fid: anchors of metrics.md §10.3, torch-fidelity and scipy sqrtm agreement."""

import numpy as np
import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

from repro.metrics.fid import fid_from_features, frechet_distance, frechet_distance_sqrtm, gaussian_stats


def random_covariance(dim: int, rng: np.random.RandomState) -> np.ndarray:
    factor = rng.randn(dim, dim)
    return factor @ factor.T / dim + 0.1 * np.eye(dim)


def test_gaussian_stats_are_float64_mean_and_unbiased_covariance():
    features = np.random.RandomState(0).randn(50, 6).astype(np.float32)
    mu, sigma = gaussian_stats(torch.from_numpy(features))
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64), rowvar=False, ddof=1), rtol=1e-12)


def test_gaussian_stats_keep_matrix_shape_for_one_feature():
    mu, sigma = gaussian_stats(np.arange(5.0).reshape(5, 1))
    assert mu.shape == (1,) and sigma.shape == (1, 1)
    assert sigma[0, 0] == pytest.approx(2.5)  # ddof = 1


def test_fid_of_a_set_with_itself_is_zero():
    features = np.random.RandomState(1).randn(200, 16)
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-6)


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.RandomState(2)
    sigma = random_covariance(8, rng)
    mu1, mu2 = rng.randn(8), rng.randn(8)
    expected = float(np.sum((mu1 - mu2) ** 2))
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(expected, rel=1e-8)


def test_shifted_features_give_squared_shift():
    features = np.random.RandomState(3).randn(300, 10)
    shift = np.linspace(-1.0, 1.0, 10)
    assert fid_from_features(features, features + shift) == pytest.approx(float(shift @ shift), rel=1e-8)


def test_matches_torch_fidelity_on_random_features():
    rng = np.random.RandomState(4)
    features_a = torch.from_numpy(rng.randn(500, 64).astype(np.float32))
    features_b = torch.from_numpy((1.1 * rng.randn(500, 64) + 0.2).astype(np.float32))
    expected = fid_statistics_to_metric(
        fid_features_to_statistics(features_a), fid_features_to_statistics(features_b), verbose=False
    )["frechet_inception_distance"]
    assert fid_from_features(features_a, features_b) == pytest.approx(expected, rel=1e-5)


def test_eigenvalue_form_matches_scipy_sqrtm():
    rng = np.random.RandomState(5)
    sigma1, sigma2 = random_covariance(32, rng), random_covariance(32, rng)
    mu1, mu2 = rng.randn(32), rng.randn(32)
    eigen = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert eigen == pytest.approx(frechet_distance_sqrtm(mu1, sigma1, mu2, sigma2), abs=1e-5)
    assert eigen > 0


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_nan_trap_case_stays_finite():
    # torch-fidelity's regression case (tests/torch_pure/misc/test_fid_stats_fn.py): N = C = 4, seed 1. The
    # rank-deficient product has tiny negative real eigenvalues; a real-dtype sqrt of them is NaN.
    rng = np.random.RandomState(1)
    mu1, sigma1 = gaussian_stats(rng.randn(4, 4))
    mu2, sigma2 = gaussian_stats(rng.randn(4, 4))
    with np.errstate(invalid="ignore"):
        real_dtype_trace = np.sum(np.sqrt(np.linalg.eigvals(sigma1 @ sigma2)).real)
    assert np.isnan(real_dtype_trace), "precondition: this case must be NaN-prone without the complex cast"
    value = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert np.isfinite(value)
    assert value == pytest.approx(frechet_distance_sqrtm(mu1, sigma1, mu2, sigma2), abs=1e-5)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.parametrize(("num_samples", "dim"), [(2, 8), (4, 32), (8, 64), (16, 64), (64, 8)])
def test_small_samples_stay_finite_and_match_references(num_samples, dim):
    rng = np.random.RandomState(2023)
    features_a, features_b = rng.randn(num_samples, dim), rng.randn(num_samples, dim)
    value = fid_from_features(features_a, features_b)
    assert np.isfinite(value)
    expected = fid_statistics_to_metric(
        fid_features_to_statistics(torch.from_numpy(features_a)),
        fid_features_to_statistics(torch.from_numpy(features_b)),
        verbose=False,
    )["frechet_inception_distance"]
    assert value == pytest.approx(expected, rel=1e-8)
    mu_a, sigma_a = gaussian_stats(features_a)
    mu_b, sigma_b = gaussian_stats(features_b)
    assert value == pytest.approx(frechet_distance_sqrtm(mu_a, sigma_a, mu_b, sigma_b), abs=1e-5)


def test_sqrtm_reference_raises_on_large_imaginary_component():
    # Not covariances: the product has a negative eigenvalue, so its root is genuinely imaginary.
    sigma1, sigma2 = np.diag([1.0, 1.0]), np.diag([-1.0, 1.0])
    with pytest.raises(ValueError, match="Imaginary component"):
        frechet_distance_sqrtm(np.zeros(2), sigma1, np.zeros(2), sigma2)


def test_feature_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="feature dimensions differ"):
        fid_from_features(np.zeros((10, 3)), np.zeros((10, 4)))


def test_statistics_shape_mismatch_raises():
    with pytest.raises(ValueError, match="means"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))


def test_fewer_than_two_samples_raise():
    with pytest.raises(ValueError, match="at least 2 samples"):
        fid_from_features(np.zeros((1, 3)), np.zeros((5, 3)))


def test_non_matrix_features_raise():
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        gaussian_stats(np.zeros(5))


def test_reversed_views_are_accepted():
    features = np.random.default_rng(0).standard_normal((50, 4))
    assert fid_from_features(features[::-1], features) == pytest.approx(0.0, abs=1e-9)
