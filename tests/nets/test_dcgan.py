"""repro.nets.dcgan: the 32x32 MS-GAN DCGAN-CNN and the 28x28 MMGAN-reading layouts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.errors import ConfigError
from repro.nets.dcgan import DCGANDiscriminator, DCGANEncoder, DCGANGenerator, dcgan_nets


def layers_of(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


def test_32x32_follows_ms_gan_dcgan_cnn():
    generator, discriminator = dcgan_nets((3, 32, 32), latent_dim=128)
    projection = layers_of(generator, nn.Linear)[0]
    assert (projection.in_features, projection.out_features) == (128, 2 * 2 * 512)
    deconvs = layers_of(generator, nn.ConvTranspose2d)
    assert [(d.out_channels, d.kernel_size, d.stride) for d in deconvs] == [
        (c, (5, 5), (2, 2)) for c in (256, 128, 64, 3)
    ]
    convs = layers_of(discriminator.trunk, nn.Conv2d)
    expected = [(c, (5, 5), (2, 2)) for c in (64, 128, 256, 512)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == expected
    assert discriminator.feature_dim == 2 * 2 * 512 == 2048


@pytest.mark.parametrize("channels", [1, 3])
def test_28x28_grows_from_7x7_with_4x4_kernels(channels: int):
    generator, discriminator = dcgan_nets((channels, 28, 28))
    assert layers_of(generator, nn.Linear)[0].out_features == 7 * 7 * 128
    assert [d.kernel_size for d in layers_of(generator, nn.ConvTranspose2d)] == [(4, 4), (4, 4)]
    images = generator(generator.sample_latent(2))
    assert images.shape == (2, channels, 28, 28)
    assert discriminator.features(images).shape == (2, 7 * 7 * 128)
    assert discriminator.feature_dim == 6272


def test_width_scales_every_layer():
    _, discriminator = dcgan_nets((1, 28, 28), width=8)
    assert discriminator.feature_dim == 7 * 7 * 16
    generator = DCGANGenerator((3, 32, 32), width=8)
    assert [d.out_channels for d in layers_of(generator, nn.ConvTranspose2d)] == [32, 16, 8, 3]


@pytest.mark.parametrize("size", [28, 32])
def test_discriminator_batch_norm_skips_the_first_layer_and_can_be_dropped(size: int):
    with_bn = DCGANDiscriminator((3, size, size), batch_norm=True)
    first, *rest = [block for block in with_bn.trunk if isinstance(block, nn.Sequential)]
    assert not layers_of(first, nn.BatchNorm2d)
    assert all(len(layers_of(block, nn.BatchNorm2d)) == 1 for block in rest)
    assert not layers_of(DCGANDiscriminator((3, size, size), batch_norm=False), nn.BatchNorm2d)


def test_leaky_relu_slope_is_0_2():
    _, discriminator = dcgan_nets((1, 28, 28))
    assert {m.negative_slope for m in layers_of(discriminator, nn.LeakyReLU)} == {0.2}


def test_dcgan_init_is_n_0_002_and_xavier_is_selectable():
    torch.manual_seed(0)
    generator, discriminator = dcgan_nets((3, 32, 32), init="dcgan")
    biggest = layers_of(discriminator.trunk, nn.Conv2d)[-1].weight
    assert biggest.std().item() == pytest.approx(0.02, rel=0.02)
    assert layers_of(generator, nn.ConvTranspose2d)[0].weight.std().item() == pytest.approx(0.02, rel=0.02)
    _, xavier = dcgan_nets((3, 32, 32), init="xavier")
    assert layers_of(xavier.trunk, nn.Conv2d)[-1].weight.std().item() < 0.015
    assert xavier.init == "xavier"


def test_unsupported_image_sizes_are_refused():
    with pytest.raises(ConfigError, match=r"DCGAN nets take square images of size \[28, 32\]"):
        dcgan_nets((3, 64, 64))


def test_the_dist_gan_encoder_is_the_official_cifar_encoder():
    """encoder_dcgan_cifar (github tntrung/msgan modules/net_dcgan.py l.93-108): D's trunk, BN after all but the
    first conv, then a linear layer to z with no activation."""
    encoder = DCGANEncoder(latent_dim=128)
    convs = layers_of(encoder.trunk, nn.Conv2d)
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (w, (5, 5), (2, 2)) for w in (64, 128, 256, 512)]
    assert len(layers_of(encoder, nn.BatchNorm2d)) == 3 and len(layers_of(encoder, nn.LeakyReLU)) == 4
    assert (encoder.code.in_features, encoder.code.out_features) == (2 * 2 * 512, 128)
    codes = encoder(torch.rand(2, 3, 32, 32))
    assert codes.shape == (2, 128) and codes.min() < 0  # no output activation
    with pytest.raises(ConfigError, match="32"):
        DCGANEncoder((1, 28, 28))


def test_the_first_bn_is_per_fc_output_and_the_per_channel_form_keeps_its_state_dict_keys():
    # github tntrung/msgan modules/net_dcgan.py generator_dcgan_cifar: fc_bn_relu(z, 2*2*dim*8), no bias
    generator, _ = dcgan_nets((3, 32, 32), latent_dim=128, width=4)
    fc, (norm,) = layers_of(generator, nn.Linear)[0], layers_of(generator, nn.BatchNorm1d)
    assert fc.bias is None and norm.num_features == 2 * 2 * 32
    assert float(norm.weight.std()) > 0  # the DCGAN init draws BN scales N(1, 0.02), the 1-d BN's too
    assert generator(generator.sample_latent(3)).shape == (3, 3, 32, 32)
    # the form notebook 40's committed runs trained: its checkpoints must keep loading
    old, _ = dcgan_nets((1, 28, 28), width=4, first_norm="per_channel")
    assert list(old.state_dict())[:4] == ["body.0.0.weight", "body.0.0.bias", "body.1.weight", "body.1.bias"]
    assert not layers_of(old, nn.BatchNorm1d)
    with pytest.raises(ConfigError, match="first_norm must be one of per_unit, per_channel"):
        dcgan_nets(first_norm="both")
