"""MMGAN (Park et al. 2018), our interpretation: G matches the manifold of its samples to the real one in D's
last hidden layer (repro/manifold.py; mmgan.md §1). Every reading of the abstract is a named option:

* ``kernel``: "rbf" (default, median-heuristic bandwidth on the current real batch), "rbf_multi", "linear";
* ``match_radius``: match the radius as well as the centre (False + linear = feature matching);
* ``averaging``: the real manifold across minibatches: "bank" (default, a FIFO of the last ``bank_size`` real
  embedding batches, detached, used as the real set), "ema" (linear kernel only: moving averages of the real
  centre and radius with momentum ``momentum``), or "none" (the current batch);
* ``correlation_weight``: λ_corr of the correlation regulariser (0 switches it off);
* ``objective``: "mm" (variant A: L_G = L_MM + λ_corr L_corr) or "ns+mm" (variant B: the non-saturating loss plus
  λ_MM L_MM + λ_corr L_corr).

D is trained by the non-saturating loss only, on real and fake batches in separate calls (its nets have no BN:
per-batch BN would match batch statistics trivially, §2). The real embeddings in G's loss are detached.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import losses
from ..errors import ConfigError
from ..manifold import (
    KERNELS,
    RADIUS_EPS,
    correlation_loss,
    manifold_matching_loss,
    matching_to_statistics,
    median_bandwidth,
)
from .base import GANMethod, Logs

AVERAGING = ("bank", "ema", "none")
OBJECTIVES = ("mm", "ns+mm")


class ManifoldMatchingGAN(GANMethod):
    """MMGAN, our interpretation (module docstring)."""

    name = "mmgan"
    generator_needs_real = True  # the real manifold comes from a fresh real batch at every G step

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        kernel: str = "rbf",
        match_radius: bool = True,
        averaging: str = "bank",
        bank_size: int = 4,
        momentum: float = 0.9,
        correlation_weight: float = 1.0,
        objective: str = "mm",
        matching_weight: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__(generator, discriminator, seed)
        if kernel not in KERNELS:
            raise ConfigError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
        if averaging not in AVERAGING:
            raise ConfigError(f"unknown averaging {averaging!r}; choose one of {', '.join(AVERAGING)}")
        if averaging == "ema" and kernel != "linear":
            raise ConfigError("averaging='ema' stores an explicit centre, which exists for the linear kernel only; "
                              "use averaging='bank' with the Gaussian kernels")
        if objective not in OBJECTIVES:
            raise ConfigError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if bank_size < 1 or not 0 <= momentum < 1:
            raise ConfigError(f"need bank_size >= 1 and 0 <= momentum < 1, got {bank_size} and {momentum}")
        self.kernel, self.match_radius, self.averaging = kernel, match_radius, averaging
        self.bank_size, self.momentum = bank_size, momentum
        self.correlation_weight, self.objective, self.matching_weight = correlation_weight, objective, matching_weight
        self.bank: list[torch.Tensor] = []  # detached real embedding batches, oldest first
        self.ema_centre: torch.Tensor | None = None
        self.ema_radius: torch.Tensor | None = None

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "kernel": self.kernel, "match_radius": self.match_radius,
                "averaging": self.averaging, "bank_size": self.bank_size, "momentum": self.momentum,
                "correlation_weight": self.correlation_weight, "objective": self.objective,
                "matching_weight": self.matching_weight}

    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(self.sample_latent(real.shape[0]))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        logs = {"d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        return losses.d_loss_ns(real_logits, fake_logits), logs

    def _remember(self, real_embeddings: torch.Tensor) -> None:
        """Update the moving-averaged real manifold with the current batch (detached)."""
        real_embeddings = real_embeddings.detach()
        device = real_embeddings.device  # a resumed run's state was loaded on the CPU
        self.bank = [b.to(device) for b in self.bank]
        if self.ema_centre is not None:
            self.ema_centre, self.ema_radius = self.ema_centre.to(device), self.ema_radius.to(device)
        if self.averaging == "bank":
            self.bank = [*self.bank, real_embeddings][-self.bank_size :]
        elif self.averaging == "ema":
            centre = real_embeddings.mean(0)
            radius = ((real_embeddings - centre).pow(2).sum(1) + RADIUS_EPS).sqrt().mean()
            if self.ema_centre is None:
                self.ema_centre, self.ema_radius = centre, radius
            else:
                m = self.momentum
                self.ema_centre = m * self.ema_centre + (1 - m) * centre
                self.ema_radius = m * self.ema_radius + (1 - m) * radius

    def matching_loss(self, real_embeddings: torch.Tensor, fake_embeddings: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        """L_MM of the fake embeddings against the (moving-averaged) real manifold, and the bandwidth used."""
        self._remember(real_embeddings)
        logs: Logs = {}
        if self.averaging == "ema":
            return matching_to_statistics(fake_embeddings, self.ema_centre, self.ema_radius, self.match_radius), logs
        reference = torch.cat(self.bank) if self.averaging == "bank" else real_embeddings.detach()
        bandwidth = None if self.kernel == "linear" else median_bandwidth(real_embeddings)
        if bandwidth is not None:
            logs["bandwidth"] = bandwidth
        loss = manifold_matching_loss(reference, fake_embeddings, self.kernel, bandwidth, self.match_radius)
        return loss, logs

    def generator_loss(
        self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        if real is None:
            raise ValueError("MMGAN's generator loss needs a real batch (the loop passes one: generator_needs_real)")
        fake = self.generator(self.sample_latent(batch_size))
        fake_embeddings = self.discriminator.features(fake)
        with torch.no_grad():
            real_embeddings = self.discriminator.features(real)
        matching, logs = self.matching_loss(real_embeddings, fake_embeddings)
        loss = matching if self.objective == "mm" else (
            losses.g_loss_ns(self.discriminator.adversarial_logits(fake_embeddings)) + self.matching_weight * matching)
        logs["g_matching"] = matching.detach()
        if self.correlation_weight:
            correlation = correlation_loss(real_embeddings, fake_embeddings)
            loss = loss + self.correlation_weight * correlation
            logs["g_correlation"] = correlation.detach()
        return loss, logs

    def get_extra_state(self) -> dict[str, Any]:
        """Checkpointed: the noise generator, the bank and the moving averages (a resumed run continues them)."""
        return {**super().get_extra_state(), "bank": list(self.bank), "ema_centre": self.ema_centre,
                "ema_radius": self.ema_radius}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        super().set_extra_state(state)
        self.bank = list(state["bank"])
        self.ema_centre, self.ema_radius = state["ema_centre"], state["ema_radius"]
