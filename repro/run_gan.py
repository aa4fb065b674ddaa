"""Command-line entry point: train a baseline GAN (DCGAN / SNGAN) on a dataset, on one device or several.

    python -m repro.run_gan --dataset cifar10 --net dcgan32 --loss ns --steps 20000 --run-dir runs/dcgan32
    torchrun --nproc_per_node 4 -m repro.run_gan --dataset cifar10 --net sngan_resnet32 --loss hinge ...

Every argument is checked before any data is read: a bad one ends the command with one ``error:`` line per
problem on stderr and exit status 2, as argparse does. Running the same command again resumes the run in
``--run-dir`` (a finished run only re-evaluates; ``--extend`` with a larger ``--steps`` trains it longer). Under
``torchrun`` every rank trains on its own batches, gradients are averaged, and rank 0 alone writes the run.
Paper methods have their own notebooks; this script drives the shared engine for the baselines and for
benchmarks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from .data import KNOWN_DATASETS, DeviceBatches, check_dataset_name, load_dataset
from .distributed import pick_device, shutdown_distributed
from .errors import ConfigError, ReproError, exit_with_errors
from .methods import LOSSES, StandardGAN
from .nets import NETWORKS, build_networks
from .train import TrainConfig, train

PROG = "python -m repro.run_gan"


def _net_overrides(pairs: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``["width=32", "spectral_norm=true"]`` -> ({"width": 32, "spectral_norm": True}, []) (values read as JSON,
    else kept as strings), with one error line per pair that is not ``key=value``."""
    overrides, errors = {}, []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            errors.append(f"--net-arg expects key=value, got {pair!r}")
            continue
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides, errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
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


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The loop's configuration from the command line (a ConfigError with one line per bad value)."""
    return TrainConfig(
        steps=args.steps, batch_size=args.batch_size, n_dis=args.n_dis, n_gen=args.n_gen,
        lr_g=args.lr_g, lr_d=args.lr_d, betas_g=(args.beta1, args.beta2), betas_d=(args.beta1, args.beta2),
        schedule=args.schedule, milestones=tuple(args.milestones), gamma=args.gamma,
        ema_decay=args.ema_decay, ema_start=args.ema_start, precision=args.precision,
        channels_last=args.channels_last, compile=args.compile, seed=args.seed,
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, sample_every=args.sample_every,
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # every argument is checked before any data is read or any folder written; all the errors are reported at once
    errors: list[str] = []
    overrides, override_errors = _net_overrides(args.net_arg)
    errors += override_errors
    config = device = networks = None
    try:
        config = train_config(args)
    except ConfigError as err:
        errors += str(err).splitlines()
    try:
        device = pick_device(args.device)
    except ConfigError as err:
        errors.append(f"--device: {err}")
    dataset_found = True
    try:
        check_dataset_name(args.dataset, args.data_dir)
    except ReproError as err:
        errors.append(f"--dataset: {err}")
        dataset_found = False
    if not override_errors:
        torch.manual_seed(args.seed)  # the same command starts from the same weights
        try:
            networks = build_networks(args.net, overrides)
        except ConfigError as err:
            errors.append(f"--net-arg: {err}")
    spec = KNOWN_DATASETS.get(args.dataset)
    if dataset_found and networks is not None and spec is not None and tuple(networks[0].image_shape) != spec.shape:
        errors.append(f"{args.net} makes {tuple(networks[0].image_shape)} images but {args.dataset} has {spec.shape}")
    if errors:
        exit_with_errors(PROG, errors)
    generator, discriminator = networks
    try:
        dataset = load_dataset(args.dataset, "train", args.data_dir)
        if tuple(generator.image_shape) != dataset.shape:
            raise ConfigError(f"{args.net} makes {tuple(generator.image_shape)} images but {args.dataset} has "
                              f"{dataset.shape}")
        data = DeviceBatches(dataset.images, dataset.labels, config.batch_size, device=device,
                             value_range=generator.output_range)
    except ReproError as err:
        exit_with_errors(PROG, [err])
    method = StandardGAN(generator, discriminator, loss=args.loss, network={"name": args.net, "args": overrides})
    try:
        result = train(method, data, config, args.run_dir, value_range=generator.output_range, extend=args.extend)
    except ConfigError as err:  # a resume refused (other settings, or a longer run without --extend)
        shutdown_distributed(wait_for_others=False)
        exit_with_errors(PROG, [err])
    except BaseException:
        shutdown_distributed(wait_for_others=False)
        raise
    shutdown_distributed()  # under torchrun: every rank leaves the process group together
    if result.resumed and result.started_at == result.step:
        print(f"{args.run_dir}: already finished at iteration {result.step}; only re-evaluated, nothing trained "
              "(to train it longer: a larger --steps with --extend)")
    else:
        origin = f"resumed from {result.started_at}" if result.resumed else "fresh"
        print(f"{args.run_dir}: iteration {result.step} ({origin}), {result.call_seconds:.1f} s")


if __name__ == "__main__":
    main()
