"""The project's set-up files agree with each other: pyproject.toml, environment.yml, .ci/run, README."""

from __future__ import annotations

import re
import tomllib

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
