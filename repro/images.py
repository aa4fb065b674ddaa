"""The pixel convention: which float range a network's images live in, the one place where uint8 pixels become
floats and back (rounding to nearest, never per-batch rescaling: metrics.md §2), and tiling images for grids.

Every layer imports this small module instead of the dataset code: nets declare their ``output_range``, methods
and metrics convert with :func:`to_float` / :func:`to_uint8`, the loop tiles sample grids."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from .errors import ConfigError

ValueRange = Literal["symmetric", "unit"]




def as_tensor(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``torch.as_tensor`` that also takes NumPy arrays of any layout (negative strides are copied)."""
    if isinstance(values, np.ndarray) and any(stride < 0 for stride in values.strides):
        values = np.ascontiguousarray(values)
    return torch.as_tensor(values)


def to_float(images: np.ndarray | torch.Tensor, value_range: ValueRange = "symmetric") -> torch.Tensor:
    """uint8 pixels to float32: ``symmetric`` gives x/127.5 - 1 in [-1, 1], ``unit`` gives x/255 in [0, 1]."""
    pixels = as_tensor(images)
    if pixels.dtype != torch.uint8:
        raise TypeError(f"to_float expects uint8 pixels, got {pixels.dtype}")
    if value_range == "symmetric":
        return pixels.float().div_(127.5).sub_(1.0)
    if value_range == "unit":
        return pixels.float().div_(255.0)
    raise ConfigError(f"value_range must be 'symmetric' or 'unit', got {value_range!r}")


QUANTISATION: dict[str, str] = {
    "symmetric": "uint8 = clamp(floor(127.5 (x + 1) + 0.5), 0, 255)",
    "unit": "uint8 = clamp(floor(255 x + 0.5), 0, 255)",
}


def to_uint8(images: torch.Tensor, value_range: ValueRange = "symmetric") -> torch.Tensor:
    """Quantise generator outputs to uint8 by rounding to nearest (metrics.md §2).

    ``symmetric``: clamp(floor(127.5 (x + 1) + 0.5), 0, 255); ``unit``: clamp(floor(255 x + 0.5), 0, 255).
    Exact inverse of :func:`to_float` on uint8 inputs. Never rescale per batch.
    """
    x = images.detach().float()
    if not torch.isfinite(x).all():
        raise ValueError("to_uint8: the images contain NaN or infinite values (a diverged generator?)")
    if value_range == "symmetric":
        scaled = 127.5 * (x + 1.0)
    elif value_range == "unit":
        scaled = 255.0 * x
    else:
        raise ConfigError(f"value_range must be 'symmetric' or 'unit', got {value_range!r}")
    return torch.floor(scaled + 0.5).clamp_(0, 255).to(torch.uint8)


def tile_images(images: np.ndarray, columns: int, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile uint8 (N, C, H, W) images into one (H', W', C) picture, ``columns`` images per row."""
    n, channels, height, width = images.shape
    rows = -(-n // columns)
    canvas = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        pad_value,
        dtype=np.uint8,
    )
    for i, image in enumerate(images):
        top = padding + (i // columns) * (height + padding)
        left = padding + (i % columns) * (width + padding)
        canvas[top : top + height, left : left + width] = image.transpose(1, 2, 0)
    return canvas
