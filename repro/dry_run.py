"""The dry run of a profile: every distinct configuration the notebooks would train, built at full size, trained
a few iterations, checkpointed, continued from its checkpoint and scored on a few samples, through the runner's
own code path; and what the full runs would take on this device.

    ./run_all.sh --profile paper --dry-run                 # every notebook
    ./run_all.sh --profile paper --dry-run 30 40           # a subset, as run_all.sh selects notebooks
    python -m repro.dry_run --profile paper --compile both --fake-data --json dry.json

Why: the paper profile is what a researcher with a GPU runs, and nothing else executes its networks at full width,
full batch and full sample count before the hours are spent. For each distinct configuration of every plan
(:func:`repro.experiments.notebook_plans`; a configuration's seeds share one entry) the dry run

1. builds the method as :func:`repro.experiments.runner.build` does, on the real training images when the data
   folder has them (else, with ``--fake-data``, on random pixels of the same shape);
2. trains it with :func:`repro.train.train` into a scratch run folder: a first block of ``iterations`` warms up
   (compilation, kernel selection), a second is timed from the run's own ``log.csv``; then a SIGTERM stops the
   run as a job scheduler would (the loop checkpoints);
3. resumes the run from that checkpoint with a freshly built method for a third block;
4. scores the trained generator with the experiment's own scorer under the plan's evaluation scaled down to
   ``samples`` samples (skipped on random pixels: the scores need the real reference data), and, for RGB images,
   passes the samples through the Inception extractor (the user's weights file when there is one, else random
   weights of the real architecture: the path, shapes and memory are what is checked, not the score).

It reports parameters, seconds per iteration (eager, and compiled with ``--compile``), peak memory (CUDA's
allocator on a GPU; the process's resident memory on a CPU) and the hours the plan's full runs of that
configuration would take on this device one at a time. Everything is written under a scratch folder (default
``runs/dry_run/<profile>/``), never into ``results/``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
import torch

from .distributed import pick_device
from .errors import ConfigError, DataError
from .experiments import notebook_plans, runner
from .experiments.protocol import FINAL_SCORE_SEED_OFFSET, Plan, fake_train_set
from .files import write_json_atomic
from .paths import DATA_DIR_ENV, runs_root
from .profiles import check_profile
from .train import TrainingInterrupted, train

COMPILE_CHOICES = ("off", "on", "both")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One distinct configuration of a notebook's plan, and how many runs (seeds) of it the plan trains."""

    notebook: str
    plan: Plan
    config: Any
    runs: int

    @property
    def name(self) -> str:
        """The run folder's name without its seed: what the seeds of this configuration share."""
        return self.plan.experiment.run_name(dataclasses.replace(self.config, seed=0))


def entries(profile: str, notebooks: Sequence[str] | None = None) -> list[Entry]:
    """The distinct configurations of the chosen notebooks' plans (all notebooks with a plan by default); plans
    that train in another notebook's runs folder (``runs_of``) add nothing, as in the cost model."""
    plans = notebook_plans(profile)
    chosen: list[Entry] = []
    for notebook in select_plans(notebooks, list(plans)):
        for plan in plans[notebook]:
            if plan.runs_of is not None:
                continue
            seen: dict[str, list[Any]] = {}
            for config in plan.configs:
                seen.setdefault(repr(dataclasses.replace(config, seed=0)), []).append(config)
            chosen += [Entry(notebook, plan, configs[0], len(configs)) for configs in seen.values()]
    return chosen


def select_plans(selectors: Sequence[str] | None, names: list[str]) -> list[str]:
    """The notebooks with plans that the selectors name, as ``run_all.sh`` selects notebooks
    (:func:`repro.notebook_runner.select_notebooks`: number, full name or topic); none selects all."""
    from .notebook_runner import select_notebooks

    try:
        return [path.stem for path in select_notebooks(list(selectors or ()), [Path(name) for name in names])]
    except ConfigError as err:
        raise ConfigError(str(err).replace("the notebooks are", "those with plans are")) from err


