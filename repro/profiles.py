"""Run profiles shared by every notebook and script.

* ``smoke``: seconds per notebook; tiny nets, steps and sample counts. What tests and CI run.
* ``cpu``: real, scaled-down experiments that finish on a 2-core CPU; these make the committed ``results/``.
* ``paper``: the papers' schedules and sample counts, for a GPU. Same code path, other parameters.
"""

from __future__ import annotations

from typing import TypeVar

from .errors import ConfigError

PROFILES: tuple[str, ...] = ("smoke", "cpu", "paper")
DEFAULT_PROFILE = "cpu"

T = TypeVar("T")


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is a known profile name, else raise a ConfigError listing the known ones."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def by_profile(profile: str, *, smoke: T, cpu: T, paper: T) -> T:
    """Pick the value for ``profile``: ``by_profile(PROFILE, smoke=200, cpu=20_000, paper=100_000)``."""
    return {"smoke": smoke, "cpu": cpu, "paper": paper}[check_profile(profile)]
