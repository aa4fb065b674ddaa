"""Training iterations per second: this repository's engine against torch-mimicry's trainer, same nets and batch.

    pip install --no-deps --target .bench-peer torch-mimicry==0.1.16      # the peer, for this benchmark only
    .venv/bin/python benchmarks/trainer_speed.py --peer-site .bench-peer --data-dir ../shared/datasets

Configurations (batch 64, one D step per G step, fused Adam 2e-4 (0, 0.9) for SNGAN and (0.5, 0.999) for DCGAN,
the same optimiser kernel on both sides):

* ``dcgan32``: DCGAN 32x32, width 64, non-saturating loss. mimicry has no plain DCGAN (its "DCGAN32" is a
  ResNet), so its trainer and loss code drive *our* DCGAN modules, wrapped in its base classes.
* ``sngan_resnet32``: SNGAN ResNet 32x32 with spectral norm and hinge loss: mimicry's own SNGAN32 networks
  against ours, which follow the same layer list (repro/nets/sngan.py).

Ours runs in fp32 and in bf16 autocast with channels-last; mimicry in fp32 (its mixed precision is CUDA-only).
Also reported: the machine's measured matmul throughput in fp32 and bf16, and the achieved training GFLOP/s
(FLOPs of one iteration counted by torch's FlopCounterMode) as a fraction of it. mimicry's package import pulls
in TensorFlow, scikit-learn, scikit-image, tensorboard and ``torch._six``; they are stubbed here, in this
process only, since no code path timed here uses them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.machinery
import io
import multiprocessing
import os
import sys
import tempfile
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from repro.data import DeviceBatches, load_dataset
from repro.methods import StandardGAN
from repro.nets import NETWORKS
from repro.train import TrainConfig, train

CONFIGS = {
    "dcgan32": {"net": "dcgan32", "overrides": {"width": 64}, "loss": "ns", "betas": (0.5, 0.999)},
    "sngan_resnet32": {"net": "sngan_resnet32", "overrides": {}, "loss": "hinge", "betas": (0.0, 0.9)},
}


def matmul_gflops(dtype: torch.dtype, size: int = 2048, repeats: int = 20) -> float:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def cifar_like(data_dir: str | None) -> np.ndarray:
    try:
        return load_dataset("cifar10", "train", data_dir, download=False).images[:10_000]
    except Exception:  # no data: random pixels cost the same
        return np.random.default_rng(0).integers(0, 256, (10_000, 3, 32, 32), dtype=np.uint8)


def build(name: str, seed: int = 0) -> StandardGAN:
    spec = CONFIGS[name]
    torch.manual_seed(seed)
    generator, discriminator = NETWORKS[spec["net"]](**spec["overrides"])
    return StandardGAN(generator, discriminator, loss=spec["loss"])


def iteration_flops(name: str, images: np.ndarray) -> float:
    """FLOPs of one training iteration (D step + G step, forward and backward), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    method = build(name)
    spec = CONFIGS[name]
    opt_d = torch.optim.Adam(method.discriminator.parameters(), betas=spec["betas"])
    opt_g = torch.optim.Adam(method.generator.parameters(), betas=spec["betas"])
    real, labels = DeviceBatches(images, None, 64).next()
    with FlopCounterMode(display=False) as counter:
        method.discriminator_step(real, labels, opt_d)
        method.generator_step(64, labels, opt_g)
    return counter.get_total_flops()


def median_rate(stamps: list[float], warmup: int) -> float:
    """Iterations per second from the median of per-iteration times: the gaps between the end times of consecutive
    G updates (one iteration each), after ``warmup`` iterations."""
    gaps = np.diff(np.asarray(stamps[warmup - 1:] if warmup else stamps))
    return float(1.0 / np.median(gaps))


def ours_rate(name: str, images: np.ndarray, precision: str, warmup: int, steps: int) -> float:
    """Our loop (repro.train.train), timed by the end of each G update, as the peer's below."""
    spec = CONFIGS[name]
    config = TrainConfig(
        steps=warmup + steps, batch_size=64, betas_g=spec["betas"], betas_d=spec["betas"], precision=precision,
        channels_last=precision == "bf16", log_every=10**6, checkpoint_every=10**9, progress=False,
    )
    method, stamps = build(name), []
    generator_step = method.generator_step

    def stamped(*args, **kwargs):
        logs = generator_step(*args, **kwargs)
        stamps.append(time.perf_counter())
        return logs

    method.generator_step = stamped
    with tempfile.TemporaryDirectory() as run_dir:
        train(method, DeviceBatches(images, None, 64), config, run_dir)
    return median_rate(stamps, warmup)


# ----------------------------------------------------------------------------------------------------------
# The peer


