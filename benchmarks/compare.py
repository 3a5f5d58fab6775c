"""Two runs of one contender side by side (before and after a change), problem by problem.

Each problem's final losses (log10 regret, or minus the normalised score of a tuning task)
are paired by seed and compared by a two-sided Wilcoxon signed-rank test; Holm's
correction across the problems decides which differences are significant. Tuning tasks
take their normalised-score anchors from both runs' records together, so both runs are
scored on one scale.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import store
from benchmarks.results_table import batch_of, build
from benchmarks.stats import ALPHA, compare, holm

__all__ = ["Row", "compare_runs", "write_comparison"]

NEW = " (new)"


@dataclass(frozen=True)
class Row:
    """One problem: the paired medians, the raw p-value and the corrected verdict."""

    problem: str
    metric: str
    n_pairs: int
    median_old: float
    median_new: float
    p_value: float
    verdict: str


def compare_runs(
    old: Iterable[dict[str, Any]],
    new: Iterable[dict[str, Any]],
    contender: str,
    alpha: float = ALPHA,
) -> list[Row]:
    """Compare ``contender``'s records in ``new`` against those in ``old``.

    ``old`` may hold other contenders too (a whole suite): they anchor the normalised
    scores of tuning tasks. Problems where either run has no finished cell are skipped.
    """
    base, q = batch_of(contender)  # a batch contender's tables use its base name
    renamed_as = base + NEW + (f"-q{q}" if q > 1 else "")
    renamed = [{**r, "contender": renamed_as} for r in new if r["contender"] == contender]
    res = build([*store.latest(old).values(), *store.latest(renamed).values()])
    pairs = []
    for label, pr in res.problems.items():
        a, b = pr.paired(base + NEW, base)
        if a:
            pairs.append((label, pr, a, b, compare(a, b, alpha)))
    significant = holm([c.p_value for *_, c in pairs], alpha)
    rows = []
    for (label, pr, a, b, c), sig in zip(pairs, significant, strict=True):
        verdict = "tie" if not sig else ("new better" if c.outcome == "win" else "new worse")
        sign = 1.0 if pr.has_optimum else -1.0  # report the metric itself, not the loss
        rows.append(
            Row(
                label,
                pr.metric_name,
                len(a),
                sign * statistics.median(b),
                sign * statistics.median(a),
                c.p_value,
                verdict,
            )
        )
    return rows


def write_comparison(
    old_path: Path, new_path: Path, contender: str, out: Path, command: str = ""
) -> Path:
    """Compare the runs in two ``runs.jsonl`` files; write the Markdown table to ``out``."""
    rows = compare_runs(store.read(old_path)[0], store.read(new_path)[0], contender)
    losses = sum(r.verdict == "new worse" for r in rows)
    wins = sum(r.verdict == "new better" for r in rows)
    lines = [
        f"# {contender}: new run against the recorded one",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M')}. Old: `{old_path}`; "
        f"new: `{new_path}`. Paired by seed; two-sided Wilcoxon signed-rank test, Holm's "
        f"correction over the {len(rows)} problems at {ALPHA:g}. Medians of the metric "
        "(log10 simple regret: lower is better; normalised score: higher is better).",
        "",
        f"**{wins} significantly better, {losses} significantly worse, "
        f"{len(rows) - wins - losses} ties.**",
        "",
        "| problem | metric | pairs | median old | median new | p (raw) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.problem} | {r.metric} | {r.n_pairs} | {r.median_old:.3f} | "
            f"{r.median_new:.3f} | {r.p_value:.3g} | {r.verdict} |"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out
