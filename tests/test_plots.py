"""repro.plots: curves and panels draw what they are given, with readable titles, paper lines in the legend,
counts from 0, labelled rows and legends that cover nothing."""

import matplotlib.pyplot as plt
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_error_curves_draw_one_line_per_run_and_the_references():
    from repro.plots import error_curves

    rows = [{"labels": n, "run_seed": s, "epoch": e, "error_raw_percent": 10.0 / e, "error_average_percent": 8.0 / e}
            for n in (20, 100) for s in ((0, 1) if n == 100 else (0,)) for e in (1, 2, 3)]
    fig = error_curves(rows, ["error_raw_percent", "error_average_percent"], reference={100: 0.93, 50: 2.21},
                       title="MNIST")
    for ax in fig.axes:
        curves = [line for line in ax.lines if len(line.get_xdata()) == 3]
        assert len(curves) == 3  # runs (20, 0), (100, 0), (100, 1)
        assert len(ax.lines) == 4  # plus the reference of the only drawn group that has one
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == [
        "labels 20", "labels 100", "paper, labels 100: 0.93 %"]
    assert [ax.get_title() for ax in fig.axes] == ["test error (%), current D", "test error (%), averaged D"]
    assert fig.get_suptitle() == "MNIST"


def test_curves_draw_the_mean_over_seeds_with_its_range_per_metric_and_panel():
    from repro.plots import curves

    rows = [{"model": m, "backbone": b, "run_seed": seed, "step": step, "fid": 10.0 * (m == "GAN") + step + seed,
             "kid_mean": 0.1} for m in ("GAN", "SSGAN") for b in ("dcgan", "sngan") for seed in (0, 1, 2)
            for step in (1, 2)]
    fig = curves(rows, "step", ["fid", "kid_mean"], hue="model", panel="backbone", ylabels={"fid": "FID (2k)"})
    top_left, top_right, bottom_left, _ = fig.axes
    gan, ssgan = top_left.lines
    assert list(gan.get_ydata()) == [12.0, 13.0] and list(ssgan.get_ydata()) == [2.0, 3.0]  # means over 3 seeds
    assert len(top_left.collections) == 2  # each mean's range over the seeds, shaded
    assert [ax.get_title() for ax in fig.axes[:2]] == ["backbone: dcgan", "backbone: sngan"]
    assert top_left.get_ylabel() == "FID (2k)" and bottom_left.get_ylabel() == "KID"
    assert bottom_left.get_xlabel() == "iteration" and top_left.get_xlabel() == ""
    assert [t.get_text() for t in top_right.get_legend().get_texts()] == ["GAN", "SSGAN"]
    single = curves([r for r in rows if r["run_seed"] == 0 and r["backbone"] == "dcgan"], "step", ["fid"], hue="model")
    assert len(single.axes) == 1 and not single.axes[0].collections  # one seed: no range to shade
    shuffled = [{"model": "GAN", "step": step, "fid": value} for step, value in ((4, 1.0), (2, float("nan")), (2, 3.0))]
    (line,) = curves(shuffled, "step", ["fid"], hue="model").axes[0].lines
    assert list(line.get_xdata()) == [2, 4] and list(line.get_ydata()) == [3.0, 1.0]  # ascending, NaN left out
    with pytest.raises(ValueError, match="no rows"):
        curves([], "step", ["fid"], hue="model")


def test_labels_are_readable_and_unknown_names_pass_through():
    from repro.plots import label, paper_label

    assert [label(n) for n in ("is_mean", "fid", "kid_mean", "cifar10", "setting")] == [
        "Inception Score (classifier)", "FID", "KID", "CIFAR-10", "setting"]
    assert paper_label(0.93, "%") == "paper: 0.93 %"


def test_metrics_vs_samples_titles_the_metrics():
    from repro.plots import metrics_vs_samples

    rows = [{"dataset": d, "n_train_subset": n, "is_mean": 1.0, "fid": 2.0, "kid_mean": 3.0}
            for d in ("mnist", "cifar10") for n in (250, 500, 1000)]
    fig = metrics_vs_samples(rows)
    assert [ax.get_title() for ax in fig.axes] == ["Inception Score (classifier)", "FID", "KID"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["MNIST", "CIFAR-10"]


def test_mode_coverage_counts_from_zero_and_names_the_runs():
    from repro.plots import mode_coverage

    collapsed = np.zeros(1000, dtype=int)
    collapsed[:3] = [600, 30, 10]
    spread = np.full(1000, 1)
    fig = mode_coverage({"K/4 discriminator": {"GAN, seed 0": collapsed, "MS-GAN, seed 0": spread}},
                        title="Stacked-MNIST, seed 0")
    ax = fig.axes[0]
    fig.canvas.draw()
    assert ax.get_ylim()[0] == 0
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert min(ticks) == 0 and all(float(t).is_integer() for t in ticks)
    assert all("−" not in t.get_text() and "-" not in t.get_text() for t in ax.get_yticklabels())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "GAN, seed 0 (3 modes)", "MS-GAN, seed 0 (1000 modes)", "uniform: 0.64 per mode"]
    assert fig.get_suptitle() == "Stacked-MNIST, seed 0"


