"""Expected training cost of each notebook at a profile: FLOPs and operator calls of one iteration, times runs.

    .venv/bin/python benchmarks/paper_cost.py                        # the paper profile, a GPU at 100 TFLOP/s
    .venv/bin/python benchmarks/paper_cost.py --tflops 300 --launch-us 5
    .venv/bin/python benchmarks/paper_cost.py --profile cpu --tflops 0.3 --launch-us 20   # check against CPU runs

No GPU is needed, and nothing here is a GPU measurement. The runs are the notebooks' own: every paper module's
``plans(profile)`` (the plans the notebooks train, :data:`repro.experiments.PAPERS`). For each distinct
configuration (seeds share one) it builds the method as the runner does, with random pixels in place of the
data, and runs one training iteration (the loop's ``n_dis`` D steps and ``n_gen`` G steps, each with its
optimiser step) under one dispatch counter: FLOPs by torch's formulas (what FlopCounterMode sums), and the
operators that launch work (views and other metadata-only operators are not counted).

The time model per iteration is the larger of two bounds: ``FLOPs / (tflops · 1e12)`` (compute) and
``operator calls · launch_us`` (one kernel launch each, the floor for small networks on a GPU). Both bounds
are printed too, so other rates scale them linearly. Memory traffic,
the supervised-only baselines of notebooks 10-11, the periodic and final evaluations, and data loading are
not counted, so this is a lower-bound estimate of the order of magnitude, not a promise. ``--profile cpu``
runs the same model on the committed cpu profile so it can be compared with measured first runs.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from repro.experiments import notebook_plans, runner
from repro.experiments.protocol import Plan, fake_train_set

# operators that only make a new view of a tensor (no kernel launch)
METADATA_OPS = frozenset({
    "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "slice", "select", "unsqueeze",
    "squeeze", "detach", "alias", "as_strided", "unbind", "split", "split_with_sizes", "chunk", "narrow",
    "_reshape_alias", "lift_fresh", "numpy_T", "unflatten", "flatten", "view_as", "expand_as", "is_same_size",
})


class OperatorCounter(TorchDispatchMode):
    """Counts the operators that reach the kernels (metadata-only ones left out) and their FLOPs under torch's own
    formulas (``torch.utils.flop_counter.flop_registry``, what ``FlopCounterMode`` sums). Without
    ``FlopCounterMode``'s module tracking, whose backward hooks refuse a ``torch.autograd.grad`` inside a counted
    step (Dist-GAN's gradient penalty)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name not in METADATA_OPS:
            self.calls[name] += 1
        out = func(*args, **kwargs)
        if func.overloadpacket in flop_registry:
            self.flops += flop_registry[func.overloadpacket](*args, **kwargs, out_val=out)
        return out


def iteration_cost(experiment, config) -> tuple[float, int]:
    """(FLOPs, operator calls) of one training iteration of ``config``: its method built as the runner builds it,
    on random pixels, fed one batch of the experiment's own batch stream."""
    train_set = fake_train_set(experiment.image_shape(config))
    method, loop = runner.build(experiment, config, train_set=train_set), experiment.loop(config)
    method.train()
    opt_d = torch.optim.Adam(method.discriminator.parameters(), lr=loop.lr_d, betas=loop.betas_d, fused=True)
    opt_g = torch.optim.Adam(method.generator.parameters(), lr=loop.lr_g, betas=loop.betas_g, fused=True)
    real, labels = experiment.batches(config, train_set, "cpu").next()  # drawn once, outside the counters

    def iteration() -> None:
        for _ in range(loop.n_dis):
            extra = {"extra_real": real} if method.discriminator_needs_extra_real else {}  # Dist-GAN's E step
            method.discriminator_step(real, labels, opt_d, **extra)
        for _ in range(loop.n_gen):
            method.generator_step(loop.batch_size, labels, opt_g, real if method.generator_needs_real else None)

    iteration()  # lazily built state (optimiser moments, averages) out of the count
    operators = OperatorCounter()
    with operators:
        iteration()
    return float(operators.flops), sum(operators.calls.values())


def notebook_cost(notebook: str, plans: list[Plan], tflops: float, launch_us: float) -> dict:
    """The notebook's runs costed: totals, per-iteration ranges, and hours under each bound and the estimate. A
    plan that trains in another notebook's runs folder (``runs_of``: notebook 21 reuses notebook 20's runs) adds
    nothing: those runs are that notebook's cost."""
    runs = [(plan.experiment, config) for plan in plans if plan.runs_of is None for config in plan.configs]
    per_config: dict[str, tuple[float, int]] = {}
    compute_hours = launch_hours = estimate_hours = flops_total = 0.0
    for experiment, config in runs:
        key = repr(dataclasses.replace(config, seed=0))
        if key not in per_config:
            per_config[key] = iteration_cost(experiment, config)
        flops, calls = per_config[key]
        compute, launches = flops / (tflops * 1e12), calls * launch_us * 1e-6
        compute_hours += config.iterations * compute / 3600
        launch_hours += config.iterations * launches / 3600
        estimate_hours += config.iterations * max(compute, launches) / 3600
        flops_total += config.iterations * flops
    gflops = [f / 1e9 for f, _ in per_config.values()] or [0.0]
    calls = [c for _, c in per_config.values()] or [0]
    return {"notebook": notebook, "runs": len(runs), "iterations": sum(c.iterations for _, c in runs),
            "gflop_per_iteration": (min(gflops), max(gflops)), "calls_per_iteration": (min(calls), max(calls)),
            "pflop": flops_total / 1e15, "compute_hours": compute_hours, "launch_hours": launch_hours,
            "hours": estimate_hours}


def _span(low: float, high: float, fmt: str) -> str:
    return format(low, fmt) if format(low, fmt) == format(high, fmt) else f"{low:{fmt}}–{high:{fmt}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper", choices=("smoke", "cpu", "paper"))
    parser.add_argument("--tflops", type=float, default=100.0,
                        help="sustained training throughput, TFLOP/s (default 100: a large GPU under bf16 autocast)")
    parser.add_argument("--launch-us", type=float, default=10.0, help="seconds per operator call, in µs")
    parser.add_argument("--notebooks", nargs="*", help="notebook names (default: every notebook with a plan)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    plans = notebook_plans(args.profile)
    unknown = sorted(set(args.notebooks or ()) - set(plans))
    if unknown:
        parser.error(f"no plan for {unknown}; the notebooks with plans are: {', '.join(plans)}")
    # by default, the notebooks that train runs of their own (notebook 21 reuses notebook 20's)
    chosen = args.notebooks or [nb for nb, own in plans.items() if any(plan.runs_of is None for plan in own)]
    rows = [notebook_cost(nb, plans[nb], args.tflops, args.launch_us) for nb in chosen]
    print(f"profile {args.profile}, {args.tflops:g} TFLOP/s, {args.launch_us:g} µs per operator call, one device")
    print("| notebook | runs | iterations | GFLOP / iteration | operator calls / iteration | PFLOP | "
          "hours, compute bound | hours, launch bound | hours, estimate |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['notebook']} | {r['runs']} | {r['iterations']:,} | {_span(*r['gflop_per_iteration'], '.3g')} | "
              f"{_span(*r['calls_per_iteration'], ',')} | {r['pflop']:.3g} | {r['compute_hours']:.3g} | "
              f"{r['launch_hours']:.3g} | {r['hours']:.3g} |")
    total = {k: sum(r[k] for r in rows) for k in ("runs", "iterations", "pflop", "compute_hours", "launch_hours",
                                                   "hours")}
    print(f"| total | {total['runs']} | {total['iterations']:,} | | | {total['pflop']:.3g} | "
          f"{total['compute_hours']:.3g} | {total['launch_hours']:.3g} | {total['hours']:.3g} |")

if __name__ == "__main__":
    main()
