"""Improved-GAN on 32x32 colour images: the semi-supervised Table 2 (CIFAR-10) and SVHN table, and the Table 3
sample-quality ablation. The glue between data, method, loop and scores, so that notebooks 11 and 12 hold only
parameters and narrative. Every run lives in its own folder and resumes (a finished run only re-evaluates).

Defaults are the released scripts' (improved_gan.md §2.2-2.3, §3): batch 100, Adam(3e-4, β1 0.5, Theano ε),
1200 epochs on CIFAR-10 (900 on SVHN) with the rate flat for the first two thirds, then linear to 0; the FM
scripts match pooled features with the L1 norm; the MBD scripts take 3 saturating G steps per D step.
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
from ..errors import ConfigError
from ..methods.improved_gan import SemiSupervisedGAN, classification_error
from ..metrics.evaluate import real_outputs, sample_generator, score_images
from ..nets.improved_gan import CifarDiscriminator, CifarGenerator, data_dependent_init
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

# Salimans et al. 2016, Table 2 (CIFAR-10 test error %, mean ± std over 10 splits) and the SVHN table (§6.3)
PAPER_TABLE2 = {1000: (21.83, 2.01), 2000: (19.61, 2.09), 4000: (18.63, 2.32), 8000: (17.72, 1.82)}
PAPER_SVHN = {500: (18.44, 4.8), 1000: (8.11, 1.3), 2000: (6.16, 0.58)}
PAPER_ERRORS = {"cifar10": PAPER_TABLE2, "svhn": PAPER_SVHN}
PAPER_EPOCHS = {"cifar10": 1200, "svhn": 900}  # the official scripts' schedules
# Table 3: Inception Score of 50,000 CIFAR-10 samples (improved_gan.md §5.4; "±" of some columns unverified)
PAPER_TABLE3 = {"real data": (11.24, 0.12), "our methods": (8.09, 0.07), "-VBN+BN": (7.54, 0.07),
                "-L+HA": (6.86, 0.06), "-LS": (6.83, 0.06), "-L": (4.36, 0.04), "-MBF": (3.87, 0.03)}

# The scripts' pixel scalings: CIFAR (x − 127.5)/128, SVHN (x − 127.5)/127.5. Both are our "symmetric" range
# to within 0.4% (x/127.5 − 1); the difference is a constant input gain that the first weight-normalised
# layer's data-dependent init removes.
VALUE_RANGE = "symmetric"
TRAIN_SIZE = {"cifar10": 50_000, "svhn": 73_257}


@dataclass(frozen=True)
class SSLImageConfig:
    """One semi-supervised run (Table 2 / SVHN table) with the FM discriminator; the code's defaults.

    ``d_widths`` and ``generator_width`` shrink the networks and ``n_unlabeled`` the unlabeled pool for CPU
    runs (None: the whole training split)."""

    dataset: str = "cifar10"
    n_labeled: int = 4000
    seed: int = 0
    iterations: int = 600_000  # CIFAR: 1200 epochs x 500; SVHN: 900 x 732 = 658,800
    decay_start: int | None = 400_000  # None: constant rate
    batch_size: int = 100
    lr: float = 3e-4
    d_widths: tuple[int, int] = (96, 192)  # SVHN's FM script: (64, 128)
    generator_width: int = 128
    feature_matching_norm: str = "l1"
    average_decay: float = 0.9999
    n_unlabeled: int | None = None
    init_batch: int = 500
    precision: str = "fp32"  # "bf16": autocast (AMX on CPUs that have it; tensor cores on GPUs)

    def __post_init__(self) -> None:
        if self.dataset not in PAPER_ERRORS:
            raise ConfigError(f"dataset must be one of {sorted(PAPER_ERRORS)}, got {self.dataset!r}")

    @property
    def epochs(self) -> float:
        return self.iterations * self.batch_size / (self.n_unlabeled or TRAIN_SIZE[self.dataset])


@dataclass(frozen=True)
class Table3Config:
    """One Table 3 column: the MBD model ("our methods") and the ablations, our reading of the caption
    (improved_gan.md §5.4): "our methods" = minibatch features + labels + one-sided label smoothing + VBN in G;
    each ablation changes one thing. Labels are the MBD script's 4,000 (400 per class)."""

    column: str = "our methods"
    seed: int = 0
    iterations: int = 600_000
    decay_start: int | None = 400_000
    batch_size: int = 100
    lr: float = 3e-4
    generator_steps: int = 3  # the MBD scripts' saturating G loss, 3 G steps per D step
    n_labeled: int = 4000
    # [our reading]: the α of Table 3 was not released; 0.9 is the paper's example. It smooths D's real term
    # only; G keeps the MBD scripts' saturating loss (the ImageNet code's α/2 G target is not used).
    real_target: float = 0.9
    historical_average: float = 1e-3  # [our reading] λ for "-L+HA"
    d_widths: tuple[int, int] = (96, 192)
    generator_width: int = 128
    reference_size: int = 100  # VBN's reference batch
    init_batch: int = 500
    precision: str = "fp32"  # "bf16": autocast (AMX on CPUs that have it; tensor cores on GPUs)

    COLUMNS = ("our methods", "-VBN+BN", "-L+HA", "-LS", "-L", "-MBF")

    def __post_init__(self) -> None:
        if self.column not in self.COLUMNS:
            raise ConfigError(f"Table 3 column must be one of {self.COLUMNS}, got {self.column!r}")

    def ablation(self) -> dict[str, Any]:
        """The column as switches: what differs from "our methods"."""
        return {
            "vbn": self.column != "-VBN+BN",
            "labels": self.column not in ("-L+HA", "-L"),
            "label_smoothing": self.column != "-LS",
            "historical_average": self.column == "-L+HA",
            "minibatch_features": self.column != "-MBF",
        }


