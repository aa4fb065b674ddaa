"""repro.plots: tiling puts every image where it belongs."""

import numpy as np

from repro.plots import tile_images


def test_tiles_are_placed_row_major():
    images = np.stack([np.full((1, 2, 3), i, np.uint8) for i in range(5)])
    picture = tile_images(images, columns=2, padding=1, pad_value=255)
    assert picture.shape == (3 * 3 + 1, 2 * 4 + 1, 1)
    assert picture[1, 1, 0] == 0 and picture[1, 5, 0] == 1 and picture[4, 1, 0] == 2 and picture[7, 1, 0] == 4
    assert picture[7, 5, 0] == 255  # the empty sixth slot stays padding
