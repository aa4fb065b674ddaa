"""Tests for repro.metrics.inception_score: anchors of metrics.md §10.3 and agreement with torch-fidelity."""

import numpy as np
import pytest
import torch
from torch_fidelity.metric_isc import isc_features_to_metric

from repro.metrics.inception_score import inception_score, inception_score_no_split


def one_hot_logits(labels: np.ndarray, num_classes: int, confidence: float = 200.0) -> torch.Tensor:
    """Logits whose softmax is one-hot to within exp(-confidence)."""
    return torch.nn.functional.one_hot(torch.as_tensor(labels), num_classes).double() * confidence


def test_uniform_predictions_give_one():
    uniform_probabilities = torch.full((100, 10), 0.1)
    assert inception_score(uniform_probabilities, from_logits=False) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert inception_score(torch.zeros(100, 10), from_logits=True) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert inception_score_no_split(uniform_probabilities, from_logits=False) == pytest.approx(1.0, abs=1e-12)


def test_identical_rows_give_one():
    row = torch.randn(1, 7, generator=torch.Generator().manual_seed(0)) * 4
    assert inception_score(row.repeat(50, 1), from_logits=True)[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("num_classes", [2, 5, 10])
def test_equally_frequent_one_hot_classes_give_k(num_classes):
    # Labels cycle 0..K-1, so every contiguous split (without shuffling) holds each class equally often.
    labels = np.arange(10 * num_classes * 4) % num_classes
    probabilities = torch.nn.functional.one_hot(torch.as_tensor(labels), num_classes).double()
    mean, std = inception_score(probabilities, from_logits=False, shuffle=False)
    assert mean == pytest.approx(num_classes, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)
    logit_mean, _ = inception_score(one_hot_logits(labels, num_classes), from_logits=True, shuffle=False)
    assert logit_mean == pytest.approx(num_classes, rel=1e-12)


def test_no_split_score_is_k_for_balanced_one_hot_in_any_order():
    labels = np.random.RandomState(0).permutation(np.arange(300) % 6)
    assert inception_score_no_split(one_hot_logits(labels, 6), from_logits=True) == pytest.approx(
        6.0, rel=1e-12
    )


def test_matches_torch_fidelity_isc_features_to_metric():
    # 1003 rows: the splits have unequal sizes, which checks the i*N//splits boundaries too.
    logits = torch.randn(1003, 20, generator=torch.Generator().manual_seed(0)) * 3
    expected = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    mean, std = inception_score(logits, from_logits=True)
    assert mean == pytest.approx(expected["inception_score_mean"], rel=1e-5)
    assert std == pytest.approx(expected["inception_score_std"], rel=1e-5)


def test_std_is_population_std_over_contiguous_splits():
    logits = torch.randn(400, 8, generator=torch.Generator().manual_seed(1)) * 2
    split_scores = [inception_score_no_split(chunk, from_logits=True) for chunk in logits.split(100)]
    mean, std = inception_score(logits, from_logits=True, splits=4, shuffle=False)
    assert mean == pytest.approx(np.mean(split_scores), rel=1e-12)
    assert std == pytest.approx(np.std(split_scores, ddof=0), rel=1e-10)
    assert std != pytest.approx(np.std(split_scores, ddof=1), rel=1e-3)


def test_probabilities_and_logits_agree():
    logits = torch.randn(200, 12, generator=torch.Generator().manual_seed(2)) * 3
    from_logits = inception_score(logits, from_logits=True)
    from_probabilities = inception_score(torch.softmax(logits.double(), dim=1), from_logits=False)
    assert from_probabilities == pytest.approx(from_logits, rel=1e-10)


def test_shuffle_fixes_class_sorted_samples():
    # Class-sorted samples put one class in each contiguous split, collapsing IS to 1 (metrics.md §3.3).
    labels = np.repeat(np.arange(10), 100)
    logits = one_hot_logits(labels, 10)
    assert inception_score(logits, from_logits=True, shuffle=False)[0] == pytest.approx(1.0, abs=1e-9)
    assert inception_score(logits, from_logits=True)[0] > 9.0


def test_shuffle_seed_changes_splits_but_not_no_split_score():
    logits = torch.randn(500, 10, generator=torch.Generator().manual_seed(3)) * 3
    assert inception_score(logits, from_logits=True, shuffle_seed=1) != inception_score(
        logits, from_logits=True
    )
    assert inception_score_no_split(logits, from_logits=True) == pytest.approx(
        inception_score_no_split(logits.flip(0), from_logits=True), rel=1e-12
    )


def test_logits_passed_as_probabilities_raise():
    logits = torch.randn(50, 10, generator=torch.Generator().manual_seed(4))
    with pytest.raises(ValueError, match="from_logits=True"):
        inception_score(logits, from_logits=False)


@pytest.mark.parametrize("splits", [0, 11])
def test_bad_split_count_raises(splits):
    with pytest.raises(ValueError, match="splits"):
        inception_score(torch.zeros(10, 3), from_logits=True, splits=splits)


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        inception_score(torch.zeros(10), from_logits=True)
