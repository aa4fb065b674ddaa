"""repro.data: mirrors, cache, torchvision fallback, Stacked-MNIST, labeled subsets, scaling, device batches."""

from __future__ import annotations

import os
import shutil
import struct
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from repro import data
from repro.errors import ConfigError, DataError

from .conftest import png_bytes, random_tree

# ---------------------------------------------------------------------------------------------------------
# Image folders and zips


def test_zip_loads_pixels_labels_and_class_order(isolated_cache, make_image_zip):
    tree = random_tree(0, {"train": 3, "test": 2})
    path = make_image_zip(tree)
    train = data.load_image_folder(path, "train")
    assert train.images.shape == (9, 3, 8, 8) and train.images.dtype == np.uint8
    assert train.classes == ("cat", "dog", "eel")
    assert train.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    expected = np.stack([img.transpose(2, 0, 1) for cls in ("cat", "dog", "eel") for img in tree["train"][cls]])
    np.testing.assert_array_equal(train.images, expected)  # PNG is lossless: exact pixels, same order
    assert len(data.load_image_folder(path, "test")) == 6


def test_images_follow_natural_file_order(isolated_cache, tmp_path):
    images = {name: np.full((4, 4), value, np.uint8) for name, value in (("2.png", 2), ("10.png", 10), ("1.png", 1))}
    path = tmp_path / "order.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, image in images.items():
            archive.writestr(f"train/a/{name}", png_bytes(image))
    loaded = data.load_image_folder(path, "train")
    assert loaded.images[:, 0, 0, 0].tolist() == [1, 2, 10]
    assert loaded.shape == (1, 4, 4)  # greyscale stays one channel


def test_folder_and_zip_give_the_same_arrays(isolated_cache, make_image_zip, tmp_path):
    tree = random_tree(1, {"train": 2})
    zipped = data.load_image_folder(make_image_zip(tree), "train")
    folder = tmp_path / "toy_folder"
    with zipfile.ZipFile(tmp_path / "toy.zip") as archive:
        archive.extractall(folder)
    unzipped = data.load_image_folder(folder, "train")
    np.testing.assert_array_equal(zipped.images, unzipped.images)
    np.testing.assert_array_equal(zipped.labels, unzipped.labels)


