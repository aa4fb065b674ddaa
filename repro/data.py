"""Datasets: offline image-folder mirrors, torchvision fallback, labeled subsets, batches (Stacked-MNIST apart, in
:mod:`repro.stacked_mnist`).

Images are handled as uint8 arrays of shape (N, C, H, W) until the training device; pixel scaling to
[-1, 1] or [0, 1] and back to uint8 happens only in :mod:`repro.images`.

Where the data comes from, in order:

1. an offline mirror in the data directory (``data_dir=`` argument, else ``$REPRO_DATA_DIR``): a zip of an
   image folder or the folder itself, laid out as ``<split>/<class>/<image>`` (``mnist-png.zip``,
   ``cifar10-jpeg.zip``, or ``<name>.zip`` / ``<name>/`` for a dataset you bring, e.g. CelebA);
2. torchvision, downloading into the cache when allowed (MNIST, CIFAR-10/100, SVHN, STL-10).

Decoded mirrors are cached as ``.npz`` files under ``$REPRO_CACHE_DIR/arrays``, keyed by a hash of the source's
content, so a changed mirror is decoded again; cache files are written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import ConfigError, DataError
from .files import atomic_path, update_digest
from .images import ValueRange, as_tensor, to_float
from .paths import DATA_DIR_ENV, cache_dir

# Bump when the decoding changes, so that old cache files are not reused.
_DECODER_VERSION = 1
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


@dataclass(frozen=True)
class DatasetSpec:
    """What we know of a named dataset: its offline mirror file and its torchvision class."""

    name: str
    mirror: str | None  # file name of the offline mirror in the data directory
    torchvision: str | None  # torchvision.datasets class name
    splits: tuple[str, ...]
    channels: int
    size: int
    num_classes: int

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return (self.channels, self.size, self.size)


KNOWN_DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("mnist", "mnist-png.zip", "MNIST", ("train", "test"), 1, 28, 10),
        DatasetSpec("cifar10", "cifar10-jpeg.zip", "CIFAR10", ("train", "test"), 3, 32, 10),
        DatasetSpec("cifar100", "cifar100.zip", "CIFAR100", ("train", "test"), 3, 32, 100),
        DatasetSpec("svhn", "svhn.zip", "SVHN", ("train", "test", "extra"), 3, 32, 10),
        DatasetSpec("stl10", "stl10.zip", "STL10", ("train", "test", "unlabeled"), 3, 96, 10),
    )
}


@dataclass(frozen=True)
class ImageDataset:
    """One split of a dataset held in memory.

    ``images``: uint8 (N, C, H, W); ``labels``: int64 (N,), -1 where unlabeled; ``classes``: label names in
    label order; ``source``: where the pixels came from (mirror file or torchvision), for result protocols.
    """

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"labels shape {self.labels.shape} does not match {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------------
# Locating data


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The data directory: the argument, else ``$REPRO_DATA_DIR``, else None (no offline mirrors).

    A directory that is named but missing is an error rather than a silent fallback to downloading.
    """
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(DATA_DIR_ENV) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        origin = "data_dir argument" if data_dir not in (None, "") else f"${DATA_DIR_ENV}"
        raise DataError(
            f"data directory {str(path)!r} (from the {origin}; resolved to {str(path.resolve())!r} from "
            f"{os.getcwd()!r}) does not exist or is not a folder. "
            f"Point {DATA_DIR_ENV} (or DATA_DIR in the notebook) at the folder holding the dataset mirrors "
            f"({', '.join(s.mirror for s in KNOWN_DATASETS.values() if s.mirror)}), or unset it to let "
            "torchvision download (needs internet)."
        )
    return path


