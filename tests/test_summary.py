"""repro.summary: the committed SUMMARY.md is what the committed tables give, the README shows it verbatim, and the
renderer lays out every registered paper's claims, the rule behind them, the results awaiting a rerun and the run
times (each paper's own verdicts are tested beside its module, in tests/experiments/)."""

from __future__ import annotations

import csv
import json

import pytest

from repro import summary
from repro.experiments import PAPERS, RULES
from repro.paths import REPO_ROOT

from .conftest import write_csv

COMMITTED = REPO_ROOT / "results" / "SUMMARY.md"


def test_committed_summary_is_current_and_the_readme_shows_it():
    regenerated = "# Results summary\n\n" + summary.summary_markdown(REPO_ROOT / "results" / "cpu", COMMITTED.parent)
    assert COMMITTED.read_text() == regenerated, (
        "results/SUMMARY.md is stale: the committed tables changed since it was written; run ./run_all.sh 90")
    readme = (REPO_ROOT / "README.md").read_text()
    begin, end = readme.index(summary.README_BEGIN), readme.index(summary.README_END)
    assert readme[begin + len(summary.README_BEGIN) : end].strip() == summary.readme_block(COMMITTED), (
        "the README's results section differs from results/SUMMARY.md; run ./run_all.sh 90")


def stacked_runs(folder):
    rows = [{"discriminator": "K/4", "model": m, "run_seed": seed, "modes": v + 2 * seed, "modes_confident": v,
             "kl_to_uniform": 1.0 + seed,
             "profile": "cpu", "iterations": 100, "n_samples": 64} for m, v in (("GAN", 20), ("SSGAN", 40),
                                                                               ("MS-GAN", 60)) for seed in range(3)]
    write_csv(folder / "30_ms_gan_stacked_mnist", "runs", rows)


def test_every_registered_paper_gets_its_section_and_the_tally_counts_the_papers_claims_only(tmp_path):
    stacked_runs(tmp_path)
    sections = summary.summary_claims(tmp_path)
    assert list(sections) == [paper.TITLE for paper in PAPERS]
    text = summary.summary_markdown(tmp_path)
    assert RULES in text and "Training-health gates" in text
    assert "stacked_mnist: modes read with confidence ≥ 10" in text
    papers = [line for line in text.splitlines()
              if line.startswith("### ") and "extensions" not in line and "GPU budget" not in line]
    assert len(papers) == len(PAPERS)
    counted = [c for claims in sections.values() for c in claims if c.counted]
    headline = text.split("**The papers' claims: ")[1].split(".**")[0]
    assert headline.startswith(f"{len(counted)} in all — ")
    assert sum(int(part.split()[0]) for part in headline.split(" — ")[1].split(", ")) == len(counted)
    assert "3 supported" in headline  # the three modes orderings, 20 modes apart, std 2, 3 seeds a side
    rows = summary.claims_rows(sections)
    assert list(rows[0])[: len(summary.CLAIMS_COLUMNS)] == list(summary.CLAIMS_COLUMNS)
    assert rows[0]["paper"] == PAPERS[0].TITLE and len(rows) == sum(map(len, sections.values()))


def test_extensions_are_listed_apart_and_figures_are_drawn_and_linked(tmp_path):
    root = tmp_path / "cpu"  # a profile's results folder
    stacked_runs(root)
    write_csv(root / "10_improved_gan_semisupervised_mnist", "table1_runs", [
        {"model": model, "labels": 100, "run_seed": seed, "errors_average": errors, "errors_raw": errors,
         "profile": "cpu", "epochs": 1.0} for model, errors in (("K+1 GAN", 100), ("supervised only", 2000))
        for seed in range(3)])
    text = summary.summary_markdown(root)
    extensions = text.split("### Our extensions")[1]
    assert "K+1 GAN beats the labels alone, MNIST 100 labels" in extensions
    assert "Our extensions (1, not in the tally)" in text
    paths = summary.write_figures(root)
    assert len(paths) == len(PAPERS) and all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    linked = summary.summary_markdown(root, tmp_path)
    assert "](cpu/90_summary/claims_ms_gan.png)" in linked
    table = summary.write_claims_table(root)
    assert table == root / "claims.csv" and "git_commit" in table.read_text().splitlines()[0]


def test_the_readme_links_figures_relative_to_itself(tmp_path):
    source = tmp_path / "results" / "SUMMARY.md"
    source.parent.mkdir()
    source.write_text("# Results summary\n\n![fig](cpu/90_summary/a.png) and [web](https://x.org/a)\n")
    assert summary.readme_block(source, tmp_path / "README.md") == (
        "![fig](results/cpu/90_summary/a.png) and [web](https://x.org/a)")


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


