"""Training throughput of Improved-GAN's semi-supervised MNIST model (notebook 10) on this CPU.

    .venv/bin/python benchmarks/ssl_mnist_throughput.py --data-dir ../shared/datasets

Measures iterations per second (one D step on labeled + unlabeled + generated batches of 100, one
feature-matching G step) through the real training loop for:

* the D step's three passes as separate calls vs one concatenated call (``joint_forward``; same function for
  this D; the G step always runs D twice, the real batch without a graph);
* fp32 vs bf16 autocast;
* one process on all threads vs one single-threaded process per core (the aggregate of runs trained side by
  side with ``repro.parallel.map_in_processes``, as notebook 10 does).

Also prints this machine's dense matmul throughput in fp32 and bf16 and whether the CPU reports AMX: without
AMX, bf16 matmuls run no faster than fp32 (avx512_bf16 alone is not enough).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from trainer_speed import matmul_gflops  # run as a script, benchmarks/ is on sys.path

from repro.data import DeviceBatches, load_dataset
from repro.experiments import improved_gan, runner
from repro.parallel import map_in_processes
from repro.train import TrainConfig, train


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def iterations_per_second(data_dir: str | None, steps: int, joint: bool, precision: str, threads: int) -> float:
    """Train ``steps`` iterations (after a 20-iteration warm-up run) and return iterations per second."""
    torch.set_num_threads(threads)
    train_set = load_dataset("mnist", "train", data_dir)
    ssl_config = improved_gan.SSLMnistConfig(n_labeled=100, iterations=steps)
    method = runner.build(improved_gan.SEMISUPERVISED_MNIST, ssl_config, train_set=train_set)
    method.joint_forward = joint
    data = DeviceBatches(train_set.images, None, 100, value_range="unit")
    rate = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, n in (("warm-up", 20), ("timed", steps)):  # the warm-up run pays the one-off costs
            config = TrainConfig(steps=n, batch_size=100, lr_g=3e-3, lr_d=3e-3, adam_eps=1e-4, precision=precision,
                                 log_every=100, checkpoint_every=10**9, progress=False)
            started = time.perf_counter()
            result = train(method, data, config, Path(folder) / name, value_range="unit")
            rate = result.step / (time.perf_counter() - started)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    amx = sorted(f for f in cpu_flags() if f.startswith("amx"))
    print(f"CPU AMX flags: {amx or 'none'}; {cores} cores")
    torch.set_num_threads(cores)
    print(f"matmul 2048^3 on {cores} threads: fp32 {matmul_gflops(torch.float32):.0f} GFLOP/s, "
          f"bf16 {matmul_gflops(torch.bfloat16):.0f} GFLOP/s\n")

    print("| D passes | precision | processes x threads | it/s per run | it/s in total |")
    print("|---|---|---|---|---|")
    for joint in (False, True):
        for precision in ("fp32", "bf16"):
            rate = iterations_per_second(args.data_dir, args.steps, joint, precision, cores)
            print(f"| {'joint' if joint else 'separate'} | {precision} | 1 x {cores} | {rate:.1f} | {rate:.1f} |")
    for joint in (False, True):
        rates = map_in_processes(iterations_per_second,
                                 [(args.data_dir, args.steps, joint, "fp32", 1)] * cores, workers=cores,
                                 threads_per_worker=1)
        print(f"| {'joint' if joint else 'separate'} | fp32 | {cores} x 1 | {sum(rates) / len(rates):.1f} | "
              f"{sum(rates):.1f} |")


if __name__ == "__main__":
    main()
