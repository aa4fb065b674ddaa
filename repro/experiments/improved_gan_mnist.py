"""Improved-GAN Table 1: semi-supervised MNIST (permutation invariant) with the K+1 GAN and feature matching.

The glue between data, the method, the loop and the test error, so that notebook 10 holds only parameters and
narrative. Each run lives in its own folder and resumes (a finished run only re-evaluates).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import DeviceBatches, balanced_labeled_subset, load_dataset, to_float
from ..methods.improved_gan import SemiSupervisedGAN, classification_error
from ..nets.improved_gan import MnistSSLDiscriminator, MnistSSLGenerator, data_dependent_init
from ..parallel import map_in_processes
from ..train import TrainConfig, pick_device, train
from .runs import (
    cached_row,
    config_digest,
    keep_row,
    load_trained,
    read_eval_log,
    seed_stats,
    train_seconds,
    trained_checkpoint,
)
from .supervised_only import SUPERVISED_ONLY, labels_only_test_error

# Salimans et al. 2016, Table 1 ("Our model"): test errors out of 10,000, mean ± std over 10 seeds
PAPER_TABLE1 = {20: (1677, 452), 50: (221, 136), 100: (93, 6.5), 200: (90, 4.2)}


@dataclass(frozen=True)
class SSLMnistConfig:
    """One Table 1 run. Defaults are the official MNIST script's (improved_gan.md §3): 300 epochs of 600
    iterations at a constant learning rate, evaluated with the 0.9999 average of D.

    Shortened runs (the ``cpu`` profile) set ``decay_start`` to decay the rate linearly to 0 over the last
    iterations, the shape of the official CIFAR/SVHN schedule, and shorten the average's window with
    ``average_decay`` in proportion to the run (the code's window, 1/(1 − 0.9999) = 10k iterations, is 1/18 of
    its 180k)."""

    n_labeled: int = 100
    seed: int = 0
    iterations: int = 180_000
    decay_start: int | None = None  # None: constant rate (the MNIST script)
    batch_size: int = 100
    lr: float = 3e-3
    unlabeled_weight: float = 1.0
    feature_matching_norm: str = "l2"
    average_decay: float = 0.9999
    init_batch: int = 500
    hidden_widths: tuple[int, ...] = (1000, 500, 250, 250, 250)
    generator_width: int = 500

    @property
    def epochs(self) -> float:
        """Passes over the 60,000 unlabeled images."""
        return self.iterations * self.batch_size / 60_000


def _build(config: SSLMnistConfig, train_images: np.ndarray, train_labels: np.ndarray) -> SemiSupervisedGAN:
    torch.manual_seed(config.seed)
    generator = MnistSSLGenerator(width=config.generator_width)
    discriminator = MnistSSLDiscriminator(widths=config.hidden_widths)
    rng = np.random.default_rng(config.seed)
    init_images = train_images[rng.choice(len(train_images), size=config.init_batch, replace=False)]
    # the MNIST script initialises D from data; G's output layer keeps its gain at 1 (improved_gan.md §2.1)
    data_dependent_init(discriminator, to_float(init_images, "unit"))
    labeled = balanced_labeled_subset(train_labels, config.n_labeled, config.seed)
    return SemiSupervisedGAN(
        generator, discriminator, train_images[labeled], train_labels[labeled],
        unlabeled_weight=config.unlabeled_weight, feature_matching_norm=config.feature_matching_norm,
        average_decay=config.average_decay, seed=config.seed,
    )


def _loop(config: SSLMnistConfig, eval_every: int = 0, progress: bool = False) -> TrainConfig:
    """The run's loop: Adam (lr, β = (0.5, 0.999), the Theano ε) for both players, constant or linear decay."""
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr,
        betas_g=(0.5, 0.999), betas_d=(0.5, 0.999), adam_eps=1e-4, seed=config.seed,
        schedule="constant" if config.decay_start is None else "linear", decay_start=config.decay_start or 0,
        log_every=100, eval_every=eval_every, checkpoint_every=max(1, config.iterations // 10), progress=progress,
    )


def run_semisupervised(
    config: SSLMnistConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
    progress: bool = False, eval_every: int = 0,
) -> dict[str, Any]:
    """Train (or resume) one semi-supervised run and return its Table 1 row with test errors out of 10,000.

    ``errors_average`` uses the bias-corrected parameter average of D (the code's evaluation weights, corrected
    for short runs); ``errors_raw`` the current D. Both in eval mode (noise off), on the whole test set. With
    ``eval_every`` > 0 both are also written to the run's ``eval.csv`` along the way (the learning curve).
    """
    train_set, test_set = load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)
    method = _build(config, train_set.images, train_set.labels)
    loop = _loop(config, eval_every, progress)
    test_images = torch.from_numpy(test_set.images)

    def test_errors(step: int, generator: torch.nn.Module) -> dict[str, float]:
        averaged = method.evaluation_discriminator(bias_corrected=True)
        return {
            "epoch": step * config.batch_size / 60_000,
            "error_raw_percent": 100 * classification_error(method.discriminator, test_images, test_set.labels),
            "error_average_percent": 100 * classification_error(averaged, test_images, test_set.labels),
        }

    data = DeviceBatches(train_set.images, None, config.batch_size, value_range="unit", device=pick_device())
    result = train(method, data, loop, run_dir, evaluate=test_errors if eval_every else None, value_range="unit")
    final = test_errors(result.step, method.generator)
    return {
        "model": "K+1 GAN, feature matching",
        "labels": config.n_labeled,
        "run_seed": config.seed,
        "errors_average": round(final["error_average_percent"] * len(test_set) / 100),
        "errors_raw": round(final["error_raw_percent"] * len(test_set) / 100),
        "steps_trained": result.step,
        "wall_seconds": train_seconds(result),
    }


