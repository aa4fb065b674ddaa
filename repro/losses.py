"""Adversarial losses as small pure functions of discriminator logits (StudioGAN's one-signature style).

Discriminator losses take ``(real_logits, fake_logits)``, generator losses take ``fake_logits``; every logit
tensor has shape (B,) and every loss is a scalar mean over the batch. Paper-specific terms (feature matching,
auxiliary classifiers, rotation tasks) live with their method.
"""

from __future__ import annotations

import math

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


# ----------------------------------------------------------------------------------------------------------
# Improved-GAN (Salimans et al. 2016): the K+1 semi-supervised discriminator, feature matching, label smoothing


def ssl_labeled_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """K-way cross-entropy of the real classes, −l_y(x) + LSE(l(x)) (Salimans et al. §5; improved_gan.md §1.1).

    ``logits``: (B, K) with the fake class's logit fixed at 0 and left out; ``labels``: (B,) in [0, K).
    """
    return F.cross_entropy(logits, labels)


def sigmoid_kl(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean of BCE(σ(logits), target) − H_b(target): a binary cross-entropy whose minimum is 0 for any target
    (the ImageNet code's label-smoothing form; improved_gan.md §1.6). With target 1 it is softplus(−logits)."""
    if not 0 < target <= 1:
        raise ValueError(f"the smoothed real target must lie in (0, 1], got {target}")
    entropy = 0.0 if target == 1 else -(target * math.log(target) + (1 - target) * math.log(1 - target))
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target)) - entropy


def ssl_unlabeled_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """Real/fake part of the K+1 loss, with the official code's 0.5 factors (improved_gan.md §1.1).

    D(x) = σ(LSE(l(x))), so −log D(x) = softplus(LSE) − LSE and −log(1 − D(G(z))) = softplus(LSE).
    ``real_logits``: (B, K) of unlabeled real images; ``fake_logits``: (B', K) of generated ones.
    ``real_target`` < 1 is one-sided label smoothing (§3.4) of the real term, as a sigmoid KL (minimum 0).
    """
    real_lse = torch.logsumexp(real_logits, dim=1)
    fake_lse = torch.logsumexp(fake_logits, dim=1)
    real_term = (F.softplus(real_lse) - real_lse).mean() if real_target == 1 else sigmoid_kl(real_lse, real_target)
    return 0.5 * real_term + 0.5 * F.softplus(fake_lse).mean()


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor, norm: str = "l2") -> torch.Tensor:
    """Feature matching (Salimans et al. §3.1): distance between batch means of D's features, (B, d) each.

    ``norm="l2"``: mean squared difference of the means (the MNIST code); ``"l1"``: mean absolute difference
    (the CIFAR-10/SVHN code). The real means are treated as constants, as in the code (no gradient to D).
    """
    difference = fake_features.mean(dim=0) - real_features.detach().mean(dim=0)
    if norm == "l2":
        return difference.pow(2).mean()
    if norm == "l1":
        return difference.abs().mean()
    raise ValueError(f"feature matching norm must be 'l1' or 'l2', got {norm!r}")


def d_loss_ns_one_sided(real_logits: torch.Tensor, fake_logits: torch.Tensor, alpha: float = 0.9) -> torch.Tensor:
    """Discriminator loss with one-sided label smoothing (Salimans et al. §3.4): real target α, fake target 0.

    Written as a sigmoid KL, BCE(real, α) − H_b(α), so that its minimum stays 0 (the ImageNet code's form).
    """
    return sigmoid_kl(real_logits, alpha) + F.softplus(fake_logits).mean()


# ----------------------------------------------------------------------------------------------------------
# AM-GAN (Zhou et al. 2018): class terms of the discriminator and generator (am_gan.md §1.2-1.4)


