"""Pilot runs of any notebook's cpu plan at another length (issue "Decisive experiments"): do its models leave the
collapse regime at a CPU budget, how fast, and how far apart are they there?

    .venv/bin/python benchmarks/pilot_plan.py 31 --match=-dcgan- --iterations 10000 \\
        --json benchmarks/pilots/cifar-dcgan-10000.json
    .venv/bin/python benchmarks/pilot_plan.py 40 --match "^mnist-(DCGAN|FM|MMGAN)-" --iterations 5000 \\
        --json benchmarks/pilots/mmgan-mnist-5000.json

Takes the configurations of the notebook's ``cpu`` plan whose run names match one of the ``--match`` regular
expressions (``re.search``; first seed unless ``--seeds``), replaces their iterations (and any ``--set`` field),
and trains them exactly as the notebook's runner does, same networks, loop, scorer and pinned classifier, with the
plan's evaluation scored at ``--points`` points along training, in a scratch folder. Records every final row and
the curves, the training seconds and the commit that ran them. Nothing is written into ``results/``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import re
from pathlib import Path

from repro.dry_run import select_plans
from repro.experiments import notebook_plans, runner
from repro.results import git_commit


def settings(pairs: list[str]) -> dict:
    """``key=value`` pairs as a dict, each value read as a Python literal."""
    found = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        found[key] = ast.literal_eval(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="a notebook with a plan: number, full name or topic, as run_all.sh takes")
    parser.add_argument("--match", nargs="+", required=True,
                        help="keep configurations whose run name matches one of these regular expressions")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="other config fields to replace")
    parser.add_argument("--points", type=int, default=5, help="evaluations along training")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--root", type=Path, default=Path("runs/pilots/plans"))
    parser.add_argument("--json", type=Path, help="write the rows and curves here")
    args = parser.parse_args()
    started_at = git_commit()  # the code that trains, read before the runs (a later commit would not count)

    plans = notebook_plans("cpu")
    (notebook,) = select_plans([args.notebook], list(plans))
    chosen, evaluation, experiment = {}, None, None
    for plan in plans[notebook]:
        for config in plan.configs:
            name = plan.experiment.run_name(config)
            if config.seed in args.seeds and any(re.search(m, name) for m in args.match):
                changed = dataclasses.replace(config, iterations=args.iterations, **settings(args.set))
                chosen.setdefault(plan.experiment.run_name(changed), changed)
                evaluation, experiment = plan.evaluation, plan.experiment
    if not chosen:
        raise SystemExit(f"no configuration of {notebook}'s cpu plan matches {args.match} with seeds {args.seeds}")
    configs = list(chosen.values())
    evaluation = dataclasses.replace(evaluation, eval_every=max(1, args.iterations // args.points))
    rows = runner.run_all(experiment, configs, args.root / notebook, args.data_dir, evaluation,
                          workers=args.workers)
    curves = runner.curves(experiment, configs, args.root / notebook)
    for row in rows:
        print(json.dumps({k: v for k, v in row.items() if not isinstance(v, (list, dict))}))
    record = {"commit": started_at, "notebook": notebook, "iterations": args.iterations, "set": settings(args.set),
              "workers": args.workers, "evaluation": dataclasses.asdict(evaluation),
              "configurations": [dataclasses.asdict(c) for c in configs], "final": rows, "curves": curves}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
