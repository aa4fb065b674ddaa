"""Dataset classifiers trained here: the offline stand-in for Inception (metrics.md §6-§7).

Logits serve the Inception Score and the AM Score, penultimate features serve FID and KID, and the MNIST
classifier applied to each channel gives Stacked-MNIST modes. Scores from these classifiers are comparable with
each other, not with the papers' Inception or DenseNet numbers.

Training is seeded but not bit-reproducible across machines, so the classifiers that score the ``cpu`` and
``paper`` profiles are pinned: their weights ship in ``repro/metrics/weights/`` with a manifest
(``classifiers.json``: file, SHA-256, recipe, training data source, test accuracy, training time, torch version,
the command that made the file), and :func:`load_classifier` checks the digest and never trains them. A
classifier's name carries the first 12 hex digits of its weights' SHA-256, so two networks never share a name.
``python -m repro.metrics.classifier retrain DATASET [--pin]`` trains the cpu recipe again (into the cache, or
with ``--pin`` over the pinned file and its manifest entry). The ``smoke`` recipes are trained on first use and
cached under ``$REPRO_CACHE_DIR/classifiers``, keyed by the recipe and the training data's source.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data import DeviceBatches, ImageDataset, load_dataset
from ..errors import ConfigError
from ..files import atomic_path, file_sha256, write_json_atomic
from ..images import as_tensor, to_float
from ..nets.classifiers import ConvClassifier
from ..paths import cache_dir
from ..profiles import check_profile


@dataclass(frozen=True)
class ClassifierRecipe:
    """How one classifier is trained: SGD with Nesterov momentum, a linear warm-up then linear decay of the
    learning rate, label smoothing, random translations (and flips where the classes allow), bf16 autocast."""

    dataset: str
    widths: tuple[int, int, int, int]
    epochs: int
    batch_size: int = 512
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_fraction: float = 0.2
    translate: int = 2  # pixels of random shift (reflect padding)
    flip: bool = False  # random horizontal flips; wrong for digits
    train_images: int | None = None  # None: the whole training split; smoke recipes use a subset
    bf16: bool = True
    seed: int = 0

    def key(self, source: str) -> str:
        """Cache key: the recipe plus where the training pixels came from."""
        blob = json.dumps([dataclasses.asdict(self), source], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


# The cpu recipes are also used at the paper profile, so that scores are comparable across profiles.
RECIPES: dict[tuple[str, str], ClassifierRecipe] = {
    ("mnist", "cpu"): ClassifierRecipe("mnist", widths=(16, 32, 64, 128), epochs=6, translate=2),
    ("cifar10", "cpu"): ClassifierRecipe("cifar10", widths=(24, 48, 128, 128), epochs=20, flip=True),
    ("mnist", "smoke"): ClassifierRecipe("mnist", widths=(8, 16, 16, 32), epochs=1, batch_size=128, train_images=4096),
    ("cifar10", "smoke"): ClassifierRecipe(
        "cifar10", widths=(8, 16, 16, 32), epochs=1, batch_size=128, flip=True, train_images=4096
    ),
}


def recipe_for(dataset: str, profile: str) -> ClassifierRecipe:
    """The classifier recipe for ``dataset`` at ``profile`` (``paper`` uses the ``cpu`` classifier)."""
    profile = "cpu" if check_profile(profile) == "paper" else profile
    try:
        return RECIPES[(dataset, profile)]
    except KeyError:
        known = sorted({d for d, _ in RECIPES})
        raise ConfigError(f"no classifier recipe for dataset {dataset!r}; known: {', '.join(known)}") from None


@dataclass
class TrainedClassifier:
    """A classifier with the facts a result protocol needs."""

    model: ConvClassifier
    recipe: ClassifierRecipe
    source: str  # the training data's source (mirror file or torchvision)
    test_accuracy: float
    train_seconds: float
    path: Path
    weights_sha256: str

    @property
    def name(self) -> str:
        """``<dataset>-convnet-<first 12 hex digits of the weights file's SHA-256>``: another network, another name."""
        return f"{self.recipe.dataset}-convnet-{self.weights_sha256[:12]}"

    def __call__(self, images: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, C, H, W) -> (logits, penultimate features): the extractor interface of repro.metrics."""
        return classifier_outputs(self.model, images)


# ----------------------------------------------------------------------------------------------------------
# Training


def augment(images: torch.Tensor, translate: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to ``translate`` pixels (reflect padding) and optional horizontal flips, per image."""
    n, _, height, width = images.shape
    if flip:
        flipped = torch.rand(n, generator=generator, device=images.device) < 0.5
        images = torch.where(flipped[:, None, None, None], images.flip(3), images)
    if translate:
        padded = F.pad(images, (translate,) * 4, mode="reflect")
        dy, dx = torch.randint(0, 2 * translate + 1, (2, n, 1), generator=generator, device=images.device)
        rows = (torch.arange(height, device=images.device) + dy)[:, :, None]  # (n, H, 1)
        cols = (torch.arange(width, device=images.device) + dx)[:, None, :]  # (n, 1, W)
        batch = torch.arange(n, device=images.device)[:, None, None]
        images = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    return images.contiguous(memory_format=torch.channels_last)


