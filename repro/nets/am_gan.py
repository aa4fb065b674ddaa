"""AM-GAN's networks (Zhou et al. 2018; the reproduce repository's defaults, am_gan.md §2).

Every conv, deconv and linear layer is weight-normalised with data-dependent init and a trainable gain; BN
always uses the batch's statistics (the code keeps no running averages); D adds input noise (σ 0.1) and
dropout 0.3 after every block, and ends in K + 1 logits (K classes and its own real logit; the fake logit is
the constant 0). Initialise with :func:`repro.nets.improved_gan.data_dependent_init` on 100 latents (G) and
100 real images (D), as the code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .improved_gan import GaussianNoise, WeightNormConv2d, WeightNormConvTranspose2d, WeightNormLinear


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    """BN with batch statistics in every mode (the code never uses moving averages), ε 1e-3 as TF's."""
    return nn.BatchNorm2d(channels, eps=1e-3, track_running_stats=False)


class AMGANGenerator(nn.Module):
    """z ∈ R^100 ~ N(0, I) (plus a one-hot class when ``conditional``, the predefined labeling) -> WN linear
    4·4·8w -> BN, lrelu -> three 3x3 stride-2 WN deconvs (4w, 2w, w; BN, lrelu) -> 3x3 stride-1 WN deconv ->
    tanh. w = 96 in the code (768, 384, 192, 96 channels; about 4.7M parameters)."""

    latent_distribution = "normal"
    output_range = "symmetric"

    def __init__(self, latent_dim: int = 100, width: int = 96, channels: int = 3, num_classes: int = 10,
                 conditional: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.width, self.num_classes, self.conditional = latent_dim, width, num_classes, conditional
        self.image_shape = (channels, 32, 32)
        widths = (8 * width, 4 * width, 2 * width, width)
        self.dense = WeightNormLinear(latent_dim + (num_classes if conditional else 0), widths[0] * 16,
                                      train_gain=True)
        self.dense_norm = _batch_norm(widths[0])
        blocks: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            blocks += [WeightNormConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1,
                                                 train_gain=True), _batch_norm(c_out), nn.LeakyReLU(0.2)]
        self.blocks = nn.Sequential(*blocks)
        self.output = WeightNormConvTranspose2d(width, channels, 3, stride=1, padding=1, train_gain=True)

    def forward(self, z: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            if classes is None:
                raise ValueError("this generator is conditional (predefined labeling): call it as G(z, classes)")
            z = torch.cat([z, F.one_hot(classes, self.num_classes).to(z.dtype)], dim=1)
        h = self.dense(z).view(-1, 8 * self.width, 4, 4)
        h = F.leaky_relu(self.dense_norm(h), 0.2)
        return torch.tanh(self.output(self.blocks(h)))


class AMGANDiscriminator(nn.Module):
    """Input + N(0, 0.1²) -> 3x3 WN convs w (stride 1), 2w, 4w, 8w (stride 2), each BN, lrelu, dropout 0.3
    [-> one more stride-1 8w block when ``extra_block``: the predefined runs' stronger D] -> 4x4 average pool ->
    dropout -> WN linear to K + 1 logits (K classes, then the real logit). w = 64 in the code (about 1.56M
    parameters); the "enhanced" AM-GAN uses w = 96. ``forward`` -> logits (B, K + 1)."""

    def __init__(self, num_classes: int = 10, width: int = 64, channels: int = 3, extra_block: bool = False,
                 input_noise: float = 0.1, dropout: float = 0.3) -> None:
        super().__init__()
        self.num_classes = num_classes
        widths = (width, 2 * width, 4 * width, 8 * width)
        layers: list[nn.Module] = [GaussianNoise(input_noise)]
        c_in = channels
        for i, c_out in enumerate(widths):
            layers += self._block(c_in, c_out, stride=1 if i == 0 else 2, dropout=dropout)
            c_in = c_out
        if extra_block:
            layers += self._block(c_in, c_in, stride=1, dropout=dropout)
        self.body = nn.Sequential(*layers)
        self.head_dropout = nn.Dropout(dropout)
        self.output = WeightNormLinear(c_in, num_classes + 1, train_gain=True)

    @staticmethod
    def _block(c_in: int, c_out: int, stride: int, dropout: float) -> list[nn.Module]:
        return [WeightNormConv2d(c_in, c_out, 3, stride, 1, train_gain=True), _batch_norm(c_out),
                nn.LeakyReLU(0.2), nn.Dropout(dropout)]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.body(images).mean(dim=(2, 3))
        return self.output(self.head_dropout(features))
