"""repro.summary: the committed SUMMARY.md is what the committed tables give, the README shows it verbatim, and the
renderer lays out every registered paper's claims, the rule behind them, the results awaiting a rerun and the run
times (each paper's own verdicts are tested beside its module, in tests/experiments/)."""

from __future__ import annotations

import json

import pytest

from repro import summary
from repro.experiments import PAPERS, RULES
from repro.paths import REPO_ROOT

from .conftest import write_csv

COMMITTED = REPO_ROOT / "results" / "SUMMARY.md"


def test_committed_summary_is_current_and_the_readme_shows_it():
    regenerated = "# Results summary\n\n" + summary.summary_markdown(REPO_ROOT / "results" / "cpu")
    assert COMMITTED.read_text() == regenerated, (
        "results/SUMMARY.md is stale: the committed tables changed since it was written; run ./run_all.sh 90")
    readme = (REPO_ROOT / "README.md").read_text()
    begin, end = readme.index(summary.README_BEGIN), readme.index(summary.README_END)
    assert readme[begin + len(summary.README_BEGIN) : end].strip() == summary.readme_block(COMMITTED), (
        "the README's results section differs from results/SUMMARY.md; run ./run_all.sh 90")


def test_every_registered_paper_gets_its_section_and_the_counts_add_up(tmp_path):
    rows = [{"discriminator": "K/4", "model": m, "modes": v, "modes_std_over_seeds": 1.0, "kl_to_uniform": 1.0,
             "kl_to_uniform_std_over_seeds": 0.1, "profile": "cpu", "seed": "[0, 1]", "iterations": 100,
             "n_samples": 64} for m, v in (("GAN", 10), ("SSGAN", 20), ("MS-GAN", 30))]
    write_csv(tmp_path / "30_ms_gan_stacked_mnist", "stacked_mnist", rows)
    sections = summary.summary_claims(tmp_path)
    assert list(sections) == [paper.TITLE for paper in PAPERS]
    text = summary.summary_markdown(tmp_path)
    assert text.count("\n### ") == len(PAPERS) and RULES in text
    total = sum(len(claims) for claims in sections.values())
    counted = [int(part.split()[0]) for part in text.split("Verdicts: ")[1].split(". ")[0].split(", ")]
    assert sum(counted) == total
    assert "3 reproduced in ordering only" in text  # the three modes orderings, each 10 modes apart, std 1


def test_results_awaiting_a_rerun_are_listed_with_their_reason(tmp_path):
    entry = {"duration_s": 60.0, "status": "ok", "start_utc": "2026-12-02T17:16:17+00:00", "git_commit": "a" * 40}
    (tmp_path / "manifest.json").write_text(json.dumps({"notebooks": {
        "30_x": {**entry, "awaiting_rerun": {"reason": "its plan moved into repro"}}, "40_y": entry,
        "50_z": {**entry, "awaiting_rerun": {"reason": "its plan moved into repro"}}}}))
    text = summary.summary_markdown(tmp_path)
    assert "awaiting a rerun" in text and "- `30_x`, `50_z`: its plan moved into repro" in text
    assert "`40_y`" not in text.split("### Run times")[0]


def test_update_readme_needs_its_markers(tmp_path):
    readme, source = tmp_path / "README.md", tmp_path / "SUMMARY.md"
    source.write_text("# Results summary\n\nbody\n")
    readme.write_text("intro\n")
    with pytest.raises(ValueError, match="markers"):
        summary.update_readme(source, readme)
    readme.write_text(f"intro\n{summary.README_BEGIN}\nold\n{summary.README_END}\nrest\n")
    summary.update_readme(source, readme)
    assert readme.read_text() == f"intro\n{summary.README_BEGIN}\n\nbody\n\n{summary.README_END}\nrest\n"
