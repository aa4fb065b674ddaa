"""The method interface: a GAN variant is a discriminator step and a generator step over a batch.

A method holds G and D (so ``method.state_dict()`` checkpoints them together with any running averages or
memory banks the method registers as buffers) and a seeded noise generator of its own, so that a resumed run
draws exactly the latent vectors the uninterrupted run would have drawn. Subclasses implement the two losses;
the base class turns them into update steps. The training loop (repro/train.py) owns optimisers, schedules,
precision and checkpoints, and knows nothing of the objective.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from ..nets.base import draw_latents

Logs = dict[str, torch.Tensor]


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """No weight gradients for ``modules`` meanwhile: gradients still flow through them to their inputs. Parameters
    that were frozen before stay frozen."""
    trainable = [p for module in modules for p in module.parameters() if p.requires_grad]
    for parameter in trainable:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)


class GANMethod(nn.Module):
    """Base class of every method. Subclasses define ``discriminator_loss`` and ``generator_loss``."""

    name = "gan"
    # True when the G loss needs real images (feature matching): the loop then draws a fresh real batch for
    # every G step and passes it as ``real``
    generator_needs_real = False
    # True when a D step needs a second fresh real batch (Dist-GAN's encoder step): the loop then draws one before
    # the D step's own batch and passes it as ``extra_real``
    discriminator_needs_extra_real = False

    def __init__(self, generator: nn.Module, discriminator: nn.Module, seed: int = 0) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim: int = generator.latent_dim
        self.noise = torch.Generator().manual_seed(seed)

    # -- hyper-parameters, compared on resume ------------------------------------------------------------
    def hparams(self) -> dict[str, Any]:
        """What defines this method's run besides the training config: compared when a run resumes."""
        return {
            "method": self.name,
            "generator": type(self.generator).__name__,
            "discriminator": type(self.discriminator).__name__,
            "generator_parameters": sum(p.numel() for p in self.generator.parameters()),
            "discriminator_parameters": sum(p.numel() for p in self.discriminator.parameters()),
        }

    # -- objectives (subclasses) -------------------------------------------------------------------------
    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        """Loss for D on a batch of real images (B, C, H, W) with labels (B,), and detached tensors to log."""
        raise NotImplementedError

    def generator_loss(
        self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        """Loss for G on ``batch_size`` fresh samples (labels: the real batch's, for conditional methods;
        ``real``: a fresh real batch when :attr:`generator_needs_real`)."""
        raise NotImplementedError

    # -- update steps ------------------------------------------------------------------------------------
    def discriminator_step(
        self, real: torch.Tensor, labels: torch.Tensor, optimizer: torch.optim.Optimizer,
        extra_real: torch.Tensor | None = None,
    ) -> Logs:
        """One update of D; returns detached scalars to log (no host sync). ``extra_real``: a second fresh real
        batch when :attr:`discriminator_needs_extra_real` (unused here; a subclass's extra update takes it)."""
        loss, logs = self.discriminator_loss(real, labels)
        self._update(loss, optimizer, self.discriminator.parameters())
        return {"d_loss": loss.detach(), **logs}

    def generator_step(
        self,
        batch_size: int,
        labels: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        real: torch.Tensor | None = None,
    ) -> Logs:
        """One update of G; returns detached scalars to log (no host sync).

        D's weights are frozen meanwhile: the gradient flows through D to G, but D's own weight gradients,
        which G's update never uses, are not computed.
        """
        with frozen(self.discriminator):
            loss, logs = self.generator_loss(batch_size, labels, real)
            self._update(loss, optimizer, self.generator.parameters())
        return {"g_loss": loss.detach(), **logs}

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, parameters: Iterable) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.gradient_hook is not None:  # data-parallel runs average gradients across ranks here
            self.gradient_hook(parameters)
        optimizer.step()

    gradient_hook = None

    # -- helpers -----------------------------------------------------------------------------------------
    def sample_latent(self, batch_size: int) -> torch.Tensor:
        """z (batch_size, latent_dim) in G's latent distribution, from the method's own seeded generator."""
        device = next(self.generator.parameters()).device
        return draw_latents(self.generator, batch_size, self.noise).to(device, non_blocking=True)

    def get_extra_state(self) -> dict[str, Any]:
        """Checkpointed with the state dict: the noise generator's state."""
        return {"noise": self.noise.get_state()}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.noise.set_state(state["noise"])
