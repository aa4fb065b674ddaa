"""Exceptions raised for bad input, so that callers (notebooks, scripts) can tell them from bugs; and the way the
command-line entry points report them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn


class ReproError(Exception):
    """Base class: the message names the bad value and the way out."""


class DataError(ReproError):
    """A dataset cannot be found, read or decoded."""


class ConfigError(ReproError, ValueError):
    """A parameter (profile, dataset name, subset size, ...) is not valid."""


class UsageError(SystemExit):
    """Bad command-line input, ended as argparse ends it: exit status 2, the errors already on stderr (see
    :func:`exit_with_errors`). Its text is the errors, one per line, for callers that catch it."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.code = 2
        self.errors = list(errors)


def exit_with_errors(prog: str, errors: Sequence[str | BaseException]) -> NoReturn:
    """Print one ``<prog>: error: <message>`` line per error on stderr, without a traceback, and exit with status 2
    (argparse's). A message of several lines (a resume refused with its list of differences) keeps them."""
    messages = [str(error) for error in errors]
    for message in messages:
        print(f"{prog}: error: {message}", file=sys.stderr)
    raise UsageError(messages)
