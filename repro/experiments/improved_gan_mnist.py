"""Improved-GAN Table 1: semi-supervised MNIST (permutation invariant) with the K+1 GAN and feature matching.

The glue between data, the method, the loop and the test error, so that notebook 10 holds only parameters and
narrative. Each run lives in its own folder and resumes (a finished run only re-evaluates).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data import DeviceBatches, balanced_labeled_subset, load_dataset, to_float
from ..methods.improved_gan import SemiSupervisedGAN, classification_error
from ..nets.improved_gan import MnistSSLDiscriminator, MnistSSLGenerator, data_dependent_init
from ..train import TrainConfig, train

# Salimans et al. 2016, Table 1 ("Our model"): test errors out of 10,000, mean ± std over 10 seeds
PAPER_TABLE1 = {20: (1677, 452), 50: (221, 136), 100: (93, 6.5), 200: (90, 4.2)}


@dataclass(frozen=True)
class SSLMnistConfig:
    """One Table 1 run. Defaults follow the official MNIST script (improved_gan.md §3) except the epochs."""

    n_labeled: int = 100
    seed: int = 0
    iterations: int = 6000  # the code trains 300 epochs of 600 iterations (180,000)
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


def run_semisupervised(
    config: SSLMnistConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train (or resume) one semi-supervised run and return its Table 1 row with test errors out of 10,000.

    ``errors_average`` uses the bias-corrected parameter average of D (the code's evaluation weights, corrected
    for short runs); ``errors_raw`` the current D. Both in eval mode (noise off).
    """
    train_set, test_set = load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)
    method = _build(config, train_set.images, train_set.labels)
    loop = TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr,
        betas_g=(0.5, 0.999), betas_d=(0.5, 0.999), adam_eps=1e-4, seed=config.seed, log_every=100,
        checkpoint_every=max(1, config.iterations // 10), progress=progress,
    )
    started = time.perf_counter()
    result = train(method, DeviceBatches(train_set.images, None, config.batch_size, value_range="unit"), loop,
                   run_dir, value_range="unit")
    test_images = torch.from_numpy(test_set.images)
    raw = classification_error(method.discriminator, test_images, test_set.labels)
    averaged = classification_error(method.evaluation_discriminator(bias_corrected=True), test_images, test_set.labels)
    return {
        "model": "K+1 GAN, feature matching",
        "labels": config.n_labeled,
        "seed": config.seed,
        "errors_average": round(averaged * len(test_set)),
        "errors_raw": round(raw * len(test_set)),
        "iterations": result.step,
        "epochs": round(config.epochs, 2),
        "wall_seconds": round(time.perf_counter() - started, 1),  # near 0 when a finished run is re-evaluated
    }


def run_supervised_baseline(config: SSLMnistConfig, data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The same D (noise layers, weight norm, init) trained on the labeled images only, for as many D steps and
    with the same optimiser: the margin the unlabeled data and the generator buy."""
    train_set, test_set = load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)
    method = _build(config, train_set.images, train_set.labels)
    discriminator = method.discriminator
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=(0.5, 0.999), eps=1e-4)
    started = time.perf_counter()
    discriminator.train()
    for _ in range(config.iterations):
        images, classes = method.labeled_batch(config.batch_size)
        logits, _ = discriminator(images)
        loss = F.cross_entropy(logits, classes)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    error = classification_error(discriminator, torch.from_numpy(test_set.images), test_set.labels)
    return {
        "model": "supervised only (same D)",
        "labels": config.n_labeled,
        "seed": config.seed,
        "errors_raw": round(error * len(test_set)),
        "iterations": config.iterations,
        "epochs": round(config.epochs, 2),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def summarise(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    """Mean ± std (ddof 1) of ``column`` per (model, labels), beside the paper's number for the GAN."""
    summary = []
    for model, labels in dict.fromkeys((r["model"], r["labels"]) for r in rows):
        values = np.array([r[column] for r in rows if r["model"] == model and r["labels"] == labels], dtype=float)
        paper = PAPER_TABLE1.get(labels) if model.startswith("K+1") else None
        summary.append({
            "model": model,
            "labels": labels,
            "seeds": len(values),
            "errors_mean": float(values.mean()),
            "errors_std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
            "error_percent": float(values.mean() / 100),
            "paper_errors": f"{paper[0]} ± {paper[1]}" if paper else "",
        })
    return summary


def run_name(config: SSLMnistConfig) -> str:
    """A folder name that changes whenever the run's configuration does."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:8]
    return f"labels{config.n_labeled}-seed{config.seed}-{digest}"


def runs_root(profile: str) -> Path:
    """Where the notebook keeps its training runs (git-ignored)."""
    from ..paths import REPO_ROOT

    return REPO_ROOT / "runs" / "10_improved_gan_semisupervised_mnist" / profile
