"""The experiments behind the notebooks: one protocol and one runner (:mod:`.protocol`, :mod:`.runner`), one way to
judge claims (:mod:`.claims`), and one module per paper holding its paper numbers, ``plans(profile)`` (every run of
every notebook it serves) and ``claims(results_root)``.

:data:`PAPERS` is the registry of paper modules, in the order the summary reports them: the one place that lists
them (``repro.summary`` renders their claims, ``benchmarks/paper_cost.py`` costs their plans). A paper module
provides ``TITLE``, ``plans(profile) -> list[Plan]`` and ``claims(root) -> list[Claim]``.
"""

from __future__ import annotations

import hashlib

from . import am_gan, improved_gan, mmgan, ms_gan
from .claims import RULES, VERDICTS, Claim
from .protocol import Plan

PAPERS = (improved_gan, am_gan, ms_gan, mmgan)


def notebook_plans(profile: str) -> dict[str, list[Plan]]:
    """Every paper's plans at ``profile``, by notebook."""
    plans: dict[str, list[Plan]] = {}
    for paper in PAPERS:
        for plan in paper.plans(profile):
            plans.setdefault(plan.notebook, []).append(plan)
    return dict(sorted(plans.items()))


def plan_sha256(notebook: str, profile: str) -> str | None:
    """One digest of the notebook's plans at ``profile`` (:meth:`Plan.digest`); None for a notebook without one."""
    plans = notebook_plans(profile).get(notebook)
    if not plans:
        return None
    return hashlib.sha256("".join(plan.digest() for plan in plans).encode()).hexdigest()


__all__ = ["PAPERS", "RULES", "VERDICTS", "Claim", "notebook_plans", "plan_sha256"]
