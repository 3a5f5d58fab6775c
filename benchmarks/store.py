"""The results file: one JSON line per finished cell, appended and flushed one at a time.

A run killed mid-write leaves at most one truncated last line. Reading skips lines that do
not parse; appending first cuts such a tail back to the last newline, so new records never
glue onto a broken one. When a cell appears more than once, its last record wins.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "append", "cell_key", "latest", "read", "suite_dir"]

RESULTS = Path(__file__).resolve().parent / "results"
"""Default folder of the suites' results: ``benchmarks/results/<suite>/``."""

RUNS = "runs.jsonl"


def suite_dir(suite: str, root: Path | None = None) -> Path:
    """The folder of one suite's results."""
    return (root or RESULTS) / suite


def cell_key(record: dict[str, Any]) -> tuple[str, str, int, int]:
    """``(problem, contender, seed, budget)``: what identifies a cell."""
    return (record["problem"], record["contender"], int(record["seed"]), int(record["budget"]))


def run_key(record: dict[str, Any]) -> tuple[str, str, int]:
    """``(problem, contender, seed)``: what identifies a run of the experiments with their
    own command line (``outcomes``, ``structured``, ``automl``), whose budget is the
    problem's."""
    return (record["problem"], record["contender"], int(record["seed"]))


def read(
    path: Path, key: Callable[[dict[str, Any]], Hashable] = cell_key
) -> tuple[list[dict[str, Any]], int]:
    """All records of a results file, and the number of lines skipped as unreadable.

    Args:
        path: the results file.
        key: what identifies a record's cell (default ``cell_key``); a line it fails on is
            skipped as unreadable.
    """
    if not path.exists():
        return [], 0
    records, bad = [], 0
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
                key(record)
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            records.append(record)
    return records, bad


def read_runs(path: Path) -> list[dict[str, Any]]:
    """The records of an experiment's ``runs.jsonl``, keyed by ``run_key`` (an unreadable
    line, such as a torn last one, is skipped)."""
    return read(path, key=run_key)[0]


def latest(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """The last record of each cell."""
    return {cell_key(r): r for r in records}


def _repair_tail(path: Path) -> bool:
    """Cut a truncated last line (no trailing newline); return whether anything was cut."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        fh.seek(0)
        data = fh.read()
        fh.seek(data.rfind(b"\n") + 1)
        fh.truncate()
    return True


def append(path: Path, record: dict[str, Any], *, strict: bool = True) -> None:
    """Append one record as a JSON line, flushed and synced to disk; a torn last line (a
    run killed mid-write) is cut first.

    Args:
        path: the results file.
        record: the record.
        strict: write non-finite floats as ``null`` so that the file stays strict JSON;
            ``False`` keeps them as Python's ``json`` writes them (``NaN``, ``Infinity``)
            for records that read them back as floats.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _repair_tail(path)
    if strict:
        line = json.dumps(_finite(record), separators=(",", ":"), allow_nan=False)
    else:
        line = json.dumps(record)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
