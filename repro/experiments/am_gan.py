"""AM-GAN Table 1 and Table 3 (Zhou et al. 2018): train each model of the family, score it with IS, the AM Score
and FID under the project's classifier (Inception's IS too when its weights are supplied) and class-wise
MS-SSIM, beside the paper's numbers. The glue behind notebooks 20 and 21; every run resumes from its folder.

Defaults are the reproduce repository's (am_gan.md §2-3): batch 100, Adam β1 0.5, G 4e-4 and D 8e-4 halved
every 100,000 iterations, G width 96 (768..96 channels), D width 64, dynamic labeling.

MNIST, the fast second dataset, is zero-padded to 32x32 (2 pixels a side) so that the same networks apply;
samples are cropped back to 28x28 before the MNIST classifier scores them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import DeviceBatches, ImageDataset, load_dataset, to_float
from ..errors import ConfigError
from ..methods.am_gan import VARIANTS, AMGANFamily
from ..metrics.evaluate import real_outputs, sample_generator, score_images
from ..metrics.ms_ssim import classwise_ms_ssim
from ..nets.am_gan import AMGANDiscriminator, AMGANGenerator
from ..nets.improved_gan import data_dependent_init
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

# Zhou et al. 2018, Table 1 (submission version), CIFAR-10: (IS dynamic, IS predefined, AM dynamic, AM predefined)
PAPER_TABLE1 = {
    "GAN": (7.04, 7.27, 0.45, 0.43),
    "GAN*": (7.25, 7.31, 0.40, 0.41),
    "AC-GAN*": (7.41, 7.79, 0.17, 0.16),
    "AC-GAN*+": (8.56, 8.01, 0.10, 0.14),
    "LabelGAN": (8.63, 7.88, 0.13, 0.25),
    "AM-GAN": (8.83, 8.35, 0.08, 0.05),
}
MNIST_PAD = 2
VALUE_RANGE = "symmetric"


@dataclass(frozen=True)
class AMGANConfig:
    """One model of Table 1."""

    variant: str = "AM-GAN"
    labeling: str = "dynamic"
    dataset: str = "cifar10"
    seed: int = 0
    iterations: int = 300_000  # the paper's stopping point is not stated (am_gan.md §3)
    batch_size: int = 100
    lr_g: float = 4e-4
    lr_d: float = 8e-4
    halve_every: int = 100_000
    generator_width: int = 96
    discriminator_width: int = 64
    precision: str = "fp32"  # "bf16": autocast (AMX on CPUs that have it; tensor cores on GPUs)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ConfigError(f"unknown AM-GAN variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
        if self.dataset not in ("cifar10", "mnist"):
            raise ConfigError(f"AM-GAN runs on 'cifar10' or 'mnist', got {self.dataset!r}")


def padded_dataset(name: str, split: str, data_dir: str | os.PathLike | None) -> ImageDataset:
    """The split as the networks see it: CIFAR-10 as is, MNIST zero-padded to 32x32."""
    dataset = load_dataset(name, split, data_dir)
    if name != "mnist":
        return dataset
    pad = ((0, 0), (0, 0), (MNIST_PAD, MNIST_PAD), (MNIST_PAD, MNIST_PAD))
    return ImageDataset(dataset.name, dataset.split, np.pad(dataset.images, pad), dataset.labels, dataset.classes,
                        f"{dataset.source} (zero-padded to 32x32)")


def as_scored(images: torch.Tensor, dataset: str) -> torch.Tensor:
    """Samples (N, C, 32, 32) as the dataset's classifier expects them (MNIST: the central 28x28)."""
    return images[..., MNIST_PAD:-MNIST_PAD, MNIST_PAD:-MNIST_PAD] if dataset == "mnist" else images


