"""Every notebook in notebooks/ runs end to end at the smoke profile and writes what it declares, and nothing else.

A notebook declares its outputs in its metadata (``metadata.repro``): ``tables`` (written as CSV + Markdown
with protocol columns, and with the columns of the committed cpu table where there is one and it does not await
a rerun), ``figures`` (PNG), ``conditional`` (those of them written only at some ``profiles`` or where what
they ``needs`` is available: :func:`repro.notebook_runner.declared_outputs`) and the ``datasets`` it needs;
without those datasets available offline the notebook is skipped with the reason. Its results folder after the
smoke run holds exactly the declared files (and its executed copy): none missing, none undeclared. Runs train
into a temporary runs folder (``REPRO_RUNS_DIR``), never the checkout's ``runs/``, so every smoke run trains
from scratch and no local state changes the outcome.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from repro.data import dataset_available
from repro.manifest import awaiting_rerun
from repro.metrics.inception import InceptionWeightsError, find_inception_weights
from repro.notebook_runner import declared_outputs, list_notebooks, run_notebook
from repro.paths import REPO_ROOT
from repro.profiles import PROFILES

NOTEBOOKS = list_notebooks()
AWAITING_RERUN = awaiting_rerun(REPO_ROOT / "results" / "cpu")


def requirement_met(need: str) -> bool:
    """Whether a conditional output's requirement holds here: the Inception weights, or a dataset offline."""
    if need == "inception_weights":
        try:
            find_inception_weights()
        except InceptionWeightsError:
            return False
        return True
    return dataset_available(need)


def test_there_are_notebooks_and_they_are_stripped():
    assert NOTEBOOKS, "notebooks/ has no numbered notebooks"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tags = [cell.metadata.get("tags", []) for cell in nb.cells]
        assert sum("parameters" in t for t in tags) == 1, f"{path.name}: needs exactly one 'parameters' cell"
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name}: has outputs"
        declared = nb.metadata.get("repro", {})
        assert declared.get("tables") or declared.get("figures"), f"{path.name}: declares no outputs"
        for profile in PROFILES:
            declared_outputs(path, profile)  # its conditions name declared outputs


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_smoke_run(path: Path, tmp_path: Path):
    declared = nbformat.read(path, as_version=4).metadata.get("repro", {})
    missing = [name for name in declared.get("datasets", []) if not dataset_available(name)]
    if missing:
        pytest.skip(f"datasets not available offline: {missing}; set REPRO_DATA_DIR to the mirrors")

    run = run_notebook(path, "smoke", root=tmp_path, runs_dir=tmp_path / "runs", timeout_s=600)
    log = Path(run.log) if Path(run.log).is_absolute() else REPO_ROOT / run.log
    assert run.status == "ok", f"{path.stem} {run.status}; log tail:\n" + log.read_text()[-3000:]

    out = tmp_path / "smoke" / path.stem
    expected, _ = declared_outputs(path, "smoke", requirement_met)
    written = {p.name for p in out.iterdir()}
    undeclared, missing = sorted(written - expected), sorted(expected - written)
    assert not undeclared and not missing, (
        f"{path.stem} wrote files it does not declare {undeclared} and did not write declared ones {missing}: "
        "list every table and figure in its metadata.repro (tables, figures, conditional)")
    for table in (name.removesuffix(".csv") for name in sorted(expected) if name.endswith(".csv")):
        with open(out / f"{table}.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows, f"{table}.csv is empty"
        assert all(row["profile"] == "smoke" and row["git_commit"] for row in rows)
        assert (out / f"{table}.md").read_text().strip()
        committed = REPO_ROOT / "results" / "cpu" / path.stem / f"{table}.csv"
        # the smoke run writes the schema of the committed cpu table, unless that table is from an earlier version
        # of the notebook awaiting its rerun (results/cpu/manifest.json): the rerun brings the new schema
        if committed.exists() and path.stem not in AWAITING_RERUN:
            with open(committed, newline="") as f:
                columns = next(csv.reader(f))
            missing, extra = sorted(set(columns) - set(rows[0])), sorted(set(rows[0]) - set(columns))
            assert not missing and not extra, (
                f"{table}.csv: the smoke run's columns differ from results/cpu/{path.stem}/{table}.csv "
                f"(missing {missing}, extra {extra}); rerun ./run_all.sh {path.stem[:2]} if the table changed")
    for figure in (name for name in sorted(expected) if name.endswith(".png")):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG", f"{figure} is not a PNG"
