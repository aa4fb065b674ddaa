"""The rotation losses and repro.methods.self_supervised: SSGAN's D task ignores fakes and its G task ignores reals,
the MS G term equals logit(generated) − logit(rotation), λ = 0 gives the plain GAN, rotated images never reach the
adversarial loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from repro import losses
from repro.errors import ConfigError
from repro.methods.gan import StandardGAN
from repro.methods.self_supervised import SelfSupervisedGAN
from repro.nets.stacked_mnist import stacked_mnist_nets
from repro.rotation import apply_rotations, draw_ms_mix, draw_rotations, mixed_batch, rotated_batch
from repro.stacked_mnist import StackedMNISTBatches


def test_ms_generator_term_is_logit_generated_minus_logit_rotation():
    logits = torch.randn(7, 5)
    rotations = torch.randint(4, (7,))
    explicit = (F.cross_entropy(logits, rotations) - F.cross_entropy(logits, torch.full((7,), 4)))
    by_logits = (logits[:, 4] - logits[torch.arange(7), rotations]).mean()
    assert torch.allclose(losses.ms_generator_task(logits, rotations), explicit, atol=1e-6)
    assert torch.allclose(losses.ms_generator_task(logits, rotations), by_logits, atol=1e-6)
    # stable where the softmax form is not: huge logits
    huge = logits * 1e4
    assert torch.isfinite(losses.ms_generator_task(huge, rotations))


def test_ms_discriminator_term_is_rotation_ce_on_reals_plus_generated_ce_on_fakes():
    real, fake, k = torch.randn(6, 5), torch.randn(6, 5), torch.randint(4, (6,))
    expected = F.cross_entropy(real, k) - F.log_softmax(fake, 1)[:, 4].mean()
    assert torch.allclose(losses.ms_discriminator_task(real, k, fake), expected, atol=1e-6)


def nets(seed: int = 0):
    torch.manual_seed(seed)
    return stacked_mnist_nets("K/4", latent_dim=16)


def replay_fake(method, batch: int) -> torch.Tensor:
    """The fake batch the next loss call draws first, without consuming the noise stream."""
    state = method.noise.get_state()
    with torch.no_grad():
        fake = method.generator(method.sample_latent(batch))
    method.noise.set_state(state)
    return fake


def test_zero_weights_give_the_plain_gan():
    real = torch.rand(8, 3, 28, 28) * 2 - 1
    for task in ("rotation", "minimax", "minimax_single", "minimax_reconstruction"):
        g, d = nets()
        plain = StandardGAN(*nets(), loss="ns", seed=4)
        ss = SelfSupervisedGAN(g, d, task, "ns", weight_d=0.0, weight_g=0.0, seed=4)
        plain.train(), ss.train()
        d_plain, _ = plain.discriminator_loss(real, None)
        d_ss, _ = ss.discriminator_loss(real, None)
        g_plain, _ = plain.generator_loss(8, None)
        g_ss, _ = ss.generator_loss(8, None)
        assert torch.allclose(d_plain, d_ss) and torch.allclose(g_plain, g_ss)


def test_ssgan_discriminator_task_ignores_fakes_and_generator_task_ignores_reals():
    g, d = nets()
    method = SelfSupervisedGAN(g, d, "rotation", seed=1)
    real = torch.rand(8, 3, 28, 28) * 2 - 1
    fake = replay_fake(method, 8)
    _, logs = method.discriminator_loss(real, None)
    rotated, k = rotated_batch(real, "quarter")
    assert torch.allclose(logs["d_task"], F.cross_entropy(d.head("rotation", d.features(rotated)), k))
    # D's loss = the adversarial loss on upright real and fake + β·(rotation CE on rotated reals only)
    method.noise.set_state(method.noise.get_state())
    fake = replay_fake(method, 8)
    d_loss, _ = method.discriminator_loss(real, None)
    expected = losses.d_loss_ns(d(real), d(fake)) + F.cross_entropy(d.head("rotation", d.features(rotated)), k)
    assert torch.allclose(d_loss, expected, atol=1e-6)
    # G's loss does not depend on any real image: it takes none
    fake = replay_fake(method, 8)
    g_loss, logs = method.generator_loss(8, None)
    rotated_fake, k = rotated_batch(fake, "quarter")
    task = F.cross_entropy(d.head("rotation", d.features(rotated_fake)), k)
    assert torch.allclose(g_loss, losses.g_loss_ns(d(fake)) + 0.2 * task, atol=1e-6)


def test_rotated_images_never_reach_the_adversarial_head():
    g, d = nets()
    method = SelfSupervisedGAN(g, d, "minimax", seed=2)
    seen = []
    d.adversarial_head.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach().clone()))
    real = torch.rand(8, 3, 28, 28) * 2 - 1
    fake = replay_fake(method, 8)
    method.discriminator_loss(real, None)
    assert len(seen) == 2
    assert torch.equal(seen[0], d.features(real).detach()) and torch.allclose(seen[1], d.features(fake).detach())


def test_official_ms_losses_match_their_definitions():
    g, d = nets()
    method = SelfSupervisedGAN(g, d, "minimax", weight_d=1.0, weight_g=0.5, seed=3)
    assert d.heads["rotation"].out_features == 5 and method.generator_needs_real
    assert method.hparams()["rotation_scheme"] == "random"  # the official draw
    head = lambda x: d.head("rotation", d.features(x))  # noqa: E731
    real = torch.rand(8, 3, 28, 28) * 2 - 1
    state = method.noise.get_state()  # replay the draws the loss makes: the fake batch, then the mixed batch
    with torch.no_grad():
        fake = method.generator(method.sample_latent(8))
    mix = draw_ms_mix(8, method.noise)
    method.noise.set_state(state)
    d_loss, logs = method.discriminator_loss(real, None)
    images, targets = mixed_batch(real, fake, mix)
    expected_task = F.cross_entropy(head(images), targets)  # one 5-way CE over the mixed batch, weight 1
    assert torch.allclose(logs["d_task"], expected_task, atol=1e-6)
    assert torch.allclose(d_loss, losses.d_loss_ns(d(real), d(fake)) + expected_task, atol=1e-5)

    real_for_g = torch.rand(8, 3, 28, 28) * 2 - 1
    state = method.noise.get_state()
    fake = method.generator(method.sample_latent(8))
    draw = draw_rotations(8, "random", method.noise)
    method.noise.set_state(state)
    g_loss, logs = method.generator_loss(8, None, real_for_g)
    matching = (F.cross_entropy(head(apply_rotations(fake, draw)), draw.rotation)
                - F.cross_entropy(head(apply_rotations(real_for_g, draw)), draw.rotation)).abs()
    assert torch.allclose(g_loss, losses.g_loss_ns(d(fake)) + 0.5 * matching, atol=1e-5)
    with pytest.raises(ValueError, match="needs a real batch"):
        method.generator_loss(8, None)


def test_the_self_supervised_baseline_with_no_g_weight_is_the_rotation_loss_for_d_only():
    g, d = nets()
    baseline = SelfSupervisedGAN(g, d, "rotation", weight_g=0.0, seed=5)
    fake = replay_fake(baseline, 8)
    g_loss, logs = baseline.generator_loss(8, None)
    assert torch.allclose(g_loss, losses.g_loss_ns(d(fake)), atol=1e-6) and logs == {}


def test_reconstructed_ms_losses_match_their_definitions_and_train_the_head():
    g, d = nets()
    method = SelfSupervisedGAN(g, d, "minimax_reconstruction", weight_d=1.0, weight_g=0.5, seed=3)
    assert d.heads["rotation"].out_features == 5
    real = torch.rand(8, 3, 28, 28) * 2 - 1
    fake_adv = fake_task = replay_fake(method, 8)  # one fake batch serves both terms
    d_loss, logs = method.discriminator_loss(real, None)
    rotated_real, k = rotated_batch(real, "quarter")
    rotated_fake, _ = rotated_batch(fake_task, "quarter")
    head = lambda x: d.head("rotation", d.features(x))  # noqa: E731
    expected_task = losses.ms_discriminator_task(head(rotated_real), k, head(rotated_fake))
    assert torch.allclose(logs["d_task"], expected_task, atol=1e-6)
    assert torch.allclose(d_loss, losses.d_loss_ns(d(real), d(fake_adv)) + expected_task, atol=1e-5)
    optimizer = torch.optim.Adam(d.parameters(), 1e-3)
    before = d.heads["rotation"].weight.detach().clone()
    method.discriminator_step(real, None, optimizer)
    assert not torch.equal(before, d.heads["rotation"].weight)


def test_bad_options_are_refused_with_the_choices():
    with pytest.raises(ConfigError, match="rotation, minimax"):
        SelfSupervisedGAN(*nets(), "jigsaw")
    with pytest.raises(ConfigError, match="task='none'"):
        SelfSupervisedGAN(*nets(), "none", weight_g=0.1)


def test_stacked_mnist_batches_stack_three_independent_digits_and_resume():
    digits = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 4, 4).contiguous()
    labels = torch.arange(10)
    batches = StackedMNISTBatches(digits, labels, 8, value_range="unit", seed=0)
    images, modes = batches.next()
    assert images.shape == (8, 3, 4, 4)
    channel_digits = (images[:, :, 0, 0] * 255).round().long()
    assert torch.equal(channel_digits @ torch.tensor([100, 10, 1]), modes)
    state = batches.state_dict()
    after = batches.next()
    batches.load_state_dict(state)
    assert torch.equal(batches.next()[1], after[1])
    assert batches.describe()["shape"] == [3, 4, 4]
