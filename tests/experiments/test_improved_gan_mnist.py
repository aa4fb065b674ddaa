"""repro.experiments.improved_gan_mnist: one Table 1 run and its baseline, end to end on a toy MNIST mirror."""

from __future__ import annotations

import json
import math

import pytest
import torch

from repro.data import load_dataset
from repro.experiments import improved_gan_mnist as table1

from .conftest import TrainingReached, capture_training_device


def test_a_run_resumes_and_rows_carry_errors_out_of_the_test_set(toy_mnist_mirror, tmp_path):
    toy_mnist_mirror(12, 4)
    config = table1.SSLMnistConfig(n_labeled=20, iterations=12, batch_size=10, init_batch=50,
                                   hidden_widths=(32, 16), generator_width=16)
    run_dir = tmp_path / table1.run_name(config)
    first = table1.run_semisupervised(config, run_dir, data_dir=tmp_path)
    again = table1.run_semisupervised(config, run_dir, data_dir=tmp_path)  # finished: re-evaluates only
    assert first["steps_trained"] == again["steps_trained"] == 12
    assert first["wall_seconds"] == again["wall_seconds"] > 0  # the run's training time, not the replay's
    assert first["errors_average"] == again["errors_average"] and 0 <= first["errors_raw"] <= 40
    baseline = table1.run_supervised_baseline(config, data_dir=tmp_path)
    assert baseline["model"].startswith("supervised") and 0 <= baseline["errors_raw"] <= 40

    summary = table1.summarise([first, {**first, "run_seed": 1, "errors_average": first["errors_average"] + 2}],
                               "errors_average")
    assert summary[0]["seeds"] == 2 and summary[0]["paper_errors"] == "1677 ± 452"  # 20 labels in the paper
    assert math.isclose(summary[0]["errors_std"], math.sqrt(2))
    assert table1.run_name(config) != table1.run_name(table1.SSLMnistConfig(n_labeled=20, seed=1))


def test_table1_driver_curves_baseline_cache_and_generator(toy_mnist_mirror, tmp_path):
    toy_mnist_mirror(12, 4)
    configs = [table1.SSLMnistConfig(n_labeled=20, seed=seed, iterations=8, decay_start=4, batch_size=10,
                                     init_batch=50, hidden_widths=(16,), generator_width=8) for seed in (0, 1)]
    gan, baseline = table1.run_table1(configs, tmp_path / "runs", tmp_path, workers=1, eval_every=4)
    assert [r["run_seed"] for r in gan] == [0, 1] and all(r["steps_trained"] == 8 for r in gan)
    # the baseline row is kept and read back, not retrained
    record = tmp_path / "runs" / "supervised" / table1.run_name(configs[0]) / "result.json"
    assert json.loads(record.read_text()) == baseline[0]
    record.write_text(json.dumps({**baseline[0], "errors_raw": 4321}))
    assert table1.run_table1(configs[:1], tmp_path / "runs", tmp_path)[1][0]["errors_raw"] == 4321

    curves = table1.learning_curves(configs, tmp_path / "runs")
    assert [(c["run_seed"], c["step"]) for c in curves] == [(0, 4), (0, 8), (1, 4), (1, 8)]
    assert all(0 <= c["error_raw_percent"] <= 100 and c["epoch"] > 0 for c in curves)
    n_test = len(load_dataset("mnist", "test", tmp_path))
    assert gan[1]["errors_average"] == round(curves[-1]["error_average_percent"] * n_test / 100)  # same weights

    rows = table1.table1(gan, baseline)
    assert [r["model"] for r in rows] == ["K+1 GAN + FM, averaged D", "K+1 GAN + FM, current D",
                                          "supervised only (same D)"]
    assert rows[0]["seeds"] == 2 and rows[0]["paper_error_percent"] == 16.77
    assert math.isnan(rows[2]["paper_error_percent"])

    generator = table1.trained_generator(configs[0], tmp_path / "runs", tmp_path)
    assert generator(torch.rand(3, generator.latent_dim)).shape == (3, 1, 28, 28)
    with pytest.raises(FileNotFoundError, match="train the run first"):
        table1.trained_generator(configs[0], tmp_path / "elsewhere", tmp_path)


def test_the_driver_and_its_baseline_run_on_the_picked_device(toy_mnist_mirror, tmp_path, monkeypatch):
    from repro.experiments import supervised_only

    toy_mnist_mirror(12, 4)
    config = table1.SSLMnistConfig(n_labeled=20, iterations=4, batch_size=10, init_batch=50,
                                   hidden_widths=(32, 16), generator_width=16)
    asked = capture_training_device(monkeypatch, table1)
    with pytest.raises(TrainingReached):
        table1.run_semisupervised(config, tmp_path / "r", data_dir=tmp_path)
    assert asked == ["the picked device"]
    moved_to = []
    monkeypatch.setattr(supervised_only, "pick_device", lambda: moved_to.append("picked") or torch.device("cpu"))
    table1.run_supervised_baseline(config, None, data_dir=tmp_path)
    assert moved_to == ["picked"]
