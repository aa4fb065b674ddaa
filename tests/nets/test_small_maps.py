"""repro.nets.small_maps: the per-position matmul convolutions compute torch's function and gradients, take
over only under CPU bf16 autocast on tiny maps, and keep torch's parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from repro.nets import small_maps
from repro.nets.base import conv
from repro.nets.small_maps import SmallMapConv2d, SmallMapConvTranspose2d


@pytest.mark.parametrize(("kernel", "stride", "padding", "size"),
                         [(5, 2, 2, 4), (3, 1, 1, 2), (4, 2, 1, 4), (5, 2, 2, 3)])
def test_conv_by_positions_is_conv2d_with_its_gradients(kernel, stride, padding, size):
    torch.manual_seed(0)
    x = torch.randn(3, 4, size, size, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(5, 4, kernel, kernel, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda *a: small_maps.conv2d_by_positions(*a, stride, padding), (x, weight, bias))
    expected = F.conv2d(x, weight, bias, stride, padding)
    torch.testing.assert_close(small_maps.conv2d_by_positions(x, weight, bias, stride, padding), expected)


@pytest.mark.parametrize(("kernel", "stride", "padding", "output_padding", "size"),
                         [(5, 2, 2, 1, 2), (4, 2, 1, 0, 2), (3, 1, 1, 0, 2), (5, 2, 2, 1, 1)])
def test_transposed_conv_by_positions_is_conv_transpose2d_with_its_gradients(kernel, stride, padding,
                                                                             output_padding, size):
    torch.manual_seed(1)
    x = torch.randn(2, 4, size, size, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(4, 3, kernel, kernel, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(3, dtype=torch.float64, requires_grad=True)
    expected = F.conv_transpose2d(x, weight, bias, stride, padding, output_padding)
    ours = small_maps.conv_transpose2d_by_positions(x, weight, bias, stride, padding, output_padding)
    torch.testing.assert_close(ours, expected)
    assert torch.autograd.gradcheck(
        lambda *a: small_maps.conv_transpose2d_by_positions(*a, stride, padding, output_padding), (x, weight, bias))


def test_layers_take_over_only_for_tiny_maps_under_cpu_bf16_and_match_torch(monkeypatch):
    torch.manual_seed(2)
    down, up = conv(16, 32, 5, 2), conv(32, 16, 5, 2, transposed=True)
    assert isinstance(down, SmallMapConv2d) and isinstance(up, SmallMapConvTranspose2d)
    reference_down, reference_up = nn.Conv2d(16, 32, 5, 2, 2), nn.ConvTranspose2d(32, 16, 5, 2, 2, 1)
    reference_down.load_state_dict(down.state_dict())  # same parameters, same state-dict keys
    reference_up.load_state_dict(up.state_dict())
    calls = []
    for name in ("conv2d_by_positions", "conv_transpose2d_by_positions"):
        original = getattr(small_maps, name)
        monkeypatch.setattr(small_maps, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    tiny, large = torch.randn(8, 16, 4, 4), torch.randn(8, 16, 16, 16)
    torch.testing.assert_close(down(tiny), reference_down(tiny))  # fp32: torch's kernel
    torch.testing.assert_close(down(large), reference_down(large))
    assert calls == []
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fast_down, slow_down = down(tiny), reference_down(tiny)
        fast_up, slow_up = up(fast_down), reference_up(slow_down)
        down(large)  # an 8x8 output is not tiny: torch's kernel
    assert calls == ["conv2d_by_positions", "conv_transpose2d_by_positions"]
    assert fast_down.dtype == slow_down.dtype == torch.bfloat16 and fast_up.shape == (8, 16, 4, 4)
    torch.testing.assert_close(fast_down, slow_down, atol=2e-2, rtol=2e-2)  # both bf16 inputs, fp32 accumulation
    torch.testing.assert_close(fast_up, slow_up, atol=2e-2, rtol=2e-2)
