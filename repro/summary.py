"""``results/SUMMARY.md``: each paper's claims beside our committed numbers, with the protocol and a verdict; the
same rows in ``results/<profile>/claims.csv``; one figure per paper (``90_summary/claims_<paper>.png``).

A renderer only: the claims and their verdicts come from the paper modules of :data:`repro.experiments.PAPERS`
(the rule is :mod:`repro.experiments.claims`), the run times from the manifest (:mod:`repro.manifest`). Read from
the committed tables of ``results/<profile>/`` only (no training, no scoring), so it is regenerated in seconds by
notebook 90 or ``python -m repro.summary``. The README's results section is this file's text between two markers
(:func:`update_readme`); a test keeps them equal.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path

from .dry_run import GPU_NAME, MEASURED_ON_GPU, gpu_budget, measured_rows
from .experiments import PAPERS, RULES, VERDICTS, Claim
from .experiments.health import GATES
from .files import atomic_path
from .manifest import awaiting_rerun, run_time_lines
from .paths import REPO_ROOT, output_root, results_root
from .results import run_protocol, write_table

README_BEGIN = "<!-- results summary: generated from results/SUMMARY.md by notebooks/90_summary; do not edit -->"
README_END = "<!-- end of results summary -->"


CLAIMS_COLUMNS = ("paper", "claim", "metric", "ours_a", "ours_b", "difference", "ci_low", "ci_high", "p_adjusted",
                  "seeds_a", "seeds_b", "health", "verdict", "reason", "would_decide")  # claims.csv, in this order
EXTRA_COLUMNS = ("paper_says", "paper_value", "beside", "protocol", "counted", "kind", "notebook",
                 "awaiting_rerun")  # then these


def summary_claims(root: Path) -> dict[str, list[Claim]]:
    """Each paper's judged claims under the committed tables of ``root``, by the paper's title; a claim that is
    untestable at this scale says what would decide it: its notebook's ``paper`` profile, with the GPU-hours of the
    committed dry run's measured rates (:func:`repro.dry_run.gpu_budget`). A claim whose notebook's results await a
    rerun comes marked so by its paper's ``claims`` (:func:`repro.experiments.claims.judge`): the tally leaves it
    out."""
    sections = {paper.TITLE: paper.claims(root) for paper in PAPERS}
    measured = measured_rows()
    budgets: dict[str, str] = {}
    for claims in sections.values():
        for i, claim in enumerate(claims):
            if claim.verdict != "untestable at this scale" or not claim.notebook:
                continue
            if claim.notebook not in budgets:
                budget = gpu_budget(claim.notebook, measured)
                budgets[claim.notebook] = (budget.text() if budget else
                                           f"the paper profile, ./run_all.sh --profile paper {claim.notebook[:2]} "
                                           "(not timed on a GPU yet: python -m repro.dry_run --profile paper "
                                           f"{claim.notebook[:2]} there)")
            claims[i] = replace(claim, would_decide=budgets[claim.notebook])
    return sections


def claims_rows(sections: dict[str, list[Claim]]) -> list[dict[str, object]]:
    """One row per claim, columns :data:`CLAIMS_COLUMNS` first, then the paper's numbers, what is shown beside
    the primary metric, the protocol, whether the tally counts it, and its kind."""
    rows = []
    for title, claims in sections.items():
        for claim in claims:
            record = asdict(claim)
            rows.append({"paper": title, **{k: record[k] for k in CLAIMS_COLUMNS[1:]},
                         **{k: record[k] for k in EXTRA_COLUMNS}})
    return rows


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _interval(claim: Claim) -> str:
    if math.isnan(claim.difference):
        return "—"
    if math.isnan(claim.ci_low):
        return f"{claim.difference:+.3g} (no interval)"
    return f"{claim.difference:+.3g} [{claim.ci_low:.3g}, {claim.ci_high:.3g}]"


def _p(claim: Claim) -> str:
    return "—" if math.isnan(claim.p_adjusted) else f"{claim.p_adjusted:.2g}"


def _tally(claims: list[Claim]) -> str:
    counts = Counter(c.verdict for c in claims)
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) or "none"


def _fresh_tally(claims: list[Claim]) -> str:
    """The tally of the claims whose results are current, and apart, those whose notebook awaits a rerun."""
    fresh, waiting = [c for c in claims if not c.awaiting_rerun], [c for c in claims if c.awaiting_rerun]
    text = _tally(fresh)
    if waiting:
        text += (f"; {len(waiting)} more on results that await a rerun of their notebook, not tallied "
                 f"({_tally(waiting)})")
    return text


def _claims_table(claims: list[Claim]) -> list[str]:
    lines = ["| claim | paper | ours (A; B) | difference [95% CI] | p (Holm) | verdict | why | protocol |",
             "|---|---|---|---|---|---|---|---|"]
    for c in claims:
        ours = c.ours_a if not c.ours_b else f"{c.ours_a}; {c.ours_b}"
        why = c.reason + (f"; would decide it: {c.would_decide}" if c.verdict == "untestable at this scale"
                          and c.would_decide else "") + (f" — beside: {c.beside}" if c.beside else "")
        verdict = f"**{c.verdict}**" + " (awaiting a rerun)" * c.awaiting_rerun
        lines.append("| " + " | ".join(_cell(x) for x in (c.claim, c.paper_says, ours, _interval(c), _p(c), verdict,
                                                           why, c.protocol)) + " |")
    return lines


def _gate_lines() -> list[str]:
    gates = "; ".join(f"{name}: {g.describe()}" for name, g in GATES.items())
    return [f"**Training-health gates** (`repro/experiments/health.py`, per dataset, declared before judging): "
            f"{gates}.", ""]


def _awaiting_rerun_lines(root: Path) -> list[str]:
    waiting = awaiting_rerun(root)
    if not waiting:
        return []
    by_reason: dict[str, list[str]] = {}
    for name, reason in waiting.items():
        by_reason.setdefault(reason, []).append(f"`{name}`")
    return (["**Results from an earlier version of their notebook, awaiting a rerun** (the verdicts that rest on them "
             "are shown below, marked, and left out of the tally):", ""]
            + [f"- {', '.join(names)}: {reason}" for reason, names in by_reason.items()] + [""])


def gpu_budget_lines() -> list[str]:
    """The ``paper`` profile's GPU-hours per notebook (:func:`repro.dry_run.gpu_budget`: the committed dry run's
    measured rates applied to the current paper plans), and their total; [] where nothing was measured."""
    from .notebook_runner import list_notebooks

    measured = measured_rows()
    budgets = [b for b in (gpu_budget(path.stem, measured) for path in list_notebooks()) if b is not None]
    if not budgets:
        return []
    partly = [b for b in budgets if b.timed < b.configurations]
    lines = ["### The paper profile's GPU budget", "",
             f"Training time of each notebook's current `paper` plan on {GPU_NAME}, runs one at a time, at the "
             f"rates the committed dry run measured (`{MEASURED_ON_GPU.relative_to(REPO_ROOT).as_posix()}`, per "
             "configuration in `benchmarks/README.md`); evaluation and the supervised-only baselines come on top. "
             "Several runs side by side on one GPU (`--workers`) finish sooner: the runs are small and launch-bound. "
             + ("A configuration added or renamed since the dry run is priced at the rate of the same model and "
                "network, or not at all: such a notebook's hours are a lower bound." if partly else ""), "",
             "| notebook | configurations timed | GPU-hours |", "|---|---|---|"]
    for budget in budgets:
        timed = f"{budget.timed} of {budget.configurations}"
        if budget.by_stem:
            timed += f" ({budget.by_stem} at the rate of the same model and network)"
        bound = "at least " if budget.timed < budget.configurations else ""
        lines.append(f"| {budget.notebook} | {timed} | {bound}{budget.hours:.0f} |")
    total = sum(b.hours for b in budgets)
    lines += [f"| all | | {'at least ' if partly else ''}{total:.0f} |", ""]
    return lines


def figure_name(title: str) -> str:
    """The file stem of a paper's claims figure: ``claims_<first word of the title>``."""
    return "claims_" + re.sub(r"[^a-z0-9]+", "_", title.split("(")[0].strip().lower()).strip("_")


