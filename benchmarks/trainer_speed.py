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
import os
import sys
import tempfile
import time
import types
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


def ours_rate(name: str, images: np.ndarray, precision: str, warmup: int, steps: int) -> float:
    spec = CONFIGS[name]
    config = TrainConfig(
        steps=warmup + steps, batch_size=64, betas_g=spec["betas"], betas_d=spec["betas"], precision=precision,
        channels_last=precision == "bf16", log_every=1, checkpoint_every=10**9, progress=False,
    )
    with tempfile.TemporaryDirectory() as run_dir:
        train(build(name), DeviceBatches(images, None, 64), config, run_dir)
        rows = (Path(run_dir) / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    seconds = [float(row.split(",")[header.index("seconds")]) for row in rows[1:]]
    return steps / (seconds[-1] - seconds[warmup - 1])


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

    def timed(total: int) -> float:
        # fused, as our loop's: the comparison is of the trainers and precision, not of Adam's kernels
        opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=spec["betas"], fused=True)
        opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=spec["betas"], fused=True)
        with tempfile.TemporaryDirectory() as log_dir, contextlib.redirect_stdout(io.StringIO()):
            trainer = mimicry.training.Trainer(
                netD=discriminator, netG=generator, optD=opt_d, optG=opt_g, dataloader=loader, num_steps=total,
                log_dir=log_dir, device=torch.device("cpu"), print_steps=10**6, vis_steps=10**6,
                log_steps=10**6, save_steps=10**6,
            )
            start = time.perf_counter()
            trainer.train()
            return time.perf_counter() - start

    return steps / (timed(warmup + steps) - timed(warmup))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--peer-site", help="folder where torch-mimicry was pip-installed with --target")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = cifar_like(args.data_dir)
    fp32_peak, bf16_peak = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"threads {args.threads}; matmul 2048^3: fp32 {fp32_peak:.0f} GFLOP/s, bf16 {bf16_peak:.0f} GFLOP/s\n")
    mimicry = import_mimicry(args.peer_site) if args.peer_site else None
    print("| config | GFLOP/iter | mimicry fp32 it/s | ours fp32 it/s | ours bf16+CL it/s | speed-up (bf16 vs mimicry) "
          "| ours fp32 GFLOP/s (% of fp32 matmul) | ours bf16 GFLOP/s (% of bf16 matmul) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.configs:
        gflop = iteration_flops(name, images) / 1e9
        peer = mimicry_rate(mimicry, name, images, args.warmup, args.steps) if mimicry else float("nan")
        fp32 = ours_rate(name, images, "fp32", args.warmup, args.steps)
        bf16 = ours_rate(name, images, "bf16", args.warmup, args.steps)
        print(f"| {name} | {gflop:.1f} | {peer:.2f} | {fp32:.2f} | {bf16:.2f} | {bf16 / peer:.1f}x "
              f"| {fp32 * gflop:.0f} ({100 * fp32 * gflop / fp32_peak:.0f}%) "
              f"| {bf16 * gflop:.0f} ({100 * bf16 * gflop / bf16_peak:.0f}%) |", flush=True)


if __name__ == "__main__":
    main()
