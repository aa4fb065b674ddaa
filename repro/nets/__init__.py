"""Architectures only: one file per family. Training rules live in repro.methods, metrics in repro.metrics.

``NETWORKS`` maps a backbone name to a factory returning a matching (generator, discriminator) pair; keyword
arguments override the factory's defaults, e.g. ``NETWORKS["dcgan28"](batch_norm=False)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .base import Discriminator, Generator
from .dcgan import dcgan_nets
from .sngan import sngan_cnn_nets, sngan_resnet_nets
from .stacked_mnist import stacked_mnist_nets

NETWORKS: dict[str, Callable[..., tuple[Generator, Discriminator]]] = {
    "dcgan28": partial(dcgan_nets, image_shape=(1, 28, 28)),
    "dcgan32": partial(dcgan_nets, image_shape=(3, 32, 32)),
    "sngan_cnn32": partial(sngan_cnn_nets, image_shape=(3, 32, 32)),
    "sngan_cnn48": partial(sngan_cnn_nets, image_shape=(3, 48, 48)),
    "sngan_resnet32": partial(sngan_resnet_nets, image_shape=(3, 32, 32)),
    "sngan_resnet48": partial(sngan_resnet_nets, image_shape=(3, 48, 48)),
    "stacked_mnist_k4": partial(stacked_mnist_nets, size="K/4"),
    "stacked_mnist_k2": partial(stacked_mnist_nets, size="K/2"),
}

__all__ = ["NETWORKS", "Discriminator", "Generator"]
