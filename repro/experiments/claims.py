"""How every paper's claims are judged: one statistical rule, the verdict words, and reading the committed tables
the verdicts rest on (EVIDENCE.md, "Claims and statistics").

A claim is one of two kinds.

* An **ordering** (:class:`Ordering`), "A better than B on metric m": the difference of the per-seed means,
  oriented so that > 0 is the paper's direction, with its 95% Welch interval and two-sided Welch p-value
  (:func:`welch`). The p-values of one paper's counted orderings are adjusted together by Holm's step-down method
  (:func:`holm`; our extensions form a second family). Verdicts are symmetric: **supported** (adjusted p < 0.05,
  the paper's direction), **contradicted** (adjusted p < 0.05, the other direction), **inconclusive** (otherwise;
  the reason gives the smallest difference the runs could detect and the seeds per arm the observed gap would
  take). Fewer than :data:`MIN_SEEDS` seeds a side is inconclusive whatever the p-value.
* A **value** (:class:`Value`), "the error is 0.93 ± 0.065% over 10 seeds": **reproduced** when the paper's mean
  is consistent with ours, i.e. a two-sided Welch test of our seeds against the paper's (mean, std, seeds) does
  not reject at 0.05; with one seed of ours, the test asks whether our run is a plausible draw from the paper's
  seeds (prediction interval of one new run). Else **not reproduced**, with the gap and its interval.

Either kind is **untestable at this scale** when one of its runs fails the training-health gate
(:mod:`repro.experiments.health`): a comparison between collapsed generators measures the score classifier, not
the method. **not run** marks a claim with no committed results.
"""

from __future__ import annotations

import ast
import csv
import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05  # the family-wise error rate of each paper's claims
POWER = 0.8  # the power behind "the smallest detectable difference" and "the seeds it would take"
MIN_SEEDS = 3  # fewer seeds a side never decide an ordering: two seeds give a t-test with 1-2 degrees of freedom
ORDERING_VERDICTS = ("supported", "contradicted", "inconclusive")
VALUE_VERDICTS = ("reproduced", "not reproduced")
VERDICTS = ORDERING_VERDICTS + VALUE_VERDICTS + ("untestable at this scale", "not run")
# the rules behind the verdicts, in words, for the summary's preamble and the README
RULES = (
    "**How verdicts are reached.** An ordering claim (A better than B) is judged on the per-seed values: the "
    "difference of the means, oriented so that > 0 is the paper's direction, its 95% Welch confidence interval, "
    "and a two-sided Welch p-value adjusted by Holm's method within each paper's counted claims. *supported*: "
    "adjusted p < 0.05 in the paper's direction; *contradicted*: adjusted p < 0.05 the other way; *inconclusive*: "
    f"otherwise, or fewer than {MIN_SEEDS} seeds a side (the reason gives the smallest difference the runs could "
    f"detect at {POWER:.0%} power and the seeds per arm the observed gap would need). A value claim is "
    "*reproduced* when a two-sided Welch test of our seeds against the paper's mean ± std over its seeds does not "
    f"reject at 0.05, else *not reproduced*; with fewer than {MIN_SEEDS} seeds of ours it is *inconclusive* (the "
    "test is still shown). A claim is *untestable at this scale* when any of its runs fails the training-health "
    "gate of its dataset (declared in `repro/experiments/health.py`): orderings of collapsed generators measure "
    "the score classifier, not the method; it names what would decide it, the notebook's paper profile with the "
    "GPU-hours of the committed GPU dry run (`repro.dry_run.gpu_budget`). Only the papers' own claims enter the "
    "tally, and only on results their notebook's current version produced (a verdict on results awaiting a rerun "
    "is shown, marked, not tallied); our extensions are listed apart, MMGAN's orderings among them (its method is "
    "our reading of the abstract, so a verdict is about that reading, not the paper), and a metric computed on "
    "the same samples as a claim's primary metric is shown beside it, not counted.")


