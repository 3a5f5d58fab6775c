"""A batch variant against the default, round by round: regret with Holm, and ask seconds.

Usage, from the repository root::

    python -m benchmarks.scripts.batch_study bayesopt+closedform --suite ablation/batch

The suite's ``runs.jsonl`` holds batch cells (``NAME-qK``, budgets in rounds). For each
problem and batch size, the variant's final log10 regret is paired with the default's by
seed: two-sided Wilcoxon signed-rank test, Holm's correction over the (problem, batch
size) pairs. The other contenders of the suite (Optuna's GPSampler, random search with
twice the points) are shown beside them, and the seconds per ask (one round of ``K``
points) of every contender, all cells run on the same machine over the same hours.
Writes ``COMPARE.md`` into the suite's folder and prints its path.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import store
from benchmarks.results_table import batch_of, build
from benchmarks.stats import compare, holm

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _median(values: Sequence[float]) -> float:
    values = [v for v in values if math.isfinite(v)]
    return statistics.median(values) if values else math.nan


def write_compare(suite_dir: Path, variant: str, reference: str, command: str) -> Path:
    """Write ``COMPARE.md`` of ``variant`` against ``reference`` in ``suite_dir``."""
    records = list(store.latest(store.read(suite_dir / store.RUNS)[0]).values())
    res = build(records)
    ask: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("n_asks"):
            base, q = batch_of(r["contender"])
            label = f"{r['problem']}@{r['budget']}x{q}"
            ask.setdefault((label, base), []).append(r["ask_s"] / r["n_asks"])
    others = sorted({c for pr in res.problems.values() for c in pr.final} - {variant, reference})
    rows = []
    for label, pr in res.problems.items():
        a, b = pr.paired(variant, reference)
        if a:
            rows.append((label, pr, a, b, compare(a, b)))
    significant = holm([c.p_value for *_, c in rows])
    names = [reference, variant, *others]
    lines = [
        f"# Batches: `{variant}` against `{reference}`",
        "",
        f"Made by `{command}` from `runs.jsonl` (commands in `commands.log`). Each cell runs "
        "R rounds of K points (`@RxK`): K points asked together, evaluated, told together. "
        "Final log10 simple regret, median over seeds; the verdict pairs the two by seed "
        "(two-sided Wilcoxon signed-rank test) with Holm's correction over the rows.",
        "",
        "| problem | pairs | " + " | ".join(f"`{n}`" for n in names) + " | p (raw) | verdict |",
        "|---|---|" + "---|" * len(names) + "---|---|",
    ]
    wins = losses = 0
    for (label, pr, a, _, c), sig in zip(rows, significant, strict=True):
        verdict = "tie"
        if sig and c.outcome.value == "win":
            verdict, wins = "variant better", wins + 1
        elif sig:
            verdict, losses = "variant worse", losses + 1
        medians = [_median(list(pr.final.get(n, {}).values())) for n in names]
        cells = " | ".join("–" if not math.isfinite(m) else f"{m:.2f}" for m in medians)
        lines.append(f"| {label} | {len(a)} | {cells} | {c.p_value:.3g} | {verdict} |")
    lines += [
        "",
        f"**{wins} better, {losses} worse, {len(rows) - wins - losses} ties after Holm.**",
        "",
        "Seconds per ask (one round of K points), median over cells of the cell's mean:",
        "",
        "| problem | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, *_ in rows:
        cells = " | ".join(
            f"{_median(ask[(label, n)]):.3f}" if (label, n) in ask else "–" for n in names
        )
        lines.append(f"| {label} | {cells} |")
    path = suite_dir / "COMPARE.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Write the comparison; print its path."""
    parser = argparse.ArgumentParser(description="A batch variant against the default.")
    parser.add_argument("variant", help="base name, e.g. bayesopt+closedform")
    parser.add_argument("--reference", default="bayesopt", help="base name of the default")
    parser.add_argument("--suite", default="ablation/batch", help="suite under results/")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.scripts.batch_study " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    print(write_compare(RESULTS / args.suite, args.variant, args.reference, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
