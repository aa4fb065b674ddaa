"""repro.experiments.claims: one rule for every paper. Seed statistics, the ordering rule and its verdict words,
the value rule, the margin noise of semi-supervised errors, and reading committed tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.experiments import claims


def test_seed_stats_is_the_mean_and_the_sample_std_and_says_when_there_is_no_spread():
    assert claims.seed_stats([1.0, 2.0, 6.0]) == pytest.approx((3.0, float(np.std([1.0, 2.0, 6.0], ddof=1))))
    assert claims.seed_stats([2.0, 4.0])[1] == pytest.approx(math.sqrt(2))
    mean, std = claims.seed_stats([5.0])
    assert mean == 5.0 and math.isnan(std)  # one seed: no spread, not a spread of zero
    assert all(math.isnan(v) for v in claims.seed_stats([]))


def test_summarise_groups_in_first_seen_order():
    rows = [{"model": m, "seed": s, "fid": v} for m, s, v in (("B", 0, 2.0), ("A", 0, 1.0), ("B", 1, 4.0))]
    table = claims.summarise(rows, ["model"], ["fid"])
    assert [(r["model"], r["seeds"], r["fid"]) for r in table] == [("B", 2, 3.0), ("A", 1, 1.0)]
    assert table[0]["fid_std_over_seeds"] == pytest.approx(math.sqrt(2)) and math.isnan(table[1]["fid_std_over_seeds"])


def test_the_one_ordering_rule_compares_the_gap_with_the_spread_of_the_difference():
    def row(mean, std):
        return {"fid": mean, "fid_std_over_seeds": std}

    beyond = claims.compare(row(10.0, 3.0), row(16.0, 4.0), "fid", higher_better=False)
    assert beyond == {"our_gap": 6.0, "agrees": True, "beyond_seed_spread": True}  # 6 > sqrt(9 + 16) = 5
    within = claims.compare(row(10.0, 3.0), row(14.0, 4.0), "fid", higher_better=False)
    assert within["agrees"] and within["beyond_seed_spread"] is False
    opposite = claims.compare(row(10.0, 3.0), row(16.0, 4.0), "fid", higher_better=True)
    assert opposite["our_gap"] == -6.0 and not opposite["agrees"]
    one_seed = claims.compare(row(10.0, math.nan), row(16.0, 4.0), "fid", higher_better=False)
    assert one_seed["beyond_seed_spread"] is None
    strings = claims.compare({"fid": "10", "fid_std_over_seeds": "3"}, {"fid": "16", "fid_std_over_seeds": "4"},
                             "fid", higher_better=False)
    assert strings == beyond  # rows read back from a committed CSV judge the same
    empty = claims.compare({"fid": "", "fid_std_over_seeds": ""}, row(16.0, 4.0), "fid", higher_better=False)
    assert not empty["agrees"] and empty["beyond_seed_spread"] is None  # a missing value never agrees


def test_ordering_verdicts_say_why():
    assert claims.ordering_verdict(True, True, "CPU scale") == ("reproduced in ordering only", "CPU scale")
    assert claims.ordering_verdict(True, False, "x")[1] == "same direction, but within the seed spread"
    assert claims.ordering_verdict(True, None, "x")[1].startswith("same direction, one seed")
    assert claims.ordering_verdict(False, None, "x") == ("not reproduced", "the opposite ordering in our runs")
    claim = claims.ordering_claim("A better than B", "paper", 0.5, True, True, "protocol", "scale")
    assert claim.verdict == "reproduced in ordering only" and claim.ours == "+0.5 (> 0: the paper's direction)"
    with pytest.raises(ValueError, match="verdict must be one of"):
        claims.Claim("c", "p", "o", "x", "supported-ish")


def test_value_rule():
    assert claims.value_verdict(1.0, 0.05, 0.93)  # within 25% of the paper's value
    assert claims.value_verdict(3.0, 1.2, 0.93)  # within 2 std
    assert not claims.value_verdict(3.96, 0.46, 0.93)
    assert not claims.value_verdict(3.96, math.nan, 0.93)


def test_the_margin_noise_is_two_standard_errors_of_test_sampling_plus_the_seeds():
    assert claims.margin_noise(50.0, 50.0, 10_000) == pytest.approx(2 * math.sqrt(0.25 + 0.25))
    assert claims.margin_noise(10.0, 30.0, 2_500) == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21)))
    with_seeds = claims.margin_noise(10.0, 30.0, 2_500, ours_std=1.0, baseline_std=2.0)
    assert with_seeds == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21) + 1 + 4))
    one_sided = claims.margin_noise(10.0, 30.0, 2_500, baseline_std=2.0)  # the other side borrows its spread
    assert one_sided == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21) + 4 + 4))
    verdict, reason = claims.baseline_verdict(50.0, math.nan, 55.0, math.nan, 10_000, "CPU scale")
    assert verdict == "reproduced in ordering only" and "test sampling alone" in reason


def test_tables_are_read_back_as_written(tmp_path):
    assert claims.read_table(tmp_path, "10_x", "t") is None
    (tmp_path / "10_x").mkdir()
    (tmp_path / "10_x" / "t.csv").write_text("a,b\n1.5,\n")
    assert claims.read_table(tmp_path, "10_x", "t") == [{"a": "1.5", "b": ""}]
    assert claims.number("1.5") == 1.5 and math.isnan(claims.number("")) and math.isnan(claims.number(None))
    assert claims.mean_std(1.0, math.nan) == "1.00" and claims.mean_std(1.0, 0.25) == "1.00 ± 0.25"
    assert claims.not_run("c", "p", "30_x").reason == "no committed cpu results yet: ./run_all.sh 30"
