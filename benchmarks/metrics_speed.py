"""Time feature extraction and metric computation at 10k and 50k samples on this machine.

    .venv/bin/python benchmarks/metrics_speed.py --data-dir ../shared/datasets [--inception-weights FILE]

* classifier extraction (the project's CIFAR-10 classifier, fp32, batch 1000) over real CIFAR-10 images;
* IS, FID (eigenvalue form and scipy sqrtm), KID and AM Score from features, at 10k and 50k;
* Inception (torch-fidelity port) per-image throughput on a few hundred images, projected to 10k and 50k
  (only with a weights file, or random weights with --inception-random: same cost, meaningless values).
Prints a Markdown table; on a CUDA machine the extractors run on the GPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from repro.data import load_dataset
from repro.metrics import (
    am_score,
    class_marginal,
    fid_from_features,
    frechet_distance_sqrtm,
    gaussian_stats,
    inception_score,
    kernel_inception_distance,
)
from repro.metrics.classifier import classifier_outputs, load_classifier
from repro.metrics.inception import load_inception, random_inception_state_dict


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPRO_DATA_DIR"))
    parser.add_argument("--inception-weights", default=None)
    parser.add_argument("--inception-random", action="store_true", help="time Inception with random weights")
    parser.add_argument("--inception-images", type=int, default=200)
    parser.add_argument("--skip-sqrtm", action="store_true", help="scipy sqrtm on 2048-d takes minutes on CPU")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"device: {device}, torch threads: {torch.get_num_threads()}")

    classifier = load_classifier("cifar10", "cpu", args.data_dir)
    model = classifier.model.to(device)
    train = load_dataset("cifar10", "train", args.data_dir).images
    rows = []
    for n in (10_000, 50_000):
        images = train[:n]
        t_extract = seconds(lambda images=images: classifier_outputs(model, images))
        logits, features = classifier_outputs(model, images)
        logits, features = logits.double().numpy(), features.numpy()
        probabilities = torch.softmax(torch.from_numpy(logits), 1).numpy()
        rows.append((f"classifier extraction (d={features.shape[1]})", n, t_extract))
        rows.append(("IS (10 splits)", n, seconds(lambda lg=logits: inception_score(lg, from_logits=True))))
        fid_s = seconds(lambda f=features: fid_from_features(f, f[::-1]))
        rows.append((f"FID eigvals (d={features.shape[1]})", n, fid_s))
        rows.append(("KID (100 x 1000)", n, seconds(lambda f=features: kernel_inception_distance(f, f[::-1]))))
        rows.append(("AM Score", n, seconds(lambda p=probabilities: am_score(p, class_marginal(p)))))
    # the 2048-d cost of FID, independent of N once the statistics exist
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((10_000, 2048)).astype(np.float32)
    mu, sigma = gaussian_stats(wide)
    rows.append(("Gaussian stats (d=2048)", 10_000, seconds(lambda: gaussian_stats(wide))))
    halves_s = seconds(lambda: fid_from_features(wide[:5000], wide[5000:]))
    rows.append(("FID eigvals (d=2048, 5k vs 5k)", 10_000, halves_s))
    if not args.skip_sqrtm:
        rows.append(("FID scipy sqrtm from stats (d=2048)", 10_000,
                     seconds(lambda: frechet_distance_sqrtm(mu, sigma, mu + 0.1, sigma))))

    if args.inception_weights or args.inception_random:
        weights = args.inception_weights
        if weights is None:
            weights = os.path.join(tempfile.mkdtemp(), "random-inception.pth")
            torch.save(random_inception_state_dict(), weights)
        extractor = load_inception(weights, device=device, verify_hash=False)
        sample = torch.from_numpy(train[: args.inception_images])
        extractor(sample[:8])  # warm-up
        per_image = seconds(lambda: extractor(sample)) / len(sample)
        for n in (10_000, 50_000):
            rows.append((f"Inception extraction (projected from {len(sample)} images)", n, per_image * n))

    print("| step | N | seconds |")
    print("|---|---|---|")
    for step, n, secs in rows:
        print(f"| {step} | {n:,} | {secs:.2f} |")


if __name__ == "__main__":
    main()