class PeakMemory:
    """Peak memory while the block runs: CUDA's allocator peak on a GPU; on a CPU the process's resident set,
    sampled every 20 ms (the allocator there keeps no peak of its own)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, process.memory_info().rss)
            self._stop.wait(0.02)

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self.peak_bytes = max(self.peak_bytes, psutil.Process().memory_info().rss)

    @property
    def mib(self) -> float:
        return self.peak_bytes / 2**20


def logged_seconds(folder: Path) -> dict[int, float]:
    """The run's ``log.csv`` as {iteration: seconds since the call's clock started}."""
    with open(folder / "log.csv", newline="") as f:
        return {int(row["step"]): float(row["seconds"]) for row in csv.DictReader(f)}


def _scaled_evaluation(plan: Plan, samples: int):
    """The plan's evaluation with at most ``samples`` generated (and real reference) images, scored at the end
    only."""
    evaluation = plan.evaluation
    return dataclasses.replace(
        evaluation, n_samples=min(evaluation.n_samples, samples), eval_every=0, eval_samples=0,
        n_real=None if evaluation.n_real is None else min(evaluation.n_real, max(samples, 100)),
    )


def _inception_pass(generator: torch.nn.Module, samples: int, scratch: Path, device: torch.device) -> dict[str, Any]:
    """The generator's samples through the Inception extractor: the user's weights when there are some, else a
    random-weights file of the real architecture written to ``scratch``."""
    from .metrics.evaluate import sample_generator
    from .metrics.inception import (
        InceptionWeightsError,
        find_inception_weights,
        load_inception,
        random_inception_state_dict,
    )
    from .metrics.inception_score import inception_score

    try:
        path, real_weights = find_inception_weights(), True
    except InceptionWeightsError:
        path, real_weights = scratch / "inception-random-weights.pt", False
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(random_inception_state_dict(), path)
    began = time.perf_counter()
    extractor = load_inception(path, device=device, verify_hash=real_weights)
    classes = (torch.arange(samples) % generator.num_classes if getattr(generator, "conditional", False)
               else None)  # a class-conditional G draws every class in turn
    images = sample_generator(generator, samples, seed=FINAL_SCORE_SEED_OFFSET, class_labels=classes)
    logits, features = extractor(images)
    score = inception_score(logits, from_logits=True, splits=1)[0]
    return {"inception": "weights file" if real_weights else "random weights",
            "inception_seconds": round(time.perf_counter() - began, 2),
            "inception_features": tuple(features.shape), "inception_score": round(float(score), 3)}


def dry_run_entry(entry: Entry, scratch: Path, data_dir: str | os.PathLike | None, *, iterations: int,
                  samples: int, compiled: bool, fake_data: bool, device: torch.device) -> dict[str, Any]:
    """Build, train, time, continue and score one configuration; a row of what was measured. Raises on any
    failure: a dry run exists to find them."""
    experiment, config = entry.plan.experiment, entry.config
    folder = scratch / entry.notebook / (entry.name + ("-compiled" if compiled else ""))
    if folder.exists():  # a dry run starts from scratch every time
        shutil.rmtree(folder)
    real_data = not fake_data
    try:
        train_set = (experiment.train_set(config, data_dir) if real_data
                     else fake_train_set(experiment.image_shape(config)))
    except DataError as err:
        raise DataError(f"{err} (or dry-run on random pixels of the same shape: --fake-data; scoring is then "
                        "skipped)") from err
    method = runner.build(experiment, config, train_set=train_set)
    full = experiment.loop(config)
    loop = dataclasses.replace(full, steps=3 * iterations, log_every=iterations, checkpoint_every=3 * iterations,
                               eval_every=2 * iterations, sample_every=0, progress=False, compile=compiled,
                               decay_start=0, ema_start=min(full.ema_start, iterations))

    def interrupt(step: int, generator: torch.nn.Module) -> dict[str, Any]:
        """SIGTERM after the timed block, as a job scheduler would send it: the loop checkpoints and stops."""
        signal.raise_signal(signal.SIGTERM)
        return {}

    with PeakMemory(device) as memory:
        try:
            train(method, experiment.batches(config, train_set, device), loop, folder, evaluate=interrupt,
                  value_range=method.generator.output_range)
            raise RuntimeError(f"the run in {folder} was not interrupted at iteration {2 * iterations}")
        except TrainingInterrupted:
            pass
    seconds = logged_seconds(folder)
    per_iteration = (seconds[2 * iterations] - seconds[iterations]) / iterations

    # resume from the checkpoint with a freshly built method, as an interrupted run does
    again = runner.build(experiment, config, train_set=train_set)
    resumed = train(again, experiment.batches(config, train_set, device), loop, folder,
                    value_range=again.generator.output_range)
    if (resumed.started_at, resumed.step) != (2 * iterations, 3 * iterations):
        raise RuntimeError(f"resuming {folder} went from {resumed.started_at} to {resumed.step}")

    row: dict[str, Any] = {
        "notebook": entry.notebook, "configuration": entry.name, "runs": entry.runs,
        "device": str(device), "compiled": compiled, "data": "real" if real_data else "random pixels",
        "params_g_m": round(sum(p.numel() for p in again.generator.parameters()) / 1e6, 3),
        "params_d_m": round(sum(p.numel() for p in again.discriminator.parameters()) / 1e6, 3),
        "batch_size": full.batch_size, "n_dis": full.n_dis, "iterations": config.iterations,
        "warmup_seconds": round(seconds[iterations], 2), "seconds_per_iteration": round(per_iteration, 4),
        "peak_memory_mib": round(memory.mib, 1),
        "checkpoint_mib": round((folder / "checkpoint.pt").stat().st_size / 2**20, 2),
        "full_run_hours": round(per_iteration * config.iterations / 3600, 3),
        "notebook_hours": round(per_iteration * config.iterations * entry.runs / 3600, 3),
    }
    if real_data:
        evaluation = _scaled_evaluation(entry.plan, samples)
        experiment.prepare([config], data_dir, evaluation)
        scorer = experiment.scorer(config, again, data_dir, evaluation)
        began = time.perf_counter()
        scores = scorer.final(again, config.seed + FINAL_SCORE_SEED_OFFSET, folder)
        row["score_seconds"] = round(time.perf_counter() - began, 2)
        row["scores"] = sorted(k for k, v in scores.items() if isinstance(v, (int, float)))
    if experiment.image_shape(config)[0] == 3:
        row.update(_inception_pass(again.generator, min(samples, 100), scratch, device))
    return row


def dry_run(profile: str, notebooks: Sequence[str] | None = None, *, scratch: Path | None = None,
            data_dir: str | os.PathLike | None = None, iterations: int = 3, samples: int = 200,
            compile_mode: str = "off", fake_data: bool = False, device: str = "auto",
            limit_per_notebook: int | None = None, match: str | None = None, json_path: Path | None = None,
            out=sys.stdout) -> list[dict[str, Any]]:
    """Dry-run the chosen notebooks' configurations (those whose name contains ``match``, when given;
    ``limit_per_notebook`` of each, when given) and return one
    row per configuration and compile mode; a failing configuration gives a row with its error, the rest still
    run. ``json_path`` gets the rows so far after each one (a dry run stopped by a time limit keeps them)."""
    check_profile(profile)
    if iterations < 1 or samples < 1:
        raise ConfigError(f"iterations and samples must be at least 1, got {iterations} and {samples}")
    if compile_mode not in COMPILE_CHOICES:
        raise ConfigError(f"compile must be one of {', '.join(COMPILE_CHOICES)}, got {compile_mode!r}")
    scratch = Path(scratch) if scratch else runs_root() / "dry_run" / profile
    chosen = entries(profile, notebooks)
    if match is not None:
        chosen = [e for e in chosen if match in e.name]
        if not chosen:
            raise ConfigError(f"no {profile} configuration of {', '.join(notebooks or ['any notebook'])} has "
                              f"{match!r} in its name")
    if limit_per_notebook is not None:
        per: dict[str, int] = {}
        chosen = [e for e in chosen if (per.__setitem__(e.notebook, per.get(e.notebook, 0) + 1)
                                        or per[e.notebook] <= limit_per_notebook)]
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[compile_mode]
    torch_device = pick_device(device)
    rows = []
    for number, entry in enumerate(chosen, 1):
        for compiled in modes:
            label = f"[dry-run {number}/{len(chosen)}] {entry.notebook} {entry.name}{' compiled' * compiled}"
            began = time.perf_counter()
            try:
                row = dry_run_entry(entry, scratch, data_dir, iterations=iterations, samples=samples,
                                    compiled=compiled, fake_data=fake_data, device=torch_device)
                row["status"] = "ok"
            except Exception as err:  # noqa: BLE001 -- report every failing configuration, not only the first
                row = {"notebook": entry.notebook, "configuration": entry.name, "compiled": compiled,
                       "status": "failed", "error": f"{type(err).__name__}: {err}".splitlines()[0],
                       "traceback": traceback.format_exc()}
            row["wall_seconds"] = round(time.perf_counter() - began, 1)
            print(f"{label}: {_one_line(row)}", file=out, flush=True)
            rows.append(row)
            if json_path is not None:
                write_json_atomic(json_path, rows)
    return rows


# the committed dry run of the paper profile on a GPU (issue "The paper profile"): rates per configuration
MEASURED_ON_GPU = Path(__file__).resolve().parent.parent / "benchmarks" / "dry_run" / "h200-2026-12-04"
GPU_NAME = "one H200"


def measured_rows(folder: Path = MEASURED_ON_GPU) -> list[dict[str, Any]]:
    """The dry-run rows committed in ``folder`` (every ``*.json`` that :func:`dry_run` wrote); [] without any."""
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        rows += json.loads(path.read_text())
    return rows


@dataclasses.dataclass(frozen=True)
class GpuBudget:
    """What a notebook's ``paper`` plan costs on the measured GPU, one run at a time: the hours of the
    configurations whose rate was measured (each at its faster mode, eager or compiled), and how many of the
    plan's distinct configurations that covers (a plan that changed since the measurement has untimed ones)."""

    notebook: str
    hours: float
    timed: int
    configurations: int
    by_stem: int = 0  # of ``timed``: configurations priced at an earlier configuration of the same model and net

    def text(self) -> str:
        """"the paper profile, ./run_all.sh --profile paper 12: about 171 GPU-hours on one H200 (...)"."""
        measured = (f"measured rates of all {self.configurations} configurations" if self.timed == self.configurations
                    else f"at least: {self.timed} of its {self.configurations} configurations timed so far")
        if self.by_stem:
            measured += f"; {self.by_stem} at the rate of the same model and network under an earlier plan"
        return (f"the paper profile, ./run_all.sh --profile paper {self.notebook[:2]}: about {self.hours:.0f} "
                f"GPU-hours on {GPU_NAME}, runs one at a time ({measured})")


