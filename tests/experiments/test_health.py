"""repro.experiments.health: the training-health gates fail on what collapsed generators and stuck classifiers
give (one repeated image: IS 1; one mode of 1,000; an error near chance) and pass on real data's numbers
(results/cpu/01_metrics_sanity: real MNIST and CIFAR-10 IS 4.7-5.9, 1,000 modes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from repro.experiments import health
from repro.experiments.claims import read_table
from repro.metrics.inception_score import inception_score_no_split
from repro.paths import REPO_ROOT


def test_one_repeated_image_fails_and_real_data_passes_every_image_gate():
    logits = torch.randn(1, 10).repeat(500, 1)  # every sample the same image: the same prediction
    single_image_is = inception_score_no_split(logits, from_logits=True)
    assert single_image_is == pytest.approx(1.0)
    confident = torch.eye(10).repeat(50, 1) * 20  # confident predictions spread over all ten classes
    real_like_is = inception_score_no_split(confident, from_logits=True)
    for dataset in ("cifar10", "mnist"):
        assert not health.gate(dataset).passes(single_image_is)
        assert health.gate(dataset).passes(real_like_is) and health.gate(dataset).passes(4.7)
        assert health.gate(dataset).failure(1.02) == "classifier IS 1.02 < 2"


def test_the_stacked_mnist_gate_fails_on_one_mode_and_passes_on_the_real_data():
    assert health.gate("stacked_mnist").failure(1) == "modes read with confidence 1 < 10"
    assert health.gate("stacked_mnist").passes(1000)


def test_the_stacked_mnist_gate_counts_only_confidently_read_modes():
    """Blobs get some digit read in every channel: hundreds of argmax modes, few read with confidence (the Dist-GAN
    pilot of 2026-12-04); a row that records only the argmax count has unknown health."""
    stacked = health.gate("stacked_mnist")
    assert stacked.value({"modes": 679, "modes_confident": 4}) == 4
    assert stacked.failure(stacked.value({"modes": 679, "modes_confident": 4})) == "modes read with confidence 4 < 10"
    assert stacked.failure(stacked.value({"modes": 679})) == "no modes read with confidence recorded"
    assert stacked.value({"modes_predicted": 1000, "modes_confident_predicted": 998}) == 998  # notebook 01's row


def test_a_semi_supervised_error_near_chance_fails():
    assert health.gate("semi-supervised").failure(46.6) == "test error % 46.6 > 45"
    assert health.gate("semi-supervised").passes(1.6)


def test_a_value_that_was_not_recorded_fails_and_an_unknown_dataset_is_named():
    assert health.gate("cifar10").failure("") == "no classifier IS recorded"
    with pytest.raises(KeyError, match="no training-health gate for 'svhn'"):
        health.gate("svhn")


def test_runs_arms_carry_the_failing_runs_and_the_columns_runs_tables_record():
    rows = [{"run_seed": "0", "modes": "1", "modes_confident": "1"},
            {"run_seed": "1", "modes": "40", "modes_confident": "30"},
            {"run_seed": "2", "modes": "25", "modes_confident": "12"}]
    arm = health.runs_arm("GAN", rows, "modes", "stacked_mnist")
    assert arm.seeds == 3 and arm.mean == pytest.approx(22.0)
    assert arm.unhealthy == ("seed 0: modes read with confidence 1 < 10",)
    assert arm.std == pytest.approx(np.std([1, 40, 25], ddof=1))
    assert health.health_columns("stacked_mnist", 40) == {"health_gate": "modes read with confidence ≥ 10",
                                                          "health_value": 40.0, "healthy": True}
    single = health.runs_arm("x", [{"run_seed": 0, "is_mean": 1.5}], "is_mean", "cifar10")
    assert single.unhealthy == ("seed 0: classifier IS 1.5 < 2",) and math.isnan(single.std)


def test_the_gate_reads_its_quantity_from_a_run_s_row_in_the_units_the_row_has():
    assert health.gate("cifar10").value({"is_mean": "1.5"}) == 1.5
    semi = health.gate("semi-supervised")
    assert semi.value({"error_average_percent": 60.4}) == 60.4
    assert math.isnan(semi.value({"errors_raw": 10}))  # the averaged D decides; a row without it is unknown


def test_the_gates_pass_the_committed_real_data_and_fail_the_committed_collapsed_runs():
    root = REPO_ROOT / "results" / "cpu"
    real = read_table(root, "01_metrics_sanity", "real_data_scores")
    assert real, "notebook 01's committed real-data scores are missing"
    for row in real:  # real train and test images of each dataset, under the score classifier
        assert health.gate(row["dataset"]).passes(row["is_mean"]), row
    (stacked,) = read_table(root, "01_metrics_sanity", "stacked_mnist_real")
    assert health.gate("stacked_mnist").passes(health.gate("stacked_mnist").value(stacked))
    # what the issue found collapsed: Stacked-MNIST GAN K/4 (1 mode in every seed), Table 3 (IS ~1.03)
    runs = read_table(root, "30_ms_gan_stacked_mnist", "runs")
    gan_k4 = [r for r in runs if r["model"] == "GAN" and r["discriminator"] == "K/4"]
    assert gan_k4 and len(health.unhealthy_runs(gan_k4, "stacked_mnist")) == len(gan_k4)
    ours = [r for r in read_table(root, "12_improved_gan_cifar_ablation", "table3_runs")
            if r["column"] == "our methods" and r["extractor"].startswith("cifar10-convnet-")]
    assert ours and len(health.unhealthy_runs(ours, "cifar10")) == len(ours)
