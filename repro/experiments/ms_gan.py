"""MS-GAN (Tran et al. 2019) against SSGAN and the plain GAN: Stacked-MNIST mode coverage (notebook 30) and
CIFAR-10 FID/KID in the project classifier's feature space (notebook 31). Every run resumes from its folder.

Stacked-MNIST protocol (ms_gan.md §4.2 and §7, the smallest faithful CPU experiment): the K/4 and K/2 nets of
Unrolled GAN, z = 256, the non-saturating loss, batch 64, Adam 2e-4 (0.5, 0.9); each image stacks three digits
drawn on the fly from a fixed, class-balanced pool of MNIST training digits (5,000 by default, seed 0: a stated
deviation from the paper's 55k); modes and KL to uniform of 25,600 samples, each channel read by the project's
MNIST classifier.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import DeviceBatches, StackedMNISTBatches, balanced_labeled_subset, load_dataset
from ..errors import ConfigError
from ..methods.self_supervised import SelfSupervisedGAN
from ..metrics.classifier import per_channel_labels
from ..metrics.evaluate import real_outputs, sample_generator, score_images
from ..metrics.modes import STACKED_MNIST_SAMPLES, mode_coverage
from ..nets.dcgan import dcgan_nets
from ..nets.sngan import sngan_cnn_nets, sngan_resnet_nets
from ..nets.stacked_mnist import stacked_mnist_nets
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

MODELS: dict[str, str] = {"GAN": "none", "SSGAN": "rotation", "MS-GAN": "minimax"}  # model -> task
VALUE_RANGE = "symmetric"


def check_model(model: str, weight_d: float | None, weight_g: float | None) -> None:
    """A known model, and self-supervised weights only where there is a self-supervised task."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if model == "GAN" and (weight_d is not None or weight_g is not None):
        raise ConfigError("the plain GAN has no self-supervised weights; leave weight_d and weight_g unset")


def model_label(model: str, weight_d: float | None, weight_g: float | None) -> str:
    """The model with its non-default weights, e.g. "MS-GAN (λ_g 0.2)"."""
    weights = [f"{name} {value:g}" for name, value in (("λ_d", weight_d), ("λ_g", weight_g)) if value is not None]
    return f"{model} ({', '.join(weights)})" if weights else model


@dataclass(frozen=True)
class StackedMNISTConfig:
    """One Stacked-MNIST run (module docstring). ``weight_d`` / ``weight_g``: None = the task's defaults
    (SSGAN β 1.0 / α 0.2; MS-GAN λ_d 1.0 / λ_g 0.1)."""

    model: str = "MS-GAN"
    discriminator: str = "K/4"
    seed: int = 0
    iterations: int = 10_000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    loss: str = "ns"
    weight_d: float | None = None
    weight_g: float | None = None
    rotation_scheme: str = "quarter"
    pool_size: int | None = 5_000  # None: all 60,000 training digits
    latent_dim: int = 256

    def __post_init__(self) -> None:
        check_model(self.model, self.weight_d, self.weight_g)

    @property
    def label(self) -> str:
        return model_label(self.model, self.weight_d, self.weight_g)


def stacked_run_name(config: StackedMNISTConfig) -> str:
    model = config.model.replace("-", "")
    return f"stacked-{model}-{config.discriminator.replace('/', '')}-seed{config.seed}-{config_digest(config)}"


