"""Convolutions on tiny feature maps as one matmul per position, for bf16 on CPU.

DCGAN-32's outermost layers run on 2x2 maps: D's last conv (4x4 -> 2x2) and G's first deconv (2x2 -> 4x4). On
CPU under bf16 autocast, oneDNN's kernels for these shapes run at a few percent of the AMX matmul rate (their
backward passes took over half of a DCGAN-32 training step; ``benchmarks/README.md``). With at most
``MAX_POSITIONS`` positions on the small side, the layer is a handful of dense matmuls: for a conv, each output
position is the flattened input window times the matching slice of the kernel; for a transposed conv, each input
position spreads ``x[:, :, i, j] @ W`` over a k x k window of the output. Same function, same parameters and
state dict; fp32 and GPU calls keep torch's kernels.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

MAX_POSITIONS = 4  # the small side of the layer (conv: output, transposed: input) at most this many positions


def _use_matmuls(x: torch.Tensor, positions: int) -> bool:
    """True under CPU bf16 autocast when the layer's small side has at most ``MAX_POSITIONS`` positions."""
    return (
        positions <= MAX_POSITIONS
        and x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
    )


def _conv_output_size(size: int, stride: int, padding: int, kernel: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _window(position: int, stride: int, padding: int, kernel: int, size: int) -> tuple[slice, slice]:
    """The input rows a conv output row ``position`` reads, and the kernel rows that meet them."""
    start = position * stride - padding
    first, last = max(start, 0), min(start + kernel, size)
    return slice(first, last), slice(first - start, last - start)


def conv2d_by_positions(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                        padding: int) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, stride, padding)`` as one matmul per output position (square kernel)."""
    batch, _, height, width = x.shape
    out_channels, kernel = weight.shape[0], weight.shape[-1]
    out_h, out_w = (_conv_output_size(size, stride, padding, kernel) for size in (height, width))
    columns = []
    for i in range(out_h):
        rows, kernel_rows = _window(i, stride, padding, kernel, height)
        for j in range(out_w):
            cols, kernel_cols = _window(j, stride, padding, kernel, width)
            patch = x[:, :, rows, cols].reshape(batch, -1)
            columns.append(patch @ weight[:, :, kernel_rows, kernel_cols].reshape(out_channels, -1).t())
    out = torch.stack(columns, dim=-1).reshape(batch, out_channels, out_h, out_w)
    return out if bias is None else out + bias.to(out.dtype)[:, None, None]


def conv_transpose2d_by_positions(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                                  padding: int, output_padding: int) -> torch.Tensor:
    """``F.conv_transpose2d`` (square kernel) as one matmul per input position, each spread over a k x k window."""
    batch, in_channels, height, width = x.shape
    out_channels, kernel = weight.shape[1], weight.shape[-1]
    out_h, out_w = ((size - 1) * stride - 2 * padding + kernel + output_padding for size in (height, width))
    # the full (uncropped) canvas, large enough for every window and the output padding
    canvas_h, canvas_w = ((size - 1) * stride + kernel + output_padding for size in (height, width))
    spread = (x.permute(0, 2, 3, 1).reshape(-1, in_channels) @ weight.reshape(in_channels, -1))
    spread = spread.reshape(batch, height, width, out_channels, kernel, kernel)
    canvas = 0
    for i in range(height):
        for j in range(width):
            top, left = i * stride, j * stride
            canvas = canvas + F.pad(spread[:, i, j], (left, canvas_w - left - kernel, top, canvas_h - top - kernel))
    out = canvas[:, :, padding:padding + out_h, padding:padding + out_w]
    return out if bias is None else out + bias.to(out.dtype)[:, None, None]


class SmallMapConv2d(nn.Conv2d):
    """``nn.Conv2d`` (square kernel, no dilation or groups) that uses per-position matmuls on tiny outputs in bf16."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_h, out_w = (_conv_output_size(s, self.stride[0], self.padding[0], self.kernel_size[0])
                        for s in x.shape[-2:])
        if not _use_matmuls(x, out_h * out_w):
            return super().forward(x)
        dtype = torch.get_autocast_dtype("cpu")
        with torch.autocast("cpu", enabled=False):
            return conv2d_by_positions(x.to(dtype), self.weight.to(dtype), self.bias, self.stride[0],
                                       self.padding[0])


class SmallMapConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (square kernel, no dilation or groups) with per-position matmuls on tiny inputs."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if output_size is not None or not _use_matmuls(x, x.shape[-2] * x.shape[-1]):
            return super().forward(x, output_size)
        dtype = torch.get_autocast_dtype("cpu")
        with torch.autocast("cpu", enabled=False):
            return conv_transpose2d_by_positions(x.to(dtype), self.weight.to(dtype), self.bias, self.stride[0],
                                                 self.padding[0], self.output_padding[0])
