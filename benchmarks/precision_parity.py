"""Does bf16 autocast train as well as fp32? Short DCGAN runs in both precisions, several seeds.

    .venv/bin/python benchmarks/precision_parity.py --data-dir ../shared/datasets
    .venv/bin/python benchmarks/precision_parity.py --dataset cifar10 --steps 500 --seeds 0 1

Each run trains DCGAN-28 on MNIST, or DCGAN-32 on CIFAR-10 (whose 2x2-map layers take the per-position matmuls
of ``repro/nets/small_maps.py`` in bf16), with the non-saturating loss for ``--steps`` iterations, then scores
5,000 samples with the project's classifier for that dataset (cpu recipe): FID against the 10,000 test images,
IS, and the mean top-class probability (the classifiers are trained with label smoothing 0.1). Parity holds
when the precision means differ by less than the spread over seeds. Prints a Markdown table per run and the
mean ± std (ddof 1) per precision.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from repro.data import DeviceBatches, load_dataset
from repro.methods import StandardGAN
from repro.metrics.classifier import load_classifier
from repro.metrics.evaluate import real_outputs, sample_generator, score_images
from repro.nets import NETWORKS
from repro.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--dataset", choices=("mnist", "cifar10"), default="mnist")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()

    train_set = load_dataset(args.dataset, "train", args.data_dir)
    classifier = load_classifier(args.dataset, "cpu", args.data_dir)
    test = real_outputs(args.dataset, "test", classifier, None, args.data_dir)
    network = {"mnist": "dcgan28", "cifar10": "dcgan32"}[args.dataset]
    results: dict[str, list[dict[str, float]]] = {"fp32": [], "bf16": []}
    print("| precision | seed | it/s | FID (classifier) | IS | mean top-class probability |")
    print("|---|---|---|---|---|---|")
    for seed in args.seeds:
        for precision in results:
            torch.manual_seed(seed)
            generator, discriminator = NETWORKS[network](width=args.width)
            config = TrainConfig(steps=args.steps, batch_size=64, precision=precision,
                                 channels_last=precision == "bf16", seed=seed, progress=False,
                                 checkpoint_every=args.steps)
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as run_dir:
                batches = DeviceBatches(train_set.images, train_set.labels, 64)
                train(StandardGAN(generator, discriminator), batches, config, run_dir)
            rate = args.steps / (time.perf_counter() - start)
            fake = sample_generator(generator, args.samples, latent_dim=generator.latent_dim, seed=1000 + seed)
            scores = score_images(fake, classifier, reference=test, metrics=("fid", "is"))
            logits, _ = classifier(fake)
            confident = float(torch.softmax(logits, 1).max(1).values.mean())
            row = {"rate": rate, "fid": scores["fid"], "is": scores["is_mean"], "confident": confident}
            results[precision].append(row)
            print(f"| {precision} | {seed} | {rate:.1f} | {row['fid']:.4f} | {row['is']:.3f} | {confident:.3f} |",
                  flush=True)
    print("\n| precision | runs | FID mean ± std | IS mean ± std | top-class probability mean ± std | it/s |")
    print("|---|---|---|---|---|---|")
    for precision, rows in results.items():
        def stat(key, rows=rows):
            values = np.array([r[key] for r in rows])
            return f"{values.mean():.4f} ± {values.std(ddof=1) if len(values) > 1 else 0:.4f}"

        rate = np.mean([r["rate"] for r in rows])
        print(f"| {precision} | {len(rows)} | {stat('fid')} | {stat('is')} | {stat('confident')} | {rate:.1f} |")


if __name__ == "__main__":
    main()
