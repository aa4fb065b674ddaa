"""repro.score: scoring a folder of images, an .npz and a run_gan run folder against a toy "mnist" mirror with the
pinned MNIST classifier; one error line for each bad input; and, with the real mirror, real digits score well."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from repro import run_gan, score
from repro.data import KNOWN_DATASETS
from repro.metrics import inception
from repro.metrics.classifier import pinned_manifest

from .conftest import random_tree

DIGITS = tuple("0123456789")


@pytest.fixture
def toy_mnist(make_image_zip, tmp_path, isolated_cache) -> Path:
    """A data directory whose mnist-png.zip holds 3 random 28x28 grey images per digit in train, 1 in test."""
    make_image_zip(random_tree(0, {"train": 3, "test": 1}, classes=DIGITS, shape=(28, 28)), "mnist-png.zip",
                   folder=tmp_path / "data")
    return tmp_path / "data"


def fake_digits(n: int, seed: int = 1) -> np.ndarray:
    """n random grey images, uint8 (n, 28, 28)."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def write_pngs(folder: Path, images: np.ndarray) -> Path:
    """Each image as a PNG, spread over nested folders (the order is the natural order of the paths)."""
    for i, image in enumerate(images):
        path = folder / f"part{i // 10}" / "deeper" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
    return folder


def run_score(capsys, *argv: str | Path) -> tuple[dict, str]:
    """``repro.score.main(argv)`` with ``--json``: the record it wrote and what it printed."""
    record_path = Path(str(argv[0]) + ".score.json")
    score.main([str(a) for a in argv] + ["--json", str(record_path)])
    return json.loads(record_path.read_text()), capsys.readouterr().out


def test_folder_and_npz_of_the_same_images_score_the_same(toy_mnist, tmp_path, capsys):
    images = fake_digits(20)
    folder = write_pngs(tmp_path / "fakes", images)
    from_folder, printed = run_score(capsys, folder, "--dataset", "mnist", "--data-dir", toy_mnist)
    for name, layout in (("nhwc", images[..., None]), ("nchw", images[:, None]), ("nhw", images)):
        np.savez(tmp_path / f"{name}.npz", labels=np.zeros(20, np.int64), pixels=layout)
        from_npz, _ = run_score(capsys, tmp_path / f"{name}.npz", "--dataset", "mnist", "--data-dir", toy_mnist)
        assert from_npz["npz_key"] == "pixels"  # the first uint8 image array
        for key in ("is_mean", "fid", "kid_mean", "am_score"):
            assert from_npz[key] == pytest.approx(from_folder[key]), key
    assert from_folder["source_kind"] == "images" and from_folder["n_fake"] == 20
    assert from_folder["n_real"] == 30 and from_folder["ref_split"] == "mnist/train"
    assert from_folder["extractor"].startswith("mnist-convnet-")
    assert from_folder["weights_sha256"] == pinned_manifest()["mnist"]["sha256"]
    assert from_folder["quantisation"] == score.GIVEN_IMAGES and from_folder["seed"] is None
    for field in ("git_commit", "torch", "ref_source", "created_utc", "is_std", "kid_std", "am_entropy"):
        assert from_folder[field] not in (None, ""), field
    assert "  FID " in printed and "weights_sha256" in printed and "wrote " in printed


def test_n_takes_the_first_images_and_the_test_split_is_a_reference(toy_mnist, tmp_path, capsys):
    np.savez(tmp_path / "fakes.npz", images=fake_digits(30))
    record, _ = run_score(capsys, tmp_path / "fakes.npz", "--dataset", "mnist", "--data-dir", toy_mnist, "--n", "12",
                          "--split", "test", "--n-real", "10")
    assert record["n_fake"] == 12 and record["n_real"] == 10 and record["ref_split"] == "mnist/test"
    assert record["am_marginal"] == "mnist/train" and record["real_subset_seed"] == 0


