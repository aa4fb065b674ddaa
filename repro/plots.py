"""Figures shared by the notebooks (matplotlib / seaborn): image grids and panels, class and mode histograms,
metrics against the sample count, and learning curves. Tiling images into one picture is :mod:`repro.images`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .data import ImageDataset
from .images import tile_images


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
        ax.set_title(name)
        ax.set_ylabel("images")
        ax.tick_params(axis="x", rotation=60 if max(len(c) for c in records["class"]) > 2 else 0)
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def mode_histogram(mode_labels: np.ndarray, n_modes: int, title: str = "") -> plt.Figure:
    """Samples per mode (e.g. Stacked-MNIST's 1,000), sorted, with the uniform expectation marked."""
    counts = np.sort(np.bincount(np.asarray(mode_labels), minlength=n_modes))[::-1]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(np.arange(n_modes), counts, width=1.0)
    ax.axhline(len(mode_labels) / n_modes, color="k", linestyle="--", linewidth=1, label="uniform")
    ax.set_xlabel("mode (sorted by count)")
    ax.set_ylabel("samples")
    ax.set_title(title or f"{(counts > 0).sum()} of {n_modes} modes present")
    ax.legend()
    fig.tight_layout()
    return fig


def metrics_vs_samples(rows: Sequence[dict], metrics: Sequence[str] = ("is_mean", "fid", "kid_mean")) -> plt.Figure:
    """One panel per metric: its value against the number of samples, one line per dataset."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.3), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for dataset in dict.fromkeys(r["dataset"] for r in rows):
            points = [(r["n_train_subset"], r[metric]) for r in rows if r["dataset"] == dataset]
            ax.plot(*zip(*points, strict=True), marker="o", label=dataset)
        ax.set_xscale("log")
        ax.set_xlabel("real images scored (N)")
        ax.set_title(metric)
        ax.legend()
    fig.tight_layout()
    return fig


def error_curves(rows: Sequence[dict], columns: Sequence[str], group: str = "labels", x: str = "epoch",
                 reference: dict | None = None) -> plt.Figure:
    """One panel per column (e.g. raw and averaged test error, %): one line per run, coloured by ``group``.

    ``reference`` maps a group value to a horizontal line drawn in its colour (e.g. the paper's error)."""
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
                ax.axhline(level, color=colours[value], linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_title(column)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("test error (%)")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def image_panels(panels: dict[str, np.ndarray], columns: int, panel_size: float = 2.6) -> plt.Figure:
    """One tiled image grid per title, side by side: ``panels`` maps a title to uint8 images (N, C, H, W)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), panel_size * 1.1), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels.items(), strict=True):
        picture = tile_images(images, columns=columns)
        ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


VERDICT_COLOURS = {"supported": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:orange",
                   "reproduced": "tab:green", "not reproduced": "tab:red", "untestable at this scale": "0.6",
                   "not run": "0.85"}


def claims_figure(claims: Sequence, title: str) -> plt.Figure:
    """A paper's claims at a glance: per metric, a forest plot of each claim's difference (> 0: the paper's
    direction; for a value claim ours − paper) with its 95% interval, coloured by verdict, grey where a run
    failed the health gate; and, where values compare, the paper's value beside ours.

    ``claims``: :class:`repro.experiments.claims.Claim` objects (those without a difference are left out)."""
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
                ax.plot([c.ci_low, c.ci_high], [y, y], color=colour, lw=2)
            ax.plot(c.difference, y, "o", color=colour, mfc=colour if c.health.startswith("pass") else "white")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(rows)), [c.claim[:70] for c in reversed(rows)], fontsize=7)
        ax.set_xlabel(f"{'ours − paper' if is_value else 'difference, > 0: the paper’s direction'} ({metric})",
                      fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    if values:
        ax = axes[-1]
        y = np.arange(len(values))
        ax.barh(y - 0.2, [c.paper_value for c in values], height=0.4, color="tab:blue", label="paper")
        ax.barh(y + 0.2, [c.paper_value + c.difference for c in values], height=0.4,
                color=[VERDICT_COLOURS[c.verdict] for c in values], label="ours")
        ax.set_yticks(y, [c.claim[:70] for c in values], fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(f"value ({values[0].metric}; paper blue, ours coloured by verdict; log scale)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    if not shown:
        axes[0].text(0.5, 0.5, "no judged claims yet", ha="center", va="center")
        axes[0].set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
