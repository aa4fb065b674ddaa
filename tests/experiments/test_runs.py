"""repro.experiments.runs: the helpers every experiment driver shares."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.experiments.runs import seed_stats


def test_seed_stats_is_the_mean_and_the_sample_std_and_says_when_there_is_no_spread():
    assert seed_stats([1.0, 2.0, 6.0]) == pytest.approx((3.0, float(np.std([1.0, 2.0, 6.0], ddof=1))))
    assert seed_stats([2.0, 4.0])[1] == pytest.approx(math.sqrt(2))
    mean, std = seed_stats([5.0])
    assert mean == 5.0 and math.isnan(std)  # one seed: no spread, not a spread of zero
    assert all(math.isnan(v) for v in seed_stats([]))
