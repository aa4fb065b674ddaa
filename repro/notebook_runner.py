"""Run the numbered notebooks headless with papermill and record each run in a manifest.

``./run_all.sh`` is a thin wrapper around ``python -m repro.notebook_runner``. For each selected notebook:

* the executed copy goes to ``results/<profile>/<notebook>/<notebook>.ipynb`` beside its tables and figures;
* papermill's output goes to ``results/<profile>/logs/<notebook>.log``;
* ``results/<profile>/manifest.json`` gets (or replaces) the notebook's entry: profile, parameters, git
  commit, notebook hash, start, duration, status, and how many of the notebook's run folders
  (``runs/<notebook>/<profile>/``) were there before it started: a rerun that finds finished runs only
  re-evaluates them, so its duration is not a first run's.

A notebook that fails or runs past the timeout is reported with the last lines of its error and its log path,
and the others still run; the exit status is non-zero if any failed. A failed run never replaces good results: what
the notebook may rewrite (its results folder, its log, the summary files at the profile's top level) is copied
aside before it starts and put back when it fails, its failed log and executed copy are kept as
``logs/<notebook>.failed.log`` / ``.failed.ipynb``, and the manifest keeps the last good entry with the failure
beside it (``last_failure``). A good run replaces the notebook's files and its manifest entry, and removes what
the notebook no longer declares (a table an earlier plan wrote), so re-running is idempotent.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from .errors import ConfigError
from .files import file_sha256
from .manifest import NotebookRun, mark_awaiting_rerun, update_manifest
from .paths import DATA_DIR_ENV, REPO_ROOT, RESULTS_DIR_ENV, RUNS_DIR_ENV, results_root, runs_root
from .profiles import DEFAULT_PROFILE, PROFILES, check_profile
from .results import environment_record, git_commit

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
# Per-notebook wall-clock limits in seconds (0 = none); a notebook may raise its own in its metadata
# (``metadata.repro.timeouts``, e.g. {"cpu": 9000} for a long CPU run); --timeout overrides both.
DEFAULT_TIMEOUTS = {"smoke": 600, "cpu": 3600, "paper": 0}


def default_timeout(notebook: Path, profile: str) -> float:
    """The notebook's own limit for ``profile`` when it declares one, else the profile's default."""
    import nbformat

    declared = nbformat.read(notebook, as_version=4).metadata.get("repro", {}).get("timeouts", {})
    return float(declared.get(profile, DEFAULT_TIMEOUTS[profile]))


def notebook_code_sha256(notebook: Path | str | dict[str, Any]) -> str:
    """SHA-256 of what a notebook computes: its code cells' sources and its ``metadata.repro`` (declared tables,
    figures, datasets, timeouts). Narrative (markdown) and outputs do not count, so fixing a typo in the prose
    leaves committed results fresh, while any change to code or to what it declares makes them stale."""
    import nbformat

    nb = notebook if isinstance(notebook, dict) else nbformat.read(notebook, as_version=4)
    code = [cell["source"] for cell in nb["cells"] if cell["cell_type"] == "code"]
    declared = nb["metadata"].get("repro", {})
    return hashlib.sha256(json.dumps([code, declared], sort_keys=True).encode()).hexdigest()


OUTPUT_CONDITIONS = ("profiles", "needs")


def declared_outputs(notebook: Path | str, profile: str,
                     met: Callable[[str], bool | None] = lambda need: None) -> tuple[set[str], set[str]]:
    """The files a notebook declares it writes into its results folder at ``profile``, from its
    ``metadata.repro``: its executed copy, ``<table>.csv`` and ``<table>.md`` per name in ``tables``, and
    ``<figure>.png`` per name in ``figures``.

    ``conditional`` maps some of those names to when they are written: ``profiles`` (only at those profiles) and
    ``needs`` (only where each requirement holds: a dataset's offline mirror, or ``inception_weights``), which
    ``met`` judges: True, False, or None where it cannot tell (the default, e.g. for a run on another machine).

    Returns (the files the run writes, the files it may write besides: those whose requirements ``met`` cannot
    tell). A condition on a name that is not declared, or of an unknown kind, is a :class:`ConfigError`."""
    import nbformat

    name = Path(notebook).stem
    declared = nbformat.read(notebook, as_version=4).metadata.get("repro", {})
    files: dict[str, list[str]] = {output: [f"{output}.csv", f"{output}.md"] for output in declared.get("tables", [])}
    for output in declared.get("figures", []):
        files.setdefault(output, []).append(f"{output}.png")
    conditions = declared.get("conditional", {})
    for output, condition in conditions.items():
        if output not in files or set(condition) - set(OUTPUT_CONDITIONS):
            raise ConfigError(f"{name}: metadata.repro.conditional has {output!r}: {dict(condition)}; it must name a "
                              f"declared table or figure ({', '.join(files) or 'none'}) and say only "
                              f"{' and '.join(OUTPUT_CONDITIONS)}")
    written, maybe = {f"{name}.ipynb"}, set()
    for output, paths in files.items():
        condition = conditions.get(output, {})
        if profile not in condition.get("profiles", [profile]):
            continue
        needs = [met(need) for need in condition.get("needs", [])]
        if all(needs):
            written.update(paths)
        elif False not in needs:
            maybe.update(paths)
    return written, maybe


def remove_undeclared(notebook: Path, profile: str, folder: Path) -> list[str]:
    """After a good run: delete what ``folder`` holds that the notebook does not declare at ``profile``
    (:func:`declared_outputs`), such as a table an earlier plan wrote, so that it does not outlive the run that
    replaced it; an output written only where a requirement holds (the Inception weights) stays. Returns the names."""
    written, maybe = declared_outputs(notebook, profile)
    stale = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in written | maybe)
    for name in stale:
        (folder / name).unlink()
    return stale


def notebook_plan_sha256(notebook: str, profile: str) -> str | None:
    """The digest of the plans the notebook trains (:func:`repro.experiments.plan_sha256`), or None when it has
    none: with the code hash, what decides whether committed results are fresh, since a training notebook's plan
    lives in ``repro`` rather than in its cells."""
    from .experiments import plan_sha256

    return plan_sha256(notebook, profile)


def run_folders(notebook: str, profile: str, runs_dir: Path | None = None) -> set[Path]:
    """The notebook's runs for ``profile``: the folders under ``runs_dir/<notebook>/<profile>/`` holding a
    training run's ``config.json``, and those holding a kept ``result.json`` of a run without a loop of its own
    (a baseline); a score kept inside a training run's folder is part of that run, not another."""
    base = (runs_dir or runs_root()) / notebook / profile
    trained = {marker.parent for marker in base.rglob("config.json")}
    kept = {marker.parent for marker in base.rglob("result.json")}
    return trained | {folder for folder in kept if not any(parent in trained for parent in folder.parents)}


def list_notebooks(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``), in number order."""
    return sorted(p for p in notebook_dir.glob("[0-9][0-9]_*.ipynb"))


def select_notebooks(selectors: list[str], notebooks: list[Path]) -> list[Path]:
    """Notebooks matching any selector: its number (``00``), full name (``00_datasets``) or topic (``datasets``).

    No selectors selects every notebook. A selector that matches nothing is an error listing the notebooks.
    """
    if not selectors:
        return notebooks
    chosen: list[Path] = []
    for selector in selectors:
        key = Path(selector).stem
        matches = [
            nb for nb in notebooks
            if key in (nb.stem, nb.stem[:2], nb.stem[3:]) or (key.isdigit() and nb.stem[:2] == key.zfill(2))
        ]
        if not matches:
            known = ", ".join(nb.stem for nb in notebooks) or "none"
            raise ConfigError(f"no notebook matches {selector!r}; the notebooks are: {known}")
        chosen.extend(nb for nb in matches if nb not in chosen)
    return sorted(chosen)


def terminate_tree(pid: int, grace_s: float = 20) -> None:
    """Stop a process and all its descendants: papermill, its kernel (which jupyter starts in a session of its
    own, out of reach of a process-group kill) and whatever the kernel started."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    processes = [*parent.children(recursive=True), parent]
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace_s)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def absolute_path(path: str, base: str | os.PathLike | None = None) -> str:
    """``path`` made absolute against ``base`` (default: ``$REPRO_INVOKED_FROM``, the folder ``run_all.sh`` was
    called from, else the current directory), with ``~`` expanded."""
    base = base or os.environ.get("REPRO_INVOKED_FROM") or os.getcwd()
    return str((Path(base) / Path(path).expanduser()).resolve())


