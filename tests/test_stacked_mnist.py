"""repro.stacked_mnist: mode ids, the on-the-fly sampler, the digit pool and the batch stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repro import stacked_mnist


def test_stacked_label_is_100r_10g_b():
    assert stacked_mnist.stacked_mnist_label(torch.tensor([[1, 2, 3], [9, 0, 7], [0, 0, 0]])).tolist() == [123, 907, 0]
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        stacked_mnist.stacked_mnist_label(torch.zeros(4, 2, dtype=torch.long))


def test_stacked_channels_are_the_drawn_digits():
    # digit i is an image filled with the value i, so each channel tells which digit was drawn into it
    n_digits = 50
    digits = torch.arange(n_digits, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    labels = torch.arange(n_digits) % 10
    images, modes = stacked_mnist.sample_stacked_mnist(digits, labels, 400, torch.Generator().manual_seed(0))
    assert images.shape == (400, 3, 28, 28)
    drawn = images[:, :, 0, 0].long()
    assert torch.equal(images, drawn[:, :, None, None].expand_as(images).to(torch.uint8))
    assert torch.equal(modes, 100 * labels[drawn[:, 0]] + 10 * labels[drawn[:, 1]] + labels[drawn[:, 2]])
    # channels are drawn independently: not all three channels equal
    assert (drawn[:, 0] != drawn[:, 1]).float().mean() > 0.9


def test_stacked_sampling_is_seeded():
    digits = torch.randint(0, 256, (100, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(100) % 10
    a = stacked_mnist.sample_stacked_mnist(digits, labels, 64, torch.Generator().manual_seed(7))
    b = stacked_mnist.sample_stacked_mnist(digits, labels, 64, torch.Generator().manual_seed(7))
    c = stacked_mnist.sample_stacked_mnist(digits, labels, 64, torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_batches_stack_pool_digits_and_resume_exactly():
    digits = torch.arange(30, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).contiguous()
    batches = stacked_mnist.StackedMNISTBatches(digits, torch.arange(30) % 10, 8, value_range="unit", seed=3)
    images, modes = batches.next()
    assert images.shape == (8, 3, 4, 4) and modes.shape == (8,)
    state = batches.state_dict()
    following = batches.next()
    batches.load_state_dict(state)
    again = batches.next()
    assert torch.equal(following[0], again[0]) and torch.equal(following[1], again[1])
    batches.reseed(3)
    assert torch.equal(batches.next()[1], modes)  # a reseed draws the same stream again
    with pytest.raises(TypeError, match="no epochs"):
        assert batches.batches_per_epoch
    with pytest.raises(ValueError, match="single-channel"):
        stacked_mnist.StackedMNISTBatches(torch.zeros(4, 3, 2, 2, dtype=torch.uint8), torch.zeros(4), 2)


@pytest.mark.real_data
def test_real_stacked_mnist_covers_all_modes(real_dataset):
    stacked = stacked_mnist.make_stacked_mnist(real_dataset("mnist", "train"), 25_600, seed=0)
    counts = np.bincount(stacked.labels, minlength=1000)
    assert (counts > 0).sum() >= 995
    assert stacked.images.shape == (25_600, 3, 28, 28)
