"""Improved-GAN (Salimans et al. 2016): historical averaging and the K+1 semi-supervised GAN.

The losses are in :mod:`repro.losses` (K+1 semi-supervised loss, feature matching, one-sided label smoothing)
and the layers and MNIST networks in :mod:`repro.nets.improved_gan`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from .. import losses
from ..images import to_float
from .base import GANMethod, Logs


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


class SemiSupervisedGAN(GANMethod):
    """The K+1 semi-supervised GAN with feature matching (Salimans et al. §5, §3.1; improved_gan.md §1.1-1.2).

    D step: K-way cross-entropy on a labeled batch + ``unlabeled_weight`` · the 0.5/0.5 real-vs-fake loss on the
    unlabeled batch (the loop's real batch) and a generated batch, each in its own forward pass. G step: feature
    matching between a fresh real batch and a generated batch (squared norm as the MNIST code, or L1). The
    labeled images are held as buffers and drawn, ``batch_size`` at a time, with the method's seeded noise
    generator, as the code does: back-to-back random permutations of the labeled set (20 labels fill a batch
    of 100 five times over).

    Separate forward passes matter when D mixes examples (batch norm, minibatch features; improved_gan.md §6
    pitfall 3). When it does not (the MNIST MLP: per-element noise only), the D step's three passes are one
    concatenated call, which is the same function with the same noise distribution at a fraction of the
    per-call cost; ``joint_forward=None`` picks this automatically. The feature-matching G step always runs D
    twice: the real batch under ``no_grad`` (its features are a constant for G), then the generated batch.

    ``d_average`` is the code's evaluation copy of D: zero-initialised, θ̄ ← θ̄ + (1 − decay)(θ − θ̄) after each
    D step, no bias correction (improved_gan.md §1.10); see :meth:`evaluation_discriminator`.
    """

    name = "improved_gan_ssl"
    GENERATOR_OBJECTIVES = ("feature_matching", "minimax", "non_saturating")

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        labeled_images: torch.Tensor | None,
        labeled_labels: torch.Tensor | None,
        *,
        use_labels: bool = True,
        unlabeled_weight: float = 1.0,
        generator_objective: str = "feature_matching",
        feature_matching_norm: str = "l2",
        real_target: float = 1.0,
        historical_average: float = 0.0,
        average_decay: float = 0.9999,
        value_range: str = "unit",
        joint_forward: bool | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(generator, discriminator, seed)
        if generator_objective not in self.GENERATOR_OBJECTIVES:
            raise ValueError(f"generator_objective must be one of {self.GENERATOR_OBJECTIVES}, "
                             f"got {generator_objective!r}")
        if use_labels and (labeled_labels is None or len(labeled_labels) == 0):
            raise ValueError("use_labels=True needs labeled images and labels (pass use_labels=False for the "
                             "unsupervised '-L' variant)")
        mixes = mixes_examples(discriminator)
        if joint_forward and mixes:
            raise ValueError(f"joint_forward=True needs a D without cross-example layers; this one has {mixes}")
        self.joint_forward = not mixes if joint_forward is None else joint_forward
        if not use_labels:
            labeled_images, labeled_labels = torch.zeros(0, dtype=torch.uint8), torch.zeros(0, dtype=torch.long)
        self.register_buffer("labeled_images", torch.as_tensor(labeled_images, dtype=torch.uint8))
        self.register_buffer("labeled_labels", torch.as_tensor(labeled_labels, dtype=torch.long))
        self.use_labels = use_labels
        self.unlabeled_weight = unlabeled_weight
        self.generator_objective = generator_objective
        self.generator_needs_real = generator_objective == "feature_matching"
        self.feature_matching_norm = feature_matching_norm
        self.real_target = real_target
        self.historical_average = historical_average
        if historical_average > 0:  # Salimans et al. §3.3, for both players ([our reading], §1.5)
            self.d_history = HistoricalAverage(
                [p for p in discriminator.parameters() if p.requires_grad], historical_average)
            self.g_history = HistoricalAverage([p for p in generator.parameters() if p.requires_grad],
                                               historical_average)
        self.average_decay = average_decay
        self.value_range = value_range
        # the code averages D's trainable parameters only; frozen ones (hidden weight-norm gains) are copied
        self.averaged = [p.requires_grad for p in discriminator.parameters()]
        self.d_average = copy.deepcopy(discriminator).requires_grad_(False)
        for tensor, trainable in zip(self.d_average.parameters(), self.averaged, strict=True):
            if trainable:
                tensor.zero_()
        self.register_buffer("average_steps", torch.zeros((), dtype=torch.long))
        # the labeled stream: the current permutation and how far it has been drawn (fixed shapes, so any
        # checkpoint loads into a freshly built method); position n means "draw a new permutation first"
        n_labeled = len(self.labeled_labels)
        self.register_buffer("labeled_order", torch.arange(n_labeled))
        self.register_buffer("labeled_position", torch.tensor(n_labeled))

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "labeled": len(self.labeled_labels), "use_labels": self.use_labels,
                "unlabeled_weight": self.unlabeled_weight, "generator_objective": self.generator_objective,
                "feature_matching_norm": self.feature_matching_norm, "real_target": self.real_target,
                "historical_average": self.historical_average, "average_decay": self.average_decay}

    def labeled_batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The next ``batch_size`` labeled images and their labels from a stream of back-to-back random
        permutations of the labeled set, as the code's repeated, reshuffled copies: every labeled image once
        per pass (4,000 labels: one pass per 40 batches of 100; 20 labels: five passes per batch). The
        stream's state is in buffers, so checkpoints carry it."""
        n = len(self.labeled_labels)
        parts, needed = [], batch_size
        while needed > 0:
            if int(self.labeled_position) >= n:
                self.labeled_order.copy_(torch.randperm(n, generator=self.noise))
                self.labeled_position.zero_()
            start = int(self.labeled_position)
            take = min(needed, n - start)
            parts.append(self.labeled_order[start : start + take].clone())  # the order is refilled in place
            self.labeled_position += take
            needed -= take
        index = torch.cat(parts)
        index = index.to(self.labeled_labels.device)
        return to_float(self.labeled_images[index], self.value_range), self.labeled_labels[index]

    def _discriminate(self, *batches: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """D on each batch: separate calls, or one call on their concatenation when D does not mix examples."""
        if not self.joint_forward:
            return [self.discriminator(batch) for batch in batches]
        logits, features = self.discriminator(torch.cat(batches))
        sizes = [len(batch) for batch in batches]
        return list(zip(logits.split(sizes), features.split(sizes), strict=True))

    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake = self.generator(self.sample_latent(real.shape[0]))
        logs: Logs = {}
        if self.use_labels:
            labeled, classes = self.labeled_batch(real.shape[0])
            (labeled_logits, _), (real_logits, _), (fake_logits, _) = self._discriminate(labeled, real, fake)
            loss_lab = losses.ssl_labeled_loss(labeled_logits, classes)
            logs["loss_labeled"] = loss_lab.detach()
            logs["train_accuracy"] = (labeled_logits.argmax(1) == classes).float().mean()
        else:
            (real_logits, _), (fake_logits, _) = self._discriminate(real, fake)
            loss_lab = real_logits.new_zeros(())
        loss_unl = losses.ssl_unlabeled_loss(real_logits, fake_logits, self.real_target)
        logs["loss_unlabeled"] = loss_unl.detach()
        loss = loss_lab + self.unlabeled_weight * loss_unl
        if self.historical_average > 0:
            loss = loss + self.d_history.penalty()
        return loss, logs

    def discriminator_step(self, real, labels, optimizer, extra_real=None):
        logs = super().discriminator_step(real, labels, optimizer, extra_real)
        self._update_average()
        if self.historical_average > 0:
            self.d_history.update()
        return logs

    def generator_step(self, batch_size, labels, optimizer, real=None):
        logs = super().generator_step(batch_size, labels, optimizer, real=real)
        if self.historical_average > 0:
            self.g_history.update()
        return logs

    @torch.no_grad()
    def _update_average(self) -> None:
        self.average_steps += 1
        pairs = zip(self.d_average.parameters(), self.discriminator.parameters(), self.averaged, strict=True)
        for average, current, trainable in pairs:
            if trainable:
                average += (1 - self.average_decay) * (current - average)
            else:
                average.copy_(current)

    def generator_loss(self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None):
        """Feature matching (§3.1, the FM scripts), or on D(G(z)) = σ(LSE): the saturating minimax loss
        E log(1 − D(G(z))) of the MBD scripts (improved_gan.md §1.4), or the non-saturating −E log D(G(z))."""
        fake = self.generator(self.sample_latent(batch_size))
        if self.generator_objective == "feature_matching":
            if real is None:
                raise ValueError("feature matching needs a real batch for every generator step")
            with torch.no_grad():  # the real features are a constant for G: no graph, half the backward
                _, real_features = self.discriminator(real)
            _, fake_features = self.discriminator(fake)
            loss = losses.feature_matching_loss(real_features, fake_features, self.feature_matching_norm)
        else:
            fake_lse = torch.logsumexp(self.discriminator(fake)[0], dim=1)
            loss = (losses.g_loss_minimax(fake_lse) if self.generator_objective == "minimax"
                    else losses.g_loss_ns(fake_lse))
        if self.historical_average > 0:
            loss = loss + self.g_history.penalty()
        return loss, {}

    def labels_only_step(self, batch_size: int, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """One update of D on the next labeled batch alone (the K-way cross-entropy of L_lab, no unlabeled or
        generated term): the supervised-only baseline's update rule. Returns the detached loss."""
        images, classes = self.labeled_batch(batch_size)
        logits, _ = self.discriminator(images)
        loss = losses.ssl_labeled_loss(logits, classes)
        self._update(loss, optimizer, self.discriminator.parameters())
        return loss.detach()

    def evaluation_discriminator(self, bias_corrected: bool = False) -> nn.Module:
        """The averaged D in eval mode (noise off); ``bias_corrected`` divides the averaged (trainable)
        parameters by 1 − decay^t for short runs."""
        average = copy.deepcopy(self.d_average).eval()
        if bias_corrected and int(self.average_steps) > 0:
            correction = 1 - self.average_decay ** int(self.average_steps)
            for tensor, trainable in zip(average.parameters(), self.averaged, strict=True):
                if trainable:
                    tensor /= correction
        # buffers (none in the MNIST D; BN statistics elsewhere) follow the trained D
        for mine, theirs in zip(average.buffers(), self.discriminator.buffers(), strict=True):
            mine.copy_(theirs)
        return average


def mixes_examples(module: nn.Module) -> list[str]:
    """Names of the layers whose output for one example depends on the others in the batch."""
    from ..nets.improved_gan import MinibatchDiscrimination, VirtualBatchNorm

    kinds = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, MinibatchDiscrimination, VirtualBatchNorm)
    return [type(m).__name__ for m in module.modules() if isinstance(m, kinds)]


@torch.no_grad()
@torch.no_grad()
def predicted_classes(discriminator: nn.Module, images: torch.Tensor, value_range: str = "unit",
                      batch_size: int = 100) -> torch.Tensor:
    """The class a K-class discriminator gives each uint8 image (argmax of its K logits), in eval mode. Batches of
    100 as the code: a minibatch-discrimination layer's features depend on the batch size."""
    was_training = discriminator.training
    discriminator.eval()
    device = next(discriminator.parameters()).device
    predicted = []
    for start in range(0, len(images), batch_size):
        logits, _ = discriminator(to_float(images[start : start + batch_size], value_range).to(device))
        predicted.append(logits.argmax(1).cpu())
    discriminator.train(was_training)
    return torch.cat(predicted)


def classification_error(discriminator: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                         value_range: str = "unit", batch_size: int = 100) -> float:
    """Test error of a K-class discriminator (:func:`predicted_classes`) on uint8 images."""
    predicted = predicted_classes(discriminator, images, value_range, batch_size)
    return int((predicted != torch.as_tensor(labels)).sum()) / len(labels)
