"""AM-GAN §6 reproduced on real images: what the Inception Score tracks and what the AM Score adds.

Under a classifier C, IS = exp(H(C̄_G) − E H(C(x))) rewards confident predictions and a spread-out marginal;
AM = KL(C̄_train ‖ C̄_G) + E H(C(x)) (Zhou et al. Eq. 27) compares the marginal with the training data's, and
the same per-sample entropy. Real subsets with known defects show each score's blind spots: fewer classes,
an unbalanced class mix, and fewer distinct images per class (duplicates), which neither score can see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..metrics.evaluate import RealReference, score_outputs


def entropies(logits: np.ndarray) -> np.ndarray:
    """H(C(x)) in nats for each row of logits."""
    log_p = torch.log_softmax(torch.as_tensor(logits, dtype=torch.float64), dim=1)
    return -(log_p.exp() * log_p).sum(dim=1).numpy()


def per_class_entropy_rows(reference: RealReference, class_names: Sequence[str],
                           confident_below: float = 0.05) -> list[dict[str, Any]]:
    """Mean H(C(x)) of the real images of each (true) class, and the fraction below ``confident_below`` nats.

    The paper: under ImageNet's Inception, real CIFAR-10 classes differ widely (trucks 2.14, birds 3.80), while
    a CIFAR-10 classifier is confident on 99.6% of real images (H < 0.05)."""
    h = entropies(reference.logits)
    rows = []
    for k, name in enumerate(class_names):
        members = h[reference.labels == k]
        rows.append({"class": name, "images": int(len(members)), "mean_entropy": float(members.mean()),
                     f"fraction_entropy_below_{confident_below}": float((members < confident_below).mean())})
    rows.append({"class": "all", "images": int(len(h)), "mean_entropy": float(h.mean()),
                 f"fraction_entropy_below_{confident_below}": float((h < confident_below).mean())})
    return rows


def _scores(reference: RealReference, index: np.ndarray, train_marginal: np.ndarray) -> dict[str, float]:
    scores = score_outputs(reference.logits[index], reference.features[index], train_marginal=train_marginal,
                           metrics=("is", "am"))
    return {"is_mean": scores["is_mean"], "is_std": scores["is_std"], "am_score": scores["am_score"],
            "am_marginal_kl": scores["am_marginal_kl"], "am_entropy": scores["am_entropy"]}


def diversity_rows(reference: RealReference, train_marginal: np.ndarray, n: int, seed: int = 0,
                   class_counts: Sequence[int] = (1, 2, 5, 10), distinct_per_class: Sequence[int] = (1, 10, 100),
                   imbalance: Sequence[float] = (0.0, 0.5, 0.9)) -> list[dict[str, Any]]:
    """IS and AM Score of ``n`` real images drawn with a known lack of diversity:

    * ``classes``: only the first c classes, balanced;
    * ``distinct per class``: all classes, but only m distinct images per class, repeated to n;
    * ``imbalance``: a fraction f of the images from class 0, the rest balanced over all classes.
    """
    rng = np.random.default_rng(seed)
    labels = reference.labels
    num_classes = int(labels.max()) + 1
    by_class = [np.flatnonzero(labels == k) for k in range(num_classes)]

    def balanced(classes: Sequence[int], total: int, pool: list[np.ndarray]) -> np.ndarray:
        each = -(-total // len(classes))
        picks = [rng.choice(pool[k], each, replace=each > len(pool[k])) for k in classes]
        return rng.permutation(np.concatenate(picks))[:total]

    rows = []
    for c in class_counts:
        rows.append({"experiment": "classes", "setting": c,
                     **_scores(reference, balanced(range(c), n, by_class), train_marginal)})
    for m in distinct_per_class:
        pool = [rng.choice(members, min(m, len(members)), replace=False) for members in by_class]
        rows.append({"experiment": "distinct per class", "setting": m,
                     **_scores(reference, balanced(range(num_classes), n, pool), train_marginal)})
    for f in imbalance:
        heavy = rng.choice(by_class[0], int(f * n), replace=int(f * n) > len(by_class[0]))
        rest = balanced(range(num_classes), n - len(heavy), by_class)
        rows.append({"experiment": "imbalance", "setting": f,
                     **_scores(reference, np.concatenate([heavy, rest]), train_marginal)})
    return rows
