"""Dist-GAN's terms (the base model of MS-DistGAN; ms_gan.md §1.8, github tntrung/msgan msdistgan.py), each
against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from repro import losses


def bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_lambda_w_scales_latent_distances_to_feature_distances():
    assert losses.distgan_lambda_w(128, 2048) == pytest.approx(0.25)  # CIFAR DCGAN: noise 128, features 2048
    assert losses.distgan_lambda_w(256, 128) == pytest.approx(math.sqrt(2))  # Stacked-MNIST K/4


def test_autoencoder_loss_is_the_mean_squared_feature_difference():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    recon = torch.tensor([[1.0, 0.0], [0.0, 4.0]])
    assert losses.distgan_autoencoder_loss(real, recon).item() == pytest.approx((0 + 4 + 9 + 0) / 4)


def test_latent_data_distance_ties_the_mean_feature_gap_to_the_mean_latent_gap():
    recon, fake = torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 1.0]])  # md_x = mean(1, 3) = 2
    encoded, latents = torch.tensor([[0.5, 0.5, 0.5]]), torch.tensor([[0.0, -0.5, -1.0]])  # mean(E − z) = 1
    assert losses.distgan_latent_data_distance(recon, fake, encoded, latents, 0.5).item() == pytest.approx(
        (2 - 0.5 * 1) ** 2)
    assert losses.distgan_latent_data_distance(recon, fake, encoded, latents, 2.0).item() == pytest.approx(0.0)


def test_gradient_penalty_uses_the_root_mean_square_slope_not_the_norm():
    gradients = torch.tensor([[[3.0, 4.0]], [[1.0, 1.0]]])  # RMS 3.5355 and 1; L2 norms 5 and 1.414
    expected = ((math.sqrt(12.5) - 1) ** 2 + 0.0) / 2
    assert losses.distgan_rms_gradient_penalty(gradients).item() == pytest.approx(expected, rel=1e-6)


def test_log_loss_counts_reconstructions_as_real_with_weight_five_percent():
    real, recon, fake = torch.tensor([0.3, -1.0]), torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    expected = (0.95 * (bce(0.3, 1) + bce(-1.0, 1)) / 2 + 0.05 * (bce(2.0, 1) + bce(0.0, 1)) / 2
                + (bce(-0.5, 0) + bce(1.5, 0)) / 2)
    assert losses.distgan_d_loss_log(real, recon, fake).item() == pytest.approx(expected, rel=1e-6)


def test_the_reconstruction_weight_moves_to_the_reals_in_the_second_half():
    assert [losses.distgan_recon_weight_shift(t) for t in (0.0, 0.5, 0.6, 0.75, 1.0)] == pytest.approx(
        [0.0, 0.0, 0.02, 0.05, 0.05])


def test_hinge_loss_by_hand_early_and_late():
    real, recon, fake = torch.tensor([0.5, 2.0]), torch.tensor([0.0]), torch.tensor([-2.0, 0.5])
    # min(0, s − 1): −0.5, 0 -> mean −0.25; recon −1; min(0, −1 − s): 0 (s = −2 gives +1, clipped), −1.5 -> −0.75
    early = -(0.95 * -0.25 + 0.05 * -1.0 + -0.75)
    late = -(1.0 * -0.25 + 0.0 * -1.0 + -0.75)
    assert losses.distgan_d_loss_hinge(real, recon, fake, 0.1).item() == pytest.approx(early)
    assert losses.distgan_d_loss_hinge(real, recon, fake, 0.9).item() == pytest.approx(late)
    # on sigmoid outputs in (0, 1) the hinge never clips: the loss is linear in the scores (ms_gan.md §6, quirk 2)
    s = torch.tensor([0.2, 0.7])
    linear = -(0.95 * (s - 1).mean() + 0.05 * (s - 1).mean() + (-1 - s).mean())
    assert losses.distgan_d_loss_hinge(s, s, s, 0.0).item() == pytest.approx(linear.item())


def test_generator_loss_matches_mean_sigmoid_scores_and_only_moves_the_fakes():
    real = torch.tensor([0.0, 2.0], requires_grad=True)
    fake = torch.tensor([-1.0, 1.0], requires_grad=True)
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = abs((sigmoid(0) + sigmoid(2)) / 2 - (sigmoid(-1) + sigmoid(1)) / 2)
    value = losses.distgan_g_loss(real, fake)
    assert value.item() == pytest.approx(expected, rel=1e-6)
    value.backward()
    assert real.grad is None and fake.grad is not None
    assert losses.distgan_g_loss(fake.detach(), fake).item() == 0.0
