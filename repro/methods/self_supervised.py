"""Rotation self-supervision on top of a standard GAN: SSGAN (Chen et al. 2019) and MS-GAN's multi-class minimax
task (Tran et al. 2019); ms_gan.md §1.3-1.7.

A classifier head C on D's penultimate features predicts the rotation of a rotated image:

* ``task="rotation"`` (SSGAN): a 4-way head. L_D = L_D^GAN + β·E CE_4(C(T_k x), k) on **reals only**;
  L_G = L_G^GAN + α·E CE_4(C(T_k G(z)), k) on **fakes only**. Defaults α = 0.2, β = 1.0 (Chen et al.'s SSGAN, as
  compare_gan and mimicry run it). With α = 0 it is the MS-GAN paper's self-supervised baseline (SS-DistGAN: every
  official driver sets λ_g = 0 for ``ss_task`` 1; ms_gan.md §1.6); G then computes no rotated fakes.
* ``task="minimax"`` (MS-GAN as its authors' code computes it; ms_gan.md §1.6): a 5-way head whose last class is
  "generated". L_D = L_D^GAN + λ_d·CE_5 over one mixed batch (of the 4 rotations of the reals, labelled by
  rotation, and the **upright** fakes, labelled 4: N of the 5N items, :func:`repro.rotation.draw_ms_mix`);
  L_G = L_G^GAN + λ_g·|E CE_5(C(T_k G(z)), k) − E CE_5(C(T_k x), k)| on a fresh real batch with the same rotation
  draw (:func:`repro.losses.ms_generator_matching`). Defaults λ_d = 1.0, λ_g = 0.1 (the official CIFAR DCGAN
  setting); the plans set each setting's official pair.
* ``task="minimax_single"``: the official D term with the G term of the authors' earlier standard-GAN driver
  (github tntrung/msgan commit 1d95d15, ms_gan.md §1.7): λ_g·E CE_5(C(T_k G(z)), k), minimised.
* ``task="minimax_reconstruction"``: the "paper-form reconstruction" (SSGAN-LA's ``ssgan_ms``; ms_gan.md §1.4):
  L_D = L_D^GAN + λ_d·[E CE_5(C(T_k x), k) + E CE_5(C(T_k G(z)), generated)];
  L_G = L_G^GAN + λ_g·[E CE_5(C(T_k G(z)), k) − E CE_5(C(T_k G(z)), generated)] = L_G^GAN + λ_g·E[u_gen − u_k].
  This repository's default until December 2026; no official code computes it.
* ``task="none"``: the plain GAN, for equal-budget baselines through the same code path.

The adversarial loss sees upright images only; rotated images feed only C (pitfall 17). D is called separately on
the upright real, upright fake, rotated real and rotated fake batches, each with its own batch statistics where D
has batch norm, as the official code does (pitfall 6).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import losses
from ..errors import ConfigError
from ..rotation import (
    NUM_ROTATIONS,
    ROTATION_SCHEMES,
    RotationDraw,
    apply_rotations,
    draw_ms_mix,
    draw_rotations,
    mixed_batch,
)
from .base import Logs
from .gan import StandardGAN

TASKS: dict[str, tuple[float, float]] = {  # task -> default (weight on D's term, weight on G's term)
    "none": (0.0, 0.0),
    "rotation": (1.0, 0.2),  # SSGAN: β, α (Chen et al. 2019)
    "minimax": (1.0, 0.1),  # MS-GAN, official form: λ_d, λ_g (msdistgan_cifar.py, DCGAN)
    "minimax_single": (1.0, 0.1),  # official D term, G term of commit 1d95d15
    "minimax_reconstruction": (1.0, 0.1),  # the paper-form reconstruction
}
MIXED_D_TASKS = frozenset({"minimax", "minimax_single"})  # D's term on the official mixed batch
HEAD = "rotation"


def task_logits(discriminator: nn.Module, images: torch.Tensor, draw: RotationDraw) -> torch.Tensor:
    """The rotation head's logits (M, 4 or 5) on the rotated batch of ``draw``: C(T_k x) from D's features."""
    return discriminator.head(HEAD, discriminator.features(apply_rotations(images, draw)))


def rotation_draw(batch_size: int, scheme: str, noise: torch.Generator, device: torch.device) -> RotationDraw:
    """A rotation draw of ``scheme`` drawn on the CPU from the method's own seeded ``noise`` (resumable; "quarter"
    and "all" use no RNG), then moved to ``device``."""
    draw = draw_rotations(batch_size, scheme, noise)
    return RotationDraw(draw.source.to(device), draw.rotation.to(device))


def mixed_task_loss(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                    noise: torch.Generator) -> tuple[torch.Tensor, Logs]:
    """MS-GAN's official D term (ms_gan.md §1.6): one 5-way CE over the mixed batch of rotated reals and upright
    fakes (N of 5N, drawn on the CPU from ``noise``), with its logs: the term, how often fakes are called
    generated and how often rotated reals get their rotation. ``real``, ``fake``: (N, C, H, W)."""
    mix = draw_ms_mix(real.shape[0], noise)
    images, targets = mixed_batch(real, fake, mix)
    mixed_logits = discriminator.head(HEAD, discriminator.features(images))
    task_loss = losses.ms_mixed_cross_entropy(mixed_logits, targets)
    guessed, is_fake = mixed_logits.detach().argmax(1), targets == NUM_ROTATIONS
    logs = {"d_task": task_loss.detach(),
            "d_fake_as_generated": (guessed[is_fake] == NUM_ROTATIONS).float().mean().nan_to_num(),
            "d_rotation_accuracy": (guessed[~is_fake] == targets[~is_fake]).float().mean().nan_to_num()}
    return task_loss, logs


class SelfSupervisedGAN(StandardGAN):
    """A standard GAN (``loss``: "ns", "minimax" or "hinge") plus the rotation task ``task`` (module docstring).

    ``weight_d`` / ``weight_g`` default to the task's (β, α) or (λ_d, λ_g); ``rotation_scheme`` chooses which image
    gets which rotation (:mod:`repro.rotation`; by default "random", the official MS code's draw, reused for the
    fake batch, for the official MS tasks, and "quarter" otherwise).
    """

    name = "self_supervised_gan"

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        task: str = "rotation",
        loss: str = "ns",
        weight_d: float | None = None,
        weight_g: float | None = None,
        rotation_scheme: str | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(generator, discriminator, loss, seed)
        if task not in TASKS:
            raise ConfigError(f"unknown self-supervised task {task!r}; choose one of {', '.join(TASKS)}")
        # the official MS code draws n of the 4n rotated copies at random (ms_gan.md §1.1); SSGAN as mimicry and
        # SSGAN-LA run it splits the batch in quarters
        rotation_scheme = rotation_scheme or ("random" if task in MIXED_D_TASKS else "quarter")
        if rotation_scheme not in ROTATION_SCHEMES:
            raise ConfigError(
                f"unknown rotation scheme {rotation_scheme!r}; choose one of {', '.join(ROTATION_SCHEMES)}"
            )
        default_d, default_g = TASKS[task]
        self.task = task
        self.weight_d = default_d if weight_d is None else float(weight_d)
        self.weight_g = default_g if weight_g is None else float(weight_g)
        if task == "none" and (self.weight_d or self.weight_g):
            raise ConfigError("task='none' has no self-supervised term to weight; leave weight_d and weight_g unset")
        self.rotation_scheme = rotation_scheme
        if task != "none":
            discriminator.add_head(HEAD, NUM_ROTATIONS + task.startswith("minimax"))
        # the official G term compares the classifier's loss on rotated fakes with that on a fresh real batch
        self.generator_needs_real = task == "minimax" and self.weight_g != 0

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "task": self.task, "weight_d": self.weight_d, "weight_g": self.weight_g,
                "rotation_scheme": self.rotation_scheme}

    def _draw(self, batch_size: int, device: torch.device) -> RotationDraw:
        return rotation_draw(batch_size, self.rotation_scheme, self.noise, device)

    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(self.sample_latent(real.shape[0]))  # one fake batch for both terms
        real_scores = self.discriminator(real)
        fake_scores = self.discriminator(fake)
        adversarial = self.d_loss_fn(real_scores, fake_scores)
        logs = {"d_real": real_scores.detach().mean(), "d_fake": fake_scores.detach().mean()}
        if self.task == "none" or self.weight_d == 0:  # λ_d = 0: no term, and no draw from the noise stream
            return adversarial, logs
        if self.task in MIXED_D_TASKS:  # drawn from the method's own generator (resumable)
            task_loss, task_logs = mixed_task_loss(self.discriminator, real, fake, self.noise)
            return adversarial + self.weight_d * task_loss, {**logs, **task_logs}
        draw = self._draw(real.shape[0], real.device)
        real_logits = task_logits(self.discriminator, real, draw)
        if self.task == "rotation":
            task_loss = losses.rotation_cross_entropy(real_logits, draw.rotation)
        else:
            fake_logits = task_logits(self.discriminator, fake, draw)
            task_loss = losses.ms_discriminator_task(real_logits, draw.rotation, fake_logits)
            logs["d_fake_as_generated"] = (fake_logits.detach().argmax(1) == NUM_ROTATIONS).float().mean()
        logs["d_task"] = task_loss.detach()
        logs["d_rotation_accuracy"] = (real_logits.detach().argmax(1) == draw.rotation).float().mean()
        return adversarial + self.weight_d * task_loss, logs

    def generator_loss(
        self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        fake = self.generator(self.sample_latent(batch_size))
        adversarial = self.g_loss_fn(self.discriminator(fake))
        if self.task == "none" or self.weight_g == 0:  # λ_g = 0: the D-only baseline computes no G term
            return adversarial, {}
        draw = self._draw(batch_size, fake.device)
        fake_logits = task_logits(self.discriminator, fake, draw)
        if self.task in ("rotation", "minimax_single"):
            task_loss = losses.rotation_cross_entropy(fake_logits, draw.rotation)
        elif self.task == "minimax":
            if real is None:
                raise ValueError("the official MS G term needs a real batch (the loop passes one: "
                                 "generator_needs_real)")
            with torch.no_grad():  # the real term is a constant for G
                real_logits = task_logits(self.discriminator, real, draw)
            task_loss = losses.ms_generator_matching(fake_logits, real_logits, draw.rotation)
        else:
            task_loss = losses.ms_generator_task(fake_logits, draw.rotation)
        return adversarial + self.weight_g * task_loss, {"g_adversarial": adversarial.detach(),
                                                         "g_task": task_loss.detach()}
