"""Rotation self-supervision: rotate image batches by multiples of 90° and choose which image gets which rotation.

SSGAN (Chen et al. 2019) and MS-GAN (Tran et al. 2019) train a classifier head of D to recognise the rotation
T_k (k·90°, k = 0..3) applied to an image (ms_gan.md §1.1). Implementations differ in which image gets which
rotation; each scheme here is a named option:

* ``"quarter"``: image i of N gets rotation ⌊4i/N⌋ (mimicry, SSGAN-LA); N rotated images.
* ``"all"``: all four rotations of every image (SSGAN-LA's ``--all_T``; compare_gan on a subset); 4N images.
* ``"random"``: the official MS-GAN code's n-of-4n draw: all 4N rotated copies, shuffled, the first N kept, so
  each kept item has a uniformly random rotation and an image may appear 0-4 times (``modules/imutils.py``).
  The draw is returned as an index so the same one can be reused on the fake batch, as the official code does.

Rotations use ``torch.rot90`` on the spatial dimensions (exact, no interpolation), batched: one call per angle,
never a loop over images.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch

from .errors import ConfigError

RotationScheme = Literal["quarter", "all", "random"]
ROTATION_SCHEMES: tuple[str, ...] = ("quarter", "all", "random")
NUM_ROTATIONS = 4


def rotate(images: torch.Tensor, k: int) -> torch.Tensor:
    """Every image of (B, C, H, W) rotated by k·90° counter-clockwise (H == W for k odd)."""
    return torch.rot90(images, k % NUM_ROTATIONS, dims=(2, 3))


def all_rotations(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (4, B, C, H, W): the batch under T_0, T_1, T_2, T_3."""
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"rotation by 90° needs square images, got {tuple(images.shape[-2:])}")
    return torch.stack([rotate(images, k) for k in range(NUM_ROTATIONS)])


class RotationDraw(NamedTuple):
    """Which copies of a batch of N form the rotated batch: item j is image ``source[j]`` under T_``rotation[j]``."""

    source: torch.Tensor  # (M,) int64 indices into the batch
    rotation: torch.Tensor  # (M,) int64 in 0..3, the classification targets


def draw_rotations(
    batch_size: int,
    scheme: RotationScheme,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> RotationDraw:
    """The rotation assignment of a batch of ``batch_size`` images under ``scheme`` (module docstring).

    ``generator`` (on ``device``) is used by ``"random"`` only; the other schemes are deterministic.
    """
    if scheme == "quarter":
        source = torch.arange(batch_size, device=device)
        return RotationDraw(source, source * NUM_ROTATIONS // batch_size)
    if scheme == "all":
        rotation = torch.arange(NUM_ROTATIONS, device=device).repeat_interleave(batch_size)
        return RotationDraw(torch.arange(batch_size, device=device).repeat(NUM_ROTATIONS), rotation)
    if scheme == "random":
        kept = torch.randperm(NUM_ROTATIONS * batch_size, generator=generator, device=device)[:batch_size]
        return RotationDraw(kept % batch_size, kept // batch_size)
    raise ConfigError(f"unknown rotation scheme {scheme!r}; choose one of {', '.join(ROTATION_SCHEMES)}")


def apply_rotations(images: torch.Tensor, draw: RotationDraw) -> torch.Tensor:
    """The rotated batch (M, C, H, W) of ``draw``: images[source[j]] rotated by rotation[j]·90°.

    Vectorised: the four rotations of the batch are computed once and the draw gathers from them.
    """
    return all_rotations(images)[draw.rotation, draw.source]


class MixDraw(NamedTuple):
    """The official MS-GAN D batch (ms_gan.md §1.1, §1.6): of the 5N items "4 rotations of the N reals, then the N
    un-rotated fakes", the ``kept`` ones (N of 5N, drawn without replacement). Item j < 4N is real image j mod N
    under T_(j div N), labelled j div N; item j >= 4N is fake j - 4N, labelled 4 ("generated")."""

    kept: torch.Tensor  # (N,) int64 in 0..5N-1

    def labels(self, batch_size: int) -> torch.Tensor:
        """The 5-way targets of the kept items: the rotation 0..3 of a real, 4 for a fake."""
        return torch.clamp(self.kept // batch_size, max=NUM_ROTATIONS)


def draw_ms_mix(batch_size: int, generator: torch.Generator | None = None,
                device: str | torch.device = "cpu") -> MixDraw:
    """N of the 5N items of the official mixed batch, uniformly without replacement, so about 80% rotated reals and
    20% fakes (github tntrung/msgan, ``modules/imutils.py`` l.116-200 as ms_gan.md §1.1 reads it)."""
    return MixDraw(torch.randperm((NUM_ROTATIONS + 1) * batch_size, generator=generator, device=device)[:batch_size])


def mixed_batch(real: torch.Tensor, fake: torch.Tensor, draw: MixDraw) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (N, C, H, W) and 5-way labels (N,) of ``draw``'s mixed batch of rotated reals and upright fakes."""
    if real.shape != fake.shape:
        raise ValueError(f"the mixed batch needs real and fake batches of one shape, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    n = len(real)
    pool = torch.cat([all_rotations(real).flatten(0, 1), fake])  # (5N, C, H, W): item k·N + i is T_k real_i
    kept = draw.kept.to(real.device)
    return pool[kept], draw.labels(n).to(real.device)


def rotated_batch(
    images: torch.Tensor, scheme: RotationScheme, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotated images (M, C, H, W) and their rotation labels (M,) for a batch under ``scheme``."""
    draw = draw_rotations(len(images), scheme, generator, images.device)
    return apply_rotations(images, draw), draw.rotation
