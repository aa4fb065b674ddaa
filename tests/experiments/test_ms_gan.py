"""repro.experiments.ms_gan: the Stacked-MNIST runs train, resume, score modes and summarise end to end through the
runner on a toy MNIST mirror with the smoke classifier; orderings give differences with Welch intervals; the plans hold
every run of notebooks 30 and 31; claims judge the committed runs behind the health gate; configs refuse bad
input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.errors import ConfigError
from repro.experiments import claims, ms_gan, runner
from repro.experiments.protocol import Evaluation
from repro.metrics.classifier import load_classifier

from ..conftest import write_csv


@pytest.fixture
def toy_mnist(toy_mnist_mirror):
    return toy_mnist_mirror(13, 4)  # 130 training digits: the smoke classifier trains on batches of 128


def test_stacked_runs_train_resume_and_score(toy_mnist):
    configs = [ms_gan.StackedMNISTConfig(model=m, iterations=3, batch_size=8, pool_size=None)
               for m in ms_gan.MAIN_MODELS]
    root = toy_mnist / "runs"
    evaluation = Evaluation(n_samples=64, eval_every=2, eval_samples=40, classifier_profile="smoke")
    rows = runner.run_all(ms_gan.STACKED, configs, root, toy_mnist, evaluation)
    assert [r["model"] for r in rows] == ["GAN", "SSGAN", "MS-GAN"]
    assert all(r["steps_trained"] == 3 and r["samples"] == 64 and 1 <= r["modes"] <= 64 for r in rows)
    assert all(0 <= r["kl_to_uniform"] <= math.log(1000) + 1e-9 for r in rows)
    classifier = load_classifier("mnist", "smoke", toy_mnist)  # the rows name the network that read the modes
    assert all(r["extractor"] == classifier.name and r["weights_sha256"] == classifier.weights_sha256 for r in rows)
    # a finished run is reused: the same row, not retrained
    assert runner.run(ms_gan.STACKED, configs[2], root, toy_mnist, evaluation) == rows[2]
    histogram = ms_gan.mode_histogram(configs[2], root, 64)
    assert histogram.shape == (1000,) and histogram.sum() == 64 and (histogram > 0).sum() == rows[2]["modes"]
    curves = runner.curves(ms_gan.STACKED, configs, root)
    assert [(c["model"], c["step"]) for c in curves][:2] == [("GAN", 2), ("GAN", 3)]
    method = runner.trained(ms_gan.STACKED, configs[1], root, toy_mnist)  # the official SS baseline at K/4
    assert (method.task, method.weight_d, method.weight_g, method.rotation_scheme) == ("rotation", 0.5, 0.0, "random")
    method = runner.trained(ms_gan.STACKED, configs[2], root, toy_mnist)  # MS in the official form at K/4
    assert (method.task, method.weight_d, method.weight_g, method.rotation_scheme) == ("minimax", 0.5, 0.2, "random")
    with pytest.raises(FileNotFoundError, match="train the run first"):
        ms_gan.mode_histogram(ms_gan.StackedMNISTConfig(seed=9), root)


def test_orderings_give_the_difference_its_interval_and_p_value():
    rows = [{"discriminator": "K/4", "model": m, "run_seed": s, "modes": v}
            for m, values in (("SSGAN", (100, 110, 105)), ("MS-GAN", (200, 210, 190)), ("GAN", (150, 250, 90)))
            for s, v in enumerate(values)]
    table = claims.summarise(rows, ["discriminator", "model"], ["modes"])
    assert [r["model"] for r in table] == ["SSGAN", "MS-GAN", "GAN"]
    assert table[1]["modes"] == 200 and table[1]["modes_std_over_seeds"] == pytest.approx(10.0)
    found = {(c["claimed_better"], c["claimed_worse"]): c for c in ms_gan.orderings(table, "modes", True,
                                                                                    "discriminator")}
    clear = found[("MS-GAN", "SSGAN")]
    assert clear["difference"] == pytest.approx(95) and 0 < clear["ci_low"] < 95 < clear["ci_high"]
    assert clear["p_unadjusted"] < 0.01 and clear["seeds_better"] == 3
    assert found[("MS-GAN", "GAN")]["ci_low"] < 0 < found[("MS-GAN", "GAN")]["ci_high"]  # within the noise
    lower = {(c["claimed_better"], c["claimed_worse"]): c for c in ms_gan.orderings(table, "modes", False,
                                                                                    "discriminator")}
    assert lower[("MS-GAN", "SSGAN")]["difference"] == pytest.approx(-95)
    assert ms_gan.orderings([r for r in table if r["model"] != "GAN"], "modes", True, "discriminator")[0][
        "claimed_worse"] == "SSGAN"  # pairs with a model we did not run are left out, not an error


def test_claims_judge_the_committed_runs_with_the_health_gate(tmp_path):
    protocol = {"profile": "cpu", "iterations": 2500, "n_samples": 25600, "extractor": "mnist-convnet-abc"}
    modes = {"GAN": (100, 110, 105), "SSGAN": (300, 320, 310), "MS-GAN": (200, 220, 210)}
    runs = [{"discriminator": d, "model": model, "run_seed": seed, "modes": value + (d == "K/2") * 500,
             "modes_confident": value, "kl_to_uniform": 3.0 - value / 1000, **protocol}
            for d in ("K/4", "K/2") for model, values in modes.items() for seed, value in enumerate(values)]
    runs[0]["modes"] = runs[0]["modes_confident"] = 1  # one GAN K/4 run collapsed
    write_csv(tmp_path / ms_gan.STACKED_NOTEBOOK, "runs", runs)
    found = {c.claim: c for c in ms_gan.claims(tmp_path)}
    assert found["SSGAN better than GAN (modes), K/2"].verdict == "supported"
    assert found["MS-GAN better than SSGAN (modes), K/2"].verdict == "contradicted"
    gated = found["SSGAN better than GAN (modes), K/4"]
    assert gated.verdict == "untestable at this scale"
    assert "GAN seed 0: modes read with confidence 1 < 10" in gated.reason
    assert found["MS-GAN better than SSGAN (modes), K/4"].verdict == "contradicted"  # its runs are healthy
    assert "KL to uniform" in found["SSGAN better than GAN (modes), K/2"].beside  # same samples: beside, not counted
    assert not any("KL" in claim for claim in found)
    assert "cpu, Stacked-MNIST K/4, 2500 iterations" in gated.protocol and "mnist-convnet-abc" in gated.protocol
    not_run = [c for c in found.values() if c.verdict == "not run"]
    assert [c.claim for c in not_run] == ["CIFAR-10: MS-GAN reaches a lower FID than SSGAN"]


def test_plans_hold_every_run_of_notebooks_30_and_31():
    stacked, cifar = ms_gan.plans("cpu")
    assert stacked.notebook == ms_gan.STACKED_NOTEBOOK and cifar.notebook == ms_gan.CIFAR_NOTEBOOK
    # Stacked-MNIST at cpu: both families, one seed per model and size (no CPU budget decides its claims)
    assert [(c.model, c.discriminator) for c in stacked.runs["main"]] == [
        (m, size) for size in ("K/4", "K/2") for m in ms_gan.ALL_MAIN_MODELS]
    assert {c.seed for c in stacked.configs} == {0} and [c.weight_g for c in stacked.runs["lambda_g"]] == [0.02, 0.5]
    assert {c.iterations for c in stacked.configs} == {2_500} and stacked.evaluation.n_samples == 25_600
    # CIFAR-10 at cpu: the DCGAN backbone only, 3 seeds per model (enough to decide a claim), at the pilot's length
    assert [(c.model, c.backbone, c.seed) for c in cifar.runs["main"]] == [
        (m, "dcgan", seed) for m in ms_gan.MAIN_MODELS for seed in (0, 1, 2)]
    assert {c.iterations for c in cifar.configs} == {ms_gan.CIFAR_CPU_ITERATIONS} and cifar.runs["lambdas"] == ()
    assert cifar.evaluation.n_real == 10_000
    assert len({ms_gan.STACKED.run_name(c) for c in stacked.configs}) == len(stacked.configs)
    assert ms_gan.stacked_plan("paper").configs[0].pool_size is None  # the paper profile stacks all 60,000 digits
    assert "K/4" in stacked._repr_markdown_()


def test_runs_take_the_official_weights_of_their_setting_unless_they_set_their_own():
    # github tntrung/msgan msdistgan_mnist1k.py l.139-156 and msdistgan_cifar.py l.93-121
    expected = {("SSGAN", "K/4"): (0.5, 0.0), ("MS-GAN", "K/4"): (0.5, 0.2), ("SSGAN", "K/2"): (1.0, 0.0),
                ("MS-GAN", "K/2"): (1.0, 1.0), ("MS-GAN", "dcgan"): (1.0, 0.1), ("MS-GAN", "sngan"): (1.0, 0.01),
                ("MS-GAN", "sngan_resnet"): (0.5, 0.1), ("SSGAN", "sngan_resnet"): (0.5, 0.0)}
    for (model, setting), weights in expected.items():
        assert ms_gan.model_weights(model, setting, None, None) == weights
    assert ms_gan.model_weights("MS-GAN", "K/4", None, 0.5) == (0.5, 0.5)
    assert ms_gan.model_weights("SSGAN-Chen", "dcgan", None, None) == (1.0, 0.2)
    assert ms_gan.model_weights("MS-GAN-reconstruction", "K/2", None, None) == (1.0, 1.0)
    assert ms_gan.model_weights("GAN", "K/2", None, None) == (None, None)
    method = ms_gan.CIFAR.build(ms_gan.CifarConfig(model="SSGAN-Chen", backbone="dcgan", width=4), None)
    assert (method.task, method.weight_g, method.rotation_scheme) == ("rotation", 0.2, "quarter")
    plan = ms_gan.stacked_plan("smoke")
    assert {c.model for c in plan.runs["main"]} == set(ms_gan.ALL_MAIN_MODELS)
    # the Dist-GAN models take the pairs of the drivers, which are Dist-GAN runs
    assert ms_gan.model_weights("MS-DistGAN", "K/4", None, None) == (0.5, 0.2)
    assert ms_gan.model_weights("SS-DistGAN", "sngan", None, None) == (1.0, 0.0)
    assert ms_gan.model_weights("Dist-GAN", "dcgan", None, None) == (None, None)


def test_configs_refuse_bad_input_and_label_their_weights():
    with pytest.raises(ConfigError, match="GAN, SSGAN, MS-GAN"):
        ms_gan.StackedMNISTConfig(model="DistGAN")
    with pytest.raises(ConfigError, match="no self-supervised weights"):
        ms_gan.StackedMNISTConfig(model="Dist-GAN", weight_d=0.5)
    with pytest.raises(ConfigError, match=r"MS-DistGAN takes loss 'log' or 'hinge', got 'ns'"):
        ms_gan.StackedMNISTConfig(model="MS-DistGAN", loss="ns")
    with pytest.raises(ConfigError, match=r"MS-GAN takes loss 'ns' or 'minimax' or 'hinge', got 'log'"):
        ms_gan.StackedMNISTConfig(model="MS-GAN", loss="log")
    with pytest.raises(ConfigError, match=r"needs Dist-GAN's encoder, built for K/4, K/2, dcgan, sngan, not "
                                          r"'sngan_resnet'"):
        ms_gan.CifarConfig(model="SS-DistGAN", backbone="sngan_resnet")
    with pytest.raises(ConfigError, match="no self-supervised weights"):
        ms_gan.StackedMNISTConfig(model="GAN", weight_g=0.1)
    with pytest.raises(ConfigError, match="backbone"):
        ms_gan.CifarConfig(backbone="biggan")
    assert ms_gan.StackedMNISTConfig(weight_g=0.5).label == "MS-GAN (λ_g 0.5)"
    assert ms_gan.STACKED.run_name(ms_gan.StackedMNISTConfig()) != ms_gan.STACKED.run_name(
        ms_gan.StackedMNISTConfig(weight_g=0.5))


@pytest.mark.parametrize("backbone", list(ms_gan.BACKBONES))
def test_cifar_backbones_take_a_training_step_with_each_task(backbone):
    import torch

    for model in ms_gan.MODELS:
        if model in ms_gan.DISTGAN_MODELS and backbone not in ms_gan.DISTGAN_SETTINGS:
            continue  # refused (test above)
        config = ms_gan.CifarConfig(model=model, backbone=backbone, width=4)
        method = ms_gan.CIFAR.build(config, None)
        real = torch.rand(8, 3, 32, 32) * 2 - 1
        optimizer = torch.optim.Adam(method.discriminator.parameters(), 1e-3)
        extra = {"extra_real": torch.rand(8, 3, 32, 32)} if method.discriminator_needs_extra_real else {}
        d_logs = method.discriminator_step(real, None, optimizer, **extra)
        g_logs = method.generator_step(8, None, torch.optim.Adam(method.generator.parameters(), 1e-3),
                                       real if method.generator_needs_real else None)
        assert torch.isfinite(d_logs["d_loss"]) and torch.isfinite(g_logs["g_loss"])
        weight_g = getattr(method, "weight_g", getattr(method, "lambda_g", None))
        if model not in ("GAN", "Dist-GAN") and weight_g:  # G's self-supervised term is logged where it has one
            assert np.isfinite(float(g_logs["g_task"]))


@pytest.mark.parametrize("setting", ["K/4", "K/2", "dcgan", "sngan"])
def test_distgan_models_build_the_official_setting(setting):
    """msdistgan_mnist1k.py / msdistgan_cifar.py (ms_gan.md §3.1): data in [0, 1] with a sigmoid G, z ~ U(-1, 1), the
    log loss on Stacked-MNIST (λ_r 0.01, E step updates E and G), the hinge loss on CIFAR (logits for DCGAN, sigmoid
    for SNGAN; λ_r 1.0, E only), no spectral norm, Adam (0.5, 0.9) with one D step per iteration."""
    import torch

    from repro.methods.dist_gan import DistGAN

    stacked = setting.startswith("K/")
    for model, task in (("Dist-GAN", "none"), ("SS-DistGAN", "rotation"), ("MS-DistGAN", "minimax")):
        if stacked:
            config = ms_gan.StackedMNISTConfig(model=model, discriminator=setting, iterations=30)
            experiment = ms_gan.STACKED
        else:
            config = ms_gan.CifarConfig(model=model, backbone=setting, width=4, iterations=30)
            experiment = ms_gan.CIFAR
        method = experiment.build(config, None)
        assert isinstance(method, DistGAN) and method.task == task
        assert (method.generator.output_range, method.generator.latent_distribution) == ("unit", "symmetric_uniform")
        assert method.total_steps == 30
        expected = ms_gan.model_weights(model, setting, None, None)
        assert (method.lambda_d, method.lambda_g) == ((0.0, 0.0) if model == "Dist-GAN" else expected)
        if stacked:
            assert (method.loss, method.lambda_r, method.encoder_updates_generator) == ("log", 0.01, True)
            batches = experiment.batches(config, type("Pool", (), {"images": torch.zeros(64, 1, 28, 28,
                                         dtype=torch.uint8), "labels": torch.zeros(64, dtype=torch.long)}), "cpu")
        else:
            hinge_on = "logit" if setting == "dcgan" else "sigmoid"
            assert (method.loss, method.hinge_on, method.lambda_r, method.encoder_updates_generator) == (
                "hinge", hinge_on, 1.0, False)
            assert not any("parametrizations" in name for name, _ in method.discriminator.named_parameters())
            loop = experiment.loop(config)
            assert (loop.betas_d, loop.betas_g, loop.n_dis) == ((0.5, 0.9), (0.5, 0.9), 1)
            batches = experiment.batches(config, type("Set", (), {"images": torch.zeros(64, 3, 32, 32,
                                         dtype=torch.uint8)}), "cpu")
        assert batches.value_range == "unit"


def test_paper_plans_run_the_distgan_family_at_the_official_length():
    for plan, length in ((ms_gan.stacked_plan("paper"), 200_000), (ms_gan.cifar_plan("paper"), 300_000)):
        distgan = [c for c in plan.runs["main"] if c.model in ms_gan.DISTGAN_MODELS]
        assert {c.model for c in distgan} == set(ms_gan.DISTGAN_MODELS)
        assert {c.iterations for c in distgan} == {length}
        assert f"(Dist-GAN models: {length})" in plan.protocol["iterations"]
