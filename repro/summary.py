"""``results/SUMMARY.md``: each paper's claims beside our committed numbers, with the protocol and a verdict.

Read from the committed tables of ``results/<profile>/`` only (no training, no scoring), so it is regenerated in
seconds by notebook 90 or ``python -m repro.summary``. The README's results section is this file's text between
two markers (:func:`update_readme`); a test keeps them equal.

Verdicts (one per claim):

* ``reproduced``: our number is within max(2 × our seed std, 25% of the paper's value) of the paper's;
* ``reproduced in ordering only``: the paper's comparison holds in our runs beyond the seed spread, while values
  are not comparable (another extractor, CPU scale) or not close;
* ``not reproduced``: the comparison does not hold, or holds only within the seed spread (the reason says which);
* ``not run here``: no committed results for that table yet (the reason says what is needed).
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .files import atomic_path
from .paths import REPO_ROOT, results_root

VERDICTS = ("reproduced", "reproduced in ordering only", "not reproduced", "not run here")
README_BEGIN = "<!-- results summary: generated from results/SUMMARY.md by notebooks/90_summary; do not edit -->"
README_END = "<!-- end of results summary -->"
NOTEBOOK_MINUTES_TARGET = 30  # per notebook at the cpu profile (issue 9)
TEST_IMAGES = {"mnist": 10_000, "cifar10": 10_000, "svhn": 26_032}  # the whole test splits the errors are on


@dataclass(frozen=True)
class Claim:
    """One line of the summary: what the paper says, what we measured, under which protocol, and the verdict."""

    claim: str
    paper: str
    ours: str
    protocol: str
    verdict: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def read_table(root: Path, notebook: str, table: str) -> list[dict[str, str]] | None:
    """The rows of ``root/notebook/table.csv``, or None when that notebook has not written it."""
    path = root / notebook / f"{table}.csv"
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _mean_std(mean: float, std: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def _not_run(claim: str, paper: str, notebook: str, why: str = "") -> Claim:
    return Claim(claim, paper, "—", "—", "not run here",
                 why or f"no committed cpu results yet: ./run_all.sh {notebook[:2]}")


def value_verdict(ours: float, ours_std: float, paper: float) -> bool:
    """True when ``ours`` is within max(2 std, 25% of the paper's value) of ``paper``."""
    tolerance = max(2 * (0.0 if math.isnan(ours_std) else ours_std), 0.25 * abs(paper))
    return abs(ours - paper) <= tolerance


def margin_noise(ours: float, baseline: float, test_images: int, ours_std: float = math.nan,
                 baseline_std: float = math.nan) -> float:
    """The noise on ``baseline − ours``, two test errors in percent, in percentage points: twice the root of the
    binomial sampling variance of each error rate on ``test_images`` images plus each side's per-seed variance
    (the spread of one run, not of a mean over seeds, as the other claims here use it). The binomial terms are
    added as if independent, which overstates them a little: both errors are measured on the same images. A
    side with one seed borrows the other side's spread; with one seed on both, test sampling is all there is."""
    p, q = ours / 100, baseline / 100
    variance = 1e4 * (p * (1 - p) + q * (1 - q)) / test_images
    spreads = [s for s in (ours_std, baseline_std) if not math.isnan(s)]
    if spreads:
        variance += sum(s**2 for s in spreads) * 2 / len(spreads)
    return 2 * math.sqrt(variance)


def baseline_verdict(ours: float, ours_std: float, baseline: float, baseline_std: float, test_images: int,
                     scale: str) -> tuple[str, str]:
    """The verdict on "the unlabeled data beats the labels alone", for a GAN error that is not the paper's: the
    GAN's current D against the supervised-only baseline's (neither averaged), by more than
    :func:`margin_noise`."""
    noise = margin_noise(ours, baseline, test_images, ours_std, baseline_std)
    basis = ("test sampling alone: one seed a side, so the seed spread is unknown"
             if math.isnan(ours_std) and math.isnan(baseline_std) else "test sampling and the seed spread")
    gap = baseline - ours
    if gap > noise:
        return "reproduced in ordering only", (f"the unlabeled data beats the supervised-only baseline by "
                                               f"{gap:.2f} points, beyond the noise ({noise:.2f}; {basis}); {scale}")
    if gap > 0:
        return "not reproduced", (f"the margin over the supervised-only baseline ({gap:.2f} points) is within "
                                  f"the noise ({noise:.2f}; {basis}); {scale}")
    return "not reproduced", f"no gain over the supervised-only baseline ({gap:+.2f} points); {scale}"


# ----------------------------------------------------------------------------------------------------------
# Paper 1: Improved GAN


def improved_gan_claims(root: Path) -> list[Claim]:
    claims = []
    rows = read_table(root, "10_improved_gan_semisupervised_mnist", "table1")
    if rows is None:
        claims.append(_not_run("Table 1: MNIST semi-supervised test errors", "0.93% at 100 labels",
                               "10_improved_gan_semisupervised_mnist"))
    for labels in dict.fromkeys(r["labels"] for r in rows or ()):
        gan = next((r for r in rows if r["labels"] == labels and r["model"].endswith("averaged D")), None)
        if gan is None:
            continue
        current = next((r for r in rows if r["labels"] == labels and r["model"].endswith("current D")), None)
        supervised = next((r for r in rows if r["labels"] == labels and r["model"].startswith("supervised")), None)
        ours, std = _number(gan["error_percent"]), _number(gan["error_percent_std"])
        paper = _number(gan["paper_error_percent"])
        protocol = f"{gan['profile']}, {gan['epochs']} epochs (paper 300), {gan['seeds']} seed(s), averaged D"
        text = f"{_mean_std(ours, std)}%"
        if current is not None and supervised is not None:
            text += (f" (current D {_number(current['error_percent']):.2f}%, supervised only: "
                     f"{_number(supervised['error_percent']):.2f}%)")
        scale = "the error is not the paper's at CPU scale"
        if value_verdict(ours, std, paper):
            verdict, reason = "reproduced", ""
        elif current is None or supervised is None:
            verdict, reason = "not reproduced", f"{scale}; no supervised-only baseline to compare with"
        else:
            verdict, reason = baseline_verdict(
                _number(current["error_percent"]), _number(current["error_percent_std"]),
                _number(supervised["error_percent"]), _number(supervised["error_percent_std"]), TEST_IMAGES["mnist"],
                scale)
        claims.append(Claim(f"Table 1: MNIST test error, {labels} labels", f"{paper:.2f}% ({gan['paper_errors']} "
                            "errors)", text, protocol, verdict, reason))
    return claims + table2_claims(root) + table3_claims(root)


def table2_claims(root: Path) -> list[Claim]:
    """Improved-GAN Table 2 (CIFAR-10) and the SVHN table: each committed row's error against the paper's."""
    from .experiments.improved_gan_cifar import PAPER_EPOCHS, PAPER_ERRORS

    def paper_text(dataset: str, labels: int) -> str:
        paper, paper_std = PAPER_ERRORS[dataset].get(labels, (math.nan, math.nan))
        return "—" if math.isnan(paper) else f"{paper:.2f} ± {paper_std:.2f}%"

    notebook = "11_improved_gan_semisupervised_cifar_svhn"
    rows = read_table(root, notebook, "table2_svhn")
    if rows is None:
        return [_not_run("Table 2: CIFAR-10 test error, 4,000 labels", paper_text("cifar10", 4000), notebook)]
    margins = {(r["dataset"], int(float(r["labels"]))): r
               for r in read_table(root, notebook, "supervised_margin") or ()}
    claims = []
    for row in rows:
        name = "Table 2: CIFAR-10" if row["dataset"] == "cifar10" else "SVHN table:"
        labels = int(float(row["labels"]))
        claim = f"{name} test error, {labels:,} labels"
        paper = PAPER_ERRORS[row["dataset"]].get(labels, (math.nan,))[0]
        if row.get("status", "").startswith("not run"):
            claims.append(_not_run(claim, paper_text(row["dataset"], labels), notebook, row["status"]))
            continue
        ours, std = _number(row["error_average_percent_mean"]), _number(row["error_average_percent_std"])
        per_dataset = [ast.literal_eval(row[key])[row["dataset"]] for key in ("schedule", "widths")]
        (iterations, _), (d_widths, g_width) = per_dataset
        protocol = (f"{row['profile']}, {iterations} iterations (paper {PAPER_EPOCHS[row['dataset']]:,} epochs), "
                    f"D widths {d_widths}, G width {g_width}, {row['seeds']} seed(s), averaged D")
        margin = margins.get((row["dataset"], labels))
        text = f"{_mean_std(ours, std)}%"
        if margin is not None:
            text += (f" (current D {_number(margin['gan_error_raw_percent_mean']):.2f}%, supervised only: "
                     f"{_number(margin['supervised_error_percent_mean']):.2f}%)")
        scale = "CPU scale: a few epochs at a third of the paper's width"
        if value_verdict(ours, std, paper):
            verdict, reason = "reproduced", ""
        elif margin is not None:  # as Table 1: current D against current D, beyond the noise
            verdict, reason = baseline_verdict(
                _number(margin["gan_error_raw_percent_mean"]), _number(margin.get("gan_error_raw_percent_std")),
                _number(margin["supervised_error_percent_mean"]), _number(margin.get("supervised_error_percent_std")),
                TEST_IMAGES[row["dataset"]], scale)
        else:
            verdict, reason = "not reproduced", f"{scale}; no supervised-only baseline to compare with"
        claims.append(Claim(claim, paper_text(row["dataset"], labels), text, protocol, verdict, reason))
    return claims


def table3_claims(root: Path) -> list[Claim]:
    """Improved-GAN Table 3: "our methods" scores a higher IS than each ablation column, per score extractor.

    The paper's Inception Scores are not comparable with the project classifier's, so only the ordering is
    judged; a gap counts when it exceeds twice the larger seed spread (one seed gives no spread to judge by).
    """
    from .experiments.improved_gan_cifar import PAPER_TABLE3

    notebook = "12_improved_gan_cifar_ablation"
    rows = read_table(root, notebook, "table3")
    if rows is None:
        paper, paper_std = PAPER_TABLE3["our methods"]
        return [_not_run("Table 3: IS of 'our methods' vs the ablations", f"{paper} ± {paper_std}", notebook)]
    claims = []
    for extractor in dict.fromkeys(r["extractor"] for r in rows):
        by_column = {r["column"]: r for r in rows if r["extractor"] == extractor}
        ours = by_column.get("our methods")
        if ours is None:
            continue
        for column, worse in by_column.items():
            if column in ("our methods", "real data"):
                continue
            gap = _number(ours["is_mean"]) - _number(worse["is_mean"])
            stds = [_number(ours["is_std_over_seeds"]), _number(worse["is_std_over_seeds"])]
            spread = math.nan if any(map(math.isnan, stds)) else max(stds)  # max() alone may drop a NaN
            if gap <= 0:
                verdict, reason = "not reproduced", "the opposite ordering in our runs"
            elif math.isnan(spread):
                verdict, reason = "not reproduced", "same direction, one seed: no seed spread to judge the gap by"
            elif gap > 2 * spread:
                verdict, reason = "reproduced in ordering only", f"IS from {extractor}, at CPU scale"
            else:
                verdict, reason = "not reproduced", "same direction, but within the seed spread"
            paper = f"{PAPER_TABLE3['our methods'][0]} vs {PAPER_TABLE3[column][0]} (Inception)"
            protocol = (f"{ours['profile']}, {ours['iterations']} iterations, D widths {ours['d_widths']}, "
                        f"G width {ours['g_width']}, {ours['seeds']} seed(s), {ours['n_samples']} samples, {extractor}")
            claims.append(Claim(f"Table 3: 'our methods' better than {column} (IS)", paper,
                                f"{gap:+.3g} (> 0: the paper's direction)", protocol, verdict, reason))
    return claims


# ----------------------------------------------------------------------------------------------------------
# Paper 2: AM-GAN

# The paper's main messages as (better, worse) pairs of Table 1
AM_GAN_KEY_PAIRS = (("AM-GAN", "GAN"), ("AM-GAN", "AC-GAN*"), ("LabelGAN", "AC-GAN*"), ("AC-GAN*+", "AC-GAN*"),
                    ("AM-GAN", "LabelGAN"))


def _ordering_claim(row: dict[str, str], metric_name: str, protocol: str, paper_text: str) -> Claim:
    agrees, beyond = row["agrees"] == "True", row["beyond_seed_spread"] == "True"
    if agrees and beyond:
        verdict, reason = "reproduced in ordering only", "values use the project's classifier, at CPU scale"
    elif agrees:
        verdict, reason = "not reproduced", "same direction, but within the seed spread"
    else:
        verdict, reason = "not reproduced", "the opposite ordering in our runs"
    gap = _number(row["our_gap"])
    return Claim(f"{row['paper_better']} better than {row['paper_worse']} ({metric_name})", paper_text,
                 f"{gap:+.3g} (> 0: the paper's direction)", protocol, verdict, reason)


def am_gan_claims(root: Path) -> list[Claim]:
    from .experiments.am_gan import PAPER_TABLE1

    rows = read_table(root, "20_am_gan", "orderings")
    if rows is None:
        return [_not_run("Table 1 orderings (IS, AM Score)", "AM-GAN best on both", "20_am_gan")]
    claims = []
    for dataset in dict.fromkeys(r.get("dataset", "cifar10") for r in rows):
        for row in rows:
            pair = (row["paper_better"], row["paper_worse"])
            if row.get("dataset", "cifar10") != dataset or pair not in AM_GAN_KEY_PAIRS or row["labeling"] != "dynamic":
                continue
            metric_name, column = ("IS", 0) if row["metric"] == "is_mean" else ("AM Score", 2)
            paper_text = f"{PAPER_TABLE1[pair[0]][column]} vs {PAPER_TABLE1[pair[1]][column]} (CIFAR-10)"
            protocol = (f"{row['profile']}, {dataset}, {row['iterations']} iterations, widths {row['widths']}, "
                        f"seeds {row['seed']}, {row['n_samples']} samples, project classifier")
            claims.append(_ordering_claim(row, metric_name, protocol, paper_text))
    defects = read_table(root, "21_am_score_vs_inception_score", "defects")
    if defects is None:
        claims.append(_not_run("The AM Score sees class imbalance that IS mixes up", "§5 analysis",
                               "21_am_score_vs_inception_score"))
    else:
        ours = [r for r in defects if r["experiment"] == "imbalance" and "Inception" not in r["extractor"]]
        ours.sort(key=lambda r: _number(r["setting"]))
        kl = [_number(r["am_marginal_kl"]) for r in ours]
        entropy = [_number(r["am_entropy"]) for r in ours]
        monotone = all(b > a for a, b in zip(kl, kl[1:], strict=False))
        flat = max(entropy) - min(entropy) <= 0.1 * max(entropy)
        claims.append(Claim(
            "AM Score: a class-imbalanced marginal shows in its KL term, not in the per-sample entropy",
            "the AM Score's decomposition (§4)",
            f"marginal KL {kl[0]:.3g} → {kl[-1]:.3g}, entropy {min(entropy):.3f}..{max(entropy):.3f}",
            f"{ours[0]['profile']}, real CIFAR-10 train subsets of {ours[0]['n_subset']}, project classifier",
            "reproduced" if monotone and flat else "not reproduced",
            "" if monotone and flat else "the KL term is not monotone in the imbalance, or the entropy moved"))
    return claims


# ----------------------------------------------------------------------------------------------------------
# Paper 3: MS-GAN


def ms_gan_claims(root: Path) -> list[Claim]:
    claims = []
    rows = read_table(root, "30_ms_gan_stacked_mnist", "claims")
    if rows is None:
        claims.append(_not_run("Stacked-MNIST: MS-GAN covers more modes than SSGAN", "not available to us",
                               "30_ms_gan_stacked_mnist"))
    for row in rows or ():
        metric = "modes" if row["metric"] == "modes" else "KL to uniform"
        protocol = (f"{row['profile']}, Stacked-MNIST {row['discriminator']}, {row['iterations']} iterations, "
                    f"seeds {row['seed']}, {row['n_samples']} samples")
        claim = _ordering_claim({**row, "paper_better": row["claimed_better"], "paper_worse": row["claimed_worse"]},
                                metric, protocol, "claimed (numbers not available to us)")
        claims.append(replace(claim, claim=f"{claim.claim}, {row['discriminator']}"))
    cifar = read_table(root, "31_ms_gan_cifar", "claims")
    if cifar is None:
        claims.append(_not_run("CIFAR-10: MS-GAN reaches a lower FID than SSGAN", "11.40 (MS-DistGAN, ResNet)",
                               "31_ms_gan_cifar"))
    for row in cifar or ():
        metric = {"fid": "FID", "kid_mean": "KID"}.get(row["metric"], row["metric"])
        protocol = (f"{row['profile']}, CIFAR-10 {row['backbone']}, {row['iterations']} G steps, width "
                    f"{row['width']}, seeds {row['seed']}, project classifier features")
        claim = _ordering_claim({**row, "paper_better": row["claimed_better"], "paper_worse": row["claimed_worse"]},
                                f"{metric} (lower)", protocol, "claimed (per-backbone numbers not available to us)")
        claims.append(replace(claim, claim=f"{claim.claim}, {row['backbone']}"))
    return claims


# ----------------------------------------------------------------------------------------------------------
# Paper 4: MMGAN


def _for_dataset(protocol_value: str, dataset: str) -> str:
    """One dataset's entry of a protocol column that notebook 40 writes per dataset ("{'mnist': [0, 1], ...}")."""
    try:
        value = ast.literal_eval(protocol_value)
    except (ValueError, SyntaxError):
        return protocol_value
    return str(value[dataset]) if isinstance(value, dict) and dataset in value else protocol_value


def mmgan_claims(root: Path) -> list[Claim]:
    rows = read_table(root, "40_mmgan", "comparison")
    if rows is None:
        return [_not_run("MMGAN (our interpretation) beats DCGAN and feature matching", "unsupervised CIFAR-10 IS 7.8",
                         "40_mmgan")]
    claims = []
    for dataset, metric, higher in (("stacked_mnist", "modes", True), ("mnist", "fid", False),
                                    ("cifar10", "fid", False)):
        by_model = {r["model"]: r for r in rows if r["dataset"] == dataset}
        if "MMGAN" not in by_model:
            continue
        for baseline in ("DCGAN", "FM"):
            if baseline not in by_model:
                continue
            ours, other = by_model["MMGAN"], by_model[baseline]
            gap = _number(ours[metric]) - _number(other[metric])
            gap = gap if higher else -gap
            spread = math.hypot(_number(ours[f"{metric}_std_over_seeds"]), _number(other[f"{metric}_std_over_seeds"]))
            row = {"paper_better": "MMGAN", "paper_worse": baseline, "our_gap": str(gap), "agrees": str(gap > 0),
                   "beyond_seed_spread": str(bool(gap > spread))}
            protocol = (f"{ours['profile']}, {dataset}, {_for_dataset(ours['iterations'], dataset)} iterations, "
                        f"seeds {_for_dataset(ours['seed'], dataset)}, {_for_dataset(ours['n_samples'], dataset)} "
                        f"samples, project classifier")
            claims.append(_ordering_claim(row, f"{metric}, {dataset}", protocol, "MMGAN better (abstract)"))
    return claims


# ----------------------------------------------------------------------------------------------------------
# The document

PAPERS: tuple[tuple[str, Callable[[Path], list[Claim]]], ...] = (
    ("Improved Techniques for Training GANs (Salimans et al. 2016) — notebooks 10–12", improved_gan_claims),
    ("AM-GAN (Zhou et al. 2018) — notebooks 20–21", am_gan_claims),
    ("MS-GAN (Tran et al. 2019) — notebooks 30–31", ms_gan_claims),
    ("MMGAN (Park et al. 2018), our interpretation of the abstract — notebook 40", mmgan_claims),
)


def summary_claims(root: Path) -> dict[str, list[Claim]]:
    return {title: build(root) for title, build in PAPERS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def run_times(root: Path) -> list[dict[str, str]]:
    """Wall time of each notebook's committed run, from ``root/manifest.json``, with how many of its run folders
    were already there when it started, and the time of the first run that trained them where the manifest
    knows it (``first_run``; or this run, when it found none). Notebook 90 is left out: it writes this summary,
    so its own entry is only final after the summary is written."""
    path = root / "manifest.json"
    entries = json.loads(path.read_text())["notebooks"] if path.exists() else {}

    def found(entry: dict[str, Any]) -> str:
        if "runs_found" not in entry:
            return "not recorded"
        return f"{entry['runs_found']} of {entry['runs_total']}"

    def first(entry: dict[str, Any]) -> dict[str, Any] | None:
        if entry.get("first_run") is None and entry.get("runs_found") == 0 and entry["status"] == "ok":
            return entry  # written before the manifest kept first runs: this run found nothing to reuse
        return entry.get("first_run")

    def commit(entry: dict[str, Any]) -> str:  # short, keeping the "+dirty" mark
        return entry["git_commit"][:8] + ("+dirty" if entry["git_commit"].endswith("+dirty") else "")

    return [{"notebook": name, "minutes": f"{entry['duration_s'] / 60:.1f}", "runs_found_of_total": found(entry),
             "first_run_minutes": f"{first(entry)['duration_s'] / 60:.1f}" if first(entry) else "not recorded",
             "status": entry["status"], "started": entry["start_utc"][:16].replace("T", " "),
             "git_commit": commit(entry),
             # a replay whose first run is unknown: its time is no first run's
             "unknown_replay": first(entry) is None and entry.get("runs_found", 0) > 0}
            for name, entry in sorted(entries.items()) if not name.startswith("90_")]


def _run_time_lines(root: Path) -> list[str]:
    rows = run_times(root)
    if not rows:
        return []
    # a first run's time where known, else the committed run's (a lower bound when it reused runs)
    minutes = {r["notebook"]: float(r["first_run_minutes"] if r["first_run_minutes"] != "not recorded"
                                    else r["minutes"]) for r in rows}
    unknown = [r["notebook"][:2] for r in rows if r["first_run_minutes"] == "not recorded"]
    replays = [r["notebook"][:2] for r in rows if r["unknown_replay"]]
    over = [name[:2] for name, value in minutes.items() if value > NOTEBOOK_MINUTES_TARGET]
    lines = ["### Run times", "",
             f"Wall time of the run that wrote each notebook's committed `{root.name}` results (2 CPU cores for "
             "`cpu`). *Runs found* counts the notebook's run folders (training runs, kept baselines and scores) that "
             "were already there when it started (\"not recorded\": written before the manifest kept that count). "
             "Those runs resumed or were only re-evaluated, and a cached score classifier is not retrained, so such "
             "a time is below a first run's; *first run* is the time of the run that trained them, where the "
             "manifest knows it. A commit marked +dirty ran with uncommitted changes to tracked files outside "
             f"`results/`. {sum(minutes.values()):.0f} min in all, counting first runs where known"
             + (f" (for {', '.join(unknown)} only the committed run's time is known)" if unknown else "")
             + (f", a lower bound: {', '.join(replays)} re-used earlier runs whose first-run time is not recorded"
                if replays else "")
             + (f"; over the {NOTEBOOK_MINUTES_TARGET}-minute target per notebook: {', '.join(over)}." if over
                else "."), "",
             "| notebook | minutes | runs found | first run (minutes) | status | started (UTC) | git commit |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['notebook']} | {r['minutes']} | {r['runs_found_of_total']} | {r['first_run_minutes']} | "
              f"{r['status']} | {r['started']} | {r['git_commit']} |" for r in rows]
    return lines + [""]


def summary_markdown(root: Path) -> str:
    """The whole summary as Markdown: a verdict count, one table per paper, then the notebooks' run times."""
    sections = summary_claims(root)
    counts = {v: sum(c.verdict == v for claims in sections.values() for c in claims) for v in VERDICTS}
    lines = [f"Generated from the committed `results/{root.name}/` tables (profile `{root.name}`). Verdicts: "
             + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".", ""]
    for title, claims in sections.items():
        lines += [f"### {title}", "", "| claim | paper | ours | protocol | verdict | reason |",
                  "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_cell(x) for x in (c.claim, c.paper, c.ours, c.protocol, c.verdict, c.reason))
                  + " |" for c in claims]
        lines.append("")
    lines += _run_time_lines(root)
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
