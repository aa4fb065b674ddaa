"""Figures shared by the notebooks (matplotlib / seaborn): image grids and panels, class and mode histograms,
metrics against the sample count, learning curves and metrics along any variable (:func:`curves`). Tiling images
into one picture is :mod:`repro.images`.

Column and dataset names become titles and axis labels through :func:`label`; a line drawn at a paper's value
carries a legend entry that says so (``paper: 0.93 %``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import to_rgba
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from .data import ImageDataset
from .images import tile_images

# Readable names for the table columns and dataset names that figures show as titles or axis labels
LABELS = {
    "run_seed": "seed",
    "step": "iteration",
    "is_mean": "Inception Score (classifier)",
    "am_score": "AM Score (classifier)",
    "fid": "FID",
    "kid_mean": "KID",
    "modes": "modes covered",
    "kl_to_uniform": "KL to uniform",
    "error_raw_percent": "test error (%), current D",
    "error_average_percent": "test error (%), averaged D",
    "mnist": "MNIST",
    "stacked_mnist": "Stacked-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "svhn": "SVHN",
    "stl10": "STL-10",
}


def label(name: str) -> str:
    """The readable title of a column or dataset name (:data:`LABELS`; the name itself where none is known)."""
    return LABELS.get(name, name)


def paper_label(value: float, unit: str = "", what: str = "") -> str:
    """The legend entry of a line drawn at a paper's published value: ``paper: 0.93 %`` (``paper, what: ...``)."""
    return f"paper{', ' + what if what else ''}: {value:g}{' ' + unit if unit else ''}"


