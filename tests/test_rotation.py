"""repro.rotation: four quarter turns compose to the identity, the schemes assign the stated rotations, and the
vectorised rotation of a batch matches a per-image loop."""

from __future__ import annotations

import pytest
import torch

from repro.errors import ConfigError
from repro.rotation import all_rotations, apply_rotations, draw_rotations, rotate, rotated_batch


def test_four_quarter_turns_are_the_identity_and_rotation_is_exact():
    images = torch.randn(5, 3, 6, 6)
    turned = images
    for _ in range(4):
        turned = rotate(turned, 1)
    assert torch.equal(turned, images)
    assert torch.equal(rotate(rotate(images, 1), 3), images)
    # a 90° turn moves the top-left pixel to the bottom-left (counter-clockwise)
    assert torch.equal(rotate(images, 1)[:, :, -1, 0], images[:, :, 0, 0])
    stacked = all_rotations(images)
    assert stacked.shape == (4, 5, 3, 6, 6) and torch.equal(stacked[0], images)


def test_rotation_schemes_assign_the_stated_rotations():
    quarter = draw_rotations(8, "quarter")
    assert quarter.rotation.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and quarter.source.tolist() == list(range(8))
    every = draw_rotations(3, "all")
    pairs = sorted(zip(every.source.tolist(), every.rotation.tolist(), strict=True))
    assert pairs == [(i, k) for i in range(3) for k in range(4)]
    random = draw_rotations(64, "random", torch.Generator().manual_seed(0))
    pairs = set(zip(random.source.tolist(), random.rotation.tolist(), strict=True))
    assert len(random.source) == 64 and len(pairs) == 64  # distinct copies of the 4n, n kept
    assert set(random.rotation.tolist()) == {0, 1, 2, 3}
    again = draw_rotations(64, "random", torch.Generator().manual_seed(0))
    assert torch.equal(random.rotation, again.rotation)
    with pytest.raises(ConfigError, match="rotation scheme"):
        draw_rotations(4, "sideways")


def test_applied_rotations_match_a_per_image_loop():
    images = torch.randn(6, 2, 5, 5)
    draw = draw_rotations(6, "random", torch.Generator().manual_seed(3))
    pairs = zip(draw.source, draw.rotation, strict=True)
    expected = torch.stack([torch.rot90(images[s], int(k), (1, 2)) for s, k in pairs])
    assert torch.equal(apply_rotations(images, draw), expected)
    rotated, labels = rotated_batch(images, "quarter")
    assert torch.equal(rotated[-1], torch.rot90(images[-1], 3, (1, 2))) and labels[-1] == 3
