"""repro.run_gan: the command-line entry point, alone and under torchrun with two CPU processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch

from repro import run_gan

from .conftest import random_tree


@pytest.fixture
def toy_cifar(make_image_zip, tmp_path, isolated_cache):
    make_image_zip(random_tree(0, {"train": 12}, shape=(32, 32, 3)), "toy32.zip")
    return tmp_path


ARGS = ["--dataset", "toy32", "--net", "dcgan32", "--net-arg", "width=8", "--steps", "3", "--batch-size", "8",
        "--no-progress"]


def test_trains_then_resumes(toy_cifar, capsys):
    run_dir = toy_cifar / "run"
    run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    assert "iteration 3 (fresh)" in capsys.readouterr().out
    run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    assert "already finished at iteration 3; only re-evaluated, nothing trained" in capsys.readouterr().out
    method = json.loads((run_dir / "config.json").read_text())["method"]
    assert method["loss"] == "ns"
    assert method["network"] == {"name": "dcgan32", "args": {"width": 8}}  # what repro.score rebuilds G from


def test_mismatched_net_and_data_is_refused(toy_cifar):
    with pytest.raises(SystemExit, match=r"dcgan28 makes \(1, 28, 28\) images but toy32 has \(3, 32, 32\)"):
        run_gan.main([*ARGS[:2], "--net", "dcgan28", "--steps", "1", "--data-dir", str(toy_cifar),
                      "--run-dir", str(toy_cifar / "x")])


@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if run_gan reads any data: bad arguments must be refused before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("load_dataset was called although an argument was bad")

    monkeypatch.setattr(run_gan, "load_dataset", refuse)


BAD_ARGUMENTS = [
    (["--device", "cuda:99"], r"--device: device 'cuda:99'"),
    (["--device", "not-a-device"], r"--device: device 'not-a-device' is not a device name torch knows"),
    (["--net-arg", "bogus=1"], r"--net-arg: dcgan32 takes no argument 'bogus'; its arguments are image_shape, "
                               r"latent_dim, width, output_range"),
    (["--net-arg", "width"], r"--net-arg expects key=value, got 'width'"),
    (["--net-arg", "width=-3"], r"--net-arg: dcgan32: width=-3: network sizes must be positive integers"),
    (["--net-arg", "init=foo"], r"--net-arg: dcgan32: init must be 'dcgan' or 'xavier', got 'foo'"),
    (["--net-arg", "image_shape=[3, 30, 30]"], r"--net-arg: dcgan32: DCGAN nets take square images of size "),
    (["--beta1", "7"], r"TrainConfig: Adam betas must lie in \[0, 1\), got betas_g=\(7.0, 0.999\)"),
    (["--lr-g", "0"], r"TrainConfig: learning rates must be positive, got lr_g=0.0"),
    (["--lr-d=-1e-4"], r"TrainConfig: learning rates must be positive, got lr_g=0.0002, lr_d=-0.0001"),
    (["--milestones", "2"], r"TrainConfig: milestones \[2\] are read only by the step schedule, not by 'constant'"),
    (["--schedule", "step"], r"TrainConfig: the step schedule needs milestones"),
    (["--ema-decay", "1"], r"TrainConfig: ema_decay must lie in \(0, 1\) or be None, got 1.0"),
    (["--steps", "0"], r"TrainConfig: steps must be at least 1, got 0"),
    (["--batch-size", "0"], r"TrainConfig: batch_size must be at least 1, got 0"),
    (["--dataset", "nosuch"], r"--dataset: unknown dataset 'nosuch': known datasets are mnist, cifar10"),
    (["--dataset", "mnist"], r"--dataset: no 'mnist' mirror in the data folder .* never falls back to a download"),
]


def test_a_known_dataset_of_another_shape_is_refused_before_its_data(toy_cifar, no_data, capsys):
    (toy_cifar / "mnist.zip").touch()  # the mirror is there (never read): only the shapes disagree
    with pytest.raises(SystemExit):
        run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(toy_cifar / "x"), "--dataset", "mnist"])
    assert capsys.readouterr().err.strip() == (
        "python -m repro.run_gan: error: dcgan32 makes (3, 32, 32) images but mnist has (1, 28, 28)")


@pytest.mark.parametrize(("extra", "message"), BAD_ARGUMENTS, ids=[" ".join(extra) for extra, _ in BAD_ARGUMENTS])
def test_bad_argument_is_one_line_before_any_data(toy_cifar, no_data, capsys, extra, message):
    run_dir = toy_cifar / "refused"
    with pytest.raises(SystemExit) as refused:
        run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir), *extra])
    assert refused.value.code == 2  # as argparse
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m repro.run_gan: error: "), lines
    assert re.search(message, lines[0]), lines[0]
    assert not run_dir.exists()


def test_every_bad_argument_is_reported_at_once(toy_cifar, no_data, capsys):
    with pytest.raises(SystemExit):
        run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(toy_cifar / "x"), "--beta1", "7",
                      "--ema-decay", "0", "--net-arg", "depth=3", "--device", "cuda:99"])
    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    assert [line.split("error: ")[1].split(":")[0] for line in errors.splitlines()] == [
        "TrainConfig", "TrainConfig", "--device", "--net-arg"]


def test_the_command_exits_2_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "repro.run_gan", "--dataset", "mnist", "--net", "dcgan28", "--steps",
                           "1", "--beta1", "7", "--run-dir", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and not (tmp_path / "run").exists()
    assert done.stderr.strip() == ("python -m repro.run_gan: error: TrainConfig: Adam betas must lie in [0, 1), got "
                                   "betas_g=(7.0, 0.999), betas_d=(7.0, 0.999)")


def test_data_errors_and_refused_resumes_are_one_line_too(toy_cifar, capsys):
    run_dir = toy_cifar / "run"
    with pytest.raises(SystemExit) as refused:  # the toy data has 36 images
        run_gan.main([*ARGS[:-3], "--batch-size", "64", "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    assert refused.value.code == 2 and not run_dir.exists()
    assert "error: batch_size=64 must be between 1 and the 36 images" in capsys.readouterr().err
    run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    with pytest.raises(SystemExit):  # a longer run without --extend
        run_gan.main([*ARGS, "--steps", "5", "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    errors = capsys.readouterr().err
    assert "Traceback" not in errors and "holds a run with other hyper-parameters" in errors
    assert "train.steps: checkpoint 3 -> now 5" in errors


def test_every_way_out_of_training_leaves_the_process_group(toy_cifar, monkeypatch):
    """run_gan tears down what train() joined under torchrun: after a barrier when training ended, at once when
    it was refused (a peer may never reach a barrier)."""
    calls = []
    monkeypatch.setattr(run_gan, "shutdown_distributed", lambda wait_for_others=True: calls.append(wait_for_others))
    run_dir = toy_cifar / "run"
    run_gan.main([*ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    assert calls == [True]
    with pytest.raises(SystemExit):  # a longer run without --extend: refused inside train()
        run_gan.main([*ARGS, "--steps", "5", "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)])
    assert calls == [True, False]


def test_torchrun_two_processes(toy_cifar):
    run_dir = toy_cifar / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "repro.run_gan", *ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "destroy_process_group() was not called" not in done.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["world_size"] == 2 and config["rank_seeds"] == [0, 1000]
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 3 and len(checkpoint["ranks"]) == 2
    weights = [v for v in checkpoint["method"].values() if isinstance(v, torch.Tensor) and v.is_floating_point()]
    assert weights and all(torch.isfinite(w).all() for w in weights)
