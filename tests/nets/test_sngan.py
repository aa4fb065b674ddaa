"""repro.nets.sngan: the SNGAN standard CNN (Table 3) and mimicry's SNGAN / SSGAN ResNets at 32x32 and 48x48."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from repro.errors import ConfigError
from repro.nets.sngan import (
    GlobalSumPool,
    ResidualBlock,
    SNGANResNetDiscriminator,
    SNGANResNetGenerator,
    sngan_cnn_nets,
    sngan_resnet_nets,
)


def layers_of(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# Parameter tallies written out from mimicry's layer definitions (nets/ssgan/ssgan_32.py, ssgan_48.py and
# modules/resblocks.py), independently of our builders; every conv and linear layer has a bias.
def conv_params(c_in: int, c_out: int, kernel: int) -> int:
    return c_in * c_out * kernel * kernel + c_out


def g_block_params(c_in: int, c_out: int) -> int:  # BN, conv3, BN, conv3, 1x1 shortcut
    batch_norms = 2 * c_in + 2 * c_out
    return batch_norms + conv_params(c_in, c_out, 3) + conv_params(c_out, c_out, 3) + conv_params(c_in, c_out, 1)


def d_block_params(c_in: int, c_out: int, learnable_shortcut: bool) -> int:  # hidden width = c_in
    shortcut = conv_params(c_in, c_out, 1) if learnable_shortcut else 0
    return conv_params(c_in, c_in, 3) + conv_params(c_in, c_out, 3) + shortcut


def optimised_block_params(c_in: int, c_out: int) -> int:
    return conv_params(c_in, c_out, 3) + conv_params(c_out, c_out, 3) + conv_params(c_in, c_out, 1)


def generator_params(ngf: int, bottom: int, widths: list[int]) -> int:
    projection = 128 * bottom * bottom * ngf + bottom * bottom * ngf
    blocks = sum(g_block_params(a, b) for a, b in pairwise(widths))
    return projection + blocks + 2 * widths[-1] + conv_params(widths[-1], 3, 3)


MIMICRY_COUNTS = {
    32: (
        generator_params(256, 4, [256, 256, 256, 256]),
        optimised_block_params(3, 128)
        + d_block_params(128, 128, True)
        + 2 * d_block_params(128, 128, False)
        + (128 + 1),
    ),
    48: (
        generator_params(512, 6, [512, 256, 128, 64]),
        optimised_block_params(3, 64)
        + d_block_params(64, 128, True)
        + d_block_params(128, 256, True)
        + d_block_params(256, 512, True)
        + d_block_params(512, 1024, True)
        + (1024 + 1),
    ),
}


def test_mimicry_tallies_are_the_known_sizes():
    assert MIMICRY_COUNTS[32] == (4_276_739, 1_053_825)  # mimicry README: about 4.3M and 1.1M
    assert MIMICRY_COUNTS[48] == (4_878_083, 10_141_441)


@pytest.mark.parametrize("size", [32, 48])
def test_resnet_parameter_counts_match_mimicry(size: int):
    generator, discriminator = sngan_resnet_nets((3, size, size))
    assert (parameter_count(generator), parameter_count(discriminator)) == MIMICRY_COUNTS[size]


@pytest.mark.parametrize(
    ("size", "generator_sizes", "discriminator_sizes", "feature_dim"),
    [(32, [4, 8, 16, 32], [16, 8, 8, 8], 128), (48, [6, 12, 24, 48], [24, 12, 6, 3, 3], 1024)],
)
def test_resnet_resolutions_follow_sngan_tables_4_and_5(
    size: int, generator_sizes: list[int], discriminator_sizes: list[int], feature_dim: int
):
    generator, discriminator = sngan_resnet_nets((3, size, size))
    h = generator.body[0](generator.sample_latent(2))
    seen = [h.shape[-1]]
    for block in generator.body[1:]:
        h = block(h)
        if isinstance(block, ResidualBlock):
            seen.append(h.shape[-1])
    assert seen == generator_sizes
    h = torch.randn(2, 3, size, size)
    seen = []
    for block in discriminator.trunk:
        h = block(h)
        if isinstance(block, ResidualBlock):
            seen.append(h.shape[-1])
    assert seen == discriminator_sizes
    assert h.shape == (2, feature_dim) == (2, discriminator.feature_dim)
    assert isinstance(discriminator.trunk[-1], GlobalSumPool)


def test_global_sum_pool_sums_over_space():
    x = torch.arange(24.0).view(1, 2, 3, 4)
    torch.testing.assert_close(GlobalSumPool()(x), torch.tensor([[66.0, 210.0]]))


def test_resnet_discriminator_blocks_keep_an_identity_shortcut_when_they_do_not_resize():
    discriminator = SNGANResNetDiscriminator((3, 32, 32))
    shortcuts = [block.shortcut for block in discriminator.trunk if isinstance(block, ResidualBlock)]
    assert [isinstance(s, nn.Identity) for s in shortcuts] == [False, False, True, True]
    assert all(not layers_of(block, nn.BatchNorm2d) for block in discriminator.trunk)


def test_residual_paths_use_xavier_gain_sqrt2_and_shortcuts_gain_1():
    torch.manual_seed(0)
    block = SNGANResNetGenerator((3, 32, 32), width=32).body[1]
    residual_conv, shortcut_conv = layers_of(block.residual, nn.Conv2d)[0], layers_of(block.shortcut, nn.Conv2d)[0]
    for layer, gain in ((residual_conv, math.sqrt(2.0)), (shortcut_conv, 1.0)):
        fan_in, fan_out = layer.weight[0].numel(), layer.weight[:, 0].numel()
        bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
        assert 0.9 * bound < layer.weight.abs().max().item() <= bound


def test_resnet_widths_are_mimicrys_ngf_and_ndf():
    generator, discriminator = sngan_resnet_nets((3, 48, 48), generator_width=64, discriminator_width=128)
    assert layers_of(generator, nn.BatchNorm2d)[-1].num_features == 64 >> 3
    assert discriminator.feature_dim == 128
    assert generator(generator.sample_latent(2)).shape == (2, 3, 48, 48)


def test_spectral_norm_bounds_every_resnet_discriminator_layer_near_one():
    torch.manual_seed(0)
    _, plain = sngan_resnet_nets(spectral_norm=False)
    plain_norms = [torch.linalg.matrix_norm(m.weight.flatten(1), ord=2) for m in layers_of(plain.trunk, nn.Conv2d)]
    assert max(plain_norms) > 1.5
    _, discriminator = sngan_resnet_nets()
    images = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for _ in range(30):  # each training-mode call runs one power iteration per layer
            discriminator(images)
    discriminator.eval()
    layers = [m for m in discriminator.modules() if parametrize.is_parametrized(m, "weight")]
    assert len(layers) == 11  # 3 + 3 + 2 + 2 convs and the adversarial head
    norms = torch.stack([torch.linalg.matrix_norm(m.weight.flatten(1), ord=2) for m in layers])
    assert norms.min().item() > 1 - 1e-4
    assert norms.max().item() < 1.05


@pytest.mark.parametrize(("size", "feature_dim"), [(32, 4 * 4 * 512), (48, 6 * 6 * 512)])
def test_standard_cnn_follows_sngan_table_3(size: int, feature_dim: int):
    generator, discriminator = sngan_cnn_nets((3, size, size))
    assert layers_of(generator, nn.Linear)[0].out_features == (size // 8) ** 2 * 512
    assert [d.out_channels for d in layers_of(generator, nn.ConvTranspose2d)] == [256, 128, 64]
    convs = layers_of(discriminator.trunk, nn.Conv2d)
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 3, 1),
        (64, 4, 2),
        (128, 3, 1),
        (128, 4, 2),
        (256, 3, 1),
        (256, 4, 2),
        (512, 3, 1),
    ]
    assert {m.negative_slope for m in layers_of(discriminator, nn.LeakyReLU)} == {0.1}
    assert not layers_of(discriminator, nn.BatchNorm2d)
    assert discriminator.feature_dim == feature_dim
    assert discriminator.spectral_norm


def test_standard_cnn_generator_width_doubles_to_the_official_ms_gan_channels():
    generator, _ = sngan_cnn_nets(generator_width=128)
    assert layers_of(generator, nn.Linear)[0].out_features == 4 * 4 * 1024
    assert [d.out_channels for d in layers_of(generator, nn.ConvTranspose2d)] == [512, 256, 128]


def test_unsupported_image_sizes_are_refused():
    with pytest.raises(ConfigError, match="SNGAN ResNet nets take square images"):
        sngan_resnet_nets((3, 64, 64))
    with pytest.raises(ConfigError, match="SNGAN CNN nets take square images"):
        sngan_cnn_nets((3, 28, 28))
