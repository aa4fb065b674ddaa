"""repro.methods.am_gan and repro.nets.am_gan: the losses of every Table 1 model against their definitions and
the paper's cross-entropy identities (Zhou et al. Eqs. 14-18), dynamic labels without gradient, the networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro import losses
from repro.errors import ConfigError
from repro.methods.am_gan import VARIANTS, AMGANFamily

K = 10


class LinearD(nn.Module):
    """A deterministic D: flattened 2x4x4 images -> K + 1 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(32, K + 1)

    def forward(self, x):
        return self.linear(x.flatten(1))


class TinyG(nn.Module):
    latent_dim = 6

    def __init__(self, conditional: bool = False) -> None:
        super().__init__()
        self.conditional = conditional
        self.linear = nn.Linear(6 + (K if conditional else 0), 32)

    def forward(self, z, classes=None):
        if self.conditional:
            z = torch.cat([z, nn.functional.one_hot(classes, K).float()], dim=1)
        return torch.tanh(self.linear(z)).view(-1, 2, 4, 4)


def method(variant: str, labeling: str = "dynamic", seed: int = 0) -> AMGANFamily:
    torch.manual_seed(1)
    return AMGANFamily(TinyG(labeling == "predefined"), LinearD(), variant, labeling, K, seed=seed)


def replay(m: AMGANFamily, batch: int):
    """The fake batch (and predefined classes) the next loss call will draw, without consuming the stream."""
    state = m.noise.get_state()
    with torch.no_grad():
        fake, classes = m.generate(batch)
    m.noise.set_state(state)
    return fake, classes


def test_am_gan_losses_are_the_k_plus_one_cross_entropies():
    m = method("AM-GAN")
    real, labels = torch.randn(8, 2, 4, 4), torch.randint(K, (8,))
    fake, _ = replay(m, 8)
    d_loss, _ = m.discriminator_loss(real, labels)
    fake_class = torch.full((8,), K)
    expected = (losses.k_plus_one_cross_entropy(m.discriminator(real)[:, :K], labels)
                + losses.k_plus_one_cross_entropy(m.discriminator(fake)[:, :K], fake_class))
    assert d_loss.item() == pytest.approx(expected.item(), rel=1e-5)  # Eq. 15
    fake, _ = replay(m, 8)
    class_logits = m.discriminator(fake)[:, :K]
    target = class_logits.argmax(1)
    g_loss, _ = m.generator_loss(8, labels)
    assert g_loss.item() == pytest.approx(losses.k_plus_one_cross_entropy(class_logits, target).item(), rel=1e-5)
    # LabelGAN's D is the same K+1 model; its G has no class term: −log D_r with D_r = σ(LSE)
    label_gan = method("LabelGAN")
    assert label_gan.discriminator_loss(real, labels)[0].item() == pytest.approx(d_loss.item(), rel=1e-6)
    fake, _ = replay(label_gan, 8)
    lse = torch.logsumexp(label_gan.discriminator(fake)[:, :K], 1)
    assert label_gan.generator_loss(8, labels)[0].item() == pytest.approx(
        nn.functional.softplus(-lse).mean().item(), rel=1e-5)


def test_the_explicit_k_plus_one_softmax_splits_into_class_and_real_terms():
    """−log softmax([l, 0])_y = CE_K(C(x), y) − log D_r(x), and −log softmax([l, 0])_{K+1} = −log(1 − D_r(x))."""
    logits, y = torch.randn(5, K), torch.randint(K, (5,))
    lse = torch.logsumexp(logits, 1)
    split = losses.class_cross_entropy(logits, y) + nn.functional.softplus(-lse).mean()
    assert losses.k_plus_one_cross_entropy(logits, y).item() == pytest.approx(split.item(), rel=1e-6)
    fake_term = nn.functional.softplus(lse).mean()
    assert losses.k_plus_one_cross_entropy(logits, torch.full((5,), K)).item() == pytest.approx(fake_term.item())


