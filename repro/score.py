"""Command-line entry point: score images, or a trained generator, against a dataset's real images.

    python -m repro.score samples/ --dataset cifar10                    # a folder of PNG / JPEG files, any depth
    python -m repro.score fakes.npz --dataset mnist --key images         # uint8 (N, H, W, C) or (N, C, H, W)
    python -m repro.score runs/dcgan32 --dataset cifar10 --n 10000 --seed 0 --json runs/dcgan32/score.json

A run folder is one of ``repro.run_gan`` (``checkpoint.pt`` + ``config.json``): its generator is rebuilt from the
network its config.json records, loaded with the weights the run samples with (the EMA of G when the run keeps
one) and sampled ``--n`` times with ``--seed`` (:func:`repro.metrics.evaluate.sample_generator`). The scores are
those of :func:`repro.metrics.evaluate.score_images` (IS, FID, KID and AM Score in the extractor's space, with their
protocol fields) against the real images of ``--dataset``/``--split``; the AM Score's class marginal is always the
train split's. The extractor is the dataset's pinned classifier (``repro/metrics/weights``) or, with ``--extractor
inception``, Inception v3 from a weights file you supply (never downloaded). Every argument and input is checked
before the scoring starts: a bad one ends the command with one ``error:`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import KNOWN_DATASETS, check_dataset_name, load_dataset, load_image_files
from .distributed import pick_device
from .errors import ConfigError, DataError, ReproError, exit_with_errors
from .files import write_json_atomic
from .metrics.classifier import load_classifier, recipe_for
from .metrics.evaluate import Extractor, real_outputs, sample_generator, score_images
from .metrics.inception import find_inception_weights, load_inception
from .metrics.inception_score import IS_SPLITS
from .nets import build_networks
from .results import git_commit
from .run_folder import CHECKPOINT, trained_generator_state

PROG = "python -m repro.score"
DEFAULT_SAMPLES = 10_000  # images drawn from a run's generator
REFERENCE_SEED = 0  # draws the --n-real subset of the real images, as the experiments' references do
CLASSIFIER_PROFILE = "cpu"  # the pinned classifiers (the cpu and paper profiles share them)
GIVEN_IMAGES = "none: uint8 images scored as given"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a folder of images, an .npz of uint8 images, or a run folder")
    parser.add_argument("--dataset", required=True, help="the reference: mnist, cifar10, ... or a mirror you bring")
    parser.add_argument("--split", default="train", help="the reference split (default: train)")
    parser.add_argument("--n-real", type=int, default=None, help="real images in the reference (default: the split)")
    parser.add_argument("--n", type=int, default=None,
                        help=f"images to score: drawn from a run's generator (default {DEFAULT_SAMPLES:,}), or the "
                             "first N of a folder or an .npz (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="latents of a run's samples (default 0)")
    parser.add_argument("--key", default=None, help="the .npz array to score (default: its first uint8 image array)")
    parser.add_argument("--extractor", default="classifier", choices=["classifier", "inception"],
                        help="the dataset's pinned classifier (default) or Inception v3 from a weights file")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="the TF-2015-12-05 Inception weights (default: $REPRO_INCEPTION_WEIGHTS, torch hub)")
    parser.add_argument("--data-dir", default=None, help="offline mirrors (default: $REPRO_DATA_DIR)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available, else CPU), cpu, cuda:0 ...")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the record here")
    return parser


# ----------------------------------------------------------------------------------------------------------
# Sources: uint8 (N, C, H, W) images and what they are


def source_kind(path: Path) -> str:
    """``"run"``, ``"images"`` (a folder) or ``"npz"``; a ConfigError for anything else."""
    if not path.exists():
        raise ConfigError(f"{path} does not exist")
    if path.is_dir():
        return "run" if (path / CHECKPOINT).exists() or (path / "config.json").exists() else "images"
    if path.suffix.lower() == ".npz":
        return "npz"
    raise ConfigError(f"{path} is a {path.suffix or 'suffix-less'} file: give a folder of images, an .npz of uint8 "
                      "images, or a run folder (checkpoint.pt + config.json)")


def folder_images(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """Every image under ``path`` as uint8 (N, C, H, W), checked against the dataset's (C, H, W)."""
    images = load_image_files(path)
    if images.shape[1:] != shape:
        raise DataError(f"the images in {path} are {images.shape[1:]} (C, H, W), but the dataset's are {shape}"
                        + ("; save them as grey (mode L) images" if shape[0] == 1 and images.shape[1] == 3 else ""))
    return images


