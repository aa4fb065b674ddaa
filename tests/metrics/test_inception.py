"""repro.metrics.inception: weights are found, checked and loaded from a file, never downloaded.

The real weights are not available here; the loading path is exercised with a random-weight state dict of
the same architecture, saved under the published file name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from repro.files import file_sha256
from repro.metrics import inception


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    """A state dict of torch-fidelity's Inception architecture with random weights."""
    path = tmp_path_factory.mktemp("weights") / inception.WEIGHTS_FILE_NAMES[0]
    torch.save(inception.random_inception_state_dict(seed=0), path)
    return path


def test_missing_weights_error_says_what_and_where(no_weights_anywhere):
    with pytest.raises(inception.InceptionWeightsError) as err:
        inception.load_inception()
    message = str(err.value)
    assert all(name in message for name in inception.WEIGHTS_FILE_NAMES)
    assert inception.WEIGHTS_ENV in message and "never downloads" in message


def test_env_variable_pointing_nowhere_is_named(no_weights_anywhere, monkeypatch):
    monkeypatch.setenv(inception.WEIGHTS_ENV, str(no_weights_anywhere / "missing.pth"))
    with pytest.raises(inception.InceptionWeightsError, match=r"missing\.pth.*REPRO_INCEPTION_WEIGHTS"):
        inception.load_inception()


def test_random_weights_load_through_the_real_path(random_weights, no_weights_anywhere):
    with pytest.raises(inception.InceptionWeightsError, match="not the expected 6726825d"):
        inception.load_inception(random_weights)
    extractor = inception.load_inception(random_weights, verify_hash=False, batch_size=2)
    assert extractor.weights_sha256 == file_sha256(random_weights)
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    logits, features = extractor(images)
    assert logits.shape == (3, 1008) and features.shape == (3, 2048)
    assert torch.isfinite(logits).all() and torch.isfinite(features).all()
    with pytest.raises(TypeError, match="uint8 RGB"):
        extractor(images.float())


def test_weights_are_found_in_the_hub_folder_under_either_name(random_weights, no_weights_anywhere):
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    hub.mkdir(parents=True)
    (hub / inception.WEIGHTS_FILE_NAMES[1]).write_bytes(random_weights.read_bytes())
    assert inception.find_inception_weights() == hub / inception.WEIGHTS_FILE_NAMES[1]


def test_wrong_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(inception.InceptionWeightsError, match="cannot read"):
        inception.load_inception(garbage, verify_hash=False)
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(1000, 2048)}, other)
    with pytest.raises(inception.InceptionWeightsError, match=r"expected \(1008, 2048\)"):
        inception.load_inception(other, verify_hash=False)
