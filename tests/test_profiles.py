"""repro.profiles: the three run profiles."""

import pytest

from repro.errors import ConfigError
from repro.profiles import PROFILES, by_profile, check_profile


def test_profiles_pick_their_value():
    assert PROFILES == ("smoke", "cpu", "paper")
    assert [by_profile(p, smoke=1, cpu=2, paper=3) for p in PROFILES] == [1, 2, 3]


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown profile 'gpu'; choose one of smoke, cpu, paper"):
        check_profile("gpu")


def test_a_notebook_run_in_jupyter_writes_to_the_interactive_folder_not_the_committed_results(monkeypatch,
                                                                                             tmp_path):
    import sys
    import types

    from repro import paths

    monkeypatch.setattr(paths, "INTERACTIVE_RESULTS", tmp_path / "results-interactive")
    monkeypatch.delenv(paths.RESULTS_DIR_ENV, raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not paths.interactive_session() and paths.output_root() == paths.REPO_ROOT / "results"

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # inside a Jupyter kernel
    assert paths.interactive_session()
    assert paths.results_dir("cpu", "30_ms_gan_stacked_mnist") == tmp_path / "results-interactive" / "cpu" / \
        "30_ms_gan_stacked_mnist"
    assert paths.results_root() == paths.REPO_ROOT / "results"  # reading the committed results is unchanged

    monkeypatch.setenv(paths.RESULTS_DIR_ENV, str(tmp_path / "chosen"))  # the runner, or a user who chose
    assert not paths.interactive_session() and paths.results_dir("cpu", "x") == tmp_path / "chosen" / "cpu" / "x"


def test_every_notebook_says_where_it_writes():
    import nbformat

    from repro.notebook_runner import list_notebooks

    for path in list_notebooks():
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert "results-interactive/" in first.source and "REPRO_RESULTS_DIR" in first.source, path.name
