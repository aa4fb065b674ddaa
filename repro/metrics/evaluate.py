"""From a generator (or a set of images) to metric values with their protocol.

* :func:`sample_generator` draws N images from G in batches with a fixed seed and a stated BN mode, and
  quantises them to uint8 with :func:`repro.images.to_uint8` (round to nearest; metrics.md §2).
* :func:`real_outputs` runs an extractor over real images once and caches the result, keyed by (dataset,
  split, N, extractor, weights hash, data source).
* :func:`score_images` turns extractor outputs into IS, FID, KID and AM Score with the protocol fields of
  metrics.md §12.

An extractor is anything with ``name``, ``weights_sha256`` and ``__call__(uint8 images) -> (logits, features)``:
:class:`~repro.metrics.classifier.TrainedClassifier` or :class:`~repro.metrics.inception.InceptionExtractor`.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import torch

from ..data import load_dataset
from ..errors import ConfigError
from ..files import atomic_path
from ..images import QUANTISATION, ValueRange, to_uint8
from ..nets.base import draw_latents, sampling_mode
from ..paths import cache_dir
from .am_score import am_score, class_marginal
from .fid import fid_from_features
from .inception_score import IS_SHUFFLE_SEED, IS_SPLITS, inception_score
from .kid import kernel_inception_distance


class Extractor(Protocol):
    name: str
    weights_sha256: str

    def __call__(self, images: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


# ----------------------------------------------------------------------------------------------------------
# Sampling


@torch.no_grad()
def sample_generator(
    generator: torch.nn.Module,
    n: int,
    *,
    seed: int,
    batch_size: int = 500,
    bn_mode: Literal["eval", "train"] = "eval",
    class_labels: torch.Tensor | None = None,
    latent_dim: int | None = None,
    value_range: ValueRange | None = None,
) -> torch.Tensor:
    """Draw ``n`` images from ``generator(z)`` (or ``generator(z, y)``) as uint8 (n, C, H, W) on the CPU.

    z ~ N(0, I) from a generator seeded with ``seed``, so the same seed gives the same images. ``bn_mode``
    "eval" uses BN running statistics; "train" uses each batch's statistics (as the MS-GAN and AM-GAN code
    sample), without changing the running statistics. The model's mode and buffers are restored afterwards.
    ``latent_dim`` and ``value_range`` default to what the generator declares (``latent_dim``,
    ``output_range``); pass them only for a network that does not.
    """
    value_range = value_range or getattr(generator, "output_range", None)
    if value_range is None:
        raise ConfigError(f"{type(generator).__name__} declares no output_range ('symmetric' for tanh, 'unit' for "
                          "sigmoid): set the attribute on the generator or pass value_range=")
    if class_labels is not None and len(class_labels) != n:
        raise ValueError(f"class_labels has {len(class_labels)} entries for {n} samples")
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)  # latents drawn on the CPU: the same samples on any device
    chunks = []
    with sampling_mode(generator, bn_mode):
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            z = draw_latents(generator, size, rng, latent_dim).to(device)
            if class_labels is None:
                images = generator(z)
            else:
                images = generator(z, class_labels[start : start + size].to(device))
            chunks.append(to_uint8(images, value_range).cpu())
    return torch.cat(chunks)


# ----------------------------------------------------------------------------------------------------------
# Real-data reference outputs, cached


@dataclass(frozen=True)
class RealReference:
    """Extractor outputs on N real images of one split."""

    dataset: str
    split: str
    logits: np.ndarray  # (N, K) float32
    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, the true classes
    extractor: str
    weights_sha256: str
    source: str

    @property
    def n(self) -> int:
        return len(self.features)

    @property
    def probabilities(self) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self.logits).double(), dim=1).numpy()

    @property
    def class_marginal(self) -> np.ndarray:
        """Mean predicted probability over these images: AM Score's C̄_train (Eq. 27) on the train split."""
        return class_marginal(self.probabilities)


def real_outputs(
    dataset: str,
    split: str,
    extractor: Extractor,
    n: int | None = None,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
) -> RealReference:
    """Extractor outputs on ``n`` real images of ``dataset``/``split`` (all if None), computed once and cached.

    A subset is drawn without replacement with ``seed``. The cache key holds everything the numbers depend
    on: dataset, split, n, seed, extractor name, weights hash and the data's source.
    """
    images = load_dataset(dataset, split, data_dir)
    if n is not None and not 0 < n <= len(images):
        raise ValueError(f"n={n} but {dataset}/{split} has {len(images)} images")
    key_fields = [dataset, split, n, seed, extractor.name, extractor.weights_sha256, images.source]
    key = hashlib.sha256(json.dumps(key_fields).encode()).hexdigest()[:16]
    path = cache_dir() / "reference" / f"{dataset}-{split}-{n or 'all'}-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return RealReference(
                    dataset, split, stored["logits"], stored["features"], stored["labels"],
                    extractor.name, extractor.weights_sha256, images.source,
                )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)
    index = np.arange(len(images)) if n is None else np.sort(
        np.random.default_rng(seed).choice(len(images), size=n, replace=False)
    )
    logits, features = extractor(images.images[index])
    reference = RealReference(
        dataset, split, logits.numpy(), features.numpy(), images.labels[index],
        extractor.name, extractor.weights_sha256, images.source,
    )
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, logits=reference.logits, features=reference.features, labels=reference.labels)
    return reference