def find_mirror(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The offline mirror of dataset ``name`` in the data directory, or None when there is none.

    Looks for the known mirror file name (e.g. ``cifar10-jpeg.zip``), then ``<name>.zip``, then a folder
    ``<name>/``.
    """
    root = resolve_data_dir(data_dir)
    if root is None:
        return None
    spec = KNOWN_DATASETS.get(name)
    candidates = ([spec.mirror] if spec and spec.mirror else []) + [f"{name}.zip", name]
    for candidate in candidates:
        path = root / candidate
        if path.exists():
            return path
    return None


def dataset_available(name: str, data_dir: str | os.PathLike | None = None) -> bool:
    """True if ``name`` can be loaded without a download: its mirror in the data folder, or, when no data folder is
    set, torchvision's files already present.

    A data directory that is named but missing still raises: a typo should fail loudly, not skip tests.
    """
    if find_mirror(name, data_dir) is not None:
        return True
    spec = KNOWN_DATASETS.get(name)
    if spec is None or spec.torchvision is None or resolve_data_dir(data_dir) is not None:
        return False  # a named data folder without the mirror: load_dataset would refuse it
    try:
        _torchvision_split(spec, spec.splits[0], download=False)
    except DataError:
        return False
    return True


def check_dataset_name(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The offline mirror of ``name`` (None for a known dataset when no data folder is set: torchvision then
    loads it), without decoding anything; a ConfigError saying how to bring it when ``name`` is neither a known
    dataset nor a mirror in the data directory; a DataError when a named data directory is missing or lacks the
    mirror (a named folder never falls back to a download). Command lines check their arguments with it before
    loading data."""
    mirror = find_mirror(name, data_dir)
    if mirror is None and name not in KNOWN_DATASETS:
        where = resolve_data_dir(data_dir)
        raise ConfigError(
            f"unknown dataset {name!r}: known datasets are {', '.join(KNOWN_DATASETS)}; to use your own, put "
            f"'{name}.zip' or a folder '{name}/' laid out as <split>/<class>/<image> in the data directory "
            f"({'currently ' + str(where) if where else 'set ' + DATA_DIR_ENV + ' or pass data_dir='})"
        )
    if mirror is None and (folder := resolve_data_dir(data_dir)) is not None:  # named: its mirror or an error
        raise DataError(missing_mirror_message(name, KNOWN_DATASETS[name], folder))
    return mirror


def load_dataset(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    image_size: int | None = None,
    download: bool = True,
) -> ImageDataset:
    """Load one split of a dataset as uint8 (N, C, H, W) images with int64 labels.

    ``name`` is a known dataset (:data:`KNOWN_DATASETS`) or the name of a mirror you bring
    (``<data_dir>/<name>.zip`` or ``<data_dir>/<name>/``). ``image_size`` centre-crops to a square and resizes
    (needed for datasets whose images differ in size, e.g. CelebA). ``download=False`` forbids the torchvision
    download fallback.
    """
    mirror = check_dataset_name(name, data_dir)
    spec = KNOWN_DATASETS.get(name)
    if mirror is not None:
        dataset = load_image_folder(mirror, split, image_size=image_size, name=name)
        if spec is not None and image_size is None:
            _check_against_spec(dataset, spec, mirror)
        return dataset
    if spec.torchvision is None:
        raise DataError(f"dataset {name!r} has no torchvision loader; put {spec.mirror!r} in a data folder and "
                        f"point {DATA_DIR_ENV} (or data_dir= / DATA_DIR) at it")
    dataset = _torchvision_split(spec, split, download=download)
    if image_size is not None:
        dataset = _resize_dataset(dataset, image_size)
    return dataset


def missing_mirror_message(name: str, spec: DatasetSpec, folder: Path) -> str:
    """Why a known dataset is not in the data folder the user named: where it looked, for what, what is there."""
    expected = ([spec.mirror] if spec.mirror else []) + [f"{name}.zip", f"{name}/"]
    present = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()) if folder.is_dir() else []
    shown = ", ".join(present[:12]) + (f" and {len(present) - 12} more" if len(present) > 12 else "")
    return (f"no {name!r} mirror in the data folder {str(folder.resolve())!r} (from "
            f"{'the data_dir argument' if os.environ.get(DATA_DIR_ENV) != str(folder) else '$' + DATA_DIR_ENV}): "
            f"looked for {' or '.join(expected)}; the folder holds {shown or 'nothing'}. Put the mirror there "
            f"(<split>/<class>/<image>), or unset {DATA_DIR_ENV} (and DATA_DIR) to let torchvision download it. "
            "A named data folder never falls back to a download.")


