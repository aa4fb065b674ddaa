"""Devices and data parallelism for the training loop: picking the device, joining the ``torchrun`` process group,
averaging gradients, broadcasting rank 0's tensors, gathering per-rank state, and turning SIGINT/SIGTERM into a
stop flag that every rank agrees on.

On one process (``WORLD_SIZE`` unset or 1) no process group is started and the collectives below are not called.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import torch
import torch.distributed as dist

from .errors import ConfigError


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else the CPU; under ``torchrun`` each rank gets its own GPU.

    A malformed device string, or a device this machine does not have, is a :class:`ConfigError` naming it.
    """
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    device = check_device(preference)
    if device.type != "cuda":
        return device
    if device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(device)
    return device


def check_device(preference: str) -> torch.device:
    """``preference`` ("cpu", "cuda", "cuda:1", ...) as a device this machine has; a ConfigError otherwise."""
    way_out = "use auto (CUDA when available, else the CPU), cpu, or cuda:N for a GPU this machine has"
    try:
        device = torch.device(preference)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device {preference!r} is not a device name torch knows; {way_out}") from None
    if device.type == "cpu":
        return device
    backend = getattr(torch, device.type, None)
    if backend is None or not hasattr(backend, "is_available") or not backend.is_available():
        raise ConfigError(f"device {preference!r}: this machine has no {device.type} device; {way_out}")
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if device.index is not None and device.index >= count:
        raise ConfigError(f"device {preference!r}: this machine has {count} {device.type} device(s), numbered from 0; "
                          f"{way_out}")
    return device


def init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by ``torchrun`` (NCCL on GPU, gloo on CPU)."""
    if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shutdown_distributed(wait_for_others: bool = True) -> None:
    """Leave the process group that :func:`init_distributed` started, if any: torch asks every process to call
    ``destroy_process_group`` before it exits (NCCL warns and can hang at interpreter exit otherwise). After a
    normal end the ranks first meet at a barrier, so that none tears the group down while a peer is still in a
    collective; after an error there is no barrier (a peer that failed elsewhere would never reach it)."""
    if not dist.is_initialized():
        return
    if wait_for_others:
        dist.barrier()
    dist.destroy_process_group()


def average_gradients(parameters: Iterable[torch.nn.Parameter]) -> None:
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


def broadcast_from_rank0(tensors: Iterable[torch.Tensor]) -> None:
    """Overwrite ``tensors`` in place with rank 0's values (initial weights; BN statistics, as DDP's
    ``broadcast_buffers``)."""
    for tensor in tensors:
        dist.broadcast(tensor.data, src=0)


def gather_objects(obj: Any, world_size: int) -> list[Any]:
    """Every rank's ``obj``, in rank order (picklable objects; [obj] on one process)."""
    if world_size == 1:
        return [obj]
    gathered = [None] * world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def any_rank(flag: bool, device: torch.device, world_size: int) -> bool:
    """True on every rank when ``flag`` is true on at least one, so that one rank's signal stops all of them at
    the same iteration (no mismatched collectives)."""
    if world_size == 1:
        return flag
    tensor = torch.tensor([float(flag)], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


@contextlib.contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """Turn SIGINT/SIGTERM into a flag checked between iterations, so a checkpoint is consistent. A second
    signal stops at once; off the main thread (where signals cannot be caught) the flag is never set."""
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
