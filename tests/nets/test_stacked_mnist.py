"""repro.nets.stacked_mnist: the Unrolled-GAN K/4 and K/2 nets of MS-GAN's Stacked-MNIST experiments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.errors import ConfigError
from repro.nets.stacked_mnist import StackedMNISTEncoder, TopLeftCrop, stacked_mnist_nets


def layers_of(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


@pytest.mark.parametrize(("size", "width", "feature_dim"), [("K/4", 2, 128), ("K/2", 4, 256)])
def test_discriminator_is_three_5x5_stride_2_convs_without_bn(size: str, width: int, feature_dim: int):
    _, discriminator = stacked_mnist_nets(size)
    convs = layers_of(discriminator.trunk, nn.Conv2d)
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (c, (5, 5), (2, 2)) for c in (width, 2 * width, 4 * width)
    ]
    assert not layers_of(discriminator, nn.BatchNorm2d)
    assert {m.negative_slope for m in layers_of(discriminator, nn.LeakyReLU)} == {0.2}
    assert discriminator.feature_dim == feature_dim
    assert discriminator.features(torch.rand(2, 3, 28, 28)).shape == (2, feature_dim)
    assert not discriminator.spectral_norm


def test_both_sizes_share_the_width_8_generator_with_a_256_d_latent():
    generator_k4, _ = stacked_mnist_nets("K/4")
    generator_k2, _ = stacked_mnist_nets("K/2")
    assert generator_k4.latent_dim == generator_k2.latent_dim == 256
    assert str(generator_k4) == str(generator_k2)
    assert layers_of(generator_k4, nn.Linear)[0].out_features == 4 * 4 * 64
    assert [d.out_channels for d in layers_of(generator_k4, nn.ConvTranspose2d)] == [32, 16, 8]


def test_the_first_bn_normalises_each_fc_output_as_the_official_code_and_the_old_form_is_a_variant():
    # net_dcgan.py l.195-200: fc_bn_relu(z, 4*4*dim*8), a bias-free FC whose 1024 outputs are each batch-normalised
    generator, _ = stacked_mnist_nets()
    fc, norm = layers_of(generator, nn.Linear)[0], layers_of(generator, nn.BatchNorm1d)
    assert fc.bias is None and [n.num_features for n in norm] == [4 * 4 * 64]
    generator.train()
    seen = []
    norm[0].register_forward_hook(lambda module, inputs, output: seen.append(output))
    generator(generator.sample_latent(64, generator=torch.Generator().manual_seed(0)))
    per_unit_std = seen[0].std(dim=0, unbiased=False)  # over the batch, i.e. over z, for each of the 1024 units
    torch.testing.assert_close(per_unit_std, torch.ones_like(per_unit_std), atol=1e-3, rtol=0)
    old, _ = stacked_mnist_nets(first_norm="per_channel")
    assert not layers_of(old, nn.BatchNorm1d) and layers_of(old, nn.Linear)[0].bias is not None
    assert layers_of(old, nn.BatchNorm2d)[0].num_features == 64
    assert old(old.sample_latent(2)).shape == (2, 3, 28, 28)
    with pytest.raises(ConfigError, match="first_norm must be one of per_unit, per_channel"):
        stacked_mnist_nets(first_norm="per_pixel")


def test_generator_crops_8x8_to_7x7_before_growing_to_28x28():
    generator, _ = stacked_mnist_nets()
    crop = next(m for m in generator.modules() if isinstance(m, TopLeftCrop))
    seen = []
    crop.register_forward_hook(lambda module, inputs, output: seen.append((inputs[0].shape, output.shape)))
    images = generator(generator.sample_latent(2))
    assert seen == [((2, 32, 8, 8), (2, 32, 7, 7))]
    assert images.shape == (2, 3, 28, 28)


def test_top_left_crop_keeps_the_top_left_corner():
    x = torch.arange(2 * 8 * 8.0).view(1, 2, 8, 8)
    torch.testing.assert_close(TopLeftCrop(7)(x), x[:, :, :7, :7])


def test_output_range_defaults_to_tanh_and_unit_gives_the_official_sigmoid():
    assert isinstance(stacked_mnist_nets()[0].output_activation, nn.Tanh)
    assert isinstance(stacked_mnist_nets(output_range="unit")[0].output_activation, nn.Sigmoid)


def test_unknown_sizes_are_refused():
    with pytest.raises(ConfigError, match=r"sizes \['K/2', 'K/4'\], got 'K/8'"):
        stacked_mnist_nets("K/8")


def test_the_dist_gan_encoder_is_four_relu_convs_and_a_linear_code():
    """encoder_dcgan_stacked_mnist (github tntrung/msgan modules/net_dcgan.py l.170-184): 8, 16, 32, 64 channels,
    28 -> 14 -> 7 -> 4 -> 2, flatten 256 -> z (256), no BN and no output activation."""
    encoder = StackedMNISTEncoder()
    convs = layers_of(encoder.trunk, nn.Conv2d)
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(w, (5, 5), (2, 2)) for w in (8, 16, 32, 64)]
    assert not layers_of(encoder, nn.BatchNorm2d) and len(layers_of(encoder, nn.ReLU)) == 4
    assert (encoder.code.in_features, encoder.code.out_features) == (256, 256)
    codes = encoder(torch.rand(2, 3, 28, 28))
    assert codes.shape == (2, 256) and codes.min() < 0


def test_generator_may_draw_uniform_latents_in_minus_one_one():
    from repro.nets.base import draw_latents

    generator, _ = stacked_mnist_nets(latent_distribution="symmetric_uniform")
    z = draw_latents(generator, 500, torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() < 1 and z.min() < -0.99 and z.mean().abs() < 0.02
    with pytest.raises(ConfigError, match="latent_distribution"):
        stacked_mnist_nets(latent_distribution="gaussian")
