"""Tests for repro.metrics.am_score (AM-GAN Eq. 27; metrics.md §6, §10.3)."""

import numpy as np
import pytest
import torch

from repro.metrics.am_score import am_score, class_marginal


def am_gan_reference(preds: np.ndarray, ref_preds: np.ndarray) -> tuple[float, float, float]:
    """AM-GAN's formula (code/score.py, am_score) restated; returns (total, marginal term, entropy term)."""
    preds = preds + 1e-18
    per_sample = np.mean(-np.sum(preds * np.log(preds), 1))
    marginal = -np.sum(ref_preds * np.log(np.mean(preds, 0) / ref_preds), 0)
    return per_sample + marginal, marginal, per_sample


def random_probabilities(rows: int, classes: int, seed: int) -> np.ndarray:
    return torch.softmax(
        torch.randn(rows, classes, generator=torch.Generator().manual_seed(seed)).double() * 2, 1
    ).numpy()


def test_one_hot_predictions_with_training_frequencies_score_zero():
    train_marginal = np.array([0.5, 0.3, 0.2])
    labels = np.repeat([0, 1, 2], [5, 3, 2])  # class frequencies equal the training marginal
    generated = np.eye(3)[labels]
    score = am_score(generated, train_marginal)
    assert score.total == pytest.approx(0.0, abs=1e-12)
    assert score.marginal_kl == pytest.approx(0.0, abs=1e-12)
    assert score.mean_entropy == pytest.approx(0.0, abs=1e-12)


def test_one_hot_with_wrong_frequencies_has_only_the_kl_term():
    train_marginal = np.array([0.5, 0.5])
    generated = np.eye(2)[[0, 0, 0, 1]]
    score = am_score(generated, train_marginal)
    assert score.mean_entropy == pytest.approx(0.0, abs=1e-12)
    expected_kl = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    assert score.marginal_kl == pytest.approx(expected_kl, rel=1e-12)


def test_uniform_predictions_have_only_the_entropy_term():
    score = am_score(np.full((20, 10), 0.1), np.full(10, 0.1))
    assert score.marginal_kl == pytest.approx(0.0, abs=1e-12)
    assert score.mean_entropy == pytest.approx(np.log(10), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_am_gan_formula_and_terms_add_up(seed):
    generated = random_probabilities(200, 10, seed)
    train_marginal = random_probabilities(500, 10, seed + 100).mean(axis=0)
    score = am_score(generated, train_marginal)
    assert tuple(score) == pytest.approx(
        am_gan_reference(generated.astype(np.float64), train_marginal), rel=1e-6
    )
    assert score.total == pytest.approx(score.marginal_kl + score.mean_entropy, rel=1e-12)
    assert score.marginal_kl >= 0.0


def test_class_marginal_is_mean_prediction():
    train_probabilities = random_probabilities(100, 5, 3)
    np.testing.assert_allclose(
        class_marginal(torch.from_numpy(train_probabilities)), train_probabilities.mean(0)
    )


def test_zero_in_training_marginal_stays_finite():
    score = am_score(np.eye(3)[[0, 1, 0, 1]], np.array([0.5, 0.5, 0.0]))
    assert score.total == pytest.approx(0.0, abs=1e-12)


def test_logits_instead_of_probabilities_raise():
    logits = torch.randn(10, 4, generator=torch.Generator().manual_seed(4))
    with pytest.raises(ValueError, match="softmax"):
        am_score(logits, np.full(4, 0.25))


def test_class_count_mismatch_raises():
    with pytest.raises(ValueError, match="class counts differ"):
        am_score(np.full((4, 3), 1 / 3), np.full(4, 0.25))
