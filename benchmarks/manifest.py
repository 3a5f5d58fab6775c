"""The manifest of a report: code commit, package versions, machine, wall time and the
commands that produced the results, so that a report can be reproduced at one commit.

The machine is described neutrally (CPU model, logical cores, operating system), from the
``meta.host`` that the runner stores in every record (``host()``), so a report written
elsewhere still names the machine that ran the cells.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CODE_PATHS", "commands", "host", "host_text", "manifest_lines"]

CODE_PATHS = ("bayesopt", "benchmarks", ":(exclude)benchmarks/results")
"""The git pathspecs whose uncommitted changes make a run's code "dirty": the library and
the benchmarks, not the results they write."""

ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def host() -> dict[str, Any]:
    """``{"cpu": model, "cores": logical cores, "os": system release, "machine": arch}``."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }


def host_text(info: dict[str, Any]) -> str:
    """One line: ``2 logical cores, Intel(R) Xeon(R) ... (x86_64), Linux 6.1``."""
    return (
        f"{info.get('cores', '?')} logical cores, {info.get('cpu', 'unknown CPU')} "
        f"({info.get('machine', '?')}), {info.get('os', 'unknown OS')}"
    )


def commands(suite_dir: Path) -> tuple[list[str], float]:
    """The lines of ``commands.log`` and the seconds they report (``... in N s``)."""
    log = suite_dir / "commands.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    seconds = 0.0
    for line in lines:
        tail = line.rsplit(" in ", 1)[-1]
        if tail.endswith(" s") and tail[:-2].isdigit():
            seconds += float(tail[:-2])
    return lines, seconds


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def manifest_lines(
    suite_dir: Path,
    records: Iterable[dict[str, Any]],
    command: str,
    extra_packages: Sequence[str] = (),
    machine: str | None = None,
) -> list[str]:
    """``## Manifest``: what ran, where, with what, and how long.

    Args:
        suite_dir: the suite's folder (``commands.log`` is read there).
        records: the records the report uses.
        command: the command that wrote the report.
        extra_packages: packages whose installed version is listed too (read here, now).
        machine: how to name the machine when no record holds ``meta.host`` (records made
            before the runner stored it), e.g. ``"a 2-core x86-64 Linux VM, 2026-11-30"``.

    Returns:
        Markdown lines.
    """
    records = list(records)
    metas = [r.get("meta") or {} for r in records]
    commits = sorted({str(m.get("commit", "unknown")) for m in metas})
    dirty = any(m.get("tree_dirty", m.get("bayesopt_dirty")) for m in metas)
    head = _git("rev-parse", "HEAD") or "unknown"
    head_dirty = bool(_git("status", "--porcelain", *CODE_PATHS))
    versions: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for k, v in (r.get("versions") or {}).items():
            if v != "absent":
                versions[k].add(str(v))
    for name in extra_packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name].add(importlib.metadata.version(name))
    hosts = sorted({host_text(m["host"]) for m in metas if m.get("host")})
    threads = sorted({str(m.get("threads", 1)) for m in metas})
    wall = sum(float(r.get("wall_s") or 0.0) for r in records)
    runs, elapsed = commands(suite_dir)
    return [
        "## Manifest",
        "",
        f"- Report: `{command}`",
        f"- Code: the cells ran at commit(s) {', '.join(f'`{c}`' for c in commits)}"
        + (
            ", with uncommitted changes in `bayesopt/` or `benchmarks/`"
            if dirty
            else ", with a clean tree"
        )
        + f"; the report was written at `{head}`"
        + (" (uncommitted changes)" if head_dirty else "")
        + ".",
        "- Machine: "
        + ("; ".join(hosts) if hosts else machine or "not recorded in the records")
        + f". Threads per worker: {', '.join(t.replace('None', 'no setting') for t in threads)}.",
        f"- Wall time: {wall / 3600:.2f} h of cell time over {len(records)} cells (the sum of "
        f"the cells' wall seconds); the run commands of `commands.log` took "
        f"{elapsed / 3600:.2f} h.",
        "- Packages: "
        + ", ".join(f"{k} {'/'.join(sorted(v))}" for k, v in sorted(versions.items()))
        + ".",
        "",
        "Run commands (`commands.log`: start, command, cells and seconds; a preset may be run "
        "in resumed chunks):",
        "",
        "```",
        *(runs or ["(no commands.log)"]),
        "```",
        "",
    ]
