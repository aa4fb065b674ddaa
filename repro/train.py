"""The training loop shared by every method: a thin loop around ``method.discriminator_step`` and
``method.generator_step``.

It owns what is common to all four papers: Adam per network, learning-rate schedules, an exponential moving
average of G, bf16 autocast, channels-last, ``torch.compile``, CSV logs, a progress bar, periodic evaluation
and sample grids, atomic checkpoints with every RNG state, exact resume, and data parallelism under
``torchrun``. One iteration is ``n_dis`` discriminator updates (each on a fresh real batch) followed by
``n_gen`` generator updates; ``steps`` counts iterations.

A run lives in one folder: ``checkpoint.pt``, ``config.json``, ``log.csv``, ``eval.csv`` and ``samples/``.
Calling :func:`train` again on the same folder resumes it; a finished run only re-evaluates. Resuming with
different hyper-parameters is refused with a message listing the differences.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from PIL import Image
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from .data import DeviceBatches, to_uint8
from .errors import ConfigError, ReproError
from .files import atomic_path, write_json_atomic
from .methods.base import GANMethod
from .nets.base import draw_latents, sampling_mode
from .plots import tile_images

CHECKPOINT = "checkpoint.pt"
# Fields that may change between a run and its resumption; every other field must match.
RESUMABLE_FIELDS = frozenset({"log_every", "eval_every", "sample_every", "checkpoint_every", "progress"})


@dataclass(frozen=True)
class TrainConfig:
    """Everything the loop needs besides the method and the data; defaults are DCGAN's (Radford et al. 2016)."""

    steps: int
    batch_size: int = 64
    n_dis: int = 1  # discriminator updates per iteration
    n_gen: int = 1  # generator updates per iteration (Improved-GAN's code uses more than one)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas_g: tuple[float, float] = (0.5, 0.999)
    betas_d: tuple[float, float] = (0.5, 0.999)
    adam_eps: float = 1e-8  # Theano's Adam put eps inside the square root: 1e-8 there is about 1e-4 here
    schedule: Literal["constant", "linear", "step"] = "constant"
    decay_start: int = 0  # "linear": flat until this iteration, then linear to 0 at `steps` (Improved-GAN's CIFAR)
    milestones: tuple[int, ...] = ()  # iterations at which the "step" schedule multiplies the lr by gamma
    gamma: float = 0.1
    ema_decay: float | None = None  # exponential moving average of G's weights; None = off
    ema_start: int = 0  # iteration at which the average starts (a copy of G then)
    precision: Literal["fp32", "bf16"] = "fp32"  # bf16 autocast (AMX on this CPU, tensor cores on GPUs)
    channels_last: bool = False
    compile: bool = False
    seed: int = 0
    checkpoint_every: int = 1000
    log_every: int = 50
    eval_every: int = 0  # 0: evaluate only at the end
    sample_every: int = 0  # 0: a sample grid only at the end
    sample_grid: int = 64  # images in each grid, drawn from a fixed latent batch
    sample_bn_mode: Literal["eval", "train"] = "eval"
    progress: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.steps >= 1, "steps must be at least 1"),
            (self.n_dis >= 1 and self.n_gen >= 1, "n_dis and n_gen must be at least 1"),
            (self.schedule in ("constant", "linear", "step"), f"unknown schedule {self.schedule!r}"),
            (self.precision in ("fp32", "bf16"), f"precision must be 'fp32' or 'bf16', got {self.precision!r}"),
            (self.ema_decay is None or 0 < self.ema_decay < 1, "ema_decay must lie in (0, 1) or be None"),
            (self.checkpoint_every >= 1 and self.log_every >= 1, "checkpoint_every and log_every must be >= 1"),
            (self.sample_grid >= 1, "sample_grid must be at least 1"),
            (self.schedule != "step" or bool(self.milestones), "the step schedule needs milestones"),
            (0 <= self.decay_start < self.steps, f"decay_start must lie in [0, steps), got {self.decay_start}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"TrainConfig: {message}")


class NonFiniteLossError(ReproError, FloatingPointError):
    """A logged loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: a checkpoint was saved at the last completed iteration."""


@dataclass
class TrainResult:
    """What a call of :func:`train` did."""

    run_dir: Path
    step: int  # iterations completed
    started_at: int  # iteration the call started from (0 for a fresh run)
    seconds: float  # wall time of this call's training
    ema_generator: torch.nn.Module | None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    # wall time of the run's training over every call that trained it (periodic evaluations and checkpoints
    # included, the final evaluation not); None for a run whose earlier calls could not be timed
    train_seconds: float | None = None

    @property
    def resumed(self) -> bool:
        return self.started_at > 0


# ----------------------------------------------------------------------------------------------------------
# Devices, ranks and RNG state


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else the CPU; under ``torchrun`` each rank gets its own GPU."""
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(preference)
    if device.type != "cuda":
        return device
    if device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(device)
    return device


def init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by ``torchrun`` (NCCL on GPU, gloo on CPU)."""
    if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def average_gradients(parameters) -> None:
    """Data parallelism: replace each gradient by its mean over the ranks (what DDP's reducer computes).

    Done explicitly after each backward rather than through DistributedDataParallel hooks, because GAN
    steps call D several times per backward and update G and D alternately, which DDP's reducer does not
    expect.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def _rng_state() -> dict[str, Any]:
    # the legacy global NumPy RNG is what user code may draw from, so its state is what must be saved
    numpy_state = np.random.get_state()  # noqa: NPY002
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *numpy_state[2:]],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))  # noqa: NPY002
    random.setstate(state["python"])


# ----------------------------------------------------------------------------------------------------------
# Schedules, EMA, config comparison


def lr_factor_schedule(config: TrainConfig) -> Callable[[int], float]:
    """The learning-rate multiplier of 0-based iteration i under ``config``'s schedule (for LambdaLR)."""
    if config.schedule == "linear":  # 0-based iteration i runs at min(1, (steps - i) / (steps - decay_start))
        return lambda step: max(0.0, min(1.0, (config.steps - step) / (config.steps - config.decay_start)))
    if config.schedule == "step":
        return lambda step: config.gamma ** sum(step >= m for m in config.milestones)
    return lambda step: 1.0


def _config_record(config: TrainConfig, method: GANMethod, data: DeviceBatches, world_size: int) -> dict[str, Any]:
    record = dataclasses.asdict(config)
    record["betas_g"], record["betas_d"] = list(config.betas_g), list(config.betas_d)
    record["milestones"] = list(config.milestones)
    return {"train": record, "method": method.hparams(), "data": data.describe(), "world_size": world_size}


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    lines = []
    for section in ("train", "method", "data"):
        old, new = saved.get(section, {}), current.get(section, {})
        for key in sorted(set(old) | set(new)):
            if section == "train" and key in RESUMABLE_FIELDS:
                continue
            if old.get(key) != new.get(key):
                lines.append(f"  {section}.{key}: checkpoint {old.get(key)!r} -> now {new.get(key)!r}")
    if saved.get("world_size") != current.get("world_size"):
        lines.append(f"  world_size: checkpoint {saved.get('world_size')} -> now {current.get('world_size')}")
    return lines


# ----------------------------------------------------------------------------------------------------------
# Logs and samples


class _CsvLog:
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


def _logged_train_seconds(log_path: Path, step: int) -> float | None:
    """Training seconds up to ``step`` of a run whose checkpoint predates ``train_seconds``, read from its log.

    The log's ``seconds`` restart at every call, so they measure the whole run only when it trained in one
    call: rows that never go back in time. A run resumed earlier (or with no row at ``step``) gives None.
    """
    if not log_path.exists():
        return None
    with open(log_path, newline="") as f:
        rows = sorted((int(r["step"]), float(r["seconds"])) for r in csv.DictReader(f)
                      if r.get("seconds") and int(r["step"]) <= step)
    seconds = [s for _, s in rows]
    if not rows or rows[-1][0] != step or any(b < a for a, b in itertools.pairwise(seconds)):
        return None
    return seconds[-1]


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
# Interruption


@contextlib.contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """Turn SIGINT/SIGTERM into a flag checked between iterations, so a checkpoint is consistent."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def request_stop(signum, frame):
        if stop.is_set():  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        stop.set()

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ----------------------------------------------------------------------------------------------------------
# The loop


def train(
    method: GANMethod,
    data: DeviceBatches,
    config: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    evaluate: Callable[[int, torch.nn.Module], dict[str, Any]] | None = None,
    value_range: str = "symmetric",
) -> TrainResult:
    """Train ``method`` on batches from ``data`` for ``config.steps`` iterations, or resume the run in ``run_dir``.

    ``evaluate(step, generator)`` is called every ``eval_every`` iterations and at the end with the EMA
    generator when there is one (else G); its dict is written to ``eval.csv``. Runs on ``data``'s device.
    """
    device = data.device
    rank, world_size = init_distributed(device)
    is_main = rank == 0
    run_dir = Path(run_dir)
    if data.batch_size != config.batch_size:
        raise ConfigError(f"data yields batches of {data.batch_size} but config.batch_size is {config.batch_size}")

    method.to(device)
    if config.channels_last:
        method.to(memory_format=torch.channels_last)
    if world_size > 1:
        for tensor in list(method.parameters()) + list(method.buffers()):
            dist.broadcast(tensor.data, src=0)  # every rank starts from rank 0's initialisation
        method.gradient_hook = average_gradients

    # fused: one op per device and dtype instead of a chain of elementwise ops per tensor (the unfused update
    # cost a quarter of a step on the MNIST MLPs)
    opt_g = torch.optim.Adam(method.generator.parameters(), lr=config.lr_g, betas=config.betas_g,
                             eps=config.adam_eps, fused=True)
    opt_d = torch.optim.Adam(method.discriminator.parameters(), lr=config.lr_d, betas=config.betas_d,
                             eps=config.adam_eps, fused=True)
    lr_factor = lr_factor_schedule(config)
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, lr_factor)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, lr_factor)
    ema = None
    if config.ema_decay is not None:
        ema = AveragedModel(
            method.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True
        )

    record = _config_record(config, method, data, world_size)
    checkpoint_path = run_dir / CHECKPOINT
    start = 0
    earlier_seconds: float | None = 0.0  # training seconds of the calls before this one
    if checkpoint_path.exists():
        # on the CPU: RNG states must stay CPU tensors; load_state_dict moves the rest to the device
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        differences = _differences(checkpoint["config"], record)
        if differences:
            raise ConfigError(
                f"{run_dir} holds a run with other hyper-parameters:\n" + "\n".join(differences)
                + "\nUse another run folder, or delete this one to start over."
            )
        try:
            method.load_state_dict(checkpoint["method"])
        except RuntimeError as err:  # same hyper-parameters, but the method's state changed shape or names
            raise ConfigError(
                f"{checkpoint_path} was written by a version of {type(method).__name__} whose state does not "
                f"match this one ({str(err).splitlines()[-1].strip()}). Use another run folder, or delete this "
                "one to start over."
            ) from err
        opt_g.load_state_dict(checkpoint["opt_g"])
        opt_d.load_state_dict(checkpoint["opt_d"])
        for group in opt_g.param_groups + opt_d.param_groups:  # a checkpoint from before fused Adam says None
            group["fused"] = True
        sched_g.load_state_dict(checkpoint["sched_g"])
        sched_d.load_state_dict(checkpoint["sched_d"])
        if ema is not None:
            ema.load_state_dict(checkpoint["ema"])
        own = checkpoint["ranks"][rank]
        data.load_state_dict(own["data"])
        method.noise.set_state(own["noise"])
        _set_rng_state(own["rng"])
        start = int(checkpoint["step"])
        earlier_seconds = checkpoint.get("train_seconds", _logged_train_seconds(run_dir / "log.csv", start))
    else:
        rank_seed = config.seed + 1000 * rank  # distinct per rank, recorded in config.json
        torch.manual_seed(rank_seed)
        np.random.seed(rank_seed)  # noqa: NPY002
        random.seed(rank_seed)
        method.noise.manual_seed(rank_seed)
        data.reseed(rank_seed + 1)
        if is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(
                run_dir / "config.json", {**record, "rank_seeds": [config.seed + 1000 * r for r in range(world_size)]}
            )

    if config.compile:
        method.generator.compile()
        method.discriminator.compile()
    fixed_latents = draw_latents(method.generator, config.sample_grid, torch.Generator().manual_seed(config.seed)).to(
        device)
    log = _CsvLog(run_dir / "log.csv", start) if is_main else None
    eval_log = _CsvLog(run_dir / "eval.csv", start) if is_main else None
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16")

    def eval_generator() -> torch.nn.Module:
        return ema.module if ema is not None and start_or_step >= config.ema_start else method.generator

    def save_checkpoint(step: int) -> None:
        per_rank = {"data": data.state_dict(), "noise": method.noise.get_state(), "rng": _rng_state()}
        ranks = [None] * world_size
        if world_size > 1:
            dist.all_gather_object(ranks, per_rank)
        else:
            ranks = [per_rank]
        if not is_main:
            return
        state = {
            "step": step, "config": record, "method": method.state_dict(),
            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
            "sched_g": sched_g.state_dict(), "sched_d": sched_d.state_dict(),
            "ema": ema.state_dict() if ema is not None else None, "ranks": ranks,
            "train_seconds": run_seconds(),
        }
        saved_seconds[0] = state["train_seconds"]  # what a replay will read back; the result reports the same
        with atomic_path(checkpoint_path) as tmp:
            torch.save(state, tmp)

    def run_evaluation(step: int) -> dict[str, Any] | None:
        if evaluate is None or not is_main:
            return None
        row = {"step": step, **evaluate(step, eval_generator())}
        eval_log.write(row)
        return row

    def write_samples(step: int) -> None:
        if is_main:
            save_sample_grid(eval_generator(), fixed_latents, run_dir / "samples" / f"step_{step:07d}.png",
                             config.sample_bn_mode, value_range)

    def stop_requested(stop: threading.Event) -> bool:
        """Ranks agree: one rank's signal stops all of them at the same iteration (no mismatched collectives)."""
        if world_size == 1:
            return stop.is_set()
        flag = torch.tensor([float(stop.is_set())], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    evaluations: list[dict[str, Any]] = []
    start_or_step = start
    began = time.perf_counter()

    saved_seconds = [earlier_seconds]  # training seconds in the last checkpoint written

    def run_seconds() -> float | None:
        return None if earlier_seconds is None else earlier_seconds + time.perf_counter() - began
    pending: dict[str, list[torch.Tensor]] = {}
    bar = tqdm(total=config.steps, initial=start, disable=not (config.progress and is_main), desc=run_dir.name)

    def flush_logs(step: int) -> None:
        """One host sync per log interval: average the pending scalars, check them, write a CSV row."""
        if not pending:
            return
        means = {k: torch.stack(v).float().mean().item() for k, v in pending.items()}
        pending.clear()
        bad = {k: v for k, v in means.items() if not np.isfinite(v)}
        if bad:
            kept = (f"the last good checkpoint ({checkpoint_path}) is kept" if checkpoint_path.exists()
                    else "no checkpoint was written yet")
            raise NonFiniteLossError(f"non-finite loss by iteration {step}: {bad}; {kept}")
        if is_main:
            factor = lr_factor(step - 1)  # the rate iteration `step` ran at (the schedulers already moved on)
            row = {"step": step, "seconds": round(time.perf_counter() - began, 3),
                   "lr_g": config.lr_g * factor, "lr_d": config.lr_d * factor, **means}
            log.write(row)
            bar.set_postfix({k: f"{v:.3f}" for k, v in means.items() if k.endswith("loss")})

    with _stop_requests() as stop:
        step = start
        for step in range(start + 1, config.steps + 1):
            start_or_step = step
            with autocast:
                for _ in range(config.n_dis):
                    real, labels = data.next()
                    if config.channels_last:
                        real = real.contiguous(memory_format=torch.channels_last)
                    for key, value in method.discriminator_step(real, labels, opt_d).items():
                        pending.setdefault(key, []).append(value)
                for _ in range(config.n_gen):
                    real_for_g = None
                    if method.generator_needs_real:
                        real_for_g, labels = data.next()
                        if config.channels_last:
                            real_for_g = real_for_g.contiguous(memory_format=torch.channels_last)
                    for key, value in method.generator_step(config.batch_size, labels, opt_g, real_for_g).items():
                        pending.setdefault(key, []).append(value)
            sched_g.step()
            sched_d.step()
            if world_size > 1:  # as DDP's broadcast_buffers: BN running statistics follow rank 0
                for buffer in method.buffers():
                    dist.broadcast(buffer.data, src=0)
            if ema is not None and step >= config.ema_start:
                ema.update_parameters(method.generator)
            bar.update(1)
            if step % config.log_every == 0 or step % config.checkpoint_every == 0 or step == config.steps:
                flush_logs(step)
            # samples and evaluations before the checkpoint, so that a resumed run neither loses them nor
            # replays RNG draws they made
            if config.sample_every and step % config.sample_every == 0:
                write_samples(step)
            if config.eval_every and step % config.eval_every == 0 and step != config.steps:
                row = run_evaluation(step)
                if row:
                    evaluations.append(row)
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_checkpoint(step)
            if stop_requested(stop):
                flush_logs(step)
                save_checkpoint(step)
                bar.close()
                raise TrainingInterrupted(f"stopped at iteration {step}; checkpoint saved in {checkpoint_path}")
    bar.close()
    seconds = time.perf_counter() - began
    # the loop ends with a checkpoint at its last step; a finished run's re-evaluation adds no training time
    train_seconds = saved_seconds[0]
    final_step = max(start, step)
    start_or_step = final_step
    write_samples(final_step)
    row = run_evaluation(final_step)
    if row:
        evaluations.append(row)
    if world_size > 1:
        dist.barrier()
    averaged = ema is not None and int(ema.n_averaged) > 0
    return TrainResult(run_dir, final_step, start, seconds, ema.module if averaged else None, evaluations,
                       train_seconds)
