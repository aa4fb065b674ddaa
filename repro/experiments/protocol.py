"""The one experiment protocol every paper's runs follow, and the plan a notebook trains.

An :class:`Experiment` says, for one kind of run configuration, how to name its run folder, which training images
it uses, how to build the method and its batches, which loop trains it and how its generator is scored. The
runner (:mod:`repro.experiments.runner`) does the rest the same way for every paper: device, seeds, resume,
scoring along training and at the end, kept rows, training seconds, parallel workers.

A :class:`Plan` is what a notebook trains at one profile: its runs in named groups, the evaluation protocol, the
workers, and the protocol columns of its tables. Each paper module builds its notebooks' plans
(``<paper>.plans(profile)``); notebooks display the plan and hand it to the runner, and
``benchmarks/paper_cost.py`` costs the same plans.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import torch

from ..data import DeviceBatches, ImageDataset
from ..methods.base import GANMethod
from ..paths import runs_dir
from ..profiles import check_profile
from ..train import TrainConfig

C = TypeVar("C")

# Seeds of the samples a run is scored on, offset from the run's seed so that they never coincide with the
# latents of training: the final score, and the scores logged along training (the same latents at every step).
FINAL_SCORE_SEED_OFFSET = 10_000
CURVE_SCORE_SEED_OFFSET = 20_000


def config_digest(config: Any) -> str:
    """8 hex digits that change whenever any field of the (dataclass) configuration does."""
    return hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Evaluation:
    """How a run is scored: ``n_samples`` generated samples at the end (kept in the run folder), and every
    ``eval_every`` iterations ``eval_samples`` samples along training (0: only at the end). ``classifier_profile``
    picks the project's pinned score classifier; ``n_real`` the real images of the reference statistics, where
    the experiment uses a reference (None: the experiment's default)."""

    n_samples: int
    eval_every: int = 0
    eval_samples: int = 0
    classifier_profile: str = "cpu"
    n_real: int | None = None

    def score_key(self, extractor_name: str) -> str:
        """The name of a run's kept final row under this evaluation (``scores-<key>`` in the run folder): the
        extractor and every count that changes the scores."""
        return f"{extractor_name}-{self.n_samples}" + ("" if self.n_real is None else f"-{self.n_real}")


class Scorer(Protocol):
    """The scores of one run: ``key`` names the kept final row (``scores-<key>`` in the run folder; it changes
    with whatever changes the scores: extractor, sample counts); ``along_training`` is logged to eval.csv;
    ``final`` makes the run's row, and may keep per-sample artefacts (a mode histogram) in the run ``folder``.
    ``health_gate`` names the training-health gate the final row is checked by (:data:`.health.GATES`; the runner
    records it in the row); a scorer without one records none."""

    key: str
    health_gate: str | None

    def along_training(self, step: int, generator: torch.nn.Module, seed: int) -> dict[str, float]: ...

    def final(self, method: GANMethod, seed: int, folder: Path) -> dict[str, Any]: ...


class Experiment(Protocol[C]):
    """One kind of run: a configuration dataclass ``C`` with at least a ``seed`` field."""

    def run_name(self, config: C) -> str:
        """The run folder's name; it changes whenever the configuration does (resume keys on it)."""

    def columns(self, config: C) -> dict[str, Any]:
        """The columns that say which run a row is (model, dataset, seed ...), first in its row."""

    def image_shape(self, config: C) -> tuple[int, int, int]:
        """(C, H, W) of the training images, so that a cost model can build the method on random pixels."""

    def train_set(self, config: C, data_dir: str | os.PathLike | None) -> ImageDataset:
        """The training images (and labels) the method and its batches share."""

    def build(self, config: C, train_set: ImageDataset) -> GANMethod:
        """The method, initialised; the runner has seeded torch with ``config.seed`` before the call."""

    def batches(self, config: C, train_set: ImageDataset, device: torch.device | str) -> DeviceBatches:
        """The stream of real batches on ``device``; its seed is the loop's to set (``train`` reseeds it from the
        run's seed on a fresh run and restores it on a resume)."""

    def loop(self, config: C) -> TrainConfig:
        """The training loop's settings; the runner sets ``eval_every`` and ``progress``."""

    def scorer(self, config: C, method: GANMethod, data_dir: str | os.PathLike | None,
               evaluation: Evaluation) -> Scorer:
        """How ``method`` is scored under ``evaluation`` (built after the method: some scores read D)."""

    def prepare(self, configs: Sequence[C], data_dir: str | os.PathLike | None, evaluation: Evaluation) -> None:
        """Fill, once, the caches the runs of ``configs`` share (a score classifier to train, real-data reference
        outputs), before the runner spreads the runs over worker processes: otherwise each worker would train the
        same classifier side by side."""


def fake_train_set(shape: tuple[int, int, int], n: int = 10_000) -> ImageDataset:
    """Random pixels with balanced labels, for building a method without its data (a cost model: the cost of an
    iteration does not depend on the pixel values)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    return ImageDataset("random", "train", images, np.arange(n) % 10, tuple(str(i) for i in range(10)), "random")


@dataclass(frozen=True, repr=False)
class Plan(Generic[C]):
    """What one notebook trains at one profile.

    ``runs`` holds the run configurations in named groups, in training order (e.g. ``{"main": ..., "ablation":
    ...}``); ``settings`` the values the notebook's cells loop over or print (sizes, seeds, sample counts);
    ``protocol`` the experiment-specific protocol columns of its tables (see :func:`repro.results.run_protocol`).
    ``runs_of`` names another notebook whose runs folder this plan trains in, when its runs are a subset of that
    notebook's (they are then reused, never trained twice, and a cost model counts them once).
    """

    notebook: str
    profile: str
    experiment: Experiment[C]
    runs: Mapping[str, tuple[C, ...]]
    evaluation: Evaluation
    workers: int = 1
    protocol: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    runs_of: str | None = None

    def __post_init__(self) -> None:
        check_profile(self.profile)

    @property
    def configs(self) -> list[C]:
        """Every run of the plan, groups in order."""
        return [config for group in self.runs.values() for config in group]

    def digest(self) -> str:
        """SHA-256 of everything in the plan that decides its results (runs, evaluation, protocol, settings; not
        the workers): the manifest keeps it beside a notebook's code hash, so a changed plan makes the committed
        results stale even though the notebook's own cells did not change."""
        what = {"notebook": self.notebook, "profile": self.profile, "runs_of": self.runs_of,
                "runs": {group: [asdict(c) for c in members] for group, members in self.runs.items()},
                "evaluation": asdict(self.evaluation), "protocol": dict(self.protocol),
                "settings": dict(self.settings)}
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()

    def table_protocol(self) -> dict[str, Any]:
        """The protocol columns of this plan's tables: ``protocol`` (which holds the seeds as ``seed``) plus the
        profile, commit, versions and time of :func:`repro.results.run_protocol`."""
        from ..results import run_protocol

        return run_protocol(self.profile, **self.protocol)

    @property
    def runs_root(self) -> Path:
        """Where this plan's runs live: ``runs/<notebook>/<profile>/`` of its own notebook or of ``runs_of``
        (``$REPRO_RUNS_DIR`` moves it)."""
        return runs_dir(self.profile, self.runs_of or self.notebook)

    def table(self) -> list[dict[str, Any]]:
        """One row per run: its group and every configuration field that varies within the plan."""
        configs = self.configs
        if not configs:
            return []
        names = [f.name for f in fields(configs[0])] if is_dataclass(configs[0]) else []
        varying = [n for n in names if len({json.dumps(getattr(c, n), default=str) for c in configs}) > 1]
        return [{"group": group, **{n: getattr(c, n) for n in varying}}
                for group, members in self.runs.items() for c in members]

    def __repr__(self) -> str:
        groups = ", ".join(f"{group}: {len(members)}" for group, members in self.runs.items())
        return f"Plan({self.notebook!r}, {self.profile!r}, {len(self.configs)} runs ({groups}), {self.evaluation})"

    def _repr_markdown_(self) -> str:
        from ..results import markdown_table

        fixed = {**self.settings, "evaluation": asdict(self.evaluation), "workers": self.workers}
        lines = [f"**Plan of `{self.notebook}` at the `{self.profile}` profile**: {len(self.configs)} runs, "
                 f"runs folder `{self.runs_root}`", ""]
        lines += [f"- {name}: {value}" for name, value in fixed.items()]
        rows = self.table()
        return "\n".join(lines) + ("\n\n" + markdown_table(rows) if rows else "\n")
