"""repro.experiments.improved_gan_mnist: one Table 1 run and its baseline, end to end on a toy MNIST mirror."""

from __future__ import annotations

import math

from repro.experiments import improved_gan_mnist as table1

from ..metrics.test_classifier import bar_digits


def test_a_run_resumes_and_rows_carry_errors_out_of_the_test_set(make_image_zip, tmp_path, isolated_cache):
    tree = {}
    for split, n, seed in (("train", 12, 0), ("test", 4, 1)):
        images, labels = bar_digits(n, seed)
        tree[split] = {str(k): [img[0] for img, lab in zip(images, labels, strict=True) if lab == k] for k in range(10)}
    make_image_zip(tree, "mnist-png.zip")
    config = table1.SSLMnistConfig(n_labeled=20, iterations=12, batch_size=10, init_batch=50,
                                   hidden_widths=(32, 16), generator_width=16)
    run_dir = tmp_path / table1.run_name(config)
    first = table1.run_semisupervised(config, run_dir, data_dir=tmp_path)
    again = table1.run_semisupervised(config, run_dir, data_dir=tmp_path)  # finished: re-evaluates only
    assert first["iterations"] == again["iterations"] == 12
    assert first["errors_average"] == again["errors_average"] and 0 <= first["errors_raw"] <= 40
    baseline = table1.run_supervised_baseline(config, data_dir=tmp_path)
    assert baseline["model"].startswith("supervised") and 0 <= baseline["errors_raw"] <= 40

    summary = table1.summarise([first, {**first, "seed": 1, "errors_average": first["errors_average"] + 2}],
                               "errors_average")
    assert summary[0]["seeds"] == 2 and summary[0]["paper_errors"] == "1677 ± 452"  # 20 labels in the paper
    assert math.isclose(summary[0]["errors_std"], math.sqrt(2))
    assert table1.run_name(config) != table1.run_name(table1.SSLMnistConfig(n_labeled=20, seed=1))
