"""What every experiment driver needs from a run folder: a name that follows the configuration, the test
curve the loop wrote along the way, and the rows kept for runs that have no checkpoint of their own; and the
mean ± spread over seeds that every summary table reports."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_json_atomic


def config_digest(config: Any) -> str:
    """8 hex digits that change whenever any field of the (dataclass) configuration does."""
    return hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:8]


def seed_stats(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of per-seed values; the std is NaN below two seeds (one seed
    has no spread) and both are NaN for none."""
    array = np.asarray(list(values), dtype=float)
    mean = float(array.mean()) if array.size else float("nan")
    return mean, float(array.std(ddof=1)) if array.size > 1 else float("nan")


def train_seconds(result: Any) -> float | None:
    """A :class:`~repro.train.TrainResult`'s training wall time over every call that trained the run, to 0.1 s, for
    a runs table: the time the run took, not the time a replay took to re-evaluate it. None when the run's
    earlier calls were not timed."""
    return None if result.train_seconds is None else round(result.train_seconds, 1)


def read_eval_log(run_dir: str | os.PathLike, log: str = "eval.csv", **tags: Any) -> list[dict[str, Any]]:
    """The rows of ``run_dir/eval.csv`` (or another of the run's CSV logs, e.g. ``log="log.csv"``, the losses) as
    numbers (empty cells dropped), each tagged with ``tags``; [] when the run has not written it yet."""
    path = Path(run_dir) / log
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{**tags, **{k: float(v) for k, v in row.items() if v != ""}} for row in csv.DictReader(f)]


def cached_row(run_dir: str | os.PathLike | None) -> dict[str, Any] | None:
    """The row kept in ``run_dir/result.json`` by :func:`keep_row`, or None."""
    if run_dir is None or not (Path(run_dir) / "result.json").exists():
        return None
    return json.loads((Path(run_dir) / "result.json").read_text())


def keep_row(run_dir: str | os.PathLike | None, row: dict[str, Any]) -> dict[str, Any]:
    """Write ``row`` to ``run_dir/result.json`` (atomically) and return it."""
    if run_dir is not None:
        write_json_atomic(Path(run_dir) / "result.json", row)
    return row


def trained_checkpoint(run_dir: str | os.PathLike, how_to_train: str) -> Path:
    """The checkpoint of a trained run, or a FileNotFoundError saying how to train it (checked before the
    caller builds the method, which loads data)."""
    from ..train import CHECKPOINT

    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train the run first ({how_to_train})")
    return path


def load_trained(method: Any, checkpoint: Path) -> Any:
    """Load a checkpoint's method state into a freshly built ``method`` and return it."""
    import torch

    method.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["method"])
    return method
