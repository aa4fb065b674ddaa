"""The supervised-only baseline beside Improved-GAN's semi-supervised tables: the GAN's own discriminator (same
noise or dropout, weight norm and data-dependent init, same labeled split) trained on the labeled images
alone, for as many D steps and with the same optimiser and schedule. The margin between the two is what the
unlabeled data and the generator buy (Salimans et al. §5)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..methods.improved_gan import SemiSupervisedGAN, classification_error

SUPERVISED_ONLY = "supervised only (same D)"  # the model name of the baseline's rows


def labels_only_test_error(method: SemiSupervisedGAN, *, iterations: int, batch_size: int, lr: float,
                           decay_start: int | None, test_images: np.ndarray, test_labels: np.ndarray
                           ) -> dict[str, Any]:
    """Train ``method``'s discriminator with :meth:`SemiSupervisedGAN.labels_only_step` (Adam, β = (0.5, 0.999),
    the Theano ε as the GAN runs; the rate decays linearly to 0 from ``decay_start``, None: constant) and return
    the current D's test error (fraction, dropout/noise off; the GAN's parameter average is not kept) and the
    training wall time. Runs in the precision of the caller (no autocast) and keeps no checkpoint."""
    optimizer = torch.optim.Adam(method.discriminator.parameters(), lr=lr, betas=(0.5, 0.999), eps=1e-4, fused=True)
    decay_from = iterations if decay_start is None else decay_start
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min(1.0, (iterations - i) / max(1, iterations - decay_from)))
    started = time.perf_counter()
    method.discriminator.train()
    for _ in range(iterations):
        method.labels_only_step(batch_size, optimizer)
        schedule.step()
    error = classification_error(method.discriminator, torch.from_numpy(test_images), test_labels,
                                 method.value_range)
    return {"error": error, "wall_seconds": round(time.perf_counter() - started, 1)}
