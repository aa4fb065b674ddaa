"""Expected training cost of each notebook at a profile: FLOPs and operator calls of one iteration, times runs.

    .venv/bin/python benchmarks/paper_cost.py                        # the paper profile, a GPU at 100 TFLOP/s
    .venv/bin/python benchmarks/paper_cost.py --tflops 300 --launch-us 5
    .venv/bin/python benchmarks/paper_cost.py --profile cpu --tflops 0.3 --launch-us 20   # check against CPU runs

No GPU is needed, and nothing here is a GPU measurement. For every notebook the script executes its
configuration cell (the one that calls ``by_profile``) with ``PROFILE`` set, so the runs, widths, batch sizes
and iteration budgets are the notebook's own. For each distinct configuration (seeds share one) it builds the
method as the driver does, with random pixels in place of the data, and runs one training iteration (the
loop's ``n_dis`` D steps and ``n_gen`` G steps, each with its optimiser step) under two counters: torch's
FlopCounterMode, and a dispatch counter of the operators that launch work (views and other metadata-only
operators are not counted).

The time model per iteration is the larger of two bounds: ``FLOPs / (tflops · 1e12)`` (compute) and
``operator calls · launch_us`` (one kernel launch each, the floor for small networks on a GPU). Both bounds
are printed too, so other rates scale them linearly. Memory traffic,
the supervised-only baselines of notebooks 10-11, the periodic and final evaluations, and data loading are
not counted, so this is a lower-bound estimate of the order of magnitude, not a promise. ``--profile cpu``
runs the same model on the committed cpu profile so it can be compared with measured first runs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from repro.data import ImageDataset
from repro.experiments import am_gan, improved_gan_cifar, improved_gan_mnist, mmgan, ms_gan
from repro.nets.base import draw_latents
from repro.paths import REPO_ROOT

NOTEBOOKS = ("10_improved_gan_semisupervised_mnist", "11_improved_gan_semisupervised_cifar_svhn",
             "12_improved_gan_cifar_ablation", "20_am_gan", "30_ms_gan_stacked_mnist", "31_ms_gan_cifar", "40_mmgan")
# names a configuration cell may bind to its runs
RUN_LISTS = ("CONFIGS", "ABLATION", "ABLATION_CONFIGS")

# operators that only make a new view of a tensor (no kernel launch)
METADATA_OPS = frozenset({
    "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "slice", "select", "unsqueeze",
    "squeeze", "detach", "alias", "as_strided", "unbind", "split", "split_with_sizes", "chunk", "narrow",
    "_reshape_alias", "lift_fresh", "numpy_T", "unflatten", "flatten", "view_as", "expand_as", "is_same_size",
})


class OperatorCounter(TorchDispatchMode):
    """Counts the operators that reach the kernels, metadata-only ones left out."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name not in METADATA_OPS:
            self.calls[name] += 1
        return func(*args, **(kwargs or {}))