def _labeled_split(train_set, n_labeled: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    index = balanced_labeled_subset(train_set.labels, n_labeled, seed)
    return train_set.images[index], train_set.labels[index]


def _unlabeled(train_set, n_unlabeled: int | None, seed: int) -> np.ndarray:
    """All training images, or a class-balanced subset of ``n_unlabeled`` (the reduced CPU protocol)."""
    if n_unlabeled is None:
        return train_set.images
    return train_set.images[balanced_labeled_subset(train_set.labels, n_unlabeled, seed + 1)]


def _init_discriminator(discriminator: torch.nn.Module, labeled: np.ndarray, init_batch: int, seed: int) -> None:
    """The code initialises D from the first ``init_batch`` images of the repeated, shuffled labeled set."""
    shuffled = labeled[np.random.default_rng(seed).permutation(len(labeled))]
    repeats = -(-init_batch // len(labeled))
    data_dependent_init(discriminator, to_float(np.concatenate([shuffled] * repeats)[:init_batch], VALUE_RANGE))


def build_semisupervised(config: SSLImageConfig, train_set) -> SemiSupervisedGAN:
    torch.manual_seed(config.seed)
    generator = CifarGenerator(width=config.generator_width, norm="bn")
    discriminator = CifarDiscriminator(widths=config.d_widths, minibatch=False)
    labeled, labels = _labeled_split(train_set, config.n_labeled, config.seed)
    _init_discriminator(discriminator, labeled, config.init_batch, config.seed)
    data_dependent_init(generator, torch.rand(config.batch_size, generator.latent_dim))
    return SemiSupervisedGAN(
        generator, discriminator, labeled, labels, generator_objective="feature_matching",
        feature_matching_norm=config.feature_matching_norm, average_decay=config.average_decay,
        value_range=VALUE_RANGE, seed=config.seed,
    )


def _loop(config, n_gen: int, eval_every: int, progress: bool) -> TrainConfig:
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, n_gen=n_gen, lr_g=config.lr, lr_d=config.lr,
        betas_g=(0.5, 0.999), betas_d=(0.5, 0.999), adam_eps=1e-4, seed=config.seed,
        schedule="constant" if config.decay_start is None else "linear", decay_start=config.decay_start or 0,
        log_every=100, eval_every=eval_every, checkpoint_every=max(1, config.iterations // 20),
        sample_bn_mode="train", progress=progress, precision=config.precision,
        channels_last=config.precision == "bf16",
    )


def run_semisupervised(config: SSLImageConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                       progress: bool = False, eval_every: int = 0) -> dict[str, Any]:
    """Train (or resume) one Table 2 / SVHN run; its row holds the test error (%) of the bias-corrected
    averaged D (the code's evaluation weights) and of the current D, dropout off, on the whole test split."""
    train_set = load_dataset(config.dataset, "train", data_dir)
    test_set = load_dataset(config.dataset, "test", data_dir)
    method = build_semisupervised(config, train_set)
    test_images = torch.from_numpy(test_set.images)

    def test_errors(step: int, generator: torch.nn.Module) -> dict[str, float]:
        averaged = method.evaluation_discriminator(bias_corrected=True)
        return {
            "epoch": step * config.batch_size / (config.n_unlabeled or len(train_set)),
            "error_raw_percent": 100 * classification_error(method.discriminator, test_images, test_set.labels,
                                                            VALUE_RANGE),
            "error_average_percent": 100 * classification_error(averaged, test_images, test_set.labels,
                                                                VALUE_RANGE),
        }

    data = DeviceBatches(_unlabeled(train_set, config.n_unlabeled, config.seed), None, config.batch_size,
                         value_range=VALUE_RANGE, device=pick_device())
    result = train(method, data, _loop(config, 1, eval_every, progress), run_dir,
                   evaluate=test_errors if eval_every else None, value_range=VALUE_RANGE)
    final = test_errors(result.step, method.generator)
    return {
        "model": "K+1 GAN + FM",
        "dataset": config.dataset,
        "labels": config.n_labeled,
        "run_seed": config.seed,
        "error_average_percent": round(final["error_average_percent"], 2),
        "error_raw_percent": round(final["error_raw_percent"], 2),
        "steps_trained": result.step,
        "wall_seconds": train_seconds(result),
    }


def run_supervised_baseline(config: SSLImageConfig, run_dir: str | os.PathLike | None = None,
                            data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The run's D (dropout, weight norm, init on the labeled images) trained on its labeled split alone, for
    as many D steps with the same optimiser and schedule; a row like :func:`run_semisupervised`'s with the
    current D's test error (there is no parameter average). Kept in ``run_dir/result.json`` when given."""
    if (kept := cached_row(run_dir)) is not None:
        return kept
    train_set = load_dataset(config.dataset, "train", data_dir)
    test_set = load_dataset(config.dataset, "test", data_dir)
    trained = labels_only_test_error(build_semisupervised(config, train_set), _loop(config, 1, 0, False),
                                     test_set.images, test_set.labels)
    row = {
        "model": SUPERVISED_ONLY,
        "dataset": config.dataset,
        "labels": config.n_labeled,
        "run_seed": config.seed,
        "error_raw_percent": round(100 * trained["error"], 2),
        "steps_trained": config.iterations,
        "wall_seconds": trained["wall_seconds"],
    }
    return keep_row(run_dir, row)


def run_supervised_baselines(configs: Sequence[SSLImageConfig], root: str | os.PathLike,
                             data_dir: str | os.PathLike | None = None, workers: int = 1) -> list[dict[str, Any]]:
    """The supervised-only baseline of every run, ``workers`` at a time; finished ones are read back."""
    arguments = [(c, Path(root) / "supervised" / semisupervised_run_name(c), data_dir) for c in configs]
    return map_in_processes(run_supervised_baseline, arguments, workers, 1)


def unlabeled_margin(gan_rows: Sequence[dict[str, Any]],
                     baseline_rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (dataset, labels): the GAN's test error (averaged and current D) beside the supervised-only
    baseline's (current D: it keeps no average), mean ± std over seeds, and the margin that the unlabeled data
    buys, baseline − GAN in percentage points, current D against current D. Label counts without a baseline
    are left out."""

    def values(rows, key, dataset, labels):
        return [r[key] for r in rows if r["dataset"] == dataset and r["labels"] == labels]

    table = []
    for dataset, labels in dict.fromkeys((r["dataset"], r["labels"]) for r in gan_rows):
        baseline = values(baseline_rows, "error_raw_percent", dataset, labels)
        if not baseline:
            continue
        gan = values(gan_rows, "error_raw_percent", dataset, labels)
        baseline_mean, baseline_std = seed_stats(baseline)
        gan_mean, gan_std = seed_stats(gan)
        averaged_mean, averaged_std = seed_stats(values(gan_rows, "error_average_percent", dataset, labels))
        table.append({
            "dataset": dataset, "labels": labels, "gan_seeds": len(gan), "supervised_seeds": len(baseline),
            "gan_error_average_percent_mean": averaged_mean, "gan_error_average_percent_std": averaged_std,
            "gan_error_raw_percent_mean": gan_mean, "gan_error_raw_percent_std": gan_std,
            "supervised_error_percent_mean": baseline_mean, "supervised_error_percent_std": baseline_std,
            "margin_points": baseline_mean - gan_mean,
        })
    return table


def semisupervised_run_name(config: SSLImageConfig) -> str:
    return f"{config.dataset}-labels{config.n_labeled}-seed{config.seed}-{config_digest(config)}"


def run_semisupervised_all(configs: Sequence[SSLImageConfig], root: str | os.PathLike,
                           data_dir: str | os.PathLike | None = None, workers: int = 1,
                           eval_every: int = 0) -> list[dict[str, Any]]:
    """Every run, ``workers`` at a time (one thread each when more than one)."""
    arguments = [(c, Path(root) / semisupervised_run_name(c), data_dir, False, eval_every) for c in configs]
    return map_in_processes(run_semisupervised, arguments, workers, 1)


def semisupervised_curves(configs: Sequence[SSLImageConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    return [row for c in configs for row in read_eval_log(Path(root) / semisupervised_run_name(c),
                                                          dataset=c.dataset, labels=c.n_labeled, run_seed=c.seed)]


def summarise_errors(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± std (ddof 1) of the test error per (dataset, labels) for both evaluation weights, beside the
    paper's number."""
    summary = []
    for dataset, labels in dict.fromkeys((r["dataset"], r["labels"]) for r in rows):
        group = [r for r in rows if r["dataset"] == dataset and r["labels"] == labels]
        paper = PAPER_ERRORS[dataset].get(labels)
        row: dict[str, Any] = {"dataset": dataset, "labels": labels, "seeds": len(group)}
        for key in ("error_average_percent", "error_raw_percent"):
            row[f"{key}_mean"], row[f"{key}_std"] = seed_stats([r[key] for r in group])
        row["paper_error_percent"] = f"{paper[0]} ± {paper[1]}" if paper else "not reported"
        summary.append(row)
    return summary


# ----------------------------------------------------------------------------------------------------------
# Table 3


def build_table3(config: Table3Config, train_set) -> SemiSupervisedGAN:
    switches = config.ablation()
    torch.manual_seed(config.seed)
    generator = CifarGenerator(width=config.generator_width, norm="vbn" if switches["vbn"] else "bn",
                               reference_size=config.reference_size, seed=config.seed)
    discriminator = CifarDiscriminator(widths=config.d_widths, minibatch=switches["minibatch_features"],
                                       input_layer="noise")
    labeled, labels = _labeled_split(train_set, config.n_labeled, config.seed)
    _init_discriminator(discriminator, labeled, config.init_batch, config.seed)
    data_dependent_init(generator, torch.rand(config.batch_size, generator.latent_dim))
    return SemiSupervisedGAN(
        generator, discriminator, labeled if switches["labels"] else None, labels if switches["labels"] else None,
        use_labels=switches["labels"], generator_objective="minimax",
        real_target=config.real_target if switches["label_smoothing"] else 1.0,
        historical_average=config.historical_average if switches["historical_average"] else 0.0,
        value_range=VALUE_RANGE, seed=config.seed,
    )


def table3_run_name(config: Table3Config) -> str:
    column = config.column.replace("+", "plus").replace("-", "minus").replace(" ", "_")
    return f"{column}-seed{config.seed}-{config_digest(config)}"


def train_table3(config: Table3Config, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                 progress: bool = False) -> dict[str, Any]:
    """Train (or resume) one Table 3 model on the CIFAR-10 training images; returns where it is."""
    train_set = load_dataset("cifar10", "train", data_dir)
    method = build_table3(config, train_set)
    data = DeviceBatches(train_set.images, None, config.batch_size, value_range=VALUE_RANGE, device=pick_device())
    result = train(method, data, _loop(config, config.generator_steps, 0, progress), run_dir,
                   value_range=VALUE_RANGE)
    return {"column": config.column, "run_seed": config.seed, "steps_trained": result.step,
            "wall_seconds": train_seconds(result)}


def table3_generator(config: Table3Config, run_dir: str | os.PathLike,
                     data_dir: str | os.PathLike | None = None) -> torch.nn.Module:
    """The generator of a trained Table 3 run, loaded from its checkpoint."""
    checkpoint = trained_checkpoint(run_dir, "train_table3")
    return load_trained(build_table3(config, load_dataset("cifar10", "train", data_dir)), checkpoint).generator


def score_table3(config: Table3Config, run_dir: str | os.PathLike, extractor, n_samples: int,
                 data_dir: str | os.PathLike | None = None, n_reference: int | None = None) -> dict[str, Any]:
    """IS (10 splits) and FID against the CIFAR-10 test images of ``n_samples`` samples, under ``extractor``
    (the project's CIFAR-10 classifier, or Inception when its weights are supplied). Kept in the run folder
    per extractor and sample count, so a notebook rerun does not resample."""
    score_dir = Path(run_dir) / f"scores-{extractor.name}-{n_samples}"
    if (kept := cached_row(score_dir)) is not None:
        return kept
    generator = table3_generator(config, run_dir, data_dir)
    images = sample_generator(generator, n_samples, latent_dim=generator.latent_dim, seed=config.seed + 10_000,
                              bn_mode="train", value_range=VALUE_RANGE)
    reference = real_outputs("cifar10", "test", extractor, n_reference, data_dir)
    scores = score_images(images, extractor, reference=reference, metrics=("is", "fid"), value_range=VALUE_RANGE)
    return keep_row(score_dir, {"column": config.column, "run_seed": config.seed, **scores})


def summarise_table3(rows: Sequence[dict[str, Any]], score: str = "is_mean") -> list[dict[str, Any]]:
    """Mean ± std (ddof 1, over seeds) of ``score`` and FID per column, beside the paper's Inception Score."""
    summary = []
    for column in dict.fromkeys(r["column"] for r in rows):
        group = [r for r in rows if r["column"] == column]
        (is_mean, is_std), (fid_mean, fid_std) = (seed_stats([r[k] for r in group]) for k in (score, "fid"))
        paper = PAPER_TABLE3.get(column)
        summary.append({
            "column": column, "seeds": len(group),
            "is_mean": is_mean, "is_std_over_seeds": is_std,
            "fid_mean": fid_mean, "fid_std_over_seeds": fid_std,
            "paper_inception_score": f"{paper[0]} ± {paper[1]}" if paper else "",
        })
    return summary