class _Stub(types.ModuleType):
    """A module whose every attribute is a harmless callable: enough for import-time references."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *a, **k: None, "__call__": lambda self, *a, **k: None,
                                "__getattr__": lambda self, n: (lambda *a, **k: None)})


def import_mimicry(site: str):
    for name in ("tensorflow", "sklearn", "sklearn.metrics", "sklearn.metrics.pairwise", "skimage",
                 "torch.utils.tensorboard", "torch._six"):
        stub = _Stub(name)
        stub.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)  # torch._dynamo looks modules up
        sys.modules.setdefault(name, stub)
    sys.path.insert(0, site)
    import torch_mimicry

    return torch_mimicry


def mimicry_rate(mimicry, name: str, images: np.ndarray, warmup: int, steps: int) -> float:
    from torch.utils.data import DataLoader, TensorDataset

    spec = CONFIGS[name]
    torch.manual_seed(0)
    if name == "sngan_resnet32":
        generator = mimicry.nets.sngan.SNGANGenerator32()
        discriminator = mimicry.nets.sngan.SNGANDiscriminator32()
    else:
        ours = build(name)
        base = mimicry.nets.dcgan.dcgan_base

        class PeerGenerator(base.DCGANBaseGenerator):
            def __init__(self) -> None:
                super().__init__(nz=ours.generator.latent_dim, ngf=64, bottom_width=4)
                self.net = ours.generator

            def forward(self, x):
                return self.net(x)

        class PeerDiscriminator(base.DCGANBaseDiscriminator):
            def __init__(self) -> None:
                super().__init__(ndf=64)
                self.net = ours.discriminator

            def forward(self, x):
                return self.net(x).view(-1, 1)

        generator, discriminator = PeerGenerator(), PeerDiscriminator()
    pixels = torch.from_numpy(images).float() / 127.5 - 1
    loader = DataLoader(TensorDataset(pixels, torch.zeros(len(pixels))), batch_size=64, shuffle=True,
                        drop_last=True, num_workers=0)

    # fused, as our loop's: the comparison is of the trainers and precision, not of Adam's kernels
    opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=spec["betas"], fused=True)
    opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=spec["betas"], fused=True)
    stamps: list[float] = []
    opt_g.register_step_post_hook(lambda *_: stamps.append(time.perf_counter()))  # the end of each G update
    with tempfile.TemporaryDirectory() as log_dir, contextlib.redirect_stdout(io.StringIO()):
        trainer = mimicry.training.Trainer(
            netD=discriminator, netG=generator, optD=opt_d, optG=opt_g, dataloader=loader, num_steps=warmup + steps,
            log_dir=log_dir, device=torch.device("cpu"), print_steps=10**6, vis_steps=10**6,
            log_steps=10**6, save_steps=10**6,
        )
        trainer.train()
    return median_rate(stamps, warmup)


def measure(side: str, name: str, data_dir: str | None, peer_site: str | None, warmup: int, steps: int,
            threads: int) -> float:
    """One side's rate, in this (fresh) process: "mimicry", "fp32" or "bf16"."""
    torch.set_num_threads(threads)
    images = cifar_like(data_dir)
    if side == "mimicry":
        return mimicry_rate(import_mimicry(peer_site), name, images, warmup, steps)
    return ours_rate(name, images, side, warmup, steps)


def in_fresh_process(function, *args):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--peer-site", help="folder where torch-mimicry was pip-installed with --target")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each side, in alternating order")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = cifar_like(args.data_dir)
    fp32_peak, bf16_peak = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    flags = cpu_flags()
    amx = sorted(f for f in flags if f.startswith("amx"))
    print(f"threads {args.threads}; CPU AMX flags: {amx or 'none'}; avx512_bf16: {'avx512_bf16' in flags}; "
          f"matmul 2048^3: fp32 {fp32_peak:.0f} GFLOP/s, bf16 {bf16_peak:.0f} GFLOP/s")
    print(f"each side: median of per-iteration times after {args.warmup} warm-up iterations over {args.steps}, in a "
          f"fresh process; {args.repeats} repeats in alternating order; it/s = median over repeats [min, max]\n")
    sides = (["mimicry"] if args.peer_site else []) + ["fp32", "bf16"]
    print("| config | GFLOP/iter | mimicry fp32 it/s | ours fp32 it/s | ours bf16+CL it/s | ours fp32 vs mimicry "
          "| ours bf16 vs mimicry | ours fp32 GFLOP/s (% of fp32 matmul) | ours bf16 GFLOP/s (% of bf16 matmul) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.configs:
        gflop = iteration_flops(name, images) / 1e9
        rates: dict[str, list[float]] = {side: [] for side in sides}
        for repeat in range(args.repeats):
            for side in (sides if repeat % 2 == 0 else sides[::-1]):
                rates[side].append(in_fresh_process(measure, side, name, args.data_dir, args.peer_site, args.warmup,
                                                    args.steps, args.threads))
        median = {side: float(np.median(values)) for side, values in rates.items()}
        peer, fp32, bf16 = median.get("mimicry", float("nan")), median["fp32"], median["bf16"]

        cells = {side: f"{median[side]:.2f} [{min(v):.2f}, {max(v):.2f}]" for side, v in rates.items()}
        print(f"| {name} | {gflop:.1f} | {cells.get('mimicry', '–')} | {cells['fp32']} | {cells['bf16']} "
              f"| {fp32 / peer:.2f}x | {bf16 / peer:.2f}x | {fp32 * gflop:.0f} ({100 * fp32 * gflop / fp32_peak:.0f}%) "
              f"| {bf16 * gflop:.0f} ({100 * bf16 * gflop / bf16_peak:.0f}%) |", flush=True)


def cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


if __name__ == "__main__":
    main()
