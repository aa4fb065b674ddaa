"""repro.metrics.classifier: augmentation, training, caching and the extractor interface."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from repro.data import ImageDataset
from repro.metrics import classifier as clf
from repro.nets.classifiers import ConvClassifier


def bar_digits(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Toy 28x28 'digits': class k is a bright horizontal bar at rows 2k+3..2k+5, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    images = rng.integers(0, 60, size=(len(labels), 1, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 0, 2 * k + 3 : 2 * k + 6, 4:24] = 255
    return images, labels


def toy_dataset(split: str, n_per_class: int, seed: int) -> ImageDataset:
    images, labels = bar_digits(n_per_class, seed)
    return ImageDataset("mnist", split, images, labels, tuple(map(str, range(10))), "toy")


TOY_RECIPE = clf.ClassifierRecipe("mnist", widths=(8, 8, 16, 16), epochs=12, batch_size=50, lr=0.1, translate=1)


def test_augment_shifts_and_flips_within_the_padded_image():
    images = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    generator = torch.Generator().manual_seed(0)
    shifted = clf.augment(images, translate=1, flip=False, generator=generator)
    assert shifted.shape == images.shape
    padded = torch.nn.functional.pad(images, (1, 1, 1, 1), mode="reflect")
    for i in range(2):  # every output is some 6x6 window of the padded input
        windows = [padded[i, :, dy : dy + 6, dx : dx + 6] for dy in range(3) for dx in range(3)]
        assert any(torch.equal(shifted[i], w) for w in windows)
    flipped = clf.augment(images, translate=0, flip=True, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(flipped[i], images[i]) or torch.equal(flipped[i], images[i].flip(2)) for i in range(2))


def test_training_learns_a_separable_toy_task():
    model, accuracy, seconds = clf.train_classifier(TOY_RECIPE, toy_dataset("train", 30, 0), toy_dataset("test", 10, 1))
    assert accuracy >= 0.9, accuracy
    assert not model.training and seconds > 0


def test_recipes_are_known_per_dataset_and_profile():
    assert clf.recipe_for("cifar10", "paper") == clf.recipe_for("cifar10", "cpu")
    assert clf.recipe_for("mnist", "smoke").train_images is not None
    with pytest.raises(ValueError, match="no classifier recipe for dataset 'svhn'"):
        clf.recipe_for("svhn", "cpu")


def test_load_classifier_trains_once_then_reads_the_cache(isolated_cache, make_image_zip, tmp_path, monkeypatch):
    train_images, train_labels = bar_digits(30, 0)
    test_images, test_labels = bar_digits(10, 1)
    tree = {
        split: {str(k): [img[0] for img, lab in zip(imgs, labs, strict=True) if lab == k] for k in range(10)}
        for split, imgs, labs in (("train", train_images, train_labels), ("test", test_images, test_labels))
    }
    make_image_zip(tree, "mnist-png.zip")
    monkeypatch.setitem(clf.RECIPES, ("mnist", "smoke"), TOY_RECIPE)

    first = clf.load_classifier("mnist", "smoke", tmp_path)
    assert first.test_accuracy >= 0.9 and first.path.exists()
    assert len(first.weights_sha256) == 64 and first.name.startswith("mnist-convnet-")

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although a cached classifier exists")

    monkeypatch.setattr(clf, "train_classifier", no_training)
    second = clf.load_classifier("mnist", "smoke", tmp_path)
    assert second.weights_sha256 == first.weights_sha256 and second.test_accuracy == first.test_accuracy
    logits, features = second(test_images)
    assert logits.shape == (100, 10) and features.shape == (100, 16)
    assert (logits.argmax(1).numpy() == test_labels).mean() == pytest.approx(first.test_accuracy)

    # a different recipe is a different cache entry
    monkeypatch.setitem(clf.RECIPES, ("mnist", "smoke"), dataclasses.replace(TOY_RECIPE, seed=1))
    with pytest.raises(FileNotFoundError, match="no cached classifier"):
        clf.load_classifier("mnist", "smoke", tmp_path, train_if_missing=False)


def test_per_channel_labels_classify_each_channel():
    model, _, _ = clf.train_classifier(TOY_RECIPE, toy_dataset("train", 30, 0), toy_dataset("test", 10, 1))
    images, labels = bar_digits(10, 5)
    order = np.random.default_rng(0).permutation(len(images))
    stacked = np.concatenate([images, images[order], images[order[::-1]]], axis=1)  # (100, 3, 28, 28)
    predicted = clf.per_channel_labels(model, stacked)
    truth = np.stack([labels, labels[order], labels[order[::-1]]], axis=1)
    assert predicted.shape == (100, 3) and (predicted == truth).mean() >= 0.9


def test_outputs_reject_wrong_input():
    model = ConvClassifier(1, 10, (4, 4, 4, 4)).eval()
    with pytest.raises(TypeError, match="uint8"):
        clf.classifier_outputs(model, torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="1-channel"):
        clf.classifier_outputs(model, torch.zeros(2, 3, 28, 28, dtype=torch.uint8))
