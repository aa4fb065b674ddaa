"""``results/SUMMARY.md``: each paper's claims beside our committed numbers, with the protocol and a verdict.

A renderer only: the claims and their verdicts come from the paper modules of :data:`repro.experiments.PAPERS`
(the rule is :mod:`repro.experiments.claims`), the run times from the manifest (:mod:`repro.manifest`). Read from
the committed tables of ``results/<profile>/`` only (no training, no scoring), so it is regenerated in seconds by
notebook 90 or ``python -m repro.summary``. The README's results section is this file's text between two markers
(:func:`update_readme`); a test keeps them equal.
"""

from __future__ import annotations

import re
from pathlib import Path

from .experiments import PAPERS, RULES, VERDICTS, Claim
from .files import atomic_path
from .manifest import awaiting_rerun, run_time_lines
from .paths import REPO_ROOT, results_root

README_BEGIN = "<!-- results summary: generated from results/SUMMARY.md by notebooks/90_summary; do not edit -->"
README_END = "<!-- end of results summary -->"


def summary_claims(root: Path) -> dict[str, list[Claim]]:
    """Each paper's claims under the committed tables of ``root``, by the paper's title."""
    return {paper.TITLE: paper.claims(root) for paper in PAPERS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _awaiting_rerun_lines(root: Path) -> list[str]:
    waiting = awaiting_rerun(root)
    if not waiting:
        return []
    by_reason: dict[str, list[str]] = {}
    for name, reason in waiting.items():
        by_reason.setdefault(reason, []).append(f"`{name}`")
    return (["**Results from an earlier version of their notebook, awaiting a rerun** (their verdicts below still "
             "rest on them):", ""] + [f"- {', '.join(names)}: {reason}" for reason, names in by_reason.items()] + [""])


def summary_markdown(root: Path) -> str:
    """The whole summary as Markdown: a verdict count, the notebooks whose results await a rerun, one table per
    paper, then the notebooks' run times."""
    sections = summary_claims(root)
    counts = {v: sum(c.verdict == v for claims in sections.values() for c in claims) for v in VERDICTS}
    lines = [f"Generated from the committed `results/{root.name}/` tables (profile `{root.name}`). Verdicts: "
             + ", ".join(f"{n} {v}" for v, n in counts.items()) + ". " + RULES, ""]
    lines += _awaiting_rerun_lines(root)
    for title, claims in sections.items():
        lines += [f"### {title}", "", "| claim | paper | ours | protocol | verdict | reason |",
                  "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_cell(x) for x in (c.claim, c.paper, c.ours, c.protocol, c.verdict, c.reason))
                  + " |" for c in claims]
        lines.append("")
    lines += run_time_lines(root)
    return "\n".join(lines)


def summary_path(profile: str = "cpu") -> Path:
    """Where the summary of ``profile`` goes: ``results/SUMMARY.md`` for the committed cpu results, else
    ``results/<profile>/SUMMARY.md`` (under ``$REPRO_RESULTS_DIR`` when set)."""
    root = results_root()
    return root / "SUMMARY.md" if profile == "cpu" else root / profile / "SUMMARY.md"


def write_summary(profile: str = "cpu") -> Path:
    """Write the summary of ``results/<profile>/`` (atomically) and return its path."""
    path = summary_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text("# Results summary\n\n" + summary_markdown(results_root() / profile))
    return path


def readme_block(summary: Path) -> str:
    """The README's results section body: the summary without its top-level title."""
    text = summary.read_text()
    return text.split("\n", 2)[2].strip() if text.startswith("# ") else text.strip()


def update_readme(summary: Path | None = None, readme: Path | None = None) -> None:
    """Replace the text between the README's two markers with the summary (the markers must exist)."""
    summary = summary or summary_path("cpu")
    readme = readme or REPO_ROOT / "README.md"
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} lacks the results markers; add the lines\n{README_BEGIN}\n{README_END}")
    block = f"{README_BEGIN}\n\n{readme_block(summary)}\n\n{README_END}"
    readme.write_text(pattern.sub(lambda _: block, text))


def main() -> None:
    path = write_summary("cpu")
    update_readme(path)
    print(f"wrote {path} and the README's results section")


if __name__ == "__main__":
    main()
