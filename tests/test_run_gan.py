"""repro.run_gan: the command-line entry point, alone and under torchrun with two CPU processes."""

from __future__ import annotations

import json
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
    assert "iteration 3 (resumed from 3)" in capsys.readouterr().out
    assert json.loads((run_dir / "config.json").read_text())["method"]["loss"] == "ns"


def test_mismatched_net_and_data_is_refused(toy_cifar):
    with pytest.raises(SystemExit, match=r"dcgan28 makes \(1, 28, 28\) images but toy32 has \(3, 32, 32\)"):
        run_gan.main([*ARGS[:2], "--net", "dcgan28", "--steps", "1", "--data-dir", str(toy_cifar),
                      "--run-dir", str(toy_cifar / "x")])


def test_torchrun_two_processes(toy_cifar):
    run_dir = toy_cifar / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "repro.run_gan", *ARGS, "--data-dir", str(toy_cifar), "--run-dir", str(run_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["world_size"] == 2 and config["rank_seeds"] == [0, 1000]
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 3 and len(checkpoint["ranks"]) == 2
    weights = [v for v in checkpoint["method"].values() if isinstance(v, torch.Tensor) and v.is_floating_point()]
    assert weights and all(torch.isfinite(w).all() for w in weights)
