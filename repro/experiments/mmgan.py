"""MMGAN (Park et al. 2018, our interpretation) against a DCGAN baseline and feature matching, same networks and
budgets, on Stacked-MNIST (modes and KL), MNIST and CIFAR-10 (IS, AM Score, FID with the project's classifiers);
the ablation over kernel, moving average and correlation regulariser. The glue behind notebook 40.

Networks (mmgan.md §2): the DCGAN nets with **no BN in D** (28x28 for MNIST, 32x32 for CIFAR-10, z = 100) and the
Stacked-MNIST K/4 / K/2 nets (z = 256). Adam 2e-4 (0.5, 0.999), batch 64, one D step per G step (§3).

Models (every MMGAN reading is a named option of repro.methods.mmgan.ManifoldMatchingGAN):

* ``DCGAN``: the non-saturating GAN;
* ``FM``: feature matching on D's last hidden layer (squared L2 of the batch means: the linear kernel without
  the radius, current batch, no regulariser), Salimans et al.'s technique as MMGAN generalises it;
* ``MMGAN``: the default reading: RBF kernel with the median bandwidth, a bank of the last 4 real batches, the
  correlation regulariser (λ 1.0), G loss = L_MM + λ_corr L_corr;
* the ablation rows of mmgan.md §5.3: ``MM (linear)``, ``MM + kernel``, ``MM + kernel + bank``, and
  ``MMGAN (NS + MM)``, the variant-B objective.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import DeviceBatches, StackedMNISTBatches, load_dataset
from ..errors import ConfigError
from ..methods.gan import StandardGAN
from ..methods.mmgan import ManifoldMatchingGAN
from ..metrics.evaluate import real_outputs, sample_generator, score_images
from ..metrics.modes import STACKED_MNIST_SAMPLES
from ..nets.dcgan import dcgan_nets
from ..nets.stacked_mnist import stacked_mnist_nets
from ..parallel import map_in_processes
from ..train import TrainConfig, pick_device, train
from .ms_gan import digit_pool, stacked_coverage
from .runs import (
    cached_row,
    config_digest,
    keep_row,
    load_trained,
    read_eval_log,
    train_seconds,
    trained_checkpoint,
)

VALUE_RANGE = "symmetric"
# model -> ManifoldMatchingGAN options (None: the DCGAN baseline)
MODELS: dict[str, dict[str, Any] | None] = {
    "DCGAN": None,
    "FM": {"kernel": "linear", "match_radius": False, "averaging": "none", "correlation_weight": 0.0},
    "MMGAN": {},
    "MM (linear)": {"kernel": "linear", "averaging": "none", "correlation_weight": 0.0},
    "MM + kernel": {"kernel": "rbf", "averaging": "none", "correlation_weight": 0.0},
    "MM + kernel + bank": {"kernel": "rbf", "averaging": "bank", "correlation_weight": 0.0},
    "MMGAN (NS + MM)": {"objective": "ns+mm"},
}
ABLATION_ROWS = ("FM", "MM (linear)", "MM + kernel", "MM + kernel + bank", "MMGAN", "MMGAN (NS + MM)")
DATASETS = ("stacked_mnist", "mnist", "cifar10")
PAPER_CIFAR10_IS = 7.8  # the abstract's unsupervised Inception Score (TF Inception; std not available)


@dataclass(frozen=True)
class MMGANConfig:
    """One run (module docstring). ``discriminator`` picks the Stacked-MNIST D ("K/4" or "K/2"); ``width`` the
    DCGAN width for MNIST and CIFAR-10."""

    model: str = "MMGAN"
    dataset: str = "stacked_mnist"
    seed: int = 0
    iterations: int = 20_000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    discriminator: str = "K/4"
    width: int = 64
    pool_size: int | None = 5_000  # Stacked-MNIST digit pool, as notebook 30

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.dataset not in DATASETS:
            raise ConfigError(f"MMGAN runs on {', '.join(DATASETS)}; got {self.dataset!r}")


def run_name(config: MMGANConfig) -> str:
    model = "".join(ch for ch in config.model if ch.isalnum())
    return f"{config.dataset}-{model}-seed{config.seed}-{config_digest(config)}"


def build(config: MMGANConfig):
    torch.manual_seed(config.seed)
    if config.dataset == "stacked_mnist":
        generator, discriminator = stacked_mnist_nets(config.discriminator)
    else:
        shape = (1, 28, 28) if config.dataset == "mnist" else (3, 32, 32)
        generator, discriminator = dcgan_nets(shape, latent_dim=100, width=config.width, batch_norm=False)
    options = MODELS[config.model]
    if options is None:
        return StandardGAN(generator, discriminator, loss="ns", seed=config.seed)
    return ManifoldMatchingGAN(generator, discriminator, seed=config.seed, **options)


def _data(config: MMGANConfig, data_dir: str | os.PathLike | None) -> DeviceBatches:
    if config.dataset == "stacked_mnist":
        digits, labels = digit_pool(config.pool_size, data_dir)
        return StackedMNISTBatches(digits, labels, config.batch_size, value_range=VALUE_RANGE, seed=config.seed,
                                   device=pick_device())
    train_set = load_dataset(config.dataset, "train", data_dir)
    return DeviceBatches(train_set.images, None, config.batch_size, value_range=VALUE_RANGE, seed=config.seed,
                         device=pick_device())


def _loop(config: MMGANConfig, eval_every: int, progress: bool) -> TrainConfig:
    return TrainConfig(
        steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr, betas_g=config.betas,
        betas_d=config.betas, seed=config.seed, log_every=50, eval_every=eval_every,
        checkpoint_every=max(1, config.iterations // 10), sample_bn_mode="train", progress=progress,
    )


class _Scorer:
    """The dataset's scores of a generator: modes and KL (Stacked-MNIST) or IS, AM Score, FID (classifier)."""

    def __init__(self, dataset: str, classifier_profile: str, data_dir: str | os.PathLike | None) -> None:
        from ..metrics.classifier import load_classifier

        self.dataset = dataset
        self.classifier = load_classifier("mnist" if dataset == "stacked_mnist" else dataset, classifier_profile,
                                          data_dir)
        if dataset != "stacked_mnist":
            self.train_marginal = real_outputs(dataset, "train", self.classifier, None, data_dir).class_marginal
            self.reference = real_outputs(dataset, "test", self.classifier, None, data_dir)

    def __call__(self, generator: torch.nn.Module, n: int, seed: int) -> dict[str, Any]:
        if self.dataset == "stacked_mnist":
            return stacked_coverage(generator, self.classifier, n, seed)[0]
        images = sample_generator(generator, n, latent_dim=generator.latent_dim, seed=seed, bn_mode="train",
                                  batch_size=64, value_range=VALUE_RANGE)
        return score_images(images, self.classifier, reference=self.reference, train_marginal=self.train_marginal,
                            metrics=("is", "fid", "am"), value_range=VALUE_RANGE)


