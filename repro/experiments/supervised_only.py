"""The supervised-only baseline beside Improved-GAN's semi-supervised tables: the GAN's own discriminator (same
noise or dropout, weight norm and data-dependent init, same labeled split) trained on the labeled images
alone, for as many D steps and with the same optimiser and schedule. The margin between the two is what the
unlabeled data and the generator buy (Salimans et al. §5)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..distributed import pick_device
from ..methods.improved_gan import SemiSupervisedGAN, classification_error
from ..train import TrainConfig, lr_factor_schedule

SUPERVISED_ONLY = "supervised only (same D)"  # the model name of the baseline's rows


def labels_only_test_error(method: SemiSupervisedGAN, loop: TrainConfig, test_images: np.ndarray,
                           test_labels: np.ndarray) -> dict[str, Any]:
    """Train ``method``'s discriminator with :meth:`SemiSupervisedGAN.labels_only_step` for ``loop.steps``
    batches of ``loop.batch_size``, with D's optimiser and schedule from ``loop`` (the GAN run's own loop
    configuration, so "the same optimiser and schedule" holds by construction), and return the current D's
    test error (fraction, dropout/noise off; the GAN's parameter average is not kept) and the training wall
    time. Runs on :func:`~repro.distributed.pick_device` (CUDA when there is one) in the loop's precision (bf16
    autocast when the GAN used it); keeps no checkpoint."""
    device = pick_device()
    method.to(device)
    optimizer = torch.optim.Adam(method.discriminator.parameters(), lr=loop.lr_d, betas=loop.betas_d,
                                 eps=loop.adam_eps, fused=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor_schedule(loop))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=loop.precision == "bf16")
    started = time.perf_counter()
    method.discriminator.train()
    for _ in range(loop.steps):
        with autocast:
            method.labels_only_step(loop.batch_size, optimizer)
        schedule.step()
    error = classification_error(method.discriminator, torch.from_numpy(test_images), test_labels,
                                 method.value_range)
    return {"error": error, "wall_seconds": round(time.perf_counter() - started, 1)}
