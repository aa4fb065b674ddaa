"""repro.losses: the standard adversarial losses against their textbook forms."""

import math

import pytest
import torch

from repro import losses


def test_ns_losses_match_the_log_sigmoid_forms():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected_d = -(torch.sigmoid(real).log().mean() + (1 - torch.sigmoid(fake)).log().mean())
    assert losses.d_loss_ns(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert losses.g_loss_ns(fake).item() == pytest.approx(-torch.sigmoid(fake).log().mean().item(), rel=1e-6)
    assert losses.g_loss_minimax(fake).item() == pytest.approx((1 - torch.sigmoid(fake)).log().mean().item(), rel=1e-6)


def test_optimal_discriminator_value_of_the_game():
    # D(x) = 1/2 everywhere (logit 0): the discriminator loss is 2 log 2 (Goodfellow et al. 2014, Thm. 1)
    zeros = torch.zeros(8)
    assert losses.d_loss_ns(zeros, zeros).item() == pytest.approx(2 * math.log(2))


def test_hinge_losses():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert losses.d_loss_hinge(real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert losses.g_loss_hinge(fake).item() == pytest.approx(1.0)


def test_saturation_is_what_separates_minimax_from_ns():
    fake = torch.tensor([-10.0], requires_grad=True)  # D confidently rejects the sample
    (grad_minimax,) = torch.autograd.grad(losses.g_loss_minimax(fake), fake)
    (grad_ns,) = torch.autograd.grad(losses.g_loss_ns(fake), fake)
    assert abs(grad_minimax.item()) < 1e-4 < abs(grad_ns.item())