# ----------------------------------------------------------------------------------------------------------
# Scores with protocol


def score_outputs(
    logits: np.ndarray | torch.Tensor,
    features: np.ndarray | torch.Tensor,
    *,
    reference: RealReference | None = None,
    train_marginal: np.ndarray | None = None,
    metrics: Sequence[str] = ("is", "fid", "kid", "am"),
    is_splits: int = IS_SPLITS,
    kid_subset_size: int = 1000,
) -> dict[str, Any]:
    """IS (mean, std over splits), FID and KID against ``reference``, AM Score against ``train_marginal``.

    Returns the values plus the protocol fields that make them comparable (metrics.md §12). FID/KID need a
    reference; AM needs the training marginal (``RealReference.class_marginal`` of the train split).
    """
    logits = np.asarray(logits, dtype=np.float64)
    features = np.asarray(features)
    unknown = set(metrics) - {"is", "fid", "kid", "am"}
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; choose from is, fid, kid, am")
    out: dict[str, Any] = {"n_fake": len(features)}
    if "is" in metrics:
        out["is_mean"], out["is_std"] = inception_score(logits, from_logits=True, splits=is_splits)
        out["is_splits"] = is_splits
        out["is_shuffle_seed"] = IS_SHUFFLE_SEED
    if "fid" in metrics or "kid" in metrics:
        if reference is None:
            raise ValueError("FID and KID need a reference (real_outputs(...))")
        out["n_real"] = reference.n
        out["ref_split"] = f"{reference.dataset}/{reference.split}"
    if "fid" in metrics:
        out["fid"] = fid_from_features(features, reference.features)
    if "kid" in metrics:
        subset = min(kid_subset_size, len(features), reference.n)
        out["kid_mean"], out["kid_std"] = kernel_inception_distance(features, reference.features, subset_size=subset)
        out["kid_subset_size"] = subset
    if "am" in metrics:
        if train_marginal is None:
            raise ValueError("the AM Score needs train_marginal (real_outputs(dataset, 'train', ...).class_marginal)")
        probabilities = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
        am = am_score(probabilities, train_marginal)
        out["am_score"], out["am_marginal_kl"], out["am_entropy"] = am.total, am.marginal_kl, am.mean_entropy
    return out


def score_images(
    images: np.ndarray | torch.Tensor,
    extractor: Extractor,
    *,
    reference: RealReference | None = None,
    train_marginal: np.ndarray | None = None,
    metrics: Sequence[str] = ("is", "fid", "kid", "am"),
    value_range: ValueRange = "symmetric",
) -> dict[str, Any]:
    """:func:`score_outputs` on uint8 images, plus the extractor's name, its weights hash and the quantisation
    that made the images from a generator's ``value_range`` outputs."""
    logits, features = extractor(images)
    scores = score_outputs(logits, features, reference=reference, train_marginal=train_marginal, metrics=metrics)
    return {**scores, "extractor": extractor.name, "weights_sha256": extractor.weights_sha256,
            "quantisation": QUANTISATION[value_range]}


def stacked_mnist_scores(generator: torch.nn.Module, classifier: Any, n: int,
                         seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """Modes covered (at least 1 and at least 10 samples) and KL to uniform of ``n`` Stacked-MNIST samples, each
    channel read by the MNIST ``classifier`` (metrics.md §7), with the classifier's name and weights hash; also
    the (n,) mode ids. Sampled in batches of 64 with BN in training mode, as the official code samples.

    Also how much of that reading is of digits: ``confident_fraction``, the share of samples whose three channels
    the classifier reads with probability ≥ :data:`~repro.metrics.modes.CONFIDENT_PROBABILITY`, and
    ``modes_confident``, the modes with at least 10 of those samples (:func:`~repro.metrics.modes.confident_modes`).
    A classifier reads *some* digit in any blob, so a generator of colour blobs can "cover" hundreds of modes (seen
    in the Dist-GAN pilot at 3,000 iterations: benchmarks/pilots); it covers few confidently."""
    from .classifier import per_channel_predictions
    from .modes import confident_modes, confident_samples, mode_coverage, mode_ids

    images = sample_generator(generator, n, seed=seed, bn_mode="train", batch_size=64)
    labels, confidence = per_channel_predictions(classifier.model, images)
    ids = mode_ids(labels)
    confident = confident_samples(confidence)
    coverage = mode_coverage(ids)
    return {"modes": coverage.num_modes, "kl_to_uniform": coverage.kl_to_uniform,
            "modes_10plus": mode_coverage(ids, min_count=10).num_modes,
            "modes_confident": confident_modes(ids, confident), "confident_fraction": float(confident.mean()),
            "samples": n, "extractor": classifier.name, "weights_sha256": classifier.weights_sha256}, ids