def npz_images(path: Path, key: str | None, shape: tuple[int, int, int]) -> tuple[np.ndarray, str]:
    """The uint8 image array ``key`` of an .npz (default: its first uint8 array of 3 or 4 dimensions) as
    (N, C, H, W), whether stored as (N, H, W, C), (N, C, H, W) or, for grey images, (N, H, W); and its key."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read {path} as an .npz file ({' '.join(str(err).split())})") from err
    listing = ", ".join(f"{name} {a.dtype} {a.shape}" for name, a in arrays.items()) or "no arrays"
    if key is None:
        key = next((name for name, a in arrays.items() if a.dtype == np.uint8 and a.ndim in (3, 4)), None)
        if key is None:
            raise DataError(f"{path} holds no uint8 image array ({listing}); save uint8 pixels, e.g. "
                            "repro.images.to_uint8(generator outputs)")
    elif key not in arrays:
        raise DataError(f"{path} has no array {key!r} ({listing})")
    images = arrays[key]
    if images.dtype != np.uint8:
        raise DataError(f"{path}: array {key!r} is {images.dtype}, not uint8 pixels; quantise first "
                        "(repro.images.to_uint8)")
    channels, height, width = shape
    if images.ndim == 3 and channels == 1 and images.shape[1:] == (height, width):
        return images[:, None], key
    if images.ndim == 4 and images.shape[1:] == shape:
        return images, key
    if images.ndim == 4 and images.shape[1:] == (height, width, channels):
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), key
    raise DataError(f"{path}: array {key!r} has shape {images.shape}, but the dataset's images are {shape} (C, H, W): "
                    f"expected (N, {channels}, {height}, {width}) or (N, {height}, {width}, {channels})")


def run_generator(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The generator of the ``repro.run_gan`` run in ``path`` with the weights it samples with, and the protocol
    fields that say which (network, iteration, EMA or not, BN mode of sampling)."""
    config_path = path / "config.json"
    if not (path / CHECKPOINT).exists():
        raise ConfigError(f"the run folder {path} has no {CHECKPOINT}: train it first (python -m repro.run_gan ... "
                          f"--run-dir {path})")
    if not config_path.exists():
        raise ConfigError(f"the run folder {path} has a {CHECKPOINT} but no config.json, which says how to rebuild "
                          "its generator")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"cannot read {config_path} ({err})") from err
    network = config.get("method", {}).get("network")
    if not isinstance(network, dict) or "name" not in network:
        raise ConfigError(
            f"{config_path} records no network (method.network), so its generator cannot be rebuilt here: runs of "
            "python -m repro.run_gan record it; score a notebook's run through its experiment "
            "(repro.experiments.runner.rescore), or save its samples as an .npz and score that")
    generator, _ = build_networks(network["name"], network.get("args", {}))
    try:
        weights, which, step = trained_generator_state(path)
        generator.load_state_dict(weights)
    except (OSError, RuntimeError, KeyError, zipfile.BadZipFile) as err:  # torch.load's and load_state_dict's
        reason = str(err).strip().splitlines()[-1].strip() if str(err).strip() else type(err).__name__
        raise DataError(f"cannot load the generator of {path / CHECKPOINT} into {network['name']} "
                        f"({reason})") from err
    fields = {"network": network, "checkpoint_step": step, "generator_weights": which,
              "bn_mode": config.get("train", {}).get("sample_bn_mode", "eval")}
    return generator, fields


def first(images: np.ndarray, n: int | None, path: Path) -> np.ndarray:
    """The first ``n`` images (all when None)."""
    if n is not None and n > len(images):
        raise ConfigError(f"--n {n} but {path} holds {len(images)} images")
    return images if n is None else images[:n]


# ----------------------------------------------------------------------------------------------------------
# The command


def dataset_shape(dataset: str, split: str, data_dir: str | None) -> tuple[int, int, int]:
    """(C, H, W) of ``dataset``'s images: from what the project knows of it, else by loading the split."""
    spec = KNOWN_DATASETS.get(dataset)
    if spec is not None:
        if split not in spec.splits:
            raise ConfigError(f"--split {split!r}: {dataset} has splits {', '.join(spec.splits)}")
        return spec.shape
    return load_dataset(dataset, split, data_dir).shape


def check_arguments(args: argparse.Namespace) -> list[str]:
    """One line per bad argument, checked without reading any data."""
    errors = []
    try:
        source_kind(args.source)
    except ConfigError as err:
        errors.append(f"source: {err}")
    if args.n is not None and args.n < IS_SPLITS:
        errors.append(f"--n {args.n}: score at least {IS_SPLITS} images (the Inception Score averages {IS_SPLITS} "
                      "splits)")
    if args.n_real is not None and args.n_real < 2:
        errors.append(f"--n-real {args.n_real}: FID and KID need at least 2 real images")
    try:
        pick_device(args.device)
    except ConfigError as err:
        errors.append(f"--device: {err}")
    try:
        check_dataset_name(args.dataset, args.data_dir)
    except ReproError as err:
        return [*errors, f"--dataset: {err}"]
    if args.extractor == "classifier":
        try:
            recipe_for(args.dataset, CLASSIFIER_PROFILE)
        except ConfigError as err:
            errors.append(f"--extractor classifier: {err}; score against one of those, or use --extractor inception")
    else:
        try:
            find_inception_weights(args.inception_weights)
        except FileNotFoundError as err:
            errors.append(f"--extractor inception: {err}")
        spec = KNOWN_DATASETS.get(args.dataset)
        if spec is not None and spec.channels != 3:
            errors.append(_grey_for_inception(args.dataset))
    return errors


