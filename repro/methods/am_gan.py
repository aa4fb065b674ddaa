"""AM-GAN (Zhou et al. 2018) and the models it is compared with, as the reproduce repository's flags define them
(am_gan.md §1.2): GAN, GAN*, AC-GAN*, AC-GAN*+, LabelGAN, AM-GAN and the original AC-GAN.

D has K class logits l and a real logit r (its own output, or LSE(l) for the "label" models, LabelGAN and
AM-GAN); the fake logit is fixed at 0, so D_r(x) = σ(r(x)). Every model shares the GAN terms
d_gan = −log D_r(x) − log(1 − D_r(G(z))) and the non-saturating g_gan = −log D_r(G(z)); the variants differ in
their class terms. G's target class t(z) is dynamic (argmax of D's class logits on the same pass, no gradient)
or predefined (a class drawn with z and fed to G only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import losses
from ..errors import ConfigError
from .base import GANMethod, Logs


@dataclass(frozen=True)
class AMVariant:
    """The switches behind one row of AM-GAN's Table 1 (the reproduce repository's README flags)."""

    label_real_logit: bool  # LAB: r = LSE(class logits) (LabelGAN, AM-GAN); else D's own real logit
    d_class_weight: float  # CE_K(C(x_real), y) in D (GAN* uses 0.1)
    g_class_weight: float  # CE_K(C(G(z)), t(z)) in G (AC)
    d_fake_uniform: bool = False  # AC-GAN*+: CE_K(C(G(z)), uniform) in D (Eq. 20)
    d_fake_class: bool = False  # the original AC-GAN: CE_K(C(G(z)), t(z)) in D


VARIANTS: dict[str, AMVariant] = {
    "GAN": AMVariant(False, 0.0, 0.0),
    "GAN*": AMVariant(False, 0.1, 0.0),
    "AC-GAN*": AMVariant(False, 1.0, 1.0),
    "AC-GAN*+": AMVariant(False, 1.0, 1.0, d_fake_uniform=True),
    "LabelGAN": AMVariant(True, 1.0, 0.0),
    "AM-GAN": AMVariant(True, 1.0, 1.0),
    "AC-GAN": AMVariant(False, 1.0, 1.0, d_fake_class=True),
    "AC-GAN* (G class 0.1)": AMVariant(False, 1.0, 0.1),
}


class AMGANFamily(GANMethod):
    """One of :data:`VARIANTS` with ``labeling="dynamic"`` or ``"predefined"``.

    D returns (B, K + 1) logits: the K class logits then its own real logit (unused by the label models). With
    predefined labeling G is called as G(z, y) with y ~ Uniform{0..K−1} drawn from the method's noise generator.
    Real and fake batches go through D in separate calls (BN statistics are never mixed, as the code).
    """

    name = "am_gan_family"
    LABELINGS = ("dynamic", "predefined")

    def __init__(self, generator: nn.Module, discriminator: nn.Module, variant: str = "AM-GAN",
                 labeling: str = "dynamic", num_classes: int = 10, seed: int = 0) -> None:
        super().__init__(generator, discriminator, seed)
        if variant not in VARIANTS:
            raise ConfigError(f"unknown AM-GAN variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if labeling not in self.LABELINGS:
            raise ConfigError(f"labeling must be one of {self.LABELINGS}, got {labeling!r}")
        if labeling == "predefined" and not getattr(generator, "conditional", False):
            raise ConfigError("predefined labeling feeds the class to G: build the generator with conditional=True")
        self.variant, self.switches, self.labeling, self.num_classes = variant, VARIANTS[variant], labeling, num_classes

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "variant": self.variant, "labeling": self.labeling,
                "num_classes": self.num_classes, **asdict(self.switches)}

    # -- pieces ------------------------------------------------------------------------------------------
    def split_logits(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(class logits (B, K), real logit r (B,)): r = LSE(l) for the label models."""
        class_logits = logits[:, : self.num_classes]
        if self.switches.label_real_logit:
            return class_logits, torch.logsumexp(class_logits, dim=1)
        return class_logits, logits[:, self.num_classes]

    def generate(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """G(z) (or G(z, y) with predefined classes y, returned as the second element)."""
        z = self.sample_latent(batch_size)
        if self.labeling == "dynamic":
            return self.generator(z), None
        classes = torch.randint(self.num_classes, (batch_size,), generator=self.noise).to(z.device)
        return self.generator(z, classes), classes

    def target_classes(self, fake_class_logits: torch.Tensor, predefined: torch.Tensor | None) -> torch.Tensor:
        """t(z): the predefined class, or the dynamic label (argmax of this pass's class logits, a constant)."""
        return predefined if predefined is not None else losses.dynamic_labels(fake_class_logits)

    # -- objectives --------------------------------------------------------------------------------------
    def discriminator_loss(self, real: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        with torch.no_grad():
            fake, predefined = self.generate(real.shape[0])
        real_classes, real_r = self.split_logits(self.discriminator(real))
        fake_classes, fake_r = self.split_logits(self.discriminator(fake))
        loss = losses.d_loss_ns(real_r, fake_r)
        logs: Logs = {"d_real": real_r.detach().mean(), "d_fake": fake_r.detach().mean()}
        switches = self.switches
        if switches.d_class_weight > 0:
            class_loss = losses.class_cross_entropy(real_classes, labels)
            loss = loss + switches.d_class_weight * class_loss
            logs["d_class_loss"] = class_loss.detach()
            logs["real_class_accuracy"] = (real_classes.detach().argmax(1) == labels).float().mean()
        if switches.d_fake_uniform:
            loss = loss + losses.uniform_class_cross_entropy(fake_classes)
        if switches.d_fake_class:
            loss = loss + losses.class_cross_entropy(fake_classes, self.target_classes(fake_classes, predefined))
        return loss, logs

    def generator_loss(self, batch_size: int, labels: torch.Tensor, real: torch.Tensor | None = None):
        fake, predefined = self.generate(batch_size)
        fake_classes, fake_r = self.split_logits(self.discriminator(fake))
        loss = losses.g_loss_ns(fake_r)
        logs: Logs = {}
        if self.switches.g_class_weight > 0:
            targets = self.target_classes(fake_classes, predefined)
            class_loss = losses.class_cross_entropy(fake_classes, targets)
            loss = loss + self.switches.g_class_weight * class_loss
            logs["g_class_loss"] = class_loss.detach()
        # how sure D is of G's samples' classes: max class probability, averaged (not a loss)
        logs["fake_class_confidence"] = F.softmax(fake_classes.detach(), dim=1).max(dim=1).values.mean()
        return loss, logs
