"""repro.notebook_runner (behind ./run_all.sh): selection, logs, manifest, failures and timeouts."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import psutil
import pytest

from repro import notebook_runner as runner
from repro.errors import ConfigError


def write_notebook(folder: Path, name: str, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell('PROFILE = "cpu"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_selection_by_number_name_and_topic(tmp_path):
    notebooks = [tmp_path / f"{n}.ipynb" for n in ("00_datasets", "01_metrics_sanity", "31_ssgan_stacked")]
    for nb in notebooks:
        nb.touch()
    found = runner.list_notebooks(tmp_path)
    assert found == notebooks
    assert runner.select_notebooks([], found) == notebooks
    assert runner.select_notebooks(["1", "00"], found) == notebooks[:2]
    assert runner.select_notebooks(["ssgan_stacked", "01_metrics_sanity.ipynb"], found) == notebooks[1:]
    with pytest.raises(ConfigError, match="no notebook matches '42'; the notebooks are: 00_datasets"):
        runner.select_notebooks(["42"], found)


def test_run_all_reports_failures_and_keeps_going(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(results))
    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books, "10_fails", 'raise RuntimeError("boom in the notebook")')
    write_notebook(books, "20_sleeps", "import time; time.sleep(120)")
    write_notebook(books, "30_works", 'print("profile is", PROFILE, "workers", globals().get("WORKERS"))')

    code = runner.main(["--profile", "smoke", "--timeout", "20", "--notebook-dir", str(books)])
    assert code == 1
    leftovers = [p.cmdline() for p in psutil.Process().children(recursive=True)]
    assert not any("ipykernel" in " ".join(c) for c in leftovers), leftovers  # the timed-out kernel is gone
    err = capsys.readouterr().err
    assert "FAILED 10_fails (failed)" in err and "FAILED 20_sleeps (timeout)" in err
    assert "30_works" not in err

    manifest = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]
    assert {k: v["status"] for k, v in manifest.items()} == {
        "10_fails": "failed", "20_sleeps": "timeout", "30_works": "ok"
    }
    ok = manifest["30_works"]
    assert ok["parameters"] == {"PROFILE": "smoke"} and ok["profile"] == "smoke"
    assert len(ok["environment"]["lock_sha256"]) == 16  # which requirements-lock.txt it ran under
    assert len(ok["notebook_sha256"]) == 64 and ok["duration_s"] > 0
    assert "boom in the notebook" in Path(manifest["10_fails"]["log"]).read_text()
    assert "profile is smoke" in Path(ok["log"]).read_text()
    executed = nbformat.read(results / "smoke" / "30_works" / "30_works.ipynb", as_version=4)
    assert "profile is smoke" in executed.cells[-1].outputs[0]["text"]

    # re-running one notebook replaces its entry and leaves the others alone
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books), "30"]) == 0
    again = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]
    assert set(again) == set(manifest) and again["30_works"]["start_utc"] >= ok["start_utc"]

    # --workers reaches the notebook as its WORKERS parameter and is recorded
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books), "--workers", "3", "30"]) == 0
    entry = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]["30_works"]
    assert entry["parameters"] == {"PROFILE": "smoke", "WORKERS": 3}
    assert "workers 3" in Path(entry["log"]).read_text()


def test_bad_profile_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--profile", "fast"])
    assert exit_info.value.code == 2
    assert "unknown profile 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--workers", "0"])
    assert exit_info.value.code == 2 and "--workers must be at least 1" in capsys.readouterr().err


def test_a_notebook_can_declare_a_longer_limit_for_a_profile(tmp_path):
    path = write_notebook(tmp_path, "10_long", "pass")
    assert runner.default_timeout(path, "cpu") == runner.DEFAULT_TIMEOUTS["cpu"]
    nb = nbformat.read(path, as_version=4)
    nb.metadata["repro"] = {"timeouts": {"cpu": 9000}}
    nbformat.write(nb, path)
    assert runner.default_timeout(path, "cpu") == 9000
    assert runner.default_timeout(path, "smoke") == runner.DEFAULT_TIMEOUTS["smoke"]


def test_declared_outputs_follow_the_conditions(tmp_path):
    path = write_notebook(tmp_path, "30_declares", "pass")
    nb = nbformat.read(path, as_version=4)
    nb.metadata["repro"] = {
        "tables": ["runs", "curves", "inception_fid"], "figures": ["curves", "samples_svhn"],
        "conditional": {"curves": {"profiles": ["cpu", "paper"]}, "inception_fid": {"needs": ["inception_weights"]},
                        "samples_svhn": {"profiles": ["cpu"], "needs": ["svhn"]}}}
    nbformat.write(nb, path)
    always = {"30_declares.ipynb", "runs.csv", "runs.md"}
    inception = {"inception_fid.csv", "inception_fid.md"}
    assert runner.declared_outputs(path, "smoke", lambda need: True) == (always | inception, set())
    assert runner.declared_outputs(path, "smoke", lambda need: False) == (always, set())
    curves = {"curves.csv", "curves.md", "curves.png"}
    # requirements it cannot tell: they may be there
    assert runner.declared_outputs(path, "cpu") == (always | curves, inception | {"samples_svhn.png"})
    at_paper = runner.declared_outputs(path, "paper", {"svhn": True}.get)  # samples_svhn is a cpu-only figure
    assert at_paper == (always | curves, inception)

    nb.metadata["repro"]["conditional"] = {"learning_curves": {"profiles": ["cpu"]}}
    nbformat.write(nb, path)
    with pytest.raises(ConfigError, match="'learning_curves'.*must name a declared table or figure"):
        runner.declared_outputs(path, "cpu")
    nb.metadata["repro"]["conditional"] = {"curves": {"profile": ["cpu"]}}
    nbformat.write(nb, path)
    with pytest.raises(ConfigError, match="say only profiles and needs"):
        runner.declared_outputs(path, "cpu")


def test_the_manifest_counts_run_folders_found_before_the_notebook_started(tmp_path):
    runs = tmp_path / "runs"
    body = ("import os\nfrom pathlib import Path\n"  # the notebook trains under the runs folder it is given
            "for run in ('a', 'b'):\n"
            "    folder = Path(os.environ['REPRO_RUNS_DIR']) / '50_trains' / PROFILE / 'kind' / run\n"
            "    folder.mkdir(parents=True, exist_ok=True)\n"
            "    (folder / ('config.json' if run == 'a' else 'result.json')).write_text('{}')\n")
    notebook = write_notebook(tmp_path, "50_trains", body)
    (runs / "50_trains" / "smoke" / "stray").mkdir(parents=True)  # a folder without a run marker is no run
    first = runner.run_notebook(notebook, "smoke", root=tmp_path / "results", runs_dir=runs)
    assert first.status == "ok" and (first.runs_found, first.runs_total) == (0, 2)
    kept_score = runs / "50_trains" / "smoke" / "kind" / "a" / "scores-x"  # a score kept inside run a is run a
    kept_score.mkdir()
    (kept_score / "result.json").write_text("{}")
    (runs / "50_trains" / "cpu" / "other").mkdir(parents=True)
    (runs / "50_trains" / "cpu" / "other" / "config.json").write_text("{}")  # another profile's run
    again = runner.run_notebook(notebook, "smoke", root=tmp_path / "results", runs_dir=runs)
    assert (again.runs_found, again.runs_total) == (2, 2)


@pytest.mark.parametrize(("commit", "profile", "warned"), [
    ("abc+dirty", "cpu", True), ("abc", "cpu", False), ("abc+dirty", "smoke", False)])
def test_a_results_run_from_uncommitted_code_is_warned_about(tmp_path, monkeypatch, capsys, commit, profile, warned):
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(runner, "git_commit", lambda: commit)
    monkeypatch.setattr(runner, "run_notebook", lambda notebook, profile, **kwargs: runner.NotebookRun(
        notebook.stem, profile, {}, "ok", "2026-12-03T00:00:00+00:00", 1.0, commit, "0" * 64, "1" * 64, "x", "y",
        "3", 0, 0))
    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books, "30_works", "pass")
    assert runner.main(["--profile", profile, "--notebook-dir", str(books)]) == 0
    assert ("uncommitted changes" in capsys.readouterr().err) == warned


def test_relative_data_folders_are_made_absolute_against_where_run_all_was_called(tmp_path, monkeypatch):
    # papermill runs a notebook in notebooks/: a relative REPRO_DATA_DIR or --data-dir would point elsewhere there
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_INVOKED_FROM", str(tmp_path))
    monkeypatch.setenv("REPRO_DATA_DIR", "mirrors")
    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books, "10_data", 'import os; print("env", os.environ["REPRO_DATA_DIR"], "param", DATA_DIR)')
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books), "--data-dir", "../elsewhere"]) == 0
    log = (tmp_path / "results" / "smoke" / "logs" / "10_data.log").read_text()
    assert f"env {tmp_path / 'mirrors'} param {tmp_path.parent / 'elsewhere'}" in log
    assert runner.absolute_path("~/x", "/base") == str(Path("~/x").expanduser().resolve())


def test_a_failed_or_timed_out_run_keeps_the_last_good_results(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(results))
    books = tmp_path / "notebooks"
    books.mkdir()
    writes = ("from repro.paths import results_dir\n"
              "out = results_dir(PROFILE, '10_flaky')\n"
              "(out / 'table.csv').write_text('{}')\n"
              "(out.parent / 'SUMMARY.md').write_text('{}')\n")
    write_notebook(books, "10_flaky", writes.format("good", "good summary"))
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books)]) == 0
    folder = results / "smoke" / "10_flaky"
    good = {p.name: p.read_bytes() for p in folder.iterdir()}
    good_log = (results / "smoke" / "logs" / "10_flaky.log").read_text()
    good_entry = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]["10_flaky"]

    # half-way through, the notebook has overwritten its table and the summary; then it fails
    write_notebook(books, "10_flaky", writes.format("partial", "partial summary")
                   + "(out / 'new.png').write_text('x')\nraise ValueError('the data folder is empty')")
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books)]) == 1
    err = capsys.readouterr().err
    assert "FAILED 10_flaky (failed); the previous results are kept" in err
    assert "ValueError: the data folder is empty" in err  # the cause, not only the log's path
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == good
    assert (results / "smoke" / "SUMMARY.md").read_text() == "good summary"
    assert (results / "smoke" / "logs" / "10_flaky.log").read_text() == good_log
    assert "the data folder is empty" in (results / "smoke" / "logs" / "10_flaky.failed.log").read_text()
    assert (results / "smoke" / "logs" / "10_flaky.failed.ipynb").exists()
    entry = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]["10_flaky"]
    assert {k: v for k, v in entry.items() if k != "last_failure"} == good_entry
    assert entry["last_failure"]["status"] == "failed"
    assert entry["last_failure"]["log"].endswith("10_flaky.failed.log")

    # a timeout is a failure too; and a good run afterwards replaces the entry, failure note and all
    write_notebook(books, "10_flaky", writes.format("late", "late summary") + "import time; time.sleep(60)")
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books), "--timeout", "15"]) == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == good
    (folder / "stale.csv").write_text("an output of an earlier plan")
    (folder / "inception.csv").write_text("written where the Inception weights were supplied")
    nb = nbformat.read(books / "10_flaky.ipynb", as_version=4)
    nb.cells[1].source = writes.format("better", "better summary")
    nb.metadata["repro"] = {"tables": ["table", "inception"], "conditional": {"inception": {"needs": ["x"]}}}
    nbformat.write(nb, books / "10_flaky.ipynb")
    assert runner.main(["--profile", "smoke", "--notebook-dir", str(books)]) == 0
    entry = json.loads((results / "smoke" / "manifest.json").read_text())["notebooks"]["10_flaky"]
    assert "last_failure" not in entry and (folder / "table.csv").read_text() == "better"
    assert not (folder / "stale.csv").exists()  # what the notebook no longer declares goes with a good run
    assert (folder / "inception.csv").exists()  # what it writes only where a requirement holds stays


@pytest.mark.parametrize("timeout", ["-1", "nan", "0", "inf", "soon"])
def test_a_timeout_must_be_a_positive_finite_number_of_seconds(timeout, capsys):
    with pytest.raises(SystemExit):
        runner.main(["--profile", "smoke", "--timeout", timeout, "--list"])
    assert "not a positive number of seconds (or 'none' for no limit)" in capsys.readouterr().err
    assert runner.parse_timeout("none") == 0 and runner.parse_timeout("90") == 90
