"""repro.nets.NETWORKS: every registered (G, D) pair honours the Generator / Discriminator interfaces."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from repro.errors import ConfigError
from repro.nets import NETWORKS, build_networks, network_arguments

NAMES = sorted(NETWORKS)
BATCH = 3


def test_registry_names_the_backbones_the_notebooks_pick():
    assert set(NAMES) == {
        "dcgan28",
        "dcgan32",
        "sngan_cnn32",
        "sngan_cnn48",
        "sngan_resnet32",
        "sngan_resnet48",
        "stacked_mnist_k4",
        "stacked_mnist_k2",
    }


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("output_range", "low"), [("symmetric", -1.0), ("unit", 0.0)])
def test_generator_maps_latents_to_images_in_its_output_range(name: str, output_range: str, low: float):
    generator, _ = NETWORKS[name](output_range=output_range)
    latents = generator.sample_latent(BATCH, generator=torch.Generator().manual_seed(0))
    assert latents.shape == (BATCH, generator.latent_dim)
    images = generator(latents)
    assert images.shape == (BATCH, *generator.image_shape)
    assert generator.output_range == output_range
    assert low <= images.min().item() and images.max().item() <= 1.0
    assert images.std().item() > 0


@pytest.mark.parametrize("name", NAMES)
def test_discriminator_features_feed_the_adversarial_and_extra_heads(name: str):
    generator, discriminator = NETWORKS[name]()
    discriminator.eval()  # spectral norm then reuses its estimate, so repeated calls agree exactly
    images = torch.rand(BATCH, *generator.image_shape) * 2 - 1
    features = discriminator.features(images)
    assert features.shape == (BATCH, discriminator.feature_dim)
    logits = discriminator(images)
    assert logits.shape == (BATCH,)
    torch.testing.assert_close(logits, discriminator.adversarial_logits(features))
    discriminator.add_head("rotation", 5)
    assert discriminator.head("rotation", features).shape == (BATCH, 5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_spectral_norm_covers_every_discriminator_layer_and_head(name: str, spectral_norm: bool):
    _, discriminator = NETWORKS[name](spectral_norm=spectral_norm)
    discriminator.add_head("classes", 10)
    weighted = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(weighted) >= 3
    assert all(parametrize.is_parametrized(m, "weight") == spectral_norm for m in weighted)
    assert discriminator.spectral_norm == spectral_norm


@pytest.mark.parametrize("name", NAMES)
def test_gradients_flow_from_the_discriminator_heads_to_every_generator_parameter(name: str):
    generator, discriminator = NETWORKS[name]()
    discriminator.add_head("classes", 10)
    features = discriminator.features(generator(generator.sample_latent(2)))
    loss = discriminator.adversarial_logits(features).sum() + discriminator.head("classes", features).sum()
    loss.backward()
    for net in (generator, discriminator):
        for parameter_name, parameter in net.named_parameters():
            assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), parameter_name
    assert sum(p.grad.abs().sum() for p in generator.parameters()) > 0


def test_build_networks_names_the_unknown_argument_and_the_valid_ones():
    generator, _ = build_networks("dcgan28", {"width": 4})
    assert generator.image_shape == (1, 28, 28)
    assert network_arguments("stacked_mnist_k4") == ["size", "latent_dim", "output_range", "spectral_norm",
                                                    "latent_distribution", "first_norm"]
    with pytest.raises(ConfigError, match="unknown network 'dcgan64'; known networks are dcgan28"):
        build_networks("dcgan64")
    with pytest.raises(ConfigError, match=r"^sngan_cnn32 takes no argument 'width'; its arguments are image_shape, "
                                          r"latent_dim, generator_width, discriminator_width"):
        build_networks("sngan_cnn32", {"width": 8})


@pytest.mark.parametrize(("arguments", "message"), [
    ({"width": -3}, r"^dcgan32: width=-3: network sizes must be positive integers$"),  # the factory's own check
    ({"output_range": "x"}, r"^dcgan32: output_range must be 'symmetric'"),
    ({"image_shape": [3, 32]}, r"^cannot build dcgan32 with image_shape=\[3, 32\]: not enough values to unpack"),
])
def test_build_networks_turns_bad_values_into_one_line(arguments, message):
    with pytest.raises(ConfigError, match=message) as refused:
        build_networks("dcgan32", arguments)
    assert "\n" not in str(refused.value)
