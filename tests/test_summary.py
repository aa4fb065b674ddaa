"""repro.summary: the committed SUMMARY.md is what the committed tables give, the README shows it verbatim, and
the verdict rules do what the module says on small synthetic result trees."""

from __future__ import annotations

import csv
import json
import math

import pytest

from repro import summary
from repro.paths import REPO_ROOT

COMMITTED = REPO_ROOT / "results" / "SUMMARY.md"


def test_committed_summary_is_current_and_the_readme_shows_it():
    regenerated = "# Results summary\n\n" + summary.summary_markdown(REPO_ROOT / "results" / "cpu")
    assert COMMITTED.read_text() == regenerated, (
        "results/SUMMARY.md is stale: the committed tables changed since it was written; run ./run_all.sh 90")
    readme = (REPO_ROOT / "README.md").read_text()
    begin, end = readme.index(summary.README_BEGIN), readme.index(summary.README_END)
    assert readme[begin + len(summary.README_BEGIN) : end].strip() == summary.readme_block(COMMITTED), (
        "the README's results section differs from results/SUMMARY.md; run ./run_all.sh 90")


def write(root, notebook, table, rows):
    folder = root / notebook
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{table}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_value_rule():
    assert summary.value_verdict(1.0, 0.05, 0.93)  # within 25% of the paper's value
    assert summary.value_verdict(3.0, 1.2, 0.93)  # within 2 std
    assert not summary.value_verdict(3.96, 0.46, 0.93)
    assert not summary.value_verdict(3.96, math.nan, 0.93)


def test_verdicts_on_a_synthetic_results_tree(tmp_path):
    protocol = {"profile": "cpu", "seed": "[0, 1]", "iterations": "100", "n_samples": "64"}
    write(tmp_path, "30_ms_gan_stacked_mnist", "claims", [
        {"discriminator": "K/4", "metric": "modes", "claimed_better": "MS-GAN", "claimed_worse": "SSGAN",
         "our_gap": "12", "agrees": "True", "beyond_seed_spread": "True", **protocol},
        {"discriminator": "K/4", "metric": "modes", "claimed_better": "SSGAN", "claimed_worse": "GAN",
         "our_gap": "3", "agrees": "True", "beyond_seed_spread": "False", **protocol},
        {"discriminator": "K/2", "metric": "kl_to_uniform", "claimed_better": "MS-GAN", "claimed_worse": "GAN",
         "our_gap": "-0.5", "agrees": "False", "beyond_seed_spread": "False", **protocol},
    ])
    claims = summary.ms_gan_claims(tmp_path)
    assert [c.verdict for c in claims] == ["reproduced in ordering only", "not reproduced", "not reproduced",
                                           "not run here"]
    assert "within the seed spread" in claims[1].reason and "opposite" in claims[2].reason
    assert claims[0].claim.endswith("K/4") and "./run_all.sh 31" in claims[3].reason
    write(tmp_path, "31_ms_gan_cifar", "claims", [
        {"backbone": "sngan", "metric": "fid", "claimed_better": "MS-GAN", "claimed_worse": "SSGAN",
         "our_gap": "4.2", "agrees": "True", "beyond_seed_spread": "True", "width": "16", **protocol},
    ])
    cifar = summary.ms_gan_claims(tmp_path)[-1]
    assert cifar.claim == "MS-GAN better than SSGAN (FID (lower)), sngan" and "width 16" in cifar.protocol
    assert cifar.verdict == "reproduced in ordering only" and "+4.2" in cifar.ours
    # nothing committed for a paper: every claim says what to run
    assert {c.verdict for c in summary.mmgan_claims(tmp_path)} == {"not run here"}
    text = summary.summary_markdown(tmp_path)
    assert "2 reproduced in ordering only" in text and text.count("### ") == len(summary.PAPERS)