def run_supervised_baseline(config: SSLMnistConfig, run_dir: str | os.PathLike | None = None,
                            data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The same D (noise layers, weight norm, init) trained on the labeled images only, for as many D steps and
    with the same optimiser and schedule: the margin the unlabeled data and the generator buy.

    With ``run_dir`` the row is kept in ``run_dir/result.json`` and returned from there next time."""
    if (kept := cached_row(run_dir)) is not None:
        return kept
    train_set, test_set = load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)
    trained = labels_only_test_error(_build(config, train_set.images, train_set.labels), _loop(config),
                                     test_set.images, test_set.labels)
    row = {
        "model": SUPERVISED_ONLY,
        "labels": config.n_labeled,
        "run_seed": config.seed,
        "errors_raw": round(trained["error"] * len(test_set)),
        "steps_trained": config.iterations,
        "wall_seconds": trained["wall_seconds"],
    }
    return keep_row(run_dir, row)


def run_table1(configs: Sequence[SSLMnistConfig], root: str | os.PathLike, data_dir: str | os.PathLike | None = None,
               workers: int = 1, eval_every: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All GAN runs, then all supervised-only baselines, ``workers`` at a time (one thread each when more
    than one): ``(gan_rows, baseline_rows)``. Finished runs are only re-evaluated."""
    root = Path(root)
    gan_rows = map_in_processes(
        run_semisupervised, [(c, root / run_name(c), data_dir, False, eval_every) for c in configs], workers, 1)
    baseline_rows = map_in_processes(
        run_supervised_baseline, [(c, root / "supervised" / run_name(c), data_dir) for c in configs], workers, 1)
    return gan_rows, baseline_rows


def learning_curves(configs: Sequence[SSLMnistConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    """The test errors written along each run (``eval.csv``), tagged with labels and seed."""
    return [row for config in configs
            for row in read_eval_log(Path(root) / run_name(config), labels=config.n_labeled, run_seed=config.seed)]


def trained_generator(config: SSLMnistConfig, root: str | os.PathLike,
                      data_dir: str | os.PathLike | None = None) -> torch.nn.Module:
    """The generator of a finished run, loaded from its checkpoint."""
    checkpoint = trained_checkpoint(Path(root) / run_name(config), "run_table1")
    train_set = load_dataset("mnist", "train", data_dir)
    return load_trained(_build(config, train_set.images, train_set.labels), checkpoint).generator


def summarise(rows: list[dict[str, Any]], column: str, model_name: str | None = None) -> list[dict[str, Any]]:
    """Mean ± std (ddof 1) of ``column`` per (model, labels), beside the paper's number for the GAN.
    ``model_name`` renames the model in the summary (e.g. to say which D was scored)."""
    summary = []
    for model, labels in dict.fromkeys((r["model"], r["labels"]) for r in rows):
        values = [r[column] for r in rows if r["model"] == model and r["labels"] == labels]
        mean, std = seed_stats(values)  # errors out of the 10,000 test digits; / 100 gives percent
        paper = PAPER_TABLE1.get(labels) if model.startswith("K+1") else None
        summary.append({
            "model": model_name or model,
            "labels": labels,
            "seeds": len(values),
            "errors_mean": mean,
            "errors_std": std,
            "error_percent": mean / 100,
            "error_percent_std": std / 100,
            "paper_errors": f"{paper[0]} ± {paper[1]}" if paper else "",
            "paper_error_percent": paper[0] / 100 if paper else float("nan"),
        })
    return summary


def table1(gan_rows: list[dict[str, Any]], baseline_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table 1 as we report it: per label count, the GAN scored with the averaged D (the code's evaluation
    weights) and with the current D, and the supervised-only baseline; the paper's number beside the GAN."""
    rows = (summarise(gan_rows, "errors_average", "K+1 GAN + FM, averaged D")
            + summarise(gan_rows, "errors_raw", "K+1 GAN + FM, current D")
            + summarise(baseline_rows, "errors_raw"))
    order = {name: i for i, name in enumerate(dict.fromkeys(r["model"] for r in rows))}
    return sorted(rows, key=lambda r: (r["labels"], order[r["model"]]))


def run_name(config: SSLMnistConfig) -> str:
    """A folder name that changes whenever the run's configuration does."""
    return f"labels{config.n_labeled}-seed{config.seed}-{config_digest(config)}"


def runs_root(profile: str) -> Path:
    """Where the notebook keeps its training runs (git-ignored)."""
    from ..paths import REPO_ROOT

    return REPO_ROOT / "runs" / "10_improved_gan_semisupervised_mnist" / profile