def build(config: AMGANConfig, train_set: ImageDataset) -> AMGANFamily:
    """The model with the code's data-dependent init: G on 100 fixed latents, D on 100 real images."""
    torch.manual_seed(config.seed)
    channels, classes = train_set.images.shape[1], train_set.num_classes
    predefined = config.labeling == "predefined"
    generator = AMGANGenerator(width=config.generator_width, channels=channels, num_classes=classes,
                               conditional=predefined)
    discriminator = AMGANDiscriminator(num_classes=classes, width=config.discriminator_width, channels=channels,
                                       extra_block=predefined)  # the predefined runs' stronger D (§7.1.4)
    init_rng = torch.Generator().manual_seed(config.seed)
    latents = torch.randn(100, generator.latent_dim, generator=init_rng)
    init_classes = torch.randint(classes, (100,), generator=init_rng)
    data_dependent_init(generator, latents, *([init_classes] if predefined else []))
    rows = np.random.default_rng(config.seed).choice(len(train_set), 100, replace=False)
    data_dependent_init(discriminator, to_float(train_set.images[rows], VALUE_RANGE))
    return AMGANFamily(generator, discriminator, config.variant, config.labeling, classes, seed=config.seed)


def run_name(config: AMGANConfig) -> str:
    variant = config.variant.replace("*", "star").replace("+", "plus").replace(" ", "_").replace("(", "")
    variant = variant.replace(")", "").replace(".", "")
    return f"{config.dataset}-{variant}-{config.labeling}-seed{config.seed}-{config_digest(config)}"


def _loop(config: AMGANConfig, eval_every: int, progress: bool) -> TrainConfig:
    milestones = tuple(range(config.halve_every, config.iterations, config.halve_every))
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr_g, lr_d=config.lr_d,
        betas_g=(0.5, 0.999), betas_d=(0.5, 0.999), seed=config.seed,
        schedule="step" if milestones else "constant", milestones=milestones, gamma=0.5,
        log_every=100, eval_every=eval_every, checkpoint_every=max(1, config.iterations // 20),
        sample_bn_mode="train", progress=progress, precision=config.precision,
        channels_last=config.precision == "bf16",
    )


