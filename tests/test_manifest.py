"""repro.manifest: the record of how committed results were made: first runs behind replays, run times, the code
hash that decides freshness, and the mark of results that await a rerun."""

from __future__ import annotations

import json

import nbformat
import pytest

from repro import manifest
from repro.errors import ConfigError
from repro.notebook_runner import notebook_code_sha256


def _run(found, total, seconds, status="ok"):
    return manifest.NotebookRun("50_trains", "cpu", {}, status, f"2026-12-03T0{found}:00:00+00:00", seconds,
                                "abc", "0" * 64, "1" * 64, "x", "y", "3", found, total)


def test_a_replay_keeps_the_time_of_the_first_run_that_trained_its_runs(tmp_path):
    def entry():
        return json.loads((tmp_path / "cpu" / "manifest.json").read_text())["notebooks"]["50_trains"]

    manifest.update_manifest(_run(0, 4, 2854.0), tmp_path)
    assert entry()["first_run"]["duration_s"] == 2854.0
    manifest.update_manifest(_run(4, 4, 150.0), tmp_path)  # a replay: every run found
    assert entry()["duration_s"] == 150.0 and entry()["first_run"]["duration_s"] == 2854.0
    manifest.update_manifest(_run(4, 4, 140.0), tmp_path)  # and another: still the first run's time
    assert entry()["first_run"]["duration_s"] == 2854.0
    manifest.update_manifest(_run(4, 6, 900.0), tmp_path)  # trained two new runs beside four old ones: unknown
    assert entry()["first_run"] is None
    manifest.update_manifest(_run(6, 6, 100.0), tmp_path)
    assert entry()["first_run"] is None
    manifest.update_manifest(_run(0, 6, 3000.0, status="failed"), tmp_path)
    assert entry()["first_run"] is None


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
    rows = manifest.run_times(tmp_path)
    assert [(r["notebook"], r["minutes"], r["runs_found_of_total"], r["first_run_minutes"]) for r in rows] == [
        ("10_x", "40.0", "0 of 6", "40.0"), ("20_r", "1.0", "4 of 4", "25.0"),
        ("30_y", "10.0", "not recorded", "not recorded")]
    text = "\n".join(manifest.run_time_lines(tmp_path))
    assert ("75 min in all, counting first runs where known (for 30 only the committed run's time is known); "
            "over the 30-minute target per notebook: 10.") in text and "90_summary" not in text
    assert "| 10_x | 40.0 | 0 of 6 | 40.0 | ok |" in text
    assert "| 30_y | 10.0 | not recorded | not recorded | ok |" in text
    assert "| 5c7fe5ef |" in text and "| 5c7fe5ef+dirty |" in text
    assert "lower bound" not in text
    replayed["notebooks"]["40_z"] = {**entry(30.0), "runs_found": 2, "runs_total": 2}  # a replay, first run unknown
    (tmp_path / "manifest.json").write_text(json.dumps(replayed))
    assert ("(for 30, 40 only the committed run's time is known), a lower bound: 40 re-used earlier runs whose "
            "first-run time is not recorded;") in "\n".join(manifest.run_time_lines(tmp_path))


def test_the_code_hash_follows_code_and_declared_outputs_not_prose(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["repro"] = {"tables": ["t"]}
    path = tmp_path / "50_x.ipynb"
    nbformat.write(nb, path)
    before = notebook_code_sha256(path)
    nb.cells[0].source = "# Title, with a typo fixed"
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1")]
    nbformat.write(nb, path)
    assert notebook_code_sha256(path) == before == notebook_code_sha256(nb)
    nb.cells[1].source = "x = 2"
    assert notebook_code_sha256(nb) != before
    nb.cells[1].source = "x = 1"
    nb.metadata["repro"]["tables"].append("u")
    assert notebook_code_sha256(nb) != before


def test_results_awaiting_a_rerun_are_marked_with_their_version_until_the_next_run_replaces_the_entry(tmp_path):
    manifest.update_manifest(_run(0, 4, 100.0), tmp_path)
    hashes = {"code_sha256": "c" * 64, "plan_sha256": None}
    with pytest.raises(ConfigError, match="no manifest entry"):
        manifest.mark_awaiting_rerun({"60_unknown": hashes}, "why", root=tmp_path)
    manifest.mark_awaiting_rerun({"50_trains": hashes}, "its plan moved into repro", root=tmp_path)
    entry = json.loads((tmp_path / "cpu" / "manifest.json").read_text())["notebooks"]["50_trains"]
    assert entry["awaiting_rerun"] == {"reason": "its plan moved into repro", **hashes}
    assert manifest.awaiting_rerun(tmp_path / "cpu") == {"50_trains": "its plan moved into repro"}
    manifest.update_manifest(_run(4, 4, 50.0), tmp_path)  # the rerun
    assert manifest.awaiting_rerun(tmp_path / "cpu") == {}