def _check_against_spec(dataset: ImageDataset, spec: DatasetSpec, source: Path) -> None:
    expected = (spec.channels, spec.size, spec.size)
    if dataset.shape != expected:
        raise DataError(
            f"{source} does not look like {spec.name}: its images are {dataset.shape} (C, H, W), expected "
            f"{expected}. Check that the file is the right mirror."
        )
    if dataset.num_classes != spec.num_classes:
        raise DataError(
            f"{source} has {dataset.num_classes} class folders {dataset.classes[:12]}, expected "
            f"{spec.num_classes} for {spec.name}."
        )


# ----------------------------------------------------------------------------------------------------------
# Image folders and zips of them


def load_image_folder(
    source: str | os.PathLike,
    split: str = "train",
    *,
    image_size: int | None = None,
    name: str | None = None,
) -> ImageDataset:
    """Load ``<split>/<class>/<image>`` from a zip archive or a folder, decoding once and caching the arrays.

    Class labels follow the sorted class-folder names; images within a class follow a natural sort of their
    file names, so the order does not depend on how the archive was written.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"image folder or zip {str(path)!r} does not exist")
    name = name or path.name.split(".")[0]
    fingerprint = _source_fingerprint(path)
    key = hashlib.sha256(
        json.dumps([str(path.resolve()), fingerprint, split, image_size, _DECODER_VERSION]).encode()
    ).hexdigest()[:16]
    cached = cache_dir() / "arrays" / f"{name}-{split}-{key}.npz"
    if cached.exists():
        try:
            return _read_cache(cached, name, split)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            cached.unlink(missing_ok=True)  # damaged cache file: decode again
    entries = _list_entries(path)
    # the fingerprint travels in `source`, so classifiers and statistics cached per source follow a changed mirror
    dataset = _decode_split(path, entries, split, image_size, name, source=f"mirror:{path.name}@{fingerprint}")
    _write_cache(cached, dataset)
    return dataset


def _source_fingerprint(path: Path) -> str:
    """Identity of a zip or a folder by content: the bytes of the zip, or each file's name and bytes.

    Content, not modification times, so that a copied or re-provisioned mirror with the same pixels keeps its
    identity (and the classifiers and statistics cached per source stay valid; a 65 MB zip hashes in 0.1 s),
    while any change to the pixels gives a new one.
    """
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [(file, file.stat()) for file in files]
    stamp = tuple((str(file), stat.st_size, stat.st_mtime_ns) for file, stat in stats)
    if stamp not in _FINGERPRINTS:
        digest = hashlib.sha256()
        for file, stat in stats:
            name = "" if file == path else str(file.relative_to(path))
            digest.update(f"{name}\0{stat.st_size}\0".encode())  # with the size, no two trees hash alike
            update_digest(digest, file)
        _FINGERPRINTS[stamp] = digest.hexdigest()[:10]
    return _FINGERPRINTS[stamp]


# fingerprints already computed in this process, by (path, size, modification time) of every file
_FINGERPRINTS: dict[tuple, str] = {}


def _natural_key(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _is_image_name(relative: str) -> bool:
    parts = relative.split("/")
    hidden = any(p.startswith(".") or p == "__MACOSX" for p in parts)
    return not hidden and Path(relative).suffix.lower() in _IMAGE_SUFFIXES


def _list_entries(path: Path) -> list[str]:
    """All image paths inside the zip or folder, relative and '/'-separated."""
    if path.is_dir():
        return [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
    try:
        with zipfile.ZipFile(path) as archive:
            return [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(
            f"{path} is not a readable zip archive ({err}). Expected a zip of an image folder laid out as "
            f"train|test/<class>/<image>; replace the file, or unset {DATA_DIR_ENV} to download instead."
        ) from err


def _wrapper_folder(entries: list[str]) -> str:
    """``"name/"`` when every image sits under one extra top folder (a zipped ``name/train/<class>/...``)."""
    images = [e for e in entries if _is_image_name(e)]
    tops = {e.split("/")[0] for e in images}
    if len(tops) == 1 and all(e.count("/") == 3 for e in images):
        return tops.pop() + "/"
    return ""


def _decode_split(
    path: Path, entries: list[str], split: str, image_size: int | None, name: str, source: str
) -> ImageDataset:
    by_class: dict[str, list[str]] = {}
    splits_seen = set()
    wrapper = _wrapper_folder(entries)
    for entry in entries:
        if not _is_image_name(entry):
            continue
        parts = entry[len(wrapper) :].split("/")
        if len(parts) != 3:
            continue
        splits_seen.add(parts[0])
        if parts[0] == split:
            by_class.setdefault(parts[1], []).append(entry)
    if not by_class:
        found = ", ".join(sorted(splits_seen)) or "none"
        raise DataError(
            f"{path} has no images for split {split!r} (splits found: {found}). Expected the layout "
            f"<split>/<class>/<image>, e.g. {split}/<class>/0001.png."
        )
    classes = tuple(sorted(by_class))
    ordered = [(label, entry) for label, cls in enumerate(classes) for entry in sorted(by_class[cls], key=_natural_key)]

    opener = _folder_reader(path) if path.is_dir() else None
    archive = None if path.is_dir() else zipfile.ZipFile(path)
    try:
        read = opener or archive.read  # type: ignore[union-attr]
        images = _decode_all(path, read, [entry for _, entry in ordered], image_size)
    finally:
        if archive is not None:
            archive.close()
    labels = np.array([label for label, _ in ordered], dtype=np.int64)
    return ImageDataset(name, split, images, labels, classes, source=source)


def load_image_files(folder: str | os.PathLike) -> np.ndarray:
    """Every image file under ``folder``, at any depth, as uint8 (N, C, H, W), in natural order of their paths
    (hidden files skipped; the first image decides grey or RGB). No labels and no cache: for scoring images made
    elsewhere (``python -m repro.score``). A DataError when the folder holds no image or images of several sizes."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise DataError(f"{str(path)!r} is not a folder")
    entries = sorted((e for e in _list_entries(path) if _is_image_name(e)), key=_natural_key)
    if not entries:
        raise DataError(f"{path} holds no image files ({', '.join(sorted(_IMAGE_SUFFIXES))}) at any depth")
    return _decode_all(path, _folder_reader(path), entries, None)