def _learning_rate(recipe: ClassifierRecipe, step: int, total: int) -> float:
    warmup = max(1, int(recipe.warmup_fraction * total))
    if step < warmup:
        return recipe.lr * (step + 1) / warmup
    return recipe.lr * max(0.0, (total - step) / (total - warmup))


def train_classifier(
    recipe: ClassifierRecipe, train: ImageDataset, test: ImageDataset, log_every: int = 0
) -> tuple[ConvClassifier, float, float]:
    """Train a classifier by ``recipe``; returns (model in eval mode, test accuracy, training seconds)."""
    torch.manual_seed(recipe.seed)
    images, labels = train.images, train.labels
    if recipe.train_images is not None:
        chosen = np.random.default_rng(recipe.seed).permutation(len(images))[: recipe.train_images]
        images, labels = images[chosen], labels[chosen]
    pixels = to_float(images, "unit")
    model = ConvClassifier(
        train.shape[0],
        train.num_classes,
        recipe.widths,
        channel_mean=(pixels.mean(dim=(0, 2, 3)) * 2 - 1).tolist(),  # statistics of the [-1, 1] inputs
        channel_std=(pixels.std(dim=(0, 2, 3)) * 2).tolist(),
    ).to(memory_format=torch.channels_last)
    del pixels
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, nesterov=True, weight_decay=recipe.weight_decay
    )
    batches = DeviceBatches(images, labels, recipe.batch_size, seed=recipe.seed)
    augment_rng = torch.Generator().manual_seed(recipe.seed + 1)
    total = recipe.epochs * batches.batches_per_epoch
    start = time.perf_counter()
    model.train()
    for step in range(total):
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(recipe, step, total)
        x, y = batches.next()
        x = augment(x, recipe.translate, recipe.flip, augment_rng)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
            loss = F.cross_entropy(model(x), y, label_smoothing=recipe.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if log_every and (step % log_every == 0 or step == total - 1):
            print(f"[classifier {recipe.dataset}] step {step + 1}/{total} loss {loss.item():.4f} "
                  f"{time.perf_counter() - start:.0f}s", flush=True)
    seconds = time.perf_counter() - start
    model.eval()
    accuracy = float((predict_logits(model, test.images).argmax(1).numpy() == test.labels).mean())
    return model, accuracy, seconds


# ----------------------------------------------------------------------------------------------------------
# Inference


@torch.no_grad()
def classifier_outputs(
    model: ConvClassifier, images: np.ndarray | torch.Tensor, batch_size: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (N, K), penultimate features (N, D)) in float32 for uint8 images (N, C, H, W).

    Runs in fp32 in eval mode with a fixed batch size, so that scores do not depend on how callers batch.
    """
    pixels = as_tensor(images)
    if pixels.dtype != torch.uint8 or pixels.ndim != 4:
        raise TypeError(f"expected uint8 images (N, C, H, W), got {pixels.dtype} {tuple(pixels.shape)}")
    expected = model.channel_mean.shape[1]
    if pixels.shape[1] != expected:
        raise ValueError(f"classifier takes {expected}-channel images, got {pixels.shape[1]} channels")
    model.eval()
    device = model.channel_mean.device
    logits, features = [], []
    for chunk in pixels.split(batch_size):
        x = to_float(chunk.to(device)).contiguous(memory_format=torch.channels_last)
        feats = model.features(x)
        features.append(feats.float().cpu())
        logits.append(model.head(feats).float().cpu())
    return torch.cat(logits), torch.cat(features)


def predict_logits(model: ConvClassifier, images: np.ndarray | torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    return classifier_outputs(model, images, batch_size)[0]


def per_channel_predictions(model: ConvClassifier, images: np.ndarray | torch.Tensor,
                            batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Predicted digit of each channel of (N, 3, H, W) images and the classifier's probability for it: (N, 3)
    labels and (N, 3) top-class probabilities (Stacked-MNIST, metrics.md §7)."""
    pixels = as_tensor(images)
    n, channels = pixels.shape[:2]
    flat = pixels.reshape(n * channels, 1, *pixels.shape[2:])
    probabilities = torch.softmax(predict_logits(model, flat, batch_size).double(), dim=1)
    confidence, labels = probabilities.max(1)
    return labels.view(n, channels).numpy(), confidence.view(n, channels).numpy()


def per_channel_labels(model: ConvClassifier, images: np.ndarray | torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Predicted digit of each channel of (N, 3, H, W) images -> (N, 3) labels (Stacked-MNIST, metrics.md §7)."""
    return per_channel_predictions(model, images, batch_size)[0]


# ----------------------------------------------------------------------------------------------------------
# Pinned weights and the cache

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"  # the pinned classifiers, shipped with the package
WEIGHTS_MANIFEST = "classifiers.json"
PINNED_PROFILES = ("cpu", "paper")  # the profiles scored by the pinned classifiers (the cpu recipes)


class PinnedWeightsError(ConfigError):
    """A pinned classifier's weights file is missing, or is not the file its manifest names."""


def pinned_manifest() -> dict[str, dict]:
    """The manifest of the pinned classifiers, ``{dataset: entry}`` ({} when none is pinned yet)."""
    path = WEIGHTS_DIR / WEIGHTS_MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def recipe_fields(recipe: ClassifierRecipe) -> dict:
    """The recipe's fields as the manifest keeps them (JSON, so the widths are a list)."""
    return json.loads(json.dumps(dataclasses.asdict(recipe)))


def pinned_weights(dataset: str) -> tuple[Path, str]:
    """The path and SHA-256 of ``dataset``'s pinned classifier, after checking the file against the manifest and
    the manifest's recipe against :data:`RECIPES`; a :class:`PinnedWeightsError` naming the way out otherwise."""
    retrain = f"python -m repro.metrics.classifier retrain {dataset} --pin"
    entry = pinned_manifest().get(dataset)
    if entry is None:
        raise PinnedWeightsError(f"no pinned classifier for {dataset!r} in {WEIGHTS_DIR / WEIGHTS_MANIFEST}: "
                                 f"train and pin one with `{retrain}`")
    recipe = recipe_fields(recipe_for(dataset, "cpu"))
    if entry["recipe"] != recipe:
        raise PinnedWeightsError(
            f"the pinned {dataset} classifier was trained with recipe {entry['recipe']}, but RECIPES now says "
            f"{recipe}: restore the recipe, or train and pin a new classifier with `{retrain}`")
    path = WEIGHTS_DIR / entry["file"]
    if not path.exists():
        raise PinnedWeightsError(
            f"the pinned {dataset} classifier {path} is missing (expected SHA-256 {entry['sha256']}): restore it "
            f"from the repository (an installed package should ship it), or train and pin a new one with `{retrain}`")
    found = file_sha256(path)
    if found != entry["sha256"]:
        raise PinnedWeightsError(
            f"the pinned {dataset} classifier {path} has SHA-256 {found}, but {WEIGHTS_MANIFEST} expects "
            f"{entry['sha256']}: restore the file from the repository, or train and pin a new one with `{retrain}` "
            "(which rewrites the manifest entry, and so renames the classifier)")
    return path, found


def train_and_save(
    recipe: ClassifierRecipe, data_dir: str | os.PathLike | None, path: Path, log_every: int = 0
) -> Path:
    """Train a classifier by ``recipe`` on its dataset's train split and save it, with its facts, to ``path``."""
    train = load_dataset(recipe.dataset, "train", data_dir)
    test = load_dataset(recipe.dataset, "test", data_dir)
    model, accuracy, seconds = train_classifier(recipe, train, test, log_every=log_every)
    record = {
        "state_dict": model.state_dict(),
        "recipe": dataclasses.asdict(recipe),
        "source": train.source,
        "test_accuracy": accuracy,
        "train_seconds": seconds,
        "num_classes": train.num_classes,
        "in_channels": train.shape[0],
    }
    with atomic_path(path) as tmp:
        torch.save(record, tmp)
    return path


def pin_classifier(saved: Path, command: str) -> dict:
    """Copy a saved classifier (as :func:`train_and_save` writes it) into :data:`WEIGHTS_DIR` as
    ``<dataset>-convnet.pt`` and rewrite its dataset's manifest entry; returns the entry. ``command`` is what
    produced ``saved``, kept so that the file can be made again."""
    record = torch.load(saved, map_location="cpu", weights_only=True)
    dataset = record["recipe"]["dataset"]
    target = WEIGHTS_DIR / f"{dataset}-convnet.pt"
    with atomic_path(target) as tmp:
        shutil.copyfile(saved, tmp)
    entry = {
        "file": target.name,
        "sha256": file_sha256(target),
        "recipe": record["recipe"],
        "source": record["source"],
        "test_accuracy": float(record["test_accuracy"]),
        "train_seconds": round(float(record["train_seconds"]), 1),
        "torch": torch.__version__,
        "command": command,
    }
    write_json_atomic(WEIGHTS_DIR / WEIGHTS_MANIFEST, {**pinned_manifest(), dataset: entry})
    return entry


def cached_classifier_path(recipe: ClassifierRecipe, data_dir: str | os.PathLike | None) -> Path:
    """Where the cache keeps the classifier of ``recipe`` trained on the local copy of its dataset."""
    source = load_dataset(recipe.dataset, "train", data_dir).source
    return cache_dir() / "classifiers" / f"{recipe.dataset}-{recipe.key(source)}.pt"


def load_classifier(
    dataset: str,
    profile: str = "cpu",
    data_dir: str | os.PathLike | None = None,
    *,
    train_if_missing: bool = True,
    log_every: int = 0,
) -> TrainedClassifier:
    """The classifier that scores ``dataset`` at ``profile``.

    At the ``cpu`` and ``paper`` profiles: the pinned classifier, checked against its manifest's SHA-256 (never
    trained here; ``data_dir`` is not read). At ``smoke``: the cached classifier of the smoke recipe, trained and
    cached first if needed (unless ``train_if_missing`` is False).
    """
    recipe = recipe_for(dataset, profile)
    if check_profile(profile) in PINNED_PROFILES:
        path, digest = pinned_weights(dataset)
    else:
        path = cached_classifier_path(recipe, data_dir)
        if not path.exists():
            if not train_if_missing:
                raise FileNotFoundError(
                    f"no cached classifier at {path}; call load_classifier(..., train_if_missing=True)")
            train_and_save(recipe, data_dir, path, log_every)
        digest = file_sha256(path)
    record = torch.load(path, map_location="cpu", weights_only=True)
    model = ConvClassifier(record["in_channels"], record["num_classes"], recipe.widths)
    model.load_state_dict(record["state_dict"])
    model = model.to(memory_format=torch.channels_last).eval().requires_grad_(False)
    return TrainedClassifier(
        model=model,
        recipe=recipe,
        source=record["source"],
        test_accuracy=float(record["test_accuracy"]),
        train_seconds=float(record["train_seconds"]),
        path=path,
        weights_sha256=digest,
    )


# ----------------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> None:
    """``retrain DATASET [--pin]``: train the cpu recipe of DATASET again, into the cache or (``--pin``) over the
    pinned weights and their manifest entry. A retrained network has another digest, hence another name."""
    parser = argparse.ArgumentParser(prog="python -m repro.metrics.classifier", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    retrain = commands.add_parser("retrain", help="train a dataset's cpu-recipe classifier again")
    retrain.add_argument("dataset", choices=sorted({d for d, _ in RECIPES}))
    retrain.add_argument("--pin", action="store_true",
                         help=f"copy it into {WEIGHTS_DIR} and rewrite its entry in {WEIGHTS_MANIFEST}")
    retrain.add_argument("--data-dir", default=None, help="offline mirrors (default: $REPRO_DATA_DIR)")
    retrain.add_argument("--log-every", type=int, default=200, help="steps between loss lines (0: none)")
    args = parser.parse_args(argv)

    recipe = recipe_for(args.dataset, "cpu")
    path = train_and_save(recipe, args.data_dir, cached_classifier_path(recipe, args.data_dir), args.log_every)
    digest = file_sha256(path)
    print(f"trained {args.dataset}-convnet-{digest[:12]} (SHA-256 {digest}) into {path}")
    if args.pin:
        command = " ".join(["python -m repro.metrics.classifier", *(sys.argv[1:] if argv is None else argv)])
        entry = pin_classifier(path, command)
        print(f"pinned as {WEIGHTS_DIR / entry['file']}, test accuracy {entry['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
