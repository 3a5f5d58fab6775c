"""A suite's results as one row per evaluation, for analysis outside this package.

``python -m benchmarks export --suite standard --out standard.csv`` (or ``--format
parquet --out standard.parquet``, with pyarrow). Columns: the cell (``suite``,
``problem``, ``contender``, ``seed``, ``budget``), its ``status``, ``batch`` (points per
round), ``eval_index`` (0-based, in the order of evaluation), ``round`` (0-based index of
the ask that proposed it: one per evaluation unless batched), ``value`` (the noise-free
value), ``observed`` (what the optimiser saw, on noisy problems), ``params`` (JSON),
``ask_s`` (seconds of that ask: a whole round's for a batch contender), ``eval_s``
(seconds of this evaluation), ``recommended`` (1 on the evaluation the contender
recommends at the end, else 0; empty when the record has no recommendation or it was not
an evaluation), the record's ``commit``, and one ``version_<package>`` column per library
version recorded. Only the latest record of each cell is exported; empty cells mean
absent or non-finite (in Parquet: null).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from benchmarks import store

__all__ = ["CELL_COLUMNS", "export_csv", "export_parquet", "header", "rows"]

CELL_COLUMNS = ("suite", "problem", "contender", "seed", "budget", "status", "batch")
EVAL_COLUMNS = (
    "eval_index",
    "round",
    "value",
    "observed",
    "params",
    "ask_s",
    "eval_s",
    "recommended",
    "commit",
)
INT_COLUMNS = frozenset({"seed", "budget", "batch", "eval_index", "round", "recommended"})
FLOAT_COLUMNS = frozenset({"value", "observed", "ask_s", "eval_s"})


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
        ask_times = r.get("ask_times") or []
        eval_times = r.get("eval_times") or []
        batch = int(r.get("batch") or 1)
        rounds = _rounds(len(values), len(ask_times), batch)
        picked = r.get("recommended_index")
        has_pick = "recommended_index" in r
        commit = (r.get("meta") or {}).get("commit") or ""
        cell = {
            "suite": suite,
            "problem": str(r["problem"]),
            "contender": str(r["contender"]),
            "seed": str(int(r["seed"])),
            "budget": str(int(r["budget"])),
            "status": str(r.get("status", "")),
            "batch": str(batch),
            "commit": str(commit),
        }
        cell |= {f"version_{k}": str((r.get("versions") or {}).get(k, "")) for k in versions}
        for i, value in enumerate(values):
            k = rounds[i]
            yield cell | {
                "eval_index": str(i),
                "round": str(k) if k is not None else "",
                "value": _number(value),
                "observed": _number(observed[i]) if i < len(observed) else "",
                "params": json.dumps(params[i], sort_keys=True) if i < len(params) else "",
                "ask_s": _number(ask_times[k]) if k is not None else "",
                "eval_s": _number(eval_times[i]) if i < len(eval_times) else "",
                "recommended": str(int(picked == i)) if has_pick and picked is not None else "",
            }


def _rounds(n_values: int, n_asks: int, batch: int) -> list[int | None]:
    """The ask (round) that proposed each evaluation: evaluations come ``batch`` per ask
    (the last ask of a run may propose fewer); ``None`` where the record has no ask times."""
    if n_asks == 0:
        return [None] * n_values
    per_ask = max(1, -(-n_values // n_asks)) if batch > 1 else 1
    return [min(i // per_ask, n_asks - 1) for i in range(n_values)]


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


def _typed(row: dict[str, str], column: str) -> Any:
    text = row.get(column, "")
    if text == "":
        return None
    if column in INT_COLUMNS:
        return int(text)
    if column in FLOAT_COLUMNS:
        return float(text)
    return text


def export_parquet(suite_dir: Path, out: Path, suite: str | None = None) -> int:
    """Write the suite in ``suite_dir`` to the Parquet file ``out`` (needs pyarrow): the
    columns of ``header``, integers and floats typed, empty values null.

    Returns:
        The number of rows.

    Raises:
        SystemExit: the suite has no records, or pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SystemExit("--format parquet needs pyarrow: pip install pyarrow") from None
    records, _ = store.read(suite_dir / store.RUNS)
    if not records:
        raise SystemExit(f"no records in {suite_dir / store.RUNS}")
    columns = header(records)
    data: dict[str, list[Any]] = {c: [] for c in columns}
    for row in rows(records, suite or suite_dir.name):
        for c in columns:
            data[c].append(_typed(row, c))
    types = {
        c: pa.int64() if c in INT_COLUMNS else pa.float64() if c in FLOAT_COLUMNS else pa.string()
        for c in columns
    }
    table = pa.table({c: pa.array(data[c], type=types[c]) for c in columns})
    pq.write_table(table, out)
    return table.num_rows