def test_a_run_gan_run_folder_is_rebuilt_sampled_and_scored(toy_mnist, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_gan.main(["--dataset", "mnist", "--net", "dcgan28", "--net-arg", "width=4", "--steps", "2", "--batch-size",
                  "10", "--ema-decay", "0.5", "--no-progress", "--data-dir", str(toy_mnist), "--run-dir", str(run_dir)])
    capsys.readouterr()
    argv = [run_dir, "--dataset", "mnist", "--data-dir", toy_mnist, "--n", "20", "--seed", "3"]
    record, printed = run_score(capsys, *argv)
    assert record["source_kind"] == "run" and record["n_fake"] == 20 and record["seed"] == 3
    assert record["network"] == {"name": "dcgan28", "args": {"width": 4}}
    assert record["checkpoint_step"] == 2 and record["generator_weights"] == "ema"  # what the run samples with
    assert record["bn_mode"] == "eval" and record["quantisation"].startswith("uint8 = clamp(floor(127.5")
    assert np.isfinite([record["is_mean"], record["fid"], record["kid_mean"], record["am_score"]]).all()
    again, _ = run_score(capsys, *argv)  # the same seed, the same samples
    assert again["fid"] == record["fid"] and again["is_mean"] == record["is_mean"]
    other, _ = run_score(capsys, *argv[:-1], "4")
    assert other["fid"] != record["fid"]


def pngs(n: int, shape: tuple[int, ...] = (28, 28)):
    return lambda tmp: write_pngs(tmp / "fakes", np.zeros((n, *shape), np.uint8))


def npz(**arrays: np.ndarray):
    def make(tmp: Path) -> Path:
        np.savez(tmp / "x.npz", **arrays)
        return tmp / "x.npz"

    return make


def file(name: str, text: str = ""):
    def make(tmp: Path) -> Path:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
        return tmp / name

    return make


def empty_folder(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def run_folder(config: dict, checkpoint: bool):
    def make(tmp: Path) -> Path:
        file("run/config.json", json.dumps(config))(tmp)
        if checkpoint:
            (tmp / "run" / "checkpoint.pt").write_bytes(b"")
        return tmp / "run"

    return make


BAD_INPUTS = {  # name: (how to make the source in tmp_path, extra arguments, the error line)
    "missing path": (lambda tmp: tmp / "nowhere", [], r"error: source: .*nowhere does not exist"),
    "unknown dataset": (pngs(12), ["--dataset", "nosuch"],
                        r"error: --dataset: unknown dataset 'nosuch': known datasets are mnist"),
    "wrong shape": (pngs(12, (32, 32, 3)), [],
                    r"error: the images in .* are \(3, 32, 32\) \(C, H, W\), but the dataset's are \(1, 28, 28\)"),
    "empty folder": (empty_folder, [], r"error: .*empty holds no image files"),
    "too few images": (pngs(5), [], r"gives 5 images: score at least 10"),
    "more than there are": (pngs(12), ["--n", "50"], r"error: --n 50 but .*fakes holds 12 images"),
    "too few asked for": (pngs(12), ["--n", "3"], r"error: --n 3: score at least 10 images"),
    "npz of floats": (npz(x=np.zeros((12, 28, 28), np.float32)), [],
                      r"error: .*x.npz holds no uint8 image array \(x float32 \(12, 28, 28\)\)"),
    "npz key": (npz(x=fake_digits(12)), ["--key", "images"],
                r"error: .*x.npz has no array 'images' \(x uint8 \(12, 28, 28\)\)"),
    "npz shape": (npz(x=np.zeros((12, 3, 28, 28), np.uint8)), [],
                  r"array 'x' has shape \(12, 3, 28, 28\), but the dataset's images are \(1, 28, 28\)"),
    "not a source": (file("x.txt"), [], r"x.txt is a .txt file: give a folder of images, an .npz"),
    "run without checkpoint": (run_folder({}, checkpoint=False), [],
                               r"error: the run folder .* has no checkpoint.pt: train it first"),
    "run without network": (run_folder({"method": {"method": "am_gan"}}, checkpoint=True), [],
                            r"config.json records no network \(method.network\)"),
    "no classifier": (pngs(12), ["--dataset", "cifar100"],
                      r"error: --extractor classifier: no classifier recipe for dataset 'cifar100'"),
    "no inception weights": (pngs(12), ["--dataset", "cifar10", "--extractor", "inception", "--inception-weights",
                                        "/nonexistent.pth"],
                             r"--extractor inception: Inception weights not found at '/nonexistent.pth'"),
    "inception on grey images": (pngs(12), ["--extractor", "inception", "--inception-weights", __file__],
                                 r"--extractor inception takes RGB images, but mnist is grey"),
    "too many real images": (pngs(12), ["--n-real", "500"], r"error: n=500 but mnist/train has 30 images"),
    "bad device": (pngs(12), ["--device", "gpu"], r"error: --device: device 'gpu' is not a device name torch knows"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line(toy_mnist, tmp_path, capsys, case):
    make, extra, message = BAD_INPUTS[case]
    source = make(tmp_path)
    dataset = extra[extra.index("--dataset") + 1] if "--dataset" in extra else "mnist"
    # the data folder holds the mirror of a known dataset (never read here), so that only the case's own error is
    # left: a named folder without the mirror is an error of its own
    if dataset in KNOWN_DATASETS and dataset != "mnist":
        (toy_mnist / f"{dataset}.zip").touch()
    with pytest.raises(SystemExit) as refused:
        score.main([str(source), "--dataset", "mnist", "--data-dir", str(toy_mnist), *extra])
    assert refused.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m repro.score: error: "), lines
    assert re.search(message, lines[0]), lines[0]


def test_the_command_exits_2_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "repro.score", str(tmp_path / "nowhere"), "--dataset", "mnist"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"python -m repro.score: error: source: {tmp_path / 'nowhere'} does not exist"


@pytest.mark.real_data
def test_real_test_digits_score_like_real_digits(real_data_dir, real_dataset, tmp_path, capsys):
    """300 real MNIST test digits against 2,000 train digits: near the real-data row of notebook 01 (IS 5.9 over
    60,000 train digits under this classifier, whose label smoothing keeps IS well below 10)."""
    test = real_dataset("mnist", "test")
    chosen = np.random.default_rng(0).choice(len(test), size=300, replace=False)  # the split is ordered by class
    np.savez(tmp_path / "digits.npz", images=test.images[chosen].transpose(0, 2, 3, 1))  # as (N, H, W, C)
    record, _ = run_score(capsys, tmp_path / "digits.npz", "--dataset", "mnist", "--data-dir", real_data_dir,
                          "--n-real", "2000")
    assert record["is_mean"] > 4.5  # 30 images per split cap it near 5; random noise scores about 1
    assert record["fid"] < 2 and record["am_score"] < 0.7
    assert record["ref_source"].startswith("mirror:mnist-png.zip@")


class StubInception:
    """Stands in for Inception v3 (tests/metrics/test_inception.py loads the real network): the outputs of a fixed
    random projection of the pixels, so that the scoring path is tested in seconds."""

    name = "inception-v3-compat"
    weights_sha256 = "stub"

    def __call__(self, images):
        pixels = torch.as_tensor(images).flatten(1).float() / 255
        projection = torch.randn(pixels.shape[1], 1008 + 16, generator=torch.Generator().manual_seed(0))
        outputs = pixels @ projection / pixels.shape[1] ** 0.5
        return outputs[:, :1008], outputs[:, 1008:]


def test_inception_is_loaded_only_from_the_file_given_and_checked(make_image_zip, tmp_path, isolated_cache,
                                                                  monkeypatch, capsys):
    make_image_zip(random_tree(0, {"train": 4}, shape=(32, 32, 3)), "toy32.zip", folder=tmp_path / "data")
    np.savez(tmp_path / "fakes.npz", images=np.random.default_rng(1).integers(0, 256, (10, 32, 32, 3), np.uint8))
    weights = tmp_path / inception.WEIGHTS_FILE_NAMES[0]
    weights.write_bytes(b"not the TF-2015-12-05 weights")
    argv = [tmp_path / "fakes.npz", "--dataset", "toy32", "--data-dir", tmp_path / "data", "--extractor", "inception",
            "--inception-weights", weights]
    with pytest.raises(SystemExit):  # the file's SHA-256 is checked
        score.main([str(a) for a in argv])
    error = capsys.readouterr().err.strip()
    assert error.startswith("python -m repro.score: error: ") and "\n" not in error
    assert "not the expected 6726825d" in error
    loaded = []
    monkeypatch.setattr(score, "load_inception", lambda path, device: loaded.append((path, device)) or StubInception())
    record, _ = run_score(capsys, *argv)
    assert [path for path, _ in loaded] == [str(weights)]  # the file given, nothing else
    assert record["extractor"] == "inception-v3-compat" and record["weights_sha256"] == "stub"
    assert record["n_fake"] == 10 and record["n_real"] == 12 and np.isfinite(record["fid"])
