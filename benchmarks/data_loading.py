"""Time dataset loading: first decode of each offline mirror vs reading the cached arrays, and batch drawing.

    .venv/bin/python benchmarks/data_loading.py --data-dir ../shared/datasets

Decoding uses a throw-away cache folder, so the user's cache is neither used nor changed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from repro import data


def timed_load(name: str, split: str, data_dir: str | None) -> tuple[data.ImageDataset, float]:
    start = time.perf_counter()
    dataset = data.load_dataset(name, split, data_dir)
    return dataset, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--datasets", nargs="+", default=["mnist", "cifar10"])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"| dataset | split | images | first decode (s) | cached load (s) | batches/s (B={args.batch_size}) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["REPRO_CACHE_DIR"] = cache
        for name in args.datasets:
            for split in ("train", "test"):
                _, decode_s = timed_load(name, split, args.data_dir)
                ds, cached_s = timed_load(name, split, args.data_dir)
                batches = data.DeviceBatches(ds.images, ds.labels, args.batch_size)
                for _ in range(2 * batches.batches_per_epoch):  # warm up: first touches of the pages
                    batches.next()
                start = time.perf_counter()
                for _ in range(1000):
                    batches.next()
                draw_s = time.perf_counter() - start
                print(f"| {name} | {split} | {len(ds):,} | {decode_s:.1f} | {cached_s:.2f} | {1000 / draw_s:,.0f} |")


if __name__ == "__main__":
    main()
