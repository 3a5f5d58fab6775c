"""A suite's results as one CSV row per evaluation, for analysis outside this package.

``python -m benchmarks export --suite standard --out standard.csv``. Columns: the cell
(``suite``, ``problem``, ``contender``, ``seed``, ``budget``), its ``status``,
``eval_index`` (0-based, in the order of evaluation), ``value`` (the noise-free value),
``observed`` (what the optimiser saw, on noisy problems), ``params`` (JSON, when records
hold them), the record's ``commit``, and one ``version_<package>`` column per library
version recorded. Only the latest record of each cell is exported; empty cells mean
absent or non-finite.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from benchmarks import store

__all__ = ["CELL_COLUMNS", "export_csv", "header", "rows"]

CELL_COLUMNS = ("suite", "problem", "contender", "seed", "budget", "status")
EVAL_COLUMNS = ("eval_index", "value", "observed", "params", "commit")


def _number(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return repr(float(x))


def _versions(records: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({k for r in records for k in (r.get("versions") or {})})


def rows(records: Iterable[dict[str, Any]], suite: str) -> Iterator[dict[str, str]]:
    """One dict per evaluation of the latest record of each cell (the columns of ``header``).

    Args:
        records: records of one suite (``store.read``).
        suite: the suite's name, written in every row.
    """
    latest = list(store.latest(records).values())
    versions = _versions(latest)
    for r in latest:
        values = r.get("values") or []
        observed = r.get("observed") or []
        params = r.get("params") or []
        commit = (r.get("meta") or {}).get("commit") or ""
        cell = {
            "suite": suite,
            "problem": str(r["problem"]),
            "contender": str(r["contender"]),
            "seed": str(int(r["seed"])),
            "budget": str(int(r["budget"])),
            "status": str(r.get("status", "")),
            "commit": str(commit),
        }
        cell |= {f"version_{k}": str((r.get("versions") or {}).get(k, "")) for k in versions}
        for i, value in enumerate(values):
            yield cell | {
                "eval_index": str(i),
                "value": _number(value),
                "observed": _number(observed[i]) if i < len(observed) else "",
                "params": json.dumps(params[i], sort_keys=True) if i < len(params) else "",
            }


def header(records: Iterable[dict[str, Any]]) -> list[str]:
    """The CSV columns for ``records``."""
    versions = [f"version_{k}" for k in _versions(store.latest(records).values())]
    return [*CELL_COLUMNS, *EVAL_COLUMNS, *versions]


def export_csv(suite_dir: Path, out: IO[str], suite: str | None = None) -> int:
    """Write the suite in ``suite_dir`` to ``out`` as CSV; return the number of rows.

    Raises:
        SystemExit: the suite has no records.
    """
    records, _ = store.read(suite_dir / store.RUNS)
    if not records:
        raise SystemExit(f"no records in {suite_dir / store.RUNS}")
    writer = csv.DictWriter(out, fieldnames=header(records), lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows(records, suite or suite_dir.name):
        writer.writerow(row)
        n += 1
    return n