CURVE_METRICS = {"stacked_mnist": ("modes", "kl_to_uniform"), "mnist": ("is_mean", "fid", "am_score"),
                 "cifar10": ("is_mean", "fid", "am_score")}


def train_model(config: MMGANConfig, run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                eval_every: int = 0, eval_samples: int = 5_000, n_samples: int | None = None,
                classifier_profile: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Train (or resume) one run and score its final G on ``n_samples`` samples (25,600 on Stacked-MNIST, else
    10,000 by default), kept in the run folder; with ``eval_every`` > 0 the scores of ``eval_samples`` samples
    are logged along the way (eval.csv: the stability curves)."""
    run_dir = Path(run_dir)
    n_samples = n_samples or (STACKED_MNIST_SAMPLES if config.dataset == "stacked_mnist" else 10_000)
    scorer = _Scorer(config.dataset, classifier_profile, data_dir)
    method = build(config)

    def evaluate(step: int, generator: torch.nn.Module) -> dict[str, float]:
        scores = scorer(generator, eval_samples, seed=config.seed + 20_000)
        return {k: scores[k] for k in CURVE_METRICS[config.dataset]}

    result = train(method, _data(config, data_dir), _loop(config, eval_every, progress), run_dir,
                   evaluate=evaluate if eval_every else None, value_range=VALUE_RANGE)
    score_dir = run_dir / f"scores-{scorer.classifier.name}-{n_samples}"
    if (kept := cached_row(score_dir)) is not None and kept["steps_trained"] == result.step:
        return kept
    scores = scorer(method.generator, n_samples, seed=config.seed + 10_000)
    row = {"dataset": config.dataset, "model": config.model, "run_seed": config.seed, **scores,
           "steps_trained": result.step, "wall_seconds": train_seconds(result)}
    return keep_row(score_dir, row)


def train_all(configs: Sequence[MMGANConfig], root: str | os.PathLike, data_dir: str | os.PathLike | None = None,
              workers: int = 1, eval_every: int = 0, eval_samples: int = 5_000, n_samples: int | None = None,
              classifier_profile: str = "cpu") -> list[dict[str, Any]]:
    arguments = [(c, Path(root) / run_name(c), data_dir, eval_every, eval_samples, n_samples, classifier_profile)
                 for c in configs]
    return map_in_processes(train_model, arguments, workers, 1)


def curves(configs: Sequence[MMGANConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    """Scores along training (eval.csv) and the losses (log.csv) are both per run; this returns the scores."""
    return [row for c in configs for row in read_eval_log(Path(root) / run_name(c), dataset=c.dataset,
                                                          model=c.model, run_seed=c.seed)]


def loss_curves(configs: Sequence[MMGANConfig], root: str | os.PathLike) -> list[dict[str, Any]]:
    """D and G losses along training (log.csv) of every run, tagged with dataset, model and seed."""
    return [row for c in configs for row in read_eval_log(Path(root) / run_name(c), "log.csv", dataset=c.dataset,
                                                          model=c.model, run_seed=c.seed)]


def trained_method(config: MMGANConfig, root: str | os.PathLike):
    checkpoint = trained_checkpoint(Path(root) / run_name(config), "train_all")
    return load_trained(build(config), checkpoint)