def notebook_runs(notebook: str, profile: str) -> list:
    """The run configurations the notebook would train at ``profile`` (datasets assumed available)."""
    source = json.loads((REPO_ROOT / "notebooks" / f"{notebook}.ipynb").read_text())
    cells = ["".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code"]
    config_cell = next(c for c in cells if "by_profile(" in c and "CONFIGS" in c)
    namespace = {"PROFILE": profile, "DATA_DIR": None, "WORKERS": None, "INCEPTION_WEIGHTS": None}
    # SVHN is costed even where it is not mirrored; the cell's results folder is not created; its print is dropped
    with (mock.patch("repro.data.dataset_available", return_value=True),
          mock.patch("repro.paths.results_dir", side_effect=lambda profile, name: Path(name)),
          contextlib.redirect_stdout(io.StringIO())):
        exec(compile(config_cell, notebook, "exec"), namespace)  # noqa: S102 - the repository's own notebook
    runs = []
    for name in RUN_LISTS:
        value = namespace.get(name, [])
        runs += [c for group in value.values() for c in group] if isinstance(value, dict) else list(value)
    return [c for c in runs if dataclasses.is_dataclass(c)]  # notebook 40's ABLATION names models


def fake_dataset(shape: tuple[int, int, int], n: int = 10_000) -> ImageDataset:
    """Random pixels with balanced labels: the cost of an iteration does not depend on the pixel values."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    return ImageDataset("random", "train", images, np.arange(n) % 10, tuple(str(i) for i in range(10)), "random")


def method_and_loop(config):
    """The method as its driver builds it, and its loop configuration."""
    if isinstance(config, improved_gan_mnist.SSLMnistConfig):
        data = fake_dataset((1, 28, 28))
        return improved_gan_mnist._build(config, data.images, data.labels), improved_gan_mnist._loop(config)
    if isinstance(config, improved_gan_cifar.Table3Config):
        method = improved_gan_cifar.build_table3(config, fake_dataset((3, 32, 32)))
        return method, improved_gan_cifar._loop(config, config.generator_steps, 0, False)
    if isinstance(config, improved_gan_cifar.SSLImageConfig):
        method = improved_gan_cifar.build_semisupervised(config, fake_dataset((3, 32, 32)))
        return method, improved_gan_cifar._loop(config, 1, 0, False)
    if isinstance(config, am_gan.AMGANConfig):
        shape = (1, 32, 32) if config.dataset == "mnist" else (3, 32, 32)
        return am_gan.build(config, fake_dataset(shape)), am_gan._loop(config, 0, False)
    if isinstance(config, ms_gan.StackedMNISTConfig):
        return ms_gan.build_stacked(config), ms_gan._stacked_loop(config, 0, False)
    if isinstance(config, ms_gan.CifarConfig):
        return ms_gan.build_cifar(config), ms_gan._cifar_loop(config, 0, False)
    if isinstance(config, mmgan.MMGANConfig):
        return mmgan.build(config), mmgan._loop(config, 0, False)
    raise TypeError(f"no cost model for {type(config).__name__}")


def real_batch(method, batch_size: int, value_range: str) -> torch.Tensor:
    """A batch shaped like the generator's output, in the data's value range."""
    generator = method.generator
    latents = draw_latents(generator, 2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        if getattr(generator, "conditional", False):
            shape = generator(latents, torch.zeros(2, dtype=torch.long)).shape[1:]
        else:
            shape = generator(latents).shape[1:]
    batch = torch.rand(batch_size, *shape)
    return batch if value_range == "unit" else 2 * batch - 1


def iteration_cost(config) -> tuple[float, int]:
    """(FLOPs, operator calls) of one training iteration of ``config``."""
    method, loop = method_and_loop(config)
    method.train()
    opt_d = torch.optim.Adam(method.discriminator.parameters(), lr=loop.lr_d, betas=loop.betas_d, fused=True)
    opt_g = torch.optim.Adam(method.generator.parameters(), lr=loop.lr_g, betas=loop.betas_g, fused=True)
    value_range = "unit" if isinstance(config, improved_gan_mnist.SSLMnistConfig) else "symmetric"
    labels = torch.arange(loop.batch_size) % 10 if isinstance(config, am_gan.AMGANConfig) else None
    real = real_batch(method, loop.batch_size, value_range)  # drawn once, outside the counters

    def iteration() -> None:
        for _ in range(loop.n_dis):
            method.discriminator_step(real, labels, opt_d)
        for _ in range(loop.n_gen):
            method.generator_step(loop.batch_size, labels, opt_g, real if method.generator_needs_real else None)

    iteration()  # lazily built state (optimiser moments, averages) out of the count
    operators = OperatorCounter()
    with FlopCounterMode(display=False) as flops, operators:
        iteration()
    return float(flops.get_total_flops()), sum(operators.calls.values())


def notebook_cost(notebook: str, profile: str, tflops: float, launch_us: float) -> dict:
    """The notebook's runs costed: totals, per-iteration ranges, and hours under each bound and the estimate."""
    runs = notebook_runs(notebook, profile)
    per_config: dict[str, tuple[float, int]] = {}
    compute_hours = launch_hours = estimate_hours = flops_total = 0.0
    for config in runs:
        key = repr(dataclasses.replace(config, seed=0))
        if key not in per_config:
            per_config[key] = iteration_cost(config)
        flops, calls = per_config[key]
        compute, launches = flops / (tflops * 1e12), calls * launch_us * 1e-6
        compute_hours += config.iterations * compute / 3600
        launch_hours += config.iterations * launches / 3600
        estimate_hours += config.iterations * max(compute, launches) / 3600
        flops_total += config.iterations * flops
    gflops = [f / 1e9 for f, _ in per_config.values()]
    calls = [c for _, c in per_config.values()]
    return {"notebook": notebook, "runs": len(runs), "iterations": sum(c.iterations for c in runs),
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
    parser.add_argument("--notebooks", nargs="*", default=list(NOTEBOOKS))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [notebook_cost(nb, args.profile, args.tflops, args.launch_us) for nb in args.notebooks]
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
