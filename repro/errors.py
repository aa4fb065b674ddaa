"""Exceptions raised for bad input, so that callers (notebooks, scripts) can tell them from bugs."""


class ReproError(Exception):
    """Base class: the message names the bad value and the way out."""


class DataError(ReproError):
    """A dataset cannot be found, read or decoded."""


class ConfigError(ReproError, ValueError):
    """A parameter (profile, dataset name, subset size, ...) is not valid."""
