"""MS-GAN (Tran et al. 2019) against SSGAN and the plain GAN: Stacked-MNIST mode coverage (notebook 30) and
CIFAR-10 FID/KID in the project classifier's feature space (notebook 31). Every run resumes from its folder.

Stacked-MNIST protocol (ms_gan.md §4.2 and §7, the smallest faithful CPU experiment): the K/4 and K/2 nets of
Unrolled GAN, z = 256, the non-saturating loss, batch 64, Adam 2e-4 (0.5, 0.9); each image stacks three digits
drawn on the fly from a fixed, class-balanced pool of MNIST training digits (5,000 by default, seed 0: a stated
deviation from the paper's 55k); modes and KL to uniform of 25,600 samples, each channel read by the project's
MNIST classifier.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import DeviceBatches, ImageDataset, load_dataset
from ..errors import ConfigError
from ..manifest import awaiting_rerun
from ..methods.dist_gan import LOSSES as DISTGAN_LOSSES
from ..methods.dist_gan import DistGAN
from ..methods.gan import LOSSES as GAN_LOSSES
from ..methods.self_supervised import SelfSupervisedGAN
from ..metrics.evaluate import real_outputs, sample_generator, score_images, stacked_mnist_scores
from ..metrics.modes import STACKED_MNIST_SAMPLES, stacked_score_key
from ..nets.base import check_first_norm
from ..nets.dcgan import DCGANEncoder, dcgan_nets
from ..nets.sngan import sngan_cnn_nets, sngan_resnet_nets
from ..nets.stacked_mnist import StackedMNISTEncoder, stacked_mnist_nets
from ..profiles import by_profile
from ..stacked_mnist import StackedMNISTBatches, digit_pool
from ..train import TrainConfig
from .claims import Claim, Ordering, arm_from_row, beside_text, difference_columns, judge, not_run, read_table, welch
from .health import runs_arm
from .protocol import Evaluation, Plan, config_digest

STACKED_NOTEBOOK = "30_ms_gan_stacked_mnist"
CIFAR_NOTEBOOK = "31_ms_gan_cifar"
# (better, worse) pairs the papers claim: MS over SSGAN (Tran et al. 2019), SSGAN over the GAN (Chen et al. 2019)
# what the protocol columns say of G's first BN (the configs' generator_first_norm; repro.nets.base)
GENERATOR_FIRST_BN = "per FC output, the official fc_bn_relu (DCGAN and Stacked-MNIST G; SNGAN's G per channel)"
CLAIMED_PAIRS = (("MS-GAN", "SSGAN"), ("SSGAN", "GAN"), ("MS-GAN", "GAN"),
                 ("MS-DistGAN", "SS-DistGAN"), ("SS-DistGAN", "Dist-GAN"), ("MS-DistGAN", "Dist-GAN"))
# Tran et al. 2019, headline FIDs of MS-DistGAN with the ResNet backbone (10k real / 5k generated; ms_gan.md §5.1,
# from PapersWithCode, not checked against the PDF). Stacked-MNIST numbers were not available to us (§5.5).
PAPER_FID = {"cifar10": 11.40, "cifar100": 19.74, "imagenet32": 12.3}


# model -> self-supervised task (repro.methods.self_supervised). The paper's comparison (Tran et al. 2019, as the
# authors' code runs it; ms_gan.md §1.6): the base GAN, its self-supervised baseline (the rotation loss for D only,
# ss_task 1) and MS in the official form (ss_task 2). Named variants, reported as extensions: Chen et al.'s SSGAN
# (α = 0.2 on fakes, mimicry's quarter split) and the paper-form reconstruction of MS (our earlier default).
MODELS: dict[str, str] = {"GAN": "none", "SSGAN": "rotation", "MS-GAN": "minimax", "SSGAN-Chen": "rotation",
                          "MS-GAN-reconstruction": "minimax_reconstruction",
                          "Dist-GAN": "none", "SS-DistGAN": "rotation", "MS-DistGAN": "minimax"}
MAIN_MODELS: tuple[str, ...] = ("GAN", "SSGAN", "MS-GAN")
# The authors' own models (repro.methods.dist_gan): the same comparison on their Dist-GAN base, the form behind the
# paper's reported numbers (ms_gan.md §1.8, §5.3). Each maps to the standard-GAN model whose official (λ_d, λ_g) it
# shares: the drivers' pairs below are the Dist-GAN runs' own.
DISTGAN_MODELS: dict[str, str] = {"Dist-GAN": "GAN", "SS-DistGAN": "SSGAN", "MS-DistGAN": "MS-GAN"}
# Dist-GAN's encoder exists for these settings (repro.nets: the Stacked-MNIST encoder, the DCGAN CIFAR encoder that
# the official code also uses for its SNGAN nets, msdistgan.py l.187-190); the ResNet encoder is not built
DISTGAN_SETTINGS = ("K/4", "K/2", "dcgan", "sngan")
ALL_MAIN_MODELS: tuple[str, ...] = MAIN_MODELS + tuple(DISTGAN_MODELS)
# iterations of the official Dist-GAN drivers (ms_gan.md §3.1): msdistgan_mnist1k.py and msdistgan_cifar.py
DISTGAN_PAPER_ITERATIONS = {"stacked_mnist": 200_000, "cifar10": 300_000}
# (λ_d, λ_g) per setting in the authors' drivers (github tntrung/msgan): msdistgan_mnist1k.py l.139-156 for
# Stacked-MNIST on the Unrolled-GAN nets, msdistgan_cifar.py l.93-121 for CIFAR ("sngan_resnet" is their "resnet").
# SSGAN (ss_task 1) has λ_g = 0 in every driver; the reconstruction takes MS's pair, for a like-for-like variant.
OFFICIAL_WEIGHTS: dict[tuple[str, str], tuple[float, float]] = {
    ("SSGAN", "K/4"): (0.5, 0.0), ("MS-GAN", "K/4"): (0.5, 0.2),
    ("SSGAN", "K/2"): (1.0, 0.0), ("MS-GAN", "K/2"): (1.0, 1.0),
    ("SSGAN", "dcgan"): (1.0, 0.0), ("MS-GAN", "dcgan"): (1.0, 0.1),
    ("SSGAN", "sngan"): (1.0, 0.0), ("MS-GAN", "sngan"): (1.0, 0.01),
    ("SSGAN", "sngan_resnet"): (0.5, 0.0), ("MS-GAN", "sngan_resnet"): (0.5, 0.1),
}
CHEN_SSGAN_WEIGHTS = (1.0, 0.2)  # β, α (Chen et al. 2019; compare_gan and mimicry)


def model_weights(model: str, setting: str, weight_d: float | None, weight_g: float | None
                  ) -> tuple[float, float] | tuple[None, None]:
    """The (λ_d, λ_g) a run of ``model`` uses on ``setting`` (a Stacked-MNIST discriminator size or a CIFAR backbone):
    the configuration's own where it sets them, else the official pair of :data:`OFFICIAL_WEIGHTS`."""
    model = DISTGAN_MODELS.get(model, model)
    if model == "GAN":
        return None, None
    official = {"SSGAN-Chen": CHEN_SSGAN_WEIGHTS,
                "MS-GAN-reconstruction": OFFICIAL_WEIGHTS[("MS-GAN", setting)]}.get(model)
    official = official or OFFICIAL_WEIGHTS[(model, setting)]
    return (official[0] if weight_d is None else weight_d, official[1] if weight_g is None else weight_g)