def test_second_load_comes_from_the_cache(isolated_cache, make_image_zip, monkeypatch):
    path = make_image_zip(random_tree(2, {"train": 2}))
    first = data.load_image_folder(path, "train")
    assert len(list((isolated_cache / "arrays").glob("*.npz"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again although the cache is valid")

    monkeypatch.setattr(data, "_decode_split", no_decoding)
    second = data.load_image_folder(path, "train")
    np.testing.assert_array_equal(first.images, second.images)
    assert second.classes == first.classes and second.source == first.source


def test_changed_source_invalidates_the_cache(isolated_cache, make_image_zip):
    path = make_image_zip(random_tree(3, {"train": 2}))
    old = data.load_image_folder(path, "train")
    make_image_zip(random_tree(4, {"train": 2}))  # same file name, new content
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    new = data.load_image_folder(path, "train")
    assert not np.array_equal(old.images, new.images)
    assert new.source != old.source  # what is cached per source (classifiers, statistics) follows the change
    np.testing.assert_array_equal(new.images[0], random_tree(4, {"train": 2})["train"]["cat"][0].transpose(2, 0, 1))


def test_a_copied_or_touched_mirror_keeps_its_identity(isolated_cache, make_image_zip, tmp_path):
    path = make_image_zip(random_tree(6, {"train": 2}))
    original = data.load_image_folder(path, "train").source
    copy = tmp_path / "elsewhere" / path.name
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # a fresh copy: new modification time, same bytes
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    assert data.load_image_folder(copy, "train").source == original  # cached classifiers stay valid
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    folder_source = data.load_image_folder(folder, "train").source
    a_dog = sorted((folder / "train" / "dog").iterdir())[0]
    (folder / "train" / "cat" / "extra.png").write_bytes(a_dog.read_bytes())  # one image more
    assert data.load_image_folder(folder, "train").source != folder_source


def test_interrupted_cache_write_leaves_no_file(isolated_cache, make_image_zip, monkeypatch):
    path = make_image_zip(random_tree(5, {"train": 2}))

    def savez_then_die(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", savez_then_die)
    with pytest.raises(KeyboardInterrupt):
        data.load_image_folder(path, "train")
    arrays = isolated_cache / "arrays"
    assert list(arrays.iterdir()) == []  # neither a half cache file nor a temporary one
    monkeypatch.undo()
    assert len(data.load_image_folder(path, "train")) == 6


def test_damaged_cache_file_is_decoded_again(isolated_cache, make_image_zip):
    path = make_image_zip(random_tree(6, {"train": 2}))
    good = data.load_image_folder(path, "train")
    (cached,) = (isolated_cache / "arrays").glob("*.npz")
    cached.write_bytes(b"not an npz")
    again = data.load_image_folder(path, "train")
    np.testing.assert_array_equal(good.images, again.images)


def test_a_zipped_wrapper_folder_is_looked_through(isolated_cache, tmp_path):
    path = tmp_path / "wrapped.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for split in ("train", "test"):
            archive.writestr(f"cifar10/{split}/cat/0.png", png_bytes(np.zeros((4, 4, 3), np.uint8)))
    assert data.load_image_folder(path, "test").classes == ("cat",)


def test_image_size_crops_and_resizes(isolated_cache, make_image_zip):
    tree = {"train": {"a": [np.zeros((12, 20, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)]}}
    with pytest.raises(DataError, match="image_size"):
        data.load_image_folder(make_image_zip(tree, "mixed.zip"), "train")
    resized = data.load_image_folder(make_image_zip(tree, "mixed.zip"), "train", image_size=8)
    assert resized.images.shape == (2, 3, 8, 8)


# ---------------------------------------------------------------------------------------------------------
# Bad input: clear errors


def test_unknown_dataset_lists_the_known_ones(isolated_cache, tmp_path):
    with pytest.raises(ConfigError, match="known datasets are mnist, cifar10") as err:
        data.load_dataset("imagenet", data_dir=tmp_path)
    assert "imagenet.zip" in str(err.value)


def test_dataset_names_are_checked_without_decoding(isolated_cache, make_image_zip, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_decode_split", lambda *a, **k: pytest.fail("decoded"))
    mirror = make_image_zip(random_tree(0, {"train": 1}), "own.zip")
    assert data.check_dataset_name("own", tmp_path) == mirror
    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)
    assert data.check_dataset_name("cifar10") is None  # known, no data folder set: torchvision provides it
    with pytest.raises(data.DataError, match="no 'cifar10' mirror in the data folder"):  # a named folder: no download
        data.check_dataset_name("cifar10", tmp_path)
    with pytest.raises(ConfigError, match="unknown dataset 'imagenet': known datasets are mnist"):
        data.check_dataset_name("imagenet", tmp_path)
    assert data.KNOWN_DATASETS["mnist"].shape == (1, 28, 28)


def test_image_files_are_read_at_any_depth_in_natural_order(tmp_path):
    for name, value in [("b/img10.png", 30), ("b/img9.png", 20), ("a/deep/img1.png", 10)]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(np.full((4, 4), value, np.uint8)))
    (tmp_path / ".hidden.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("skipped")
    images = data.load_image_files(tmp_path)
    assert images.shape == (3, 1, 4, 4) and images[:, 0, 0, 0].tolist() == [10, 20, 30]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no image files"):
        data.load_image_files(tmp_path / "empty")


def test_missing_data_dir_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="REPRO_DATA_DIR") as err:
        data.load_dataset("mnist")
    assert "nowhere" in str(err.value) and "mnist-png.zip" in str(err.value)


def test_corrupt_zip_names_file_and_layout(isolated_cache, tmp_path):
    (tmp_path / "mnist-png.zip").write_bytes(b"this is not a zip archive")
    with pytest.raises(DataError, match="mnist-png.zip") as err:
        data.load_dataset("mnist", data_dir=tmp_path)
    assert "train|test/<class>/<image>" in str(err.value)


def test_missing_split_lists_the_splits_found(isolated_cache, make_image_zip):
    path = make_image_zip(random_tree(7, {"train": 1}))
    with pytest.raises(DataError, match=r"split 'test' \(splits found: train\)"):
        data.load_image_folder(path, "test")


def test_corrupt_image_is_named(isolated_cache, tmp_path):
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train/a/0.png", png_bytes(np.zeros((4, 4), np.uint8)))
        archive.writestr("train/a/1.png", b"\x89PNG truncated")
    with pytest.raises(DataError, match="train/a/1.png"):
        data.load_image_folder(path, "train")


def test_wrong_file_under_a_known_name_is_caught(isolated_cache, make_image_zip, tmp_path):
    make_image_zip(random_tree(8, {"train": 1}), "mnist-png.zip")
    with pytest.raises(DataError, match="does not look like mnist"):
        data.load_dataset("mnist", "train", data_dir=tmp_path)


def test_own_dataset_by_name(isolated_cache, make_image_zip, tmp_path):
    make_image_zip(random_tree(9, {"train": 2}), "celeba.zip")
    celeba = data.load_dataset("celeba", "train", data_dir=tmp_path)
    assert celeba.name == "celeba" and len(celeba) == 6 and celeba.source.startswith("mirror:celeba.zip@")


# ---------------------------------------------------------------------------------------------------------
# torchvision fallback


def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 0x0800 + array.ndim
    path.write_bytes(struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


def test_torchvision_fallback_reads_its_files(isolated_cache, monkeypatch):
    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)
    raw = isolated_cache / "torchvision" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    mnist = data.load_dataset("mnist", "test", download=False)
    assert mnist.source == "torchvision:MNIST"
    np.testing.assert_array_equal(mnist.images[:, 0], images)
    assert mnist.labels.tolist() == [3, 1, 4, 1, 5]
    assert data.dataset_available("mnist")


def test_failed_download_says_how_to_work_offline(isolated_cache, monkeypatch):
    import torchvision.datasets

    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(DataError, match="REPRO_DATA_DIR") as err:
        data.load_dataset("cifar10", "train")
    assert "cifar10-jpeg.zip" in str(err.value) and "no route to host" in str(err.value)
    assert not data.dataset_available("cifar10")


# ---------------------------------------------------------------------------------------------------------
# Labeled subsets


def test_labeled_subset_is_balanced_and_deterministic():
    labels = np.repeat(np.arange(10), [50 + 7 * k for k in range(10)])
    subset = data.balanced_labeled_subset(labels, 100, seed=3)
    assert len(subset) == 100 and len(set(subset.tolist())) == 100
    assert np.bincount(labels[subset]).tolist() == [10] * 10
    np.testing.assert_array_equal(subset, data.balanced_labeled_subset(labels, 100, seed=3))
    assert not np.array_equal(subset, data.balanced_labeled_subset(labels, 100, seed=4))


def test_labeled_subset_rejects_impossible_budgets():
    labels = np.repeat(np.arange(10), 5)
    with pytest.raises(ConfigError, match="multiple of the number of classes"):
        data.balanced_labeled_subset(labels, 95, seed=0)
    with pytest.raises(ConfigError, match="fewer than the 6"):
        data.balanced_labeled_subset(labels, 60, seed=0)


# ---------------------------------------------------------------------------------------------------------
# Batches on the device


def test_device_batches_cover_each_epoch_once_and_resume_exactly():
    images = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1)
    batches = data.DeviceBatches(images, torch.arange(20), batch_size=6, seed=0, value_range="unit")
    assert batches.batches_per_epoch == 3
    first_epoch = torch.cat([batches.next()[1] for _ in range(3)])
    assert len(set(first_epoch.tolist())) == 18  # no repeats within an epoch; 2 dropped
    x, y = batches.next()
    assert batches.epoch == 1
    torch.testing.assert_close(x.flatten(), y.float() / 255)

    state = batches.state_dict()
    expected = [batches.next()[1] for _ in range(5)]
    resumed = data.DeviceBatches(images, torch.arange(20), batch_size=6, seed=123)
    resumed.load_state_dict(state)
    for want in expected:
        assert torch.equal(resumed.next()[1], want)


def test_device_batches_reject_bad_input():
    with pytest.raises(ConfigError, match="batch_size"):
        data.DeviceBatches(torch.zeros(4, 1, 2, 2, dtype=torch.uint8), None, batch_size=8)
    with pytest.raises(TypeError, match="uint8"):
        data.DeviceBatches(torch.zeros(4, 1, 2, 2), None, batch_size=2)


# ---------------------------------------------------------------------------------------------------------
# The real mirrors (skipped without REPRO_DATA_DIR)

MNIST_TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.mark.real_data
def test_real_mnist_matches_the_published_dataset(real_dataset):
    train, test = real_dataset("mnist", "train"), real_dataset("mnist", "test")
    assert train.images.shape == (60_000, 1, 28, 28) and test.images.shape == (10_000, 1, 28, 28)
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_CLASS_COUNTS
    assert abs(train.images.mean() / 255 - 0.1307) < 5e-4  # the usual MNIST normalisation constant


@pytest.mark.real_data
def test_real_cifar10_is_balanced(real_dataset):
    train = real_dataset("cifar10", "train")
    assert train.images.shape == (50_000, 3, 32, 32)
    assert train.classes[0] == "airplane" and train.classes[-1] == "truck"
    assert np.bincount(train.labels).tolist() == [5000] * 10


def test_a_missing_data_folder_is_named_with_where_it_was_looked_for(tmp_path, monkeypatch):
    from repro.data import resolve_data_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPRO_DATA_DIR", "../no-such-mirrors")
    with pytest.raises(DataError) as error:
        resolve_data_dir()
    message = str(error.value)
    assert "'../no-such-mirrors' (from the $REPRO_DATA_DIR; resolved to" in message
    assert str((tmp_path / "../no-such-mirrors").resolve()) in message and str(tmp_path) in message


def test_a_named_data_folder_without_the_mirror_is_an_error_never_a_download(tmp_path, monkeypatch, isolated_cache):
    from repro import data

    def no_download(*args, **kwargs):
        raise AssertionError("a named data folder must not fall back to torchvision")

    monkeypatch.setattr(data, "_torchvision_split", no_download)
    empty = tmp_path / "mirrors"
    empty.mkdir()
    with pytest.raises(data.DataError) as refused:
        data.load_dataset("svhn", "train", empty)
    message = str(refused.value)
    assert str(empty.resolve()) in message and "holds nothing" in message
    assert "svhn.zip" in message and "never falls back to a download" in message
    assert not data.dataset_available("svhn", empty)

    (empty / "mnist-png.zip").write_bytes(b"")  # another dataset's mirror: named in the error
    monkeypatch.setenv("REPRO_DATA_DIR", str(empty))
    with pytest.raises(data.DataError, match=r"from \$REPRO_DATA_DIR\): looked for .*the folder holds mnist-png.zip"):
        data.load_dataset("cifar10", "test")
