"""repro.run_folder: refusal of changed hyper-parameters, training seconds over calls, CSV logs, RNG states,
sample grids."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest
import torch

from repro.errors import ConfigError
from repro.methods import StandardGAN
from repro.run_folder import (
    CsvLog,
    config_differences,
    rng_state,
    save_sample_grid,
    set_rng_state,
    trained_generator_state,
)
from repro.train import TrainConfig, TrainingInterrupted, train

from .test_train import CONFIG, StopAt, TinyD, TinyG, tiny_data, tiny_method


def test_changed_hyper_parameters_are_refused_with_the_difference(tmp_path):
    train(tiny_method(), tiny_data(), CONFIG, tmp_path)
    changed = TrainConfig(**{**CONFIG.__dict__, "lr_g": 1e-3, "log_every": 1})
    with pytest.raises(ConfigError) as err:
        train(tiny_method(), tiny_data(), changed, tmp_path)
    assert "train.lr_g: checkpoint 0.0002 -> now 0.001" in str(err.value)
    assert "log_every" not in str(err.value)  # logging frequency may change
    with pytest.raises(ConfigError, match="method.loss: checkpoint 'ns' -> now 'hinge'"):
        train(StandardGAN(TinyG(), TinyD(), loss="hinge"), tiny_data(), CONFIG, tmp_path)
    # same hyper-parameters, but the method's state changed (a new buffer in a newer version of the code)
    newer = tiny_method()
    newer.register_buffer("stream_position", torch.zeros(()))
    with pytest.raises(ConfigError, match="whose state does not match.*delete this one"):
        train(newer, tiny_data(), CONFIG, tmp_path)


def test_config_differences_skip_the_logging_cadence_and_name_the_world_size():
    saved = {"train": {"lr_g": 2e-4, "log_every": 50}, "method": {"loss": "ns"}, "data": {}, "world_size": 1}
    current = {"train": {"lr_g": 2e-4, "log_every": 1}, "method": {"loss": "ns", "new": 1}, "data": {},
               "world_size": 2}
    assert config_differences(saved, current) == [
        "  method.new: checkpoint None -> now 1",
        "  world_size: checkpoint 1 -> now 2",
    ]
    assert config_differences(saved, saved) == []


def test_training_seconds_add_up_over_calls_and_a_replay_adds_none(tmp_path):
    with pytest.raises(TrainingInterrupted):
        train(StopAt(10).wrap(tiny_method()), tiny_data(), CONFIG, tmp_path)
    at_ten = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["train_seconds"]
    resumed = train(tiny_method(), tiny_data(), CONFIG, tmp_path)
    assert at_ten > 0 and resumed.train_seconds == pytest.approx(at_ten + resumed.call_seconds, abs=0.05)
    replay = train(tiny_method(), tiny_data(), CONFIG, tmp_path)
    assert replay.train_seconds == torch.load(tmp_path / "checkpoint.pt", weights_only=True)["train_seconds"]
    assert replay.train_seconds == resumed.train_seconds  # the result reports what the last checkpoint keeps


def test_a_checkpoint_without_training_seconds_reports_none(tmp_path):
    train(tiny_method(), tiny_data(), CONFIG, tmp_path)
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    del checkpoint["train_seconds"]
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    assert train(tiny_method(), tiny_data(), CONFIG, tmp_path).train_seconds is None


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_log_appends_replaces_widens_and_drops_rows_after_a_resume_point(tmp_path):
    path = tmp_path / "eval.csv"
    log = CsvLog(path, keep_until=0)
    assert not path.exists()
    for step in (5, 10, 15):
        log.write({"step": step, "is": float(step)})
    log.write({"step": 15, "is": 1.5, "fid": 2.0})  # replaces step 15 and widens the header
    assert read_rows(path) == [{"step": "5", "is": "5.0", "fid": ""}, {"step": "10", "is": "10.0", "fid": ""},
                               {"step": "15", "is": "1.5", "fid": "2.0"}]
    CsvLog(path, keep_until=10)  # a run resumed at 10 rewrites what came after
    assert [r["step"] for r in read_rows(path)] == ["5", "10"]
    CsvLog(path, keep_until=0)
    assert not path.exists()


def test_rng_states_round_trip():
    state = rng_state()
    first = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    set_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_sample_grids_build_no_autograd_graph(tmp_path):
    generator, seen = TinyG(), []
    generator.register_forward_hook(lambda module, args, output: seen.append(torch.is_grad_enabled()))
    save_sample_grid(generator, torch.zeros(4, 8), tmp_path / "grid.png", "eval", "symmetric")
    assert seen == [False] and (tmp_path / "grid.png").exists()


@pytest.mark.parametrize(("ema_start", "expected"), [(0, "ema"), (5, "generator")])
def test_trained_generator_state_is_the_average_once_it_started_else_g(tmp_path, ema_start, expected):
    method = tiny_method()
    config = TrainConfig(steps=2, batch_size=16, ema_decay=0.5, ema_start=ema_start, progress=False)
    result = train(method, tiny_data(), config, tmp_path)
    weights, which, step = trained_generator_state(tmp_path)
    assert which == expected and step == 2
    sampled_with = result.ema_generator if expected == "ema" else method.generator
    torch.testing.assert_close(weights, sampled_with.state_dict())
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        trained_generator_state(tmp_path / "elsewhere")