def parse_timeout(text: str) -> float:
    """``--timeout``: seconds, a positive finite number, or ``none`` for no limit (stored as 0)."""
    if text.strip().lower() == "none":
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds (or 'none' for no limit)")
    return seconds


class PreviousOutputs:
    """What a notebook's run may replace under ``root/profile`` (its results folder, its log, the files at the
    profile's top level such as SUMMARY.md; not the manifest, which is updated on its own), copied aside before the
    run, so that a failed run can put the last good outputs back (:meth:`restore`) instead of leaving partial ones."""

    def __init__(self, root: Path, profile: str, name: str) -> None:
        self.profile_dir = root / profile
        self.folder = self.profile_dir / name
        self.log = self.profile_dir / "logs" / f"{name}.log"
        self.backup = Path(tempfile.mkdtemp(prefix=f"gan-repro-{name}-previous-"))
        if self.folder.is_dir():
            shutil.copytree(self.folder, self.backup / "folder")
        if self.log.exists():
            shutil.copy2(self.log, self.backup / "log")
        (self.backup / "top").mkdir()
        for path in self._top_files():
            shutil.copy2(path, self.backup / "top" / path.name)

    def _top_files(self) -> list[Path]:
        if not self.profile_dir.is_dir():
            return []
        return [p for p in self.profile_dir.iterdir() if p.is_file() and p.name != "manifest.json"]

    def restore(self, executed: Path) -> tuple[Path, Path | None]:
        """Keep the failed run's log and executed notebook as ``logs/<name>.failed.*``, put the previous outputs
        back, and return where the failed log and notebook went."""
        failed_log = self.log.with_name(f"{self.folder.name}.failed.log")
        failed_notebook = None
        if self.log.exists():
            self.log.replace(failed_log)
        if executed.exists():
            failed_notebook = self.log.with_name(f"{self.folder.name}.failed.ipynb")
            executed.replace(failed_notebook)
        shutil.rmtree(self.folder, ignore_errors=True)
        if (self.backup / "folder").exists():
            shutil.copytree(self.backup / "folder", self.folder)
        if (self.backup / "log").exists():
            shutil.copy2(self.backup / "log", self.log)
        kept = {p.name for p in (self.backup / "top").iterdir()}
        for path in self._top_files():
            if path.name not in kept:
                path.unlink()
        for name in kept:
            shutil.copy2(self.backup / "top" / name, self.profile_dir / name)
        self.discard()
        return failed_log, failed_notebook

    def discard(self) -> None:
        shutil.rmtree(self.backup, ignore_errors=True)


ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_tail(log: str | Path, lines: int = 8) -> str:
    """The last ``lines`` non-blank lines of a failed notebook's log (colour codes removed): the error's type and
    message and the cell lines above them, which papermill writes at the end of a 40-60 line traceback."""
    path = Path(log)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.exists():
        return "(no log was written)"
    text = ANSI_ESCAPES.sub("", path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def run_notebook(
    notebook: Path,
    profile: str,
    *,
    parameters: dict[str, Any] | None = None,
    timeout_s: float = 0,
    root: Path | None = None,
    runs_dir: Path | None = None,
) -> NotebookRun:
    """Execute one notebook with papermill in a subprocess, writing its executed copy and log; never raises
    for a failing notebook (the status says so)."""
    check_profile(profile)
    root = root or results_root()
    name = notebook.stem
    parameters = {"PROFILE": profile, **(parameters or {})}
    executed = root / profile / name / f"{name}.ipynb"
    log = root / profile / "logs" / f"{name}.log"
    executed.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)

    command = [
        sys.executable, "-m", "papermill", str(notebook), str(executed),
        "--cwd", str(notebook.parent), "--kernel", "python3", "--log-output", "--progress-bar",
        "--request-save-on-cell-execute",
    ]
    for key, value in parameters.items():
        command += ["-y", json.dumps({key: value})]
    runs_dir = runs_dir or runs_root()
    env = {**os.environ, RESULTS_DIR_ENV: str(root), RUNS_DIR_ENV: str(runs_dir), "PYTHONUNBUFFERED": "1"}

    # What ran: read before the run, so that editing the notebook or committing meanwhile cannot mislabel it
    source_sha256, code_sha256, commit = file_sha256(notebook), notebook_code_sha256(notebook), git_commit()
    plan = notebook_plan_sha256(name, profile)
    runs_found = len(run_folders(name, profile, runs_dir))
    previous = PreviousOutputs(root, profile, name)
    start = time.time()
    start_utc = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with open(log, "w", encoding="utf-8") as log_file:
        log_file.write(f"$ {' '.join(command)}\n")
        log_file.flush()
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
        try:
            status = "ok" if process.wait(timeout=timeout_s or None) == 0 else "failed"
        except subprocess.TimeoutExpired:
            terminate_tree(process.pid)
            status = "timeout"
            log_file.write(f"\n[run_all] stopped after the {timeout_s:.0f} s timeout\n")
        except BaseException:  # Ctrl-C or SIGTERM to run_all.sh: leave no kernel running behind us
            terminate_tree(process.pid)
            previous.restore(executed)
            raise
    if status == "ok":
        previous.discard()
        remove_undeclared(notebook, profile, executed.parent)
    else:
        log, failed_notebook = previous.restore(executed)
        executed = failed_notebook or executed
    return NotebookRun(
        notebook=name,
        profile=profile,
        parameters=parameters,
        status=status,
        start_utc=start_utc,
        duration_s=round(time.time() - start, 1),
        git_commit=commit,
        notebook_sha256=source_sha256,
        code_sha256=code_sha256,
        executed=_relative(executed),
        log=_relative(log),
        python=sys.version.split()[0],
        runs_found=runs_found,
        runs_total=len(run_folders(name, profile, runs_dir)),
        plan_sha256=plan,
        environment=environment_record(),
    )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _dry_run(profile: str, notebooks: list[Path], data_dir: str | None, parser: argparse.ArgumentParser) -> int:
    """``--dry-run``: :func:`repro.dry_run.dry_run` of the selected notebooks that train (others have no plan)."""
    from .dry_run import dry_run, markdown
    from .experiments import notebook_plans

    with_plans = [nb.stem for nb in notebooks if nb.stem in notebook_plans(profile)]
    if not with_plans:
        parser.error(f"none of {', '.join(nb.stem for nb in notebooks)} trains anything: nothing to dry-run")
    scratch = runs_root() / "dry_run" / profile
    try:
        rows = dry_run(profile, with_plans, scratch=scratch, json_path=scratch / "dry_run.json",
                       data_dir=absolute_path(data_dir) if data_dir else None)
    except ConfigError as err:
        parser.error(str(err))
    print(markdown(rows))
    failed = [row for row in rows if row["status"] != "ok"]
    for row in failed:
        print(f"[run_all] dry run FAILED {row['notebook']} {row['configuration']}: {row['error']}", file=sys.stderr)
    print(f"[run_all] dry run: {len(rows) - len(failed)} of {len(rows)} configurations ok; rows in "
          f"{_relative(scratch / 'dry_run.json')}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="run_all.sh", description="Run the numbered notebooks headless with papermill."
    )
    parser.add_argument("notebooks", nargs="*", help="subset by number, name or topic (default: all)")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {', '.join(PROFILES)}")
    parser.add_argument("--timeout", type=parse_timeout, help="seconds per notebook, or 'none' (default: the "
                        "profile's, or the notebook's own)")
    parser.add_argument("--data-dir", help=f"offline dataset folder (default: ${DATA_DIR_ENV})")
    parser.add_argument("--workers", type=int, help="runs trained side by side (the notebooks' WORKERS; with "
                        "several GPUs, one per worker; default: each profile's choice)")
    parser.add_argument("--list", action="store_true", help="list the notebooks and exit")
    parser.add_argument("--mark-awaiting-rerun", action="store_true", help="mark the selected notebooks' committed "
                        "results as those of an earlier version that await a rerun (needs --why); runs nothing")
    parser.add_argument("--why", help="the reason recorded with --mark-awaiting-rerun")
    parser.add_argument("--dry-run", action="store_true", help="build every distinct configuration of the selected "
                        "notebooks at the profile, train a few iterations, checkpoint, resume and score a few samples "
                        "in a scratch folder, and report memory, speed and the full runs' hours (python -m "
                        "repro.dry_run has more options); writes nothing into results/")
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOK_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        profile = check_profile(args.profile)
        notebooks = select_notebooks(args.notebooks, list_notebooks(args.notebook_dir))
    except ConfigError as err:
        parser.error(str(err))
    if args.list:
        print("\n".join(nb.stem for nb in notebooks))
        return 0
    if args.mark_awaiting_rerun:
        if not args.notebooks or not args.why:
            parser.error("--mark-awaiting-rerun needs the notebooks to mark and --why REASON")
        marks = {nb.stem: {"code_sha256": notebook_code_sha256(nb),
                           "plan_sha256": notebook_plan_sha256(nb.stem, profile)} for nb in notebooks}
        try:
            path = mark_awaiting_rerun(marks, args.why, profile)
        except ConfigError as err:
            parser.error(str(err))
        print(f"[run_all] marked {', '.join(nb.stem for nb in notebooks)} as awaiting a rerun in {_relative(path)}")
        return 0
    if args.dry_run:
        return _dry_run(profile, notebooks, args.data_dir, parser)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    # papermill runs each notebook in notebooks/, so a relative data folder must be made absolute here, against
    # the folder the user ran the command from
    if os.environ.get(DATA_DIR_ENV):
        os.environ[DATA_DIR_ENV] = absolute_path(os.environ[DATA_DIR_ENV])
    parameters = {"DATA_DIR": absolute_path(args.data_dir)} if args.data_dir else {}
    if args.workers:
        parameters["WORKERS"] = args.workers

    # SIGTERM (a job scheduler, `timeout`) unwinds like Ctrl-C, so the running notebook's processes are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if profile != "smoke" and git_commit().endswith("+dirty"):
        print("[run_all] warning: tracked files outside results/ have uncommitted changes; the results will "
              "name their commit with +dirty. Commit first for results that a commit reproduces.", file=sys.stderr)
    failures = []
    for notebook in notebooks:
        print(f"[run_all] {notebook.stem} (profile {profile}) ...", flush=True)
        timeout = default_timeout(notebook, profile) if args.timeout is None else args.timeout
        run = run_notebook(notebook, profile, parameters=parameters, timeout_s=timeout)
        update_manifest(run)
        print(f"[run_all] {notebook.stem}: {run.status} in {run.duration_s:.0f} s (log: {run.log})", flush=True)
        if run.status != "ok":
            print(error_tail(run.log, lines=3), flush=True)
        if run.status != "ok":
            failures.append(run)
    print(f"[run_all] {len(notebooks) - len(failures)} of {len(notebooks)} notebooks ok; manifest: "
          f"{_relative(results_root() / profile / 'manifest.json')}")
    for run in failures:
        tail = "\n".join(f"    {line}" for line in error_tail(run.log).splitlines())
        print(f"[run_all] FAILED {run.notebook} ({run.status}); the previous results are kept; full log: {run.log}\n"
              f"{tail}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