def _grey_for_inception(dataset: str) -> str:
    return f"--extractor inception takes RGB images, but {dataset} is grey; use --extractor classifier"


def load_extractor(args: argparse.Namespace, device: torch.device) -> Extractor:
    if args.extractor == "inception":
        return load_inception(args.inception_weights, device=device)
    classifier = load_classifier(args.dataset, CLASSIFIER_PROFILE, args.data_dir, train_if_missing=False)
    classifier.model.to(device)
    return classifier


def score(args: argparse.Namespace) -> dict[str, Any]:
    """The record of one scoring: the scores and their protocol (raises ReproError, OSError or ValueError on bad
    input, which :func:`main` reports as one line)."""
    device = pick_device(args.device)
    shape = dataset_shape(args.dataset, args.split, args.data_dir)
    if args.extractor == "inception" and shape[0] != 3:  # a grey mirror of your own
        raise ConfigError(_grey_for_inception(args.dataset))
    kind = source_kind(args.source)
    fields: dict[str, Any] = {"source": str(args.source), "source_kind": kind,
                              "seed": args.seed if kind == "run" else None}  # only a run's samples are drawn
    if kind == "run":
        generator, run_fields = run_generator(args.source)
        if tuple(generator.image_shape) != shape:
            raise ConfigError(f"the run's generator makes {tuple(generator.image_shape)} images, but {args.dataset} "
                              f"images are {shape}")
        n = args.n or DEFAULT_SAMPLES
        images = sample_generator(generator.to(device), n, seed=args.seed, bn_mode=run_fields["bn_mode"])
        value_range = generator.output_range
        fields.update(run_fields)
    else:
        if kind == "npz":
            images, key = npz_images(args.source, args.key, shape)
            fields["npz_key"] = key
        else:
            images = folder_images(args.source, shape)
        images = first(images, args.n, args.source)
        value_range = None
    if len(images) < IS_SPLITS:
        raise ConfigError(f"{args.source} gives {len(images)} images: score at least {IS_SPLITS} (the Inception Score "
                          f"averages {IS_SPLITS} splits)")
    extractor = load_extractor(args, device)
    reference = real_outputs(args.dataset, args.split, extractor, args.n_real, args.data_dir, REFERENCE_SEED)
    marginal = reference if args.split == "train" else real_outputs(args.dataset, "train", extractor, args.n_real,
                                                                   args.data_dir, REFERENCE_SEED)
    scores = score_images(images, extractor, reference=reference, train_marginal=marginal.class_marginal,
                          value_range=value_range or "symmetric")
    if value_range is None:
        scores["quantisation"] = GIVEN_IMAGES
    protocol = {
        "dataset": args.dataset, "ref_source": reference.source, "am_marginal": f"{args.dataset}/train",
        "real_subset_seed": REFERENCE_SEED if args.n_real is not None else None,
        "git_commit": git_commit(), "torch": torch.__version__, "python": platform.python_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return {**scores, **fields, **protocol}


HEADLINE = [  # (label, value key, spread key)
    ("IS", "is_mean", "is_std"),
    ("FID", "fid", None),
    ("KID", "kid_mean", "kid_std"),
    ("AM score", "am_score", None),
]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def format_record(record: dict[str, Any]) -> str:
    """The scores first (mean ± std where there is a spread), then every protocol field, one per line."""
    lines = [f"{record['source']} against {record['ref_split']} ({record['n_real']:,} real images), "
             f"{record['n_fake']:,} images, extractor {record['extractor']}:"]
    shown = set()
    for label, key, spread in HEADLINE:
        value = _cell(record[key]) + (f" ± {_cell(record[spread])}" if spread else "")
        lines.append(f"  {label:<10} {value}")
        shown |= {key, spread}
    width = max(len(key) for key in record)
    lines.append("protocol:")
    lines += [f"  {key:<{width}}  {_cell(value)}" for key, value in record.items()
              if key not in shown and value is not None]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Score, print the record, and write it to ``--json`` when asked."""
    args = build_parser().parse_args(argv)
    errors = check_arguments(args)
    if errors:
        exit_with_errors(PROG, errors)
    try:
        record = score(args)
    except (ReproError, OSError, ValueError) as err:  # OSError: unreadable files, missing Inception weights
        exit_with_errors(PROG, [" ".join(str(err).split())])
    print(format_record(record))
    if args.json is not None:
        write_json_atomic(args.json, record)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
