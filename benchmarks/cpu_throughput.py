"""Training throughput of the cpu profile's workloads under each speed lever, side by side in one run (issue 21).

    .venv/bin/python benchmarks/cpu_throughput.py --data-dir ../shared/datasets --json rows.json

For each workload the notebooks train on this CPU (Improved-GAN's semi-supervised MNIST loop of notebook 10, the
Stacked-MNIST K/4 and K/2 GANs of notebooks 30 and 40, and DCGAN-32 and SNGAN-CNN-32 at the width notebook 31's
cpu plan uses) it measures training iterations per second, summed over the runs trained at once:

* ``processes x threads``: one process on every core, or one single-threaded process per core (what
  ``repro.parallel.map_in_processes`` does for a plan with ``workers = cores``);
* ``layout``: NCHW or channels-last (the same function; a different summation order);
* ``torch.compile`` (inductor) of G and D, the loop's ``compile=True`` (the first, warm-up run pays the compilation);
* bf16 autocast (channels-last for the convolutional nets), which changes the numerics: shown, not chosen;
* ``seeds as a batch dimension``: S seeds of one configuration stacked (``torch.func.stack_module_state``) and
  trained as one vectorised step (``torch.vmap`` over ``functional_call``), against the same functional step on one
  seed without ``vmap``. This is the lever item 3 of the issue proposes; it is measured on the networks alone, with
  the non-saturating loss, before building it into the loop.

Everything except the ``vmap`` rows runs the real training loop (``repro.train.train``) on the workload's real
method; each setting runs in fresh spawned processes, settings alternate and repeat, and the reported rate is the
median over repeats. The "before" setting is what the notebooks run today (two single-threaded runs side by side,
NCHW, fp32); "after" is the fastest setting measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from repro import losses
from repro.data import DeviceBatches, load_dataset
from repro.methods.gan import StandardGAN
from repro.nets import NETWORKS
from repro.train import TrainConfig, train

# workload -> (network factory key, factory arguments, batch size, image shape); "ssl_mnist" is notebook 10's loop
IMAGE_WORKLOADS: dict[str, tuple[str, dict[str, Any], int]] = {
    "stacked_mnist_k4": ("stacked_mnist_k4", {}, 64),
    "stacked_mnist_k2": ("stacked_mnist_k2", {}, 64),
    "dcgan32_w16": ("dcgan32", {"width": 16, "latent_dim": 128}, 64),  # notebook 31's cpu width
    "sngan_cnn32_w16": ("sngan_cnn32", {"generator_width": 32, "discriminator_width": 16}, 64),
}
WORKLOADS = ["ssl_mnist", *IMAGE_WORKLOADS]


def _image_method(workload: str, seed: int) -> tuple[StandardGAN, int]:
    name, arguments, batch = IMAGE_WORKLOADS[workload]
    torch.manual_seed(seed)
    generator, discriminator = NETWORKS[name](**arguments)
    loss = "hinge" if name.startswith("sngan") else "ns"
    return StandardGAN(generator, discriminator, loss=loss, seed=seed), batch


def _ssl_method(data_dir: str | None) -> tuple[Any, DeviceBatches, dict[str, Any]]:
    from repro.experiments import improved_gan, runner

    train_set = load_dataset("mnist", "train", data_dir)
    method = runner.build(improved_gan.SEMISUPERVISED_MNIST, improved_gan.SSLMnistConfig(n_labeled=100),
                          train_set=train_set)
    data = DeviceBatches(train_set.images, None, 100, value_range="unit")
    options = {"lr_g": 3e-3, "lr_d": 3e-3, "adam_eps": 1e-4}
    return method, data, options


def loop_rate(workload: str, data_dir: str | None, steps: int, channels_last: bool, threads: int,
              compile_nets: bool = False, precision: str = "fp32") -> float:
    """Iterations per second of ``steps`` iterations through :func:`repro.train.train` (after a warm-up run)."""
    torch.set_num_threads(threads)
    if workload == "ssl_mnist":
        method, data, options = _ssl_method(data_dir)
        batch, value_range = 100, "unit"
    else:
        method, batch = _image_method(workload, seed=0)
        shape = method.generator(method.sample_latent(1)).shape[1:]
        images = torch.randint(0, 256, (4096, *shape), dtype=torch.uint8)
        data, options, value_range = DeviceBatches(images, None, batch), {}, "symmetric"
    rate = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, n in (("warm-up", 10), ("timed", steps)):
            config = TrainConfig(steps=n, batch_size=batch, channels_last=channels_last, compile=compile_nets,
                                 precision=precision, log_every=10**6, checkpoint_every=10**9, progress=False,
                                 **options)
            started = time.perf_counter()
            result = train(method, data, config, Path(folder) / name, value_range=value_range)
            rate = result.step / (time.perf_counter() - started)
    return rate


def _ssl_networks(seed: int) -> tuple[nn.Module, nn.Module]:
    from repro.nets.improved_gan import MnistSSLDiscriminator, MnistSSLGenerator

    torch.manual_seed(seed)
    return MnistSSLGenerator(), MnistSSLDiscriminator()


def _stacked_step(workload: str, seeds: int, vectorised: bool) -> Callable[[], None]:
    """One D step and one G step (non-saturating loss; hinge for SNGAN) for ``seeds`` stacked copies of the
    workload's networks, with ``vmap`` or, for one seed, plain module calls of the same functions."""
    if workload == "ssl_mnist":
        pairs = [_ssl_networks(seed) for seed in range(seeds)]
        batch, latent_dim, image_shape, passes = 100, pairs[0][0].latent_dim, (1, 28, 28), 3  # labeled, unlabeled, fake
    else:
        pairs = []
        for seed in range(seeds):
            method, batch = _image_method(workload, seed)
            pairs.append((method.generator, method.discriminator))
        latent_dim = pairs[0][0].latent_dim
        image_shape = tuple(pairs[0][0](torch.zeros(1, latent_dim)).shape[1:])
        passes = 2  # real, fake

    def logits_of(output: torch.Tensor | tuple) -> torch.Tensor:
        output = output[0] if isinstance(output, tuple) else output
        return output.logsumexp(1) if output.dim() == 2 and output.shape[1] > 1 else output.reshape(-1)

    generator, discriminator = pairs[0]
    g_params, g_buffers = stack_module_state([g for g, _ in pairs])
    d_params, d_buffers = stack_module_state([d for _, d in pairs])
    opt_g = torch.optim.Adam(g_params.values(), lr=2e-4, betas=(0.5, 0.999), fused=True)
    opt_d = torch.optim.Adam(d_params.values(), lr=2e-4, betas=(0.5, 0.999), fused=True)

    def d_loss(gp, gb, dp, db, real, z):
        with torch.no_grad():
            fake = functional_call(generator, (gp, gb), (z,))
        real_logits = [logits_of(functional_call(discriminator, (dp, db), (real,))) for _ in range(passes - 1)]
        fake_logits = logits_of(functional_call(discriminator, (dp, db), (fake,)))
        return sum(losses.d_loss_ns(r, fake_logits) for r in real_logits)

    def g_loss(gp, gb, dp, db, z):
        return losses.g_loss_ns(logits_of(functional_call(discriminator, (dp, db), (functional_call(
            generator, (gp, gb), (z,)),))))

    if vectorised:
        d_fn, g_fn = torch.vmap(d_loss, randomness="different"), torch.vmap(g_loss, randomness="different")
    else:
        if seeds != 1:
            raise ValueError("the plain step runs one seed")

        def d_fn(gp, gb, dp, db, real, z):
            return d_loss({k: v[0] for k, v in gp.items()}, {k: v[0] for k, v in gb.items()},
                          {k: v[0] for k, v in dp.items()}, {k: v[0] for k, v in db.items()}, real[0], z[0])

        def g_fn(gp, gb, dp, db, z):
            return g_loss({k: v[0] for k, v in gp.items()}, {k: v[0] for k, v in gb.items()},
                          {k: v[0] for k, v in dp.items()}, {k: v[0] for k, v in db.items()}, z[0])

    real = torch.rand(seeds, batch, *image_shape) * 2 - 1

    def step() -> None:
        loss = d_fn(g_params, g_buffers, d_params, d_buffers, real, torch.randn(seeds, batch, latent_dim)).sum()
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        for parameter in d_params.values():
            parameter.requires_grad_(False)
        loss = g_fn(g_params, g_buffers, d_params, d_buffers, torch.randn(seeds, batch, latent_dim)).sum()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        for parameter in d_params.values():
            parameter.requires_grad_(True)

    return step


