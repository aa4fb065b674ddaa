"""Independent runs side by side in worker processes.

Small networks (Improved-GAN's MNIST MLPs, batch 100) leave a 2-core CPU half idle under one process: the
per-op overhead, not the arithmetic, sets the pace. Two single-threaded processes, one run each, then train
about twice as many iterations per second as one process with two threads (measured in
``benchmarks/README.md``). Workers are spawned (not forked), so the parent's thread pools and open files do
not leak into them, and each sets its own thread count before any work.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def _set_threads(threads: int) -> None:
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
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_set_threads,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(function, *args) for args in argument_tuples]
        return [future.result() for future in futures]