def test_mmgan_claims_judge_the_gap_against_both_spreads_and_give_each_dataset_its_own_protocol(tmp_path):
    protocol = {"profile": "cpu", "seed": "{'mnist': [0, 1], 'cifar10': [0]}", "n_samples": "{'mnist': 500}",
                "iterations": "{'mnist': 300, 'cifar10': 200}"}
    write(tmp_path, "40_mmgan", "comparison", [
        {"dataset": "mnist", "model": "MMGAN", "fid": "10.0", "fid_std_over_seeds": "0.3", **protocol},
        {"dataset": "mnist", "model": "DCGAN", "fid": "11.0", "fid_std_over_seeds": "0.4", **protocol},
        {"dataset": "mnist", "model": "FM", "fid": "10.4", "fid_std_over_seeds": "0.3", **protocol},
    ])
    beyond, within = summary.mmgan_claims(tmp_path)
    assert beyond.verdict == "reproduced in ordering only" and "+1" in beyond.ours  # FID 1.0 lower, spread 0.5
    assert within.verdict == "not reproduced" and "within the seed spread" in within.reason  # 0.4 < 0.42
    assert beyond.protocol == "cpu, mnist, 300 iterations, seeds [0, 1], 500 samples, project classifier"


def test_table1_rows_get_value_or_ordering_verdicts(tmp_path):
    def row(model, error, std, paper="0.93"):
        return {"model": model, "labels": "100", "seeds": "3", "error_percent": error, "error_percent_std": std,
                "paper_error_percent": paper, "paper_errors": "93 ± 6.5", "profile": "cpu", "epochs": "15.0"}

    write(tmp_path, "10_improved_gan_semisupervised_mnist", "table1",
          [row("K+1 GAN + FM, averaged D", "1.05", "0.1"), row("supervised only (same D)", "22", "1", "")])
    claim = summary.improved_gan_claims(tmp_path)[0]
    assert claim.verdict == "reproduced" and "1.05 ± 0.10%" in claim.ours
    write(tmp_path, "10_improved_gan_semisupervised_mnist", "table1",
          [row("K+1 GAN + FM, averaged D", "30", "1"), row("supervised only (same D)", "22", "1", "")])
    assert summary.improved_gan_claims(tmp_path)[0].verdict == "not reproduced"


def test_update_readme_needs_its_markers(tmp_path):
    readme, source = tmp_path / "README.md", tmp_path / "SUMMARY.md"
    source.write_text("# Results summary\n\nbody\n")
    readme.write_text("intro\n")
    with pytest.raises(ValueError, match="markers"):
        summary.update_readme(source, readme)
    readme.write_text(f"intro\n{summary.README_BEGIN}\nold\n{summary.README_END}\nrest\n")
    summary.update_readme(source, readme)
    assert readme.read_text() == f"intro\n{summary.README_BEGIN}\n\nbody\n\n{summary.README_END}\nrest\n"


def test_run_times_come_from_the_manifest_without_notebook_90(tmp_path):
    def entry(seconds):
        return {"duration_s": seconds, "status": "ok", "start_utc": "2026-12-02T17:16:17+00:00",
                "git_commit": "5c7fe5ef6d1af88a7bd0bcf95c90f3090b598e78"}

    (tmp_path / "manifest.json").write_text(json.dumps({"notebooks": {
        "10_x": {**entry(2400.0), "runs_found": 0, "runs_total": 6},  # a first run, before first_run was kept
        "20_r": {**entry(60.0), "runs_found": 4, "runs_total": 4, "first_run": entry(1500.0)},  # a replay
        "30_y": {**entry(600.0), "git_commit": "5c7fe5ef6d1af88a7bd0bcf95c90f3090b598e78+dirty"},
        "90_summary": entry(5.0)}}))
    replayed = json.loads((tmp_path / "manifest.json").read_text())
    rows = summary.run_times(tmp_path)
    assert [(r["notebook"], r["minutes"], r["runs_found_of_total"], r["first_run_minutes"]) for r in rows] == [
        ("10_x", "40.0", "0 of 6", "40.0"), ("20_r", "1.0", "4 of 4", "25.0"),
        ("30_y", "10.0", "not recorded", "not recorded")]
    text = summary.summary_markdown(tmp_path)
    assert ("75 min in all, counting first runs where known (for 30 only the committed run's time is known); "
            "over the 30-minute target per notebook: 10.") in text and "90_summary" not in text
    assert "| 10_x | 40.0 | 0 of 6 | 40.0 | ok |" in text
    assert "| 30_y | 10.0 | not recorded | not recorded | ok |" in text
    assert "| 5c7fe5ef |" in text and "| 5c7fe5ef+dirty |" in text
    assert "lower bound" not in text
    replayed["notebooks"]["40_z"] = {**entry(30.0), "runs_found": 2, "runs_total": 2}  # a replay, first run unknown
    (tmp_path / "manifest.json").write_text(json.dumps(replayed))
    assert ("(for 30, 40 only the committed run's time is known), a lower bound: 40 re-used earlier runs whose "
            "first-run time is not recorded;") in summary.summary_markdown(tmp_path)


