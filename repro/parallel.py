"""Independent runs side by side in worker processes.

Small networks (Improved-GAN's MNIST MLPs, batch 100) leave a 2-core CPU half idle under one process: the
per-op overhead, not the arithmetic, sets the pace. Two single-threaded processes, one run each, then train
about twice as many iterations per second as one process with two threads (measured in
``benchmarks/README.md``). Workers are spawned (not forked), so the parent's thread pools and open files do
not leak into them, and each sets its own thread count before any work.

On a machine with several GPUs, each worker sees one of them (``CUDA_VISIBLE_DEVICES`` set by worker ordinal
before CUDA starts), so ``WORKERS = <number of GPUs>`` in a notebook trains that many runs at once, one per GPU.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def _visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries ([] without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return []
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed:
        return [entry.strip() for entry in listed.split(",") if entry.strip()]
    return [str(index) for index in range(torch.cuda.device_count())]


def worker_gpu(ordinal: int, gpus: Sequence[str]) -> str | None:
    """The GPU that worker number ``ordinal`` (1-based, as multiprocessing counts them) gets: round robin."""
    return gpus[(ordinal - 1) % len(gpus)] if gpus else None


def _init_worker(threads: int, gpus: Sequence[str]) -> None:
    # _identity[-1] counts the processes the parent has started (1-based, CPython), so one pool's workers have
    # consecutive numbers and, round robin, distinct GPUs while there are no more workers than GPUs
    gpu = worker_gpu(multiprocessing.current_process()._identity[-1], gpus)
    if gpu is not None:  # before anything in this process touches CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    import torch

    torch.set_num_threads(threads)


def map_in_processes(function: Callable[..., T], argument_tuples: Sequence[tuple[Any, ...]], workers: int = 1,
                     threads_per_worker: int | None = None) -> list[T]:
    """``[function(*args) for args in argument_tuples]``, over ``workers`` spawned processes, in order.

    ``function`` must be importable (defined at module level in a package, not in a notebook). With
    ``workers=1`` everything runs here, in this process, with its current thread count. A worker's exception is
    raised here; runs that already finished keep their results on disk (each run writes its own folder).
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if workers == 1 or len(argument_tuples) <= 1:
        return [function(*args) for args in argument_tuples]
    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    gpus = _visible_gpus()
    gpus = gpus if len(gpus) > 1 else []  # one GPU (or none): every worker uses what the parent sees
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(threads, gpus)) as pool:
        futures = [pool.submit(function, *args) for args in argument_tuples]
        return [future.result() for future in futures]
