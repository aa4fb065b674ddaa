"""repro.plots: tiling puts every image where it belongs."""

import numpy as np

from repro.plots import tile_images


def test_tiles_are_placed_row_major():
    images = np.stack([np.full((1, 2, 3), i, np.uint8) for i in range(5)])
    picture = tile_images(images, columns=2, padding=1, pad_value=255)
    assert picture.shape == (3 * 3 + 1, 2 * 4 + 1, 1)
    assert picture[1, 1, 0] == 0 and picture[1, 5, 0] == 1 and picture[4, 1, 0] == 2 and picture[7, 1, 0] == 4
    assert picture[7, 5, 0] == 255  # the empty sixth slot stays padding


def test_error_curves_draw_one_line_per_run_and_the_references():
    from repro.plots import error_curves

    rows = [{"labels": n, "run_seed": s, "epoch": e, "raw": 10.0 / e, "avg": 8.0 / e}
            for n in (20, 100) for s in ((0, 1) if n == 100 else (0,)) for e in (1, 2, 3)]
    fig = error_curves(rows, ["raw", "avg"], reference={100: 0.93, 50: 2.21})
    for ax in fig.axes:
        curves = [line for line in ax.lines if len(line.get_xdata()) == 3]
        assert len(curves) == 3  # runs (20, 0), (100, 0), (100, 1)
        assert len(ax.lines) == 4  # plus the reference of the only drawn group that has one
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == ["labels 20", "labels 100"]
