"""The committed cpu results are present and not stale (no training: reads results/cpu/ only).

For every notebook with an entry in ``results/cpu/manifest.json``: the run finished, the notebook as committed is
what ran (the same SHA-256 of its code cells and declared outputs, and of the plans it trains, which live in
``repro.experiments``: a notebook whose code or plan changed without a rerun is stale, a notebook whose prose
changed is not), and every table and figure it declares is there, tables as CSV + Markdown whose rows carry the
protocol columns of a cpu run, and nothing it does not declare (:func:`repro.notebook_runner.declared_outputs`;
an output declared as written only where a requirement holds, such as the Inception weights, may be there or
not). Notebooks that have not had their cpu run yet are listed in ``NOT_YET_RUN_AT_CPU``; the list must shrink as
results land (a notebook listed there that has results fails too, so the list cannot go stale).

A notebook whose code changed on purpose before its next run (e.g. the plan moved into ``repro``) carries an
``awaiting_rerun`` mark in its manifest entry (``./run_all.sh --mark-awaiting-rerun NN --why ...``): the reason,
and the code and plan hashes at marking. Its results are accepted as those of its earlier version (including files
that version declared and the current one does not) only while the
notebook stays at the marked version (any further change needs a rerun or a new mark), and the summary lists
them. Its next run replaces the entry, and the mark with it; a mark on a notebook whose code and plan are what
ran fails, so marks cannot outlive their reason.

Every committed table that names a score classifier (an ``extractor`` or ``weights_sha256`` column) names the
pinned classifier of its dataset (``repro/metrics/weights/classifiers.json``), by the digest its name carries.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from repro.metrics.classifier import pinned_manifest
from repro.notebook_runner import declared_outputs, list_notebooks, notebook_code_sha256, notebook_plan_sha256
from repro.paths import REPO_ROOT

CPU_RESULTS = REPO_ROOT / "results" / "cpu"
MANIFEST = json.loads((CPU_RESULTS / "manifest.json").read_text())["notebooks"]
NOTEBOOKS = {path.stem: path for path in list_notebooks()}
# notebooks 13 and 14 took Table 1's 20 and 50 labels (five seeds each) and its 200 labels (four seeds) out of
# notebook 10 (issue "Decisive experiments"): first cpu runs of about 140 and 115 minutes, each due in a session
# of its own
NOT_YET_RUN_AT_CPU: set[str] = {"13_improved_gan_mnist_few_labels", "14_improved_gan_mnist_200_labels"}
PROTOCOL_COLUMNS = ("profile", "seed", "git_commit", "torch", "python", "created_utc")


def test_every_notebook_has_cpu_results_or_is_listed_as_not_yet_run():
    missing = sorted(set(NOTEBOOKS) - set(MANIFEST) - NOT_YET_RUN_AT_CPU)
    assert not missing, f"no cpu results for {missing}: run ./run_all.sh {' '.join(m[:2] for m in missing)}"
    listed_but_run = sorted(NOT_YET_RUN_AT_CPU & set(MANIFEST))
    assert not listed_but_run, f"{listed_but_run} have cpu results now: remove them from NOT_YET_RUN_AT_CPU"
    unknown = sorted(NOT_YET_RUN_AT_CPU - set(NOTEBOOKS))
    assert not unknown, f"NOT_YET_RUN_AT_CPU names notebooks that do not exist: {unknown}"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_committed_cpu_results_are_complete_and_fresh(name):
    entry = MANIFEST[name]
    assert name in NOTEBOOKS, f"results/cpu/manifest.json has {name}, which is no longer in notebooks/"
    assert entry["status"] == "ok" and entry["profile"] == "cpu"
    now = {"code_sha256": notebook_code_sha256(NOTEBOOKS[name]), "plan_sha256": notebook_plan_sha256(name, "cpu")}
    fresh = all(entry.get(key) == value for key, value in now.items())
    mark = entry.get("awaiting_rerun")
    if mark:
        assert not fresh, (f"{name}'s code and plan are what ran, so it awaits no rerun: drop 'awaiting_rerun' "
                           "from its entry in results/cpu/manifest.json")
        changed = [key for key, value in now.items() if mark.get(key) != value]
        assert not changed, (f"{name} changed again ({', '.join(changed)}) since it was marked as awaiting a rerun: "
                             f"rerun ./run_all.sh {name[:2]}, or mark it again with the new reason")
    else:
        changed = [key for key, value in now.items() if entry.get(key) != value]
        assert not changed, (
            f"notebooks/{name}.ipynb changed since its cpu run (commit {entry['git_commit'][:8]}; {', '.join(changed)}"
            f" differ): rerun ./run_all.sh {name[:2]} and commit results/cpu/{name}/ (or, for a change whose rerun "
            f"is planned, mark it: ./run_all.sh --mark-awaiting-rerun {name[:2]} --why REASON)")
    out = CPU_RESULTS / name
    assert (out / f"{name}.ipynb").exists(), f"the executed copy of {name} is missing"
    expected, maybe = declared_outputs(NOTEBOOKS[name], "cpu")
    present = {path.name for path in out.iterdir()}
    missing, undeclared = sorted(expected - present), sorted(present - expected - maybe)
    assert not missing, f"results/cpu/{name}/ lacks the declared {missing}: rerun ./run_all.sh {name[:2]}"
    # a notebook awaiting its rerun may keep what its earlier plan declared; the rerun replaces its folder whole
    assert mark or not undeclared, (
        f"results/cpu/{name}/ has files its notebook does not declare {undeclared}: declare them in its "
        "metadata.repro, or remove them if no notebook writes them any more")
    written = sorted(present & (expected | maybe))
    for table in (file.removesuffix(".csv") for file in written if file.endswith(".csv")):
        with open(out / f"{table}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows, f"results/cpu/{name}/{table}.csv is empty"
        missing = [c for c in PROTOCOL_COLUMNS if c not in rows[0]]
        assert not missing, f"results/cpu/{name}/{table}.csv lacks protocol columns {missing}"
        assert all(r["profile"] == "cpu" for r in rows)
        assert (out / f"{table}.md").read_text().strip()
    for figure in (file for file in written if file.endswith(".png")):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG", f"results/cpu/{name}/{figure} is not a PNG"


# Tables scored before the classifiers were pinned (issue 19) name whichever network the machine that ran them had
# trained (4 CIFAR-10 and 3 MNIST ones among the committed tables). The notebooks marked as awaiting a rerun keep
# such tables until that rerun, which scores with the pinned classifiers; every other notebook's tables must
# name them already.
SCORED_BEFORE_PINNING = sorted(name for name, entry in MANIFEST.items() if entry.get("awaiting_rerun"))
PINNED = pinned_manifest()
PROJECT_CLASSIFIER = re.compile(r"(?P<dataset>[a-z0-9_]+)-convnet-(?P<digest>[0-9a-f]+)")
OTHER_EXTRACTORS = ("inception-",)  # supplied Inception weights: checked by their own hash, not pinned here
SCORED_TABLES = sorted(
    path.relative_to(CPU_RESULTS).as_posix() for path in CPU_RESULTS.glob("*/*.csv")
    if {"extractor", "weights_sha256"} & set(path.open(newline="").readline().strip().split(","))
)


def classifier_mismatch(row: dict[str, str]) -> str | None:
    """Why ``row`` does not name the pinned classifier of its dataset, or None when it does (or names none)."""
    extractor, digest = row.get("extractor", ""), row.get("weights_sha256", "")
    if extractor.startswith(OTHER_EXTRACTORS):
        return None
    if extractor:
        match = PROJECT_CLASSIFIER.fullmatch(extractor)
        if match is None:
            return f"names the extractor {extractor!r}, which carries no classifier digest"
        dataset = match["dataset"]
    elif digest:
        dataset = row.get("dataset", "")  # a table of classifiers (notebook 01's classifiers.csv)
    else:
        return None  # a row without scores
    pinned = PINNED.get(dataset)
    if pinned is None:
        return f"names a classifier of dataset {dataset!r}, for which none is pinned"
    found = [d for d in (match["digest"] if extractor else "", digest) if d]
    if all(pinned["sha256"].startswith(d) for d in found):
        return None
    return (f"scored by the {dataset} classifier with digest {' / '.join(found)}, but the pinned one is "
            f"{dataset}-convnet-{pinned['sha256'][:12]} (SHA-256 {pinned['sha256']})")


@pytest.mark.parametrize("table", SCORED_TABLES)
def test_committed_scores_name_the_pinned_classifier(table):
    name = table.split("/")[0]
    if name in SCORED_BEFORE_PINNING:
        pytest.skip(f"{name} awaits a rerun, which scores with the pinned classifiers")
    with open(CPU_RESULTS / table, newline="") as f:
        mismatches = sorted({m for row in csv.DictReader(f) if (m := classifier_mismatch(row))})
    assert not mismatches, (f"results/cpu/{table}: " + "; ".join(mismatches)
                            + f": rerun ./run_all.sh {name[:2]} and commit results/cpu/{name}/")
