"""MS-GAN's self-supervised task as its authors' code computes it (ms_gan.md §1.1, §1.6): the mixed 5-way D batch
of rotated reals and upright fakes, drawn n of 5n; the |CE_fake − CE_real| G term, absolute value after the batch
means; each against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from repro import losses
from repro.rotation import MixDraw, draw_ms_mix, mixed_batch, rotate


def test_the_mixed_batch_holds_rotated_reals_labelled_by_rotation_and_upright_fakes_labelled_generated():
    real = torch.arange(3 * 1 * 2 * 2, dtype=torch.float32).view(3, 1, 2, 2)
    fake = -torch.arange(1, 3 * 1 * 2 * 2 + 1, dtype=torch.float32).view(3, 1, 2, 2)
    # of the 15 items (k·3 + i: real i under T_k; 12 + i: fake i), keep 4 (real 1, T_0), 7 (real 1, T_2),
    # 13 (fake 1) and 11 (real 2, T_3)
    images, labels = mixed_batch(real, fake, MixDraw(torch.tensor([4, 7, 13])))
    assert labels.tolist() == [1, 2, 4]
    assert torch.equal(images[0], rotate(real[1:2], 1)[0])
    assert torch.equal(images[1], rotate(real[1:2], 2)[0])
    assert torch.equal(images[2], fake[1])  # fakes are not rotated
    images, labels = mixed_batch(real, fake, MixDraw(torch.tensor([11, 0, 14])))
    assert labels.tolist() == [3, 0, 4] and torch.equal(images[0], rotate(real[2:3], 3)[0])
    assert torch.equal(images[2], fake[2])
    with pytest.raises(ValueError, match="one shape"):
        mixed_batch(real, fake[:2], MixDraw(torch.tensor([0])))


def test_the_draw_keeps_n_distinct_items_of_5n_so_about_a_fifth_are_fakes():
    generator = torch.Generator().manual_seed(0)
    draws = [draw_ms_mix(64, generator) for _ in range(300)]
    for draw in draws[:5]:
        assert len(draw.kept) == 64 and len(set(draw.kept.tolist())) == 64 and int(draw.kept.max()) < 320
    fakes = torch.stack([draw.labels(64) == 4 for draw in draws]).float().mean().item()
    assert fakes == pytest.approx(0.2, abs=0.01)  # hypergeometric: 64 of 320 with 64 fakes, mean 1/5
    again = draw_ms_mix(64, torch.Generator().manual_seed(0))
    assert torch.equal(again.kept, draws[0].kept)  # a seeded draw, so a resumed run draws the same


def test_the_discriminator_term_is_one_five_way_cross_entropy_mean():
    logits = torch.tensor([[2.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 4])
    by_hand = -(math.log(math.exp(2) / (math.exp(2) + 4)) + math.log(math.e / (math.e + 4))) / 2
    assert losses.ms_mixed_cross_entropy(logits, labels).item() == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match="5-way head"):
        losses.ms_mixed_cross_entropy(torch.zeros(2, 4), torch.tensor([0, 1]))


def test_the_generator_term_matches_the_classifiers_loss_on_reals_absolute_after_the_means():
    rotations = torch.tensor([0, 1])
    fake = torch.zeros(2, 5, requires_grad=True)  # CE = log 5 for each row
    real = torch.tensor([[3.0, 0, 0, 0, 0], [0, 3.0, 0, 0, 0]], requires_grad=True)  # CE = log(4 + e^3) − 3
    ce_fake, ce_real = math.log(5), math.log(4 + math.exp(3)) - 3
    value = losses.ms_generator_matching(fake, real, rotations)
    assert value.item() == pytest.approx(abs(ce_fake - ce_real), rel=1e-6)
    value.backward()
    assert real.grad is None  # the real term is a constant for G
    # sign(CE_fake − CE_real) · ∂CE_fake: here CE_fake > CE_real, so the gradient is that of CE_fake itself
    expected = torch.full((2, 5), 0.2 / 2)
    expected[0, 0] -= 0.5
    expected[1, 1] -= 0.5
    assert torch.allclose(fake.grad, expected, atol=1e-6)
    # absolute value after the means: rows whose CEs straddle the real one do not each count |.|
    mixed = torch.tensor([[5.0, 0, 0, 0, 0], [0, -5.0, 0, 0, 0]])
    per_row = torch.nn.functional.cross_entropy(mixed, rotations, reduction="none")
    reals = torch.nn.functional.cross_entropy(real.detach(), rotations)
    assert losses.ms_generator_matching(mixed, real, rotations).item() == pytest.approx(
        abs(per_row.mean() - reals).item(), rel=1e-6)
    assert losses.ms_generator_matching(mixed, real, rotations).item() < (per_row - reals).abs().mean().item()
    assert losses.ms_generator_matching(real.detach(), real, rotations).item() == 0  # bounded below by 0
