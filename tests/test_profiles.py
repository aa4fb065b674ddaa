"""repro.profiles: the three run profiles."""

import pytest

from repro.errors import ConfigError
from repro.profiles import PROFILES, by_profile, check_profile


def test_profiles_pick_their_value():
    assert PROFILES == ("smoke", "cpu", "paper")
    assert [by_profile(p, smoke=1, cpu=2, paper=3) for p in PROFILES] == [1, 2, 3]


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown profile 'gpu'; choose one of smoke, cpu, paper"):
        check_profile("gpu")
