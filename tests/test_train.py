"""repro.train: the loop. Exact resume, re-evaluation of a finished run, failures, interruption, schedules, logs.

The tiny method and data here are shared by test_run_folder and test_distributed."""

from __future__ import annotations

import csv
import os
import signal

import pytest
import torch
from torch import nn

from repro.data import DeviceBatches
from repro.errors import ConfigError
from repro.methods import StandardGAN
from repro.train import NonFiniteLossError, TrainConfig, TrainingInterrupted, train


class TinyG(nn.Module):
    latent_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 4, 4)


class TinyD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def tiny_method(seed: int = 0) -> StandardGAN:
    torch.manual_seed(seed)
    return StandardGAN(TinyG(), TinyD(), loss="ns")


def tiny_data(seed: int = 0) -> DeviceBatches:
    images = torch.randint(0, 256, (256, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(9))
    return DeviceBatches(images, None, batch_size=16, seed=seed)


CONFIG = TrainConfig(steps=20, batch_size=16, n_dis=2, checkpoint_every=10, log_every=5, ema_decay=0.9,
                     schedule="linear", progress=False)


def full_state(method: StandardGAN, run_dir) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    state = {f"method.{k}": v for k, v in method.state_dict().items() if isinstance(v, torch.Tensor)}
    state.update({f"ema.{k}": v for k, v in checkpoint["ema"].items()})
    for i, s in checkpoint["opt_g"]["state"].items():
        state.update({f"opt_g.{i}.{k}": v for k, v in s.items()})
    return state


def noisy_evaluation(step, generator):
    """An evaluation that draws from the global RNG, as a metric with random subsets would."""
    return {"draw": float(torch.rand(1)), "step_seen": step}


def test_resume_is_bit_identical(tmp_path):
    config = TrainConfig(**{**CONFIG.__dict__, "eval_every": 5, "sample_every": 5})
    straight = tiny_method()
    assert train(straight, tiny_data(), config, tmp_path / "straight", evaluate=noisy_evaluation).step == 20

    interrupted = tmp_path / "interrupted"
    with pytest.raises(TrainingInterrupted, match="iteration 10"):
        train(StopAt(10).wrap(tiny_method()), tiny_data(), config, interrupted, evaluate=noisy_evaluation)
    again = tiny_method(seed=123)  # other initial weights and data order: all must come from the checkpoint
    result = train(again, tiny_data(seed=77), config, interrupted, evaluate=noisy_evaluation)
    assert result.started_at == 10 and result.step == 20 and result.resumed

    expected, got = full_state(straight, tmp_path / "straight"), full_state(again, interrupted)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    with open(interrupted / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [5, 10, 15, 20]
    assert (interrupted / "eval.csv").read_text() == (tmp_path / "straight" / "eval.csv").read_text()
    assert len(list((interrupted / "samples").glob("*.png"))) == 4

    shorter = TrainConfig(**{**config.__dict__, "steps": 10})
    with pytest.raises(ConfigError, match="train.steps"):  # the linear schedule depends on it
        train(tiny_method(), tiny_data(), shorter, tmp_path / "straight")
    fewer_images = DeviceBatches(torch.zeros(100, 1, 4, 4, dtype=torch.uint8), None, batch_size=16)
    with pytest.raises(ConfigError, match="data.images: checkpoint 256 -> now 100"):
        train(tiny_method(), fewer_images, config, tmp_path / "straight")


def test_a_finished_run_continues_to_more_steps_only_when_asked_and_as_if_trained_straight(tmp_path):
    import json

    constant = TrainConfig(**{**CONFIG.__dict__, "schedule": "constant"})
    straight = tiny_method()
    train(straight, tiny_data(), constant, tmp_path / "straight")

    first = TrainConfig(**{**constant.__dict__, "steps": 10})
    train(tiny_method(), tiny_data(), first, tmp_path / "continued")
    with pytest.raises(ConfigError, match="extend=True"):  # a larger --steps alone is a changed setting
        train(tiny_method(), tiny_data(), constant, tmp_path / "continued")
    continued = tiny_method(seed=5)
    result = train(continued, tiny_data(seed=3), constant, tmp_path / "continued", extend=True)
    assert (result.started_at, result.step) == (10, 20)
    expected, got = full_state(straight, tmp_path / "straight"), full_state(continued, tmp_path / "continued")
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    record = json.loads((tmp_path / "continued" / "config.json").read_text())
    assert record["extended"] == [{"from_steps": 10, "to_steps": 20}] and record["train"]["steps"] == 20

    linear_first = TrainConfig(**{**CONFIG.__dict__, "steps": 10})
    train(tiny_method(), tiny_data(), linear_first, tmp_path / "linear")
    with pytest.raises(ConfigError, match="linear-decay schedule cannot be continued"):
        train(tiny_method(), tiny_data(), CONFIG, tmp_path / "linear", extend=True)
    other_lr = TrainConfig(**{**constant.__dict__, "steps": 30, "lr_g": 1e-3})
    with pytest.raises(ConfigError, match="train.lr_g") as refused:  # only steps may change
        train(tiny_method(), tiny_data(), other_lr, tmp_path / "continued", extend=True)
    assert "train.steps" not in str(refused.value)


def test_a_run_never_resumes_on_other_data_of_the_same_size(tmp_path):
    config = TrainConfig(**{**CONFIG.__dict__, "steps": 10})
    with pytest.raises(TrainingInterrupted):
        train(StopAt(5).wrap(tiny_method()), tiny_data(), config, tmp_path / "run")
    inverted = tiny_data()
    inverted.images = 255 - inverted.images  # another mirror: same count, shape and range, other pixels
    with pytest.raises(ConfigError, match="data.content_sha256: checkpoint '[0-9a-f]{16}' -> now '[0-9a-f]{16}'"):
        train(tiny_method(), inverted, config, tmp_path / "run")
    assert train(tiny_method(), tiny_data(), config, tmp_path / "run").started_at == 5  # the same data resumes

    # a checkpoint from before the fingerprint was recorded resumes (nothing to compare), on any data
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    del checkpoint["config"]["data"]["content_sha256"]
    torch.save(checkpoint, tmp_path / "run" / "checkpoint.pt")
    assert train(tiny_method(), tiny_data(), config, tmp_path / "run").step == 10


class StopAt:
    """Sends SIGTERM to this process during iteration ``step``, as a job scheduler would."""

    def __init__(self, step: int) -> None:
        self.step, self.calls = step, 0

    def wrap(self, method: StandardGAN) -> StandardGAN:
        original = method.generator_step

        def generator_step(*args, **kwargs):
            self.calls += 1
            if self.calls == self.step:
                os.kill(os.getpid(), signal.SIGTERM)
            return original(*args, **kwargs)

        method.generator_step = generator_step
        return method


def test_finished_run_only_re_evaluates(tmp_path):
    calls = []

    def evaluate(step, generator):
        calls.append(step)
        with torch.no_grad():
            return {"mean_pixel": float(generator(torch.zeros(4, 8)).mean())}

    first = train(tiny_method(), tiny_data(), CONFIG, tmp_path, evaluate=evaluate)
    method = tiny_method(seed=5)
    second = train(method, tiny_data(), CONFIG, tmp_path, evaluate=evaluate)
    assert calls == [20, 20] and second.started_at == 20 and second.call_seconds < first.call_seconds
    assert first.evaluations == second.evaluations  # same weights restored, same numbers
    with open(tmp_path / "eval.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [20]
    assert (tmp_path / "samples" / "step_0000020.png").exists()


def test_evaluation_columns_may_grow_and_an_unused_average_is_not_returned(tmp_path):
    def evaluate(step, generator):
        return {"is": 1.0} if step < 20 else {"is": 2.0, "fid": 3.0}

    config = TrainConfig(**{**CONFIG.__dict__, "eval_every": 10, "ema_start": 100})
    result = train(tiny_method(), tiny_data(), config, tmp_path, evaluate=evaluate)
    with open(tmp_path / "eval.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["step"], r["is"], r["fid"]) for r in rows] == [("10", "1.0", ""), ("20", "2.0", "3.0")]
    assert result.ema_generator is None  # ema_start was never reached


class ExplodingGAN(StandardGAN):
    def __init__(self, explode_at: int) -> None:
        super().__init__(TinyG(), TinyD())
        self.explode_at, self.calls = explode_at, 0

    def generator_loss(self, batch_size, labels, real=None):
        self.calls += 1
        loss, logs = super().generator_loss(batch_size, labels, real)
        return (loss * float("nan"), logs) if self.calls >= self.explode_at else (loss, logs)


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"iteration 15: .*'g_loss': nan.*last good checkpoint"):
        train(ExplodingGAN(explode_at=12), tiny_data(), CONFIG, tmp_path)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 10


def test_schedules_and_logs(tmp_path):
    method = tiny_method()
    config = TrainConfig(steps=8, batch_size=16, schedule="step", milestones=(4,), gamma=0.5, log_every=2,
                         lr_d=1e-3, progress=False)
    train(method, tiny_data(), config, tmp_path)
    with open(tmp_path / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8]
    # the rate each logged iteration ran at: the milestone at 4 takes effect from iteration 5
    assert [float(r["lr_d"]) for r in rows] == [1e-3, 1e-3, 5e-4, 5e-4]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "seconds"} <= set(rows[0])


def test_linear_decay_starts_late(tmp_path):
    """Improved-GAN's schedule: flat until decay_start, then linear to 0 at the last iteration."""
    config = TrainConfig(steps=8, batch_size=16, schedule="linear", decay_start=4, log_every=1, lr_d=1e-3,
                         progress=False)
    train(tiny_method(), tiny_data(), config, tmp_path)
    with open(tmp_path / "log.csv") as f:
        rates = [float(r["lr_d"]) for r in csv.DictReader(f)]
    assert rates == pytest.approx([1e-3] * 5 + [7.5e-4, 5e-4, 2.5e-4])
    with pytest.raises(ConfigError, match="decay_start"):
        TrainConfig(steps=8, decay_start=8)


def test_bad_config_is_refused():
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(steps=1, precision="fp8")
    with pytest.raises(ConfigError) as refused:  # every failed check, one line each, naming the values
        TrainConfig(steps=0, batch_size=0, lr_g=0.0, betas_d=(0.5, 1.0), ema_decay=1.0, milestones=(5,), gamma=0)
    assert str(refused.value).splitlines() == [
        "TrainConfig: steps must be at least 1, got 0",
        "TrainConfig: batch_size must be at least 1, got 0",
        "TrainConfig: learning rates must be positive, got lr_g=0.0, lr_d=0.0002",
        "TrainConfig: Adam betas must lie in [0, 1), got betas_g=(0.5, 0.999), betas_d=(0.5, 1.0)",
        "TrainConfig: ema_decay must lie in (0, 1) or be None, got 1.0",
        "TrainConfig: milestones [5] are read only by the step schedule, not by 'constant': drop them or use "
        "schedule='step'",
        "TrainConfig: gamma must be positive, got 0",
    ]
    with pytest.raises(ConfigError, match="batch_size is 32"):
        train(tiny_method(), tiny_data(), TrainConfig(steps=1, batch_size=32, progress=False), "unused")


@pytest.mark.real_data
def test_tiny_dcgan_on_mnist_beats_noise_on_the_classifier(real_data_dir, tmp_path):
    from repro.data import load_dataset
    from repro.metrics.classifier import load_classifier
    from repro.metrics.evaluate import real_outputs, sample_generator, score_images
    from repro.nets import NETWORKS

    mnist = load_dataset("mnist", "train", real_data_dir)
    torch.manual_seed(0)
    generator, discriminator = NETWORKS["dcgan28"](width=16)
    # 600 steps: at 300 the margin over noise depended on the CPU's bf16 kernels (AMX or not)
    config = TrainConfig(steps=600, batch_size=64, precision="bf16", channels_last=True, progress=False,
                         checkpoint_every=600)
    train(StandardGAN(generator, discriminator), DeviceBatches(mnist.images, mnist.labels, 64), config, tmp_path)

    classifier = load_classifier("mnist", "smoke", real_data_dir)
    test = real_outputs("mnist", "test", classifier, 2000, real_data_dir)
    fake = sample_generator(generator, 2000, latent_dim=generator.latent_dim, seed=1)
    noise = torch.randint(0, 256, (2000, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    fake_scores = score_images(fake, classifier, reference=test, metrics=("fid", "is"))
    noise_scores = score_images(noise, classifier, reference=test, metrics=("fid", "is"))
    assert fake_scores["fid"] < 0.5 * noise_scores["fid"], (fake_scores, noise_scores)
    assert fake_scores["is_mean"] > noise_scores["is_mean"] + 0.5


def test_generator_steps_leave_frozen_discriminator_parameters_frozen():
    method = tiny_method()
    frozen = method.discriminator.net[1].bias
    frozen.requires_grad_(False)
    optimizer = torch.optim.Adam(method.generator.parameters())
    method.generator_step(16, torch.zeros(16, dtype=torch.long), optimizer)
    assert not frozen.requires_grad
    assert all(p.requires_grad for name, p in method.discriminator.named_parameters() if name != "net.1.bias")
    assert all(p.grad is None for p in method.discriminator.parameters())  # D's weight gradients skipped
