"""repro.manifold: the kernel formulas equal the explicit feature-space centre and radius for the linear kernel,
the loss is zero for identical sets and grows with a shifted centre or radius, and the correlation statistic
behaves as mmgan.md §1.5 says."""

from __future__ import annotations

import math

import pytest
import torch

from repro.errors import ConfigError
from repro.manifold import (
    average_pairwise_correlation,
    correlation_loss,
    gram,
    manifold_matching_loss,
    manifold_statistics,
    median_bandwidth,
)

F64 = torch.float64  # the formula checks compare to 1e-9


def test_linear_kernel_gives_the_explicit_centre_distance_and_radii():
    torch.manual_seed(0)
    real, fake = torch.randn(9, 5, dtype=F64), torch.randn(7, 5, dtype=F64) + 0.5
    stats = manifold_statistics(real, fake, "linear")
    explicit_centre = (real.mean(0) - fake.mean(0)).pow(2).sum()
    explicit_radius = lambda x: (x - x.mean(0)).norm(dim=1).mean()  # noqa: E731
    assert stats["centre_distance_sq"] == pytest.approx(float(explicit_centre), abs=1e-9)
    assert stats["radius_real"] == pytest.approx(float(explicit_radius(real)), abs=1e-6)
    assert stats["radius_fake"] == pytest.approx(float(explicit_radius(fake)), abs=1e-6)
    # without the radius, the linear kernel is squared-L2 feature matching of the means
    fm = manifold_matching_loss(real, fake, "linear", match_radius=False)
    assert fm == pytest.approx(float(explicit_centre), abs=1e-9)


@pytest.mark.parametrize("kernel", ["linear", "rbf", "rbf_multi"])
def test_loss_is_zero_for_identical_sets_and_grows_with_centre_or_radius(kernel):
    torch.manual_seed(1)
    real = torch.randn(32, 4, dtype=F64)
    bandwidth = median_bandwidth(real)
    zero = manifold_matching_loss(real, real.clone(), kernel, bandwidth)
    assert float(zero) == pytest.approx(0.0, abs=1e-7)
    shifts = [manifold_matching_loss(real, real + s, kernel, bandwidth) for s in (0.2, 0.5, 1.0)]
    assert 0 < shifts[0] < shifts[1] < shifts[2]
    centre = real.mean(0)
    scales = [manifold_matching_loss(real, centre + (real - centre) * f, kernel, bandwidth) for f in (1.2, 1.5, 2.0)]
    assert 0 < scales[0] < scales[1] < scales[2]


def test_median_bandwidth_puts_the_median_pair_at_exp_minus_one_and_needs_two_points():
    x = torch.tensor([[0.0], [1.0], [3.0]])  # squared distances 1, 4, 9 -> median 4
    bandwidth = median_bandwidth(x)
    assert float(bandwidth) == 4.0
    assert float(gram(x[:1], x[1:2] * 2, "rbf", bandwidth)) == pytest.approx(math.exp(-1))
    with pytest.raises(ValueError, match="at least 2"):
        median_bandwidth(x[:1])
    with pytest.raises(ValueError, match="bandwidth"):
        gram(x, x, "rbf")
    with pytest.raises(ConfigError, match="linear, rbf, rbf_multi"):
        gram(x, x, "laplace", 1.0)


def test_correlation_statistic_follows_the_spec():
    torch.manual_seed(2)
    real = torch.randn(64, 16, dtype=F64)
    mean, std = real.mean(0), real.std(0)
    # identical rows are perfectly correlated
    collapsed = real[:1].repeat(8, 1) + 0.0
    nearly_identical = collapsed + torch.randn(8, 16, dtype=F64) * 1e-9
    assert float(average_pairwise_correlation(nearly_identical, mean, std)) == pytest.approx(1.0, abs=1e-6)
    # a batch standardised with its own statistics has rho ≈ -1/(n-1) whatever its diversity (the §1.5 trap)
    own = average_pairwise_correlation(real, mean, std)
    assert float(own) == pytest.approx(-1 / 63, abs=1e-3)  # exact before the rows are normalised
    # the regulariser is zero for a batch with the real batch's statistics and large for a collapsed one
    assert float(correlation_loss(real, real.clone())) == pytest.approx(0.0, abs=1e-12)
    assert float(correlation_loss(real, collapsed[:8] + torch.randn(8, 16, dtype=F64) * 0.01)) > 0.5
