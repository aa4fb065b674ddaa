"""repro.metrics.evaluate: seeded sampling, cached real outputs, scores with protocol fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from repro.errors import ConfigError
from repro.metrics import evaluate

from ..conftest import random_tree


class TinyGenerator(nn.Module):
    output_range = "symmetric"

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3 * 4 * 4)
        self.norm = nn.BatchNorm1d(3 * 4 * 4)

    def forward(self, z, y=None):
        x = self.norm(self.linear(z))
        if y is not None:
            x = x + y[:, None].float()
        return torch.tanh(x).view(-1, 3, 4, 4)


def test_sampling_is_seeded_uint8_and_leaves_the_model_alone():
    generator = TinyGenerator().train()
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    a = evaluate.sample_generator(generator, 12, latent_dim=4, seed=1, batch_size=4, bn_mode="train")
    b = evaluate.sample_generator(generator, 12, latent_dim=4, seed=1, batch_size=4, bn_mode="train")
    c = evaluate.sample_generator(generator, 12, latent_dim=4, seed=2, batch_size=4, bn_mode="eval")
    assert a.dtype == torch.uint8 and a.shape == (12, 3, 4, 4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert generator.training  # mode restored
    for key, value in generator.state_dict().items():  # BN running statistics untouched in train mode
        assert torch.equal(value, before[key]), key
    labelled = evaluate.sample_generator(generator, 4, latent_dim=4, seed=1, class_labels=torch.tensor([0, 0, 9, 9]))
    assert (labelled[2:] >= labelled[:2]).all()
    with pytest.raises(ValueError, match="bn_mode"):
        evaluate.sample_generator(generator, 2, latent_dim=4, seed=0, bn_mode="frozen")
    undeclared = TinyGenerator()
    undeclared.output_range = None
    with pytest.raises(ConfigError, match="declares no output_range"):
        evaluate.sample_generator(undeclared, 2, latent_dim=4, seed=0)


class CountingExtractor:
    """Mean colour as 'features', first two channels as 'logits'; counts its calls."""

    name = "counting"
    weights_sha256 = "0" * 64

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, images):
        self.calls += 1
        x = torch.as_tensor(images).float().mean(dim=(2, 3))
        return x[:, :2], x


def test_real_outputs_are_computed_once(isolated_cache, make_image_zip, tmp_path):
    make_image_zip(random_tree(0, {"train": 20, "test": 10}), "toy.zip")
    extractor = CountingExtractor()
    first = evaluate.real_outputs("toy", "train", extractor, n=30, data_dir=tmp_path, seed=0)
    second = evaluate.real_outputs("toy", "train", extractor, n=30, data_dir=tmp_path, seed=0)
    assert extractor.calls == 1 and first.n == 30
    np.testing.assert_array_equal(first.features, second.features)
    evaluate.real_outputs("toy", "train", extractor, n=30, data_dir=tmp_path, seed=1)  # another subset
    assert extractor.calls == 2
    with pytest.raises(ValueError, match="has 60 images"):
        evaluate.real_outputs("toy", "train", extractor, n=61, data_dir=tmp_path)


def test_scores_carry_their_protocol(isolated_cache, make_image_zip, tmp_path):
    make_image_zip(random_tree(0, {"train": 20, "test": 20}), "toy.zip")
    extractor = CountingExtractor()
    train = evaluate.real_outputs("toy", "train", extractor, data_dir=tmp_path)
    test = evaluate.real_outputs("toy", "test", extractor, data_dir=tmp_path)
    fake = np.random.default_rng(0).integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    scores = evaluate.score_images(fake, extractor, reference=test, train_marginal=train.class_marginal)
    for field in ("is_mean", "is_std", "fid", "kid_mean", "am_score", "n_fake", "n_real", "ref_split",
                  "is_splits", "extractor", "weights_sha256", "quantisation"):
        assert field in scores, field
    assert scores["n_real"] == 60 and scores["ref_split"] == "toy/test" and scores["kid_subset_size"] == 40
    assert scores["quantisation"] == "uint8 = clamp(floor(127.5 (x + 1) + 0.5), 0, 255)"
    unit = evaluate.score_images(fake, extractor, reference=test, metrics=("fid",), value_range="unit")
    assert unit["quantisation"] == "uint8 = clamp(floor(255 x + 0.5), 0, 255)"
    same = evaluate.score_outputs(test.logits, test.features, reference=test, metrics=("fid",))
    assert same["fid"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="need a reference"):
        evaluate.score_outputs(test.logits, test.features, metrics=("fid",))
    with pytest.raises(ValueError, match="train_marginal"):
        evaluate.score_outputs(test.logits, test.features, metrics=("am",))
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate.score_outputs(test.logits, test.features, metrics=("lpips",))
