"""repro.nets.base: layer helpers, initialisation, spectral norm and the Generator / Discriminator interfaces."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from repro.errors import ConfigError
from repro.nets.base import (
    Discriminator,
    Generator,
    check_sizes,
    conv,
    draw_latents,
    init_weights,
    latent_projection,
    output_activation,
    spectral_norm_if,
    square_image_size,
)


def toy_discriminator(spectral_norm: bool) -> Discriminator:
    """A linear 'trunk' on 1x2x3 images with 5 features."""
    trunk = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU())
    init_weights(trunk, "xavier")
    return Discriminator(trunk, 5, spectral_norm=spectral_norm, init="xavier")


def toy_generator(output_range: str = "symmetric") -> Generator:
    body = nn.Sequential(latent_projection(4, 2, 3), nn.Conv2d(2, 1, 1))
    return Generator(body, latent_dim=4, image_shape=(1, 3, 3), output_range=output_range)


def normalised(layer: nn.Module) -> bool:
    return parametrize.is_parametrized(layer, "weight")


@pytest.mark.parametrize(
    ("kernel_size", "stride", "size", "expected"),
    [(5, 2, 32, 16), (5, 2, 7, 4), (4, 2, 28, 14), (4, 2, 14, 7), (3, 1, 9, 9), (5, 1, 28, 28), (1, 1, 8, 8)],
)
def test_conv_gives_tf_same_output_sizes(kernel_size: int, stride: int, size: int, expected: int):
    layer = conv(2, 3, kernel_size, stride)
    assert layer(torch.zeros(1, 2, size, size)).shape == (1, 3, expected, expected)


@pytest.mark.parametrize(("kernel_size", "size"), [(5, 4), (5, 7), (4, 7), (4, 14), (3, 16)])
def test_transposed_conv_doubles_sizes(kernel_size: int, size: int):
    layer = conv(2, 3, kernel_size, 2, transposed=True)
    assert layer(torch.zeros(1, 2, size, size)).shape == (1, 3, 2 * size, 2 * size)


def test_transposed_conv_refuses_a_kernel_that_cannot_keep_the_size():
    with pytest.raises(ConfigError, match="cannot multiply"):
        conv(2, 3, 4, 1, transposed=True)


def test_output_activation_maps_ranges_to_tanh_and_sigmoid():
    assert isinstance(output_activation("symmetric"), nn.Tanh)
    assert isinstance(output_activation("unit"), nn.Sigmoid)
    with pytest.raises(ConfigError, match="output_range"):
        output_activation("bytes")


def test_dcgan_init_draws_weights_from_n_0_002_and_bn_scales_around_1():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(500, 400), nn.BatchNorm2d(2000))
    init_weights(net, "dcgan")
    assert net[0].weight.std().item() == pytest.approx(0.02, rel=0.02)
    assert net[0].weight.mean().abs().item() < 1e-3
    assert torch.count_nonzero(net[0].bias) == 0
    assert net[1].weight.mean().item() == pytest.approx(1.0, abs=2e-3)
    assert net[1].weight.std().item() == pytest.approx(0.02, rel=0.1)


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_xavier_init_is_glorot_uniform_with_the_gain(gain: float):
    torch.manual_seed(0)
    layer = nn.Conv2d(16, 32, 3)
    init_weights(layer, "xavier", gain=gain)
    bound = gain * math.sqrt(6.0 / (16 * 9 + 32 * 9))
    assert 0.95 * bound < layer.weight.abs().max().item() <= bound
    assert torch.count_nonzero(layer.bias) == 0


def test_init_weights_rejects_unknown_schemes_and_normalised_layers():
    with pytest.raises(ConfigError, match="init must be"):
        init_weights(nn.Linear(2, 2), "kaiming")
    with pytest.raises(ConfigError, match="before applying spectral norm"):
        init_weights(spectral_norm_if(nn.Linear(2, 2), True), "xavier")


def test_spectral_norm_if_normalises_every_weighted_layer_once():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(2, 1)))
    assert spectral_norm_if(net, False) is net
    assert not any(normalised(m) for m in net.modules())
    spectral_norm_if(net, True)
    spectral_norm_if(net, True)
    for layer in (net[0], net[2][1]):
        assert normalised(layer)
        assert len(layer.parametrizations.weight) == 1


def test_spectral_norm_divides_the_weight_by_its_largest_singular_value():
    torch.manual_seed(0)
    layer = spectral_norm_if(nn.Linear(4, 3), True)
    left, _ = torch.linalg.qr(torch.randn(3, 3))
    right, _ = torch.linalg.qr(torch.randn(4, 3))
    singular_values = torch.tensor([5.0, 2.0, 0.5])
    with torch.no_grad():
        layer.parametrizations.weight.original.copy_(left @ torch.diag(singular_values) @ right.T)
        for _ in range(10):
            layer(torch.randn(2, 4))  # one power iteration per training-mode call
    layer.eval()
    torch.testing.assert_close(torch.linalg.svdvals(layer.weight), singular_values / 5.0, atol=1e-4, rtol=0)


def test_square_image_size_names_the_supported_sizes():
    assert square_image_size((3, 32, 32), (32, 48), "toy") == 32
    with pytest.raises(ConfigError, match=r"toy nets take square images of size \[32, 48\]"):
        square_image_size((3, 32, 48), (32, 48), "toy")
    with pytest.raises(ConfigError, match="got"):
        square_image_size((3, 64, 64), (32, 48), "toy")


def test_check_sizes_names_every_size_that_is_not_a_positive_integer():
    check_sizes(width=1, latent_dim=100, generator_width=None)  # None: the factory's default
    with pytest.raises(ConfigError, match=r"^width=-3, latent_dim=2.5, depth=True: network sizes must be positive"):
        check_sizes(width=-3, latent_dim=2.5, depth=True, ok=4)
    with pytest.raises(ConfigError, match="width=0"):
        check_sizes(width=0)


def test_generator_applies_the_output_activation_and_checks_latents():
    generator = toy_generator("unit")
    images = generator(torch.randn(5, 4))
    assert images.shape == (5, 1, 3, 3)
    assert isinstance(generator.output_activation, nn.Sigmoid)
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        generator(torch.randn(5, 3))


def test_sample_latent_draws_reproducible_standard_normals_on_the_parameters_device():
    generator = toy_generator()
    first = generator.sample_latent(3, generator=torch.Generator().manual_seed(1))
    second = generator.sample_latent(3, generator=torch.Generator().manual_seed(1))
    assert first.shape == (3, 4)
    assert first.device == next(generator.parameters()).device
    torch.testing.assert_close(first, second)
    assert generator.sample_latent(20_000).std().item() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize(("distribution", "low", "high"), [("uniform", 0.0, 1.0), ("symmetric_uniform", -1.0, 1.0)])
def test_sample_latent_draws_from_the_networks_own_latent_distribution(distribution, low, high):
    # Dist-GAN's networks take z ~ U(-1, 1): a helper drawing N(0, I) for them would sample off their prior
    body = nn.Sequential(latent_projection(4, 2, 3), nn.Conv2d(2, 1, 1))
    generator = Generator(body, 4, (1, 3, 3), "symmetric", latent_distribution=distribution)
    latents = generator.sample_latent(20_000, generator=torch.Generator().manual_seed(2))
    assert low <= latents.min().item() and latents.max().item() <= high
    assert latents.mean().item() == pytest.approx((low + high) / 2, abs=0.02)
    torch.testing.assert_close(latents, draw_latents(generator, 20_000, torch.Generator().manual_seed(2)))


def test_forward_is_the_adversarial_head_on_the_features():
    discriminator = toy_discriminator(spectral_norm=True).eval()
    images = torch.randn(4, 1, 2, 3)
    features = discriminator.features(images)
    assert features.shape == (4, 5)
    logits = discriminator(images)
    assert logits.shape == (4,)
    torch.testing.assert_close(logits, discriminator.adversarial_logits(features))


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_extra_heads_read_the_features_and_follow_the_spectral_norm_setting(spectral_norm: bool):
    discriminator = toy_discriminator(spectral_norm)
    head = discriminator.add_head("rotation", 5)
    assert discriminator.heads["rotation"] is head
    assert normalised(head) == spectral_norm == normalised(discriminator.adversarial_head)
    assert {id(p) for p in head.parameters()} <= {id(p) for p in discriminator.parameters()}
    features = discriminator.features(torch.randn(3, 1, 2, 3))
    assert discriminator.head("rotation", features).shape == (3, 5)


def test_head_names_are_unique_and_unknown_heads_are_named():
    discriminator = toy_discriminator(spectral_norm=False)
    discriminator.add_head("classes", 10)
    with pytest.raises(ConfigError, match="already has a head 'classes'"):
        discriminator.add_head("classes", 11)
    with pytest.raises(ConfigError, match=r"no head 'rotation'.*\['classes'\]"):
        discriminator.head("rotation", torch.zeros(1, 5))
