"""The interfaces every GAN network implements, and the layer helpers that the families share.

A :class:`Generator` maps latents (B, latent_dim) to images (B, C, H, W) in [-1, 1] (``"symmetric"``, tanh) or
[0, 1] (``"unit"``, sigmoid), the two ranges of :func:`repro.images.to_float`. A :class:`Discriminator` is a trunk
giving the penultimate features (B, feature_dim), plus linear heads on them: the adversarial head (``forward``,
logits (B,)) and named extra heads (``add_head``) for K-class logits (AM-GAN) or rotation logits (SSGAN 4-way,
MS-GAN 5-way). A method calls ``features`` once and applies every head it needs to the result.

Weight initialisation (:func:`init_weights`), per family; layers are initialised before spectral norm is applied:

* DCGAN (``dcgan.py``): ``"dcgan"``, N(0, 0.02) (Radford et al. 2016, §4). MS-GAN's official DCGAN nets use
  ``"xavier"`` (github tntrung/msgan, ``modules/ops.py``).
* SNGAN standard CNN and ResNet (``sngan.py``): ``"xavier"`` as mimicry; the 3x3 convs of residual paths use
  gain sqrt(2) (github kwotsin/mimicry, ``modules/resblocks.py``).
* Stacked-MNIST (``stacked_mnist.py``): ``"xavier"``, as the official MS-GAN code (``modules/ops.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from typing import Literal, TypeVar

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import ConfigError
from ..images import ValueRange
from .small_maps import SmallMapConv2d, SmallMapConvTranspose2d

InitScheme = Literal["dcgan", "xavier"]
ModuleT = TypeVar("ModuleT", bound=nn.Module)
_WEIGHTED_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def output_activation(output_range: ValueRange) -> nn.Module:
    """tanh for images in [-1, 1] (``"symmetric"``), sigmoid for images in [0, 1] (``"unit"``)."""
    if output_range == "symmetric":
        return nn.Tanh()
    if output_range == "unit":
        return nn.Sigmoid()
    raise ConfigError(f"output_range must be 'symmetric' (tanh) or 'unit' (sigmoid), got {output_range!r}")


def init_weights(module: nn.Module, scheme: InitScheme, gain: float = 1.0) -> None:
    """Re-initialise every conv / linear layer in ``module`` in place, biases to zero.

    ``"dcgan"``: weights N(0, 0.02) and BN scales N(1, 0.02) (Radford et al. 2016, §4; pytorch/examples dcgan).
    ``"xavier"``: Glorot-uniform weights scaled by ``gain`` (Glorot & Bengio 2010), BN left at (1, 0).
    """
    if scheme not in ("dcgan", "xavier"):
        raise ConfigError(f"init must be 'dcgan' or 'xavier', got {scheme!r}")
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED_LAYERS):
            if parametrize.is_parametrized(layer, "weight"):
                raise ConfigError(f"initialise {layer} before applying spectral norm to it, not after")
            if scheme == "dcgan":
                nn.init.normal_(layer.weight, 0.0, 0.02)
            else:
                nn.init.xavier_uniform_(layer.weight, gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and scheme == "dcgan":
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def spectral_norm_if(module: ModuleT, enabled: bool) -> ModuleT:
    """Spectrally normalise every conv / linear layer in ``module`` when ``enabled`` (Miyato et al. 2018, Eq. 8).

    torch's parametrisation: one power iteration per forward in training mode, the stored estimate in eval mode.
    Layers that are already normalised are left alone. Returns ``module`` itself.
    """
    if enabled:
        layers = [m for m in module.modules() if isinstance(m, _WEIGHTED_LAYERS)]
        for layer in layers:
            if not parametrize.is_parametrized(layer, "weight"):
                spectral_norm(layer)
    return module


def conv(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, *, transposed: bool = False
) -> nn.Conv2d | nn.ConvTranspose2d:
    """A conv with TF "SAME" output sizes: H -> ceil(H / stride), or H -> H * stride when ``transposed``.

    (B, in_channels, H, W) -> (B, out_channels, H', W'). Even kernels need even H. Padding is symmetric,
    (kernel_size - 1) // 2, so the sampling grid may sit one pixel off TF's asymmetric padding (am_gan.md §2).
    """
    padding = (kernel_size - 1) // 2
    # torch's layers, except that on tiny maps under CPU bf16 autocast they run as matmuls (small_maps.py)
    if not transposed:
        return SmallMapConv2d(in_channels, out_channels, kernel_size, stride, padding)
    output_padding = stride + 2 * padding - kernel_size
    if not 0 <= output_padding < stride:
        raise ConfigError(f"a transposed {kernel_size}x{kernel_size} conv cannot multiply sizes by stride {stride}")
    return SmallMapConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding, output_padding)


def conv_block(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    *,
    activation: nn.Module,
    transposed: bool = False,
    batch_norm: bool = False,
) -> nn.Sequential:
    """conv -> [BN] -> activation, the unit of every plain conv stack: (B, in, H, W) -> (B, out, H', W')."""
    layers = [conv(in_channels, out_channels, kernel_size, stride, transposed=transposed)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*layers, activation)


def latent_projection(latent_dim: int, channels: int, size: int) -> nn.Sequential:
    """The first layer of every generator: linear, then reshape. (B, latent_dim) -> (B, channels, size, size)."""
    return nn.Sequential(nn.Linear(latent_dim, channels * size * size), nn.Unflatten(1, (channels, size, size)))


FirstNorm = Literal["per_unit", "per_channel"]
FIRST_NORMS: tuple[str, ...] = ("per_unit", "per_channel")


def check_first_norm(first_norm: str) -> None:
    """A ConfigError naming the choices unless ``first_norm`` is one of :data:`FIRST_NORMS`."""
    if first_norm not in FIRST_NORMS:
        raise ConfigError(f"generator first_norm must be one of {', '.join(FIRST_NORMS)}, got {first_norm!r}")


def projection_bn_relu(latent_dim: int, channels: int, size: int,
                       first_norm: FirstNorm = "per_unit") -> list[nn.Module]:
    """A DCGAN-style generator's first layers, (B, latent_dim) -> (B, channels, size, size): the FC layer, BN, ReLU,
    as a list to splice into the generator's body (the per-channel form keeps its earlier state-dict keys).

    ``"per_unit"`` is the TF codes' ``fc_bn_relu`` (github tntrung/msgan ``modules/net_dcgan.py``; DCGAN's own code
    too): a bias-free FC whose ``channels·size²`` outputs are each normalised over the batch, then the reshape.
    ``"per_channel"`` is the form this repository used before (FC with bias, reshape, BatchNorm2d over batch and
    positions): the FC biases then make a z-independent spatial template that counts in each channel's variance,
    so normalisation shrinks the part of the output that depends on z."""
    check_first_norm(first_norm)
    if first_norm == "per_unit":  # BN's shift replaces the bias
        units = channels * size * size
        return [nn.Linear(latent_dim, units, bias=False), nn.BatchNorm1d(units), nn.ReLU(),
                nn.Unflatten(1, (channels, size, size))]
    return [latent_projection(latent_dim, channels, size), nn.BatchNorm2d(channels), nn.ReLU()]


def check_sizes(**sizes: int | None) -> None:
    """Raise a ConfigError naming every size (``width=...``, ``latent_dim=...``) that is not a positive integer;
    None means "the default" and passes. Builders call it first, so a bad override fails with its name rather
    than deep inside torch."""
    bad = [f"{name}={value!r}" for name, value in sizes.items()
           if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1)]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: network sizes must be positive integers")


def square_image_size(image_shape: tuple[int, int, int], supported: Collection[int], family: str) -> int:
    """H of a (C, H, W) image shape with H == W, checked against the sizes that a network family supports."""
    _, height, width = image_shape
    if height != width or height not in supported:
        raise ConfigError(
            f"{family} nets take square images of size {sorted(supported)}, got (C, H, W) = {image_shape}"
        )
    return height


LatentDistribution = Literal["normal", "uniform", "symmetric_uniform"]
LATENT_DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "symmetric_uniform")


class Generator(nn.Module):
    """Latents (B, latent_dim) -> images (B, *image_shape): ``body``, then the activation of ``output_range``.

    ``latent_distribution`` (default: the class's, N(0, I)) is what :func:`draw_latents` draws for this network.
    """

    latent_distribution: LatentDistribution = "normal"

    def __init__(
        self, body: nn.Module, latent_dim: int, image_shape: tuple[int, int, int], output_range: ValueRange,
        latent_distribution: LatentDistribution | None = None,
    ) -> None:
        super().__init__()
        if latent_distribution is not None:
            if latent_distribution not in LATENT_DISTRIBUTIONS:
                raise ConfigError(f"latent_distribution must be one of {', '.join(LATENT_DISTRIBUTIONS)}, got "
                                  f"{latent_distribution!r}")
            self.latent_distribution = latent_distribution
        self.body = body
        self.output_activation = output_activation(output_range)
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.output_range = output_range

    def sample_latent(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> torch.Tensor:
        """n latents in this network's latent distribution (:func:`draw_latents`), shape (n, latent_dim), from the
        CPU generator ``generator`` (default: torch's), on ``device`` (default: the device of the parameters)."""
        if device is None:
            device = next(self.parameters()).device
        return draw_latents(self, n, generator or torch.default_generator).to(device)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, C, H, W) images in the range of ``output_range``."""
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape (B, {self.latent_dim}), got {tuple(latents.shape)}")
        return self.output_activation(self.body(latents))


class Discriminator(nn.Module):
    """Images (B, C, H, W) -> ``trunk`` -> features (B, feature_dim) -> linear heads.

    ``forward`` gives the adversarial logits (B,). Extra heads registered with :meth:`add_head` read the same
    features. With ``spectral_norm`` every conv / linear layer of the trunk and of every head is normalised.
    """

    def __init__(self, trunk: nn.Module, feature_dim: int, *, spectral_norm: bool, init: InitScheme) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.spectral_norm = spectral_norm
        self.init = init
        self.trunk = spectral_norm_if(trunk, spectral_norm)
        self.adversarial_head = self._linear_head(1)
        self.heads = nn.ModuleDict()

    def _linear_head(self, out_features: int) -> nn.Linear:
        head = nn.Linear(self.feature_dim, out_features)
        init_weights(head, self.init)
        return spectral_norm_if(head, self.spectral_norm)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The penultimate representation: (B, C, H, W) -> (B, feature_dim)."""
        return self.trunk(images)

    def adversarial_logits(self, features: torch.Tensor) -> torch.Tensor:
        """The real/fake logit from features: (B, feature_dim) -> (B,)."""
        return self.adversarial_head(features).squeeze(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Adversarial logits: (B, C, H, W) -> (B,)."""
        return self.adversarial_logits(self.features(images))

    def add_head(self, name: str, out_features: int) -> nn.Linear:
        """Register a linear head (B, feature_dim) -> (B, out_features) under ``name``, e.g. K-class or rotation logits.

        Add heads before building D's optimiser, so that the optimiser sees their parameters.
        """
        if name in self.heads:
            raise ConfigError(f"the discriminator already has a head {name!r}; pick another name")
        reference = next(self.parameters())
        self.heads[name] = self._linear_head(out_features).to(device=reference.device, dtype=reference.dtype)
        return self.heads[name]

    def head(self, name: str, features: torch.Tensor) -> torch.Tensor:
        """Logits of the extra head ``name``: (B, feature_dim) -> (B, out_features)."""
        if name not in self.heads:
            raise ConfigError(f"no head {name!r}: add it with add_head(name, out_features); have {sorted(self.heads)}")
        return self.heads[name](features)


@contextlib.contextmanager
def sampling_mode(generator: nn.Module, bn_mode: Literal["eval", "train"]) -> Iterator[nn.Module]:
    """Run ``generator`` with BN in ``bn_mode`` for sampling, then restore its mode and every buffer.

    "eval" uses the running statistics; "train" uses each batch's statistics (as the MS-GAN and AM-GAN code
    sample) without letting the running statistics drift.
    """
    if bn_mode not in ("eval", "train"):
        raise ConfigError(f"bn_mode must be 'eval' or 'train', got {bn_mode!r}")
    was_training = generator.training
    saved = {name: buffer.clone() for name, buffer in generator.named_buffers()}
    generator.train(bn_mode == "train")
    try:
        yield generator
    finally:
        generator.train(was_training)
        for name, buffer in generator.named_buffers():
            buffer.copy_(saved[name])


def draw_latents(generator: nn.Module, n: int, rng: torch.Generator, latent_dim: int | None = None) -> torch.Tensor:
    """n latents (n, latent_dim) for ``generator`` from the CPU generator ``rng``, so the same seed gives the same
    latents on any device: N(0, I), or U[0, 1) when the network declares ``latent_distribution = "uniform"``
    (Improved-GAN's MNIST generator, Theano's default), or U[-1, 1) for ``"symmetric_uniform"`` (Dist-GAN and
    MS-GAN's official code, ms_gan.md §3.1). ``latent_dim`` defaults to ``generator.latent_dim``."""
    shape = (n, latent_dim or generator.latent_dim)
    distribution = getattr(generator, "latent_distribution", "normal")
    if distribution == "uniform":
        return torch.rand(shape, generator=rng)
    if distribution == "symmetric_uniform":
        return torch.rand(shape, generator=rng) * 2 - 1
    return torch.randn(shape, generator=rng)


class Encoder(nn.Module):
    """Images (B, C, H, W) -> latent codes (B, latent_dim): ``trunk`` (flattened features (B, feature_dim)), then
    a linear layer with no activation, as Dist-GAN's encoder E (ms_gan.md §1.8; github tntrung/msgan,
    ``modules/net_dcgan.py`` ``encoder_*``: ``fc(y, z_dim)``, no activation)."""

    def __init__(self, trunk: nn.Module, feature_dim: int, latent_dim: int, init: InitScheme) -> None:
        super().__init__()
        self.trunk = trunk
        self.code = nn.Linear(feature_dim, latent_dim)
        init_weights(self.code, init)
        self.latent_dim = latent_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, latent_dim)."""
        return self.code(self.trunk(images))
