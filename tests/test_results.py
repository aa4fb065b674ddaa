"""repro.results: tables carry their protocol; figures are written as PNG."""

import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from repro.results import git_commit, markdown_table, run_protocol, save_figure, write_table  # noqa: E402


def test_table_rows_carry_protocol_columns(tmp_path):
    protocol = run_protocol("smoke", 3, n_fake=100)
    rows = [{"model": "dcgan", "fid": 12.3456789}, {"model": "ssgan", "fid": float("nan"), "note": "x"}]
    csv_path, md_path = write_table(rows, tmp_path, "fid", protocol, title="FID")
    with open(csv_path) as f:
        read = list(csv.DictReader(f))
    assert list(read[0])[:3] == ["model", "fid", "note"]
    assert {"profile", "seed", "n_fake", "git_commit", "torch"} <= set(read[0])
    assert read[1]["profile"] == "smoke" and read[1]["n_fake"] == "100"
    md = md_path.read_text()
    assert md.startswith("### FID") and "| dcgan | 12.35 |  |" in md and "| ssgan | n/a | x |" in md
    assert "- **seed**: 3" in md


def test_protocol_column_clash_is_refused(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        write_table([{"seed": 1}], tmp_path, "t", run_protocol("cpu", 0))
    with pytest.raises(ValueError, match="no rows"):
        write_table([], tmp_path, "t", {})


def test_protocol_rejects_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile"):
        run_protocol("fast", 0)


def test_git_commit_is_a_sha_or_unknown():
    sha = git_commit()
    assert sha == "unknown" or len(sha.split("+")[0]) == 40


def test_markdown_formats_numbers():
    assert "| 60,000 | 0.1235 |" in markdown_table([{"n": 60000, "x": 0.123456}])


def test_figure_is_saved_as_png(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = save_figure(fig, tmp_path, "line")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rewritten_results_do_not_make_the_commit_dirty(tmp_path, monkeypatch):
    import subprocess

    import repro.results as results_module

    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "results" / "t.csv").write_text("a\n")
    (repo / "code.py").write_text("x = 1\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "x"], check=True)
    monkeypatch.setattr(results_module, "REPO_ROOT", repo)
    (repo / "results" / "t.csv").write_text("b\n")
    assert not git_commit().endswith("+dirty")
    (repo / "code.py").write_text("x = 2\n")
    assert git_commit().endswith("+dirty")


def test_the_environment_record_says_whether_the_installed_versions_match_the_lock(tmp_path):
    import numpy

    from repro.results import environment_record

    (tmp_path / "requirements-lock.txt").write_text(f"# header\nnumpy=={numpy.__version__}\nnot-installed==1.0\n")
    record = environment_record(tmp_path)
    assert record["matches_lock"] is True and len(record["lock_sha256"]) == 16
    (tmp_path / "requirements-lock.txt").write_text("numpy==0.0.1\n")
    record = environment_record(tmp_path)
    assert record["matches_lock"] is False
    assert record["differs_from_lock"] == [f"numpy {numpy.__version__} (lock 0.0.1)"]
    assert environment_record(tmp_path / "nowhere")["lock_sha256"] is None
    if os.environ.get("REPRO_UNLOCKED") != "1":  # the tests run in the locked environment ensure_env.sh made
        assert environment_record()["differs_from_lock"] == []
