"""A factor study on the BBOB tuning instances: variants of the default against it.

``python -m benchmarks.bbob_study --suite ablation/bbob_tuning`` writes ``REPORT.md`` (and
ECDF figures) into that suite from its ``runs.jsonl``: per dimension, the median final
log10 precision per function, the fraction of COCO's targets reached, and the paired
comparisons of the BBOB report (``benchmarks.bbob_report``): per function across
instances with Holm's correction over the functions, and across functions on the
per-function medians with Holm's correction over the pairs.

The runs use seeds 100 and up, COCO instances 101+, the only BBOB instances on which a
default may be chosen; the reported instances 1-15 never enter a study. A variant is
adopted only if it wins the across-function test after Holm and loses no function after
Holm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks import store
from benchmarks.bbob_report import (
    EXTRA_PACKAGES,
    HARDWARE,
    _at,
    _comparisons,
    _dims,
    _ecdfs,
    _instances,
    _order,
    _regret_table,
    build_bbob,
)
from benchmarks.manifest import manifest_lines
from benchmarks.variants import VARIANTS

__all__ = ["write_study_report"]

RESULTS = Path(__file__).resolve().parent / "results"


def run_seconds(records: Iterable[dict], dim: int, names: Sequence[str]) -> list[str]:
    """A table of the median wall seconds of a run, per contender (rows) and seed
    (columns), over the functions at dimension ``dim``.

    Wall seconds compare only between runs made side by side (``commands.log`` says
    which were).

    Example:
        >>> recs = [{"problem": f"bbob-f0{f}-d2", "contender": "a", "seed": 100,
        ...          "wall_s": 1.0 + f} for f in (1, 2, 3)]
        >>> run_seconds(recs, 2, ["a"])[-1]
        '| a | 3.0 |'
    """
    cells: dict[tuple[str, int], list[float]] = {}
    for r in records:
        if r["problem"].endswith(f"-d{dim}") and r.get("wall_s") is not None:
            cells.setdefault((r["contender"], int(r["seed"])), []).append(float(r["wall_s"]))
    seeds = sorted({seed for _, seed in cells})
    lines = [
        "| contender | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|---|" + "---|" * len(seeds),
    ]
    for name in names:
        row = [cells.get((name, s)) for s in seeds]
        lines.append(
            f"| {name} | "
            + " | ".join("–" if not v else f"{statistics.median(v):.1f}" for v in row)
            + " |"
        )
    return lines


def write_study_report(suite_dir: Path, command: str, date: str) -> Path:
    """Write ``REPORT.md`` and ``ecdf_d*.png`` of a study suite; return the report's path."""
    records, _ = store.read(suite_dir / store.RUNS)
    res = build_bbob(store.latest(records).values())
    described = {v.name: v.description for v in VARIANTS}
    names_all = _order(n for pr in res.problems.values() for n in pr.final)
    lines = [
        "# Factor study on the BBOB tuning instances",
        "",
        f"Made by `{command}` from `runs.jsonl`. COCO's 24 noiseless BBOB functions, budget "
        "20 d, on the tuning instances (seed s runs instance s + 1; seeds 100 and up), "
        "which no report uses. The metric is the final log10(f - f_opt) (floored at 1e-12; "
        "lower is better). A variant is adopted only if it beats the default across "
        "functions after Holm's correction and loses no function after Holm.",
        "",
        "Contenders:",
        "",
        *(f"- `{n}`: {described[n]}" for n in names_all if n in described),
        "- `bayesopt`: the default; `random-2x`: random search with twice the budget.",
        "",
    ]
    for dim in _dims(res):
        sub = _at(res, dim)
        names = _order(n for pr in sub.problems.values() for n in pr.final)
        comp_lines, _ = _comparisons(sub, names)
        ecdf_lines, _ = _ecdfs(sub, dim, suite_dir)
        lines += [
            f"## d = {dim}, instances {_instances(sub)}",
            "",
            "### Median final log10(f - f_opt) (best in bold)",
            "",
            *_regret_table(sub, names),
            "### Targets reached",
            "",
            *ecdf_lines,
            "### Paired comparisons",
            "",
            *comp_lines,
            "### Seconds per run",
            "",
            "Median wall seconds of a run over the functions, per seed (one thread per run; "
            "they compare only between runs made side by side, as `commands.log` says):",
            "",
            *run_seconds(res.records, dim, names),
            "",
        ]
    machine = f"{HARDWARE}, {date}"
    lines += manifest_lines(suite_dir, res.records, command, EXTRA_PACKAGES, machine)
    path = suite_dir / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Write the study's report; print its path."""
    parser = argparse.ArgumentParser(description="Report a BBOB factor study.")
    parser.add_argument("--suite", default="ablation/bbob_tuning", help="under results/")
    parser.add_argument("--results", default=str(RESULTS), help="results folder")
    parser.add_argument("--date", default="2026-12-01", help="when the runs were made")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.bbob_study " + " ".join(sys.argv[1:] if argv is None else argv)
    print(write_study_report(Path(args.results) / args.suite, command.strip(), args.date))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