def rotation_scheme(model: str, chosen: str | None) -> str:
    """The configuration's rotation scheme, else the official random n-of-4n draw, or mimicry's quarter split for
    Chen et al.'s SSGAN and the reconstruction (SSGAN-LA's)."""
    return chosen or ("quarter" if model in ("SSGAN-Chen", "MS-GAN-reconstruction") else "random")

OFFICIAL_FORMS = ("the authors' code (ms_gan.md §1.6): SSGAN = rotation loss for D only; MS-GAN = one 5-way CE "
                  "over rotated reals and upright fakes for D, |CE_fake − CE_real| for G; official (λ_d, λ_g) per "
                  "setting; random n-of-4n rotation draw")


def data_range(model: str) -> str:
    """The pixel range a model trains on: [0, 1] for the Dist-GAN models (the official data and sigmoid G, ms_gan.md
    §1.9), [-1, 1] for the others."""
    return "unit" if model in DISTGAN_MODELS else "symmetric"


def check_model(model: str, weight_d: float | None, weight_g: float | None) -> None:
    """A known model, and self-supervised weights only where there is a self-supervised task."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if model in ("GAN", "Dist-GAN") and (weight_d is not None or weight_g is not None):
        raise ConfigError(f"the plain {model} has no self-supervised weights; leave weight_d and weight_g unset")


def check_distgan_setting(model: str, setting: str) -> None:
    """Dist-GAN models only where their encoder exists (:data:`DISTGAN_SETTINGS`)."""
    if model in DISTGAN_MODELS and setting not in DISTGAN_SETTINGS:
        raise ConfigError(f"{model} needs Dist-GAN's encoder, built for {', '.join(DISTGAN_SETTINGS)}, not "
                          f"{setting!r}; use one of those or a standard-GAN model ({', '.join(MAIN_MODELS)})")


def distgan_loss(model: str, loss: str | None, official: str, standard: str) -> str:
    """The configuration's loss, else the model's official one: ``official`` for the Dist-GAN models (their log or
    hinge losses), ``standard`` for the others; a loss of the other family is refused."""
    if loss is None:
        return official if model in DISTGAN_MODELS else standard
    allowed = DISTGAN_LOSSES if model in DISTGAN_MODELS else tuple(GAN_LOSSES)
    if loss not in allowed:
        raise ConfigError(f"{model} takes loss {' or '.join(map(repr, allowed))}, got {loss!r} (None: the official "
                          f"{official if model in DISTGAN_MODELS else standard!r})")
    return loss


def model_label(model: str, weight_d: float | None, weight_g: float | None) -> str:
    """The model with its non-default weights, e.g. "MS-GAN (λ_g 0.2)"."""
    weights = [f"{name} {value:g}" for name, value in (("λ_d", weight_d), ("λ_g", weight_g)) if value is not None]
    return f"{model} ({', '.join(weights)})" if weights else model


@dataclass(frozen=True)
class StackedMNISTConfig:
    """One Stacked-MNIST run (module docstring). ``weight_d`` / ``weight_g``: None = the official pair of the model
    at this discriminator size (:func:`model_weights`); ``rotation_scheme`` None = :func:`rotation_scheme`."""

    model: str = "MS-GAN"
    discriminator: str = "K/4"
    seed: int = 0
    iterations: int = 10_000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    loss: str | None = None  # None: "ns" for the standard-GAN models, Dist-GAN's "log" for its models
    weight_d: float | None = None
    weight_g: float | None = None
    rotation_scheme: str | None = None
    pool_size: int | None = 5_000  # None: all 60,000 training digits
    latent_dim: int = 256
    generator_first_norm: str = "per_unit"  # the official G's first BN (repro.nets.stacked_mnist)

    def __post_init__(self) -> None:
        check_first_norm(self.generator_first_norm)
        check_model(self.model, self.weight_d, self.weight_g)
        check_distgan_setting(self.model, self.discriminator)
        distgan_loss(self.model, self.loss, official="log", standard="ns")  # refuses a loss of the other family

    @property
    def training_loss(self) -> str:
        """The loss the run trains with (msdistgan_mnist1k.py: the log loss for the Dist-GAN models)."""
        return distgan_loss(self.model, self.loss, official="log", standard="ns")

    @property
    def label(self) -> str:
        return model_label(self.model, self.weight_d, self.weight_g)


class StackedMNIST:
    """Stacked-MNIST runs (notebook 30): the K/4 or K/2 nets on digits stacked on the fly from a fixed pool."""

    def run_name(self, config: StackedMNISTConfig) -> str:
        model = config.model.replace("-", "")
        return f"stacked-{model}-{config.discriminator.replace('/', '')}-seed{config.seed}-{config_digest(config)}"

    def columns(self, config: StackedMNISTConfig) -> dict[str, Any]:
        return {"model": config.label, "discriminator": config.discriminator, "run_seed": config.seed}

    def image_shape(self, config: StackedMNISTConfig) -> tuple[int, int, int]:
        return (1, 28, 28)  # the pool's single digits; batches stack three

    def train_set(self, config: StackedMNISTConfig, data_dir: str | os.PathLike | None) -> ImageDataset:
        return digit_pool(config.pool_size, data_dir)

    def build(self, config: StackedMNISTConfig, train_set: ImageDataset) -> SelfSupervisedGAN | DistGAN:
        weight_d, weight_g = model_weights(config.model, config.discriminator, config.weight_d, config.weight_g)
        if config.model in DISTGAN_MODELS:
            # msdistgan_mnist1k.py: data in [0, 1] with a sigmoid G, z ~ U(-1, 1), λ_r 0.01 (l.171-173), and the
            # encoder step updates E and G for (Stacked-)MNIST (msdistgan.py l.410-413)
            generator, discriminator = stacked_mnist_nets(config.discriminator, config.latent_dim, output_range="unit",
                                                          latent_distribution="symmetric_uniform",
                                                          first_norm=config.generator_first_norm)
            return DistGAN(generator, discriminator, StackedMNISTEncoder(config.latent_dim),
                           loss=config.training_loss, lambda_r=0.01, encoder_updates_generator=True,
                           task=MODELS[config.model], lambda_d=weight_d, lambda_g=weight_g,
                           total_steps=config.iterations, lr_e=config.lr, betas_e=config.betas, seed=config.seed)
        generator, discriminator = stacked_mnist_nets(config.discriminator, config.latent_dim,
                                                      first_norm=config.generator_first_norm)
        return SelfSupervisedGAN(generator, discriminator, MODELS[config.model], config.training_loss, weight_d,
                                 weight_g, rotation_scheme(config.model, config.rotation_scheme), seed=config.seed)

    def batches(self, config: StackedMNISTConfig, train_set: ImageDataset, device) -> DeviceBatches:
        return StackedMNISTBatches(train_set.images, train_set.labels, config.batch_size,
                                   device=device, value_range=data_range(config.model))

    def loop(self, config: StackedMNISTConfig) -> TrainConfig:
        return TrainConfig(
            steps=config.iterations, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr,
            betas_g=config.betas, betas_d=config.betas, seed=config.seed, log_every=100,
            checkpoint_every=max(1, config.iterations // 10), sample_bn_mode="train",
            channels_last=True,  # fp32 too: 1.08-1.11x on these nets on the 2-core CPU (benchmarks/cpu_throughput.py)
        )

    def scorer(self, config: StackedMNISTConfig, method: SelfSupervisedGAN, data_dir: str | os.PathLike | None,
               evaluation: Evaluation) -> ModeScorer:
        from ..metrics.classifier import load_classifier

        return ModeScorer(load_classifier("mnist", evaluation.classifier_profile, data_dir), evaluation)

    def prepare(self, configs: Sequence[StackedMNISTConfig], data_dir: str | os.PathLike | None,
                evaluation: Evaluation) -> None:
        self.scorer(configs[0], None, data_dir, evaluation)  # the MNIST classifier, loaded (smoke: trained) once


class ModeScorer:
    """Modes and KL to uniform of Stacked-MNIST samples, each channel read by the project's MNIST classifier (the
    final row names it: ``extractor``, ``weights_sha256``); the final samples' histogram over the 1,000 modes is
    kept in the run folder (:func:`mode_histogram`)."""

    def __init__(self, classifier: Any, evaluation: Evaluation) -> None:
        self.classifier, self.evaluation = classifier, evaluation
        self.key = stacked_score_key(evaluation.score_key(classifier.name))
        self.health_gate = "stacked_mnist"  # repro.experiments.health.GATES

    def along_training(self, step: int, generator: torch.nn.Module, seed: int) -> dict[str, float]:
        scores, _ = stacked_mnist_scores(generator, self.classifier, self.evaluation.eval_samples, seed)
        return {"modes": scores["modes"], "kl_to_uniform": scores["kl_to_uniform"],
                "modes_confident": scores["modes_confident"]}

    def final(self, method: SelfSupervisedGAN, seed: int, folder: Path) -> dict[str, Any]:
        scores, ids = stacked_mnist_scores(method.generator, self.classifier, self.evaluation.n_samples, seed)
        np.save(folder / f"mode_histogram-{self.evaluation.n_samples}.npy", np.bincount(ids, minlength=1000))
        return scores


STACKED = StackedMNIST()


def mode_histogram(config: StackedMNISTConfig, root: str | os.PathLike,
                   n_samples: int = STACKED_MNIST_SAMPLES) -> np.ndarray:
    """The final samples' count per mode (1000,), as the run's scorer kept it."""
    path = Path(root) / STACKED.run_name(config) / f"mode_histogram-{n_samples}.npy"
    if not path.exists():
        raise FileNotFoundError(f"no mode histogram at {path}: train the run first (runner.run_plan)")
    return np.load(path)


def model_families(profile: str, iterations: int, dataset: str) -> tuple[tuple[str, ...], int]:
    """The main table's models at ``profile`` and the Dist-GAN models' iterations: both families at the smoke and
    paper profiles (the Dist-GAN family at the official drivers' length in ``paper``). At ``cpu``: both families on
    Stacked-MNIST, where the pilots showed that neither base trains at a CPU budget (the plan shows both, one seed
    each, and the claims stay untestable: ``benchmarks/README.md``, the Stacked-MNIST pilot); the standard-GAN
    family on CIFAR-10 until its pilot decides."""
    cpu = ALL_MAIN_MODELS if dataset == "stacked_mnist" else MAIN_MODELS
    models = by_profile(profile, smoke=ALL_MAIN_MODELS, cpu=cpu, paper=ALL_MAIN_MODELS)
    return models, by_profile(profile, smoke=iterations, cpu=iterations, paper=DISTGAN_PAPER_ITERATIONS[dataset])


def main_runs(config: Callable[[str, str, int], Any], settings: Sequence[str], models: Sequence[str],
              seeds: Sequence[int], distgan_iterations: int) -> tuple:
    """``config(model, setting, seed)`` for every setting, model and seed, in that order, the Dist-GAN models'
    runs at ``distgan_iterations``."""
    def run_of(model: str, setting: str, seed: int) -> Any:
        made = config(model, setting, seed)
        return dataclasses.replace(made, iterations=distgan_iterations) if model in DISTGAN_MODELS else made

    return tuple(run_of(m, s, seed) for s in settings for m in models for seed in seeds)


def iterations_text(iterations: int, distgan_iterations: int, models: Sequence[str]) -> int | str:
    """The plan's iterations for its protocol column: one number, or both where the Dist-GAN models run the
    official drivers' longer schedule."""
    if distgan_iterations == iterations or not any(m in DISTGAN_MODELS for m in models):
        return iterations
    return f"{iterations} (Dist-GAN models: {distgan_iterations})"


def stacked_plan(profile: str) -> Plan[StackedMNISTConfig]:
    """Notebook 30: every model on both discriminator sizes over seeds, and MS-GAN's λ_g ablation (K/4, first
    seed; the official λ_d, and the official λ_g is the main table's run). The ``cpu`` profile trains one seed of
    each: no CPU budget gets these models to draw digits (the pilots in ``benchmarks/README.md``), so its runs show
    the pipeline and the samples, and the claims name the GPU budget that would decide them."""
    sizes = by_profile(profile, smoke=["K/4"], cpu=["K/4", "K/2"], paper=["K/4", "K/2"])
    seeds = by_profile(profile, smoke=[0], cpu=[0], paper=[0, 1, 2])
    iterations = by_profile(profile, smoke=20, cpu=2_500, paper=50_000)
    pool = by_profile(profile, smoke=1_000, cpu=5_000, paper=None)  # MNIST digits to stack; None: all 60,000
    # λ_g of MS-GAN's K/4 runs besides the main table's official 0.2 (msdistgan_mnist1k.py)
    lambda_g = by_profile(profile, smoke=[0.5], cpu=[0.02, 0.5], paper=[0.0, 0.05, 0.1, 0.5, 1.0])
    evaluation = Evaluation(
        n_samples=by_profile(profile, smoke=640, cpu=25_600, paper=25_600),
        eval_every=by_profile(profile, smoke=10, cpu=500, paper=5_000),
        eval_samples=by_profile(profile, smoke=640, cpu=6_400, paper=25_600), classifier_profile=profile)

    def config(model: str, size: str, seed: int, **weights: float) -> StackedMNISTConfig:
        return StackedMNISTConfig(model=model, discriminator=size, seed=seed, iterations=iterations, pool_size=pool,
                                  **weights)

    models, distgan_iterations = model_families(profile, iterations, "stacked_mnist")
    main = main_runs(config, sizes, models, seeds, distgan_iterations)
    ablation = tuple(config("MS-GAN", "K/4", seeds[0], weight_g=g) for g in lambda_g)
    pool_text = ("all 60,000 MNIST training digits" if pool is None
                 else f"{pool} class-balanced MNIST training digits (seed 0)")
    return Plan(
        notebook=STACKED_NOTEBOOK, profile=profile, experiment=STACKED, runs={"main": main, "lambda_g": ablation},
        evaluation=evaluation, workers=by_profile(profile, smoke=1, cpu=2, paper=1),
        protocol={"seed": str(seeds), "iterations": iterations_text(iterations, distgan_iterations, models),
                  "batch_size": 64, "n_samples": evaluation.n_samples,
                  "digit_pool": pool_text,
                  "modes_read_by": "the project's MNIST classifier, per channel (named in the runs' extractor column)",
                  "self_supervised_forms": OFFICIAL_FORMS, "generator_first_bn": GENERATOR_FIRST_BN},
        settings={"models": list(models), "sizes": sizes, "seeds": seeds, "lambda_g": lambda_g},
    )


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
    rotation_scheme: str | None = None  # None: rotation_scheme(model)
    precision: str = "fp32"
    generator_first_norm: str = "per_unit"  # the DCGAN G's first BN, as the official fc_bn_relu (repro.nets.base)

    def __post_init__(self) -> None:
        check_first_norm(self.generator_first_norm)
        check_model(self.model, self.weight_d, self.weight_g)
        if self.backbone not in BACKBONES:
            raise ConfigError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")
        check_distgan_setting(self.model, self.backbone)

    @property
    def loop_settings(self) -> dict[str, Any]:
        """Loss, Adam betas and D steps per G step: the backbone's (:data:`BACKBONES`), or for the Dist-GAN models
        the official drivers' (msdistgan_cifar.py: the hinge loss on D's logits for DCGAN and on its sigmoid for
        SNGAN, Adam (0.5, 0.9), one E, one D and one G step per iteration)."""
        if self.model in DISTGAN_MODELS:
            return {"loss": "hinge", "hinge_on": "logit" if self.backbone == "dcgan" else "sigmoid",
                    "betas": (0.5, 0.9), "n_dis": 1}
        return BACKBONES[self.backbone]

    @property
    def label(self) -> str:
        return model_label(self.model, self.weight_d, self.weight_g)


class Cifar:
    """CIFAR-10 runs (notebook 31) on the DCGAN or SNGAN backbones of :data:`BACKBONES`."""

    def run_name(self, config: CifarConfig) -> str:
        return f"cifar10-{config.model.replace('-', '')}-{config.backbone}-seed{config.seed}-{config_digest(config)}"

    def columns(self, config: CifarConfig) -> dict[str, Any]:
        return {"model": config.label, "backbone": config.backbone, "run_seed": config.seed}

    def image_shape(self, config: CifarConfig) -> tuple[int, int, int]:
        return (3, 32, 32)

    def train_set(self, config: CifarConfig, data_dir: str | os.PathLike | None) -> ImageDataset:
        return load_dataset("cifar10", "train", data_dir)

    def build(self, config: CifarConfig, train_set: ImageDataset) -> SelfSupervisedGAN | DistGAN:
        weight_d, weight_g = model_weights(config.model, config.backbone, config.weight_d, config.weight_g)
        if config.model in DISTGAN_MODELS:
            return self._build_distgan(config, weight_d, weight_g)
        if config.backbone == "dcgan":
            generator, discriminator = dcgan_nets(latent_dim=128, width=config.width,
                                                  first_norm=config.generator_first_norm)
        elif config.backbone == "sngan":
            generator, discriminator = sngan_cnn_nets(generator_width=2 * config.width,
                                                      discriminator_width=config.width)
        else:
            generator, discriminator = sngan_resnet_nets(generator_width=config.width, discriminator_width=config.width)
        return SelfSupervisedGAN(generator, discriminator, MODELS[config.model], BACKBONES[config.backbone]["loss"],
                                 weight_d, weight_g, rotation_scheme(config.model, config.rotation_scheme),
                                 seed=config.seed)

    def _build_distgan(self, config: CifarConfig, weight_d: float | None, weight_g: float | None) -> DistGAN:
        """The official Dist-GAN CIFAR setting (msdistgan_cifar.py; ms_gan.md §3.1): images in [0, 1] with a sigmoid
        G, z ~ U(-1, 1), no spectral norm (the gradient penalty controls D), λ_r 1.0, the encoder step updates E
        only, and the DCGAN encoder for both backbones (msdistgan.py l.187-190)."""
        unit = {"output_range": "unit", "latent_distribution": "symmetric_uniform"}
        if config.backbone == "dcgan":
            generator, discriminator = dcgan_nets(latent_dim=128, width=config.width,
                                                  first_norm=config.generator_first_norm, **unit)
        else:
            generator, discriminator = sngan_cnn_nets(generator_width=2 * config.width,
                                                      discriminator_width=config.width, spectral_norm=False, **unit)
        settings = config.loop_settings
        return DistGAN(generator, discriminator, DCGANEncoder(latent_dim=128, width=config.width),
                       loss=settings["loss"], hinge_on=settings["hinge_on"], lambda_r=1.0,
                       encoder_updates_generator=False, task=MODELS[config.model], lambda_d=weight_d,
                       lambda_g=weight_g, total_steps=config.iterations, lr_e=config.lr, betas_e=settings["betas"],
                       seed=config.seed)

    def batches(self, config: CifarConfig, train_set: ImageDataset, device) -> DeviceBatches:
        return DeviceBatches(train_set.images, None, config.batch_size, device=device,
                             value_range=data_range(config.model))

    def loop(self, config: CifarConfig) -> TrainConfig:
        betas = config.loop_settings["betas"]
        return TrainConfig(
            steps=config.iterations, batch_size=config.batch_size, n_dis=config.loop_settings["n_dis"],
            lr_g=config.lr, lr_d=config.lr, betas_g=betas, betas_d=betas, seed=config.seed, log_every=100,
            checkpoint_every=max(1, config.iterations // 10), sample_bn_mode="train",
            precision=config.precision, channels_last=True,  # fp32 too: 1.10-1.13x (benchmarks/cpu_throughput.py)
        )

    def scorer(self, config: CifarConfig, method: SelfSupervisedGAN, data_dir: str | os.PathLike | None,
               evaluation: Evaluation) -> FeatureScorer:
        from ..metrics.classifier import load_classifier

        classifier = load_classifier("cifar10", evaluation.classifier_profile, data_dir)
        return FeatureScorer(classifier, real_outputs("cifar10", "train", classifier, evaluation.n_real, data_dir),
                             evaluation)

    def prepare(self, configs: Sequence[CifarConfig], data_dir: str | os.PathLike | None,
                evaluation: Evaluation) -> None:
        self.scorer(configs[0], None, data_dir, evaluation)  # the CIFAR-10 classifier and its reference, once


class FeatureScorer:
    """FID, KID and IS of samples (BN in training mode, batches of 64 as the official code) under ``extractor``
    against the ``reference`` real images: the MS-GAN code's 10k-real / 5k-fake protocol."""

    def __init__(self, extractor: Any, reference: Any, evaluation: Evaluation) -> None:
        self.extractor, self.reference, self.evaluation = extractor, reference, evaluation
        self.key = evaluation.score_key(extractor.name)
        self.health_gate = "cifar10"  # repro.experiments.health.GATES

    def scores(self, generator: torch.nn.Module, n: int, seed: int,
               metrics: Sequence[str] = ("is", "fid", "kid")) -> dict[str, Any]:
        images = sample_generator(generator, n, seed=seed, bn_mode="train", batch_size=64)
        return score_images(images, self.extractor, reference=self.reference, metrics=metrics,
                            value_range=generator.output_range)

    def along_training(self, step: int, generator: torch.nn.Module, seed: int) -> dict[str, float]:
        scores = self.scores(generator, self.evaluation.eval_samples, seed)
        return {"fid": scores["fid"], "kid_mean": scores["kid_mean"], "is_mean": scores["is_mean"]}

    def final(self, method: SelfSupervisedGAN, seed: int, folder: Path) -> dict[str, Any]:
        return self.scores(method.generator, self.evaluation.n_samples, seed)


CIFAR = Cifar()


# G steps; the pilot in benchmarks/README.md ("MS-GAN's CIFAR-10 models at CPU scale") and the rates of two runs
# side by side on 2 cores (GAN 108 ms, SSGAN 134 ms, MS-GAN 111-119 ms a step): what the 150-minute first run
# affords for three models x three seeds, with a margin
CIFAR_CPU_ITERATIONS = 12_000


def cifar_plan(profile: str) -> Plan[CifarConfig]:
    """Notebook 31: every model on the DCGAN and SNGAN backbones over seeds, and MS-GAN's (λ_d, λ_g) ablation on
    the last backbone (first seed; the official pair is the main table's run).

    The ``cpu`` profile spends its budget where a 2-core machine can train: the DCGAN backbone alone, 3 seeds of
    each model for :data:`CIFAR_CPU_ITERATIONS` G steps (the pilot's plain GAN passes the health gate, classifier
    IS 2, at about 10,000; the SNGAN backbone costs 3-10x per step and two D steps, so it does not fit at a length
    that trains), and no λ ablation (about 125 minutes for the nine runs on 2 cores, scoring included)."""
    backbones = by_profile(profile, smoke=["dcgan", "sngan"], cpu=["dcgan"], paper=["dcgan", "sngan"])
    seeds = by_profile(profile, smoke=[0], cpu=[0, 1, 2], paper=[0, 1, 2])
    iterations = by_profile(profile, smoke=4, cpu=CIFAR_CPU_ITERATIONS, paper=100_000)  # G steps
    width = by_profile(profile, smoke=4, cpu=16, paper=64)
    lambdas = by_profile(profile, smoke=[(1.0, 0.5)], cpu=[],
                         paper=[(1.0, 0.0), (1.0, 0.05), (1.0, 0.2), (1.0, 0.5), (1.0, 1.0), (0.5, 0.1)])
    evaluation = Evaluation(
        n_samples=by_profile(profile, smoke=200, cpu=5_000, paper=5_000),
        eval_every=by_profile(profile, smoke=2, cpu=2_000, paper=10_000),
        eval_samples=by_profile(profile, smoke=200, cpu=2_000, paper=5_000), classifier_profile=profile,
        n_real=by_profile(profile, smoke=500, cpu=10_000, paper=10_000))

    def config(model: str, backbone: str, seed: int, **weights: float) -> CifarConfig:
        return CifarConfig(model=model, backbone=backbone, seed=seed, iterations=iterations, width=width, **weights)

    models, distgan_iterations = model_families(profile, iterations, "cifar10")
    main = main_runs(config, backbones, models, seeds, distgan_iterations)
    ablation = tuple(config("MS-GAN", backbones[-1], seeds[0], weight_d=d, weight_g=g) for d, g in lambdas)
    return Plan(
        notebook=CIFAR_NOTEBOOK, profile=profile, experiment=CIFAR, runs={"main": main, "lambdas": ablation},
        evaluation=evaluation, workers=by_profile(profile, smoke=1, cpu=2, paper=1),
        protocol={"seed": str(seeds), "iterations": iterations_text(iterations, distgan_iterations, models),
                  "width": width, "batch_size": 64,
                  "reference": "CIFAR-10 train (random subset, seed 0)", "self_supervised_forms": OFFICIAL_FORMS,
                  "generator_first_bn": GENERATOR_FIRST_BN},
        settings={"models": list(models), "backbones": backbones, "seeds": seeds, "lambdas": lambdas},
    )


def plans(profile: str) -> list[Plan]:
    """Every plan of the MS-GAN notebooks at ``profile``."""
    return [stacked_plan(profile), cifar_plan(profile)]


# ----------------------------------------------------------------------------------------------------------
# Claims

TITLE = "MS-GAN (Tran et al. 2019) — notebooks 30–31"


def orderings(table: Sequence[Mapping[str, Any]], metric: str, higher_better: bool,
              group_key: str) -> list[dict[str, Any]]:
    """Each :data:`CLAIMED_PAIRS` ordering on ``metric`` per value of ``group_key`` (the discriminator size or
    the backbone), on a table of :func:`~repro.experiments.claims.summarise` rows: the difference in the claimed
    direction, its 95% Welch interval and unadjusted p-value (:func:`~repro.experiments.claims.difference_columns`;
    the summary adjusts within the paper's claims)."""
    rows = []
    for group in dict.fromkeys(r[group_key] for r in table):
        ours = {r["model"]: r for r in table if r[group_key] == group}
        for better, worse in CLAIMED_PAIRS:
            if better in ours and worse in ours:
                arms = [arm_from_row(name, ours[name], metric) for name in (better, worse)]
                rows.append({group_key: group, "metric": metric, "claimed_better": better, "claimed_worse": worse,
                             **difference_columns(*arms, higher_better)})
    return rows


# (column, higher better, name): the claim's primary metric first; the others come from the same samples and are
# shown beside it, not counted again
STACKED_METRICS = (("modes", True, "modes"), ("kl_to_uniform", False, "KL to uniform"))
CIFAR_METRICS = (("fid", False, "FID"), ("kid_mean", False, "KID"))


def _orderings_of(runs: Sequence[Mapping[str, Any]], metrics: Sequence[tuple[str, bool, str]], group_key: str,
                  dataset: str, paper_says: str, protocol: Callable[[Mapping[str, Any]], str],
                  notebook: str) -> list[Ordering]:
    """Every :data:`CLAIMED_PAIRS` ordering of one notebook's per-run table, per value of ``group_key``: judged on
    the first of ``metrics``, the others beside it; every run passes the gate of ``dataset`` or the claim is
    untestable."""
    (metric, higher_better, name), *others = metrics
    found = []
    for group in dict.fromkeys(r[group_key] for r in runs):
        of_model = {model: [r for r in runs if r[group_key] == group and r["model"] == model] for model in MODELS}
        for better, worse in CLAIMED_PAIRS:
            if not of_model[better] or not of_model[worse]:
                continue
            beside = [beside_text(label, welch(*(runs_arm(m, of_model[m], column, dataset) for m in (better, worse)),
                                               higher)) for column, higher, label in others]
            found.append(Ordering(
                f"{better} better than {worse} ({name}), {group}", name,
                runs_arm(better, of_model[better], metric, dataset), runs_arm(worse, of_model[worse], metric, dataset),
                higher_better, paper_says, protocol(of_model[better][0]), "; ".join(filter(None, beside)),
                notebook=notebook))
    return found


def claims(root: Path) -> list[Claim]:
    """MS-GAN's and SSGAN's orderings under the committed per-run tables of notebooks 30 and 31: Stacked-MNIST
    modes (KL beside), CIFAR-10 FID (KID beside)."""
    found: list[Ordering | Claim] = []
    stacked = read_table(root, STACKED_NOTEBOOK, "runs")
    if stacked is None:
        found.append(not_run("Stacked-MNIST: MS-GAN covers more modes than SSGAN", "not available to us",
                             STACKED_NOTEBOOK))
    else:
        found += _orderings_of(
            stacked, STACKED_METRICS, "discriminator", "stacked_mnist", "claimed (numbers not available to us)",
            lambda run: (f"{run['profile']}, Stacked-MNIST {run['discriminator']}, {run['iterations']} iterations, "
                         f"{run['n_samples']} samples, {run.get('extractor') or 'project MNIST classifier'}"),
            STACKED_NOTEBOOK)
    cifar = read_table(root, CIFAR_NOTEBOOK, "runs")
    if cifar is None:
        found.append(not_run("CIFAR-10: MS-GAN reaches a lower FID than SSGAN",
                             f"{PAPER_FID['cifar10']:.2f} (MS-DistGAN, ResNet)", CIFAR_NOTEBOOK))
    else:
        found += _orderings_of(
            cifar, CIFAR_METRICS, "backbone", "cifar10", "claimed (per-backbone numbers not available to us)",
            lambda run: (f"{run['profile']}, CIFAR-10 {run['backbone']}, {run['iterations']} G steps, width "
                         f"{run['width']}, {run['n_fake']} samples, features of {run['extractor']}"),
            CIFAR_NOTEBOOK)
    return judge(found, awaiting_rerun(root))
