"""SNGAN networks (Miyato et al. 2018, Appendix B.4): the "standard CNN" (Table 3) and the ResNets (Tables 4, 5).

Standard CNN for H = 32 (bottom M = 4) or 48 (M = 6), G width g and D width d, both 64 by default:

* G: z(128) -> FC M·M·8g, BN, ReLU -> deconv4/2 4g -> 2g -> g, each BN ReLU -> conv3/1 C
* D: conv3/1 d, conv4/2 d, conv3/1 2d, conv4/2 2d, conv3/1 4d, conv4/2 4d, conv3/1 8d, each lReLU 0.1
  -> flatten M·M·8d (8192 at 32x32)

MS-GAN's official version doubles G (``generator_width=128``) and uses lReLU 0.2 and no SN in D (ms_gan.md §2.1).

ResNets as mimicry's SNGAN / SSGAN nets (github kwotsin/mimicry, ``nets/ssgan/ssgan_32.py``, ``ssgan_48.py``):

* 32x32 (Table 4, ngf 256, ndf 128). G: z(128) -> linear 4·4·256 -> up-blocks 256 (8, 16, 32) -> BN ReLU conv3 C.
  D: optimised block 128 (16) -> block 128 down (8) -> 2 blocks 128 (8) -> ReLU -> global sum pool -> 128.
* 48x48 (Table 5, ngf 512, ndf 1024). G: linear 6·6·512 -> up-blocks 256 (12), 128 (24), 64 (48) -> BN ReLU conv3 C.
  D: optimised block 64 (24) -> blocks down 128 (12), 256 (6), 512 (3) -> block 1024 (3) -> ReLU -> sum pool -> 1024.

Spectral norm on every D layer by default; D down-samples by 2x2 average pooling. Up-sampling is bilinear as in
mimicry (SNGAN's Chainer code and the MS-GAN code use nearest). [our reading] A D block's shortcut reads the
block's input x, as in the Chainer code; mimicry's in-place ReLU makes it read relu(x).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import NamedTuple

import torch
from torch import nn

from ..images import ValueRange
from .base import (
    Discriminator,
    Generator,
    LatentDistribution,
    check_sizes,
    conv,
    conv_block,
    init_weights,
    latent_projection,
    square_image_size,
)

SNGAN_CNN_SIZES = (32, 48)


class SNGANCNNGenerator(Generator):
    """SNGAN standard-CNN generator (Table 3): z (B, latent_dim) -> images (B, C, H, W), H = W = 32 or 48."""

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        latent_dim: int = 128,
        width: int = 64,
        output_range: ValueRange = "symmetric",
        latent_distribution: LatentDistribution = "normal",
    ) -> None:
        size = square_image_size(image_shape, SNGAN_CNN_SIZES, "SNGAN CNN")
        channels = [8 * width, 4 * width, 2 * width, width]
        body = nn.Sequential(
            latent_projection(latent_dim, channels[0], size // 8),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(),
            *(
                conv_block(c_in, c_out, 4, 2, activation=nn.ReLU(), transposed=True, batch_norm=True)
                for c_in, c_out in pairwise(channels)
            ),
            conv(width, image_shape[0], 3),
        )
        init_weights(body, "xavier")
        super().__init__(body, latent_dim, image_shape, output_range, latent_distribution)


class SNGANCNNDiscriminator(Discriminator):
    """SNGAN standard-CNN discriminator (Table 3): images (B, C, H, W) -> features (B, (H/8)²·8·width)."""

    def __init__(
        self, image_shape: tuple[int, int, int] = (3, 32, 32), width: int = 64, spectral_norm: bool = True
    ) -> None:
        size = square_image_size(image_shape, SNGAN_CNN_SIZES, "SNGAN CNN")
        layers = [  # (out channels, kernel size, stride)
            (width, 3, 1),
            (width, 4, 2),
            (2 * width, 3, 1),
            (2 * width, 4, 2),
            (4 * width, 3, 1),
            (4 * width, 4, 2),
            (8 * width, 3, 1),
        ]
        in_channels = [image_shape[0]] + [out for out, _, _ in layers[:-1]]
        trunk = nn.Sequential(
            *(
                conv_block(c_in, c_out, kernel, stride, activation=nn.LeakyReLU(0.1))
                for c_in, (c_out, kernel, stride) in zip(in_channels, layers, strict=True)
            ),
            nn.Flatten(),
        )
        init_weights(trunk, "xavier")
        feature_dim = 8 * width * (size // 8) ** 2
        super().__init__(trunk, feature_dim, spectral_norm=spectral_norm, init="xavier")


def sngan_cnn_nets(
    image_shape: tuple[int, int, int] = (3, 32, 32),
    latent_dim: int = 128,
    generator_width: int = 64,
    discriminator_width: int = 64,
    output_range: ValueRange = "symmetric",
    spectral_norm: bool = True,
    latent_distribution: LatentDistribution = "normal",
) -> tuple[SNGANCNNGenerator, SNGANCNNDiscriminator]:
    """A matching SNGAN standard-CNN pair (Table 3 widths; ``generator_width=128`` for MS-GAN's official G; the
    official Dist-GAN setting has no spectral norm, images in [0, 1] and z ~ U(-1, 1), ms_gan.md §1.9)."""
    check_sizes(latent_dim=latent_dim, generator_width=generator_width, discriminator_width=discriminator_width)
    generator = SNGANCNNGenerator(image_shape, latent_dim, generator_width, output_range, latent_distribution)
    discriminator = SNGANCNNDiscriminator(image_shape, discriminator_width, spectral_norm)
    return generator, discriminator


class ResidualBlock(nn.Module):
    """x -> residual(x) + shortcut(x) (He et al. 2016); SNGAN's G and D blocks differ only in the two paths.

    (B, in, H, W) -> (B, out, H', W'). Initialisation as SNGAN / mimicry: Xavier-uniform, gain sqrt(2) on the
    residual path and 1 on the shortcut.
    """

    def __init__(self, residual: nn.Sequential, shortcut: nn.Module) -> None:
        super().__init__()
        init_weights(residual, "xavier", gain=math.sqrt(2.0))
        init_weights(shortcut, "xavier")
        self.residual = residual
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


def generator_block(in_channels: int, out_channels: int) -> ResidualBlock:
    """G up-block: BN-ReLU-up2-conv3-BN-ReLU-conv3, shortcut up2-conv1. (B, in, H, W) -> (B, out, 2H, 2W)."""
    residual = nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        conv(in_channels, out_channels, 3),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        conv(out_channels, out_channels, 3),
    )
    shortcut = nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), conv(in_channels, out_channels, 1)
    )
    return ResidualBlock(residual, shortcut)


def discriminator_block(in_channels: int, out_channels: int, downsample: bool) -> ResidualBlock:
    """D block: ReLU-conv3-ReLU-conv3[-avgpool2]; shortcut conv1[-avgpool2] if it resizes, else identity.

    (B, in, H, W) -> (B, out, H/2, W/2) when ``downsample``, else (B, out, H, W). Hidden width = in_channels.
    """
    pool = [nn.AvgPool2d(2)] if downsample else []
    residual = nn.Sequential(
        nn.ReLU(), conv(in_channels, in_channels, 3), nn.ReLU(), conv(in_channels, out_channels, 3), *pool
    )
    resizes = downsample or in_channels != out_channels
    shortcut = nn.Sequential(conv(in_channels, out_channels, 1), *pool) if resizes else nn.Identity()
    return ResidualBlock(residual, shortcut)


def first_discriminator_block(in_channels: int, out_channels: int) -> ResidualBlock:
    """D's "optimised" first block: conv3-ReLU-conv3-avgpool2, shortcut avgpool2-conv1.

    (B, in, H, W) -> (B, out, H/2, W/2).
    """
    residual = nn.Sequential(
        conv(in_channels, out_channels, 3), nn.ReLU(), conv(out_channels, out_channels, 3), nn.AvgPool2d(2)
    )
    shortcut = nn.Sequential(nn.AvgPool2d(2), conv(in_channels, out_channels, 1))
    return ResidualBlock(residual, shortcut)


class GlobalSumPool(nn.Module):
    """SNGAN's global sum pooling: (B, C, H, W) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3))


