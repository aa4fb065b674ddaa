"""Dist-GAN and SS-/MS-DistGAN (repro.methods.dist_gan; ms_gan.md §1.6, §1.8): each step's loss against a hand
computation on tiny nets, which networks each step moves, the penalty's presence and sign, smoke training of the
three models on the Stacked-MNIST nets through repro.train, and an exact resume that needs E's optimiser state."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from repro.data import DeviceBatches
from repro.errors import ConfigError
from repro.methods.dist_gan import DistGAN
from repro.nets.base import Discriminator, Encoder, Generator
from repro.nets.stacked_mnist import StackedMNISTEncoder, stacked_mnist_nets
from repro.train import TrainConfig, TrainingInterrupted, train
from tests.test_train import StopAt, full_state

LATENT = 4


def tiny_method(seed: int = 0, **options) -> DistGAN:
    """G: z (4) -> 1x4x4 in [0, 1]; D: a linear trunk to 8 features; E: flatten -> linear to 4. No batch norm, so
    every network call is a pure function of its input and the loss can be recomputed by hand."""
    torch.manual_seed(seed)
    generator = Generator(nn.Sequential(nn.Linear(LATENT, 16), nn.Unflatten(1, (1, 4, 4))), LATENT, (1, 4, 4),
                          "unit", latent_distribution="symmetric_uniform")
    discriminator = Discriminator(nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.LeakyReLU(0.2)), 8,
                                  spectral_norm=False, init="xavier")
    encoder = Encoder(nn.Flatten(), 16, LATENT, "xavier")
    return DistGAN(generator, discriminator, encoder, seed=seed, **options)


def images(seed: int, n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


def replay(method: DistGAN) -> torch.Generator:
    """A copy of the method's noise generator: it draws what the method will draw next."""
    copy = torch.Generator()
    copy.set_state(method.noise.get_state())
    return copy


def uniform_latents(rng: torch.Generator, n: int) -> torch.Tensor:
    return torch.rand(n, LATENT, generator=rng) * 2 - 1


