"""Architectures only: one file per family. Training rules live in repro.methods, metrics in repro.metrics.

``NETWORKS`` maps a backbone name to a factory returning a matching (generator, discriminator) pair; keyword
arguments override the factory's defaults, e.g. ``NETWORKS["dcgan28"](batch_norm=False)``. :func:`build_networks`
does the same for arguments typed by a user (``repro.run_gan``) or read back from a run's config.json
(``repro.score``), with one-line errors.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import ConfigError, ReproError
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


def network_arguments(name: str) -> list[str]:
    """The keyword arguments the factory ``NETWORKS[name]`` takes, in order."""
    return list(inspect.signature(NETWORKS[name]).parameters)


def build_networks(name: str, arguments: dict[str, Any] | None = None) -> tuple[Generator, Discriminator]:
    """``NETWORKS[name](**arguments)``; a one-line ConfigError naming an unknown network or argument, or saying why
    the values cannot build the pair (the factory's own error, or torch's on impossible sizes)."""
    arguments = arguments or {}
    if name not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; known networks are {', '.join(NETWORKS)}")
    valid = network_arguments(name)
    unknown = [key for key in arguments if key not in valid]
    if unknown:
        raise ConfigError(f"{name} takes no argument {', '.join(map(repr, unknown))}; its arguments are "
                          f"{', '.join(valid)}")
    try:
        return NETWORKS[name](**arguments)
    except ReproError as err:  # the factories' own checks name the value
        raise ConfigError(f"{name}: {' '.join(str(err).split())}") from err
    except (ValueError, TypeError, RuntimeError) as err:  # torch's, deep inside a layer
        given = ", ".join(f"{key}={json.dumps(value)}" for key, value in arguments.items())
        raise ConfigError(f"cannot build {name} with {given}: {' '.join(str(err).split())}") from err


__all__ = ["NETWORKS", "Discriminator", "Generator", "build_networks", "network_arguments"]
