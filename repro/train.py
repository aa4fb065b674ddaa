"""The training loop shared by every method: a thin loop around ``method.discriminator_step`` and
``method.generator_step``.

It holds :class:`TrainConfig`, :class:`TrainResult`, the loop's two exceptions, the learning-rate schedules and
:func:`train`: Adam per network, learning-rate schedules, an exponential moving average of G, bf16 autocast,
channels-last, ``torch.compile``, a progress bar, and the cadence of logs, evaluations, sample grids and
checkpoints. One iteration is ``n_dis`` discriminator updates (each on a fresh real batch) followed by
``n_gen`` generator updates; ``steps`` counts iterations.

The run folder (config record, checkpoints with every RNG state, CSV logs, sample grids, training seconds) is
:mod:`repro.run_folder`; devices and data parallelism under ``torchrun`` are :mod:`repro.distributed`. Calling
:func:`train` again on the same folder resumes the run exactly; a finished run only re-evaluates. Resuming with
different hyper-parameters is refused with a message listing the differences.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from .data import DeviceBatches
from .distributed import any_rank, average_gradients, broadcast_from_rank0, init_distributed, stop_requests
from .errors import ConfigError, ReproError
from .methods.base import GANMethod
from .nets.base import draw_latents
from .run_folder import RunFolder, TrainingState, config_record


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
        """Every check at once: one ConfigError with a line ``TrainConfig: ...`` per failed check."""
        betas = (*self.betas_g, *self.betas_d)
        checks = [
            (self.steps >= 1, f"steps must be at least 1, got {self.steps}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (self.n_dis >= 1 and self.n_gen >= 1,
             f"n_dis and n_gen must be at least 1, got {self.n_dis}, {self.n_gen}"),
            (self.lr_g > 0 and self.lr_d > 0,
             f"learning rates must be positive, got lr_g={self.lr_g}, lr_d={self.lr_d}"),
            (all(0 <= b < 1 for b in betas),
             f"Adam betas must lie in [0, 1), got betas_g={self.betas_g}, betas_d={self.betas_d}"),
            (self.adam_eps > 0, f"adam_eps must be positive, got {self.adam_eps}"),
            (self.schedule in ("constant", "linear", "step"), f"unknown schedule {self.schedule!r}"),
            (self.precision in ("fp32", "bf16"), f"precision must be 'fp32' or 'bf16', got {self.precision!r}"),
            (self.ema_decay is None or 0 < self.ema_decay < 1,
             f"ema_decay must lie in (0, 1) or be None, got {self.ema_decay}"),
            (self.ema_start >= 0, f"ema_start must be at least 0, got {self.ema_start}"),
            (self.checkpoint_every >= 1 and self.log_every >= 1,
             f"checkpoint_every and log_every must be >= 1, got {self.checkpoint_every}, {self.log_every}"),
            (self.eval_every >= 0 and self.sample_every >= 0,
             f"eval_every and sample_every must be >= 0 (0: only at the end), got {self.eval_every}, "
             f"{self.sample_every}"),
            (self.sample_grid >= 1, "sample_grid must be at least 1"),
            (self.schedule != "step" or bool(self.milestones), "the step schedule needs milestones"),
            (self.schedule == "step" or not self.milestones,
             f"milestones {list(self.milestones)} are read only by the step schedule, not by {self.schedule!r}: "
             "drop them or use schedule='step'"),
            (self.gamma > 0, f"gamma must be positive, got {self.gamma}"),
            (self.steps < 1 or 0 <= self.decay_start < self.steps,
             f"decay_start must lie in [0, steps), got {self.decay_start}"),
        ]
        failed = [f"TrainConfig: {message}" for ok, message in checks if not ok]
        if failed:
            raise ConfigError("\n".join(failed))


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
    call_seconds: float  # wall time of this call's training
    ema_generator: torch.nn.Module | None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    # wall time of the run's training over every call that trained it (periodic evaluations and checkpoints
    # included, the final evaluation not), as its last checkpoint keeps it; None for a run whose checkpoint
    # holds no training seconds
    train_seconds: float | None = None

    @property
    def resumed(self) -> bool:
        return self.started_at > 0


def lr_factor_schedule(config: TrainConfig) -> Callable[[int], float]:
    """The learning-rate multiplier of 0-based iteration i under ``config``'s schedule (for LambdaLR)."""
    if config.schedule == "linear":  # 0-based iteration i runs at min(1, (steps - i) / (steps - decay_start))
        return lambda step: max(0.0, min(1.0, (config.steps - step) / (config.steps - config.decay_start)))
    if config.schedule == "step":
        return lambda step: config.gamma ** sum(step >= m for m in config.milestones)
    return lambda step: 1.0


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
    extend: bool = False,
) -> TrainResult:
    """Train ``method`` on batches from ``data`` for ``config.steps`` iterations, or resume the run in ``run_dir``.

    ``evaluate(step, generator)`` is called every ``eval_every`` iterations and at the end with the EMA
    generator when there is one (else G); its dict is written to ``eval.csv``. Runs on ``data``'s device.
    ``extend=True`` continues a run checkpointed at fewer than ``config.steps`` iterations (every other
    hyper-parameter must still match; ``config.json`` records the continuation); without it a changed ``steps``
    is refused like any other change.
    """
    device = data.device
    rank, world_size = init_distributed(device)
    if data.batch_size != config.batch_size:
        raise ConfigError(f"data yields batches of {data.batch_size} but config.batch_size is {config.batch_size}")
    _place(method, device, config, world_size)
    state = _training_state(method, data, config)
    folder = RunFolder(run_dir, config_record(config, method, data, world_size), rank, world_size, extend)
    start = folder.resume_or_start(state, config.seed)
    if config.compile:
        method.generator.compile()
        method.discriminator.compile()
    reports = _Reports(folder, state, config, start, evaluate, value_range)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16")
    folder.start_clock()

    with stop_requests() as stop:
        step = start
        for step in range(start + 1, config.steps + 1):
            with autocast:
                for _ in range(config.n_dis):
                    extra_real = None
                    if method.discriminator_needs_extra_real:
                        extra_real, _ = data.next()
                        extra_real = _layout(extra_real, config)
                    real, labels = data.next()
                    reports.add_losses(method.discriminator_step(_layout(real, config), labels, state.opt_d,
                                                                 extra_real))
                for _ in range(config.n_gen):
                    real_for_g = None
                    if method.generator_needs_real:
                        real_for_g, labels = data.next()
                        real_for_g = _layout(real_for_g, config)
                    reports.add_losses(method.generator_step(config.batch_size, labels, state.opt_g, real_for_g))
            state.sched_g.step()
            state.sched_d.step()
            if world_size > 1:  # as DDP's broadcast_buffers: BN running statistics follow rank 0
                broadcast_from_rank0(method.buffers())
            if state.ema is not None and step >= config.ema_start:
                state.ema.update_parameters(method.generator)
            reports.bar.update(1)
            if step % config.log_every == 0 or step % config.checkpoint_every == 0 or step == config.steps:
                reports.flush_losses(step)
            # samples and evaluations before the checkpoint, so that a resumed run neither loses them nor
            # replays RNG draws they made
            if config.sample_every and step % config.sample_every == 0:
                reports.write_samples(step)
            if config.eval_every and step % config.eval_every == 0 and step != config.steps:
                reports.run_evaluation(step)
            if step % config.checkpoint_every == 0 or step == config.steps:
                folder.save_checkpoint(step, state)
            if any_rank(stop.is_set(), device, world_size):
                reports.flush_losses(step)
                folder.save_checkpoint(step, state)
                reports.bar.close()
                raise TrainingInterrupted(f"stopped at iteration {step}; checkpoint saved in {folder.checkpoint_path}")
    reports.bar.close()
    call_seconds = folder.call_seconds()
    final_step = max(start, step)
    reports.write_samples(final_step)
    reports.run_evaluation(final_step)
    if world_size > 1:
        dist.barrier()
    averaged = state.ema is not None and int(state.ema.n_averaged) > 0
    # the loop ends with a checkpoint at its last step; a finished run's re-evaluation adds no training time
    return TrainResult(folder.path, final_step, start, call_seconds, state.ema.module if averaged else None,
                       reports.evaluations, folder.train_seconds)


