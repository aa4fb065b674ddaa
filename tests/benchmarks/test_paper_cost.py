"""benchmarks/paper_cost.py costs the plans the notebooks train (every paper module's ``plans``), no notebook JSON."""

from __future__ import annotations

import importlib.util

from repro.experiments import PAPERS
from repro.paths import REPO_ROOT

TRAINING_NOTEBOOKS = {"10_improved_gan_semisupervised_mnist", "11_improved_gan_semisupervised_cifar_svhn",
                      "12_improved_gan_cifar_ablation", "13_improved_gan_mnist_few_labels",
                      "14_improved_gan_mnist_200_labels", "20_am_gan", "30_ms_gan_stacked_mnist", "31_ms_gan_cifar",
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
    # models (both families) x sizes x seeds, and the λ_g ablation
    assert sum(len(p.configs) for p in plans["30_ms_gan_stacked_mnist"]) == 6 * 2 * 3 + 5
    assert sum(len(p.configs) for p in paper_cost.notebook_plans("smoke")["40_mmgan"]) == 10  # 3 x 2 + 4 ablation
    assert {plan.notebook for paper in PAPERS for plan in paper.plans("cpu")} == set(plans)


def test_costs_add_up_over_runs_and_the_estimate_takes_the_larger_bound():
    paper_cost = load_paper_cost()
    plans = paper_cost.notebook_plans("smoke")["30_ms_gan_stacked_mnist"]
    cost = paper_cost.notebook_cost("30_ms_gan_stacked_mnist", plans, tflops=100.0, launch_us=10.0)
    assert cost["runs"] == 7 and cost["iterations"] == 7 * 20  # 6 models (both families) + the λ_g ablation
    low, high = cost["calls_per_iteration"]
    assert 50 < low <= high  # an iteration launches hundreds of operators, not a handful
    assert cost["gflop_per_iteration"][0] > 0
    assert max(cost["compute_hours"], cost["launch_hours"]) <= cost["hours"] <= (
        cost["compute_hours"] + cost["launch_hours"])


def test_the_cpu_throughput_benchmark_always_measures_today_s_setting_beside_the_chosen_ones():
    spec = importlib.util.spec_from_file_location("cpu_throughput", REPO_ROOT / "benchmarks" / "cpu_throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    today = "loop, 2 x 1, NCHW"
    assert [module.label(s) for s in module.settings_for("stacked_mnist_k4", 2, ["bf16"])] == [
        today, "loop, 2 x 1, channels-last, bf16 autocast"]
    every = [module.label(s) for s in module.settings_for("ssl_mnist", 2)]
    assert today in every and "functional step, 4 seeds with vmap, 1 x 2" in every
    assert not any("channels-last" in label for label in every)  # MLPs: no layout to choose
