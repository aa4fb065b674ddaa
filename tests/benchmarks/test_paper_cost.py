"""benchmarks/paper_cost.py costs the plans the notebooks train (every paper module's ``plans``), no notebook JSON."""

from __future__ import annotations

import importlib.util

from repro.experiments import PAPERS
from repro.paths import REPO_ROOT

TRAINING_NOTEBOOKS = {"10_improved_gan_semisupervised_mnist", "11_improved_gan_semisupervised_cifar_svhn",
                      "12_improved_gan_cifar_ablation", "20_am_gan", "30_ms_gan_stacked_mnist", "31_ms_gan_cifar",
                      "40_mmgan"}


def load_paper_cost():
    spec = importlib.util.spec_from_file_location("paper_cost", REPO_ROOT / "benchmarks" / "paper_cost.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_training_notebook_is_costed_from_its_papers_plans():
    paper_cost = load_paper_cost()
    plans = paper_cost.notebook_plans("paper")
    assert TRAINING_NOTEBOOKS <= set(plans)
    assert all(plan.configs for notebook in TRAINING_NOTEBOOKS for plan in plans[notebook])
    assert sum(len(p.configs) for p in plans["30_ms_gan_stacked_mnist"]) == 3 * 2 * 3 + 5  # models x sizes x seeds
    assert sum(len(p.configs) for p in paper_cost.notebook_plans("smoke")["40_mmgan"]) == 10  # 3 x 2 + 4 ablation
    assert {plan.notebook for paper in PAPERS for plan in paper.plans("cpu")} == set(plans)


def test_costs_add_up_over_runs_and_the_estimate_takes_the_larger_bound():
    paper_cost = load_paper_cost()
    plans = paper_cost.notebook_plans("smoke")["30_ms_gan_stacked_mnist"]
    cost = paper_cost.notebook_cost("30_ms_gan_stacked_mnist", plans, tflops=100.0, launch_us=10.0)
    assert cost["runs"] == 4 and cost["iterations"] == 4 * 20
    low, high = cost["calls_per_iteration"]
    assert 50 < low <= high  # an iteration launches hundreds of operators, not a handful
    assert cost["gflop_per_iteration"][0] > 0
    assert max(cost["compute_hours"], cost["launch_hours"]) <= cost["hours"] <= (
        cost["compute_hours"] + cost["launch_hours"])
