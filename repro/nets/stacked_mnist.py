"""The Stacked-MNIST "K/4" and "K/2" nets of Unrolled GAN (Metz et al. 2017), as in MS-GAN's official code.

ms_gan.md §2.1; github tntrung/msgan, ``modules/net_dcgan.py`` (``*_dcgan_stacked_mnist``) and
``msdistgan_mnist1k.py`` (G width 8 for every K, D width 8 / K). Images are 3x28x28, lReLU slope 0.2.

* G (width g = 8): z(256) -> FC 4·4·8g, BN, ReLU -> deconv5/2 4g, BN, ReLU (8x8) -> crop to the top-left 7x7
  -> deconv5/2 2g (14x14) -> deconv5/2 g (28x28), each BN ReLU -> conv5/1 3
* D (width d = 2 for K/4, 4 for K/2): conv5/2 d (14x14) -> conv5/2 2d (7x7) -> conv5/2 4d (4x4), each lReLU,
  no BN -> flatten 64·d (128 for K/4, 256 for K/2) = the features
* E (Dist-GAN's encoder, width e = 8; ``encoder_dcgan_stacked_mnist``, net_dcgan.py l.170-184): conv5/2 e (14x14)
  -> 2e (7x7) -> 4e (4x4) -> 8e (2x2), each ReLU, no BN -> flatten 32·e = 256 -> FC -> latent_dim, no activation

[our reading] The official G ends in a sigmoid for images in [0, 1]. We default to tanh and [-1, 1], the range of
every other net here and of ``repro.images.to_float``; ``output_range="unit"`` gives the official setting.

BN after G's FC layer normalises each of the 4·4·8g FC outputs, as the official ``fc_bn_relu`` (net_dcgan.py
l.195-200); ``first_norm="per_channel"`` is the form used before (:func:`repro.nets.base.projection_bn_relu`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
from torch import nn

from ..errors import ConfigError
from ..images import ValueRange
from .base import (
    Discriminator,
    Encoder,
    FirstNorm,
    Generator,
    LatentDistribution,
    check_sizes,
    conv,
    conv_block,
    init_weights,
    projection_bn_relu,
)

StackedMNISTSize = Literal["K/4", "K/2"]
DISCRIMINATOR_WIDTHS: dict[str, int] = {"K/4": 2, "K/2": 4}
IMAGE_SHAPE = (3, 28, 28)


class TopLeftCrop(nn.Module):
    """The top-left corner, as the official G's ``y[:, :7, :7, :]``: (B, C, H, W) -> (B, C, size, size)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : self.size, : self.size]

    def extra_repr(self) -> str:
        return f"size={self.size}"


class StackedMNISTGenerator(Generator):
    """Unrolled-GAN Stacked-MNIST generator (module docstring): z (B, latent_dim) -> images (B, 3, 28, 28)."""

    def __init__(self, latent_dim: int = 256, width: int = 8, output_range: ValueRange = "symmetric",
                 latent_distribution: LatentDistribution = "normal", first_norm: FirstNorm = "per_unit") -> None:
        def up(c_in: int, c_out: int) -> nn.Sequential:
            return conv_block(c_in, c_out, 5, 2, activation=nn.ReLU(), transposed=True, batch_norm=True)

        body = nn.Sequential(
            *projection_bn_relu(latent_dim, 8 * width, 4, first_norm),
            up(8 * width, 4 * width),
            TopLeftCrop(7),
            up(4 * width, 2 * width),
            up(2 * width, width),
            conv(width, IMAGE_SHAPE[0], 5),
        )
        init_weights(body, "xavier")
        super().__init__(body, latent_dim, IMAGE_SHAPE, output_range, latent_distribution)


class StackedMNISTDiscriminator(Discriminator):
    """Unrolled-GAN Stacked-MNIST discriminator (module docstring): images (B, 3, 28, 28) -> features (B, 64·width)."""

    def __init__(self, width: int = 2, spectral_norm: bool = False) -> None:
        channels = [IMAGE_SHAPE[0], width, 2 * width, 4 * width]
        trunk = nn.Sequential(
            *(conv_block(c_in, c_out, 5, 2, activation=nn.LeakyReLU(0.2)) for c_in, c_out in pairwise(channels)),
            nn.Flatten(),
        )
        init_weights(trunk, "xavier")
        super().__init__(trunk, 4 * width * 4 * 4, spectral_norm=spectral_norm, init="xavier")


class StackedMNISTEncoder(Encoder):
    """Dist-GAN's Stacked-MNIST encoder (module docstring): images (B, 3, 28, 28) -> codes (B, latent_dim)."""

    def __init__(self, latent_dim: int = 256, width: int = 8) -> None:
        check_sizes(latent_dim=latent_dim, width=width)
        channels = [IMAGE_SHAPE[0], width, 2 * width, 4 * width, 8 * width]
        trunk = nn.Sequential(
            *(conv_block(c_in, c_out, 5, 2, activation=nn.ReLU()) for c_in, c_out in pairwise(channels)),
            nn.Flatten(),
        )
        init_weights(trunk, "xavier")
        super().__init__(trunk, 8 * width * 2 * 2, latent_dim, "xavier")


def stacked_mnist_nets(
    size: StackedMNISTSize = "K/4",
    latent_dim: int = 256,
    output_range: ValueRange = "symmetric",
    spectral_norm: bool = False,
    latent_distribution: LatentDistribution = "normal",
    first_norm: FirstNorm = "per_unit",
) -> tuple[StackedMNISTGenerator, StackedMNISTDiscriminator]:
    """The K/4 or K/2 pair: the same G (width 8), a D of width 2 (K/4) or 4 (K/2); no SN officially. The official
    (Dist-GAN) setting is ``output_range="unit"``, ``latent_distribution="symmetric_uniform"`` (z ~ U(-1, 1));
    ``first_norm`` is where G's first BN normalises (module docstring)."""
    if size not in DISCRIMINATOR_WIDTHS:
        raise ConfigError(f"Stacked-MNIST nets come in sizes {sorted(DISCRIMINATOR_WIDTHS)}, got {size!r}")
    check_sizes(latent_dim=latent_dim)
    generator = StackedMNISTGenerator(latent_dim, output_range=output_range, latent_distribution=latent_distribution,
                                      first_norm=first_norm)
    discriminator = StackedMNISTDiscriminator(DISCRIMINATOR_WIDTHS[size], spectral_norm)
    return generator, discriminator