def _folder_reader(root: Path) -> Callable[[str], bytes]:
    return lambda relative: (root / relative).read_bytes()


def _decode_all(
    path: Path, read: Callable[[str], bytes], entries: list[str], image_size: int | None
) -> np.ndarray:
    first = _decode_one(path, entries[0], read(entries[0]), None, image_size)
    mode = "L" if first.ndim == 2 else "RGB"
    height, width = first.shape[:2]
    channels = 1 if mode == "L" else 3
    out = np.empty((len(entries), channels, height, width), dtype=np.uint8)
    for i, entry in enumerate(entries):
        array = _decode_one(path, entry, read(entry), mode, image_size)
        if array.shape[:2] != (height, width):
            raise DataError(
                f"{path}: {entry} is {array.shape[1]}x{array.shape[0]} but earlier images are {width}x{height}. "
                "Pass image_size= to centre-crop and resize every image to one size."
            )
        out[i] = array[None] if channels == 1 else array.transpose(2, 0, 1)
    return out


def _decode_one(path: Path, entry: str, payload: bytes, mode: str | None, image_size: int | None) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(payload)) as image:
            if mode is None:  # the first image decides: grey stays grey, everything else becomes RGB
                mode = "L" if image.mode in ("L", "LA", "1", "I", "I;16") else "RGB"
            image = image.convert(mode)
            if image_size is not None:
                image = _center_crop_resize(image, image_size)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: cannot decode image {entry} ({err}); the mirror may be corrupt") from err