def test_table2_rows_are_judged_by_value_and_missing_datasets_say_why(tmp_path):
    protocol = {"profile": "cpu", "schedule": "{'cifar10': (1500, 1000), 'svhn': (1500, 1000)}",
                "widths": "{'cifar10': ((32, 64), 32), 'svhn': ((32, 64), 32)}"}
    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "table2_svhn", [
        {"dataset": "cifar10", "labels": "4000", "seeds": "2", "error_average_percent_mean": "20.1",
         "error_average_percent_std": "1.0", "paper_error_percent": "18.63 ± 2.32", "status": "", **protocol},
        {"dataset": "cifar10", "labels": "1000", "seeds": "1", "error_average_percent_mean": "60.4",
         "error_average_percent_std": "nan", "paper_error_percent": "21.83 ± 2.01", "status": "", **protocol},
        {"dataset": "svhn", "labels": "1000", "seeds": "", "error_average_percent_mean": "",
         "error_average_percent_std": "", "paper_error_percent": "",
         "status": "not run: dataset not available offline", **protocol},
    ])
    close, far, svhn = summary.table2_claims(tmp_path)
    assert close.verdict == "reproduced" and close.claim == "Table 2: CIFAR-10 test error, 4,000 labels"
    assert "20.10 ± 1.00%" in close.ours and "1500 iterations" in close.protocol and "(32, 64)" in close.protocol
    assert far.verdict == "not reproduced" and "CPU scale" in far.reason and far.ours == "60.40%"
    assert svhn.verdict == "not run here" and "not available offline" in svhn.reason
    def margin(labels, gan_current, supervised, gan_std="nan", supervised_std="nan"):
        return {"dataset": "cifar10", "labels": labels, "gan_error_raw_percent_mean": gan_current,
                "gan_error_raw_percent_std": gan_std, "supervised_error_percent_mean": supervised,
                "supervised_error_percent_std": supervised_std}

    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "supervised_margin", [
        margin("1000.0", "59.0", "70.5"), margin("4000", "20.0", "15.0")])
    close, beats, _ = summary.table2_claims(tmp_path)
    assert close.verdict == "reproduced"  # the value decides first; the baseline is shown beside it
    assert beats.verdict == "reproduced in ordering only" and "supervised only: 70.50%" in beats.ours
    assert "current D 59.00%" in beats.ours and "one seed a side" in beats.reason
    # the ordering is judged on the current D: the averaged D (60.40) would not beat 60.0, the current D does
    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "supervised_margin", [margin("1000", "57.0", "60.0")])
    _, current_wins, _ = summary.table2_claims(tmp_path)
    assert current_wins.verdict == "reproduced in ordering only"
    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "supervised_margin", [margin("1000", "59.0", "58.0")])
    _, loses, _ = summary.table2_claims(tmp_path)
    assert loses.verdict == "not reproduced" and "no gain over the supervised-only" in loses.reason
    # one seed each, 0.6 points apart on 10,000 test images: within two standard errors of test sampling alone
    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "supervised_margin", [margin("1000", "60.4", "61.0")])
    _, close_call, _ = summary.table2_claims(tmp_path)
    assert close_call.verdict == "not reproduced" and "(0.60 points) is within the noise (1.38" in close_call.reason
    # seed spreads widen the noise: 3 points apart, 1.5 points of spread a side
    write(tmp_path, "11_improved_gan_semisupervised_cifar_svhn", "supervised_margin",
          [margin("1000", "58.0", "61.0", "1.5", "1.5")])
    _, spread, _ = summary.table2_claims(tmp_path)
    assert spread.verdict == "not reproduced" and "test sampling and the seed spread" in spread.reason