def sample(method: AMGANFamily, config: AMGANConfig, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n uint8 samples as the classifier sees them, and their predefined classes (balanced) if any."""
    classes = None
    if config.labeling == "predefined":
        classes = torch.arange(n) % method.num_classes
    images = sample_generator(method.generator, n, latent_dim=method.latent_dim, seed=seed, bn_mode="train",
                              value_range=VALUE_RANGE, class_labels=classes)
    return as_scored(images, config.dataset), classes


def train_model(config: AMGANConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                progress: bool = False, eval_every: int = 0, eval_samples: int = 5_000,
                classifier_profile: str = "cpu") -> dict[str, Any]:
    """Train (or resume) one model. With ``eval_every`` > 0, IS and AM Score of ``eval_samples`` samples under
    the dataset's classifier are written to ``eval.csv`` along the way (the stability curves of notebook 21)."""
    from ..metrics.classifier import load_classifier

    train_set = padded_dataset(config.dataset, "train", data_dir)
    method = build(config, train_set)
    evaluate = None
    if eval_every:
        classifier = load_classifier(config.dataset, classifier_profile, data_dir)
        marginal = real_outputs(config.dataset, "train", classifier, None, data_dir).class_marginal

        def evaluate(step: int, generator: torch.nn.Module) -> dict[str, float]:
            images, _ = sample(method, config, eval_samples, seed=config.seed + 20_000)
            scores = score_images(images, classifier, train_marginal=marginal, metrics=("is", "am"))
            return {"is_mean": scores["is_mean"], "am_score": scores["am_score"]}

    data = DeviceBatches(train_set.images, train_set.labels, config.batch_size, value_range=VALUE_RANGE,
                         device=pick_device())
    result = train(method, data, _loop(config, eval_every, progress), run_dir, evaluate=evaluate,
                   value_range=VALUE_RANGE)
    return {"variant": config.variant, "labeling": config.labeling, "dataset": config.dataset,
            "run_seed": config.seed, "steps_trained": result.step,
            "wall_seconds": train_seconds(result)}


def train_all(configs: Sequence[AMGANConfig], root: str | os.PathLike, data_dir: str | os.PathLike | None = None,
              workers: int = 1, eval_every: int = 0, eval_samples: int = 5_000,
              classifier_profile: str = "cpu") -> list[dict[str, Any]]:
    arguments = [(c, Path(root) / run_name(c), data_dir, False, eval_every, eval_samples, classifier_profile)
                 for c in configs]
    return map_in_processes(train_model, arguments, workers, 1)


def trained_method(config: AMGANConfig, run_dir: str | os.PathLike,
                   data_dir: str | os.PathLike | None = None) -> AMGANFamily:
    checkpoint = trained_checkpoint(run_dir, "train_all")
    return load_trained(build(config, padded_dataset(config.dataset, "train", data_dir)), checkpoint)


def score_model(config: AMGANConfig, run_dir: str | os.PathLike, extractor, n_samples: int,
                data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """IS (10 splits), AM Score (against the train images' mean prediction), FID against the test split and
    the max class-wise MS-SSIM (AM-GAN's 10 samples per class, 5 mirrored pairs; classes = the predefined ones
    or the extractor's prediction) of ``n_samples`` samples. Kept in the run folder per extractor and N."""
    score_dir = Path(run_dir) / f"scores-{extractor.name}-{n_samples}"
    if (kept := cached_row(score_dir)) is not None:
        return kept
    method = trained_method(config, run_dir, data_dir)
    images, classes = sample(method, config, n_samples, seed=config.seed + 10_000)
    train_ref = real_outputs(config.dataset, "train", extractor, None, data_dir)
    test_ref = real_outputs(config.dataset, "test", extractor, None, data_dir)
    scores = score_images(images, extractor, reference=test_ref, train_marginal=train_ref.class_marginal,
                          metrics=("is", "fid", "am"), value_range=VALUE_RANGE)
    if classes is None:
        classes = extractor(images)[0].argmax(1)
    row = {"variant": config.variant, "labeling": config.labeling, "dataset": config.dataset,
           "run_seed": config.seed, **scores, **_ms_ssim_columns(images, classes.numpy(), method.num_classes)}
    return keep_row(score_dir, row)


def _ms_ssim_columns(images: torch.Tensor, classes: np.ndarray, num_classes: int, per_class: int = 10) -> dict:
    """Max and mean over classes of the class-wise MS-SSIM, over the classes that have the 10 samples AM-GAN's
    protocol pairs; a class G (nearly) never produces is left out and counted, not an error."""
    present = [k for k in range(num_classes) if (classes == k).sum() >= per_class]
    if not present:
        return {"ms_ssim_max_over_classes": float("nan"), "ms_ssim_mean_over_classes": float("nan"),
                "ms_ssim_classes": 0}
    keep = np.isin(classes, present)
    remapped = np.searchsorted(np.array(present), classes[keep])
    result = classwise_ms_ssim(to_float(images[torch.from_numpy(keep)]), remapped, num_classes=len(present),
                               pairing="mirrored")
    return {"ms_ssim_max_over_classes": result.max_over_classes,
            "ms_ssim_mean_over_classes": result.mean_over_classes, "ms_ssim_classes": len(present)}


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± std (ddof 1, over seeds) of IS, AM Score, FID and MS-SSIM per (dataset, variant, labeling),
    beside the paper's IS and AM Score for CIFAR-10 (their AM Score used another classifier: compare orders)."""
    summary = []
    for key in dict.fromkeys((r["dataset"], r["variant"], r["labeling"]) for r in rows):
        group = [r for r in rows if (r["dataset"], r["variant"], r["labeling"]) == key]
        row: dict[str, Any] = {"dataset": key[0], "variant": key[1], "labeling": key[2], "seeds": len(group)}
        for metric in ("is_mean", "am_score", "fid", "ms_ssim_max_over_classes"):
            row[metric], row[f"{metric}_std_over_seeds"] = seed_stats([r[metric] for r in group])
        paper = PAPER_TABLE1.get(key[1]) if key[0] == "cifar10" else None
        column = 0 if key[2] == "dynamic" else 1
        row["paper_is"] = paper[column] if paper else float("nan")
        row["paper_am_score"] = paper[2 + column] if paper else float("nan")
        summary.append(row)
    return summary


def curves(configs: Sequence[AMGANConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    """IS and AM Score along training (eval.csv) of every run."""
    return [row for c in configs for row in read_eval_log(Path(root) / run_name(c), variant=c.variant,
                                                          labeling=c.labeling, dataset=c.dataset, run_seed=c.seed)]


def class_rows(method: AMGANFamily, config: AMGANConfig, classifier, per_class: int = 8,
               seed: int = 0) -> np.ndarray:
    """uint8 samples laid out one class per row (K * per_class images): G(z, k) for predefined runs; for
    dynamic runs, samples sorted by the classifier's prediction (a row left blank where G produced fewer)."""
    k = method.num_classes
    if config.labeling == "predefined":
        images = sample_generator(method.generator, k * per_class, latent_dim=method.latent_dim, seed=seed,
                                  bn_mode="train", value_range=VALUE_RANGE,
                                  class_labels=torch.arange(k).repeat_interleave(per_class))
        return as_scored(images, config.dataset).numpy()
    images, _ = sample(method, config, 40 * k * per_class // 8, seed)
    predicted = classifier(images)[0].argmax(1).numpy()
    rows = np.zeros((k * per_class, *images.shape[1:]), dtype=np.uint8)
    for c in range(k):
        members = images.numpy()[predicted == c][:per_class]
        rows[c * per_class : c * per_class + len(members)] = members
    return rows


def class_rows_figure(configs: Sequence[AMGANConfig], root: str | os.PathLike, classifier,
                      data_dir: str | os.PathLike | None = None, per_class: int = 8):
    """One panel per model: its samples, one class per row."""
    from ..plots import image_panels

    panels = {}
    for config in configs:
        method = trained_method(config, Path(root) / run_name(config), data_dir)
        panels[f"{config.variant} ({config.labeling})"] = class_rows(method, config, classifier, per_class)
    return image_panels(panels, columns=per_class)


def orderings(table: Sequence[dict[str, Any]], dataset: str = "cifar10") -> list[dict[str, Any]]:
    """For every pair of models the paper orders on CIFAR-10 (IS higher-better, AM Score lower-better), whether
    our means on ``dataset`` agree, and whether our gap exceeds the combined seed spread (sqrt(std_a² + std_b²)).
    On MNIST this tests the paper's CIFAR-10 orderings on a second dataset, which the paper does not report."""
    rows = []
    for labeling in ("dynamic", "predefined"):
        ours = {r["variant"]: r for r in table if r["dataset"] == dataset and r["labeling"] == labeling}
        models = [m for m in PAPER_TABLE1 if m in ours]
        for metric, column, higher_better in (("is_mean", 0, True), ("am_score", 2, False)):
            paper_column = column + (0 if labeling == "dynamic" else 1)
            for i, a in enumerate(models):
                for b in models[i + 1 :]:
                    pa, pb = PAPER_TABLE1[a][paper_column], PAPER_TABLE1[b][paper_column]
                    if pa == pb:
                        continue
                    better, worse = (a, b) if (pa > pb) == higher_better else (b, a)
                    gap = ours[better][metric] - ours[worse][metric]
                    gap = gap if higher_better else -gap
                    spread = float(np.hypot(ours[better][f"{metric}_std_over_seeds"],
                                            ours[worse][f"{metric}_std_over_seeds"]))
                    rows.append({"dataset": dataset, "labeling": labeling, "metric": metric, "paper_better": better,
                                 "paper_worse": worse, "our_gap": gap, "agrees": bool(gap > 0),
                                 "beyond_seed_spread": bool(gap > spread) if np.isfinite(spread) else None})
    return rows
