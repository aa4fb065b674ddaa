"""repro.experiments.runner and protocol: one way to run any experiment. A toy experiment (a tiny DCGAN on random
pixels) shows what every paper's runs get from the runner: batches on the picked device, torch seeded before the
method is built, the scored samples' seeds, the kept row reused by a finished run, training seconds, reloading,
and a plan's runs folder under ``$REPRO_RUNS_DIR``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from repro.data import DeviceBatches
from repro.distributed import pick_device
from repro.experiments import runner
from repro.experiments.protocol import (
    CURVE_SCORE_SEED_OFFSET,
    FINAL_SCORE_SEED_OFFSET,
    Evaluation,
    Plan,
    config_digest,
    fake_train_set,
)
from repro.methods.gan import StandardGAN
from repro.nets.dcgan import dcgan_nets
from repro.train import TrainConfig


@dataclass(frozen=True)
class ToyConfig:
    seed: int = 0
    iterations: int = 3
    width: int = 4


class ToyScorer:
    health_gate = "cifar10"  # IS >= 2: the toy's IS of 1 fails it

    def __init__(self, calls: list, key: str) -> None:
        self.calls, self.key = calls, key

    def along_training(self, step, generator, seed):
        self.calls.append(("curve", step, seed))
        with torch.no_grad():
            return {"mean_pixel": float(generator(torch.zeros(2, generator.latent_dim)).mean())}

    def final(self, method, seed, folder):
        self.calls.append(("final", seed))
        (folder / "artefact.txt").write_text("kept beside the run")
        return {"first_weight": float(next(method.generator.parameters()).detach().flatten()[0]), "is_mean": 1.0}


class ToyExperiment:
    """What a paper module implements; records what the runner hands it."""

    def __init__(self) -> None:
        self.devices: list = []
        self.calls: list = []

    def run_name(self, config):
        return f"toy-seed{config.seed}-{config_digest(config)}"

    def columns(self, config):
        return {"model": "toy", "run_seed": config.seed}

    def image_shape(self, config):
        return (1, 28, 28)

    def train_set(self, config, data_dir):
        return fake_train_set((1, 28, 28), n=32)

    def build(self, config, train_set):
        generator, discriminator = dcgan_nets((1, 28, 28), latent_dim=4, width=config.width)
        return StandardGAN(generator, discriminator, seed=config.seed)

    def batches(self, config, train_set, device):
        self.devices.append(device)
        return DeviceBatches(train_set.images, None, 8, device=device)

    def loop(self, config):
        return TrainConfig(steps=config.iterations, batch_size=8, checkpoint_every=1)

    def scorer(self, config, method, data_dir, evaluation):
        return ToyScorer(self.calls, f"toy-{evaluation.n_samples}")

    def prepare(self, configs, data_dir, evaluation):
        self.calls.append(("prepare", len(configs)))


def test_a_run_trains_on_the_picked_device_scores_with_offset_seeds_and_keeps_its_row(tmp_path):
    toy = ToyExperiment()
    config = ToyConfig(seed=5)
    row = runner.run(toy, config, tmp_path, None, Evaluation(n_samples=10, eval_every=2, eval_samples=4))
    assert toy.devices == [pick_device()]  # where repro.distributed says, CUDA on a GPU machine
    assert ("curve", 2, 5 + CURVE_SCORE_SEED_OFFSET) in toy.calls
    assert toy.calls[-1] == ("final", 5 + FINAL_SCORE_SEED_OFFSET)
    assert list(row)[:3] == ["model", "run_seed", "first_weight"] and row["steps_trained"] == 3
    assert row["wall_seconds"] is not None and row["wall_seconds"] >= 0
    assert (row["health_gate"], row["health_value"], row["healthy"]) == ("classifier IS ≥ 2", 1.0, False)
    folder = tmp_path / toy.run_name(config)
    assert (folder / "artefact.txt").exists() and (folder / "scores-toy-10" / "result.json").exists()
    assert runner.read_log(folder)[0]["step"] == 2

    finals = toy.calls.count(("final", 5 + FINAL_SCORE_SEED_OFFSET))
    assert runner.run(toy, config, tmp_path, None, Evaluation(n_samples=10, eval_every=2, eval_samples=4)) == row
    # a finished run is not trained again and returns its kept row, not a second final score
    assert toy.calls.count(("final", 5 + FINAL_SCORE_SEED_OFFSET)) == finals
    assert runner.run(toy, config, tmp_path, None, Evaluation(n_samples=11))["first_weight"] == row["first_weight"]
    assert toy.calls[-1][0] == "final"  # another evaluation is another kept row


def test_torch_is_seeded_before_build_so_a_reload_and_a_fresh_build_agree(tmp_path):
    toy = ToyExperiment()
    torch.manual_seed(123)  # whatever the caller did before
    first = runner.build(toy, ToyConfig(seed=1))
    torch.manual_seed(456)
    again = runner.build(toy, ToyConfig(seed=1))
    other = runner.build(toy, ToyConfig(seed=2))
    assert torch.equal(next(first.parameters()), next(again.parameters()))
    assert not torch.equal(next(first.parameters()), next(other.parameters()))
    with pytest.raises(FileNotFoundError, match="train the run first"):
        runner.trained(toy, ToyConfig(seed=1), tmp_path)
    runner.run(toy, ToyConfig(seed=1), tmp_path, None, Evaluation(n_samples=4))
    trained = runner.trained(toy, ToyConfig(seed=1), tmp_path)
    assert not torch.equal(next(trained.parameters()), next(first.parameters()))  # the trained weights


def test_a_plan_trains_under_its_runs_folder_and_describes_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RUNS_DIR", str(tmp_path / "elsewhere"))
    toy = ToyExperiment()
    plan = Plan(notebook="99_toy", profile="smoke", experiment=toy,
                runs={"main": (ToyConfig(seed=0), ToyConfig(seed=1)), "longer": (ToyConfig(iterations=4),)},
                evaluation=Evaluation(n_samples=4), protocol={"seed": "[0, 1]"}, settings={"note": "toy"})
    assert plan.runs_root == tmp_path / "elsewhere" / "99_toy" / "smoke"
    rows = runner.run_plan(plan)
    assert [r["run_seed"] for r in rows] == [0, 1, 0] and [r["steps_trained"] for r in rows] == [3, 3, 4]
    assert toy.calls[0] == ("prepare", 3)  # shared caches filled once, before any run (and any worker)
    assert sorted(os.listdir(plan.runs_root)) == sorted(toy.run_name(c) for c in plan.configs)
    assert plan.table() == [{"group": "main", "seed": 0, "iterations": 3},
                            {"group": "main", "seed": 1, "iterations": 3},
                            {"group": "longer", "seed": 0, "iterations": 4}]
    assert "99_toy" in plan._repr_markdown_() and "note: toy" in plan._repr_markdown_()
    assert repr(plan).startswith("Plan('99_toy', 'smoke', 3 runs (main: 2, longer: 1), Evaluation(")
    protocol = plan.table_protocol()
    assert protocol["profile"] == "smoke" and protocol["seed"] == "[0, 1]" and "git_commit" in protocol


def test_a_plan_digest_follows_what_decides_its_results_and_kept_rows_follow_the_evaluation():
    def plan(**changes):
        fields = {"notebook": "99_toy", "profile": "smoke", "experiment": ToyExperiment(),
                  "runs": {"main": (ToyConfig(seed=0),)}, "evaluation": Evaluation(n_samples=4),
                  "protocol": {"seed": "[0]"}, **changes}
        return Plan(**fields)

    assert plan().digest() == plan(workers=2).digest()  # how many at a time does not change a result
    for changed in (plan(runs={"main": (ToyConfig(seed=1),)}), plan(evaluation=Evaluation(n_samples=5)),
                    plan(protocol={"seed": "[1]"}), plan(settings={"n": 1}), plan(runs_of="98_other")):
        assert changed.digest() != plan().digest()
    assert Evaluation(n_samples=4).score_key("clf") == "clf-4"
    assert Evaluation(n_samples=4, n_real=9).score_key("clf") == "clf-4-9"


def test_config_digest_follows_every_field():
    assert config_digest(ToyConfig()) == config_digest(ToyConfig())
    assert config_digest(ToyConfig()) != config_digest(ToyConfig(width=5))
    assert len(config_digest(ToyConfig())) == 8


def test_a_trained_run_is_rescored_under_another_scorer_once_and_kept_beside_its_own_row(tmp_path):
    toy = ToyExperiment()
    own = runner.run(toy, ToyConfig(seed=2), tmp_path, None, Evaluation(n_samples=4))
    other = ToyScorer(toy.calls, "inception-4")
    row = runner.rescore(toy, ToyConfig(seed=2), tmp_path, other)
    assert row["first_weight"] == own["first_weight"] and row["run_seed"] == 2  # the trained weights, reloaded
    assert toy.calls[-1] == ("final", 2 + FINAL_SCORE_SEED_OFFSET)
    calls = len(toy.calls)
    assert runner.rescore(toy, ToyConfig(seed=2), tmp_path, other) == row and len(toy.calls) == calls  # kept
    assert (tmp_path / toy.run_name(ToyConfig(seed=2)) / "scores-inception-4" / "result.json").exists()


def test_kept_rows_round_trip(tmp_path: Path):
    assert runner.kept_row(tmp_path / "none") is None and runner.kept_row(None) is None
    assert runner.keep_row(tmp_path / "kept", {"a": 1}) == {"a": 1}
    assert runner.kept_row(tmp_path / "kept") == {"a": 1}
