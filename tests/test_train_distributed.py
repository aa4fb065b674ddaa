"""repro.train under data parallelism: two CPU processes with gloo, as torchrun would start them."""

from __future__ import annotations

import json

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from repro.train import TrainConfig, train

from .test_train import tiny_data, tiny_method

CONFIG = TrainConfig(steps=6, batch_size=16, checkpoint_every=3, log_every=3, ema_decay=0.9, progress=False)


def _worker(rank: int, world_size: int, tmp: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=world_size)
    try:
        method = tiny_method(seed=rank)  # different initial weights per rank: rank 0's must win
        result = train(method, tiny_data(), CONFIG, f"{tmp}/run")
        torch.save({"state": method.state_dict(), "step": result.step}, f"{tmp}/rank{rank}.pt")
    finally:
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
