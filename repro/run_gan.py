"""Command-line entry point: train a baseline GAN (DCGAN / SNGAN) on a dataset, on one device or several.

    python -m repro.run_gan --dataset cifar10 --net dcgan32 --loss ns --steps 20000 --run-dir runs/dcgan32
    torchrun --nproc_per_node 4 -m repro.run_gan --dataset cifar10 --net sngan_resnet32 --loss hinge ...

Running the same command again resumes the run in ``--run-dir`` (a finished run only re-evaluates). Under
``torchrun`` every rank trains on its own batches, gradients are averaged, and rank 0 alone writes the run.
Paper methods have their own notebooks; this script drives the shared engine for the baselines and for
benchmarks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .data import DeviceBatches, load_dataset
from .distributed import pick_device
from .methods import LOSSES, StandardGAN
from .nets import NETWORKS
from .train import TrainConfig, train


def _net_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["width=32", "spectral_norm=true"]`` -> {"width": 32, "spectral_norm": True} (values read as JSON)."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--net-arg expects key=value, got {pair!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m repro.run_gan", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="mnist, cifar10, ... or a mirror you bring")
    parser.add_argument("--data-dir", default=None, help="offline mirrors (default: $REPRO_DATA_DIR)")
    parser.add_argument("--net", required=True, choices=sorted(NETWORKS))
    parser.add_argument("--net-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="override a network argument, e.g. width=32 (repeatable)")
    parser.add_argument("--loss", default="ns", choices=sorted(LOSSES))
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--device", default="auto", help="auto (CUDA if available, else CPU), cpu, cuda:0 ...")
    defaults = TrainConfig(steps=1)
    for name in ("steps", "batch_size", "n_dis", "n_gen", "checkpoint_every", "log_every", "sample_every", "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int,
                            default=None if name == "steps" else getattr(defaults, name), required=name == "steps")
    for name in ("lr_g", "lr_d", "ema_decay", "gamma"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    parser.add_argument("--ema-start", type=int, default=defaults.ema_start)
    parser.add_argument("--milestones", type=int, nargs="*", default=[], help="iterations of the step schedule")
    parser.add_argument("--beta1", type=float, default=defaults.betas_g[0], help="Adam beta1 of both networks")
    parser.add_argument("--beta2", type=float, default=defaults.betas_g[1], help="Adam beta2 of both networks")
    parser.add_argument("--schedule", default=defaults.schedule, choices=["constant", "linear", "step"])
    parser.add_argument("--precision", default=defaults.precision, choices=["fp32", "bf16"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--extend", action="store_true",
                        help="continue the finished run in --run-dir to a larger --steps (recorded in its config.json)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    generator, discriminator = NETWORKS[args.net](**_net_overrides(args.net_arg))
    dataset = load_dataset(args.dataset, "train", args.data_dir)
    if dataset.shape != generator.image_shape:
        raise SystemExit(f"{args.net} makes {generator.image_shape} images but {args.dataset} has {dataset.shape}")
    config = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, n_dis=args.n_dis, n_gen=args.n_gen,
        lr_g=args.lr_g, lr_d=args.lr_d, betas_g=(args.beta1, args.beta2), betas_d=(args.beta1, args.beta2),
        schedule=args.schedule, milestones=tuple(args.milestones), gamma=args.gamma,
        ema_decay=args.ema_decay, ema_start=args.ema_start, precision=args.precision,
        channels_last=args.channels_last, compile=args.compile, seed=args.seed,
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, sample_every=args.sample_every,
        progress=not args.no_progress,
    )
    data = DeviceBatches(
        dataset.images, dataset.labels, config.batch_size, device=pick_device(args.device),
        value_range=generator.output_range,
    )
    method = StandardGAN(generator, discriminator, loss=args.loss)
    result = train(method, data, config, args.run_dir, value_range=generator.output_range, extend=args.extend)
    origin = f"resumed from {result.started_at}" if result.resumed else "fresh"
    print(f"{args.run_dir}: iteration {result.step} ({origin}), {result.call_seconds:.1f} s")


if __name__ == "__main__":
    main()
