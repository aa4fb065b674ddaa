"""DCGAN generator and discriminator (Radford et al. 2016) for 28x28 and 32x32 images, with base width w.

32x32, MS-GAN's official DCGAN-CNN (ms_gan.md §2.1; github tntrung/msgan, ``modules/net_dcgan.py``), w = 64:

* G: z -> FC 2·2·8w, BN, ReLU -> deconv5/2 4w (4x4) -> 2w (8x8) -> w (16x16), each BN ReLU -> deconv5/2 C (32x32)
* D: conv5/2 w, lReLU (16x16) -> conv5/2 2w (8x8) -> 4w (4x4) -> 8w (2x2), each [BN] lReLU -> flatten 2·2·8w = 2048

28x28 (1 or 3 channels), our reading of MMGAN's MNIST nets (mmgan.md §2), 4x4 kernels, w = 64:

* G: z -> FC 7·7·2w, BN, ReLU -> deconv4/2 w, BN, ReLU (14x14) -> deconv4/2 C (28x28)
* D: conv4/2 w, lReLU (14x14) -> conv4/2 2w, [BN], lReLU (7x7) -> flatten 7·7·2w = 6272

E (Dist-GAN's encoder, 32x32 only; ``encoder_dcgan_cifar``, github tntrung/msgan ``modules/net_dcgan.py``
l.93-108, also used for the SNGAN-CNN nets, msdistgan.py l.187-190): D's trunk with BN, conv5/2 w, lReLU -> 2w ->
4w -> 8w, each BN lReLU -> flatten 2·2·8w -> FC -> latent_dim, no activation.

lReLU slope 0.2. As in DCGAN, D's first layer has no BN; ``batch_norm=False`` drops the others too (MMGAN's
reading, mmgan.md §2). The features are the flattened last feature map. BN after G's FC layer normalises each FC
output, as the TF code's ``fc_bn_relu``; ``first_norm="per_channel"`` is the form used before
(:func:`repro.nets.base.projection_bn_relu`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

from torch import nn

from ..images import ValueRange
from .base import (
    Discriminator,
    Encoder,
    FirstNorm,
    Generator,
    InitScheme,
    LatentDistribution,
    check_sizes,
    conv,
    conv_block,
    init_weights,
    projection_bn_relu,
    square_image_size,
)


class DCGANLayout(NamedTuple):
    """Where a DCGAN starts and how it grows, per image size."""

    bottom_size: int  # spatial size of G's first and D's last feature map
    stages: int  # stride-2 (de)convolutions
    kernel_size: int


DCGAN_LAYOUTS = {
    28: DCGANLayout(bottom_size=7, stages=2, kernel_size=4),
    32: DCGANLayout(bottom_size=2, stages=4, kernel_size=5),
}


def _layout(image_shape: tuple[int, int, int]) -> DCGANLayout:
    return DCGAN_LAYOUTS[square_image_size(image_shape, DCGAN_LAYOUTS, "DCGAN")]


class DCGANGenerator(Generator):
    """DCGAN generator (module docstring): z (B, latent_dim) -> images (B, C, H, W), H = W = 28 or 32."""

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        latent_dim: int = 100,
        width: int = 64,
        output_range: ValueRange = "symmetric",
        init: InitScheme = "dcgan",
        latent_distribution: LatentDistribution = "normal",
        first_norm: FirstNorm = "per_unit",
    ) -> None:
        layout = _layout(image_shape)
        kernel = layout.kernel_size
        channels = [width * 2**i for i in reversed(range(layout.stages))]  # 32x32: 8w, 4w, 2w, w
        body = nn.Sequential(
            *projection_bn_relu(latent_dim, channels[0], layout.bottom_size, first_norm),
            *(
                conv_block(c_in, c_out, kernel, 2, activation=nn.ReLU(), transposed=True, batch_norm=True)
                for c_in, c_out in pairwise(channels)
            ),
            conv(channels[-1], image_shape[0], kernel, 2, transposed=True),
        )
        init_weights(body, init)
        super().__init__(body, latent_dim, image_shape, output_range, latent_distribution)


class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator (module docstring): images (B, C, H, W) -> features (B, bottom²·2^(stages-1)·w)."""

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        width: int = 64,
        batch_norm: bool = True,
        spectral_norm: bool = False,
        init: InitScheme = "dcgan",
    ) -> None:
        layout = _layout(image_shape)
        channels = [image_shape[0], *(width * 2**i for i in range(layout.stages))]  # 32x32: C, w, 2w, 4w, 8w
        trunk = nn.Sequential(
            *(
                conv_block(
                    c_in, c_out, layout.kernel_size, 2, activation=nn.LeakyReLU(0.2), batch_norm=batch_norm and i > 0
                )
                for i, (c_in, c_out) in enumerate(pairwise(channels))
            ),
            nn.Flatten(),
        )
        init_weights(trunk, init)
        feature_dim = channels[-1] * layout.bottom_size**2
        super().__init__(trunk, feature_dim, spectral_norm=spectral_norm, init=init)


class DCGANEncoder(Encoder):
    """Dist-GAN's DCGAN encoder (module docstring), 32x32 only: images (B, C, 32, 32) -> codes (B, latent_dim)."""

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        latent_dim: int = 128,
        width: int = 64,
        init: InitScheme = "xavier",
    ) -> None:
        check_sizes(latent_dim=latent_dim, width=width)
        square_image_size(image_shape, (32,), "The DCGAN encoder")
        layout = DCGAN_LAYOUTS[32]
        channels = [image_shape[0], *(width * 2**i for i in range(layout.stages))]  # C, w, 2w, 4w, 8w
        trunk = nn.Sequential(
            *(
                conv_block(c_in, c_out, layout.kernel_size, 2, activation=nn.LeakyReLU(0.2), batch_norm=i > 0)
                for i, (c_in, c_out) in enumerate(pairwise(channels))
            ),
            nn.Flatten(),
        )
        init_weights(trunk, init)
        super().__init__(trunk, channels[-1] * layout.bottom_size**2, latent_dim, init)


def dcgan_nets(
    image_shape: tuple[int, int, int] = (3, 32, 32),
    latent_dim: int = 100,
    width: int = 64,
    output_range: ValueRange = "symmetric",
    batch_norm: bool = True,
    spectral_norm: bool = False,
    init: InitScheme = "dcgan",
    latent_distribution: LatentDistribution = "normal",
    first_norm: FirstNorm = "per_unit",
) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    """A matching DCGAN pair. z is 100-d as in DCGAN and MMGAN's reading; MS-GAN's DCGAN-CNN uses 128 and
    z ~ U(-1, 1) (``latent_distribution="symmetric_uniform"``); ``first_norm``: G's first BN (module docstring)."""
    check_sizes(latent_dim=latent_dim, width=width)
    generator = DCGANGenerator(image_shape, latent_dim, width, output_range, init, latent_distribution, first_norm)
    discriminator = DCGANDiscriminator(image_shape, width, batch_norm, spectral_norm, init)
    return generator, discriminator