def seed_batch_rate(workload: str, seeds: int, vectorised: bool, steps: int, threads: int) -> float:
    """Seed-iterations per second of the functional step (median of per-iteration times after 5 warm-up steps)."""
    torch.set_num_threads(threads)
    step = _stacked_step(workload, seeds, vectorised)
    for _ in range(5):
        step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return seeds / statistics.median(times)


def _fresh_processes(function: Callable[..., float], argument_tuples: list[tuple], threads: int) -> list[float]:
    """``function(*args)`` for each tuple, all at once, each in its own freshly spawned ``threads``-thread process."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(argument_tuples), mp_context=context, initializer=torch.set_num_threads,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(function, *args) for args in argument_tuples]
        return [future.result() for future in futures]


def measure(workload: str, setting: dict[str, Any], data_dir: str | None, steps: int, cores: int) -> float:
    """One measurement of ``setting`` in fresh processes: it/s summed over the runs trained at once."""
    if setting["kind"] == "vmap":
        return _fresh_processes(seed_batch_rate, [(workload, setting["seeds"], setting["vmap"], steps, cores)],
                                cores)[0]
    processes, threads = setting["processes"], cores // setting["processes"]
    arguments = [(workload, data_dir, steps, setting["channels_last"], threads, setting["compile"],
                  setting["precision"])] * processes
    return sum(_fresh_processes(loop_rate, arguments, threads))


def settings_for(workload: str, cores: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    layouts = [False] if workload == "ssl_mnist" else [False, True]
    rows = [{"kind": "loop", "processes": processes, "threads": cores // processes, "channels_last": layout,
             "compile": False, "precision": "fp32"} for processes in (1, cores) for layout in layouts]
    rows.append({"kind": "loop", "processes": cores, "threads": 1, "channels_last": False, "compile": True,
                 "precision": "fp32"})
    rows.append({"kind": "loop", "processes": cores, "threads": 1, "channels_last": workload != "ssl_mnist",
                 "compile": False, "precision": "bf16"})
    rows += [{"kind": "vmap", "seeds": 1, "vmap": False, "threads": cores},
             {"kind": "vmap", "seeds": 4, "vmap": True, "threads": cores}]
    if only is None:
        return rows

    def kind(row: dict[str, Any]) -> str:
        return "vmap" if row["kind"] == "vmap" else "compile" if row["compile"] else row["precision"]

    today = {"kind": "loop", "processes": cores, "threads": 1, "channels_last": False, "compile": False,
             "precision": "fp32"}
    return [row for row in rows if row == today or kind(row) in only and (kind(row) != "fp32" or row == today)]


def label(setting: dict[str, Any]) -> str:
    if setting["kind"] == "vmap":
        how = f"{setting['seeds']} seeds with vmap" if setting["vmap"] else "1 seed, plain calls"
        return f"functional step, {how}, 1 x {setting['threads']}"
    layout = "channels-last" if setting["channels_last"] else "NCHW"
    compiled = ", torch.compile of G and D" if setting["compile"] else ""
    precision = ", bf16 autocast" if setting["precision"] == "bf16" else ""
    return f"loop, {setting['processes']} x {setting['threads']}, {layout}{compiled}{precision}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    parser.add_argument("--steps", type=int, default=60, help="timed iterations per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="measurements of each setting, alternating")
    parser.add_argument("--json", help="write every measurement here")
    parser.add_argument("--only", nargs="+", choices=("fp32", "bf16", "compile", "vmap"),
                        help="measure only these kinds of setting (beside today's, which is always measured)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[-1].split("\n", 1)[0] if Path(
        "/proc/cpuinfo").exists() else ""
    amx = sorted(f for f in flags.split() if f.startswith("amx"))
    print(f"{cores} cores; CPU AMX flags: {amx or 'none'}; torch {torch.__version__}", flush=True)

    rows: list[dict[str, Any]] = []
    summary = []
    for workload in args.workloads:
        settings = settings_for(workload, cores, args.only)
        rates: dict[int, list[float]] = {i: [] for i in range(len(settings))}
        for repeat in range(args.repeats):
            order = range(len(settings)) if repeat % 2 == 0 else reversed(range(len(settings)))
            for index in order:
                error = None
                try:
                    rate = measure(workload, settings[index], args.data_dir, args.steps, cores)
                except RuntimeError as err:  # vmap has no batching rule for some ops (spectral norm's power step)
                    if settings[index]["kind"] != "vmap":
                        raise
                    rate, error = float("nan"), str(err).splitlines()[0]
                rates[index].append(rate)
                rows.append({"workload": workload, "setting": label(settings[index]), "repeat": repeat,
                             "it_per_s": rate, **({"error": error} if error else {})})
                shown = f"fails: {error}" if error else f"{rate:7.1f} it/s"
                print(f"{workload:18s} {label(settings[index]):50s} {shown}", flush=True)
        medians = {i: statistics.median(v) for i, v in rates.items()}
        before = next(i for i, s in enumerate(settings) if s["kind"] == "loop" and s["processes"] == cores
                      and not s["channels_last"] and not s["compile"] and s["precision"] == "fp32")
        # "after": the fastest setting that keeps fp32 (bf16 changes the numerics: a results change, with a parity
        # study, not a speed setting); bf16 is printed beside it
        loops = [i for i, s in enumerate(settings) if s["kind"] == "loop" and s["precision"] == "fp32"]
        best = max(loops, key=medians.get)
        plain = next((i for i, s in enumerate(settings) if s["kind"] == "vmap" and not s["vmap"]), None)
        grouped = next((i for i, s in enumerate(settings) if s["kind"] == "vmap" and s["vmap"]), None)
        bf16 = next((i for i, s in enumerate(settings) if s["kind"] == "loop" and s["precision"] == "bf16"), None)
        nan = float("nan")
        summary.append((workload, medians[before], medians[best], label(settings[best]),
                        nan if plain is None else medians[grouped] / medians[plain],
                        nan if bf16 is None else medians[bf16] / medians[before]))

    def ratio(value: float, failed: str) -> str:
        return failed if value != value else f"{value:.2f}x"  # NaN: not measured, or failed

    print("\n| workload | before it/s | after it/s | speed-up | after = | 4 seeds with vmap vs 1 seed, per seed "
          "| bf16 (2 x 1) vs before |")
    print("|---|---|---|---|---|---|---|")
    for workload, before, after, how, vmap_ratio, bf16_ratio in summary:
        print(f"| {workload} | {before:.1f} | {after:.1f} | {after / before:.2f}x | {how} "
              f"| {ratio(vmap_ratio, 'fails or not measured')} | {ratio(bf16_ratio, 'not measured')} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cores": cores, "amx": amx, "torch": torch.__version__,
                                               "steps": args.steps, "rows": rows}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
