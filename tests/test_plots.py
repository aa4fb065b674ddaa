"""repro.plots: curves and panels draw what they are given."""


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
