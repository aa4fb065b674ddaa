"""repro.experiments.am_score_analysis: per-class entropies and the diversity experiments on synthetic
classifier outputs whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.experiments.am_score_analysis import diversity_rows, entropies, per_class_entropy_rows
from repro.metrics.evaluate import RealReference


def confident_reference(n_per_class: int = 50, k: int = 10, confidence: float = 12.0) -> RealReference:
    labels = np.repeat(np.arange(k), n_per_class)
    logits = np.zeros((len(labels), k), dtype=np.float32)
    logits[np.arange(len(labels)), labels] = confidence
    features = np.random.default_rng(0).normal(size=(len(labels), 4)).astype(np.float32)
    return RealReference("toy", "train", logits, features, labels, "toy", "", "toy")


def test_entropies_and_per_class_rows():
    assert entropies(np.zeros((2, 4))) == pytest.approx([math.log(4)] * 2)
    reference = confident_reference()
    rows = per_class_entropy_rows(reference, [str(k) for k in range(10)])
    assert len(rows) == 11 and rows[-1]["class"] == "all" and rows[-1]["images"] == 500
    assert all(r["mean_entropy"] < 0.01 and r["fraction_entropy_below_0.05"] == 1.0 for r in rows)


def test_is_tracks_classes_am_tracks_the_marginal_and_neither_sees_duplicates():
    reference = confident_reference()
    marginal = np.full(10, 0.1)
    rows = diversity_rows(reference, marginal, n=500, class_counts=(1, 5, 10), distinct_per_class=(1, 50),
                          imbalance=(0.0, 0.9))
    by = {(r["experiment"], r["setting"]): r for r in rows}
    # fewer classes: IS falls towards c; KL(C̄_train ‖ C̄_G) explodes, since the missing classes have C̄_G ≈ 0
    assert by[("classes", 1)]["is_mean"] == pytest.approx(1.0, abs=0.05)
    assert by[("classes", 10)]["is_mean"] > by[("classes", 5)]["is_mean"] > by[("classes", 1)]["is_mean"]
    assert by[("classes", 10)]["am_marginal_kl"] == pytest.approx(0.0, abs=0.01)
    assert by[("classes", 5)]["am_marginal_kl"] > 2.0
    # one distinct image per class repeated: same scores as 50 distinct (the blind spot MS-SSIM covers)
    assert by[("distinct per class", 1)]["is_mean"] == pytest.approx(by[("distinct per class", 50)]["is_mean"],
                                                                      rel=0.02)
    # 90% of one class: both scores see it
    assert by[("imbalance", 0.9)]["is_mean"] < by[("imbalance", 0.0)]["is_mean"]
    assert by[("imbalance", 0.9)]["am_score"] > by[("imbalance", 0.0)]["am_score"] + 1.0
