"""repro.experiments.claims: one rule for every paper. Seed statistics, Welch intervals and p-values against
scipy, Holm within a family, the power numbers against a simulation, symmetric verdicts, the health gate's veto,
value claims, and reading committed tables."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

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


def test_welch_matches_scipy_and_orients_the_difference_to_the_paper_s_direction():
    a, b = [5.0, 6.1, 5.4, 6.3], [4.0, 4.9, 4.2]
    d = claims.welch(claims.Arm.of("A", a), claims.Arm.of("B", b), higher_better=True)
    reference = stats.ttest_ind(a, b, equal_var=False)
    assert d.estimate == pytest.approx(np.mean(a) - np.mean(b)) and d.p == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (d.ci_low, d.ci_high) == pytest.approx((interval.low, interval.high))
    lower = claims.welch(claims.Arm.of("A", a), claims.Arm.of("B", b), higher_better=False)
    assert lower.estimate == pytest.approx(-d.estimate) and lower.p == pytest.approx(d.p)  # symmetric
    assert claims.welch(claims.Arm.of("A", [1.0]), claims.Arm.of("B", b)) is None  # one seed: no spread, no test
    assert claims.welch(claims.Arm.of("A", [1.0, 1.0]), claims.Arm.of("B", [2.0, 2.0])) is None  # zero spread


def test_holm_multiplies_by_the_remaining_tests_and_stays_monotone():
    assert claims.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert claims.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert claims.holm([]) == []


def test_power_numbers_agree_with_a_simulation_of_the_welch_test():
    a, b = claims.Arm("A", 1.0, 1.0, 4), claims.Arm("B", 0.0, 1.0, 4)
    d = claims.welch(a, b)
    detectable = claims.detectable_difference(d)
    assert detectable > d.estimate  # a one-std gap is not detectable with 4 seeds a side
    n = claims.seeds_to_detect(1.0, a, b)
    rng = np.random.default_rng(0)
    hits = [stats.ttest_ind(rng.normal(1, 1, n), rng.normal(0, 1, n), equal_var=False).pvalue < 0.05
            for _ in range(4000)]
    assert 0.78 <= np.mean(hits) <= 0.86  # the stated 80% power, at the smallest n that reaches it
    fewer = [stats.ttest_ind(rng.normal(1, 1, n - 2), rng.normal(0, 1, n - 2), equal_var=False).pvalue < 0.05
             for _ in range(4000)]
    assert np.mean(fewer) < 0.8
    assert claims.seeds_to_detect(0.0, a, b) is None and claims.seeds_to_detect(1.0, claims.Arm.of("A", [1]), b) is None


def ordering(better, worse, **kw):
    return claims.Ordering("A better than B", "m", better, worse, True, "paper", "protocol", **kw)


def test_verdicts_are_symmetric_and_need_three_seeds_a_side():
    high, low = claims.Arm.of("A", [10.0, 10.5, 9.8, 10.2]), claims.Arm.of("B", [5.0, 5.4, 4.9, 5.2])
    supported, contradicted = claims.judge([ordering(high, low), ordering(low, high)])
    assert supported.verdict == "supported" and supported.difference > 0 and supported.ci_low > 0
    assert contradicted.verdict == "contradicted" and contradicted.ci_high < 0
    assert supported.p_adjusted < 0.05 and (supported.seeds_a, supported.seeds_b) == (4, 4)
    two = claims.Arm.of("A", [10.0, 10.1])
    (few,) = claims.judge([ordering(two, low)])
    assert few.verdict == "inconclusive" and few.reason.startswith("2 seeds on one side")
    noisy = claims.Arm.of("A", [4.0, 9.0, 6.5])
    (unclear,) = claims.judge([ordering(noisy, low)])
    assert unclear.verdict == "inconclusive" and "smallest difference these runs detect" in unclear.reason
    assert "seeds a side" in unclear.reason
    needed = claims.seeds_to_detect(unclear.difference, noisy, low)
    assert unclear.would_decide == f"about {needed} seeds a side, if the gap and spreads hold"
    (single,) = claims.judge([ordering(claims.Arm.of("A", [12.0]), low)])
    assert single.verdict == "inconclusive" and single.difference == pytest.approx(12 - np.mean([5.0, 5.4, 4.9, 5.2]))
    assert single.would_decide.startswith("at least 3 seeds a side")
    assert supported.would_decide == contradicted.would_decide == ""  # decided: nothing more to run
    (sick,) = claims.judge([ordering(claims.Arm("A", 1.0, 0.1, 3, ("seed 0: IS 1.0 < 2",)), low, notebook="40_x")])
    assert sick.verdict == "untestable at this scale" and sick.notebook == "40_x"  # the summary prices its notebook


def test_holm_adjusts_within_a_family_and_extensions_are_a_family_of_their_own():
    rng = np.random.default_rng(1)
    arm = lambda name, mean: claims.Arm.of(name, rng.normal(mean, 1.0, 3))  # noqa: E731
    items = [ordering(arm("A", 2.5), arm("B", 0)) for _ in range(4)]
    alone = claims.judge(items[:1])[0].p_adjusted
    together = claims.judge(items)
    raw = [claims.welch(i.better, i.worse).p for i in items]
    assert [c.p_adjusted for c in together] == pytest.approx(claims.holm(raw))
    assert alone == pytest.approx(raw[0])
    extension = claims.judge(items[:1] + [replace(i, counted=False) for i in items[1:]])
    assert extension[0].p_adjusted == pytest.approx(raw[0])  # the extensions do not dilute the paper's claim
    # claims on results awaiting their notebook's rerun: marked, and adjusted among themselves, not with the fresh
    stale = claims.judge([items[0]] + [replace(i, notebook="31_x") for i in items[1:]], awaiting={"31_x"})
    assert not stale[0].awaiting_rerun and stale[0].p_adjusted == pytest.approx(raw[0])
    assert all(c.awaiting_rerun for c in stale[1:])
    assert [c.p_adjusted for c in stale[1:]] == pytest.approx(claims.holm(raw[1:]))


def test_a_failing_run_makes_the_claim_untestable_whatever_the_numbers():
    high = claims.Arm.of("A", [10.0, 10.5, 9.8], unhealthy=["seed 1: classifier IS 1.02 < 2"])
    low = claims.Arm.of("B", [5.0, 5.4, 4.9])
    healthy = claims.Arm.of("C", [5.0, 5.4, 4.9])
    untestable, tested = claims.judge([ordering(high, low), ordering(healthy, low)])
    assert untestable.verdict == "untestable at this scale" and "A seed 1: classifier IS 1.02 < 2" in untestable.reason
    assert untestable.health.startswith("fail") and math.isnan(untestable.p_adjusted)
    assert tested.p_adjusted == pytest.approx(claims.welch(healthy, low).p)  # the untestable one is not in the family


def test_value_claims_test_consistency_with_the_paper_s_seeds():
    def value(ours):
        return claims.Value("error", "test error %", ours, 0.93, 0.065, 10, "protocol")

    close, far = claims.judge([value(claims.Arm.of("ours", [0.95, 0.90, 1.0])),
                               value(claims.Arm.of("ours", [1.5, 1.6, 1.7]))])
    assert close.verdict == "reproduced" and close.ci_low < 0 < close.ci_high
    reference = stats.ttest_ind_from_stats(0.95, np.std([0.95, 0.90, 1.0], ddof=1), 3, 0.93, 0.065, 10,
                                           equal_var=False)
    assert close.p_adjusted == pytest.approx(reference.pvalue)
    assert far.verdict == "not reproduced" and "ours − paper" in far.reason and far.paper_value == 0.93
    # one run: tested against the paper's prediction interval, but fewer than 3 seeds decide nothing, either way
    single, single_far = claims.judge([value(claims.Arm.of("ours", [1.05])), value(claims.Arm.of("ours", [1.6]))])
    t = (1.05 - 0.93) / (0.065 * math.sqrt(1 + 1 / 10))
    assert single.p_adjusted == pytest.approx(2 * stats.t.sf(t, 9))
    assert single.verdict == single_far.verdict == "inconclusive" and single_far.p_adjusted < 0.05
    assert "1 seed(s) of ours: at least 3 decide" in single.reason
    assert single.would_decide == "at least 3 seeds of ours at this protocol"
    (stuck,) = claims.judge([value(claims.Arm.of("ours", [46.6], unhealthy=["seed 0: test error % 46.6 > 45"]))])
    assert stuck.verdict == "untestable at this scale"


def test_arms_read_committed_summary_rows():
    arm = claims.arm_from_row("A", {"fid": "10", "fid_std_over_seeds": "2", "seeds": "3"}, "fid")
    assert (arm.mean, arm.std, arm.seeds) == (10.0, 2.0, 3)
    one = claims.arm_from_row("A", {"fid": "10", "fid_std_over_seeds": "nan", "seeds": "1"}, "fid")
    assert math.isnan(one.std) and one.text() == "10 (1 seed)"
    columns = claims.difference_columns(arm, claims.Arm("B", 14.0, 2.0, 3), higher_better=False)
    assert columns["difference"] == 4.0 and columns["ci_low"] < 4.0 < columns["ci_high"]


def test_claims_only_take_known_verdicts():
    with pytest.raises(ValueError, match="verdict must be one of"):
        claims.Claim("c", "p", verdict="reproduced in ordering only")


def test_tables_are_read_back_as_written(tmp_path):
    assert claims.read_table(tmp_path, "10_x", "t") is None
    (tmp_path / "10_x").mkdir()
    (tmp_path / "10_x" / "t.csv").write_text("a,b\n1.5,\n")
    assert claims.read_table(tmp_path, "10_x", "t") == [{"a": "1.5", "b": ""}]
    assert claims.number("1.5") == 1.5 and math.isnan(claims.number("")) and math.isnan(claims.number(None))
    assert claims.mean_std(1.0, math.nan) == "1.00" and claims.mean_std(1.0, 0.25) == "1.00 ± 0.25"
    assert claims.not_run("c", "p", "30_x").reason == "no committed cpu results yet: ./run_all.sh 30"
