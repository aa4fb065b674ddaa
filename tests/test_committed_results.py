"""The committed cpu results are present and not stale (no training: reads results/cpu/ only).

For every notebook with an entry in ``results/cpu/manifest.json``: the run finished, the notebook as committed is
the notebook that ran (same SHA-256; a notebook edited without a rerun is stale), and every table and figure it
declares is there, tables as CSV + Markdown whose rows carry the protocol columns of a cpu run. Notebooks that
have not had their cpu run yet are listed in ``NOT_YET_RUN_AT_CPU``; the list must shrink as results land (a
notebook listed there that has results fails too, so the list cannot go stale).
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from repro.files import file_sha256
from repro.notebook_runner import list_notebooks
from repro.paths import REPO_ROOT

CPU_RESULTS = REPO_ROOT / "results" / "cpu"
MANIFEST = json.loads((CPU_RESULTS / "manifest.json").read_text())["notebooks"]
NOTEBOOKS = {path.stem: path for path in list_notebooks()}
NOT_YET_RUN_AT_CPU: set[str] = set()  # every notebook has committed cpu results now
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
    assert entry["notebook_sha256"] == file_sha256(NOTEBOOKS[name]), (
        f"notebooks/{name}.ipynb changed since its cpu run (commit {entry['git_commit'][:8]}): "
        f"rerun ./run_all.sh {name[:2]} and commit results/cpu/{name}/")
    out = CPU_RESULTS / name
    assert (out / f"{name}.ipynb").exists(), f"the executed copy of {name} is missing"
    declared = nbformat.read(NOTEBOOKS[name], as_version=4).metadata.get("repro", {})
    for table in declared.get("tables", []):
        with open(out / f"{table}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows, f"results/cpu/{name}/{table}.csv is empty"
        missing = [c for c in PROTOCOL_COLUMNS if c not in rows[0]]
        assert not missing, f"results/cpu/{name}/{table}.csv lacks protocol columns {missing}"
        assert all(r["profile"] == "cpu" for r in rows)
        assert (out / f"{table}.md").read_text().strip()
    for figure in declared.get("figures", []):
        assert (out / f"{figure}.png").read_bytes()[:4] == b"\x89PNG", f"results/cpu/{name}/{figure}.png missing"
