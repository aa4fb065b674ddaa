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


def test_k_plus_1_losses_equal_the_explicit_k_plus_1_softmax():
    torch.manual_seed(0)
    labeled, labels = torch.randn(6, 10), torch.randint(0, 10, (6,))
    unlabeled, fake = torch.randn(5, 10), torch.randn(7, 10)

    def with_fake_class(logits):  # the over-parameterised K+1 logits with l_{K+1} = 0
        return torch.cat([logits, torch.zeros(len(logits), 1)], dim=1)

    explicit_lab = torch.nn.functional.cross_entropy(with_fake_class(labeled), labels)
    # P(y = k | x, real) = softmax over the K real classes only
    assert losses.ssl_labeled_loss(labeled, labels).item() == pytest.approx(
        torch.nn.functional.cross_entropy(labeled, labels).item(), rel=1e-6)
    assert explicit_lab.item() > losses.ssl_labeled_loss(labeled, labels).item()  # the K+1 CE also pays for "fake"
    p_real_unl = 1 - torch.softmax(with_fake_class(unlabeled), 1)[:, -1]
    p_fake_gen = torch.softmax(with_fake_class(fake), 1)[:, -1]
    explicit_unl = 0.5 * -p_real_unl.log().mean() + 0.5 * -p_fake_gen.log().mean()
    assert losses.ssl_unlabeled_loss(unlabeled, fake).item() == pytest.approx(explicit_unl.item(), rel=1e-5)


def test_feature_matching_norms_and_gradient_path():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0]], requires_grad=True)
    # means: real (2, 3), fake (0, 1): differences -2, -2
    assert losses.feature_matching_loss(real, fake, "l2").item() == pytest.approx(4.0)
    assert losses.feature_matching_loss(real, fake, "l1").item() == pytest.approx(2.0)
    losses.feature_matching_loss(real, fake).backward()
    assert real.grad is None and fake.grad is not None
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        losses.feature_matching_loss(real, fake, "cosine")


def test_one_sided_label_smoothing():
    logits = torch.tensor([0.3, -1.2, 2.0])
    assert losses.d_loss_ns_one_sided(logits, logits, alpha=1.0).item() == pytest.approx(
        losses.d_loss_ns(logits, logits).item(), rel=1e-6)
    alpha = 0.9
    best_real_logit = torch.full((4,), math.log(alpha / (1 - alpha)))  # D(x) = alpha minimises the real term
    very_fake = torch.full((4,), -30.0)
    assert losses.d_loss_ns_one_sided(best_real_logit, very_fake, alpha).item() == pytest.approx(0.0, abs=1e-6)
    assert losses.d_loss_ns_one_sided(best_real_logit + 1, very_fake, alpha).item() > 1e-3  # over-confidence costs


def test_k_plus_one_unlabeled_loss_with_a_smoothed_real_target():
    """One-sided smoothing of the K+1 real term: the optimum moves to D(x) = α and the fake term is untouched."""
    torch.manual_seed(0)
    real, fake = torch.randn(6, 10), torch.randn(5, 10)
    assert losses.ssl_unlabeled_loss(real, fake, real_target=1.0).item() == pytest.approx(
        losses.ssl_unlabeled_loss(real, fake).item())
    alpha = 0.75
    # logits whose LSE is logit(α): D(x) = α, the smoothed real term is at its minimum 0
    at_alpha = torch.full((4, 10), math.log(alpha / (1 - alpha)) - math.log(10))
    very_fake = torch.full((4, 10), -40.0)
    assert losses.ssl_unlabeled_loss(at_alpha, very_fake, alpha).item() == pytest.approx(0.0, abs=1e-6)
    assert losses.ssl_unlabeled_loss(at_alpha + 1, very_fake, alpha).item() > 1e-3
    d_real = torch.sigmoid(torch.logsumexp(real, 1))
    cross_entropy = -(alpha * d_real.log() + (1 - alpha) * (1 - d_real).log())
    expected = 0.5 * (cross_entropy + alpha * math.log(alpha) + (1 - alpha) * math.log(1 - alpha)).mean()
    expected = expected + 0.5 * torch.nn.functional.softplus(torch.logsumexp(fake, 1)).mean()
    assert losses.ssl_unlabeled_loss(real, fake, alpha).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="smoothed real target"):
        losses.ssl_unlabeled_loss(real, fake, real_target=0.0)
