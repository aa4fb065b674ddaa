"""Tables (CSV + Markdown) and figures (PNG) written with the protocol that produced them.

Every table row carries the protocol columns (profile, seed, git commit, ...) so that a number copied out of
context still says where it came from; the Markdown copy lists the protocol under the table.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .files import atomic_path, write_text_atomic
from .paths import REPO_ROOT
from .profiles import check_profile


def git_commit() -> str:
    """The repository's HEAD commit, with ``+dirty`` if tracked files differ from it; ``unknown`` outside git.

    Changes under ``results/`` do not count: a run rewrites them while it runs.
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


LOCK_FILE = "requirements-lock.txt"


def environment_record(repo_root: Path | None = None) -> dict[str, Any]:
    """Which environment made a result: the SHA-256 (16 hex digits) of ``requirements-lock.txt`` (the versions the
    tests last passed with) and whether the installed packages match its pins (those pinned and installed; the
    names and versions that differ, at most 20). The runner keeps it in each notebook's manifest entry."""
    from importlib import metadata

    def canonicalize_name(name: str) -> str:  # PEP 503
        return re.sub(r"[-_.]+", "-", name).lower()

    lock = (repo_root or REPO_ROOT) / LOCK_FILE
    if not lock.exists():
        return {"lock_sha256": None, "matches_lock": None, "differs_from_lock": []}
    pins = {}
    for line in lock.read_text().splitlines():
        name, separator, version = line.partition("==")
        if separator and not line.startswith("#"):
            pins[canonicalize_name(name)] = version.strip()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()
                 if d.metadata["Name"]}
    differ = sorted(f"{name} {installed[name]} (lock {version})" for name, version in pins.items()
                    if name in installed and installed[name] != version)
    return {"lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest()[:16], "matches_lock": not differ,
            "differs_from_lock": differ[:20]}


def run_protocol(profile: str, seed: int, **fields: Any) -> dict[str, Any]:
    """The protocol fields every result of a run carries: profile, seed, git commit, versions, time.

    Add experiment-specific fields (sample counts, reference split, steps, extractor ...) as keywords.
    """
    import torch

    return {
        "profile": check_profile(profile),
        "seed": seed,
        **fields,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _format_cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Render rows of dicts as a GitHub Markdown table (floats to 4 significant digits)."""
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_format_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_table(
    rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path,
    name: str,
    protocol: Mapping[str, Any],
    title: str | None = None,
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.csv`` (rows + protocol columns) and ``<name>.md``; return both paths.

    Column order: the rows' own columns (in first-row order), then the protocol fields. A protocol field
    whose name clashes with a row column is an error, so neither silently overwrites the other.
    """
    if not rows:
        raise ValueError(f"table {name!r} has no rows")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    clash = set(columns) & set(protocol)
    if clash:
        raise ValueError(f"table {name!r}: columns {sorted(clash)} are also protocol fields; rename them")
    out_dir = Path(out_dir)

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns + list(protocol), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, **protocol})
    csv_path = write_text_atomic(out_dir / f"{name}.csv", buffer.getvalue())

    protocol_lines = "\n".join(f"- **{key}**: {value}" for key, value in protocol.items())
    heading = f"### {title}\n\n" if title else ""
    md = f"{heading}{markdown_table(rows, columns)}\nProtocol:\n\n{protocol_lines}\n"
    md_path = write_text_atomic(out_dir / f"{name}.md", md)
    return csv_path, md_path


def save_figure(fig: Any, out_dir: str | Path, name: str, dpi: int = 120) -> Path:
    """Save a matplotlib figure as ``<out_dir>/<name>.png`` atomically and return the path."""
    path = Path(out_dir) / f"{name}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path
