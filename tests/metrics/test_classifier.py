"""repro.metrics.classifier: augmentation, training, caching, the pinned weights, the retrain command and the
extractor interface."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from repro.data import ImageDataset
from repro.files import file_sha256
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


@pytest.fixture
def toy_mnist_dir(make_image_zip, tmp_path):
    """A folder holding a toy ``mnist-png.zip`` (bar digits, 30 train and 10 test images per class)."""
    train_images, train_labels = bar_digits(30, 0)
    test_images, test_labels = bar_digits(10, 1)
    tree = {
        split: {str(k): [img[0] for img, lab in zip(imgs, labs, strict=True) if lab == k] for k in range(10)}
        for split, imgs, labs in (("train", train_images, train_labels), ("test", test_images, test_labels))
    }
    make_image_zip(tree, "mnist-png.zip")
    return tmp_path


def refuse_training(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained a classifier although it should have been read")

    monkeypatch.setattr(clf, "train_classifier", no_training)


def test_load_classifier_trains_once_then_reads_the_cache(isolated_cache, toy_mnist_dir, monkeypatch):
    monkeypatch.setitem(clf.RECIPES, ("mnist", "smoke"), TOY_RECIPE)

    first = clf.load_classifier("mnist", "smoke", toy_mnist_dir)
    assert first.test_accuracy >= 0.9 and first.path.exists() and first.path.is_relative_to(isolated_cache)
    assert len(first.weights_sha256) == 64 and first.name == f"mnist-convnet-{first.weights_sha256[:12]}"

    refuse_training(monkeypatch)
    second = clf.load_classifier("mnist", "smoke", toy_mnist_dir)
    assert second.weights_sha256 == first.weights_sha256 and second.test_accuracy == first.test_accuracy
    test_images, test_labels = bar_digits(10, 1)
    logits, features = second(test_images)
    assert logits.shape == (100, 10) and features.shape == (100, 16)
    assert (logits.argmax(1).numpy() == test_labels).mean() == pytest.approx(first.test_accuracy)

    # a different recipe is a different cache entry
    monkeypatch.setitem(clf.RECIPES, ("mnist", "smoke"), dataclasses.replace(TOY_RECIPE, seed=1))
    with pytest.raises(FileNotFoundError, match="no cached classifier"):
        clf.load_classifier("mnist", "smoke", toy_mnist_dir, train_if_missing=False)


# ----------------------------------------------------------------------------------------------------------
# The pinned classifiers (cpu and paper profiles)


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_the_pinned_classifier_loads_and_matches_its_manifest(dataset, monkeypatch):
    refuse_training(monkeypatch)
    entry = clf.pinned_manifest()[dataset]
    pinned = clf.load_classifier(dataset, "cpu", data_dir="/nonexistent")  # the pinned file needs no data
    assert pinned.path == clf.WEIGHTS_DIR / entry["file"] == clf.WEIGHTS_DIR / f"{dataset}-convnet.pt"
    assert pinned.weights_sha256 == entry["sha256"] == file_sha256(pinned.path)
    assert pinned.name == f"{dataset}-convnet-{entry['sha256'][:12]}"
    assert entry["recipe"] == clf.recipe_fields(clf.recipe_for(dataset, "cpu"))
    assert pinned.test_accuracy == entry["test_accuracy"] > {"mnist": 0.98, "cifar10": 0.85}[dataset]
    assert pinned.source == entry["source"] and entry["torch"] and entry["command"]
    assert pinned.path.stat().st_size < 3 * 2**20  # the weights alone (fp32), small enough to commit
    assert clf.load_classifier(dataset, "paper").weights_sha256 == pinned.weights_sha256


def pinned_copy(tmp_path, monkeypatch):
    """A copy of the pinned weights folder that load_classifier reads instead of the package's."""
    folder = shutil.copytree(clf.WEIGHTS_DIR, tmp_path / "weights")
    monkeypatch.setattr(clf, "WEIGHTS_DIR", folder)
    return folder


