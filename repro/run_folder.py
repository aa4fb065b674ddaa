"""A training run's folder: what :func:`repro.train.train` reads and writes besides the networks themselves.

A run lives in one folder: ``checkpoint.pt``, ``config.json``, ``log.csv``, ``eval.csv`` and ``samples/``.
:class:`RunFolder` holds the config record (and refuses to resume a run whose hyper-parameters differ, listing
the differences), the checkpoint's layout (save and restore side by side, with every rank's RNG states), the
CSV logs, the sample grids and the run's training seconds, summed over every call that trained it. Only rank 0
writes; every rank restores its own data order, noise and RNG states.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image
from torch.optim.swa_utils import AveragedModel

from .data import DeviceBatches
from .distributed import gather_objects
from .errors import ConfigError
from .files import atomic_path, write_json_atomic
from .images import tile_images, to_uint8
from .methods.base import GANMethod
from .nets.base import sampling_mode

if TYPE_CHECKING:
    from .train import TrainConfig

CHECKPOINT = "checkpoint.pt"
# Fields that may change between a run and its resumption; every other field must match.
RESUMABLE_FIELDS = frozenset({"log_every", "eval_every", "sample_every", "checkpoint_every", "progress"})
# Checks recorded only since a later version: a checkpoint written before then holds no value to compare, so the
# check is skipped for it (not a setting that changes training, unlike a new hyper-parameter, which is compared).
LATER_CHECKS = frozenset({("data", "content_sha256")})


# ----------------------------------------------------------------------------------------------------------
# The config record


def config_record(config: TrainConfig, method: GANMethod, data: DeviceBatches, world_size: int) -> dict[str, Any]:
    """What ``config.json`` and the checkpoint keep of a run's hyper-parameters (tuples as lists, as JSON reads
    them back)."""
    record = {key: list(value) if isinstance(value, tuple) else value
              for key, value in dataclasses.asdict(config).items()}
    return {"train": record, "method": method.hparams(), "data": data.describe(), "world_size": world_size}


def config_differences(saved: dict[str, Any], current: dict[str, Any], ignore: frozenset[str] = frozenset()
                       ) -> list[str]:
    """One line per hyper-parameter that differs between two config records (logging cadence and the ``train``
    fields in ``ignore`` excepted)."""
    lines = []
    for section in ("train", "method", "data"):
        old, new = saved.get(section, {}), current.get(section, {})
        for key in sorted(set(old) | set(new)):
            if section == "train" and (key in RESUMABLE_FIELDS or key in ignore):
                continue
            if (section, key) in LATER_CHECKS and key not in old:
                continue
            if old.get(key) != new.get(key):
                lines.append(f"  {section}.{key}: checkpoint {old.get(key)!r} -> now {new.get(key)!r}")
    if saved.get("world_size") != current.get("world_size"):
        lines.append(f"  world_size: checkpoint {saved.get('world_size')} -> now {current.get('world_size')}")
    return lines


def rank_seed(seed: int, rank: int) -> int:
    """The seed of ``rank`` in a fresh run: distinct per rank, recorded in ``config.json``."""
    return seed + 1000 * rank


# ----------------------------------------------------------------------------------------------------------
# RNG states


def seed_rngs(seed: int) -> None:
    """Seed the global torch, NumPy and Python RNGs."""
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)


def rng_state() -> dict[str, Any]:
    """Every global RNG state of this process (torch, CUDA, NumPy, Python), as a checkpoint keeps them."""
    # the legacy global NumPy RNG is what user code may draw from, so its state is what must be saved
    numpy_state = np.random.get_state()  # noqa: NPY002
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *numpy_state[2:]],
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))  # noqa: NPY002
    random.setstate(state["python"])


# ----------------------------------------------------------------------------------------------------------
# Logs and samples


class CsvLog:
    """Rows of a CSV file keyed by ``step``.

    Opening drops the rows after ``keep_until`` (a resumed run rewrites them). A row for a step already
    logged replaces it (re-evaluating a finished run), and a row with new columns widens the header. Appends
    are the common case; the file is rewritten (atomically) only in those two cases.
    """

    def __init__(self, path: Path, keep_until: int) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.exists():
            with open(path, newline="") as f:
                self.rows = [row for row in csv.DictReader(f) if int(row["step"]) <= keep_until]
        self._rewrite()

    def _columns(self) -> list[str]:
        return list(dict.fromkeys(key for row in self.rows for key in row))

    def _rewrite(self) -> None:
        if not self.rows:
            self.path.unlink(missing_ok=True)
            return
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns())
            writer.writeheader()
            writer.writerows(self.rows)

    def write(self, row: dict[str, Any]) -> None:
        columns = self._columns()
        replaces = any(int(r["step"]) == row["step"] for r in self.rows)
        self.rows = [r for r in self.rows if int(r["step"]) != row["step"]] + [row]
        if replaces or not columns or set(row) - set(columns):
            self._rewrite()
            return
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=columns).writerow(row)


@torch.no_grad()
def save_sample_grid(
    generator: torch.nn.Module, latents: torch.Tensor, path: Path, bn_mode: str, value_range: str
) -> Path:
    """Write G(latents) as one PNG grid (BN in ``bn_mode``; G's mode and buffers are restored). A class-
    conditional G (``generator.conditional``) gets classes 0, 1, ..., K−1, 0, ... across the grid."""
    with sampling_mode(generator, bn_mode):
        if getattr(generator, "conditional", False):
            classes = torch.arange(len(latents), device=latents.device) % generator.num_classes
            images = generator(latents, classes)
        else:
            images = generator(latents)
        images = to_uint8(images, value_range).cpu().numpy()
    picture = tile_images(images, columns=int(np.ceil(np.sqrt(len(images)))))
    with atomic_path(path) as tmp:
        Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(tmp, format="PNG")
    return path


# ----------------------------------------------------------------------------------------------------------
# The run folder


@dataclass
class TrainingState:
    """What a checkpoint saves and restores besides the RNG states: the method (networks, buffers, noise
    generator), both optimisers and schedulers, the EMA of G, and the data stream's position."""

    method: GANMethod
    data: DeviceBatches
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    sched_g: torch.optim.lr_scheduler.LRScheduler
    sched_d: torch.optim.lr_scheduler.LRScheduler
    ema: AveragedModel | None


class RunFolder:
    """One run's folder, seen from one rank (only rank 0 writes).

    ``record`` is the run's :func:`config_record`. :meth:`resume_or_start` restores the checkpoint (or seeds a
    fresh run and writes ``config.json``) and opens the logs; :meth:`start_clock` starts timing this call, whose
    seconds each checkpoint adds to those of the calls before it (``train_seconds``).
    """

    def __init__(self, path: str | Path, record: dict[str, Any], rank: int, world_size: int,
                 extend: bool = False) -> None:
        self.path = Path(path)
        self.record = record
        self.extend = extend  # a run checkpointed at fewer steps may continue to record["train"]["steps"]
        self.rank, self.world_size = rank, world_size
        self.is_main = rank == 0
        self.checkpoint_path = self.path / CHECKPOINT
        self.log: CsvLog | None = None  # losses, rank 0 only
        self.eval_log: CsvLog | None = None  # evaluations, rank 0 only
        # the run's training seconds as the last checkpoint read or written keeps them; None for a run whose
        # earlier calls were not timed
        self.train_seconds: float | None = 0.0
        self._earlier_seconds: float | None = 0.0  # training seconds of the calls before this one
        self._began = time.perf_counter()

    def resume_or_start(self, state: TrainingState, seed: int) -> int:
        """Restore ``state`` and the RNGs from the checkpoint, or seed a fresh run; then open the logs, dropping
        rows after the checkpoint. Returns the iteration the run resumes from (0 for a fresh run)."""
        start = self._restore(state) if self.checkpoint_path.exists() else self._start(state, seed)
        self._earlier_seconds = self.train_seconds
        if self.is_main:
            self.log = CsvLog(self.path / "log.csv", start)
            self.eval_log = CsvLog(self.path / "eval.csv", start)
        return start

    def _start(self, state: TrainingState, seed: int) -> int:
        own_seed = rank_seed(seed, self.rank)
        seed_rngs(own_seed)
        state.method.noise.manual_seed(own_seed)
        state.data.reseed(own_seed + 1)
        if self.is_main:
            self.path.mkdir(parents=True, exist_ok=True)
            rank_seeds = [rank_seed(seed, r) for r in range(self.world_size)]
            write_json_atomic(self.path / "config.json", {**self.record, "rank_seeds": rank_seeds})
        self.train_seconds = 0.0
        return 0

    def _restore(self, state: TrainingState) -> int:
        # on the CPU: RNG states must stay CPU tensors; load_state_dict moves the rest to the device
        checkpoint = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        extension = self._extension(checkpoint["config"])
        differences = config_differences(checkpoint["config"], self.record,
                                         frozenset({"steps"}) if extension else frozenset())
        if differences:
            longer = [line for line in differences if line.lstrip().startswith("train.steps:")]
            hint = ("\nTo train this run longer, continue it explicitly (train(..., extend=True); run_gan: "
                    "--extend)." if longer and len(longer) == len(differences) and not self.extend else "")
            raise ConfigError(
                f"{self.path} holds a run with other hyper-parameters:\n" + "\n".join(differences)
                + (hint or "\nUse another run folder, or delete this one to start over.")
            )
        if extension:
            self._record_extension(*extension)
        try:
            state.method.load_state_dict(checkpoint["method"])
        except RuntimeError as err:  # same hyper-parameters, but the method's state changed shape or names
            raise ConfigError(
                f"{self.checkpoint_path} was written by a version of {type(state.method).__name__} whose state "
                f"does not match this one ({str(err).splitlines()[-1].strip()}). Use another run folder, or delete "
                "this one to start over."
            ) from err
        state.opt_g.load_state_dict(checkpoint["opt_g"])
        state.opt_d.load_state_dict(checkpoint["opt_d"])
        state.sched_g.load_state_dict(checkpoint["sched_g"])
        state.sched_d.load_state_dict(checkpoint["sched_d"])
        if state.ema is not None:
            state.ema.load_state_dict(checkpoint["ema"])
        own = checkpoint["ranks"][self.rank]
        state.data.load_state_dict(own["data"])
        state.method.noise.set_state(own["noise"])
        set_rng_state(own["rng"])
        self.train_seconds = checkpoint.get("train_seconds")
        return int(checkpoint["step"])

    def _extension(self, saved: dict[str, Any]) -> tuple[int, int] | None:
        """(saved steps, new steps) when this call continues a run to more iterations as asked (``extend``), else
        None. Refused with the reason for a schedule that depends on the total (linear decay: the saved run ended
        at learning rate 0, and its decay would be redrawn); a step schedule's milestones keep their meaning."""
        old, new = saved["train"]["steps"], self.record["train"]["steps"]
        if not self.extend or new <= old:
            return None
        if self.record["train"]["schedule"] == "linear":
            raise ConfigError(
                f"{self.path}: a run under the linear-decay schedule cannot be continued from {old} to {new} "
                "iterations (its learning rate reached 0 at the end, and the decay depends on the total). Start a "
                "new run with the longer schedule."
            )
        return old, new

    def _record_extension(self, old: int, new: int) -> None:
        """config.json keeps every continuation (from, to); the message says so on the console too."""
        if not self.is_main:
            return
        config = json.loads((self.path / "config.json").read_text())
        history = config.get("extended", []) + [{"from_steps": old, "to_steps": new}]
        write_json_atomic(self.path / "config.json", {**config, "train": self.record["train"], "extended": history})
        print(f"{self.path}: continuing a run trained for {old} iterations to {new} (recorded in config.json)",
              file=sys.stderr)

    def save_checkpoint(self, step: int, state: TrainingState) -> None:
        """Write ``checkpoint.pt`` atomically; a collective: every rank contributes its data position, noise
        and RNG states, rank 0 writes them with the shared state."""
        own = {"data": state.data.state_dict(), "noise": state.method.noise.get_state(), "rng": rng_state()}
        ranks = gather_objects(own, self.world_size)
        if not self.is_main:
            return
        checkpoint = {
            "step": step, "config": self.record, "method": state.method.state_dict(),
            "opt_g": state.opt_g.state_dict(), "opt_d": state.opt_d.state_dict(),
            "sched_g": state.sched_g.state_dict(), "sched_d": state.sched_d.state_dict(),
            "ema": state.ema.state_dict() if state.ema is not None else None, "ranks": ranks,
            "train_seconds": self._run_seconds(),
        }
        self.train_seconds = checkpoint["train_seconds"]  # what a replay will read back; the result reports it
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(checkpoint, tmp)

    def kept_checkpoint(self) -> str:
        """Which checkpoint a failed call leaves, in words."""
        if self.checkpoint_path.exists():
            return f"the last good checkpoint ({self.checkpoint_path}) is kept"
        return "no checkpoint was written yet"

    def write_samples(self, step: int, generator: torch.nn.Module, latents: torch.Tensor, bn_mode: str,
                      value_range: str) -> None:
        """``samples/step_<step>.png``: a grid of ``generator(latents)`` (rank 0)."""
        if self.is_main:
            save_sample_grid(generator, latents, self.path / "samples" / f"step_{step:07d}.png", bn_mode,
                             value_range)

    # -- training seconds -------------------------------------------------------------------------------
    def start_clock(self) -> None:
        """Start timing this call's training."""
        self._began = time.perf_counter()

    def call_seconds(self) -> float:
        """Seconds since :meth:`start_clock`."""
        return time.perf_counter() - self._began

    def _run_seconds(self) -> float | None:
        if self._earlier_seconds is None:
            return None
        return self._earlier_seconds + time.perf_counter() - self._began


def trained_method_state(path: str | Path) -> dict[str, Any]:
    """The method's state dict in the checkpoint of the run folder ``path`` (to load into a freshly built method);
    a FileNotFoundError saying how to train the run when it has none."""
    return _read_checkpoint(path)["method"]


def trained_generator_state(path: str | Path) -> tuple[dict[str, torch.Tensor], str, int]:
    """The generator that the run in ``path`` samples and evaluates with, as its checkpoint keeps it: the EMA of G
    once the average has started, else G itself. Returns (a state dict keyed as the generator's, ``"ema"`` or
    ``"generator"``, the checkpoint's iteration); a FileNotFoundError when the run has no checkpoint."""
    checkpoint = _read_checkpoint(path)
    ema = checkpoint.get("ema")
    if ema is not None and int(ema["n_averaged"]) > 0:
        prefix, which, state = "module.", "ema", ema
    else:
        prefix, which, state = "generator.", "generator", checkpoint["method"]
    weights = {key.removeprefix(prefix): value for key, value in state.items() if key.startswith(prefix)}
    return weights, which, int(checkpoint["step"])


def _read_checkpoint(path: str | Path) -> dict[str, Any]:
    checkpoint = Path(path) / CHECKPOINT
    if not checkpoint.exists():
        raise FileNotFoundError(f"no checkpoint at {checkpoint}: train the run first (runner.run_plan)")
    return torch.load(checkpoint, map_location="cpu", weights_only=True)