def penalty_by_hand(method: DistGAN, real: torch.Tensor, fake: torch.Tensor, epsilon: torch.Tensor) -> torch.Tensor:
    x = (epsilon.view(-1, 1, 1, 1) * real + (1 - epsilon.view(-1, 1, 1, 1)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(method.discriminator(x).sum(), x)
    slopes = grad.flatten(1).pow(2).mean(1).sqrt()  # the RMS over the 16 pixels, not the L2 norm
    return (slopes - 1).pow(2).mean()


def test_the_encoder_loss_is_the_feature_autoencoder_loss_plus_the_latent_data_distance():
    method = tiny_method(lambda_r=0.3)
    real, rng = images(1), replay(method)
    loss, logs = method.encoder_loss(real)
    z = uniform_latents(rng, 6)
    assert z.min() < 0 < z.max() and z.abs().max() <= 1  # z ~ U(-1, 1)
    f, g, e = method.discriminator.features, method.generator, method.encoder
    with torch.no_grad():
        autoencoder = ((f(real) - f(g(e(real)))) ** 2).mean()
        md_x = (f(g(e(real))) - f(g(z))).mean()
        md_z = (e(real) - z).mean() * math.sqrt(LATENT / 8)  # λ_w = sqrt(noise_dim / feature_dim)
        expected = autoencoder + 0.3 * (md_x - md_z) ** 2
    assert method.lambda_w == pytest.approx(math.sqrt(0.5))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert logs["e_autoencoder"].item() == pytest.approx(autoencoder.item(), rel=1e-6)


@pytest.mark.parametrize("updates_generator", [False, True])
def test_the_encoder_step_moves_e_and_moves_g_only_when_asked(updates_generator):
    method = tiny_method(encoder_updates_generator=updates_generator)
    before = {name: p.detach().clone() for name, p in method.named_parameters()}
    method.encoder_step(images(2))
    moved = {name.split(".")[0] for name, p in method.named_parameters() if not torch.equal(before[name], p)}
    assert moved == ({"encoder", "generator"} if updates_generator else {"encoder"})
    assert all(p.grad is None for p in method.discriminator.parameters())  # D frozen: not even gradients
    assert all(p.grad is None for p in method.generator.parameters()) != updates_generator
    assert len(method.encoder_optimizer.state) == len(list(method.encoder.parameters())) + (
        len(list(method.generator.parameters())) if updates_generator else 0)


def test_the_log_discriminator_loss_by_hand_with_its_rms_gradient_penalty():
    method = tiny_method(lambda_p=0.5)
    real, rng = images(3), replay(method)
    loss, logs = method.discriminator_loss(real, None)
    z = uniform_latents(rng, 6)
    epsilon = torch.rand(6, generator=rng)
    d, g = method.discriminator, method.generator
    fake, recon = g(z).detach(), g(method.encoder(real)).detach()
    penalty = penalty_by_hand(method, real, fake, epsilon)
    with torch.no_grad():
        expected = (0.95 * F.softplus(-d(real)).mean() + 0.05 * F.softplus(-d(recon)).mean()
                    + F.softplus(d(fake)).mean() + 0.5 * penalty)
    assert logs["d_penalty"].item() == pytest.approx(penalty.item(), rel=1e-5)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_the_gradient_penalty_is_present_with_weight_lambda_p():
    with_penalty, logs = tiny_method(lambda_p=0.5).discriminator_loss(images(4), None)
    without, _ = tiny_method(lambda_p=0.0).discriminator_loss(images(4), None)
    assert logs["d_penalty"].item() > 0.01
    assert (with_penalty - without).item() == pytest.approx(0.5 * logs["d_penalty"].item(), rel=1e-5)


@pytest.mark.parametrize("hinge_on", ["logit", "sigmoid"])
def test_the_hinge_loss_by_hand_late_in_training_with_the_official_penalty_sign(hinge_on):
    method = tiny_method(loss="hinge", hinge_on=hinge_on, total_steps=4)
    method.d_steps = 3  # t = 0.75: μ = 0.05, all the "real" weight on the reals, none on reconstructions
    real, rng = images(5), replay(method)
    loss, logs = method.discriminator_loss(real, None)
    z = uniform_latents(rng, 6)
    d, g = method.discriminator, method.generator
    score = (lambda x: d(x)) if hinge_on == "logit" else (lambda x: torch.sigmoid(d(x)))
    with torch.no_grad():
        fake = g(z)
        hinge = -(1.0 * torch.clamp(score(real) - 1, max=0).mean() + torch.clamp(-1 - score(fake), max=0).mean())
    assert loss.item() == pytest.approx(hinge.item() - 0.5 * logs["d_penalty"].item(), rel=1e-5)  # pitfall 1
    added = tiny_method(loss="hinge", hinge_on=hinge_on, total_steps=4, hinge_penalty="added")
    added.d_steps = 3
    assert added.discriminator_loss(images(5), None)[0].item() == pytest.approx(
        hinge.item() + 0.5 * logs["d_penalty"].item(), rel=1e-5)


def test_the_hinge_reconstruction_weight_follows_the_d_step_counter():
    real = images(6)
    early, late = tiny_method(loss="hinge", total_steps=100), tiny_method(loss="hinge", total_steps=100)
    late.d_steps = 80
    recon_weighted = tiny_method(loss="hinge", total_steps=100)
    assert early.progress == 0.0 and late.progress == 0.8
    assert early.discriminator_loss(real, None)[0].item() == recon_weighted.discriminator_loss(real, None)[0].item()
    assert late.discriminator_loss(real, None)[0].item() != early.discriminator_loss(real, None)[0].item()
    with pytest.raises(ConfigError, match="total_steps"):
        tiny_method(loss="hinge")


def test_the_discriminator_step_runs_the_encoder_step_first_on_its_own_batch_and_counts():
    method = tiny_method()
    encoder_before = [p.detach().clone() for p in method.encoder.parameters()]
    optimizer = torch.optim.SGD(method.discriminator.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="discriminator_needs_extra_real"):
        method.discriminator_step(images(7), None, optimizer)
    logs = method.discriminator_step(images(7), None, optimizer, extra_real=images(8))
    assert {"e_loss", "d_loss", "d_penalty"} <= logs.keys() and method.d_steps == 1
    assert not all(torch.equal(a, b) for a, b in zip(encoder_before, method.encoder.parameters(), strict=True))


def test_the_generator_loss_matches_mean_sigmoid_scores_and_ss_distgan_leaves_it_alone():
    method = tiny_method()
    real, rng = images(9), replay(method)
    loss, _ = method.generator_loss(6, None, images(9))
    z = uniform_latents(rng, 6)
    d, g = method.discriminator, method.generator
    expected = (torch.sigmoid(d(real)).mean() - torch.sigmoid(d(g(z))).mean()).abs()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # SS-DistGAN as every official driver runs it (λ_g = 0): the same G loss, and no draw from the noise stream
    ss = tiny_method(task="rotation", lambda_g=0.0)
    state = ss.noise.get_state()
    assert ss.generator_loss(6, None, images(9))[0].item() == loss.item()
    reference = torch.Generator()
    reference.set_state(state)
    uniform_latents(reference, 6)
    assert torch.equal(ss.noise.get_state(), reference.get_state())  # only z was drawn
    with pytest.raises(ValueError, match="generator_needs_real"):
        method.generator_loss(6, None)


def test_the_ms_distgan_generator_term_is_the_official_matching_of_five_way_cross_entropies():
    method = tiny_method(task="minimax", lambda_g=0.2)
    real, rng = images(10), replay(method)
    loss, logs = method.generator_loss(6, None, real)
    z = uniform_latents(rng, 6)
    kept = torch.randperm(24, generator=rng)[:6]  # the official n-of-4n draw: source = kept mod n, k = kept div n
    source, rotation = kept % 6, kept // 6
    d, g = method.discriminator, method.generator

    def head(x):
        rotated = torch.stack([torch.rot90(x[i], int(k), dims=(1, 2)) for i, k in zip(source, rotation, strict=True)])
        return d.head("rotation", d.features(rotated))

    with torch.no_grad():
        fake = g(z)
        adversarial = (torch.sigmoid(d(real)).mean() - torch.sigmoid(d(fake)).mean()).abs()
        matching = (F.cross_entropy(head(fake), rotation) - F.cross_entropy(head(real), rotation)).abs()
    assert d.heads["rotation"].out_features == 5
    assert logs["g_task"].item() == pytest.approx(matching.item(), rel=1e-5)
    assert loss.item() == pytest.approx(adversarial.item() + 0.2 * matching.item(), rel=1e-5)


def test_the_ss_and_ms_discriminator_terms_by_hand():
    ss = tiny_method(task="rotation", lambda_d=0.5)
    real, rng = images(11), replay(ss)
    loss, logs = ss.discriminator_loss(real, None)
    uniform_latents(rng, 6)  # z
    torch.rand(6, generator=rng)  # the penalty's ε
    kept = torch.randperm(24, generator=rng)[:6]
    rotated = torch.stack([torch.rot90(real[i], int(k), dims=(1, 2)) for i, k in zip(kept % 6, kept // 6, strict=True)])
    d = ss.discriminator
    with torch.no_grad():
        by_hand = F.cross_entropy(d.head("rotation", d.features(rotated)), kept // 6)
    assert d.heads["rotation"].out_features == 4
    assert logs["d_task"].item() == pytest.approx(by_hand.item(), rel=1e-6)
    plain, _ = tiny_method(lambda_p=0.5).discriminator_loss(real, None)  # the same seeds: the same Dist-GAN part
    assert (loss - plain).item() == pytest.approx(0.5 * by_hand.item(), rel=1e-5)

    ms = tiny_method(task="minimax", lambda_d=1.0)
    loss, logs = ms.discriminator_loss(real, None)
    plain, _ = tiny_method().discriminator_loss(real, None)
    assert {"d_fake_as_generated", "d_rotation_accuracy"} <= logs.keys()
    assert (loss - plain).item() == pytest.approx(logs["d_task"].item(), rel=1e-5)


def test_bad_settings_are_refused_with_the_way_out():
    torch.manual_seed(0)
    generator, discriminator = stacked_mnist_nets("K/4", output_range="unit")  # N(0, I) latents
    with pytest.raises(ConfigError, match="symmetric_uniform"):
        DistGAN(generator, discriminator, StackedMNISTEncoder())
    generator, discriminator = stacked_mnist_nets("K/4", latent_distribution="symmetric_uniform")
    with pytest.raises(ConfigError, match="codes of 128 dimensions"):
        DistGAN(generator, discriminator, StackedMNISTEncoder(latent_dim=128))
    with pytest.raises(ConfigError, match="unknown self-supervised task"):
        tiny_method(task="jigsaw")
    with pytest.raises(ConfigError, match="task='none'"):
        tiny_method(lambda_d=1.0)


# ----------------------------------------------------------------------------------------------------------
# Through the training loop


def stacked_method(task: str, seed: int = 0) -> DistGAN:
    torch.manual_seed(seed)
    generator, discriminator = stacked_mnist_nets("K/4", output_range="unit", latent_distribution="symmetric_uniform")
    weights = {"none": {}, "rotation": {"lambda_d": 0.5, "lambda_g": 0.0}, "minimax": {"lambda_d": 0.5,
                                                                                      "lambda_g": 0.2}}[task]
    return DistGAN(generator, discriminator, StackedMNISTEncoder(), lambda_r=0.01, encoder_updates_generator=True,
                   task=task, **weights)


@pytest.mark.parametrize("task", ["none", "rotation", "minimax"])
def test_dist_gan_ss_and_ms_distgan_train_on_the_stacked_mnist_nets(task, tmp_path):
    pixels = torch.randint(0, 256, (48, 3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    data = DeviceBatches(pixels, None, batch_size=8, value_range="unit")
    config = TrainConfig(steps=3, batch_size=8, betas_g=(0.5, 0.9), betas_d=(0.5, 0.9), log_every=1,
                         checkpoint_every=3, sample_grid=4, progress=False)
    method = stacked_method(task)
    encoder_before = [p.detach().clone() for p in method.encoder.parameters()]
    train(method, data, config, tmp_path / task, value_range="unit")
    with open(tmp_path / task / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    expected_columns = {"e_loss", "d_loss", "d_penalty", "g_loss"} | {"none": set(), "rotation": {"d_task"},
                                                                      "minimax": {"d_task", "g_task"}}[task]
    assert expected_columns <= rows[0].keys()
    assert all(math.isfinite(float(r[c])) for r in rows for c in expected_columns)
    assert method.d_steps == 3
    assert not all(torch.equal(a, b) for a, b in zip(encoder_before, method.encoder.parameters(), strict=True))


def tiny_run(seed: int = 0) -> DistGAN:
    return tiny_method(seed, loss="hinge", total_steps=8, task="minimax", lambda_g=0.2,
                       encoder_updates_generator=True)


def tiny_images(seed: int = 0) -> DeviceBatches:
    pixels = torch.randint(0, 256, (64, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(9))
    return DeviceBatches(pixels, None, batch_size=6, value_range="unit", seed=seed)


RESUME = TrainConfig(steps=8, batch_size=6, checkpoint_every=4, log_every=2, ema_decay=0.9, schedule="linear",
                     progress=False, sample_grid=4)


def resumed_run(tmp_path, name: str) -> DistGAN:
    with pytest.raises(TrainingInterrupted, match="iteration 4"):
        train(StopAt(4).wrap(tiny_run()), tiny_images(), RESUME, tmp_path / name, value_range="unit")
    again = tiny_run(seed=123)  # other weights and data order: everything must come from the checkpoint
    assert train(again, tiny_images(seed=5), RESUME, tmp_path / name, value_range="unit").started_at == 4
    return again


def encoder_optimizer_state(method: DistGAN) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": v for i, s in method.encoder_optimizer.state_dict()["state"].items() for k, v in s.items()}


def test_resume_is_bit_identical_with_the_encoder_optimiser_and_step_counter(tmp_path):
    straight = tiny_run()
    train(straight, tiny_images(), RESUME, tmp_path / "straight", value_range="unit")
    again = resumed_run(tmp_path, "resumed")
    assert again.d_steps == straight.d_steps == 8
    expected, got = full_state(straight, tmp_path / "straight"), full_state(again, tmp_path / "resumed")
    assert expected.keys() == got.keys() and any(key.startswith("method.encoder.") for key in expected)
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    expected, got = encoder_optimizer_state(straight), encoder_optimizer_state(again)
    assert expected.keys() == got.keys() and len(expected) > 0
    for key in expected:
        assert torch.equal(expected[key], got[key]), key


def test_a_resume_that_lost_the_encoder_optimiser_would_differ(tmp_path, monkeypatch):
    """The check above can fail: dropping E's Adam moments from the checkpoint changes the resumed run."""
    straight = tiny_run()
    train(straight, tiny_images(), RESUME, tmp_path / "straight", value_range="unit")
    original = DistGAN.set_extra_state

    def forgetful(self, state):
        fresh = torch.optim.Adam(self._encoder_step_parameters(), lr=self.lr_e, betas=self.betas_e)
        original(self, {**state, "encoder_optimizer": fresh.state_dict()})

    monkeypatch.setattr(DistGAN, "set_extra_state", forgetful)
    again = resumed_run(tmp_path, "forgetful")
    assert not torch.equal(straight.encoder.code.weight, again.encoder.code.weight)