@dataclass(frozen=True)
class Arm:
    """One side of a claim: a model's per-seed values of one metric, summarised, and its runs' health.

    ``unhealthy`` holds one line per run that failed the training-health gate (empty: all passed)."""

    name: str
    mean: float
    std: float  # sample std over seeds (ddof 1); NaN with one seed
    seeds: int
    unhealthy: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, values: Iterable[float], unhealthy: Iterable[str] = ()) -> Arm:
        values = [float(v) for v in values]
        mean, std = seed_stats(values)
        return cls(name, mean, std, len(values), tuple(unhealthy))

    def text(self, digits: int = 3) -> str:
        """"mean ± std (n seeds)"."""
        value = f"{self.mean:.{digits}g}" + ("" if math.isnan(self.std) else f" ± {self.std:.{digits}g}")
        return f"{value} ({self.seeds} seed{'s' if self.seeds != 1 else ''})"


@dataclass(frozen=True)
class Difference:
    """A difference of means oriented to the paper's direction, its 95% interval and two-sided p-value."""

    estimate: float
    ci_low: float
    ci_high: float
    p: float
    se: float
    df: float


def seed_stats(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of per-seed values; the std is NaN below two seeds (one seed
    has no spread) and both are NaN for none."""
    array = np.asarray(list(values), dtype=float)
    mean = float(array.mean()) if array.size else float("nan")
    return mean, float(array.std(ddof=1)) if array.size > 1 else float("nan")


def welch(a: Arm, b: Arm, higher_better: bool = True) -> Difference | None:
    """Welch's unequal-variance t-test of mean(a) − mean(b), oriented so that > 0 means a is better; None when
    either side has fewer than two seeds or both have zero spread (no t-statistic exists).

    Unpaired: seed i of two methods shares the torch seed, but the methods consume the random stream
    differently, so their runs share no noise that pairing could cancel."""
    if a.seeds < 2 or b.seeds < 2 or math.isnan(a.std) or math.isnan(b.std):
        return None
    va, vb = a.std**2 / a.seeds, b.std**2 / b.seeds
    se = math.sqrt(va + vb)
    if se == 0:
        return None
    df = (va + vb) ** 2 / (va**2 / (a.seeds - 1) + vb**2 / (b.seeds - 1))
    estimate = (a.mean - b.mean) * (1 if higher_better else -1) + 0.0  # + 0.0: never print "-0"
    half = stats.t.ppf(1 - ALPHA / 2, df) * se
    p = 2 * stats.t.sf(abs(estimate) / se, df)
    return Difference(estimate, estimate - half, estimate + half, float(p), se, df)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (Holm 1979): the i-th smallest of m is multiplied by
    m − i + 1, made monotone, capped at 1. Controls the family-wise error rate under any dependence."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def detectable_difference(difference: Difference) -> float:
    """The smallest true difference these runs would detect with probability :data:`POWER` in a two-sided test
    at :data:`ALPHA` (before the multiple-testing correction): (t_{1−α/2} + t_{power}) × the standard error."""
    return (stats.t.ppf(1 - ALPHA / 2, difference.df) + stats.t.ppf(POWER, difference.df)) * difference.se


def seeds_to_detect(gap: float, a: Arm, b: Arm) -> int | None:
    """Seeds per arm at which a two-sided Welch test at :data:`ALPHA` detects a true difference ``gap`` with
    probability :data:`POWER`, taking each arm's spread as measured (None when a spread is unknown or the gap is
    zero); at least :data:`MIN_SEEDS`."""
    if gap == 0 or math.isnan(a.std) or math.isnan(b.std) or a.std + b.std == 0:
        return None
    variance = a.std**2 + b.std**2
    z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)
    n = max(MIN_SEEDS, math.ceil(variance * z**2 / gap**2))  # the normal approximation is a lower bound
    if n > 10_000:
        return None
    while (stats.t.ppf(1 - ALPHA / 2, 2 * n - 2) + stats.t.ppf(POWER, 2 * n - 2)) * math.sqrt(variance / n) > abs(gap):
        n += 1
    return n


# ----------------------------------------------------------------------------------------------------------
# Claims and verdicts


@dataclass(frozen=True)
class Ordering:
    """A paper's ordering claim, "``better`` beats ``worse`` on ``metric``", with our two arms.

    ``paper_says`` quotes the paper's numbers; ``beside`` shows a metric computed on the same samples (not a
    second claim); ``counted`` is False for our extensions (reported apart from the paper's claims)."""

    claim: str
    metric: str
    better: Arm
    worse: Arm
    higher_better: bool
    paper_says: str
    protocol: str
    beside: str = ""
    counted: bool = True
    notebook: str = ""  # the notebook whose runs the arms come from (what its paper profile would decide)


@dataclass(frozen=True)
class Value:
    """A paper's value claim, "``metric`` is ``paper_mean`` ± ``paper_std`` over ``paper_seeds`` seeds", with our
    arm (same metric, same units)."""

    claim: str
    metric: str
    ours: Arm
    paper_mean: float
    paper_std: float
    paper_seeds: int
    protocol: str
    beside: str = ""
    counted: bool = True
    notebook: str = ""

    @property
    def paper_says(self) -> str:
        return f"{self.paper_mean:.4g} ± {self.paper_std:.3g} ({self.paper_seeds} seeds)"


@dataclass(frozen=True)
class Claim:
    """One judged claim: one row of ``claims.csv`` and of the summary's tables."""

    claim: str
    paper_says: str
    metric: str = ""
    ours_a: str = "—"
    ours_b: str = ""
    difference: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_adjusted: float = math.nan
    seeds_a: int = 0
    seeds_b: int = 0
    health: str = ""
    verdict: str = "not run"
    reason: str = ""
    protocol: str = "—"
    beside: str = ""
    counted: bool = True
    kind: str = "ordering"  # ordering, value or analysis
    paper_value: float = math.nan  # a value claim's paper mean (ours is paper_value + difference)
    notebook: str = ""  # the notebook the claim's runs come from
    # what would decide a claim these runs leave open: the seeds a side (inconclusive), a larger plan (untestable:
    # the summary adds the paper profile's measured GPU-hours, repro.dry_run.gpu_budget), the command (not run)
    would_decide: str = ""
    # its notebook's committed results came from an earlier version of the notebook (repro.manifest.awaiting_rerun):
    # the verdict is shown, not tallied
    awaiting_rerun: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def health_text(*arms: Arm) -> str:
    """"pass", or "fail: ..." naming each failing run."""
    failures = [f"{arm.name} {line}" for arm in arms for line in arm.unhealthy]
    if not failures:
        return "pass"
    return "fail: " + "; ".join(failures)


def _figure(x: float) -> str:
    return f"{x:+.3g}"


def interval_text(d: Difference) -> str:
    """"+0.315 [-1.52, 2.15]": a difference with its 95% interval."""
    return f"{_figure(d.estimate)} [{d.ci_low:.3g}, {d.ci_high:.3g}]"


def beside_text(label: str, d: Difference | None) -> str:
    """A same-samples metric shown beside a claim ("KID +0.08 [-1.4, 1.5]"); empty without a test."""
    return f"{label} {interval_text(d)}" if d is not None else ""


def _ordering_claim(item: Ordering, difference: Difference | None, p_adjusted: float) -> Claim:
    base = Claim(item.claim, item.paper_says, item.metric, item.better.text(), item.worse.text(),
                 seeds_a=item.better.seeds, seeds_b=item.worse.seeds, health=health_text(item.better, item.worse),
                 protocol=item.protocol, beside=item.beside, counted=item.counted, notebook=item.notebook)
    raw_gap = (item.better.mean - item.worse.mean) * (1 if item.higher_better else -1)
    if difference is not None:
        base = replace(base, difference=difference.estimate, ci_low=difference.ci_low, ci_high=difference.ci_high,
                       p_adjusted=p_adjusted)
    else:
        base = replace(base, difference=raw_gap)
    if base.health != "pass":
        return replace(base, verdict="untestable at this scale",
                       reason="a run in the comparison failed the training-health gate: " + base.health[6:])
    if difference is None:
        return replace(base, verdict="inconclusive", reason=(
            f"gap {_figure(raw_gap)} with {item.better.seeds} and {item.worse.seeds} seeds: no spread on one side "
            f"(or none on both), so no test; {MIN_SEEDS} seeds a side are the minimum"),
            would_decide=f"at least {MIN_SEEDS} seeds a side (their spread then says how many the gap needs)")
    few = min(item.better.seeds, item.worse.seeds) < MIN_SEEDS
    if p_adjusted < ALPHA and not few:
        verdict = "supported" if difference.estimate > 0 else "contradicted"
        return replace(base, verdict=verdict, reason=(
            f"difference {interval_text(difference)}, Holm-adjusted p = {p_adjusted:.2g}"))
    needed = seeds_to_detect(difference.estimate, item.better, item.worse)
    reason = (f"difference {interval_text(difference)}, Holm-adjusted p = {p_adjusted:.2g}; the smallest difference "
              f"these runs detect at {POWER:.0%} power is {detectable_difference(difference):.3g}; the observed gap "
              + (f"would need about {needed} seeds a side" if needed
                 else "would need more than 10,000 seeds a side"))
    if few:
        fewest = min(item.better.seeds, item.worse.seeds)
        reason = f"{fewest} seeds on one side (at least {MIN_SEEDS} decide); " + reason
    would_decide = (f"about {needed} seeds a side, if the gap and spreads hold" if needed
                    else "no affordable number of seeds: the observed gap is within the noise")
    return replace(base, verdict="inconclusive", reason=reason, would_decide=would_decide)


def value_test(item: Value) -> Difference:
    """Our mean minus the paper's, with a 95% interval and a two-sided p-value: Welch against the paper's seeds;
    with one seed of ours, the paper's per-run spread stands for ours (is our run one more of the paper's?)."""
    ours, paper = item.ours, Arm("paper", item.paper_mean, item.paper_std, item.paper_seeds)
    if ours.seeds >= 2 and not math.isnan(ours.std):
        difference = welch(ours, paper)
        if difference is not None:
            return difference
    se = item.paper_std * math.sqrt(1 / max(ours.seeds, 1) + 1 / item.paper_seeds)
    df = item.paper_seeds - 1
    estimate = ours.mean - item.paper_mean
    half = stats.t.ppf(1 - ALPHA / 2, df) * se
    return Difference(estimate, estimate - half, estimate + half, float(2 * stats.t.sf(abs(estimate) / se, df)),
                      se, df)


def _value_claim(item: Value) -> Claim:
    base = Claim(item.claim, item.paper_says, item.metric, item.ours.text(), "", seeds_a=item.ours.seeds,
                 seeds_b=item.paper_seeds, health=health_text(item.ours), protocol=item.protocol, beside=item.beside,
                 counted=item.counted, kind="value", paper_value=item.paper_mean, notebook=item.notebook)
    if math.isnan(item.ours.mean):
        return replace(base, verdict="not run", reason="no committed value")
    difference = value_test(item)
    base = replace(base, difference=difference.estimate, ci_low=difference.ci_low, ci_high=difference.ci_high,
                   p_adjusted=difference.p)
    if base.health != "pass":
        return replace(base, verdict="untestable at this scale",
                       reason="the run failed the training-health gate: " + base.health[6:])
    test = ("Welch test against the paper's seeds" if item.ours.seeds >= 2
            else "one run of ours against the paper's prediction interval")
    if item.ours.seeds < MIN_SEEDS:  # EVIDENCE.md: fewer than 3 seeds a side never decide, a value claim included
        return replace(base, verdict="inconclusive", reason=(
            f"ours − paper {interval_text(difference)}, p = {difference.p:.2g} ({test}), but {item.ours.seeds} "
            f"seed(s) of ours: at least {MIN_SEEDS} decide"),
            would_decide=f"at least {MIN_SEEDS} seeds of ours at this protocol")
    if difference.p >= ALPHA:
        return replace(base, verdict="reproduced", reason=(
            f"ours − paper {interval_text(difference)}, p = {difference.p:.2g} ({test}): consistent"))
    return replace(base, verdict="not reproduced", reason=(
        f"ours − paper {interval_text(difference)}, p = {difference.p:.2g} ({test})"))


def judge(items: Sequence[Ordering | Value | Claim], awaiting: Collection[str] = ()) -> list[Claim]:
    """Verdicts for one paper's claims, in order. The orderings with a Welch p-value and healthy runs form two
    Holm families, the paper's counted claims and our extensions; values are tested alone (a multiple-testing
    correction would only make "consistent with the paper" easier); ready-made :class:`Claim` items pass through.

    A claim of a notebook in ``awaiting`` (results awaiting a rerun: :func:`repro.manifest.awaiting_rerun`) is
    marked ``awaiting_rerun`` and adjusted in a family of its own: the tally leaves it out, so it must not make the
    fresh claims' adjustment stricter either."""
    differences = {i: welch(item.better, item.worse, item.higher_better) for i, item in enumerate(items)
                   if isinstance(item, Ordering)}
    adjusted: dict[int, float] = {}
    for counted, stale in itertools.product((True, False), (False, True)):
        family = [i for i, d in differences.items() if d is not None and items[i].counted == counted
                  and (items[i].notebook in awaiting) == stale
                  and health_text(items[i].better, items[i].worse) == "pass"]
        adjusted.update(zip(family, holm([differences[i].p for i in family]), strict=True))
    judged = []
    for i, item in enumerate(items):
        if isinstance(item, Ordering):
            claim = _ordering_claim(item, differences[i], adjusted.get(i, math.nan))
        elif isinstance(item, Value):
            claim = _value_claim(item)
        else:
            claim = item
        judged.append(replace(claim, awaiting_rerun=True) if claim.notebook in awaiting else claim)
    return judged


def difference_columns(better: Arm, worse: Arm, higher_better: bool) -> dict[str, Any]:
    """A notebook's orderings-table columns for one pair (unadjusted: the summary adjusts within the paper)."""
    d = welch(better, worse, higher_better)
    gap = (better.mean - worse.mean) * (1 if higher_better else -1)
    return {"difference": gap, "ci_low": d.ci_low if d else math.nan, "ci_high": d.ci_high if d else math.nan,
            "p_unadjusted": d.p if d else math.nan, "seeds_better": better.seeds, "seeds_worse": worse.seeds}


def arm_from_row(name: str, row: Mapping[str, Any], metric: str, std_column: str | None = None,
                 seeds_column: str = "seeds", unhealthy: Iterable[str] = ()) -> Arm:
    """An :class:`Arm` from one row of a committed summary table (mean, std over seeds, number of seeds)."""
    std = number(row.get(std_column or f"{metric}_std_over_seeds"))
    seeds_cell = number(row.get(seeds_column))
    seeds = 0 if math.isnan(seeds_cell) else int(seeds_cell)
    return Arm(name, number(row[metric]), std if seeds > 1 else math.nan, seeds, tuple(unhealthy))


def summarise(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and std (ddof 1, over seeds) of ``metrics`` per combination of ``keys``, in first-seen order: columns
    ``<metric>`` and ``<metric>_std_over_seeds``, plus ``seeds``."""
    summary = []
    for key in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        group = [r for r in rows if tuple(r[k] for k in keys) == key]
        row: dict[str, Any] = {**dict(zip(keys, key, strict=True)), "seeds": len(group)}
        for metric in metrics:
            row[metric], row[f"{metric}_std_over_seeds"] = seed_stats([r[metric] for r in group])
        summary.append(row)
    return summary


# ----------------------------------------------------------------------------------------------------------
# Reading committed tables


def read_table(root: Path, notebook: str, table: str) -> list[dict[str, str]] | None:
    """The rows of ``root/notebook/table.csv``, or None when that notebook has not written it."""
    path = root / notebook / f"{table}.csv"
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(text: str | float | None) -> float:
    """A number or a CSV cell as a float; NaN for an empty or non-numeric cell."""
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def dataset_entry(cell: str, dataset: str) -> Any:
    """One dataset's entry of a protocol cell that a notebook wrote per dataset as a dict repr (notebook 11's
    schedule and widths, notebook 40's seeds, iterations and sample counts: "{'mnist': [0, 1], ...}"); a cell
    that is not such a dict is returned as it is."""
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        return cell
    return value[dataset] if isinstance(value, dict) and dataset in value else cell


def mean_std(mean: float, std: float, digits: int = 2) -> str:
    """"m ± s", or "m" when there is no spread."""
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def not_run(claim: str, paper_says: str, notebook: str, why: str = "", counted: bool = True) -> Claim:
    """The claim of a table that has no committed results yet."""
    return Claim(claim, paper_says, verdict="not run", counted=counted, notebook=notebook,
                 reason=why or f"no committed cpu results yet: ./run_all.sh {notebook[:2]}",
                 would_decide=f"./run_all.sh {notebook[:2]}")
