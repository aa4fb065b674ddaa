"""repro.experiments.ms_gan: the Stacked-MNIST runs train, resume, score modes and summarise end to end on a toy
MNIST mirror with the smoke classifier; the claims table compares gaps with seed spreads; configs refuse bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.errors import ConfigError
from repro.experiments import ms_gan

from .conftest import TrainingReached, capture_training_device


@pytest.fixture
def toy_mnist(toy_mnist_mirror):
    return toy_mnist_mirror(13, 4)  # 130 training digits: the smoke classifier trains on batches of 128


def test_stacked_runs_train_resume_and_score(toy_mnist):
    configs = [ms_gan.StackedMNISTConfig(model=m, iterations=3, batch_size=8, pool_size=None) for m in ms_gan.MODELS]
    root = toy_mnist / "runs"
    rows = ms_gan.train_stacked_all(configs, root, toy_mnist, eval_every=2, eval_samples=40, n_samples=64,
                                    classifier_profile="smoke")
    assert [r["model"] for r in rows] == ["GAN", "SSGAN", "MS-GAN"]
    assert all(r["steps_trained"] == 3 and r["samples"] == 64 and 1 <= r["modes"] <= 64 for r in rows)
    assert all(0 <= r["kl_to_uniform"] <= math.log(1000) + 1e-9 for r in rows)
    # a finished run is reused: the same row, not retrained
    again = ms_gan.train_stacked(configs[2], root / ms_gan.stacked_run_name(configs[2]), toy_mnist, n_samples=64,
                                 classifier_profile="smoke")
    assert again == rows[2]
    histogram = ms_gan.mode_histogram(configs[2], root, 64)
    assert histogram.shape == (1000,) and histogram.sum() == 64 and (histogram > 0).sum() == rows[2]["modes"]
    curves = ms_gan.stacked_curves(configs, root)
    assert [(c["model"], c["step"]) for c in curves][:2] == [("GAN", 2), ("GAN", 3)]
    method = ms_gan.trained_stacked(configs[1], root)
    assert method.task == "rotation" and method.weight_g == 0.2
    with pytest.raises(FileNotFoundError, match="train the run first"):
        ms_gan.mode_histogram(ms_gan.StackedMNISTConfig(seed=9), root)


def test_summary_and_claims_compare_gaps_with_seed_spread():
    rows = [{"discriminator": "K/4", "model": m, "run_seed": s, "modes": v}
            for m, values in (("SSGAN", (100, 110)), ("MS-GAN", (200, 210)), ("GAN", (150, 250)))
            for s, v in enumerate(values)]
    table = ms_gan.summarise(rows, ["discriminator", "model"], ["modes"])
    assert [r["model"] for r in table] == ["SSGAN", "MS-GAN", "GAN"]
    assert table[1]["modes"] == 205 and table[1]["modes_std_over_seeds"] == pytest.approx(math.sqrt(50))
    claims = {(c["claimed_better"], c["claimed_worse"]): c
              for c in ms_gan.claims(table, "modes", True, [("MS-GAN", "SSGAN"), ("MS-GAN", "GAN"),
                                                             ("SSGAN", "BigGAN")], "discriminator")}
    assert claims[("MS-GAN", "SSGAN")]["agrees"] and claims[("MS-GAN", "SSGAN")]["beyond_seed_spread"]
    assert claims[("MS-GAN", "GAN")]["agrees"] and not claims[("MS-GAN", "GAN")]["beyond_seed_spread"]
    assert ("SSGAN", "BigGAN") not in claims  # a model we did not run is left out, not an error
    lower = ms_gan.claims(table, "modes", False, [("MS-GAN", "SSGAN")], "discriminator")
    assert not lower[0]["agrees"] and lower[0]["our_gap"] == -100


def test_configs_refuse_bad_input_and_label_their_weights():
    with pytest.raises(ConfigError, match="GAN, SSGAN, MS-GAN"):
        ms_gan.StackedMNISTConfig(model="DistGAN")
    with pytest.raises(ConfigError, match="no self-supervised weights"):
        ms_gan.StackedMNISTConfig(model="GAN", weight_g=0.1)
    with pytest.raises(ConfigError, match="backbone"):
        ms_gan.CifarConfig(backbone="biggan")
    assert ms_gan.StackedMNISTConfig(weight_g=0.5).label == "MS-GAN (λ_g 0.5)"
    assert ms_gan.stacked_run_name(ms_gan.StackedMNISTConfig()) != ms_gan.stacked_run_name(
        ms_gan.StackedMNISTConfig(weight_g=0.5))


@pytest.mark.parametrize("backbone", list(ms_gan.BACKBONES))
def test_cifar_backbones_take_a_training_step_with_each_task(backbone):
    import torch

    for model in ms_gan.MODELS:
        method = ms_gan.build_cifar(ms_gan.CifarConfig(model=model, backbone=backbone, width=4))
        real = torch.rand(8, 3, 32, 32) * 2 - 1
        optimizer = torch.optim.Adam(method.discriminator.parameters(), 1e-3)
        logs = method.discriminator_step(real, None, optimizer)
        assert torch.isfinite(logs["d_loss"])
        logs = method.generator_step(8, None, torch.optim.Adam(method.generator.parameters(), 1e-3))
        assert torch.isfinite(logs["g_loss"])
        assert np.isfinite(float(logs.get("g_task", 0.0)))


def test_both_drivers_train_on_the_picked_device(toy_mnist, toy_cifar, monkeypatch, tmp_path):
    asked = capture_training_device(monkeypatch, ms_gan)
    with pytest.raises(TrainingReached):
        ms_gan.train_stacked(ms_gan.StackedMNISTConfig(iterations=2, batch_size=8, pool_size=None), tmp_path / "s",
                             toy_mnist, classifier_profile="smoke")
    with pytest.raises(TrainingReached):
        ms_gan.train_cifar(ms_gan.CifarConfig(width=4, iterations=2), tmp_path / "c", toy_cifar, n_real=100,
                           classifier_profile="smoke")
    assert asked == ["the picked device"] * 2