def test_dynamic_labels_carry_no_gradient():
    m = method("AM-GAN")
    fake, _ = replay(m, 6)
    g_loss, _ = m.generator_loss(6, None)
    g_loss.backward()
    by_method = m.generator.linear.weight.grad.clone()
    # the same loss with the target computed separately, as a constant: identical gradients
    logits = m.discriminator(fake.requires_grad_())
    assert logits.requires_grad and not losses.dynamic_labels(logits[:, :K]).requires_grad
    m2 = method("AM-GAN")
    state = m2.noise.get_state()
    z = m2.sample_latent(6)
    m2.noise.set_state(state)
    out = m2.discriminator(m2.generator(z))
    target = out[:, :K].detach().argmax(1)
    reference = losses.g_loss_ns(torch.logsumexp(out[:, :K], 1)) + losses.class_cross_entropy(out[:, :K], target)
    reference.backward()
    assert torch.allclose(by_method, m2.generator.linear.weight.grad, atol=1e-6)


def test_each_variant_has_its_class_terms():
    real, labels = torch.randn(8, 2, 4, 4), torch.randint(K, (8,))

    def d_parts(variant):
        m = method(variant)
        fake, _ = replay(m, 8)
        real_out, fake_out = m.discriminator(real), m.discriminator(fake)
        d_gan = losses.d_loss_ns(real_out[:, K], fake_out[:, K])
        return m, m.discriminator_loss(real, labels)[0], d_gan, real_out[:, :K], fake_out[:, :K]

    m, loss, d_gan, real_cls, fake_cls = d_parts("GAN")
    assert loss.item() == pytest.approx(d_gan.item(), rel=1e-6)
    loss.backward()
    assert torch.count_nonzero(m.discriminator.linear.weight.grad[:K]) == 0  # GAN leaves class logits untrained
    _, loss, d_gan, real_cls, _ = d_parts("GAN*")
    assert loss.item() == pytest.approx((d_gan + 0.1 * losses.class_cross_entropy(real_cls, labels)).item(), rel=1e-5)
    _, loss, d_gan, real_cls, fake_cls = d_parts("AC-GAN*+")
    uniform = -torch.log_softmax(fake_cls, 1).mean()
    assert loss.item() == pytest.approx(
        (d_gan + losses.class_cross_entropy(real_cls, labels) + uniform).item(), rel=1e-5)
    _, loss, d_gan, real_cls, fake_cls = d_parts("AC-GAN")
    fake_term = losses.class_cross_entropy(fake_cls, fake_cls.argmax(1))
    assert loss.item() == pytest.approx(
        (d_gan + losses.class_cross_entropy(real_cls, labels) + fake_term).item(), rel=1e-5)
    assert set(VARIANTS) >= {"GAN", "GAN*", "AC-GAN*", "AC-GAN*+", "LabelGAN", "AM-GAN"}
    with pytest.raises(ConfigError, match="unknown AM-GAN variant"):
        method("WGAN")


def test_predefined_labeling_feeds_the_class_to_g_and_uses_it_as_target():
    m = method("AC-GAN*", "predefined")
    fake, classes = replay(m, 8)
    assert classes is not None and classes.shape == (8,)
    logits = m.discriminator(fake)
    expected = losses.g_loss_ns(logits[:, K]) + losses.class_cross_entropy(logits[:, :K], classes)
    assert m.generator_loss(8, None)[0].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ConfigError, match="conditional=True"):
        AMGANFamily(TinyG(False), LinearD(), "AM-GAN", "predefined", K)


def test_am_gan_networks_sizes_batch_statistics_and_init():
    from repro.nets.am_gan import AMGANDiscriminator, AMGANGenerator
    from repro.nets.improved_gan import data_dependent_init

    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(AMGANGenerator()) == 4_743_846 and count(AMGANDiscriminator()) == 1_559_510  # am_gan.md §2
    torch.manual_seed(0)
    generator = AMGANGenerator(width=4, conditional=True)
    discriminator = AMGANDiscriminator(width=4, extra_block=True)
    data_dependent_init(generator, torch.randn(16, 100), torch.randint(10, (16,)))
    images = generator(torch.randn(16, 100), torch.randint(10, (16,)))
    assert images.shape == (16, 3, 32, 32) and images.abs().max() <= 1
    data_dependent_init(discriminator, images.detach())
    assert discriminator(images).shape == (16, 11)
    discriminator.eval()  # noise and dropout off, but BN still uses the batch's statistics (as the code)
    alone = discriminator(images[:4])
    assert not torch.allclose(alone, discriminator(images)[:4], atol=1e-4)
    with pytest.raises(ValueError, match="conditional"):
        generator(torch.randn(2, 100))
