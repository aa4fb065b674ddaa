"""benchmarks/paper_cost.py reads every notebook's runs from its configuration cell: it must keep finding them."""

from __future__ import annotations

import importlib.util

from repro.paths import REPO_ROOT


def load_paper_cost():
    spec = importlib.util.spec_from_file_location("paper_cost", REPO_ROOT / "benchmarks" / "paper_cost.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_training_notebook_is_costed_from_its_own_configuration_cell():
    paper_cost = load_paper_cost()
    for notebook in paper_cost.NOTEBOOKS:
        runs = paper_cost.notebook_runs(notebook, "paper")
        assert runs, notebook
        assert not (REPO_ROOT / "results" / "paper").exists() or notebook not in {
            p.name for p in (REPO_ROOT / "results" / "paper").iterdir()}  # reading the cell creates no folder
    assert len(paper_cost.notebook_runs("10_improved_gan_semisupervised_mnist", "paper")) == 40  # 4 counts x 10 seeds
    assert len(paper_cost.notebook_runs("40_mmgan", "smoke")) == 10  # 3 models x 2 datasets + 4 ablation rows


def test_costs_add_up_over_runs_and_the_estimate_takes_the_larger_bound():
    paper_cost = load_paper_cost()
    cost = paper_cost.notebook_cost("30_ms_gan_stacked_mnist", "smoke", tflops=100.0, launch_us=10.0)
    assert cost["runs"] == 4 and cost["iterations"] == 4 * 20
    low, high = cost["calls_per_iteration"]
    assert 50 < low <= high  # an iteration launches hundreds of operators, not a handful
    assert cost["gflop_per_iteration"][0] > 0
    assert max(cost["compute_hours"], cost["launch_hours"]) <= cost["hours"] <= (
        cost["compute_hours"] + cost["launch_hours"])
