"""Dist-GAN (Tran et al., ECCV 2018), the base model of the MS-GAN authors' code, and its self-supervised variants
SS-DistGAN and MS-DistGAN (Tran et al., NeurIPS 2019); ms_gan.md §1.6, §1.8, §3.1 and §6.

Networks: an encoder E (images -> z-space), G and D; D's features f(·) (its flattened last conv map) serve as the
data space of the autoencoder. z ~ U(-1, 1): G must declare ``latent_distribution="symmetric_uniform"``. As the
official ``msdistgan.py`` (github tntrung/msgan; l.435-455 the loop, l.261-350 the costs), every iteration is

* an **E step** on its own fresh real batch x and fresh z (run inside :meth:`DistGAN.discriminator_step`, before
  D's update; the loop draws the batch: :attr:`discriminator_needs_extra_real`):
  L_E = mean ‖f(x) − f(G(E(x)))‖² + λ_r·(md_x − md_z)², md_x = mean(f(G(E(x))) − f(G(z))),
  md_z = λ_w·mean(E(x) − z) (:func:`repro.losses.distgan_autoencoder_loss`, ``distgan_latent_data_distance``).
  It updates E, and G too with ``encoder_updates_generator`` (the official MNIST / Stacked-MNIST setting,
  l.410-413, pitfall 13), with an Adam of its own (E's optimiser, owned and checkpointed by the method);
* a **D step** on a fresh real batch: the log loss 0.95·BCE(D(x), 1) + 0.05·BCE(D(G(E(x))), 1) + BCE(D(G(z)), 0)
  + λ_p·GP, or the "hinge" loss on scores s (D's logits for DCGAN, its sigmoid outputs for SNGAN / ResNet) with
  the reconstruction weight moving to the reals in the second half of training (μ(t), t = D steps done /
  ``total_steps``), and λ_p·GP *inside* the negated bracket as the official code has it (``hinge_penalty=
  "official"``, pitfall 1: D maximises the penalty) or added (``"added"``). GP = E(RMS slope − 1)² at
  x̂ = εx + (1 − ε)G(z). Plus λ_d × the self-supervised D term;
* a **G step** on a fresh real batch: |E σ(D(x)) − E σ(D(G(z)))| plus λ_g × the self-supervised G term.

Self-supervised tasks (``task``), the official forms (ms_gan.md §1.6; ``msdistgan.py`` l.272-302), with the
official n-of-4n rotation draw reused for fakes and reals (:mod:`repro.rotation`, scheme ``"random"``):

* ``"none"``: Dist-GAN;
* ``"rotation"`` (SS-DistGAN, ``ss_task=1``): D term CE_4(C(T_k x), k) on reals; G term |CE_4(fakes) − CE_4(reals)|
  (every official driver sets λ_g = 0: then G computes no rotated batch);
* ``"minimax"`` (MS-DistGAN, ``ss_task=2``): D term one 5-way CE over the mixed batch of rotated reals and upright
  fakes (:func:`repro.methods.self_supervised.mixed_task_loss`); G term |CE_5(fakes → k) − CE_5(reals → k)|
  (:func:`repro.losses.ms_generator_matching`).

Differences from the official code: the encoder's learning rate follows the loop's schedule of D's (the official
ResNet runs decay all three alike, l.372-376; the others are constant); PyTorch's Adam and layers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from .. import losses
from ..errors import ConfigError
from ..rotation import NUM_ROTATIONS, RotationDraw
from .base import GANMethod, Logs, frozen
from .self_supervised import HEAD, mixed_task_loss, rotation_draw, task_logits

TASKS: dict[str, tuple[float, float]] = {  # task -> default (λ_d, λ_g): the official CIFAR DCGAN setting
    "none": (0.0, 0.0),
    "rotation": (1.0, 0.0),  # SS-DistGAN (msdistgan_cifar.py l.94-96)
    "minimax": (1.0, 0.1),  # MS-DistGAN (msdistgan_cifar.py l.97-99)
}
LOSSES = ("log", "hinge")
HINGE_SCORES = ("logit", "sigmoid")
HINGE_PENALTIES = ("official", "added")


class DistGAN(GANMethod):
    """Dist-GAN with an optional self-supervised task (module docstring).

    ``encoder``: images -> (B, latent_dim) codes (:class:`repro.nets.base.Encoder`). ``lambda_w`` defaults to
    sqrt(latent_dim / D's feature_dim), as every official driver. ``total_steps``: the run's number of D steps
    (iterations × n_dis; Dist-GAN runs n_dis = 1), needed by the hinge loss's μ(t). ``lr_e`` / ``betas_e``:
    E's Adam (the official drivers use G's and D's settings).
    """

    name = "dist_gan"
    generator_needs_real = True  # G matches D's mean sigmoid score on a fresh real batch
    discriminator_needs_extra_real = True  # the encoder step's own real batch

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        encoder: nn.Module,
        *,
        loss: str = "log",
        hinge_on: str = "logit",
        hinge_penalty: str = "official",
        lambda_p: float = 0.5,
        lambda_r: float = 1.0,
        lambda_w: float | None = None,
        encoder_updates_generator: bool = False,
        task: str = "none",
        lambda_d: float | None = None,
        lambda_g: float | None = None,
        total_steps: int | None = None,
        lr_e: float = 2e-4,
        betas_e: tuple[float, float] = (0.5, 0.9),
        seed: int = 0,
    ) -> None:
        super().__init__(generator, discriminator, seed)
        checks = [
            (loss in LOSSES, f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}"),
            (hinge_on in HINGE_SCORES, f"hinge_on must be one of {', '.join(HINGE_SCORES)}, got {hinge_on!r}"),
            (hinge_penalty in HINGE_PENALTIES,
             f"hinge_penalty must be one of {', '.join(HINGE_PENALTIES)}, got {hinge_penalty!r}"),
            (task in TASKS, f"unknown self-supervised task {task!r}; choose one of {', '.join(TASKS)}"),
            (loss != "hinge" or (total_steps or 0) >= 1,
             f"the hinge loss's reconstruction weight follows training progress: give total_steps >= 1, got "
             f"{total_steps!r}"),
            (getattr(encoder, "latent_dim", None) == generator.latent_dim,
             f"the encoder gives codes of {getattr(encoder, 'latent_dim', None)} dimensions, G takes "
             f"{generator.latent_dim}"),
            (getattr(generator, "latent_distribution", "normal") == "symmetric_uniform",
             "Dist-GAN draws z ~ U(-1, 1) (ms_gan.md §3.1): build G with latent_distribution='symmetric_uniform', "
             f"not {getattr(generator, 'latent_distribution', 'normal')!r}"),
        ]
        failed = [message for ok, message in checks if not ok]
        if failed:
            raise ConfigError("DistGAN: " + "\nDistGAN: ".join(failed))
        default_d, default_g = TASKS[task]
        self.lambda_d = default_d if lambda_d is None else float(lambda_d)
        self.lambda_g = default_g if lambda_g is None else float(lambda_g)
        if task == "none" and (self.lambda_d or self.lambda_g):
            raise ConfigError("task='none' has no self-supervised term to weight; leave lambda_d and lambda_g unset")
        self.encoder = encoder
        self.loss, self.hinge_on, self.hinge_penalty, self.task = loss, hinge_on, hinge_penalty, task
        self.lambda_p, self.lambda_r = float(lambda_p), float(lambda_r)
        self.lambda_w = (losses.distgan_lambda_w(generator.latent_dim, discriminator.feature_dim)
                         if lambda_w is None else float(lambda_w))
        self.encoder_updates_generator = encoder_updates_generator
        self.total_steps = total_steps
        self.lr_e, self.betas_e = float(lr_e), (float(betas_e[0]), float(betas_e[1]))
        if task != "none":
            discriminator.add_head(HEAD, NUM_ROTATIONS + (task == "minimax"))
        # E's optimiser: the loop owns G's and D's only. A plain attribute (not a module), checkpointed through
        # get_extra_state. With encoder_updates_generator it holds Adam moments of G of its own, as the official
        # code's separate optimiser of the reconstruction cost does.
        self.encoder_optimizer = torch.optim.Adam(self._encoder_step_parameters(), lr=self.lr_e, betas=self.betas_e)
        self.d_steps = 0  # D steps done: training progress t = d_steps / total_steps for the hinge loss

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "encoder": type(self.encoder).__name__,
                "encoder_parameters": sum(p.numel() for p in self.encoder.parameters()), "loss": self.loss,
                "hinge_on": self.hinge_on, "hinge_penalty": self.hinge_penalty, "lambda_p": self.lambda_p,
                "lambda_r": self.lambda_r, "lambda_w": self.lambda_w,
                "encoder_updates_generator": self.encoder_updates_generator, "task": self.task,
                "lambda_d": self.lambda_d, "lambda_g": self.lambda_g, "total_steps": self.total_steps,
                "lr_e": self.lr_e, "betas_e": list(self.betas_e)}

    def _encoder_step_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.encoder.parameters()
        if self.encoder_updates_generator:
            yield from self.generator.parameters()

    @property
    def progress(self) -> float:
        """t = D steps done / total_steps (0 at the first step, as the official ``iteration / n_steps``)."""
        return self.d_steps / self.total_steps if self.total_steps else 0.0

    # -- the encoder step --------------------------------------------------------------------------------
    def encoder_loss(self, real: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        """L_ae + λ_r·L_reg on a real batch (B, C, H, W) and fresh z (the official ``r_cost``, l.305-308, 339)."""
        latents = self.sample_latent(real.shape[0])
        encoded = self.encoder(real)
        recon_features = self.discriminator.features(self.generator(encoded))
        fake_features = self.discriminator.features(self.generator(latents))
        with torch.no_grad():  # a constant for E and G
            real_features = self.discriminator.features(real)
        autoencoder = losses.distgan_autoencoder_loss(real_features, recon_features)
        regulariser = losses.distgan_latent_data_distance(recon_features, fake_features, encoded, latents,
                                                          self.lambda_w)
        return autoencoder + self.lambda_r * regulariser, {"e_autoencoder": autoencoder.detach(),
                                                           "e_latent_data": regulariser.detach()}

    def encoder_step(self, real: torch.Tensor) -> Logs:
        """One update of E (and G with ``encoder_updates_generator``) by E's own optimiser; D is frozen."""
        held = (self.discriminator,) if self.encoder_updates_generator else (self.discriminator, self.generator)
        with frozen(*held):
            loss, logs = self.encoder_loss(real)
            self._update(loss, self.encoder_optimizer, list(self._encoder_step_parameters()))
        return {"e_loss": loss.detach(), **logs}

    def discriminator_step(
        self, real: torch.Tensor, labels: torch.Tensor, optimizer: torch.optim.Optimizer,
        extra_real: torch.Tensor | None = None,
    ) -> Logs:
        """The E step on ``extra_real``, then D's update on ``real`` (module docstring)."""
        if extra_real is None:
            raise ValueError("Dist-GAN's encoder step needs a real batch of its own (the loop passes one: "
                             "discriminator_needs_extra_real)")
        self._follow_schedule(optimizer)
        logs = self.encoder_step(extra_real)
        logs.update(super().discriminator_step(real, labels, optimizer))
        self.d_steps += 1
        return logs

    def _follow_schedule(self, optimizer: torch.optim.Optimizer) -> None:
        """E's learning rate: ``lr_e`` times the factor the loop's schedule applies to D's (1 without one)."""
        group = optimizer.param_groups[0]
        factor = group["lr"] / group.get("initial_lr", group["lr"])
        for encoder_group in self.encoder_optimizer.param_groups:
            encoder_group["lr"] = self.lr_e * factor

    # -- D and G -----------------------------------------------------------------------------------------
    def gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """E (RMS slope − 1)² of D's logit at x̂ = εx + (1 − ε)G(z), ε ~ U(0, 1) per sample (l.261-270)."""
        epsilon = torch.rand(real.shape[0], 1, 1, 1, generator=self.noise).to(real.device, real.dtype)
        interpolates = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
        (gradients,) = torch.autograd.grad(self.discriminator(interpolates).sum(), interpolates, create_graph=True)
        return losses.distgan_rms_gradient_penalty(gradients)

    def adversarial_d_loss(self, real_logits: torch.Tensor, recon_logits: torch.Tensor, fake_logits: torch.Tensor,
                           penalty: torch.Tensor) -> torch.Tensor:
        """D's Dist-GAN loss with the penalty (``d_cost_gan``, l.319-336), from D's logits (B,) on reals,
        reconstructions and samples."""
        if self.loss == "log":
            return losses.distgan_d_loss_log(real_logits, recon_logits, fake_logits) + self.lambda_p * penalty
        score = (lambda logits: logits) if self.hinge_on == "logit" else torch.sigmoid
        hinge = losses.distgan_d_loss_hinge(score(real_logits), score(recon_logits), score(fake_logits),
                                            self.progress)
        sign = -1.0 if self.hinge_penalty == "official" else 1.0  # official: inside the negated bracket
        return hinge + sign * self.lambda_p * penalty

    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(self.sample_latent(real.shape[0]))  # one fake batch for every term
            recon = self.generator(self.encoder(real))
        real_logits, recon_logits, fake_logits = self.discriminator(real), self.discriminator(recon), \
            self.discriminator(fake)
        penalty = self.gradient_penalty(real, fake)
        loss = self.adversarial_d_loss(real_logits, recon_logits, fake_logits, penalty)
        logs = {"d_real": real_logits.detach().mean(), "d_recon": recon_logits.detach().mean(),
                "d_fake": fake_logits.detach().mean(), "d_penalty": penalty.detach()}
        if self.task == "none" or self.lambda_d == 0:
            return loss, logs
        if self.task == "minimax":
            task_loss, task_logs = mixed_task_loss(self.discriminator, real, fake, self.noise)
            logs.update(task_logs)
        else:
            draw = self._draw(real.shape[0], real.device)
            rotation_logits = task_logits(self.discriminator, real, draw)
            task_loss = losses.rotation_cross_entropy(rotation_logits, draw.rotation)
            logs["d_task"] = task_loss.detach()
            logs["d_rotation_accuracy"] = (rotation_logits.detach().argmax(1) == draw.rotation).float().mean()
        return loss + self.lambda_d * task_loss, logs

    def generator_loss(
        self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        if real is None:
            raise ValueError("Dist-GAN's generator loss needs a real batch (the loop passes one: generator_needs_real)")
        fake = self.generator(self.sample_latent(batch_size))
        with torch.no_grad():  # the real score is a constant for G
            real_logits = self.discriminator(real)
        adversarial = losses.distgan_g_loss(real_logits, self.discriminator(fake))
        if self.task == "none" or self.lambda_g == 0:  # SS-DistGAN's λ_g = 0: no rotated batch at all
            return adversarial, {}
        draw = self._draw(batch_size, fake.device)
        fake_logits = task_logits(self.discriminator, fake, draw)
        with torch.no_grad():
            real_task_logits = task_logits(self.discriminator, real, draw)
        task_loss = losses.ms_generator_matching(fake_logits, real_task_logits, draw.rotation)
        return adversarial + self.lambda_g * task_loss, {"g_adversarial": adversarial.detach(),
                                                         "g_task": task_loss.detach()}

    def _draw(self, batch_size: int, device: torch.device) -> RotationDraw:
        return rotation_draw(batch_size, "random", self.noise, device)  # the official n-of-4n draw

    # -- checkpoint --------------------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        """Checkpointed with the state dict: the noise generator, E's optimiser and the D-step counter."""
        return {**super().get_extra_state(), "encoder_optimizer": self.encoder_optimizer.state_dict(),
                "d_steps": self.d_steps}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        super().set_extra_state(state)
        self.encoder_optimizer.load_state_dict(state["encoder_optimizer"])
        self.d_steps = int(state["d_steps"])