def integer_counts(ax: plt.Axes) -> None:
    """Make the y axis a counts axis: from 0, with integer ticks (on a linear scale; a symlog scale ticks at
    0, 1, 10, ...) written with thousands separators. Set the scale first."""
    ax.set_ylim(bottom=0)
    if ax.get_yscale() == "linear":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def show_grid(images: np.ndarray, columns: int, title: str = "", scale: float = 0.45) -> plt.Figure:
    """A figure of uint8 (N, C, H, W) images in a grid (greyscale when C is 1)."""
    picture = tile_images(images, columns)
    height, width = picture.shape[:2]
    fig, ax = plt.subplots(figsize=(max(2.0, width * scale / 28), max(2.0, height * scale / 28)))
    if picture.shape[2] == 1:
        ax.imshow(picture[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(picture)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def class_grid(dataset: ImageDataset, per_class: int, seed: int) -> plt.Figure:
    """A grid with one row per class holding ``per_class`` images drawn with ``seed`` (first 20 classes)."""
    rng = np.random.default_rng(seed)
    shown = range(min(dataset.num_classes, 20))
    rows = [rng.choice(np.flatnonzero(dataset.labels == c), size=per_class, replace=False) for c in shown]
    fig = show_grid(dataset.images[np.concatenate(rows)], per_class, f"{dataset.name} {dataset.split}")
    return fig


def class_histograms(datasets: Sequence[ImageDataset]) -> plt.Figure:
    """Bar charts of images per class, one panel per dataset name, splits side by side."""
    names = list(dict.fromkeys(d.name for d in datasets))
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        records = {"class": [], "count": [], "split": []}
        for d in (d for d in datasets if d.name == name):
            counts = np.bincount(d.labels[d.labels >= 0], minlength=d.num_classes)
            records["class"] += list(d.classes)
            records["count"] += counts.tolist()
            records["split"] += [d.split] * d.num_classes
        sns.barplot(x=records["class"], y=records["count"], hue=records["split"], ax=ax)
        ax.set_title(label(name))
        ax.set_ylabel("images")
        ax.tick_params(axis="x", rotation=60 if max(len(c) for c in records["class"]) > 2 else 0)
        ax.get_legend().remove()
    # one legend for all panels, outside the last one, so that it covers no bar
    axes[0][-1].legend(*axes[0][-1].get_legend_handles_labels(), title="split", loc="upper left",
                       bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def mode_histogram(mode_labels: np.ndarray, n_modes: int, title: str = "") -> plt.Figure:
    """Samples per mode (e.g. Stacked-MNIST's 1,000), sorted, with the uniform expectation marked."""
    counts = np.sort(np.bincount(np.asarray(mode_labels), minlength=n_modes))[::-1]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(np.arange(n_modes), counts, width=1.0)
    uniform = len(mode_labels) / n_modes
    ax.axhline(uniform, color="k", linestyle="--", linewidth=1, label=f"uniform: {uniform:,.3g} per mode")
    ax.set_xlabel("mode (sorted by count)")
    ax.set_ylabel("samples")
    integer_counts(ax)
    ax.set_title(title or f"{(counts > 0).sum()} of {n_modes} modes present")
    ax.legend()
    fig.tight_layout()
    return fig


def mode_coverage(panels: Mapping[str, Mapping[str, np.ndarray]], title: str = "") -> plt.Figure:
    """Samples per mode, sorted, one panel per title and one line per run: ``panels`` maps a panel title to
    {run label: its count per mode, (n_modes,)}; the uniform expectation dotted. The counts axis is linear
    from 0 to 1 and logarithmic above (a few modes hold most samples of a collapsed run), with integer ticks."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    for ax, (panel, runs) in zip(axes[0], panels.items(), strict=True):
        for run, per_mode in runs.items():
            counts = np.sort(np.asarray(per_mode))[::-1]
            ax.plot(np.arange(1, len(counts) + 1), counts, label=f"{run} ({(counts > 0).sum()} modes)")
        per_mode = next(iter(runs.values()), None)
        if per_mode is not None:
            uniform = np.sum(per_mode) / len(per_mode)
            ax.axhline(uniform, color="grey", linestyle=":", label=f"uniform: {uniform:,.3g} per mode")
        ax.set_yscale("symlog", linthresh=1)
        integer_counts(ax)
        ax.set_ylim(top=2 * max((np.max(c) for c in runs.values()), default=1))  # a factor of 2 above the highest
        ax.set_xlabel("mode rank")
        ax.set_title(panel)
    axes[0][0].set_ylabel("samples per mode")
    axes[0][-1].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def metrics_vs_samples(rows: Sequence[dict], metrics: Sequence[str] = ("is_mean", "fid", "kid_mean")) -> plt.Figure:
    """One panel per metric: its value against the number of samples, one line per dataset."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.3), squeeze=False)
    sizes = sorted({r["n_train_subset"] for r in rows})
    for ax, metric in zip(axes[0], metrics, strict=True):
        for dataset in dict.fromkeys(r["dataset"] for r in rows):
            points = [(r["n_train_subset"], r[metric]) for r in rows if r["dataset"] == dataset]
            ax.plot(*zip(*points, strict=True), marker="o", label=label(dataset))
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("real images scored (N)")
        ax.set_title(label(metric))
        ax.legend()
    fig.tight_layout()
    return fig


def error_curves(rows: Sequence[dict], columns: Sequence[str], group: str = "labels", x: str = "epoch",
                 reference: dict | None = None, title: str = "") -> plt.Figure:
    """One panel per column (e.g. raw and averaged test error, %): one line per run, coloured by ``group``.

    ``reference`` maps a group value to the paper's test error (%), drawn as a dashed line in its colour and
    named in the legend (``paper, labels 100: 0.93 %``); ``title`` goes above the panels."""
    groups = list(dict.fromkeys(r[group] for r in rows))
    colours = dict(zip(groups, sns.color_palette(n_colors=max(1, len(groups))), strict=True))
    fig, axes = plt.subplots(1, len(columns), figsize=(5 * len(columns), 3.6), squeeze=False, sharey=True)
    for ax, column in zip(axes[0], columns, strict=True):
        runs = dict.fromkeys((r[group], r.get("run_seed")) for r in rows)
        for value, seed in runs:
            points = sorted((r[x], r[column]) for r in rows if r[group] == value and r.get("run_seed") == seed)
            first = seed == min(s for v, s in runs if v == value)
            ax.plot(*zip(*points, strict=True), color=colours[value], alpha=0.8,
                    label=f"{group} {value}" if first else None)
        for value, level in (reference or {}).items():
            if value in colours:
                ax.axhline(level, color=colours[value], linestyle="--", linewidth=1,
                           label=paper_label(level, "%", f"{group} {value}"))
        ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_title(label(column))
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("test error (%)")
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def curves(rows: Sequence[Mapping], x: str, ys: Sequence[str], hue: str, panel: str | None = None,
           ylabels: Mapping[str, str] | None = None, title: str = "") -> plt.Figure:
    """Metrics along a variable: one row of panels per metric in ``ys``, one column per value of ``panel`` (one
    column without), one line per value of ``hue``: the mean over the rows sharing an ``x`` (the seeds), with the
    range of those rows shaded where there are several (NaNs left out); ``x`` values in ascending order.
    ``ylabels`` overrides a metric's axis label."""
    if not rows:
        raise ValueError("plots.curves: no rows to draw")
    panels = list(dict.fromkeys(r[panel] for r in rows)) if panel else [None]
    hues = list(dict.fromkeys(r[hue] for r in rows))
    colours = dict(zip(hues, sns.color_palette(n_colors=max(1, len(hues))), strict=True))
    fig, axes = plt.subplots(len(ys), len(panels), figsize=(5 * len(panels), 3.3 * len(ys)), squeeze=False)
    for row, y in enumerate(ys):
        for column, value in enumerate(panels):
            ax = axes[row][column]
            for name in hues:
                points = [r for r in rows if r[hue] == name and (panel is None or r[panel] == value)]
                xs = sorted(dict.fromkeys(r[x] for r in points))
                if not xs:
                    continue
                at = [np.array([float(r[y]) for r in points if r[x] == step]) for step in xs]
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a step where every value is NaN stays NaN
                    mean, low, high = ([f(v) for v in at] for f in (np.nanmean, np.nanmin, np.nanmax))
                ax.plot(xs, mean, marker=".", color=colours[name], label=str(name))
                if any(len(v) > 1 for v in at):
                    ax.fill_between(xs, low, high, color=colours[name], alpha=0.2)
            if row == 0 and panel is not None:
                ax.set_title(f"{label(panel)}: {label(str(value))}")
            if row == len(ys) - 1:
                ax.set_xlabel(label(x))
            if column == 0:
                ax.set_ylabel((ylabels or {}).get(y, label(y)))
    axes[0][-1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrices(rows: Sequence[dict], panel: str = "run_seed", columns: int = 3,
                       title: str = "") -> plt.Figure:
    """One heatmap per value of ``panel`` (e.g. each seed) of rows (``true``, ``predicted``, ``count``): each true
    class's row in % of that class's images, annotated, so that a class the classifier never learned stands out
    whatever the other classes do."""
    panels = list(dict.fromkeys(r[panel] for r in rows))
    n_rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(n_rows, min(columns, len(panels)), figsize=(4.2 * min(columns, len(panels)),
                                                                          3.9 * n_rows), squeeze=False)
    classes = sorted({int(r["true"]) for r in rows} | {int(r["predicted"]) for r in rows})
    for ax, value in zip(axes.flat, panels, strict=False):
        counts = np.zeros((len(classes), len(classes)))
        for r in rows:
            if r[panel] == value:
                counts[classes.index(int(r["true"])), classes.index(int(r["predicted"]))] += r["count"]
        percent = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        errors = int(counts.sum() - np.trace(counts))
        sns.heatmap(percent, ax=ax, vmin=0, vmax=100, cmap="viridis", annot=True, fmt=".0f", cbar=False,
                    annot_kws={"fontsize": 6}, xticklabels=classes, yticklabels=classes, square=True)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{label(panel)} {value}: {errors:,} errors of {int(counts.sum()):,}", fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_panels(panels: dict[str, np.ndarray], columns: int, panel_size: float = 2.6, title: str = "",
                 row_labels: Sequence[str] | None = None) -> plt.Figure:
    """One tiled image grid per title, side by side: ``panels`` maps a title to uint8 images (N, C, H, W).

    ``title``: the figure's title, above the panels' own; ``row_labels``: one name per row of ``columns`` images
    (e.g. the class each row holds), written left of each panel's rows."""
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), panel_size * 1.1), squeeze=False,
                             layout="constrained")
    for ax, (name, images) in zip(axes[0], panels.items(), strict=True):
        picture = tile_images(images, columns=columns)
        ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
        if row_labels is not None:
            rows = -(-len(images) // columns)
            if len(row_labels) != rows:
                raise ValueError(f"{len(row_labels)} row labels for {rows} rows of {columns} images in panel {name!r}")
            ax.axis("on")
            ax.set_xticks([])
            ax.set_yticks((np.arange(rows) + 0.5) * picture.shape[0] / rows, list(row_labels), fontsize=7)
            ax.tick_params(left=False, pad=1)
            for spine in ax.spines.values():
                spine.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


VERDICT_COLOURS = {"supported": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:orange",
                   "reproduced": "tab:green", "not reproduced": "tab:red", "untestable at this scale": "0.6",
                   "not run": "0.85"}


def claims_figure(claims: Sequence, title: str) -> plt.Figure:
    """A paper's claims at a glance: per metric, a forest plot of each claim's difference (> 0: the paper's
    direction; for a value claim ours − paper) with its 95% interval, coloured by verdict, grey where a run
    failed the health gate; and, where values compare, the paper's value beside ours. A claim on results awaiting
    its notebook's rerun (``awaiting_rerun``; not tallied) is drawn dashed and faded, its label ending in †.

    ``claims``: :class:`repro.experiments.claims.Claim` objects (those without a difference are left out)."""

    def label(c) -> str:
        return c.claim[:70] + " †" * c.awaiting_rerun

    def alpha(c) -> float:
        return 0.45 if c.awaiting_rerun else 1.0

    shown = [c for c in claims if np.isfinite(c.difference)]
    metrics = list(dict.fromkeys((c.kind == "value", c.metric) for c in shown))
    values = [c for c in shown if c.kind == "value" and np.isfinite(c.paper_value)]
    heights = [max(1.2, 0.42 * sum((c.kind == "value", c.metric) == m for c in shown) + 0.7) for m in metrics]
    if values:
        heights.append(max(1.6, 0.42 * len(values) + 0.9))
    fig, axes = plt.subplots(len(heights) or 1, 1, figsize=(9, sum(heights) or 1.5),
                             gridspec_kw={"height_ratios": heights or [1]}, squeeze=False)
    axes = axes[:, 0]
    for ax, (is_value, metric) in zip(axes, metrics, strict=False):
        rows = [c for c in shown if (c.kind == "value", c.metric) == (is_value, metric)]
        for y, c in enumerate(reversed(rows)):
            colour = VERDICT_COLOURS[c.verdict]
            if np.isfinite(c.ci_low):
                ax.plot([c.ci_low, c.ci_high], [y, y], color=colour, lw=2, alpha=alpha(c),
                        ls="--" if c.awaiting_rerun else "-")
            ax.plot(c.difference, y, "o", color=colour, alpha=alpha(c),
                    mfc=colour if c.health.startswith("pass") else "white")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(rows)), [label(c) for c in reversed(rows)], fontsize=7)
        ax.set_xlabel(f"{'ours − paper' if is_value else 'difference, > 0: the paper’s direction'} ({metric})",
                      fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    if values:
        ax = axes[-1]
        y = np.arange(len(values))
        ax.barh(y - 0.2, [c.paper_value for c in values], height=0.4, color="tab:blue", label="paper")
        ax.barh(y + 0.2, [c.paper_value + c.difference for c in values], height=0.4,
                color=[to_rgba(VERDICT_COLOURS[c.verdict], alpha(c)) for c in values], label="ours")
        ax.set_yticks(y, [label(c) for c in values], fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(f"value ({values[0].metric}; paper blue, ours coloured by verdict; log scale)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    if not shown:
        axes[0].text(0.5, 0.5, "no judged claims yet", ha="center", va="center")
        axes[0].set_axis_off()
    if any(c.awaiting_rerun for c in shown):
        title += "\n† on results awaiting their notebook's rerun (dashed, faded): shown, not tallied"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
