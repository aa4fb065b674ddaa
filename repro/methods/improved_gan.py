"""Improved-GAN (Salimans et al. 2016): pieces of the method that hold state across steps.

The losses are in :mod:`repro.losses` (K+1 semi-supervised loss, feature matching, one-sided label smoothing)
and the layers in :mod:`repro.nets.improved_gan`; the full method and its notebooks come with issue 5.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class HistoricalAverage(nn.Module):
    """Historical averaging (Salimans et al. §3.3): λ Σ ‖θ − (1/t) Σ_{i≤t} θ[i]‖² added to a player's cost.

    Not in the released code; our reading (improved_gan.md §1.5): an online mean m_t = m_{t−1} + (θ_t − m_{t−1})/t
    per parameter, held as buffers so that checkpoints carry it. Call :meth:`penalty` inside the loss and
    :meth:`update` after the optimiser step.
    """

    def __init__(self, parameters: Iterable[nn.Parameter], weight: float = 1e-3) -> None:
        super().__init__()
        self.parameters_ = list(parameters)
        self.weight = weight
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        for i, parameter in enumerate(self.parameters_):
            self.register_buffer(f"mean_{i}", parameter.detach().clone())

    def means(self) -> list[torch.Tensor]:
        return [getattr(self, f"mean_{i}") for i in range(len(self.parameters_))]

    def penalty(self) -> torch.Tensor:
        """λ Σ ‖θ − m‖² over the tracked parameters (0 before the first update: m starts at θ_0)."""
        return self.weight * sum(((p - m) ** 2).sum() for p, m in zip(self.parameters_, self.means(), strict=True))

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current parameters into the running mean of all past values."""
        self.steps += 1
        for parameter, mean in zip(self.parameters_, self.means(), strict=True):
            mean += (parameter - mean) / (self.steps + 1)  # θ_0 is the first term of the mean