FIGURES_NOTEBOOK = "90_summary"  # the notebook that draws each paper's claims figure into its results folder


def figure_path(root: Path, title: str) -> Path:
    """Where notebook 90 puts a paper's claims figure under ``root`` (``results/<profile>``)."""
    return root / FIGURES_NOTEBOOK / f"{figure_name(title)}.png"


def write_figures(root: Path, out: Path | None = None) -> list[Path]:
    """Draw each paper's claims figure (:func:`repro.plots.claims_figure`) from the tables under ``root`` into
    ``out`` (default ``root``); returns the paths."""
    import matplotlib.pyplot as plt

    from .plots import claims_figure

    paths = []
    for title, claims in summary_claims(root).items():
        path = figure_path(out or root, title)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure = claims_figure(claims, title)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=110, format="png")
        plt.close(figure)
        paths.append(path)
    return paths


def summary_markdown(root: Path, link_base: Path | None = None) -> str:
    """The whole summary as Markdown: the tally of the papers' own claims, the rules and gates, the notebooks
    whose results await a rerun, one table (and figure, where drawn: links relative to ``link_base``) per
    paper, our extensions apart, then the run times and the paper profile's GPU budget."""
    sections = summary_claims(root)
    counted = [c for claims in sections.values() for c in claims if c.counted]
    extensions = {t: [c for c in claims if not c.counted] for t, claims in sections.items()}
    lines = [f"Generated from the committed `results/{root.name}/` tables (profile `{root.name}`); every row is "
             f"also in `results/{root.name}/claims.csv`.", "",
             f"**The papers' claims: {len(counted)} in all — {_fresh_tally(counted)}.** Our extensions "
             f"({sum(map(len, extensions.values()))}, not in the tally): "
             f"{_fresh_tally([c for cs in extensions.values() for c in cs])}.", "", RULES, ""]
    lines += _gate_lines()
    lines += _awaiting_rerun_lines(root)
    for title, claims in sections.items():
        lines += [f"### {title}", "", f"Claims: {_fresh_tally([c for c in claims if c.counted])}.", ""]
        figure = figure_path(root, title)
        if link_base is not None and figure.exists():
            lines += [f"![{title.split(' — ')[0]}: each claim's difference with its 95% interval]"
                      f"({os.path.relpath(figure, link_base)})", ""]
        lines += _claims_table([c for c in claims if c.counted]) + [""]
    if any(extensions.values()):
        lines += ["### Our extensions (not the papers' claims; not in the tally)", ""]
        for title, claims in extensions.items():
            if claims:
                lines += [f"**{title.split(' — ')[0]}**", ""] + _claims_table(claims) + [""]
    lines += run_time_lines(root)
    lines += [""] + gpu_budget_lines()
    return "\n".join(lines)