class ResNetLayout(NamedTuple):
    """mimicry's per-resolution ResNet: widths as ngf >> shift (G) and ndf >> shift (D)."""

    bottom_size: int
    ngf: int  # G's channels at the bottom
    generator_shifts: tuple[int, ...]  # at the bottom, then after each up-block
    ndf: int  # D's channels in its last block
    discriminator_shifts: tuple[int, ...]  # after the optimised block, then after each block
    discriminator_downsamples: tuple[bool, ...]  # for each block after the optimised one


RESNET_LAYOUTS = {
    32: ResNetLayout(4, 256, (0, 0, 0, 0), 128, (0, 0, 0, 0), (True, False, False)),
    48: ResNetLayout(6, 512, (0, 1, 2, 3), 1024, (4, 3, 2, 1, 0), (True, True, True, False)),
}


def _resnet_layout(image_shape: tuple[int, int, int]) -> ResNetLayout:
    return RESNET_LAYOUTS[square_image_size(image_shape, RESNET_LAYOUTS, "SNGAN ResNet")]


class SNGANResNetGenerator(Generator):
    """SNGAN ResNet generator (Tables 4, 5; mimicry): z (B, latent_dim) -> images (B, C, H, W), H = W = 32 or 48.

    ``width`` is mimicry's ngf, G's channels at the bottom (default 256 at 32x32, 512 at 48x48).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        latent_dim: int = 128,
        width: int | None = None,
        output_range: ValueRange = "symmetric",
    ) -> None:
        layout = _resnet_layout(image_shape)
        channels = [(layout.ngf if width is None else width) >> shift for shift in layout.generator_shifts]
        projection = latent_projection(latent_dim, channels[0], layout.bottom_size)
        to_image = conv(channels[-1], image_shape[0], 3)
        init_weights(projection, "xavier")
        init_weights(to_image, "xavier")
        body = nn.Sequential(
            projection,
            *(generator_block(c_in, c_out) for c_in, c_out in pairwise(channels)),
            nn.BatchNorm2d(channels[-1]),
            nn.ReLU(),
            to_image,
        )
        super().__init__(body, latent_dim, image_shape, output_range)


class SNGANResNetDiscriminator(Discriminator):
    """SNGAN ResNet discriminator (Tables 4, 5; mimicry): images (B, C, H, W) -> sum-pooled features (B, ndf).

    ``width`` is mimicry's ndf, the channels of D's last block (default 128 at 32x32, 1024 at 48x48).
    """

    def __init__(
        self, image_shape: tuple[int, int, int] = (3, 32, 32), width: int | None = None, spectral_norm: bool = True
    ) -> None:
        layout = _resnet_layout(image_shape)
        channels = [(layout.ndf if width is None else width) >> shift for shift in layout.discriminator_shifts]
        trunk = nn.Sequential(
            first_discriminator_block(image_shape[0], channels[0]),
            *(
                discriminator_block(c_in, c_out, downsample)
                for (c_in, c_out), downsample in zip(pairwise(channels), layout.discriminator_downsamples, strict=True)
            ),
            nn.ReLU(),
            GlobalSumPool(),
        )
        super().__init__(trunk, channels[-1], spectral_norm=spectral_norm, init="xavier")


def sngan_resnet_nets(
    image_shape: tuple[int, int, int] = (3, 32, 32),
    latent_dim: int = 128,
    generator_width: int | None = None,
    discriminator_width: int | None = None,
    output_range: ValueRange = "symmetric",
    spectral_norm: bool = True,
) -> tuple[SNGANResNetGenerator, SNGANResNetDiscriminator]:
    """A matching SNGAN ResNet pair; widths default to mimicry's ngf / ndf for the image size."""
    check_sizes(latent_dim=latent_dim, generator_width=generator_width, discriminator_width=discriminator_width)
    generator = SNGANResNetGenerator(image_shape, latent_dim, generator_width, output_range)
    discriminator = SNGANResNetDiscriminator(image_shape, discriminator_width, spectral_norm)
    return generator, discriminator
