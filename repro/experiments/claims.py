"""How every paper's claims are judged: per-seed statistics, the one ordering rule, the verdict words, and reading
the committed tables the verdicts rest on.

Verdicts (one per claim; ``results/SUMMARY.md`` states them in its preamble):

* ``reproduced``: our number is within max(2 × our seed std, 25% of the paper's value) of the paper's;
* ``reproduced in ordering only``: the paper's comparison holds in our runs beyond the seed spread
  (:func:`compare`), while values are not comparable (another extractor, CPU scale) or not close;
* ``not reproduced``: the comparison does not hold, or holds only within the seed spread (the reason says which);
* ``not run here``: no committed results for that table yet (the reason says what is needed).
"""

from __future__ import annotations

import ast
import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

VERDICTS = ("reproduced", "reproduced in ordering only", "not reproduced", "not run here")
# the rules behind the verdicts, in words, for the summary's preamble
RULES = ("An ordering holds *beyond the seed spread* when the mean gap in the paper's direction exceeds "
         "sqrt(std_a² + std_b²) of the per-seed values (one seed a side: no spread, never beyond); a value is "
         "*reproduced* within max(2 × our seed std, 25% of the paper's value); a semi-supervised error *beats the "
         "labels alone* when its margin exceeds twice the combined test-sampling and seed noise.")


@dataclass(frozen=True)
class Claim:
    """One line of the summary: what the paper says, what we measured, under which protocol, and the verdict."""

    claim: str
    paper: str
    ours: str
    protocol: str
    verdict: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


# ----------------------------------------------------------------------------------------------------------
# Statistics over seeds


def seed_stats(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of per-seed values; the std is NaN below two seeds (one seed
    has no spread) and both are NaN for none."""
    array = np.asarray(list(values), dtype=float)
    mean = float(array.mean()) if array.size else float("nan")
    return mean, float(array.std(ddof=1)) if array.size > 1 else float("nan")


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


def compare(better: Mapping[str, Any], worse: Mapping[str, Any], metric: str, higher_better: bool) -> dict[str, Any]:
    """The one ordering rule, on two rows of :func:`summarise`: ``our_gap`` (> 0: the claimed direction),
    ``agrees`` (gap > 0) and ``beyond_seed_spread`` (gap > sqrt(std_better² + std_worse²), the seed spread of the
    difference of two single runs; None when either side has one seed, so no spread to judge by). Values may be
    numbers or the cells of a committed CSV (an empty cell counts as missing: no agreement)."""
    gap = number(better[metric]) - number(worse[metric])
    gap = gap if higher_better else -gap
    spread = math.hypot(number(better[f"{metric}_std_over_seeds"]), number(worse[f"{metric}_std_over_seeds"]))
    return {"our_gap": gap, "agrees": gap > 0, "beyond_seed_spread": bool(gap > spread) if math.isfinite(spread)
            else None}


def ordering_verdict(agrees: bool, beyond_seed_spread: bool | None, scale: str) -> tuple[str, str]:
    """The verdict and its reason for an ordering claim judged by :func:`compare`; ``scale`` says why only the
    ordering can be judged (e.g. "values use the project's classifier, at CPU scale")."""
    if agrees and beyond_seed_spread:
        return "reproduced in ordering only", scale
    if agrees and beyond_seed_spread is None:
        return "not reproduced", "same direction, one seed: no seed spread to judge the gap by"
    if agrees:
        return "not reproduced", "same direction, but within the seed spread"
    return "not reproduced", "the opposite ordering in our runs"


def value_verdict(ours: float, ours_std: float, paper: float) -> bool:
    """True when ``ours`` is within max(2 std, 25% of the paper's value) of ``paper``."""
    tolerance = max(2 * (0.0 if math.isnan(ours_std) else ours_std), 0.25 * abs(paper))
    return abs(ours - paper) <= tolerance


def margin_noise(ours: float, baseline: float, test_images: int, ours_std: float = math.nan,
                 baseline_std: float = math.nan) -> float:
    """The noise on ``baseline − ours``, two test errors in percent, in percentage points: twice the root of the
    binomial sampling variance of each error rate on ``test_images`` images plus each side's per-seed variance
    (the spread of one run, not of a mean over seeds, as the other claims here use it). The binomial terms are
    added as if independent, which overstates them a little: both errors are measured on the same images. A
    side with one seed borrows the other side's spread; with one seed on both, test sampling is all there is."""
    p, q = ours / 100, baseline / 100
    variance = 1e4 * (p * (1 - p) + q * (1 - q)) / test_images
    spreads = [s for s in (ours_std, baseline_std) if not math.isnan(s)]
    if spreads:
        variance += sum(s**2 for s in spreads) * 2 / len(spreads)
    return 2 * math.sqrt(variance)


def baseline_verdict(ours: float, ours_std: float, baseline: float, baseline_std: float, test_images: int,
                     scale: str) -> tuple[str, str]:
    """The verdict on "the unlabeled data beats the labels alone", for a GAN error that is not the paper's: the
    GAN's current D against the supervised-only baseline's (neither averaged), by more than
    :func:`margin_noise`."""
    noise = margin_noise(ours, baseline, test_images, ours_std, baseline_std)
    basis = ("test sampling alone: one seed a side, so the seed spread is unknown"
             if math.isnan(ours_std) and math.isnan(baseline_std) else "test sampling and the seed spread")
    gap = baseline - ours
    if gap > noise:
        return "reproduced in ordering only", (f"the unlabeled data beats the supervised-only baseline by "
                                               f"{gap:.2f} points, beyond the noise ({noise:.2f}; {basis}); {scale}")
    if gap > 0:
        return "not reproduced", (f"the margin over the supervised-only baseline ({gap:.2f} points) is within "
                                  f"the noise ({noise:.2f}; {basis}); {scale}")
    return "not reproduced", f"no gain over the supervised-only baseline ({gap:+.2f} points); {scale}"


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


def not_run(claim: str, paper: str, notebook: str, why: str = "") -> Claim:
    """The claim of a table that has no committed results yet."""
    return Claim(claim, paper, "—", "—", "not run here",
                 why or f"no committed cpu results yet: ./run_all.sh {notebook[:2]}")


def ordering_claim(claim: str, paper: str, gap: float, agrees: bool, beyond_seed_spread: bool | None,
                   protocol: str, scale: str) -> Claim:
    """A :class:`Claim` for an ordering judged by :func:`compare`."""
    verdict, reason = ordering_verdict(agrees, beyond_seed_spread, scale)
    return Claim(claim, paper, f"{gap:+.3g} (> 0: the paper's direction)", protocol, verdict, reason)
