"""repro.experiments.mmgan: every model trains, resumes and scores end to end on a toy MNIST mirror (Stacked-MNIST
modes, MNIST IS / AM Score / FID with the smoke classifier); configs refuse bad input."""

from __future__ import annotations

import pytest

from repro.errors import ConfigError
from repro.experiments import mmgan
from repro.methods.mmgan import ManifoldMatchingGAN

from .conftest import TrainingReached, capture_training_device


@pytest.fixture
def toy_mnist(toy_mnist_mirror):
    return toy_mnist_mirror(13, 4)


def test_models_train_and_score_on_stacked_mnist_and_mnist(toy_mnist):
    root = toy_mnist / "runs"
    stacked = [mmgan.MMGANConfig(model=m, iterations=2, batch_size=8, pool_size=None) for m in mmgan.ABLATION_ROWS]
    rows = mmgan.train_all(stacked, root, toy_mnist, eval_every=1, eval_samples=20, n_samples=64,
                           classifier_profile="smoke")
    assert [r["model"] for r in rows] == list(mmgan.ABLATION_ROWS)
    assert all(r["steps_trained"] == 2 and r["samples"] == 64 and r["modes"] >= 1 for r in rows)
    assert {(c["model"], c["step"]) for c in mmgan.curves(stacked[:1], root)} == {("FM", 1), ("FM", 2)}
    losses = mmgan.loss_curves(stacked[2:3], root)
    assert losses and "g_matching" in losses[0] and "bandwidth" in losses[0]
    # a finished run is not retrained: the kept row comes back
    assert mmgan.train_model(stacked[0], root / mmgan.run_name(stacked[0]), toy_mnist, n_samples=64,
                             classifier_profile="smoke") == rows[0]
    method = mmgan.trained_method(stacked[4], root)
    assert isinstance(method, ManifoldMatchingGAN) and len(method.bank) == 2  # the bank was checkpointed

    digits = [mmgan.MMGANConfig(model=m, dataset="mnist", iterations=2, batch_size=8, width=4)
              for m in ("DCGAN", "MMGAN")]
    rows = mmgan.train_all(digits, root, toy_mnist, n_samples=40, classifier_profile="smoke")
    assert all(r["n_fake"] == 40 and r["fid"] >= 0 and r["is_mean"] >= 1 and r["am_score"] >= 0 for r in rows)


def test_configs_refuse_bad_input():
    with pytest.raises(ConfigError, match="unknown model"):
        mmgan.MMGANConfig(model="MMD-GAN")
    with pytest.raises(ConfigError, match="stacked_mnist, mnist, cifar10"):
        mmgan.MMGANConfig(dataset="celeba")
    assert mmgan.run_name(mmgan.MMGANConfig(model="MM + kernel")).startswith("stacked_mnist-MMkernel-seed0-")


@pytest.mark.parametrize("dataset", ["stacked_mnist", "mnist"])
def test_the_driver_trains_on_the_picked_device(toy_mnist, monkeypatch, tmp_path, dataset):
    asked = capture_training_device(monkeypatch, mmgan)
    with pytest.raises(TrainingReached):
        mmgan.train_model(mmgan.MMGANConfig(dataset=dataset, iterations=2, batch_size=8, width=4, pool_size=None),
                          tmp_path / "r", toy_mnist, classifier_profile="smoke")
    assert asked == ["the picked device"]