def _place(method: GANMethod, device: torch.device, config: TrainConfig, world_size: int) -> None:
    """Move ``method`` to ``device`` (channels-last if asked); under ``torchrun``, start every rank from rank 0's
    initialisation and average gradients over the ranks after each backward."""
    method.to(device)
    if config.channels_last:
        method.to(memory_format=torch.channels_last)
    if world_size > 1:
        broadcast_from_rank0(list(method.parameters()) + list(method.buffers()))
        method.gradient_hook = average_gradients


def _training_state(method: GANMethod, data: DeviceBatches, config: TrainConfig) -> TrainingState:
    """Adam per network under ``config``'s learning-rate schedule, and the EMA of G when asked for."""
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
    return TrainingState(method, data, opt_g, opt_d, sched_g, sched_d, ema)


def _layout(batch: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """A real batch in the networks' memory format."""
    return batch.contiguous(memory_format=torch.channels_last) if config.channels_last else batch


class _Reports:
    """What the loop reports as it goes (rank 0 writes): the losses, averaged over each log interval, to
    ``log.csv`` and the progress bar; sample grids of a fixed latent batch; evaluations to ``eval.csv``."""

    def __init__(self, folder: RunFolder, state: TrainingState, config: TrainConfig, start: int,
                 evaluate: Callable[[int, torch.nn.Module], dict[str, Any]] | None, value_range: str) -> None:
        self.folder, self.state, self.config = folder, state, config
        self.evaluate, self.value_range = evaluate, value_range
        self.lr_factor = lr_factor_schedule(config)
        generator = state.method.generator
        self.fixed_latents = draw_latents(generator, config.sample_grid, torch.Generator().manual_seed(config.seed))
        self.fixed_latents = self.fixed_latents.to(state.data.device)
        self.pending: dict[str, list[torch.Tensor]] = {}  # scalars on the device since the last log row
        self.evaluations: list[dict[str, Any]] = []
        self.bar = tqdm(total=config.steps, initial=start, disable=not (config.progress and folder.is_main),
                        desc=folder.path.name)

    def add_losses(self, logs: dict[str, torch.Tensor]) -> None:
        for key, value in logs.items():
            self.pending.setdefault(key, []).append(value)

    def flush_losses(self, step: int) -> None:
        """One host sync per log interval: average the pending scalars, check them, write a CSV row."""
        if not self.pending:
            return
        means = {k: torch.stack(v).float().mean().item() for k, v in self.pending.items()}
        self.pending.clear()
        bad = {k: v for k, v in means.items() if not np.isfinite(v)}
        if bad:
            raise NonFiniteLossError(f"non-finite loss by iteration {step}: {bad}; {self.folder.kept_checkpoint()}")
        if self.folder.is_main:
            factor = self.lr_factor(step - 1)  # the rate iteration `step` ran at (the schedulers already moved on)
            row = {"step": step, "seconds": round(self.folder.call_seconds(), 3),
                   "lr_g": self.config.lr_g * factor, "lr_d": self.config.lr_d * factor, **means}
            self.folder.log.write(row)
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in means.items() if k.endswith("loss")})

    def eval_generator(self, step: int) -> torch.nn.Module:
        """The generator samples and evaluations use at ``step``: the EMA once it has started, else G."""
        ema = self.state.ema
        return ema.module if ema is not None and step >= self.config.ema_start else self.state.method.generator

    def write_samples(self, step: int) -> None:
        self.folder.write_samples(step, self.eval_generator(step), self.fixed_latents, self.config.sample_bn_mode,
                                  self.value_range)

    def run_evaluation(self, step: int) -> None:
        if self.evaluate is None or not self.folder.is_main:
            return
        row = {"step": step, **self.evaluate(step, self.eval_generator(step))}
        self.folder.eval_log.write(row)
        self.evaluations.append(row)
