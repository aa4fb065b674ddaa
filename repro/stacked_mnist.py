"""Stacked-MNIST (Metz et al. 2017; ms_gan.md §4.2): three MNIST digits in the R, G and B channels, 1,000 modes
100·r + 10·g + b. The digit pool, the on-the-fly sampler and its resumable batch stream, and fixed sets for
real-data metrics and figures."""

from __future__ import annotations

import os

import numpy as np
import torch

from .data import DeviceBatches, ImageDataset, balanced_labeled_subset, load_dataset
from .images import ValueRange, as_tensor, to_float

STACKED_MNIST_MODES = 1000


def stacked_mnist_label(digit_labels: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Mode label of stacked digits: 100·r + 10·g + b for per-channel digit labels of shape (N, 3)."""
    digits = as_tensor(digit_labels)
    if digits.ndim != 2 or digits.shape[1] != 3:
        raise ValueError(f"expected per-channel digit labels of shape (N, 3), got {tuple(digits.shape)}")
    weights = torch.tensor([100, 10, 1], dtype=digits.dtype, device=digits.device)
    return (digits * weights).sum(dim=1)


def sample_stacked_mnist(
    digits: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` Stacked-MNIST images: three independently drawn digits in the R, G and B channels.

    ``digits``: (N, 1, H, W) MNIST images (any dtype; on the device where the batch is wanted); ``labels``:
    (N,) digit labels on the same device. Returns images (n, 3, H, W) and mode labels (n,) in [0, 1000).
    ``generator`` must live on that device; the same seed gives the same images.
    """
    if digits.ndim != 4 or digits.shape[1] != 1:
        raise ValueError(f"expected MNIST digits of shape (N, 1, H, W), got {tuple(digits.shape)}")
    index = torch.randint(len(digits), (n, 3), generator=generator, device=digits.device)
    images = digits[index.flatten()].view(n, 3, *digits.shape[2:])
    return images, stacked_mnist_label(labels[index])


def make_stacked_mnist(mnist: ImageDataset, n: int, seed: int) -> ImageDataset:
    """A fixed Stacked-MNIST set of ``n`` images drawn with ``seed`` (for real-data metrics and figures)."""
    if mnist.shape[0] != 1:
        raise ValueError(f"Stacked-MNIST needs single-channel digits, got {mnist.shape}")
    generator = torch.Generator().manual_seed(seed)
    images, labels = sample_stacked_mnist(
        torch.from_numpy(mnist.images), torch.from_numpy(mnist.labels), n, generator
    )
    classes = tuple(f"{mode:03d}" for mode in range(STACKED_MNIST_MODES))
    return ImageDataset(
        "stacked_mnist", mnist.split, images.numpy(), labels.numpy(), classes, f"stacked:{mnist.source}:seed{seed}"
    )


def digit_pool(pool_size: int | None, data_dir: str | os.PathLike | None = None) -> ImageDataset:
    """The MNIST training digits Stacked-MNIST is drawn from: all, or a class-balanced subset (seed 0)."""
    mnist = load_dataset("mnist", "train", data_dir)
    if pool_size is None:
        return mnist
    index = balanced_labeled_subset(mnist.labels, pool_size, seed=0)
    return ImageDataset(mnist.name, mnist.split, mnist.images[index], mnist.labels[index], mnist.classes,
                        f"{mnist.source}:balanced{pool_size}:seed0")


class StackedMNISTBatches(DeviceBatches):
    """Stacked-MNIST minibatches drawn on the fly, as the MS-GAN code does (ms_gan.md §4.2): each image stacks
    three digits drawn independently and uniformly, with replacement, from the pool ``digits`` (N, 1, H, W) uint8
    into the R, G and B channels; labels are the mode ids 100·r + 10·g + b. Resumable like :class:`DeviceBatches`.
    """

    def __init__(
        self,
        digits: np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor,
        batch_size: int,
        *,
        device: str | torch.device = "cpu",
        value_range: ValueRange = "symmetric",
        seed: int = 0,
    ) -> None:
        if as_tensor(digits).ndim != 4 or as_tensor(digits).shape[1] != 1:
            raise ValueError(
                f"Stacked-MNIST is built from single-channel digits (N, 1, H, W), got {tuple(digits.shape)}"
            )
        super().__init__(digits, labels, batch_size, device=device, value_range=value_range, seed=seed)

    # The parent's epoch permutation is still drawn (and checkpointed) though never read: dropping it would change
    # the stream a seed gives, and with it every committed Stacked-MNIST run's batches.

    @property
    def batches_per_epoch(self) -> int:
        raise TypeError("Stacked-MNIST batches are drawn with replacement: the stream has no epochs; count "
                        "iterations instead")

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        images, modes = sample_stacked_mnist(self.images, self.labels, self.batch_size, self.generator)
        return to_float(images, self.value_range), modes

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "shape": [3, *self.images.shape[2:]], "stacked_mnist_pool": len(self.images)}
