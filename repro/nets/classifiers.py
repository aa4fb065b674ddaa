"""The small CNN behind the offline scores (IS, AM Score, FID/KID features, Stacked-MNIST modes).

Layout after the fast CIFAR-10 trainers of the airbench family (Jordan 2024): a stem convolution, then three
blocks of [conv 3x3 -> max-pool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU], global max pooling and a bias-free
linear layer. Inputs are uint8-derived floats in [-1, 1]; the network standardises them with fixed per-channel
training-set statistics held as buffers, so generated and real images go through the same transform
(AM-GAN's code standardised each sample set with its own statistics; we do not, metrics.md §6).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _conv_bn(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.GELU(),
    ]


class ConvBlock(nn.Sequential):
    """conv -> max-pool 2 -> BN -> GELU -> conv -> BN -> GELU (pooling before BN halves its cost)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.MaxPool2d(2),
            nn.BatchNorm2d(out_channels),
            nn.GELU(),
            *_conv_bn(out_channels, out_channels),
        )


class ConvClassifier(nn.Module):
    """Image classifier with a penultimate feature layer.

    ``forward``: float (B, C, H, W) in [-1, 1] -> logits (B, num_classes).
    ``features``: the same input -> penultimate features (B, widths[-1]), used for FID and KID.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        widths: Sequence[int] = (24, 48, 128, 128),
        channel_mean: Sequence[float] | None = None,
        channel_std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths needs 4 entries (stem and three blocks), got {widths}")
        mean = torch.tensor(channel_mean or [0.0] * in_channels).view(1, -1, 1, 1)
        std = torch.tensor(channel_std or [1.0] * in_channels).view(1, -1, 1, 1)
        self.register_buffer("channel_mean", mean)
        self.register_buffer("channel_std", std)
        self.body = nn.Sequential(
            *_conv_bn(in_channels, widths[0]),
            ConvBlock(widths[0], widths[1]),
            ConvBlock(widths[1], widths[2]),
            ConvBlock(widths[2], widths[3]),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(widths[3], num_classes, bias=False)

    def standardise(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] pixels -> per-channel standardised inputs (fixed training-set statistics)."""
        return (images - self.channel_mean) / self.channel_std

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(self.standardise(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
