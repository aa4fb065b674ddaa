"""The plain baselines: DCGAN with the non-saturating or minimax loss, SNGAN with the hinge loss.

The objective is chosen by name from :data:`LOSSES`; spectral normalisation belongs to the discriminator's
architecture (repro/nets), so SNGAN is ``StandardGAN(G, D_with_spectral_norm, loss="hinge")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .. import losses
from ..errors import ConfigError
from .base import GANMethod, Logs

DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GLoss = Callable[[torch.Tensor], torch.Tensor]

LOSSES: dict[str, tuple[DLoss, GLoss]] = {
    "ns": (losses.d_loss_ns, losses.g_loss_ns),  # DCGAN (Radford et al. 2016) with the non-saturating G loss
    "minimax": (losses.d_loss_ns, losses.g_loss_minimax),  # the original game (Goodfellow et al. 2014, Eq. 1)
    "hinge": (losses.d_loss_hinge, losses.g_loss_hinge),  # SNGAN (Miyato et al. 2018)
}


class StandardGAN(GANMethod):
    """Unconditional GAN with one of the standard losses; D sees real and fake batches in separate calls
    (so that batch-norm statistics are never mixed across real and fake)."""

    name = "standard_gan"

    def __init__(self, generator: nn.Module, discriminator: nn.Module, loss: str = "ns", seed: int = 0,
                 network: dict[str, Any] | None = None) -> None:
        """``network``: how G and D were built, ``{"name": <repro.nets.NETWORKS key>, "args": {...}}``, recorded in
        the run's config.json so that the run can be rebuilt from its folder alone (``repro.run_gan`` passes it;
        ``repro.score`` reads it)."""
        super().__init__(generator, discriminator, seed)
        if loss not in LOSSES:
            raise ConfigError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        self.loss = loss
        self.d_loss_fn, self.g_loss_fn = LOSSES[loss]
        self.network = network

    def hparams(self) -> dict[str, Any]:
        recorded = {"network": self.network} if self.network is not None else {}
        return {**super().hparams(), "loss": self.loss, **recorded}

    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(self.sample_latent(real.shape[0]))
        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake)
        logs = {"d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        return self.d_loss_fn(real_logits, fake_logits), logs

    def generator_loss(
        self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        fake_logits = self.discriminator(self.generator(self.sample_latent(batch_size)))
        return self.g_loss_fn(fake_logits), {}
