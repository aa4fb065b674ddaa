"""repro.parallel: results come back in order, from spawned workers or in-process, and errors surface;
with several GPUs each worker gets one."""

import multiprocessing
import operator
import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from repro.errors import ConfigError
from repro.parallel import _init_worker, map_in_processes, worker_gpu


def test_results_keep_the_order_of_the_arguments_in_both_modes():
    arguments = [(2, 10), (3, 4), (5, 3)]
    assert map_in_processes(pow, arguments, workers=1) == [1024, 81, 125]
    assert map_in_processes(pow, arguments, workers=2) == [1024, 81, 125]


def test_a_worker_error_is_raised_here_and_bad_worker_counts_are_refused():
    with pytest.raises(ZeroDivisionError):
        map_in_processes(operator.truediv, [(1, 1), (1, 0)], workers=2)
    with pytest.raises(ConfigError, match="workers"):
        map_in_processes(pow, [(1, 1)], workers=0)


def test_each_worker_sees_one_gpu_round_robin():
    assert [worker_gpu(ordinal, ["0", "1", "2"]) for ordinal in (1, 2, 3, 4)] == ["0", "1", "2", "0"]
    assert worker_gpu(1, []) is None
    # the initializer sets the variable in a real spawned worker (no GPU needed to see the variable)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context, initializer=_init_worker,
                             initargs=(1, ["3", "5"])) as pool:
        seen = {pool.submit(os.getenv, "CUDA_VISIBLE_DEVICES").result() for _ in range(4)}
    assert seen and seen <= {"3", "5"}