def test_mode_histogram_counts_from_zero_in_whole_samples():
    from repro.plots import mode_histogram

    fig = mode_histogram(np.array([0, 0, 1, 2, 2, 2]), 5)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0
    assert all(float(t).is_integer() for t in ax.get_yticks())


def test_image_panels_label_rows_and_keep_the_title_above_the_panels():
    from repro.plots import image_panels

    images = np.zeros((6, 1, 8, 8), dtype=np.uint8)
    fig = image_panels({"GAN": images, "AM-GAN": images}, columns=2, title="MNIST", row_labels=["0", "1", "2"])
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    suptitle = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        assert suptitle.y0 >= ax.title.get_window_extent(renderer).y1 - 1  # no overlap
    with pytest.raises(ValueError, match="2 row labels for 3 rows"):
        image_panels({"GAN": images}, columns=2, row_labels=["0", "1"])


def test_class_histograms_legend_covers_no_bar():
    from repro.data import ImageDataset
    from repro.plots import class_histograms

    def dataset(split, n):
        labels = np.arange(n) % 3
        return ImageDataset("mnist", split, np.zeros((n, 1, 2, 2), dtype=np.uint8), labels, ("0", "1", "2"), "test")

    fig = class_histograms([dataset("train", 30), dataset("test", 9)])
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # outside the panel, right of it
    assert ax.get_title() == "MNIST"


def test_confusion_matrices_show_each_true_class_in_percent_and_count_the_errors():
    from repro import plots

    rows = [{"run_seed": seed, "true": t, "predicted": p, "count": (90 if t == p else 10) if p in (0, t) else 0}
            for seed in (0, 1, 2) for t in range(3) for p in range(3)]
    fig = plots.confusion_matrices(rows, columns=2, title="t")
    axes = [ax for ax in fig.axes if ax.has_data() or ax.texts]
    assert len(axes) == 3 and not fig.axes[3].axison  # three runs in a 2-column grid: the fourth panel blank
    assert axes[0].get_title() == "seed 0: 20 errors of 290"  # classes 1 and 2 each lose 10 images to class 0
    texts = [t.get_text() for t in axes[0].texts]
    assert texts[:3] == ["100", "0", "0"] and texts[3:5] == ["10", "90"]  # row 1: 10 of its 100 read as 0
    plt.close(fig)


def test_claims_figure_draws_one_interval_per_judged_claim_and_marks_those_awaiting_a_rerun():
    from repro.experiments.claims import Claim
    from repro.plots import VERDICT_COLOURS, claims_figure

    fresh = Claim("A beats B", "A > B", "FID", difference=2.0, ci_low=1.0, ci_high=3.0, health="pass",
                  verdict="supported")
    stale = Claim("C beats D", "C > D", "FID", difference=-1.0, ci_low=-2.0, ci_high=0.5, health="pass",
                  verdict="inconclusive", awaiting_rerun=True)
    value = Claim("error 0.93%", "0.93", "test error %", difference=0.1, ci_low=0.0, ci_high=0.2, health="pass",
                  verdict="reproduced", kind="value", paper_value=0.93)
    unjudged = Claim("E beats F", "E > F")  # not run: no difference, left out
    fig = claims_figure([fresh, stale, value, unjudged], "paper")
    orderings, values, paper_beside = fig.axes
    assert [t.get_text() for t in orderings.get_yticklabels()] == ["C beats D †", "A beats B"]
    intervals = [line for line in orderings.lines if len(line.get_xdata()) == 2 and line.get_ydata()[0] ==
                 line.get_ydata()[1] and line.get_linewidth() == 2]
    assert [(tuple(line.get_xdata()), line.get_linestyle(), line.get_alpha()) for line in intervals] == [
        ((-2.0, 0.5), "--", 0.45), ((1.0, 3.0), "-", 1.0)]
    assert intervals[1].get_color() == VERDICT_COLOURS["supported"]
    assert [t.get_text() for t in values.get_yticklabels()] == ["error 0.93%"]
    assert [bar.get_width() for bar in paper_beside.patches] == pytest.approx([0.93, 1.03])
    assert "† on results awaiting their notebook's rerun" in fig.get_suptitle()
    assert "†" not in claims_figure([fresh], "paper").get_suptitle()
