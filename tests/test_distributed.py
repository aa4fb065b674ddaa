"""repro.distributed, and repro.train under data parallelism: two CPU processes with gloo, as torchrun would start
them."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from repro.distributed import (
    any_rank,
    average_gradients,
    check_device,
    gather_objects,
    init_distributed,
    pick_device,
    shutdown_distributed,
    stop_requests,
)
from repro.errors import ConfigError
from repro.train import TrainConfig, train

from .test_train import tiny_data, tiny_method

CONFIG = TrainConfig(steps=6, batch_size=16, checkpoint_every=3, log_every=3, ema_decay=0.9, progress=False)


def _worker(rank: int, world_size: int, tmp: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=world_size)
    try:
        method = tiny_method(seed=rank)  # different initial weights per rank: rank 0's must win
        result = train(method, tiny_data(), CONFIG, f"{tmp}/run")
        torch.save({"state": method.state_dict(), "step": result.step}, f"{tmp}/rank{rank}.pt")
        # both ranks tear gloo down together (shutdown_distributed's barrier): a rank that left while its peer
        # still saved aborted once in CI ("terminate called without an active exception")
        shutdown_distributed()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_two_ranks_stay_in_sync_and_only_rank_0_writes(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    states = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert states[0]["step"] == states[1]["step"] == 6
    for key, value in states[0]["state"].items():
        if isinstance(value, torch.Tensor):  # parameters, and BN buffers broadcast from rank 0
            assert torch.equal(value, states[1]["state"][key]), f"ranks diverged in {key}"

    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2 and config["rank_seeds"] == [0, 1000]
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    orders = [rank["data"]["order"] for rank in checkpoint["ranks"]]
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])  # each rank draws its own batches
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "config.json", "log.csv", "samples"]


def _collectives_worker(rank: int, world_size: int, tmp: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=world_size)
    try:
        weight = torch.nn.Parameter(torch.zeros(2, 2))
        bias = torch.nn.Parameter(torch.zeros(3))
        weight.grad, bias.grad = torch.full((2, 2), float(rank)), torch.full((3,), 2.0 * rank)
        average_gradients([weight, bias])
        seen = {
            "grads": (weight.grad.tolist(), bias.grad.tolist()),
            "gathered": gather_objects({"rank": rank}, world_size),
            "one_stops": any_rank(rank == 1, torch.device("cpu"), world_size),
            "none_stops": any_rank(False, torch.device("cpu"), world_size),
        }
        torch.save(seen, f"{tmp}/collectives{rank}.pt")
        dist.barrier()  # as in _worker: tear gloo down together
    finally:
        dist.destroy_process_group()


def test_gradients_are_averaged_and_one_rank_stopping_stops_all(tmp_path):
    mp.spawn(_collectives_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        seen = torch.load(tmp_path / f"collectives{rank}.pt", weights_only=False)
        assert seen["grads"] == ([[0.5, 0.5], [0.5, 0.5]], [1.0, 1.0, 1.0])
        assert seen["gathered"] == [{"rank": 0}, {"rank": 1}]
        assert seen["one_stops"] is True and seen["none_stops"] is False


def test_one_process_needs_no_process_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    device = pick_device("cpu")
    assert device == torch.device("cpu") and init_distributed(device) == (0, 1)
    assert gather_objects("state", 1) == ["state"]
    assert any_rank(True, device, 1) and not any_rank(False, device, 1)


@pytest.mark.parametrize(("preference", "message"), [
    ("gpu", r"device 'gpu' is not a device name torch knows; use auto"),
    ("cuda:99", r"device 'cuda:99': this machine has (no cuda device|\d+ cuda device\(s\), numbered from 0)"),
    ("meta", r"device 'meta': this machine has no meta device"),
])
def test_a_device_this_machine_lacks_is_a_config_error(preference, message):
    with pytest.raises(ConfigError, match=message):
        pick_device(preference)
    assert check_device("cpu") == torch.device("cpu")


def test_a_signal_becomes_a_flag_and_a_second_one_stops_at_once():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), stop_requests() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
        os.kill(os.getpid(), signal.SIGTERM)
        stop.wait(5)  # the handler raises here, in the main thread
    assert signal.getsignal(signal.SIGTERM) is before
