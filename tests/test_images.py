"""repro.images: the pixel convention round-trips every level, rounds to nearest, refuses bad input; tiling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repro import images
from repro.errors import ConfigError


@pytest.mark.parametrize("value_range", ["symmetric", "unit"])
def test_scaling_round_trips_every_level(value_range):
    levels = torch.arange(256, dtype=torch.uint8)
    floats = images.to_float(levels, value_range)
    low, high = (-1.0, 1.0) if value_range == "symmetric" else (0.0, 1.0)
    assert floats.min().item() == low and floats.max().item() == high
    assert torch.equal(images.to_uint8(floats, value_range), levels)


def test_quantisation_refuses_non_finite_values():
    with pytest.raises(ValueError, match="NaN or infinite"):
        images.to_uint8(torch.tensor([0.0, float("nan")]))


def test_quantisation_rounds_to_nearest_and_clamps():
    x = torch.tensor([-2.0, -1.0, -1.0 + 0.49 / 127.5, -1.0 + 0.51 / 127.5, 1.0, 3.0])
    assert images.to_uint8(x, "symmetric").tolist() == [0, 0, 0, 1, 255, 255]
    with pytest.raises(ConfigError, match="value_range"):
        images.to_uint8(x, "zero_one")
    with pytest.raises(TypeError, match="uint8"):
        images.to_float(torch.zeros(3))


def test_tiles_are_placed_row_major():
    tiles = np.stack([np.full((1, 2, 3), i, np.uint8) for i in range(5)])
    picture = images.tile_images(tiles, columns=2, padding=1, pad_value=255)
    assert picture.shape == (3 * 3 + 1, 2 * 4 + 1, 1)
    assert picture[1, 1, 0] == 0 and picture[1, 5, 0] == 1 and picture[4, 1, 0] == 2 and picture[7, 1, 0] == 4
    assert picture[7, 5, 0] == 255  # the empty sixth slot stays padding


def test_arrays_of_any_layout_are_accepted():
    levels = np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4)
    assert torch.equal(images.to_float(levels[..., ::-1], "unit")[0, 0, 0], torch.tensor([3, 2, 1, 0]) / 255)
