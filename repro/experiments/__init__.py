"""The experiments behind the notebooks: one protocol and one runner (:mod:`.protocol`, :mod:`.runner`), one way to
judge claims (:mod:`.claims`), and one module per paper holding its paper numbers, ``plans(profile)`` (every run of
every notebook it serves) and ``claims(results_root)``.

:data:`PAPERS` is the registry of paper modules, in the order the summary reports them: the one place that lists
them (``repro.summary`` renders their claims, ``benchmarks/paper_cost.py`` costs their plans). A paper module
provides ``TITLE``, ``plans(profile) -> list[Plan]`` and ``claims(root) -> list[Claim]``.
"""

from __future__ import annotations

from . import am_gan, improved_gan, mmgan, ms_gan
from .claims import RULES, VERDICTS, Claim

PAPERS = (improved_gan, am_gan, ms_gan, mmgan)

__all__ = ["PAPERS", "RULES", "VERDICTS", "Claim"]