def summary_path(profile: str = "cpu") -> Path:
    """Where the summary of ``profile`` goes: ``results/SUMMARY.md`` for the committed cpu results, else
    ``results/<profile>/SUMMARY.md`` (under ``$REPRO_RESULTS_DIR`` when set; under ``results-interactive/`` in an
    interactive session, :func:`repro.paths.output_root`)."""
    root = output_root()
    return root / "SUMMARY.md" if profile == "cpu" else root / profile / "SUMMARY.md"


def write_claims_table(root: Path, out: Path | None = None) -> Path:
    """``<out>/claims.csv`` (and ``.md``; ``out`` defaults to ``root``): every claim judged from the tables under
    ``root``, machine-readable (:func:`claims_rows`), with the protocol of the summary run."""
    csv_path, _ = write_table(claims_rows(summary_claims(root)), out or root, "claims",
                              run_protocol(root.name, 0, source=f"results/{root.name}/ tables"),
                              title="Every claim with its verdict")
    return csv_path


def write_summary(profile: str = "cpu") -> Path:
    """Write the summary of ``results/<profile>/`` (atomically), linking the claims figures already drawn, and
    return its path."""
    path = summary_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text("# Results summary\n\n" + summary_markdown(results_root() / profile, path.parent))
    return path


def readme_block(summary: Path, readme: Path | None = None) -> str:
    """The README's results section body: the summary without its top-level title, its relative links (the
    figures) made relative to the README."""
    text = summary.read_text()
    text = text.split("\n", 2)[2].strip() if text.startswith("# ") else text.strip()
    prefix = os.path.relpath(summary.parent, (readme or REPO_ROOT / "README.md").parent)
    return re.sub(r"\]\((?!https?:|/|#)([^)]+)\)", lambda m: f"]({Path(prefix, m.group(1)).as_posix()})", text)


def update_readme(summary: Path | None = None, readme: Path | None = None) -> None:
    """Replace the text between the README's two markers with the summary (the markers must exist)."""
    summary = summary or summary_path("cpu")
    readme = readme or REPO_ROOT / "README.md"
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} lacks the results markers; add the lines\n{README_BEGIN}\n{README_END}")
    block = f"{README_BEGIN}\n\n{readme_block(summary, readme)}\n\n{README_END}"
    readme.write_text(pattern.sub(lambda _: block, text))


def main() -> None:
    root = results_root() / "cpu"
    write_figures(root)
    write_claims_table(root)
    path = write_summary("cpu")
    update_readme(path)
    print(f"wrote {path} and the README's results section")


if __name__ == "__main__":
    main()
