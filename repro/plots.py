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