def _stem(configuration: str) -> str:
    """A configuration's name without its digest ("stacked-MSGAN-K4-seed0"): the model and network it trains."""
    return configuration.rsplit("-", 1)[0]


def gpu_budget(notebook: str, rows: Sequence[dict[str, Any]] | None = None) -> GpuBudget | None:
    """The GPU-hours of ``notebook``'s current ``paper`` plan at the rates of the committed dry run (``rows``:
    :func:`measured_rows`): per distinct configuration, the measured seconds per iteration times its iterations and
    runs. None when the notebook has no paper plan or no configuration of it was measured."""
    rows = measured_rows() if rows is None else rows
    rates: dict[str, float] = {}  # by configuration name, whichever notebook ran it then (a name is its config)
    for row in rows:
        if row.get("status") == "ok":
            name = row["configuration"]
            rates[name] = min(rates.get(name, math.inf), float(row["seconds_per_iteration"]))
    try:
        planned = entries("paper", [notebook[:2]])
    except ConfigError:
        return None
    # a plan edited since the measurement renames its configurations (new digests); a renamed one is priced at the
    # mean rate of the measured configurations with its stem, i.e. the same model on the same networks
    by_stem: dict[str, list[float]] = {}
    for name, rate in rates.items():
        by_stem.setdefault(_stem(name), []).append(rate)
    hours, timed, stem_priced = 0.0, 0, 0
    for entry in planned:
        rate = rates.get(entry.name)
        if rate is None and _stem(entry.name) in by_stem:
            rate = sum(by_stem[_stem(entry.name)]) / len(by_stem[_stem(entry.name)])
            stem_priced += 1
        if rate is not None:
            hours += rate * entry.config.iterations * entry.runs / 3600
            timed += 1
    if not timed:
        return None
    return GpuBudget(notebook, hours, timed, len(planned), stem_priced)