def _center_crop_resize(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    # BOX filtering averages source pixels when shrinking, which avoids the aliasing of bilinear sampling
    return image.resize((size, size), Image.Resampling.BOX if side >= size else Image.Resampling.BICUBIC)


def _read_cache(path: Path, name: str, split: str) -> ImageDataset:
    with np.load(path, allow_pickle=False) as stored:
        return ImageDataset(
            name,
            split,
            stored["images"],
            stored["labels"],
            tuple(str(c) for c in stored["classes"]),
            str(stored["source"]),
        )


def _write_cache(path: Path, dataset: ImageDataset) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            images=dataset.images,
            labels=dataset.labels,
            classes=np.array(dataset.classes),
            source=np.array(dataset.source),
        )


def _resize_dataset(dataset: ImageDataset, size: int) -> ImageDataset:
    resized = np.stack(
        [
            _to_chw(np.asarray(_center_crop_resize(Image.fromarray(_to_hwc(img)), size), dtype=np.uint8))
            for img in dataset.images
        ]
    )
    return ImageDataset(dataset.name, dataset.split, resized, dataset.labels, dataset.classes, dataset.source)


def _to_hwc(image: np.ndarray) -> np.ndarray:
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)


def _to_chw(image: np.ndarray) -> np.ndarray:
    return image[None] if image.ndim == 2 else image.transpose(2, 0, 1)


# ----------------------------------------------------------------------------------------------------------
# torchvision fallback


def _torchvision_split(spec: DatasetSpec, split: str, *, download: bool) -> ImageDataset:
    import torchvision.datasets as tvd

    if split not in spec.splits:
        raise ConfigError(f"{spec.name} has splits {', '.join(spec.splits)}; got {split!r}")
    root = cache_dir() / "torchvision"
    cls = getattr(tvd, spec.torchvision)  # type: ignore[arg-type]
    split_kwargs = {"train": split == "train"} if spec.name in ("mnist", "cifar10", "cifar100") else {"split": split}
    try:
        raw = cls(root=str(root), download=download, **split_kwargs)
    except Exception as err:  # torchvision raises RuntimeError, URLError, OSError ... depending on the failure
        action = "download or read" if download else "read (download=False)"
        raise DataError(
            f"could not {action} {spec.name!r} {split!r} with torchvision under {root} ({type(err).__name__}: "
            f"{err}). Offline? Put {spec.mirror!r} (an image folder zip, <split>/<class>/<image>) in a folder "
            f"and point {DATA_DIR_ENV} (or data_dir= / DATA_DIR) at it."
        ) from err
    images = np.asarray(raw.data)
    if images.ndim == 3:  # MNIST: (N, H, W)
        images = images[:, None]
    elif images.shape[-1] == 3:  # CIFAR: (N, H, W, C)
        images = images.transpose(0, 3, 1, 2)
    labels_attr = "targets" if hasattr(raw, "targets") else "labels"
    labels = np.asarray(getattr(raw, labels_attr), dtype=np.int64)
    classes = tuple(getattr(raw, "classes", None) or [str(i) for i in range(spec.num_classes)])
    return ImageDataset(
        spec.name, split, np.ascontiguousarray(images, dtype=np.uint8), labels, classes, f"torchvision:{cls.__name__}"
    )


# ----------------------------------------------------------------------------------------------------------
# Labeled subsets


