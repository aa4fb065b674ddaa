"""Where each notebook's first run goes: training, evaluation along training, final scoring and shared set-up,
measured per configuration of its plan and summed over the plan's runs.

    .venv/bin/python benchmarks/notebook_time_split.py                      # the cpu plans of every notebook
    .venv/bin/python benchmarks/notebook_time_split.py 30 40 --iterations 20 --threads 1

For each distinct configuration of a notebook's plan (its seeds share one; :func:`repro.dry_run.entries`) it
builds the method on the real training images as the runner does and measures, on this machine:

- seconds per training iteration: ``iterations`` warm-up iterations, then ``iterations`` timed from the run's own
  ``log.csv`` (the loop as the notebooks run it, without evaluation);
- one evaluation along training (the scorer's ``along_training`` at the plan's ``eval_samples``) and the final
  scoring (``final`` at the plan's ``n_samples``), each timed once on the partly trained generator;
- FLOPs and operator calls of one iteration (``paper_cost.iteration_cost``), hence the achieved GFLOP/s and
  microseconds per operator call.

The plan's runs then cost ``iterations × s/it`` of training, ``iterations / eval_every`` evaluations and one final
scoring each, plus the experiment's shared set-up once (``prepare``: reference statistics, the pinned classifier).
Summed one run at a time, divided by the plan's workers for the wall estimate (an upper bound of what workers
gain: two runs on two cores rarely run twice as fast), and set beside the manifest's measured first run, where
the difference is what the model leaves out (data loading, sample grids, checkpoints, notebook cells, waiting).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from repro.dry_run import Entry, entries, logged_seconds
from repro.errors import DataError
from repro.experiments import runner
from repro.experiments.protocol import CURVE_SCORE_SEED_OFFSET, FINAL_SCORE_SEED_OFFSET
from repro.manifest import read_manifest
from repro.paths import REPO_ROOT
from repro.train import train

sys.path.insert(0, str(Path(__file__).parent))
from paper_cost import iteration_cost  # noqa: E402


def measure(entry: Entry, scratch: Path, data_dir: str | None, iterations: int) -> dict:
    """One configuration's per-iteration, per-evaluation and final-scoring seconds, FLOPs and operator calls."""
    experiment, config, evaluation = entry.plan.experiment, entry.config, entry.plan.evaluation
    began = time.perf_counter()
    experiment.prepare([config], data_dir, evaluation)
    prepare_seconds = time.perf_counter() - began
    train_set = experiment.train_set(config, data_dir)
    method = runner.build(experiment, config, train_set=train_set)
    full = experiment.loop(config)
    loop = dataclasses.replace(full, steps=2 * iterations, log_every=iterations, checkpoint_every=2 * iterations,
                               eval_every=0, sample_every=0, progress=False, decay_start=0,
                               ema_start=min(full.ema_start, iterations))
    folder = scratch / entry.notebook / entry.name
    train(method, experiment.batches(config, train_set, "cpu"), loop, folder,
          value_range=method.generator.output_range)
    logged = logged_seconds(folder)
    per_iteration = (logged[2 * iterations] - logged[iterations]) / iterations
    scorer = experiment.scorer(config, method, data_dir, evaluation)
    evaluation_seconds = 0.0
    if evaluation.eval_every:
        began = time.perf_counter()
        scorer.along_training(2 * iterations, method.generator, config.seed + CURVE_SCORE_SEED_OFFSET)
        evaluation_seconds = time.perf_counter() - began
    began = time.perf_counter()
    scorer.final(method, config.seed + FINAL_SCORE_SEED_OFFSET, folder)
    final_seconds = time.perf_counter() - began
    flops, calls = iteration_cost(experiment, config)
    evaluations = config.iterations // evaluation.eval_every if evaluation.eval_every else 0
    return {
        "notebook": entry.notebook, "configuration": entry.name, "runs": entry.runs, "workers": entry.plan.workers,
        "iterations": config.iterations, "seconds_per_iteration": per_iteration,
        "evaluations_per_run": evaluations, "evaluation_seconds": evaluation_seconds,
        "final_seconds": final_seconds, "prepare_seconds": prepare_seconds,
        "gflop_per_iteration": flops / 1e9, "calls_per_iteration": calls,
        "gflops_achieved": flops / 1e9 / per_iteration, "us_per_call": per_iteration / calls * 1e6,
    }