def test_the_margin_noise_is_two_standard_errors_of_test_sampling_plus_the_seeds():
    assert summary.margin_noise(50.0, 50.0, 10_000) == pytest.approx(2 * math.sqrt(0.25 + 0.25))
    assert summary.margin_noise(10.0, 30.0, 2_500) == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21)))
    with_seeds = summary.margin_noise(10.0, 30.0, 2_500, ours_std=1.0, baseline_std=2.0)
    assert with_seeds == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21) + 1 + 4))
    one_sided = summary.margin_noise(10.0, 30.0, 2_500, baseline_std=2.0)  # the other side borrows its spread
    assert one_sided == pytest.approx(2 * math.sqrt(4 * (0.09 + 0.21) + 4 + 4))


def test_table1_needs_a_margin_beyond_the_noise_to_beat_the_labels_alone(tmp_path):
    def row(model, labels, percent, std="nan", seeds="1"):
        return {"model": model, "labels": labels, "seeds": seeds, "error_percent": percent,
                "error_percent_std": std, "paper_errors": "93 ± 6.5", "paper_error_percent": "0.93",
                "profile": "cpu", "epochs": "36.0"}

    def label_count(labels, averaged, current, supervised, std="nan", supervised_std="nan", seeds="1"):
        return [row("K+1 GAN + FM, averaged D", labels, averaged, std, seeds),
                row("K+1 GAN + FM, current D", labels, current, std, seeds),
                row("supervised only (same D)", labels, supervised, supervised_std, seeds)]

    write(tmp_path, "10_improved_gan_semisupervised_mnist", "table1", [
        *label_count("100", "1.59", "1.65", "22.19", "0.08", "1.47", "3"),
        *label_count("20", "46.6", "46.6", "47.5"),
        *label_count("50", "30.0", "30.0", "28.0"),
        *label_count("200", "40.0", "43.0", "41.0")])  # the averaged D beats the baseline, the current D does not
    hundred, twenty, fifty, two_hundred = (c for c in summary.improved_gan_claims(tmp_path)
                                           if c.claim.startswith("Table 1"))
    assert hundred.verdict == "reproduced in ordering only" and "supervised only: 22.19%" in hundred.ours
    assert "test sampling and the seed spread" in hundred.reason
    assert twenty.verdict == "not reproduced" and "(0.90 points) is within the noise" in twenty.reason
    assert fifty.verdict == "not reproduced" and "no gain" in fifty.reason and "-2.00 points" in fifty.reason
    assert two_hundred.verdict == "not reproduced" and "no gain" in two_hundred.reason


def test_table3_orderings_need_a_gap_beyond_the_seed_spread(tmp_path):
    def row(column, is_mean, std, seeds="2"):
        return {"extractor": "cifar10-convnet", "column": column, "seeds": seeds, "is_mean": is_mean,
                "is_std_over_seeds": std, "profile": "cpu", "iterations": "450", "d_widths": "(16, 32)",
                "g_width": "16", "n_samples": "5000"}

    write(tmp_path, "12_improved_gan_cifar_ablation", "table3", [
        row("real data", "9.0", "nan", "1"), row("our methods", "5.0", "0.1"), row("-VBN+BN", "4.0", "0.2"),
        row("-LS", "4.9", "0.2"), row("-MBF", "5.5", "0.1")])
    claims = summary.table3_claims(tmp_path)
    assert [c.claim for c in claims] == [f"Table 3: 'our methods' better than {c} (IS)" for c in
                                         ("-VBN+BN", "-LS", "-MBF")]
    assert [c.verdict for c in claims] == ["reproduced in ordering only", "not reproduced", "not reproduced"]
    assert "within the seed spread" in claims[1].reason and "opposite" in claims[2].reason
    assert claims[0].paper == "8.09 vs 7.54 (Inception)" and "+1" in claims[0].ours
    write(tmp_path, "12_improved_gan_cifar_ablation", "table3",
          [row("our methods", "5.0", "nan", "1"), row("-L", "3.0", "nan", "1")])
    (single,) = summary.table3_claims(tmp_path)
    assert single.verdict == "not reproduced" and "one seed" in single.reason
    write(tmp_path, "12_improved_gan_cifar_ablation", "table3",
          [row("our methods", "5.0", "0.01"), row("-L", "3.0", "nan", "1")])  # a spread on one side only
    (one_sided,) = summary.table3_claims(tmp_path)
    assert "one seed" in one_sided.reason
