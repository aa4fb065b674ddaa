"""Pilot runs for re-planning notebook 10 (issue "Decisive experiments"): how many epochs does the K+1 GAN need to
reach the paper's Table 1 range on MNIST, and at what seed spread?

    .venv/bin/python benchmarks/pilot_table1.py --labels 100 --seeds 0 --epochs 60 \\
        --json benchmarks/pilots/table1-100labels-60epochs.json

Trains each (labels, seed) exactly as notebook 10's runner does (``repro.experiments.improved_gan``: the official
script's networks, data-dependent initialisation, batch 100, Adam 3e-3), with the ``cpu`` profile's schedule shape
(the rate decays linearly to 0 over the last third, D averaged with decay 0.999) stretched to ``--epochs``, in a
scratch folder. Records the test error (averaged and current D, 10,000 MNIST test images) after every epoch, the
final errors and the training seconds, with the commit that ran them. Nothing is written into ``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from repro.experiments import improved_gan, runner
from repro.experiments.protocol import Evaluation
from repro.results import git_commit

ITERATIONS_PER_EPOCH = 600  # 60,000 unlabeled images, batch 100



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", nargs="+", type=int, default=[100])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--decay-fraction", type=float, default=1 / 3,
                        help="the last fraction of the run over which the rate decays to 0 (0: constant rate)")
    parser.add_argument("--average-decay", type=float, default=0.999)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--root", type=Path, default=Path("runs/pilots/table1"))
    parser.add_argument("--json", type=Path, help="write the rows and curves here")
    args = parser.parse_args()
    started_at = git_commit()  # the code that trains, read before the runs (a later commit would not count)

    iterations = args.epochs * ITERATIONS_PER_EPOCH
    decay_start = None if args.decay_fraction <= 0 else round(iterations * (1 - args.decay_fraction))
    configs = [improved_gan.SSLMnistConfig(n_labeled=n, seed=seed, iterations=iterations, decay_start=decay_start,
                                           average_decay=args.average_decay)
               for n in args.labels for seed in args.seeds]
    evaluation = Evaluation(n_samples=0, eval_every=ITERATIONS_PER_EPOCH)
    rows = runner.run_all(improved_gan.SEMISUPERVISED_MNIST, configs, args.root, args.data_dir, evaluation,
                          workers=args.workers)
    keep = ("labels", "run_seed", "error_average_percent", "error_raw_percent", "steps_trained", "wall_seconds")
    final = [{k: row.get(k) for k in keep} for row in rows]
    curves = [{k: row.get(k) for k in ("labels", "run_seed", "step", "error_raw_percent", "error_average_percent")}
              for row in runner.curves(improved_gan.SEMISUPERVISED_MNIST, configs, args.root)]
    for row in final:
        print(json.dumps(row))
    record = {"commit": started_at, "epochs": args.epochs, "iterations": iterations, "decay_start": decay_start,
              "average_decay": args.average_decay, "workers": args.workers, "final": final, "curves": curves}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
