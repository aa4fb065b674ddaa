"""The training-health gate: does a run's generator (or classifier) work at all, before any claim compares it?

A comparison between two generators that never left collapse (one repeated image, one mode of a thousand,
classifier IS near 1) measures the score classifier's response to garbage, not the methods (EVIDENCE.md, "Runs
that trained"). Every run that enters a claim passes its dataset's gate first, or the claim is "untestable at
this scale". The gates are declared per dataset and per kind of score, never per method, and were fixed before
the orderings were judged by them. Each reads one column every run of that kind already records:

* **images** (CIFAR-10, MNIST samples): classifier Inception Score ≥ 2, i.e. the samples carry at least one bit
  of information about their class under the dataset's score classifier. One repeated image scores exactly 1;
  real data scores 4.7-5.9 under the project classifiers (notebook 01).
* **Stacked-MNIST**: ≥ 10 of the 1,000 digit triples covered **by samples the classifier reads with confidence**
  (each channel's digit at probability ≥ 0.7, at least 10 such samples per triple: ``modes_confident``). A
  generator that draws a handful of triples never left collapse; one that draws colour blobs gets *some* digit
  read in every channel, so it "covers" hundreds of triples by argmax alone (the Dist-GAN pilot at 3,000
  iterations: 679 modes from near-identical blobs, benchmarks/pilots). The real data covers nearly all 1,000
  confidently (notebook 01); the papers' weakest baselines tens to hundreds. Changed 2026-12-04 from the argmax
  mode count, after that pilot.
* **semi-supervised test error**: ≤ 45%, half the error of guessing among 10 classes: a classifier above that
  has not learned from its labels and unlabeled data (a run stuck near chance, not the method's error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .claims import Arm, number


@dataclass(frozen=True)
class Gate:
    """One dataset's gate: ``column`` of a run's scores must be ≥ (``healthy_above``) or ≤ ``threshold``."""

    kind: str
    column: str
    threshold: float
    healthy_above: bool
    label: str

    def failure(self, value: Any) -> str | None:
        """None when ``value`` passes; else why it fails (a value that was not recorded fails: unknown health)."""
        x = number(value)
        if math.isnan(x):
            return f"no {self.label} recorded"
        if (x >= self.threshold) if self.healthy_above else (x <= self.threshold):
            return None
        return f"{self.label} {x:.3g} {'<' if self.healthy_above else '>'} {self.threshold:g}"

    def value(self, row: Mapping[str, Any]) -> float:
        """The gate's quantity in a run's row (NaN when the row lacks it); a semi-supervised row holds the
        averaged D's error in percent as ``error_average_percent``."""
        if self.column in row:
            return number(row[self.column])
        if self.column == "error_percent" and "error_average_percent" in row:
            return number(row["error_average_percent"])  # the averaged D's error: the one a table reports
        if f"{self.column}_predicted" in row:  # notebook 01's real-data row names it so
            return number(row[f"{self.column}_predicted"])
        return math.nan

    def passes(self, value: Any) -> bool:
        return self.failure(value) is None

    def describe(self) -> str:
        return f"{self.label} {'≥' if self.healthy_above else '≤'} {self.threshold:g}"


GATES = {
    "cifar10": Gate("images", "is_mean", 2.0, True, "classifier IS"),
    "mnist": Gate("images", "is_mean", 2.0, True, "classifier IS"),
    "stacked_mnist": Gate("Stacked-MNIST", "modes_confident", 10, True, "modes read with confidence"),
    "semi-supervised": Gate("semi-supervised", "error_percent", 45.0, False, "test error %"),
}


def gate(dataset: str) -> Gate:
    """The gate of ``dataset`` (``"semi-supervised"`` for the K+1 classifiers' test errors)."""
    try:
        return GATES[dataset]
    except KeyError:
        raise KeyError(f"no training-health gate for {dataset!r}; declared: {', '.join(GATES)}") from None


def unhealthy_runs(rows: Iterable[Mapping[str, Any]], dataset: str, column: str | None = None,
                   seed_column: str = "run_seed") -> tuple[str, ...]:
    """One line per run of ``rows`` that fails the gate of ``dataset`` ("seed 1: classifier IS 1.2 < 2");
    ``column`` overrides the gate's column where a table names it differently (the same quantity)."""
    chosen = gate(dataset)
    failures = []
    for row in rows:
        why = chosen.failure(row.get(column or chosen.column))
        if why is not None:
            failures.append(f"seed {row.get(seed_column, '?')}: {why}")
    return tuple(failures)


def health_columns(dataset: str, value: Any) -> dict[str, Any]:
    """The columns a runs table records per run: the gate's value and whether it passed."""
    chosen = gate(dataset)
    return {"health_gate": chosen.describe(), "health_value": number(value), "healthy": chosen.passes(value)}


def runs_arm(name: str, rows: Iterable[Mapping[str, Any]], metric: str, dataset: str,
             gate_column: str | None = None, seed_column: str = "run_seed") -> Arm:
    """An :class:`~repro.experiments.claims.Arm` from one model's per-run rows: ``metric`` per seed, and the
    runs that fail the gate of ``dataset``."""
    rows = list(rows)
    return Arm.of(name, [number(r[metric]) for r in rows],
                  unhealthy_runs(rows, dataset, gate_column, seed_column))
