"""Tests for repro.metrics.modes: Stacked-MNIST anchors of metrics.md §7 on hand-built label arrays."""

import numpy as np
import pytest
import torch

from repro.metrics.modes import (
    STACKED_MNIST_MODES,
    STACKED_MNIST_SAMPLES,
    count_modes,
    kl_to_uniform,
    mode_coverage,
    mode_histogram,
    mode_ids,
)


def test_protocol_constants():
    assert STACKED_MNIST_SAMPLES == 25_600
    assert STACKED_MNIST_MODES == 1000


def test_channel_labels_combine_as_red_hundreds_green_tens_blue_units():
    channel_labels = np.array([[1, 2, 3], [9, 9, 9], [0, 0, 7], [0, 0, 0]])
    np.testing.assert_array_equal(mode_ids(channel_labels), [123, 999, 7, 0])
    np.testing.assert_array_equal(mode_ids(torch.tensor([5, 999])), [5, 999])


def test_single_triple_gives_one_mode_and_kl_log_1000():
    labels = np.tile([[3, 1, 4]], (STACKED_MNIST_SAMPLES, 1))
    coverage = mode_coverage(labels)
    assert coverage.num_modes == 1
    assert coverage.kl_to_uniform == pytest.approx(np.log(1000), rel=1e-12)
    assert coverage.num_samples == STACKED_MNIST_SAMPLES


def test_perfectly_uniform_sample_covers_all_modes_with_zero_kl():
    ids = np.repeat(np.arange(1000), 3)
    assert count_modes(ids) == 1000
    assert kl_to_uniform(ids) == pytest.approx(0.0, abs=1e-12)


def test_hand_built_counts():
    ids = np.array([5, 5, 5, 7, 7, 9])
    np.testing.assert_array_equal(mode_histogram(ids)[[5, 7, 9]], [3, 2, 1])
    assert mode_histogram(ids).sum() == 6
    assert [count_modes(ids, min_count=k) for k in (1, 2, 3, 4)] == [3, 2, 1, 0]
    p = np.array([3, 2, 1]) / 6
    assert kl_to_uniform(ids) == pytest.approx(float(np.sum(p * np.log(1000 * p))), rel=1e-12)


def test_two_equal_modes_give_log_500():
    assert kl_to_uniform(np.array([[0, 0, 1], [0, 0, 2]] * 10)) == pytest.approx(np.log(500), rel=1e-12)


def test_uniform_sampler_kl_is_finite_sample_bias():
    # metrics.md §7: a perfect sampler at 25,600 samples has KL ≈ 999 / (2 · 25,600) ≈ 0.0195, not 0.
    channel_labels = np.random.RandomState(0).randint(10, size=(STACKED_MNIST_SAMPLES, 3))
    coverage = mode_coverage(channel_labels)
    assert coverage.num_modes == 1000
    assert coverage.kl_to_uniform == pytest.approx(999 / (2 * STACKED_MNIST_SAMPLES), rel=0.15)


def test_min_count_is_recorded():
    coverage = mode_coverage(np.array([1, 1, 2]), min_count=2)
    assert (coverage.num_modes, coverage.min_count) == (1, 2)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([[0, 10, 0]]),  # digit out of range
        np.array([[-1, 0, 0]]),
        np.array([1000]),  # mode id out of range
        np.array([[0, 1]]),  # neither (N, 3) nor (N,)
        np.array([0.0, 1.0]),  # probabilities or floats, not labels
    ],
)
def test_invalid_labels_raise(labels):
    with pytest.raises(ValueError):
        mode_ids(labels)


def test_empty_labels_raise():
    with pytest.raises(ValueError, match="no samples"):
        kl_to_uniform(np.zeros(0, dtype=np.int64))


def test_a_sample_counts_as_read_with_confidence_only_when_all_three_channels_are():
    from repro.metrics.modes import CONFIDENT_PROBABILITY, confident_samples

    probabilities = np.array([[0.95, 0.99, 0.91], [0.95, 0.5, 0.99], [0.9, 0.9, 0.9]])
    assert confident_samples(probabilities).tolist() == [True, False, CONFIDENT_PROBABILITY <= 0.9]
    assert confident_samples(probabilities, threshold=0.5).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="expected"):
        confident_samples(np.ones(3))


def test_blobs_cover_many_argmax_modes_and_few_confident_ones(monkeypatch):
    """stacked_mnist_scores: modes from every sample's argmax, modes_confident from confidently read samples only."""
    from repro.metrics import classifier, evaluate

    n = 400
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, (n, 3))  # an arbitrary digit in each channel: what a classifier says of a blob
    confidence = np.full((n, 3), 0.4)
    confidence[:15] = 0.99  # fifteen samples are drawn digits: twelve of one triple, three of another
    labels[:12] = [1, 2, 3]
    labels[12:15] = [4, 5, 6]
    monkeypatch.setattr(evaluate, "sample_generator", lambda *a, **k: torch.zeros(n, 3, 28, 28, dtype=torch.uint8))
    monkeypatch.setattr(classifier, "per_channel_predictions", lambda model, images: (labels, confidence))
    fake = type("Classifier", (), {"model": None, "name": "fake", "weights_sha256": "0"})
    scores, ids = evaluate.stacked_mnist_scores(None, fake, n, seed=0)
    assert scores["modes"] == len(np.unique(ids)) > 250
    assert scores["modes_confident"] == 1  # a mode needs ten samples read with confidence
    assert scores["confident_fraction"] == pytest.approx(15 / n)
