"""The manifest of a profile's committed results (``results/<profile>/manifest.json``): one entry per notebook
saying how its results were made (status, time, commit, what the notebook's code was, which runs it found), and
the reports read from it: run times, and the notebooks whose results await a rerun."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .files import write_json_atomic
from .paths import results_root
from .profiles import check_profile

NOTEBOOK_MINUTES_TARGET = 30  # per notebook at the cpu profile (issue 9)


@dataclass
class NotebookRun:
    """One manifest entry."""

    notebook: str
    profile: str
    parameters: dict[str, Any]
    status: str  # "ok", "failed" or "timeout"
    start_utc: str
    duration_s: float
    git_commit: str
    notebook_sha256: str  # the whole file, as it ran
    code_sha256: str  # its code cells and declared outputs only (notebook_code_sha256): what freshness checks
    executed: str
    log: str
    python: str
    runs_found: int  # run folders of this notebook and profile that existed before it started
    runs_total: int  # ... and after it finished
    plan_sha256: str | None = None  # its plans in repro (repro.experiments.plan_sha256); None without a plan
    # the environment it ran in: requirements-lock.txt's hash and whether the installed versions match its pins
    # (repro.results.environment_record)
    environment: dict[str, Any] | None = None


def first_run(run: NotebookRun, previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """Duration, start and commit of the run that trained this entry's runs: this run when it found none, the
    previous entry's first run when this one found all of them (a replay) and they are the same folders' count;
    None when unknown (it trained some runs and found others, or the previous entry never said)."""
    def timing(entry: dict[str, Any]) -> dict[str, Any]:
        return {key: entry[key] for key in ("duration_s", "start_utc", "git_commit")}

    if run.status != "ok":
        return None
    if run.runs_found == 0:
        return timing(asdict(run))
    if previous is None or run.runs_found != run.runs_total or previous.get("runs_total") != run.runs_total:
        return None
    if previous.get("first_run"):
        return previous["first_run"]
    return timing(previous) if previous.get("runs_found") == 0 and previous["status"] == "ok" else None


def read_manifest(folder: Path) -> dict[str, Any]:
    """``folder/manifest.json`` (one profile's results folder), or an empty manifest when there is none yet."""
    path = folder / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {"notebooks": {}}


def update_manifest(run: NotebookRun, root: Path | None = None) -> Path:
    """Replace the notebook's entry in ``results/<profile>/manifest.json`` (written atomically), keeping the
    time of the first run behind a replay (:func:`first_run`). A failed or timed-out run does not replace a good
    entry (its results were put back): it is recorded beside it as ``last_failure``."""
    folder = (root or results_root()) / run.profile
    manifest = read_manifest(folder)
    previous = manifest["notebooks"].get(run.notebook)
    if run.status != "ok" and previous is not None and previous["status"] == "ok":
        failure = {key: getattr(run, key) for key in ("status", "start_utc", "duration_s", "git_commit", "log",
                                                      "executed", "parameters")}
        manifest["notebooks"][run.notebook] = {**previous, "last_failure": failure}
        return write_json_atomic(folder / "manifest.json", manifest)
    manifest["notebooks"][run.notebook] = {**asdict(run), "first_run": first_run(run, previous)}
    manifest["notebooks"] = dict(sorted(manifest["notebooks"].items()))
    return write_json_atomic(folder / "manifest.json", manifest)


def mark_awaiting_rerun(marks: dict[str, dict[str, str | None]], reason: str, profile: str = "cpu",
                        root: Path | None = None) -> Path:
    """Say in the manifest that the committed results of the notebooks in ``marks`` came from an earlier version
    of their notebook and await a rerun, and why. ``marks`` maps each notebook to its current ``code_sha256`` and
    ``plan_sha256``: the results are accepted as awaiting a rerun only while the notebook stays at that version
    (a further change needs a rerun or a new mark), and the notebook's next run replaces the entry, mark and all.
    The summary lists them."""
    folder = (root or results_root()) / check_profile(profile)
    manifest = read_manifest(folder)
    unknown = sorted(set(marks) - set(manifest["notebooks"]))
    if unknown:
        raise ConfigError(f"no manifest entry for {unknown} in {folder / 'manifest.json'}")
    for name, hashes in marks.items():
        manifest["notebooks"][name]["awaiting_rerun"] = {"reason": reason, **hashes}
    return write_json_atomic(folder / "manifest.json", manifest)


def run_times(root: Path) -> list[dict[str, str]]:
    """Wall time of each notebook's committed run, from ``root/manifest.json``, with how many of its run folders
    were already there when it started, and the time of the first run that trained them where the manifest
    knows it (``first_run``; or this run, when it found none). Notebook 90 is left out: it writes this summary,
    so its own entry is only final after the summary is written."""
    entries = read_manifest(root)["notebooks"]

    def found(entry: dict[str, Any]) -> str:
        if "runs_found" not in entry:
            return "not recorded"
        return f"{entry['runs_found']} of {entry['runs_total']}"

    def first(entry: dict[str, Any]) -> dict[str, Any] | None:
        if entry.get("first_run") is None and entry.get("runs_found") == 0 and entry["status"] == "ok":
            return entry  # written before the manifest kept first runs: this run found nothing to reuse
        return entry.get("first_run")

    def commit(entry: dict[str, Any]) -> str:  # short, keeping the "+dirty" mark
        return entry["git_commit"][:8] + ("+dirty" if entry["git_commit"].endswith("+dirty") else "")

    return [{"notebook": name, "minutes": f"{entry['duration_s'] / 60:.1f}", "runs_found_of_total": found(entry),
             "first_run_minutes": f"{first(entry)['duration_s'] / 60:.1f}" if first(entry) else "not recorded",
             "status": entry["status"], "started": entry["start_utc"][:16].replace("T", " "),
             "git_commit": commit(entry),
             # a replay whose first run is unknown: its time is no first run's
             "unknown_replay": first(entry) is None and entry.get("runs_found", 0) > 0}
            for name, entry in sorted(entries.items()) if not name.startswith("90_")]


def run_time_lines(root: Path) -> list[str]:
    """The run-time section of the summary: :func:`run_times` as a Markdown table with a paragraph saying how to
    read it and the total."""
    rows = run_times(root)
    if not rows:
        return []
    # a first run's time where known, else the committed run's (a lower bound when it reused runs)
    minutes = {r["notebook"]: float(r["first_run_minutes"] if r["first_run_minutes"] != "not recorded"
                                    else r["minutes"]) for r in rows}
    unknown = [r["notebook"][:2] for r in rows if r["first_run_minutes"] == "not recorded"]
    replays = [r["notebook"][:2] for r in rows if r["unknown_replay"]]
    over = [name[:2] for name, value in minutes.items() if value > NOTEBOOK_MINUTES_TARGET]
    lines = ["### Run times", "",
             f"Wall time of the run that wrote each notebook's committed `{root.name}` results (2 CPU cores for "
             "`cpu`). *Runs found* counts the notebook's run folders (training runs, kept baselines and scores) that "
             "were already there when it started (\"not recorded\": written before the manifest kept that count). "
             "Those runs resumed or were only re-evaluated, and a cached score classifier is not retrained, so such "
             "a time is below a first run's; *first run* is the time of the run that trained them, where the "
             "manifest knows it. A commit marked +dirty ran with uncommitted changes to tracked files outside "
             f"`results/`. {sum(minutes.values()):.0f} min in all, counting first runs where known"
             + (f" (for {', '.join(unknown)} only the committed run's time is known)" if unknown else "")
             + (f", a lower bound: {', '.join(replays)} re-used earlier runs whose first-run time is not recorded"
                if replays else "")
             + (f"; over the {NOTEBOOK_MINUTES_TARGET}-minute target per notebook: {', '.join(over)}." if over
                else "."), "",
             "| notebook | minutes | runs found | first run (minutes) | status | started (UTC) | git commit |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['notebook']} | {r['minutes']} | {r['runs_found_of_total']} | {r['first_run_minutes']} | "
              f"{r['status']} | {r['started']} | {r['git_commit']} |" for r in rows]
    return lines + [""]


def awaiting_rerun(root: Path) -> dict[str, str]:
    """Notebook -> reason, for the committed results of ``root`` that came from an earlier version of their
    notebook and await a rerun (:func:`mark_awaiting_rerun`)."""
    entries = read_manifest(root)["notebooks"]
    return {name: entry["awaiting_rerun"]["reason"] for name, entry in sorted(entries.items())
            if entry.get("awaiting_rerun")}