def split(rows: list[dict]) -> list[dict]:
    """Per notebook: minutes of training, evaluation along training, final scoring and set-up, one run at a time;
    the wall estimate with the plan's workers; the manifest's measured first run."""
    manifest = read_manifest(REPO_ROOT / "results" / "cpu")["notebooks"]
    notebooks: dict[str, dict] = {}
    for row in rows:
        total = notebooks.setdefault(row["notebook"], {"notebook": row["notebook"], "training": 0.0,
                                                       "evaluation": 0.0, "final": 0.0, "prepare": 0.0,
                                                       "workers": row["workers"]})
        total["training"] += row["runs"] * row["iterations"] * row["seconds_per_iteration"] / 60
        total["evaluation"] += row["runs"] * row["evaluations_per_run"] * row["evaluation_seconds"] / 60
        total["final"] += row["runs"] * row["final_seconds"] / 60
        total["prepare"] = max(total["prepare"], row["prepare_seconds"] / 60)  # shared caches: filled once
    for name, total in notebooks.items():
        one_at_a_time = total["training"] + total["evaluation"] + total["final"]
        total["model_minutes"] = total["prepare"] + one_at_a_time / total["workers"]
        total["evaluation_share"] = (total["evaluation"] + total["final"]) / max(one_at_a_time, 1e-9)
        entry = manifest.get(name, {})
        first = entry.get("first_run") or (entry if entry.get("runs_found") == 0 else None)
        total["first_run_minutes"] = first["duration_s"] / 60 if first else None
    return list(notebooks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks (number, name or topic; default: all with a plan)")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--iterations", type=int, default=10, help="warm-up and timed iterations per configuration")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", type=Path, help="also write the per-configuration rows here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for entry in entries(args.profile, args.notebooks):
            try:
                row = measure(entry, Path(scratch), args.data_dir, args.iterations)
            except DataError as err:  # a mirror that is not here (SVHN): the notebook itself skips those runs
                print(f"{entry.notebook} {entry.name}: skipped, {str(err).splitlines()[0][:120]}", file=sys.stderr)
                continue
            print(f"{row['notebook']} {row['configuration']}: {row['seconds_per_iteration'] * 1000:.1f} ms/it, "
                  f"{row['gflops_achieved']:.1f} GFLOP/s, {row['us_per_call']:.0f} µs/call, evaluation "
                  f"{row['evaluation_seconds']:.1f} s x {row['evaluations_per_run']}, "
                  f"final {row['final_seconds']:.1f} s",
                  file=sys.stderr, flush=True)
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(f"threads {torch.get_num_threads()}, profile {args.profile}; minutes, summed over each plan's runs")
    print("| notebook | training | evaluation along training | final scoring | set-up | evaluation share | "
          "model wall (plan workers) | measured first run |")
    print("|---|---|---|---|---|---|---|---|")
    for t in split(rows):
        first = f"{t['first_run_minutes']:.0f}" if t["first_run_minutes"] is not None else "not recorded"
        print(f"| {t['notebook']} | {t['training']:.1f} | {t['evaluation']:.1f} | {t['final']:.1f} | "
              f"{t['prepare']:.1f} | {t['evaluation_share']:.0%} | {t['model_minutes']:.0f} ({t['workers']}) | "
              f"{first} |")
    print("\n| configuration | ms / iteration | GFLOP / iteration | GFLOP/s | operator calls | µs / call |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['notebook'][:2]} {r['configuration']} | {r['seconds_per_iteration'] * 1000:.1f} | "
              f"{r['gflop_per_iteration']:.3g} | {r['gflops_achieved']:.1f} | {r['calls_per_iteration']} | "
              f"{r['us_per_call']:.0f} |")


if __name__ == "__main__":
    main()