def digit_pool(pool_size: int | None, data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST training digits Stacked-MNIST is drawn from: all, or a class-balanced subset (seed 0)."""
    mnist = load_dataset("mnist", "train", data_dir)
    if pool_size is None:
        return mnist.images, mnist.labels
    index = balanced_labeled_subset(mnist.labels, pool_size, seed=0)
    return mnist.images[index], mnist.labels[index]


def build_stacked(config: StackedMNISTConfig) -> SelfSupervisedGAN:
    torch.manual_seed(config.seed)
    generator, discriminator = stacked_mnist_nets(config.discriminator, config.latent_dim)
    return SelfSupervisedGAN(generator, discriminator, MODELS[config.model], config.loss, config.weight_d,
                             config.weight_g, config.rotation_scheme, seed=config.seed)


def stacked_coverage(generator: torch.nn.Module, classifier, n: int, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """Modes (≥1 and ≥10 samples) and KL to uniform of ``n`` samples; also the (n,) mode ids."""
    images = sample_generator(generator, n, latent_dim=generator.latent_dim, seed=seed, bn_mode="train",
                              batch_size=64, value_range=VALUE_RANGE)  # batch 64: the official sampling batches
    digits = per_channel_labels(classifier.model, images)
    ids = digits @ np.array([100, 10, 1])
    coverage = mode_coverage(ids)
    return {"modes": coverage.num_modes, "kl_to_uniform": coverage.kl_to_uniform,
            "modes_10plus": mode_coverage(ids, min_count=10).num_modes, "samples": n}, ids


def _stacked_loop(config: StackedMNISTConfig, eval_every: int, progress: bool) -> TrainConfig:
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr,
        betas_g=config.betas, betas_d=config.betas, seed=config.seed, log_every=100, eval_every=eval_every,
        checkpoint_every=max(1, config.iterations // 10), sample_bn_mode="train", progress=progress,
    )


def train_stacked(config: StackedMNISTConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                  eval_every: int = 0, eval_samples: int = 10_000, n_samples: int = STACKED_MNIST_SAMPLES,
                  classifier_profile: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Train (or resume) one run and score its final G on ``n_samples`` samples (kept in the run folder).
    With ``eval_every`` > 0, modes and KL of ``eval_samples`` samples are logged along the way (eval.csv)."""
    from ..metrics.classifier import load_classifier

    run_dir = Path(run_dir)
    classifier = load_classifier("mnist", classifier_profile, data_dir)
    method = build_stacked(config)

    def evaluate(step: int, generator: torch.nn.Module) -> dict[str, float]:
        scores, _ = stacked_coverage(generator, classifier, eval_samples, seed=config.seed + 20_000)
        return {"modes": scores["modes"], "kl_to_uniform": scores["kl_to_uniform"]}

    digits, labels = digit_pool(config.pool_size, data_dir)
    data = StackedMNISTBatches(digits, labels, config.batch_size, value_range=VALUE_RANGE, seed=config.seed,
                               device=pick_device())
    result = train(method, data, _stacked_loop(config, eval_every, progress), run_dir,
                   evaluate=evaluate if eval_every else None, value_range=VALUE_RANGE)
    score_dir = run_dir / f"scores-{classifier.name}-{n_samples}"
    if (kept := cached_row(score_dir)) is not None and kept["steps_trained"] == result.step:
        return kept
    scores, ids = stacked_coverage(method.generator, classifier, n_samples, seed=config.seed + 10_000)
    np.save(run_dir / f"mode_histogram-{n_samples}.npy", np.bincount(ids, minlength=1000))
    row = {"model": config.label, "discriminator": config.discriminator, "run_seed": config.seed, **scores,
           "steps_trained": result.step, "wall_seconds": train_seconds(result)}
    return keep_row(score_dir, row)


def train_stacked_all(configs: Sequence[StackedMNISTConfig], root: str | os.PathLike,
                      data_dir: str | os.PathLike | None = None, workers: int = 1, **kwargs: Any) -> list[dict]:
    arguments = [(c, Path(root) / stacked_run_name(c), data_dir, kwargs.get("eval_every", 0),
                  kwargs.get("eval_samples", 10_000), kwargs.get("n_samples", STACKED_MNIST_SAMPLES),
                  kwargs.get("classifier_profile", "cpu")) for c in configs]
    return map_in_processes(train_stacked, arguments, workers, 1)


def mode_histogram(config: StackedMNISTConfig, root: str | os.PathLike,
                   n_samples: int = STACKED_MNIST_SAMPLES) -> np.ndarray:
    """The final samples' count per mode (1000,), as saved by :func:`train_stacked`."""
    path = Path(root) / stacked_run_name(config) / f"mode_histogram-{n_samples}.npy"
    if not path.exists():
        raise FileNotFoundError(f"no mode histogram at {path}: train the run first (train_stacked_all)")
    return np.load(path)


def stacked_curves(configs: Sequence[StackedMNISTConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    return [row for c in configs for row in read_eval_log(Path(root) / stacked_run_name(c), model=c.label,
                                                          discriminator=c.discriminator, run_seed=c.seed)]


def summarise(rows: Sequence[dict[str, Any]], keys: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and std (ddof 1, over seeds) of ``metrics`` per combination of ``keys``, in first-seen order."""
    summary = []
    for key in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        group = [r for r in rows if tuple(r[k] for k in keys) == key]
        row: dict[str, Any] = {**dict(zip(keys, key, strict=True)), "seeds": len(group)}
        for metric in metrics:
            row[metric], row[f"{metric}_std_over_seeds"] = seed_stats([r[metric] for r in group])
        summary.append(row)
    return summary


def claims(table: Sequence[dict[str, Any]], metric: str, higher_better: bool, pairs: Sequence[tuple[str, str]],
           group_key: str) -> list[dict[str, Any]]:
    """For each (better, worse) pair the paper claims, per value of ``group_key``: whether our means agree and
    whether the gap exceeds the combined seed spread sqrt(std_a² + std_b²)."""
    rows = []
    for group in dict.fromkeys(r[group_key] for r in table):
        ours = {r["model"]: r for r in table if r[group_key] == group}
        for better, worse in pairs:
            if better not in ours or worse not in ours:
                continue
            gap = ours[better][metric] - ours[worse][metric]
            gap = gap if higher_better else -gap
            spread = float(np.hypot(ours[better][f"{metric}_std_over_seeds"], ours[worse][f"{metric}_std_over_seeds"]))
            rows.append({group_key: group, "metric": metric, "claimed_better": better, "claimed_worse": worse,
                         "our_gap": float(gap), "agrees": bool(gap > 0),
                         "beyond_seed_spread": bool(gap > spread) if np.isfinite(spread) else None})
    return rows


def trained_stacked(config: StackedMNISTConfig, root: str | os.PathLike) -> SelfSupervisedGAN:
    """The trained method of a finished run (FileNotFoundError saying how to train it otherwise)."""
    checkpoint = trained_checkpoint(Path(root) / stacked_run_name(config), "train_stacked_all")
    return load_trained(build_stacked(config), checkpoint)


# ----------------------------------------------------------------------------------------------------------
# CIFAR-10 (notebook 31): DCGAN and SNGAN backbones, FID and KID in the project classifier's feature space

BACKBONES: dict[str, dict[str, Any]] = {
    # DCGAN: BN in D, no SN, the non-saturating loss, Adam (0.5, 0.999), one D step per G step (Radford et al.)
    "dcgan": {"loss": "ns", "betas": (0.5, 0.999), "n_dis": 1},
    # SNGAN standard CNN: SN, hinge, Adam (0.0, 0.9), two D steps (ms_gan.md §3.3, the setting SSGAN reproduces at)
    "sngan": {"loss": "hinge", "betas": (0.0, 0.9), "n_dis": 2},
    "sngan_resnet": {"loss": "hinge", "betas": (0.0, 0.9), "n_dis": 2},
}


@dataclass(frozen=True)
class CifarConfig:
    """One CIFAR-10 run: ``model`` on ``backbone`` (:data:`BACKBONES`) at ``width`` (DCGAN: base channels of G and
    D; SNGAN CNN: D's base width, G twice it as MS-GAN's code; ResNet: both widths), batch 64, Adam 2e-4."""

    model: str = "MS-GAN"
    backbone: str = "sngan"
    seed: int = 0
    iterations: int = 100_000  # G steps
    batch_size: int = 64
    lr: float = 2e-4
    width: int = 64
    weight_d: float | None = None
    weight_g: float | None = None
    rotation_scheme: str = "quarter"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        check_model(self.model, self.weight_d, self.weight_g)
        if self.backbone not in BACKBONES:
            raise ConfigError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")

    @property
    def label(self) -> str:
        return model_label(self.model, self.weight_d, self.weight_g)


def cifar_run_name(config: CifarConfig) -> str:
    return f"cifar10-{config.model.replace('-', '')}-{config.backbone}-seed{config.seed}-{config_digest(config)}"


def build_cifar(config: CifarConfig) -> SelfSupervisedGAN:
    torch.manual_seed(config.seed)
    if config.backbone == "dcgan":
        generator, discriminator = dcgan_nets(latent_dim=128, width=config.width)
    elif config.backbone == "sngan":
        generator, discriminator = sngan_cnn_nets(generator_width=2 * config.width, discriminator_width=config.width)
    else:
        generator, discriminator = sngan_resnet_nets(generator_width=config.width, discriminator_width=config.width)
    return SelfSupervisedGAN(generator, discriminator, MODELS[config.model], BACKBONES[config.backbone]["loss"],
                             config.weight_d, config.weight_g, config.rotation_scheme, seed=config.seed)


def _cifar_loop(config: CifarConfig, eval_every: int, progress: bool) -> TrainConfig:
    betas = BACKBONES[config.backbone]["betas"]
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, n_dis=BACKBONES[config.backbone]["n_dis"],
        lr_g=config.lr, lr_d=config.lr, betas_g=betas, betas_d=betas, seed=config.seed, log_every=100,
        eval_every=eval_every, checkpoint_every=max(1, config.iterations // 10), sample_bn_mode="train",
        progress=progress, precision=config.precision, channels_last=config.precision == "bf16",
    )


def cifar_scores(generator: torch.nn.Module, extractor, reference, n: int, seed: int) -> dict[str, Any]:
    """FID, KID and IS of ``n`` samples under ``extractor`` against ``reference`` (BN in training mode)."""
    images = sample_generator(generator, n, latent_dim=generator.latent_dim, seed=seed, bn_mode="train",
                              batch_size=64, value_range=VALUE_RANGE)
    return score_images(images, extractor, reference=reference, metrics=("is", "fid", "kid"), value_range=VALUE_RANGE)


def train_cifar(config: CifarConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                eval_every: int = 0, eval_samples: int = 2_000, n_samples: int = 5_000, n_real: int = 10_000,
                classifier_profile: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Train (or resume) one run and score its final G: FID/KID/IS of ``n_samples`` samples against ``n_real``
    training images (the MS-GAN code's 10k-real / 5k-fake protocol, in the classifier's feature space). With
    ``eval_every`` > 0, FID of ``eval_samples`` samples is logged along the way (eval.csv)."""
    from ..metrics.classifier import load_classifier

    run_dir = Path(run_dir)
    classifier = load_classifier("cifar10", classifier_profile, data_dir)
    reference = real_outputs("cifar10", "train", classifier, n_real, data_dir)
    method = build_cifar(config)

    def evaluate(step: int, generator: torch.nn.Module) -> dict[str, float]:
        scores = cifar_scores(generator, classifier, reference, eval_samples, seed=config.seed + 20_000)
        return {"fid": scores["fid"], "kid_mean": scores["kid_mean"], "is_mean": scores["is_mean"]}

    train_set = load_dataset("cifar10", "train", data_dir)
    data = DeviceBatches(train_set.images, None, config.batch_size, value_range=VALUE_RANGE, seed=config.seed,
                         device=pick_device())
    result = train(method, data, _cifar_loop(config, eval_every, progress), run_dir,
                   evaluate=evaluate if eval_every else None, value_range=VALUE_RANGE)
    score_dir = run_dir / f"scores-{classifier.name}-{n_samples}-{n_real}"
    if (kept := cached_row(score_dir)) is not None and kept["steps_trained"] == result.step:
        return kept
    scores = cifar_scores(method.generator, classifier, reference, n_samples, seed=config.seed + 10_000)
    row = {"model": config.label, "backbone": config.backbone, "run_seed": config.seed, **scores,
           "steps_trained": result.step, "wall_seconds": train_seconds(result)}
    return keep_row(score_dir, row)


def train_cifar_all(configs: Sequence[CifarConfig], root: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                    workers: int = 1, eval_every: int = 0, eval_samples: int = 2_000, n_samples: int = 5_000,
                    n_real: int = 10_000, classifier_profile: str = "cpu") -> list[dict[str, Any]]:
    arguments = [(c, Path(root) / cifar_run_name(c), data_dir, eval_every, eval_samples, n_samples, n_real,
                  classifier_profile) for c in configs]
    return map_in_processes(train_cifar, arguments, workers, 1)


def cifar_curves(configs: Sequence[CifarConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    return [row for c in configs for row in read_eval_log(Path(root) / cifar_run_name(c), model=c.label,
                                                          backbone=c.backbone, run_seed=c.seed)]


def trained_cifar(config: CifarConfig, root: str | os.PathLike) -> SelfSupervisedGAN:
    checkpoint = trained_checkpoint(Path(root) / cifar_run_name(config), "train_cifar_all")
    return load_trained(build_cifar(config), checkpoint)
