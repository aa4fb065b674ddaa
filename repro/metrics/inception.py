"""The TF-2015-12-05 Inception v3 (torch-fidelity's port), loaded only from a weights file you supply.

metrics.md §1: the 1008-class graph every 2016-2019 GAN paper scored with. We never download: the weights come
from, in order, the ``weights_path`` argument, ``$REPRO_INCEPTION_WEIGHTS``, or torch hub's checkpoint folder
under either published file name. The SHA-256 of the file must start with ``6726825d`` (the suffix of both names);
the full digest goes into every result's protocol.

Inputs are uint8 (N, 3, H, W); torch-fidelity resizes them to 299x299 with a TF1-exact bilinear filter and maps
them to (x - 128) / 128. Outputs: pool3 features (2048) for FID/KID and the bias-free logits (1008) for IS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..files import file_sha256
from ..images import as_tensor

WEIGHTS_ENV = "REPRO_INCEPTION_WEIGHTS"
WEIGHTS_FILE_NAMES = ("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth")
SHA256_PREFIX = "6726825d"


class InceptionWeightsError(FileNotFoundError):
    """The Inception weights are missing, unreadable or not the expected file."""


def _hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_inception_weights(weights_path: str | os.PathLike | None = None) -> Path:
    """Locate the Inception weights file (argument, then $REPRO_INCEPTION_WEIGHTS, then torch hub's folder)."""
    explicit = weights_path or os.environ.get(WEIGHTS_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            origin = "weights_path argument" if weights_path else f"${WEIGHTS_ENV}"
            raise InceptionWeightsError(
                f"Inception weights not found at {str(path)!r} (from the {origin}). {_how_to()}"
            )
        return path
    for name in WEIGHTS_FILE_NAMES:
        candidate = _hub_checkpoint_dir() / name
        if candidate.is_file():
            return candidate
    raise InceptionWeightsError(f"Inception weights not found. {_how_to()}")


def _how_to() -> str:
    return (
    f"Inception-based IS/FID/KID need the TF-2015-12-05 Inception v3 weights, a file named "
    f"{WEIGHTS_FILE_NAMES[0]} (torch-fidelity) or {WEIGHTS_FILE_NAMES[1]} (pytorch-fid), which this project "
    f"never downloads. Copy it into {_hub_checkpoint_dir()} or anywhere and set {WEIGHTS_ENV}=/path/to/file "
    "(or pass weights_path=). Offline scores from the project's own classifiers need no such file."
)


@dataclass
class InceptionExtractor:
    """torch-fidelity's InceptionV3 with our weight resolution; call it on uint8 images."""

    network: torch.nn.Module
    weights_path: Path
    weights_sha256: str
    batch_size: int = 100

    name = "inception-v3-compat"

    @torch.no_grad()
    def __call__(self, images: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, 3, H, W) -> (unbiased logits (N, 1008), pool3 features (N, 2048)), float32 on the CPU."""
        pixels = as_tensor(images)
        if pixels.dtype != torch.uint8 or pixels.ndim != 4 or pixels.shape[1] != 3:
            raise TypeError(
                f"Inception takes uint8 RGB images (N, 3, H, W), got {pixels.dtype} {tuple(pixels.shape)}; "
                "quantise generator outputs with repro.images.to_uint8 first"
            )
        device = next(self.network.parameters()).device
        logits, features = [], []
        for chunk in pixels.split(self.batch_size):
            pool3, unbiased = self.network(chunk.to(device))
            features.append(pool3.float().cpu())
            logits.append(unbiased.float().cpu())
        return torch.cat(logits), torch.cat(features)


def random_inception_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict of the same architecture with random weights, for tests and timing only.

    Built without touching the network or any weights file: torch-fidelity's constructor is run with its
    weight loading stubbed out, so the keys and shapes are exactly those a real weights file must have.
    """
    from unittest import mock

    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    cls = tf_inception.FeatureExtractorInceptionV3
    with (
        mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *a, **k: {}),
        mock.patch.object(cls, "load_state_dict", lambda self, state, *a, **k: None),
    ):
        torch.manual_seed(seed)
        return cls("random-init", ["2048"]).state_dict()


def load_inception(
    weights_path: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "cpu",
    verify_hash: bool = True,
    batch_size: int = 100,
) -> InceptionExtractor:
    """Load the Inception extractor from a local weights file; never downloads.

    ``verify_hash=False`` skips the ``6726825d`` SHA-256 prefix check (for tests with random weights only:
    scores from any other file are not comparable with published ones).
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = find_inception_weights(weights_path)
    sha256 = file_sha256(path)
    if verify_hash and not sha256.startswith(SHA256_PREFIX):
        raise InceptionWeightsError(
            f"{path} has SHA-256 {sha256[:16]}..., not the expected {SHA256_PREFIX}...: it is not the "
            f"TF-2015-12-05 Inception port. {_how_to()}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, non-tensor payloads
        raise InceptionWeightsError(f"cannot read {path} as a PyTorch state dict ({err}). {_how_to()}") from err
    fc = state.get("fc.weight") if isinstance(state, dict) else None
    if fc is None or tuple(fc.shape) != (1008, 2048):
        raise InceptionWeightsError(
            f"{path} is a state dict but not of the 1008-class TF Inception (fc.weight "
            f"{None if fc is None else tuple(fc.shape)}, expected (1008, 2048)). {_how_to()}"
        )
    network = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path)
    ).to(device)
    return InceptionExtractor(network, path, sha256, batch_size)