def _one_line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"FAILED {row['error']}"
    return (f"{row['seconds_per_iteration'] * 1000:.1f} ms/it (warm-up {row['warmup_seconds']:.1f} s), peak "
            f"{row['peak_memory_mib']:.0f} MiB, full run {row['full_run_hours']:.2f} h x {row['runs']}")


def markdown(rows: list[dict[str, Any]]) -> str:
    """The per-configuration table, eager and compiled side by side when both ran, and each notebook's hours."""
    by_key: dict[tuple[str, str], dict[bool, dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault((row["notebook"], row["configuration"]), {})[bool(row["compiled"])] = row
    lines = ["| notebook | configuration | runs | params G / D (M) | batch | ms / it, eager | ms / it, compiled | "
             "peak memory (MiB) | full run (h) | all runs (h) | status |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    totals: dict[str, float] = {}
    for (notebook, name), modes in by_key.items():
        ok = [r for r in modes.values() if r["status"] == "ok"]
        if not ok:
            error = next(iter(modes.values()))["error"]
            lines.append(f"| {notebook} | {name} | | | | | | | | | failed: {error[:90]} |")
            continue
        best = min(ok, key=lambda r: r["seconds_per_iteration"])
        eager, compiled = modes.get(False), modes.get(True)

        def ms(r: dict[str, Any] | None) -> str:
            if r is None:
                return ""
            return "failed" if r["status"] != "ok" else f"{r['seconds_per_iteration'] * 1000:.1f}"

        totals[notebook] = totals.get(notebook, 0.0) + best["notebook_hours"]
        lines.append(f"| {notebook} | {name} | {best['runs']} | {best['params_g_m']:.3g} / {best['params_d_m']:.3g} | "
                     f"{best['batch_size']} | {ms(eager)} | {ms(compiled)} | "
                     f"{max(r['peak_memory_mib'] for r in ok):.0f} | {best['full_run_hours']:.2f} | "
                     f"{best['notebook_hours']:.2f} | ok |")
    lines += ["", "| notebook | hours, all runs one at a time (faster mode) |", "|---|---|"]
    lines += [f"| {nb} | {hours:.2f} |" for nb, hours in totals.items()]
    lines.append(f"| total | {sum(totals.values()):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.dry_run", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: every notebook with a plan)")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--iterations", type=int, default=3, help="iterations per block (warm-up, timed, continued)")
    parser.add_argument("--samples", type=int, default=200, help="samples scored per configuration")
    parser.add_argument("--compile", default="off", choices=COMPILE_CHOICES, dest="compile_mode")
    parser.add_argument("--fake-data", action="store_true", help="train on random pixels; skip scoring")
    parser.add_argument("--data-dir", help=f"offline dataset folder (default: ${DATA_DIR_ENV})")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--scratch", type=Path, help="where the dry run's run folders go (default runs/dry_run/)")
    parser.add_argument("--limit-per-notebook", type=int, help="only the first N configurations of each notebook")
    parser.add_argument("--match", help="only configurations whose name contains this text, e.g. DistGAN")
    parser.add_argument("--json", type=Path, help="also write the rows here (default: dry_run.json in the scratch "
                        "folder)")
    parser.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                        help="print the table of rows saved by earlier dry runs (later files win) and exit")
    args = parser.parse_args(argv)
    if args.report:
        print(markdown([row for path in args.report for row in json.loads(path.read_text())]))
        return 0
    if args.json is None:
        args.json = (args.scratch or runs_root() / "dry_run" / args.profile) / "dry_run.json"
    try:
        rows = dry_run(args.profile, args.notebooks, scratch=args.scratch, data_dir=args.data_dir,
                       iterations=args.iterations, samples=args.samples, compile_mode=args.compile_mode,
                       fake_data=args.fake_data, device=args.device, limit_per_notebook=args.limit_per_notebook,
                       match=args.match, json_path=args.json)
    except ConfigError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    print(markdown(rows))
    failed = [r for r in rows if r["status"] != "ok"]
    for row in failed:
        print(f"\n{row['notebook']} {row['configuration']}:\n{row['traceback']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
