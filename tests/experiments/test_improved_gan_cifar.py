"""repro.experiments.improved_gan_cifar: Table 2 / SVHN runs and Table 3 columns end to end on a toy CIFAR-10
mirror, with tiny networks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.errors import ConfigError
from repro.experiments import improved_gan_cifar as cifar

from .conftest import TrainingReached, capture_training_device

TINY = dict(d_widths=(4, 8), generator_width=4, init_batch=20, batch_size=10)


def test_semisupervised_runs_resume_and_summarise(toy_cifar, monkeypatch):
    configs = [cifar.SSLImageConfig(n_labeled=20, seed=seed, iterations=4, decay_start=2, **TINY) for seed in (0, 1)]
    rows = cifar.run_semisupervised_all(configs, toy_cifar / "runs", toy_cifar, eval_every=2)
    again = cifar.run_semisupervised_all(configs[:1], toy_cifar / "runs", toy_cifar)  # finished: re-evaluates
    assert rows[0]["error_average_percent"] == again[0]["error_average_percent"]
    assert rows[0]["wall_seconds"] == again[0]["wall_seconds"] > 0  # the run's training time, not the replay's
    assert all(r["steps_trained"] == 4 and 0 <= r["error_raw_percent"] <= 100 for r in rows)
    curves = cifar.semisupervised_curves(configs, toy_cifar / "runs")
    assert [(c["run_seed"], c["step"]) for c in curves] == [(0, 2), (0, 4), (1, 2), (1, 4)]
    assert curves[1]["epoch"] == pytest.approx(4 * 10 / 130)  # 130 toy training images
    summary = cifar.summarise_errors(rows)
    assert summary[0]["seeds"] == 2 and summary[0]["paper_error_percent"] == "not reported"  # 20 labels
    mean = np.mean([r["error_average_percent"] for r in rows])
    assert math.isclose(summary[0]["error_average_percent_mean"], mean)
    with pytest.raises(ConfigError, match="dataset"):
        cifar.SSLImageConfig(dataset="imagenet")

    baselines = cifar.run_supervised_baselines(configs, toy_cifar / "runs", toy_cifar)
    assert [b["model"] for b in baselines] == [cifar.SUPERVISED_ONLY] * 2
    assert all(b["steps_trained"] == 4 and 0 <= b["error_raw_percent"] <= 100 for b in baselines)
    monkeypatch.setattr(cifar, "labels_only_test_error", _must_not_train)  # a kept baseline is read back
    assert cifar.run_supervised_baselines(configs[:1], toy_cifar / "runs", toy_cifar, workers=1) == baselines[:1]
    margin = cifar.unlabeled_margin(rows, baselines)
    assert len(margin) == 1 and (margin[0]["gan_seeds"], margin[0]["supervised_seeds"]) == (2, 2)
    raw_mean = np.mean([r["error_raw_percent"] for r in rows])
    assert math.isclose(margin[0]["margin_points"], np.mean([b["error_raw_percent"] for b in baselines]) - raw_mean)
    assert math.isclose(margin[0]["gan_error_average_percent_mean"], mean)


def _must_not_train(*args, **kwargs):
    raise AssertionError("a finished baseline was trained again")


def test_unlabeled_margin_pairs_label_counts_and_skips_missing_baselines():
    gan = [{"dataset": "cifar10", "labels": n, "error_average_percent": e, "error_raw_percent": e + 1}
           for n, e in ((1000, 60.0), (4000, 50.0))]
    baseline = [{"dataset": "cifar10", "labels": 1000, "error_raw_percent": e} for e in (70.0, 72.0)]
    (row,) = cifar.unlabeled_margin(gan, baseline)
    assert (row["labels"], row["supervised_error_percent_mean"], row["margin_points"]) == (1000, 71.0, 10.0)
    assert (row["gan_error_average_percent_mean"], row["gan_seeds"], row["supervised_seeds"]) == (60.0, 1, 2)
    assert math.isnan(row["gan_error_raw_percent_std"])
    assert math.isclose(row["supervised_error_percent_std"], 2 ** 0.5)


def test_table3_columns_switch_one_thing_each_and_score(toy_cifar):
    from repro.metrics.classifier import load_classifier
    from repro.nets.improved_gan import MinibatchDiscrimination, VirtualBatchNorm

    switches = {c: cifar.Table3Config(column=c).ablation() for c in cifar.Table3Config.COLUMNS}
    ours = switches["our methods"]
    assert ours == {"vbn": True, "labels": True, "label_smoothing": True,
                                                    "historical_average": False, "minibatch_features": True}
    for column, changed in (("-VBN+BN", {"vbn"}), ("-L+HA", {"labels", "historical_average"}),
                            ("-LS", {"label_smoothing"}), ("-L", {"labels"}), ("-MBF", {"minibatch_features"})):
        assert {k for k in ours if switches[column][k] != ours[k]} == changed
    with pytest.raises(ConfigError, match="Table 3 column"):
        cifar.Table3Config(column="-FM")

    from repro.data import load_dataset

    train_set = load_dataset("cifar10", "train", toy_cifar)
    method = cifar.build_table3(cifar.Table3Config(column="-L+HA", n_labeled=20, **TINY), train_set)
    assert not method.use_labels and method.historical_average > 0 and method.real_target == 0.9
    assert any(isinstance(m, VirtualBatchNorm) for m in method.generator.modules())
    assert any(isinstance(m, MinibatchDiscrimination) for m in method.discriminator.modules())
    no_mbf = cifar.build_table3(cifar.Table3Config(column="-MBF", n_labeled=20, **TINY), train_set)
    assert not any(isinstance(m, MinibatchDiscrimination) for m in no_mbf.discriminator.modules())

    config = cifar.Table3Config(column="our methods", n_labeled=20, iterations=2, decay_start=None,
                                reference_size=5, **TINY)
    run_dir = toy_cifar / "runs" / cifar.table3_run_name(config)
    trained = cifar.train_table3(config, run_dir, toy_cifar)
    assert trained["steps_trained"] == 2 and "our_methods" in run_dir.name
    classifier = load_classifier("cifar10", "smoke", toy_cifar)
    first = cifar.score_table3(config, run_dir, classifier, 40, toy_cifar)
    assert first["n_fake"] == 40 and first["is_mean"] >= 1 and first["fid"] >= 0
    assert cifar.score_table3(config, run_dir, classifier, 40, toy_cifar) == first  # kept, not resampled
    summary = cifar.summarise_table3([first, {**first, "run_seed": 1, "is_mean": first["is_mean"] + 1}])
    assert summary[0]["paper_inception_score"] == "8.09 ± 0.07" and summary[0]["seeds"] == 2
    assert summary[0]["is_std_over_seeds"] == pytest.approx(math.sqrt(0.5))


def test_both_drivers_train_on_the_picked_device(toy_cifar, monkeypatch):
    asked = capture_training_device(monkeypatch, cifar)
    with pytest.raises(TrainingReached):
        cifar.run_semisupervised(cifar.SSLImageConfig(n_labeled=20, iterations=4, decay_start=2, **TINY),
                                 toy_cifar / "a", toy_cifar)
    with pytest.raises(TrainingReached):
        cifar.train_table3(cifar.Table3Config(column="our methods", n_labeled=20, iterations=2, decay_start=None,
                                              reference_size=5, **TINY), toy_cifar / "b", toy_cifar)
    assert asked == ["the picked device"] * 2