def balanced_labeled_subset(labels: np.ndarray, n_labeled: int, seed: int) -> np.ndarray:
    """Indices of ``n_labeled`` examples, the same number from each class, drawn with ``seed``.

    Improved-GAN §5 / Table 1: e.g. 100 MNIST labels = 10 per class. Returned sorted; the same
    (labels, n_labeled, seed) always gives the same indices.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels[labels >= 0])
    if n_labeled <= 0 or n_labeled % len(classes):
        raise ConfigError(
            f"n_labeled={n_labeled} must be a positive multiple of the number of classes ({len(classes)}) "
            "so that every class gets the same number of labels"
        )
    per_class = n_labeled // len(classes)
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in classes:
        pool = np.flatnonzero(labels == cls)
        if len(pool) < per_class:
            raise ConfigError(f"class {cls} has {len(pool)} examples, fewer than the {per_class} asked for")
        chosen.append(rng.choice(pool, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))


# ----------------------------------------------------------------------------------------------------------
# Batches from a tensor already on the training device


class DeviceBatches:
    """Shuffled minibatches drawn from images held on the training device, with no DataLoader.

    Keeps uint8 pixels on ``device`` (4x smaller than floats) and scales each batch with :func:`to_float`.
    Each epoch is a fresh permutation drawn from a seeded generator on the device; an incomplete last batch
    is dropped. ``state_dict()`` / ``load_state_dict()`` make the stream resumable step for step.
    """

    def __init__(
        self,
        images: np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor | None,
        batch_size: int,
        *,
        device: str | torch.device = "cpu",
        value_range: ValueRange = "symmetric",
        seed: int = 0,
    ) -> None:
        self.images = as_tensor(images).to(device)
        if self.images.dtype != torch.uint8:
            raise TypeError(f"DeviceBatches expects uint8 images, got {self.images.dtype}")
        if labels is None:
            labels = torch.full((len(self.images),), -1, dtype=torch.int64)
        self.labels = as_tensor(labels).to(device, torch.int64)
        if not 0 < batch_size <= len(self.images):
            raise ConfigError(f"batch_size={batch_size} must be between 1 and the {len(self.images)} images")
        self.batch_size = batch_size
        self.value_range = value_range
        self.device = self.images.device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.epoch = 0
        self._order = self._new_order()
        self._position = 0

    def reseed(self, seed: int) -> None:
        """Restart the stream from a new seed (a fresh permutation, epoch 0)."""
        self.generator.manual_seed(seed)
        self.epoch = 0
        self._order = self._new_order()
        self._position = 0

    def _new_order(self) -> torch.Tensor:
        return torch.randperm(len(self.images), generator=self.generator, device=self.device)

    @property
    def batches_per_epoch(self) -> int:
        return len(self.images) // self.batch_size

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (images float (B, C, H, W) in ``value_range``, labels int64 (B,)) batch."""
        if self._position + self.batch_size > len(self._order):
            self.epoch += 1
            self._order = self._new_order()
            self._position = 0
        index = self._order[self._position : self._position + self.batch_size]
        self._position += self.batch_size
        return to_float(self.images[index], self.value_range), self.labels[index]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield self.next()

    def describe(self) -> dict[str, object]:
        """What the run's config.json records of the data (compared when a run resumes): its size and range, and a
        fingerprint of its content, so that a run never resumes on another mirror of the same size."""
        return {"images": len(self.images), "shape": list(self.images.shape[1:]), "value_range": self.value_range,
                "content_sha256": self.content_sha256()}

    def content_sha256(self) -> str:
        """SHA-256 (16 hex digits) of the images' and labels' bytes, computed once (about 0.1 s per 100 MB)."""
        if getattr(self, "_content_sha256", None) is None:
            digest = hashlib.sha256()
            for tensor in (self.images, self.labels):
                digest.update(str(tuple(tensor.shape)).encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            self._content_sha256 = digest.hexdigest()[:16]
        return self._content_sha256

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.get_state(),
            "order": self._order.cpu(),
            "position": self._position,
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self._order = state["order"].to(self.device)
        self._position = int(state["position"])
        self.epoch = int(state["epoch"])


def dataset_summary(dataset: ImageDataset) -> dict[str, object]:
    """One row of dataset statistics: size, shape, per-channel pixel mean/std in [0, 1], class balance."""
    pixels = dataset.images.astype(np.float32) / 255.0
    counts = np.bincount(dataset.labels[dataset.labels >= 0], minlength=dataset.num_classes)
    return {
        "dataset": dataset.name,
        "split": dataset.split,
        "images": len(dataset),
        "shape_chw": "x".join(map(str, dataset.shape)),
        "classes": dataset.num_classes,
        "per_class_min": int(counts.min()) if counts.size else 0,
        "per_class_max": int(counts.max()) if counts.size else 0,
        "mean_per_channel": " ".join(f"{m:.4f}" for m in pixels.mean(axis=(0, 2, 3))),
        "std_per_channel": " ".join(f"{s:.4f}" for s in pixels.std(axis=(0, 2, 3))),
        "source": dataset.source,
    }
