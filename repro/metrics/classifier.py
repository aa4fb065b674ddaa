"""Dataset classifiers trained here: the offline stand-in for Inception (metrics.md §6-§7).

Logits serve the Inception Score and the AM Score, penultimate features serve FID and KID, and the MNIST
classifier applied to each channel gives Stacked-MNIST modes. Each classifier is trained once with a seeded
recipe and cached under ``$REPRO_CACHE_DIR/classifiers``, keyed by the recipe and the training data's source,
so every notebook scores with the same network. Scores from these classifiers are comparable with each other,
not with the papers' Inception or DenseNet numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data import DeviceBatches, ImageDataset, load_dataset
from ..errors import ConfigError
from ..files import atomic_path, file_sha256
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
        return f"{self.recipe.dataset}-convnet-{self.recipe.key(self.source)}"

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


def per_channel_labels(model: ConvClassifier, images: np.ndarray | torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Predicted digit of each channel of (N, 3, H, W) images -> (N, 3) labels (Stacked-MNIST, metrics.md §7)."""
    pixels = as_tensor(images)
    n, channels = pixels.shape[:2]
    flat = pixels.reshape(n * channels, 1, *pixels.shape[2:])
    return predict_logits(model, flat, batch_size).argmax(1).view(n, channels).numpy()


# ----------------------------------------------------------------------------------------------------------
# Cache


def load_classifier(
    dataset: str,
    profile: str = "cpu",
    data_dir: str | os.PathLike | None = None,
    *,
    train_if_missing: bool = True,
    log_every: int = 0,
) -> TrainedClassifier:
    """The cached classifier for ``dataset`` at ``profile``, training (and caching) it first if needed."""
    recipe = recipe_for(dataset, profile)
    train = load_dataset(dataset, "train", data_dir)
    path = cache_dir() / "classifiers" / f"{dataset}-{recipe.key(train.source)}.pt"
    if not path.exists():
        if not train_if_missing:
            raise FileNotFoundError(f"no cached classifier at {path}; call load_classifier(..., train_if_missing=True)")
        test = load_dataset(dataset, "test", data_dir)
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
        weights_sha256=file_sha256(path),
    )