def class_cross_entropy(class_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """CE_K(C(x), y) = −log softmax_K(l(x))_y, averaged over the batch; ``class_logits`` (B, K)."""
    return F.cross_entropy(class_logits, targets)


def uniform_class_cross_entropy(class_logits: torch.Tensor) -> torch.Tensor:
    """CE_K(C(x), uniform) = −(1/K) Σ_k log C_k(x), averaged over the batch: AC-GAN*+'s D term on generated
    samples (Zhou et al. Eq. 20), which pushes D to predict no class for fakes."""
    return -F.log_softmax(class_logits, dim=1).mean(dim=1).mean()


def k_plus_one_cross_entropy(class_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The explicit (K+1)-way cross-entropy over [l_1..l_K, 0] (fake class K, logit fixed at 0), averaged.

    AM-GAN's losses equal it (Zhou et al. Eqs. 14-15): D = CE(real → y) + CE(fake → K), G = CE(fake → t(z)).
    ``targets`` in [0, K]; K means "generated"."""
    zeros = class_logits.new_zeros(class_logits.shape[0], 1)
    return F.cross_entropy(torch.cat([class_logits, zeros], dim=1), targets)


def dynamic_labels(class_logits: torch.Tensor) -> torch.Tensor:
    """AM-GAN's dynamic target class t(z) = argmax_k l_k(G(z)) from the same forward pass, as a constant."""
    return class_logits.detach().argmax(dim=1)


# ----------------------------------------------------------------------------------------------------------
# Rotation self-supervision: SSGAN (Chen et al. 2019) and MS-GAN's multi-class minimax task (Tran et al. 2019)


def rotation_cross_entropy(rotation_logits: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """E_k CE(C(T_k x), k), averaged over the rotated batch; ``rotation_logits`` (M, 4) or (M, 5).

    SSGAN's D term on rotated reals (weight β) and G term on rotated fakes (weight α) (ms_gan.md §1.3); MS-GAN's
    D term on rotated reals with the 5-way head (§1.4)."""
    return F.cross_entropy(rotation_logits, rotations)


def ms_mixed_cross_entropy(mixed_logits: torch.Tensor, mixed_labels: torch.Tensor) -> torch.Tensor:
    """MS-GAN's official D term (ms_gan.md §1.6; github tntrung/msgan ``msdistgan.py`` l.296-302): one 5-way
    cross-entropy, one batch mean, over the mixed batch of :func:`repro.rotation.mixed_batch` (rotated reals
    labelled by rotation, upright fakes labelled 4); logits (N, 5)."""
    if mixed_logits.shape[1] != 5:
        raise ValueError(f"the MS task needs a 5-way head (4 rotations + generated), got {mixed_logits.shape[1]}")
    return F.cross_entropy(mixed_logits, mixed_labels)


def ms_generator_matching(fake_logits: torch.Tensor, real_logits: torch.Tensor,
                          rotations: torch.Tensor) -> torch.Tensor:
    """MS-GAN's official G term (ms_gan.md §1.6; ``msdistgan.py`` g_acc, and the standard-GAN driver of commit
    7d5b3a7): |E CE_5(C(T_k G(z)), k) − E CE_5(C(T_k x), k)|, the absolute value taken after the batch means, the
    same rotation draw for fakes and reals. The real term is a constant for G (detached here): G is pushed to
    match the classifier's loss on reals, not to minimise its own; bounded below by 0."""
    fake_term = F.cross_entropy(fake_logits, rotations)
    real_term = F.cross_entropy(real_logits.detach(), rotations)
    return (fake_term - real_term).abs()


def ms_discriminator_task(real_logits: torch.Tensor, real_rotations: torch.Tensor,
                          fake_logits: torch.Tensor) -> torch.Tensor:
    """MS-GAN's D/C term as the paper's equations read (ms_gan.md §1.4, [our reading]; the "paper-form
    reconstruction", as SSGAN-LA's ``ssgan_ms``), not the authors' code (:func:`ms_mixed_cross_entropy`):
    E CE_5(C(T_k x), k) + E CE_5(C(T_k G(z)), fake).

    Logits (M, 5) with "generated" as the last class; rotated reals are classified by rotation, rotated fakes
    as generated."""
    fake_class = torch.full((fake_logits.shape[0],), fake_logits.shape[1] - 1, device=fake_logits.device)
    return F.cross_entropy(real_logits, real_rotations) + F.cross_entropy(fake_logits, fake_class)


def ms_generator_task(fake_logits: torch.Tensor, fake_rotations: torch.Tensor) -> torch.Tensor:
    """MS-GAN's G term as the paper's equations read (ms_gan.md §1.4, [our reading]; the reconstruction, not the
    authors' :func:`ms_generator_matching`): E CE_5(C(T_k G(z)), k) − E CE_5(C(T_k G(z)), fake).

    The softmax normaliser cancels, leaving E[u_fake − u_k] of the logits u (M, 5): computed from logits, exact
    and stable. Unbounded below against a fixed C, hence a small weight λ_g."""
    chosen = fake_logits.gather(1, fake_rotations[:, None]).squeeze(1)
    return (fake_logits[:, -1] - chosen).mean()


# ----------------------------------------------------------------------------------------------------------
# Dist-GAN (Tran et al. 2018), the base model of MS-DistGAN: ms_gan.md §1.8, github tntrung/msgan msdistgan.py
# create_model (the same terms as github tntrung/gan distgan_image/distgan.py)


def distgan_lambda_w(noise_dim: int, feature_dim: int) -> float:
    """The latent–data distance's latent scale λ_w = sqrt(noise_dim / feature_dim) (the drivers' ``lambda_w``)."""
    return math.sqrt(noise_dim / feature_dim)


def distgan_autoencoder_loss(real_features: torch.Tensor, recon_features: torch.Tensor) -> torch.Tensor:
    """L_ae = mean ‖f(x) − f(G(E(x)))‖², averaged over every element of D's features (``ae_loss``)."""
    return (real_features - recon_features).pow(2).mean()


def distgan_latent_data_distance(recon_features: torch.Tensor, fake_features: torch.Tensor, encoded: torch.Tensor,
                                 latents: torch.Tensor, lambda_w: float) -> torch.Tensor:
    """L_reg = (md_x − md_z)², md_x = mean(f(x_r) − f(G(z))) and md_z = λ_w · mean(E(x) − z), each a scalar mean
    over batch and dimensions (``ae_reg``): the mean data-space distance between reconstructions and samples is
    tied to the mean latent distance between codes and noise."""
    data_distance = (recon_features - fake_features).mean()
    latent_distance = (encoded - latents).mean() * lambda_w
    return (data_distance - latent_distance).pow(2)


def distgan_rms_gradient_penalty(gradients: torch.Tensor) -> torch.Tensor:
    """E (slope − 1)² with slope the **root mean square** of each sample's input gradient (a mean over its input
    entries, not the L2 norm: ``slopes = sqrt(reduce_mean(square(gradients), axis=1))`` on flattened images);
    ``gradients`` (B, ...) of D's logit at the interpolates x̂ = εx + (1 − ε)G(z)."""
    slopes = gradients.flatten(1).pow(2).mean(1).sqrt()
    return (slopes - 1).pow(2).mean()


def distgan_d_loss_log(real_logits: torch.Tensor, recon_logits: torch.Tensor,
                       fake_logits: torch.Tensor) -> torch.Tensor:
    """D's log loss: 0.95·BCE(D(x), 1) + 0.05·BCE(D(x_r), 1) + BCE(D(G(z)), 0); reconstructions count as real
    (``d_cost_gan`` under ``loss_type == 'log'``, the gradient penalty added by the caller)."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    recon = F.binary_cross_entropy_with_logits(recon_logits, torch.ones_like(recon_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return 0.95 * real + 0.05 * recon + fake


def distgan_recon_weight_shift(progress: float) -> float:
    """μ(t) = clip(0.2·t − 0.1, 0, 0.05) at t = iteration / n_steps: 0 for the first half of training, 0.05 from
    three quarters on; the hinge loss weights reals by 0.95 + μ and reconstructions by 0.05 − μ (``self.mu``)."""
    return min(max(0.2 * progress - 0.1, 0.0), 0.05)


def distgan_d_loss_hinge(real_scores: torch.Tensor, recon_scores: torch.Tensor, fake_scores: torch.Tensor,
                         progress: float) -> torch.Tensor:
    """D's "hinge" loss, −[w_r·E min(0, −1 + s(x)) + w_rec·E min(0, −1 + s(x_r)) + E min(0, −1 − s(G(z)))] with
    w_r = 0.95 + μ, w_rec = 0.05 − μ (:func:`distgan_recon_weight_shift`). The scores s are D's logits for DCGAN
    and its sigmoid outputs for the SNGAN and ResNet nets (the caller passes which; on sigmoids the loss is linear,
    ms_gan.md §6 quirk 2). The official code puts λ_p·GP *inside* the negated bracket (quirk 1): the caller
    decides the penalty's sign."""
    shift = distgan_recon_weight_shift(progress)
    return -((0.95 + shift) * torch.clamp(real_scores - 1, max=0).mean()
             + (0.05 - shift) * torch.clamp(recon_scores - 1, max=0).mean()
             + torch.clamp(-1 - fake_scores, max=0).mean())


def distgan_g_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss: |E σ(D(x)) − E σ(D(G(z)))|, matching D's mean sigmoid scores on reals and samples
    (``g_cost_gan``); the real term is a constant for G (detached)."""
    return (torch.sigmoid(real_logits.detach()).mean() - torch.sigmoid(fake_logits).mean()).abs()
