"""repro.parallel: results come back in order, from spawned workers or in-process, and errors surface."""

import operator

import pytest

from repro.errors import ConfigError
from repro.parallel import map_in_processes


def test_results_keep_the_order_of_the_arguments_in_both_modes():
    arguments = [(2, 10), (3, 4), (5, 3)]
    assert map_in_processes(pow, arguments, workers=1) == [1024, 81, 125]
    assert map_in_processes(pow, arguments, workers=2) == [1024, 81, 125]


def test_a_worker_error_is_raised_here_and_bad_worker_counts_are_refused():
    with pytest.raises(ZeroDivisionError):
        map_in_processes(operator.truediv, [(1, 1), (1, 0)], workers=2)
    with pytest.raises(ConfigError, match="workers"):
        map_in_processes(pow, [(1, 1)], workers=0)
