"""Pilot runs for re-planning notebook 30 (issue "Decisive experiments"): do the models draw digits and cover modes
at a CPU budget, and how fast do they get there?

    .venv/bin/python benchmarks/pilot_stacked_mnist.py --models Dist-GAN MS-DistGAN --sizes K/4 K/2 \\
        --iterations 3000 --json benchmarks/pilots/stacked-distgan-3000.json

Trains each (model, size, seed) exactly as notebook 30's runner does (``repro.experiments.ms_gan.STACKED``: the
same networks, data pool, loop and scorer), in a scratch folder, and records the final mode count of 25,600 samples
(the notebook's protocol), the modes along training (6,400 samples, five points) and the training seconds, with the
commit that ran them. Nothing is written into ``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from repro.experiments import ms_gan, runner
from repro.experiments.protocol import Evaluation
from repro.results import git_commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(ms_gan.DISTGAN_MODELS), choices=list(ms_gan.MODELS))
    parser.add_argument("--sizes", nargs="+", default=["K/4", "K/2"], choices=["K/4", "K/2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--root", type=Path, default=Path("runs/pilots/stacked_mnist"))
    parser.add_argument("--json", type=Path, help="write the rows and curves here")
    args = parser.parse_args()
    started_at = git_commit()  # the code that trains, read before the runs (a later commit would not count)

    configs = [ms_gan.StackedMNISTConfig(model=m, discriminator=s, seed=seed, iterations=args.iterations)
               for s in args.sizes for m in args.models for seed in args.seeds]
    evaluation = Evaluation(n_samples=25_600, eval_every=max(1, args.iterations // 5), eval_samples=6_400,
                            classifier_profile="cpu")
    rows = runner.run_all(ms_gan.STACKED, configs, args.root, args.data_dir, evaluation, workers=args.workers)
    keep = ("model", "discriminator", "run_seed", "modes", "modes_10plus", "kl_to_uniform", "steps_trained",
            "wall_seconds", "extractor")
    final = [{k: row.get(k) for k in keep} for row in rows]
    curves = [{k: row[k] for k in ("model", "discriminator", "run_seed", "step", "modes", "kl_to_uniform")}
              for row in runner.curves(ms_gan.STACKED, configs, args.root)]
    for row in final:
        print(json.dumps(row))
    record = {"commit": started_at, "iterations": args.iterations, "workers": args.workers, "pool_size": 5_000,
              "n_samples": 25_600, "eval_samples": 6_400, "final": final, "curves": curves}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