def test_committed_claims_table_decides_only_with_three_seeds_an_interval_off_zero_and_a_small_adjusted_p():
    with open(REPO_ROOT / "results" / "cpu" / "claims.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0])[: len(summary.CLAIMS_COLUMNS)] == list(summary.CLAIMS_COLUMNS)
    for row in rows:
        if row["verdict"] in ("supported", "contradicted"):
            assert min(int(row["seeds_a"]), int(row["seeds_b"])) >= 3, row
            assert float(row["p_adjusted"]) < 0.05, row
            low, high = float(row["ci_low"]), float(row["ci_high"])
            assert (low > 0) if row["verdict"] == "supported" else (high < 0), row
        if row["kind"] == "value" and row["verdict"] in ("reproduced", "not reproduced"):  # our seeds vs the paper's
            assert int(row["seeds_a"]) >= 3, row
        if row["health"].startswith("fail"):
            assert row["verdict"] == "untestable at this scale", row
        if row["verdict"] in ("inconclusive", "untestable at this scale", "not run"):
            assert row["would_decide"], f"an open claim must say what would decide it: {row['claim']}"
        if row["verdict"] == "untestable at this scale":
            assert f"--profile paper {row['notebook'][:2]}" in row["would_decide"], row


def test_an_untestable_claim_says_which_gpu_budget_would_decide_it(tmp_path):
    rows = [{"discriminator": "K/4", "model": m, "run_seed": seed, "modes": 3, "modes_confident": 1 + seed,
             "kl_to_uniform": 5.0, "profile": "cpu", "iterations": 100, "n_samples": 64}
            for m in ("GAN", "SSGAN", "MS-GAN") for seed in range(3)]
    write_csv(tmp_path / "30_ms_gan_stacked_mnist", "runs", rows)  # every run below the gate's 10 modes
    stacked = [c for claims in summary.summary_claims(tmp_path).values() for c in claims
               if c.notebook == "30_ms_gan_stacked_mnist"]
    assert stacked and all(c.verdict == "untestable at this scale" for c in stacked)
    assert all(c.would_decide.startswith("the paper profile, ./run_all.sh --profile paper 30: about ")
               and "GPU-hours on one H200" in c.would_decide for c in stacked)
    assert "would decide it: the paper profile" in summary.summary_markdown(tmp_path)


def test_the_paper_profiles_gpu_budget_is_generated_per_notebook_with_its_total(monkeypatch):
    from repro.dry_run import GpuBudget

    budgets = {"10_improved_gan_semisupervised_mnist": GpuBudget("10_improved_gan_semisupervised_mnist", 13.7, 2, 2),
               "31_ms_gan_cifar": GpuBudget("31_ms_gan_cifar", 28.2, 12, 18, by_stem=12)}
    monkeypatch.setattr(summary, "gpu_budget", lambda notebook, rows: budgets.get(notebook))
    lines = summary.gpu_budget_lines()
    assert "| 10_improved_gan_semisupervised_mnist | 2 of 2 | 14 |" in lines
    assert "| 31_ms_gan_cifar | 12 of 18 (12 at the rate of the same model and network) | at least 28 |" in lines
    assert lines[-2] == "| all | | at least 42 |"  # a partly timed notebook makes the total a lower bound
    monkeypatch.setattr(summary, "gpu_budget", lambda notebook, rows: None)
    assert summary.gpu_budget_lines() == []  # nothing measured: no section


def test_claims_on_results_awaiting_a_rerun_are_shown_but_not_tallied(tmp_path):
    stacked_runs(tmp_path)  # healthy Stacked-MNIST runs: MS-GAN > SSGAN > GAN, decided
    entry = {"duration_s": 60.0, "status": "ok", "start_utc": "2026-12-02T17:16:17+00:00", "git_commit": "a" * 40}
    manifest = {"notebooks": {"30_ms_gan_stacked_mnist": entry}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    fresh = summary.summary_markdown(tmp_path)
    assert "3 supported" in fresh.split("\n\n")[1] and "await a rerun" not in fresh.split("\n\n")[1]
    manifest["notebooks"]["30_ms_gan_stacked_mnist"]["awaiting_rerun"] = {"reason": "its G changed"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    stacked = [c for cs in summary.summary_claims(tmp_path).values() for c in cs
               if c.notebook == "30_ms_gan_stacked_mnist"]
    assert stacked and all(c.awaiting_rerun for c in stacked)
    stale = summary.summary_markdown(tmp_path)
    headline = stale.split("\n\n")[1]
    assert "3 supported" not in headline.split(";")[0]
    assert "3 more on results that await a rerun of their notebook, not tallied (3 supported)" in headline
    assert "**supported** (awaiting a rerun)" in stale
    rows = summary.claims_rows(summary.summary_claims(tmp_path))
    assert {r["awaiting_rerun"] for r in rows if r["notebook"] == "30_ms_gan_stacked_mnist"} == {True}
