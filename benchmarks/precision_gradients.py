"""How far are bf16 gradients from fp32 ones, network by network? One look instead of a training study.

    .venv/bin/python benchmarks/precision_gradients.py --data-dir ../shared/datasets
    .venv/bin/python benchmarks/precision_gradients.py --networks dcgan32 --widths 16 32 64 --batches 8

For each network pair (``repro.nets.NETWORKS``) at its initialisation, and for ``--batches`` real batches of its
dataset, it computes the weight gradients of D's loss and of G's loss (non-saturating, batch 64) twice: in fp32,
and under CPU bf16 autocast with channels-last, as ``repro.train`` runs them. It prints the relative error
``‖g_bf16 − g_fp32‖ / ‖g_fp32‖`` of the whole gradient of each network and of its first (input-side) weight,
averaged over the batches ("first weight": the first weight parameter registered, the input-side layer in
these Sequential-built networks). Biases of layers followed by batch norm are left out: their true gradient is zero
(the normalisation removes them), so any rounding makes their relative error huge and meaningless.

For scale, the last column is the same relative difference between the fp32 gradients of two different
minibatches (other real images, other latents): the sampling noise that SGD already lives with. A bf16 error
far below it adds little noise to the step; whether it changes sample quality is for a training study
(``precision_parity.py``) to settle.
"""

from __future__ import annotations

import argparse
import copy
import os

import numpy as np
import torch
from torch import nn

from repro import losses
from repro.data import DeviceBatches, load_dataset
from repro.nets import NETWORKS
from repro.stacked_mnist import StackedMNISTBatches

DATASET = {"dcgan28": "mnist", "dcgan32": "cifar10", "sngan_cnn32": "cifar10", "sngan_resnet32": "cifar10",
           "stacked_mnist_k4": "stacked_mnist", "stacked_mnist_k2": "stacked_mnist"}
BATCH = 64


def real_batches(dataset: str, data_dir: str | None, count: int, seed: int) -> list[torch.Tensor]:
    """``count`` + 1 batches of real images in [-1, 1], drawn as training draws them."""
    if dataset == "stacked_mnist":
        mnist = load_dataset("mnist", "train", data_dir)
        batches = StackedMNISTBatches(mnist.images, mnist.labels, BATCH, seed=seed)
    else:
        batches = DeviceBatches(load_dataset(dataset, "train", data_dir).images, None, BATCH, seed=seed)
    return [batches.next()[0] for _ in range(count + 1)]


def weight_gradients(generator: nn.Module, discriminator: nn.Module, real: torch.Tensor, latents: torch.Tensor,
                     bf16: bool) -> dict[str, dict[str, torch.Tensor]]:
    """D's and G's weight gradients for one batch, in fp32 or under bf16 autocast with channels-last."""
    generator, discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    if bf16:
        generator.to(memory_format=torch.channels_last)
        discriminator.to(memory_format=torch.channels_last)
        real = real.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        with torch.no_grad():
            fake = generator(latents)
        losses.d_loss_ns(discriminator(real).float(), discriminator(fake).float()).backward()
        d_grads = {n: p.grad.float().clone() for n, p in discriminator.named_parameters() if p.grad is not None}
        generator.zero_grad()
        losses.g_loss_ns(discriminator(generator(latents)).float()).backward()
        g_grads = {n: p.grad.float().clone() for n, p in generator.named_parameters() if p.grad is not None}
    return {"D": d_grads, "G": g_grads}


def normalised_away(network: nn.Module) -> set[str]:
    """Names of biases whose layer is directly followed by batch norm (their gradient is zero in exact maths).
    "Followed" is the order in which a container registers its children, which is the data flow for the
    ``nn.Sequential`` blocks these networks are built from."""
    names = set()
    for prefix, module in network.named_modules():
        children = list(module.named_children())
        for (name, layer), (_, following) in zip(children, children[1:], strict=False):
            if isinstance(following, nn.modules.batchnorm._BatchNorm) and getattr(layer, "bias", None) is not None:
                names.add(f"{prefix}.{name}.bias".lstrip("."))
    return names


def relative_error(reference: dict[str, torch.Tensor], other: dict[str, torch.Tensor], names: list[str]) -> float:
    """‖other − reference‖ / ‖reference‖ over the parameters ``names``, taken together as one vector."""
    difference = torch.cat([(reference[n] - other[n]).flatten() for n in names])
    return float(difference.norm() / torch.cat([reference[n].flatten() for n in names]).norm())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--networks", nargs="+", default=["dcgan28", "dcgan32", "sngan_cnn32", "stacked_mnist_k4"],
                        choices=sorted(DATASET))
    parser.add_argument("--widths", type=int, nargs="+", default=[None], help="the factories' width= (default: theirs)")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print("| network | width | net | ‖Δ‖/‖g‖ bf16, all weights | bf16, first weight | another minibatch, fp32 |")
    print("|---|---|---|---|---|---|")
    for network in args.networks:
        batches = real_batches(DATASET[network], args.data_dir, args.batches, seed=0)
        for width in args.widths:
            torch.manual_seed(0)
            generator, discriminator = NETWORKS[network](**({} if width is None else {"width": width}))
            if generator.output_range != "symmetric":
                raise SystemExit(f"{network}: output range {generator.output_range!r}; this script feeds [-1, 1] "
                                 "images")
            skip = {"D": normalised_away(discriminator), "G": normalised_away(generator)}
            errors: dict[str, list[tuple[float, float, float]]] = {"D": [], "G": []}
            for index in range(args.batches):
                latents = torch.randn(BATCH, generator.latent_dim, generator=torch.Generator().manual_seed(index))
                exact = weight_gradients(generator, discriminator, batches[index], latents, bf16=False)
                rounded = weight_gradients(generator, discriminator, batches[index], latents, bf16=True)
                other_latents = torch.randn(BATCH, generator.latent_dim,
                                            generator=torch.Generator().manual_seed(args.batches + index))
                other = weight_gradients(generator, discriminator, batches[index + 1], other_latents, bf16=False)
                for net in errors:
                    names = [n for n in exact[net] if n not in skip[net]]
                    first = [next(n for n in names if "weight" in n)]  # spectral norm: ...weight.original
                    errors[net].append((relative_error(exact[net], rounded[net], names),
                                        relative_error(exact[net], rounded[net], first),
                                        relative_error(exact[net], other[net], names)))
            for net, rows in errors.items():
                overall, first, sampling = np.mean(rows, axis=0)
                shown = width if width is not None else "default"
                print(f"| {network} | {shown} | {net} | {overall:.3f} | {first:.3f} | {sampling:.3f} |", flush=True)


if __name__ == "__main__":
    main()
