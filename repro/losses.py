"""Adversarial losses as small pure functions of discriminator logits (StudioGAN's one-signature style).

Discriminator losses take ``(real_logits, fake_logits)``, generator losses take ``fake_logits``; every logit
tensor has shape (B,) and every loss is a scalar mean over the batch. Paper-specific terms (feature matching,
auxiliary classifiers, rotation tasks) live with their method.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss_ns(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Standard GAN discriminator loss (Goodfellow et al. 2014, Eq. 1): -log D(x) - log(1 - D(G(z))).

    Shared by the minimax and the non-saturating game: they differ only in the generator's loss.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_ns(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss (Goodfellow et al. 2014, §3): -log D(G(z))."""
    return F.softplus(-fake_logits).mean()


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """Minimax (saturating) generator loss (Goodfellow et al. 2014, Eq. 1): log(1 - D(G(z)))."""
    return -F.softplus(fake_logits).mean()


def d_loss_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018): relu(1 - D(x)) + relu(1 + D(G(z)))."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_loss_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss (Miyato et al. 2018, Eq. 17): -D(G(z))."""
    return -fake_logits.mean()
