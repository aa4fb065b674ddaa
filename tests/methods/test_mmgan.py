"""repro.methods.mmgan: the manifold-matching G loss is differentiable through G only, the bank of real statistics
is FIFO, detached and checkpointed, the moving average follows its momentum, and the options are checked."""

from __future__ import annotations

import pytest
import torch

from repro.errors import ConfigError
from repro.methods.mmgan import ManifoldMatchingGAN
from repro.nets.stacked_mnist import stacked_mnist_nets


def nets():
    torch.manual_seed(0)
    generator, discriminator = stacked_mnist_nets("K/4", latent_dim=8)
    return generator, discriminator


def test_generator_loss_is_differentiable_through_g_only_and_the_bank_is_fifo_and_detached():
    method = ManifoldMatchingGAN(*nets(), bank_size=2)
    real = torch.rand(6, 3, 28, 28) * 2 - 1
    for step in range(3):
        loss, logs = method.generator_loss(6, None, real + step)
        assert {"g_matching", "g_correlation", "bandwidth"} <= set(logs)
    assert len(method.bank) == 2 and not any(b.requires_grad for b in method.bank)
    newest = method.discriminator.features(real + 2).detach()
    assert torch.allclose(method.bank[-1], newest)
    # no gradient reaches the real images (their embeddings are detached) ...
    watched = (real + 0).requires_grad_(True)
    loss, _ = method.generator_loss(6, None, watched)
    loss.backward()
    assert watched.grad is None
    # ... and a G step changes G only, without computing D's weight gradients
    method.zero_grad()
    d_before = [p.detach().clone() for p in method.discriminator.parameters()]
    g_before = [p.detach().clone() for p in method.generator.parameters()]
    method.generator_step(6, None, torch.optim.SGD(method.generator.parameters(), 0.1), real)
    d_after = list(method.discriminator.parameters())
    assert all(torch.equal(a, p) and p.grad is None for a, p in zip(d_before, d_after, strict=True))
    assert any(not torch.equal(a, p) for a, p in zip(g_before, method.generator.parameters(), strict=True))
    state = method.state_dict()
    restored = ManifoldMatchingGAN(*nets(), bank_size=2)
    restored.load_state_dict(state)
    assert len(restored.bank) == 2 and torch.equal(restored.bank[-1], method.bank[-1])


def test_ema_averaging_moves_the_real_statistics_and_options_are_checked():
    method = ManifoldMatchingGAN(*nets(), kernel="linear", averaging="ema", momentum=0.5, correlation_weight=0.0)
    first, second = torch.randn(5, 128), torch.randn(5, 128) + 1
    method.matching_loss(first, torch.randn(5, 128))
    method.matching_loss(second, torch.randn(5, 128))
    assert torch.allclose(method.ema_centre, 0.5 * first.mean(0) + 0.5 * second.mean(0))
    with pytest.raises(ConfigError, match="linear kernel only"):
        ManifoldMatchingGAN(*nets(), kernel="rbf", averaging="ema")
    with pytest.raises(ConfigError, match="objective"):
        ManifoldMatchingGAN(*nets(), objective="wgan")
    variant_b = ManifoldMatchingGAN(*nets(), objective="ns+mm", averaging="none")
    loss, logs = variant_b.generator_loss(4, None, torch.rand(4, 3, 28, 28))
    assert torch.isfinite(loss) and "g_matching" in logs
