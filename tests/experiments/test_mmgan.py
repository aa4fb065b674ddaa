"""repro.experiments.mmgan: every model trains, resumes and scores end to end through the runner on a toy MNIST
mirror (Stacked-MNIST modes, MNIST IS / AM Score / FID with the smoke classifier); one plan per dataset; the
claims judge MMGAN against both baselines; configs refuse bad input."""

from __future__ import annotations

import pytest
import torch

from repro.errors import ConfigError
from repro.experiments import mmgan, runner
from repro.experiments.protocol import Evaluation
from repro.methods.mmgan import ManifoldMatchingGAN

from ..conftest import write_csv


@pytest.fixture
def toy_mnist(toy_mnist_mirror):
    return toy_mnist_mirror(13, 4)


def test_models_train_and_score_on_stacked_mnist_and_mnist(toy_mnist):
    root = toy_mnist / "runs"
    stacked = [mmgan.MMGANConfig(model=m, iterations=2, batch_size=8, pool_size=None) for m in mmgan.ABLATION_ROWS]
    evaluation = Evaluation(n_samples=64, eval_every=1, eval_samples=20, classifier_profile="smoke")
    rows = runner.run_all(mmgan.MMGAN, stacked, root, toy_mnist, evaluation)
    assert [r["model"] for r in rows] == list(mmgan.ABLATION_ROWS)
    assert all(r["steps_trained"] == 2 and r["samples"] == 64 and r["modes"] >= 1 for r in rows)
    assert all(r["extractor"].startswith("mnist-convnet-") and len(r["weights_sha256"]) == 64 for r in rows)
    assert {(c["model"], c["step"]) for c in runner.curves(mmgan.MMGAN, stacked[:1], root)} == {("FM", 1), ("FM", 2)}
    losses = runner.curves(mmgan.MMGAN, stacked[2:3], root, "log.csv")
    assert losses and "g_matching" in losses[0] and "bandwidth" in losses[0]
    # a finished run is not retrained: the kept row comes back
    assert runner.run(mmgan.MMGAN, stacked[0], root, toy_mnist, evaluation) == rows[0]
    method = runner.trained(mmgan.MMGAN, stacked[4], root, toy_mnist)
    assert isinstance(method, ManifoldMatchingGAN) and len(method.bank) == 2  # the bank was checkpointed

    digits = [mmgan.MMGANConfig(model=m, dataset="mnist", iterations=2, batch_size=8, width=4)
              for m in ("DCGAN", "MMGAN")]
    rows = runner.run_all(mmgan.MMGAN, digits, root, toy_mnist, Evaluation(n_samples=40, classifier_profile="smoke"))
    assert all(r["n_fake"] == 40 and r["fid"] >= 0 and r["is_mean"] >= 1 and r["am_score"] >= 0 for r in rows)
    # G's first BN stays the per-channel form the committed runs trained (their checkpoints keep loading)
    for config in (stacked[0], digits[0]):
        generator = runner.trained(mmgan.MMGAN, config, root, toy_mnist).generator
        assert not [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]


def test_one_plan_per_dataset_and_their_table_protocol():
    plans = mmgan.plans("cpu")
    assert [p.settings["dataset"] for p in plans] == list(mmgan.DATASETS)
    assert all(p.notebook == mmgan.NOTEBOOK for p in plans)
    assert [c.model for c in plans[0].runs["ablation"]] == ["MM (linear)", "MM + kernel", "MM + kernel + bank",
                                                            "MMGAN (NS + MM)"]
    assert [p.evaluation.n_samples for p in plans] == [25_600, 10_000, 10_000]
    protocol = mmgan.table_protocol(plans)
    assert protocol["iterations"] == "{'stacked_mnist': 2500, 'mnist': 15000, 'cifar10': 1000}"
    assert protocol["seed"] == "{'stacked_mnist': [0, 1], 'mnist': [0, 1, 2, 3, 4], 'cifar10': [0, 1]}"
    assert [p.evaluation.eval_every for p in plans] == [500, 1_500, 500]  # ten points along MNIST's 15,000
    assert set(mmgan.ABLATION_SWITCHES) == set(mmgan.ABLATION_ROWS)


def test_claims_judge_mmgan_against_both_baselines(tmp_path):
    protocol = {"profile": "cpu", "seed": "{'mnist': [0, 1, 2]}", "iterations": "{'mnist': 1000}",
                "n_samples": "{'mnist': 10000}", "extractor": "mnist-convnet-abc"}
    rows = [{"dataset": "mnist", "model": m, "run_seed": seed, "fid": fid + seed, "is_mean": 4.0 + 0.1 * seed,
             **protocol} for m, fid in (("DCGAN", 30.0), ("FM", 10.0), ("MMGAN", 20.0)) for seed in range(3)]
    write_csv(tmp_path / mmgan.NOTEBOOK, "runs", rows)
    found = {c.claim: c for c in mmgan.claims(tmp_path)}
    assert found["MMGAN better than DCGAN (fid, mnist)"].verdict == "supported"
    assert found["MMGAN better than FM (fid, mnist)"].verdict == "contradicted"
    assert not any(c.counted for c in found.values())  # our reading of an abstract: never in the papers' tally
    assert "mnist, 1000 iterations, 10000 samples" in found["MMGAN better than FM (fid, mnist)"].protocol
    assert found["MMGAN better than FM (fid, mnist)"].beside.startswith("classifier IS")
    rows[0]["is_mean"] = 1.01  # one DCGAN run collapsed
    write_csv(tmp_path / mmgan.NOTEBOOK, "runs", rows)
    found = {c.claim: c for c in mmgan.claims(tmp_path)}
    assert found["MMGAN better than DCGAN (fid, mnist)"].verdict == "untestable at this scale"
    assert [c.verdict for c in mmgan.claims(tmp_path / "nothing")] == ["not run"]


def test_configs_refuse_bad_input():
    with pytest.raises(ConfigError, match="unknown model"):
        mmgan.MMGANConfig(model="MMD-GAN")
    with pytest.raises(ConfigError, match="stacked_mnist, mnist, cifar10"):
        mmgan.MMGANConfig(dataset="celeba")
    assert mmgan.MMGAN.run_name(mmgan.MMGANConfig(model="MM + kernel")).startswith("stacked_mnist-MMkernel-seed0-")
