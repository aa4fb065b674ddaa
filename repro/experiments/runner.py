"""One way to run any experiment: train (or resume) a run in its folder, score it, keep its row; train a plan's runs
side by side; read the curves they logged; reload a trained method.

Everything every paper's runs share lives here once: the device (:func:`repro.distributed.pick_device`), seeding
torch before the method is built, the seeds of the scored samples, the kept final row (a finished run only
re-reads it), the run's training seconds and the parallel workers.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..data import ImageDataset
from ..distributed import pick_device
from ..files import write_json_atomic
from ..methods.base import GANMethod
from ..parallel import map_in_processes
from ..run_folder import trained_method_state
from ..train import train
from . import health
from .protocol import CURVE_SCORE_SEED_OFFSET, FINAL_SCORE_SEED_OFFSET, Evaluation, Experiment, Plan, Scorer


def run_dir(experiment: Experiment, config: Any, root: str | os.PathLike) -> Path:
    """The folder of ``config``'s run under ``root``."""
    return Path(root) / experiment.run_name(config)


def build(experiment: Experiment, config: Any, data_dir: str | os.PathLike | None = None, *,
          train_set: ImageDataset | None = None) -> GANMethod:
    """The method of ``config``, freshly initialised: torch seeded with ``config.seed``, then built on its training
    images (loaded from ``data_dir`` unless ``train_set`` is given), so the same configuration always starts from
    the same weights."""
    train_set = experiment.train_set(config, data_dir) if train_set is None else train_set
    torch.manual_seed(config.seed)
    return experiment.build(config, train_set)


def run(experiment: Experiment, config: Any, root: str | os.PathLike, data_dir: str | os.PathLike | None,
        evaluation: Evaluation, progress: bool = False) -> dict[str, Any]:
    """Train (or resume) ``config``'s run under ``root`` on the picked device and return its row: the run's
    columns, the final scores of ``evaluation.n_samples`` samples, the iterations trained and the run's
    training seconds. The row is kept in the run folder; a finished run returns it without scoring again."""
    folder = run_dir(experiment, config, root)
    train_set = experiment.train_set(config, data_dir)
    method = build(experiment, config, train_set=train_set)
    scorer = experiment.scorer(config, method, data_dir, evaluation)

    def along_training(step: int, generator: torch.nn.Module) -> dict[str, float]:
        return scorer.along_training(step, generator, config.seed + CURVE_SCORE_SEED_OFFSET)

    loop = dataclasses.replace(experiment.loop(config), eval_every=evaluation.eval_every, progress=progress)
    batches = experiment.batches(config, train_set, pick_device())
    result = train(method, batches, loop, folder, evaluate=along_training if evaluation.eval_every else None,
                   value_range=method.generator.output_range)
    kept_dir = folder / f"scores-{scorer.key}"
    if (kept := kept_row(kept_dir)) is not None and kept.get("steps_trained") == result.step:
        return kept
    scores = scorer.final(method, config.seed + FINAL_SCORE_SEED_OFFSET, folder)
    seconds = None if result.train_seconds is None else round(result.train_seconds, 1)
    row = {**experiment.columns(config), **scores, "steps_trained": result.step, "wall_seconds": seconds}
    if (gate_name := getattr(scorer, "health_gate", None)) is not None:  # the gate's value, recorded per run
        row.update(health.health_columns(gate_name, health.gate(gate_name).value(scores)))
    return keep_row(kept_dir, row)


def run_all(experiment: Experiment, configs: Sequence[Any], root: str | os.PathLike,
            data_dir: str | os.PathLike | None, evaluation: Evaluation, workers: int = 1) -> list[dict[str, Any]]:
    """:func:`run` for every configuration, ``workers`` at a time (one process each), rows in order. The
    experiment first fills its shared caches here (:meth:`~repro.experiments.protocol.Experiment.prepare`)."""
    if configs:
        experiment.prepare(configs, data_dir, evaluation)
    arguments = [(experiment, config, root, data_dir, evaluation) for config in configs]
    return map_in_processes(run, arguments, workers, 1)


def run_plan(plan: Plan, data_dir: str | os.PathLike | None = None, workers: int | None = None) -> list[dict[str, Any]]:
    """Every run of ``plan`` (groups in order) in the plan's runs folder; ``workers`` overrides the plan's."""
    return run_all(plan.experiment, plan.configs, plan.runs_root, data_dir, plan.evaluation,
                   workers or plan.workers)


def read_log(folder: str | os.PathLike, log: str = "eval.csv", **tags: Any) -> list[dict[str, Any]]:
    """The rows of a run's CSV log (``eval.csv``: scores along training; ``log.csv``: the losses) as numbers
    (empty cells dropped), each tagged with ``tags``; [] when the run has not written it yet."""
    path = Path(folder) / log
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{**tags, **{k: float(v) for k, v in row.items() if v != ""}} for row in csv.DictReader(f)]


def curves(experiment: Experiment, configs: Sequence[Any], root: str | os.PathLike,
           log: str = "eval.csv") -> list[dict[str, Any]]:
    """Every run's logged rows (``log``), each tagged with the run's columns."""
    return [row for config in configs
            for row in read_log(run_dir(experiment, config, root), log, **experiment.columns(config))]


def trained(experiment: Experiment, config: Any, root: str | os.PathLike,
            data_dir: str | os.PathLike | None = None) -> GANMethod:
    """The trained method of a finished (or interrupted) run; a FileNotFoundError saying how to train it when
    the run has no checkpoint (checked before the data is loaded)."""
    state = trained_method_state(run_dir(experiment, config, root))
    method = build(experiment, config, data_dir)
    method.load_state_dict(state)
    return method


def rescore(experiment: Experiment, config: Any, root: str | os.PathLike, scorer: Scorer,
            data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """A trained run's final row under another ``scorer`` (e.g. Inception when its weights are supplied): the
    trained generator's samples at the run's final-score seed, kept as ``scores-<scorer.key>`` beside the run's
    own row, so a rerun reads it back; when ``scorer.key`` is the run's own, the row the run kept."""
    kept_dir = run_dir(experiment, config, root) / f"scores-{scorer.key}"
    if (kept := kept_row(kept_dir)) is not None:
        return kept
    method = trained(experiment, config, root, data_dir)
    scores = scorer.final(method, config.seed + FINAL_SCORE_SEED_OFFSET, kept_dir.parent)
    return keep_row(kept_dir, {**experiment.columns(config), **scores})


def kept_row(folder: str | os.PathLike | None) -> dict[str, Any] | None:
    """The row kept in ``folder/result.json`` by :func:`keep_row`, or None."""
    if folder is None or not (Path(folder) / "result.json").exists():
        return None
    return json.loads((Path(folder) / "result.json").read_text())


def keep_row(folder: str | os.PathLike | None, row: dict[str, Any]) -> dict[str, Any]:
    """Write ``row`` to ``folder/result.json`` (atomically) and return it; rows of runs without a loop of their
    own (a labels-only baseline, a rescoring) are kept the same way."""
    if folder is not None:
        write_json_atomic(Path(folder) / "result.json", row)
    return row