def test_a_pinned_file_with_one_changed_byte_is_refused(tmp_path, monkeypatch):
    refuse_training(monkeypatch)
    folder = pinned_copy(tmp_path, monkeypatch)
    path = folder / "mnist-convnet.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    expected = clf.pinned_manifest()["mnist"]["sha256"]
    with pytest.raises(clf.PinnedWeightsError) as raised:
        clf.load_classifier("mnist", "cpu")
    message = str(raised.value)
    assert str(path) in message and expected in message and file_sha256(path) in message
    assert "python -m repro.metrics.classifier retrain mnist --pin" in message

    path.unlink()
    with pytest.raises(clf.PinnedWeightsError, match=r"mnist-convnet\.pt is missing"):
        clf.load_classifier("mnist", "paper")


def test_a_pinned_classifier_whose_recipe_changed_is_refused(tmp_path, monkeypatch):
    refuse_training(monkeypatch)
    pinned_copy(tmp_path, monkeypatch)
    monkeypatch.setitem(clf.RECIPES, ("mnist", "cpu"), dataclasses.replace(clf.RECIPES[("mnist", "cpu")], epochs=7))
    with pytest.raises(clf.PinnedWeightsError, match="RECIPES now says"):
        clf.load_classifier("mnist", "cpu")
    monkeypatch.setattr(clf, "WEIGHTS_DIR", tmp_path / "empty")
    with pytest.raises(clf.PinnedWeightsError, match="no pinned classifier for 'mnist'"):
        clf.load_classifier("mnist", "cpu")


def test_retrain_pin_writes_the_file_and_a_consistent_manifest_entry(isolated_cache, toy_mnist_dir, monkeypatch):
    folder = toy_mnist_dir / "weights"
    folder.mkdir()
    other = {"file": "cifar10-convnet.pt", "sha256": "0" * 64}
    (folder / clf.WEIGHTS_MANIFEST).write_text(json.dumps({"cifar10": other}))
    monkeypatch.setattr(clf, "WEIGHTS_DIR", folder)
    monkeypatch.setitem(clf.RECIPES, ("mnist", "cpu"), TOY_RECIPE)

    clf.main(["retrain", "mnist", "--pin", "--data-dir", str(toy_mnist_dir), "--log-every", "0"])

    manifest = json.loads((folder / clf.WEIGHTS_MANIFEST).read_text())
    assert manifest["cifar10"] == other  # the other dataset's entry is kept
    entry = manifest["mnist"]
    assert entry["file"] == "mnist-convnet.pt" and entry["sha256"] == file_sha256(folder / "mnist-convnet.pt")
    assert entry["recipe"] == clf.recipe_fields(TOY_RECIPE) and entry["source"].startswith("mirror:mnist-png.zip")
    assert entry["test_accuracy"] >= 0.9 and entry["train_seconds"] > 0 and entry["torch"] == torch.__version__
    assert entry["command"] == (f"python -m repro.metrics.classifier retrain mnist --pin --data-dir {toy_mnist_dir} "
                                "--log-every 0")

    refuse_training(monkeypatch)
    pinned = clf.load_classifier("mnist", "cpu")
    assert pinned.weights_sha256 == entry["sha256"] and pinned.name == f"mnist-convnet-{entry['sha256'][:12]}"
    assert pinned.test_accuracy == entry["test_accuracy"]


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


def test_per_channel_predictions_give_each_channel_s_digit_and_its_probability(monkeypatch):
    logits = torch.full((6, 10), -10.0)
    for row, digit in enumerate([1, 2, 3, 4, 5, 6]):
        logits[row, digit] = 10.0
    logits[4] = 0.0
    logits[4, 5] = 1.0  # the second channel of the second image is read without confidence
    monkeypatch.setattr(clf, "predict_logits", lambda model, images, batch_size: logits)
    labels, confidence = clf.per_channel_predictions(None, torch.zeros(2, 3, 28, 28, dtype=torch.uint8))
    assert labels.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert confidence[0].min() > 0.999 and confidence[1, 1] == pytest.approx(np.e / (np.e + 9))
    assert clf.per_channel_labels(None, torch.zeros(2, 3, 28, 28, dtype=torch.uint8)).tolist() == labels.tolist()
