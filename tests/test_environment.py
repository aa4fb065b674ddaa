"""The project's set-up files agree with each other (pyproject.toml, environment.yml, .ci/run, README), and
scripts/ensure_env.sh accepts only an environment that runs this checkout's code and gives it the Jupyter kernel."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from repro.paths import REPO_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    (pip_section,) = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    listed = [r for r in pip_section["pip"] if not r.startswith("-e")]
    assert sorted(listed) == sorted(wanted), "environment.yml and pyproject.toml differ: update both"
    assert "-e .[dev]" in pip_section["pip"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = tuple(int(x) for x in project["requires-python"].removeprefix(">=").split("."))
    assert tuple(int(x) for x in python.removeprefix("python=").split(".")) >= minimum


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    assert "exec ./run_tests.sh" in ci and "REPRO_DATA_DIR" in ci
    assert "./run_tests.sh" in readme and "./run_all.sh" in readme


def test_ipywidgets_is_in_the_environment_so_tqdm_auto_draws_notebook_bars():
    # without it, tqdm.auto warns "IProgress not found" into every executed notebook that imports repro.train
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert "ipywidgets" in [_name(r) for r in project["dependencies"]]


# scripts/ensure_env.sh, driven against fake environments: bin/python runs the interpreter running these tests
# with a chosen folder first on its path, answers `-m pip` itself (so nothing can be installed into a real
# environment), and the stamp says that this pyproject.toml is installed, so the script skips its set-up.

KERNEL = Path("share", "jupyter", "kernels", "gan-repro", "kernel.json")


def installed_stamp() -> str:
    """What ensure_env.sh writes once it has installed this pyproject.toml under this requirements-lock.txt."""
    lock = REPO_ROOT / "requirements-lock.txt"
    data = (REPO_ROOT / "pyproject.toml").read_bytes() + (lock.read_bytes() if lock.exists() else b"")
    return hashlib.sha256(data).hexdigest()[:16] + ("-locked" if lock.exists() else "")


def _fake_environment(prefix: Path, imports_repro_from: Path, with_kernel: bool = True) -> Path:
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "-m pip" ]; then echo "pip (fake)"; exit 0; fi\n'
        f'PYTHONPATH={shlex.quote(str(imports_repro_from))} exec {shlex.quote(sys.executable)} "$@"\n'
    )
    python.chmod(0o755)
    (prefix / ".gan-repro-installed").write_text(installed_stamp() + "\n")
    if with_kernel:
        (prefix / KERNEL).parent.mkdir(parents=True)
        (prefix / KERNEL).write_text("{}")
    return prefix


def _source_ensure_env(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", 'source scripts/ensure_env.sh && echo "$REPRO_PY"'], cwd=REPO_ROOT,
                          env={**os.environ, "REPRO_VENV": str(venv)}, capture_output=True, text=True, timeout=120)


def test_ensure_env_refuses_an_environment_that_imports_another_checkouts_repro(tmp_path):
    other = tmp_path / "other-checkout"
    (other / "repro").mkdir(parents=True)
    (other / "repro" / "__init__.py").write_text("")
    venv = _fake_environment(tmp_path / "venv", imports_repro_from=other)

    done = _source_ensure_env(venv)
    assert done.returncode != 0 and done.stdout == ""
    assert os.path.realpath(other / "repro") in done.stderr and os.path.realpath(REPO_ROOT / "repro") in done.stderr
    assert "pip install -e" in done.stderr and "unset REPRO_VENV" in done.stderr  # the way out


def test_ensure_env_accepts_an_environment_that_imports_this_checkout(tmp_path):
    venv = _fake_environment(tmp_path / "venv", imports_repro_from=REPO_ROOT)
    done = _source_ensure_env(venv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(venv / "bin" / "python") and done.stderr == ""


def test_ensure_env_installs_the_gan_repro_kernel_into_the_environment_once(tmp_path):
    venv = _fake_environment(tmp_path / "venv", imports_repro_from=REPO_ROOT, with_kernel=False)
    assert _source_ensure_env(venv).returncode == 0
    kernel = json.loads((venv / KERNEL).read_text())
    assert kernel["display_name"] == "Python (gan-repro)" and "ipykernel_launcher" in kernel["argv"]
    installed = (venv / KERNEL).stat().st_mtime_ns
    assert _source_ensure_env(venv).returncode == 0
    assert (venv / KERNEL).stat().st_mtime_ns == installed  # present: not installed again
    readme = (REPO_ROOT / "README.md").read_text()
    assert "## Open the notebooks" in readme and kernel["display_name"] in readme


def test_the_lock_pins_every_declared_dependency_within_its_declared_range():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = {}
    for line in (REPO_ROOT / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements-lock.txt: {line!r} is not a name==version pin"
            pins[canonicalize_name(name)] = version.strip()
    for requirement in declared:
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is declared but not in requirements-lock.txt"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
    assert "gan-repro" not in pins and "gan_repro" not in pins  # the project itself is installed editable
