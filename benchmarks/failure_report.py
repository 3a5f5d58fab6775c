"""Report of the hidden-failure benchmark: how often each optimiser asks where runs crash.

```bash
python -m benchmarks run --suite failures --problems branin-crash,hartmann6-crash,\\
    mlp1-digits-crash --contenders bayesopt,bayesopt+classifier,random,random-2x,\\
    optuna-gp,optuna-tpe --seeds 0-9 --threads 1
python -m benchmarks.failure_report --suite failures       # REPORT.md, failures.png
```

The problems (``benchmarks/problems/failures.py``) fail, silently to the optimiser, in a
hidden region: it is told NaN. Two losses per run:

* the **failed share**: the fraction of failed evaluations after the first ``n0`` (the
  size of bayesopt's default initial design, ``default_n_initial``), so that every
  contender is counted over the asks where a model could have learnt the region;
  random-2x over its whole doubled budget;
* the **final value**: log10 regret of the best value found (the MLP task: the best
  validation log loss).

Paired two-sided Wilcoxon tests over seeds (losses rounded to ``RESOLUTION`` decimals)
compare ``bayesopt+classifier`` (``failure_model="classifier"``) with the default
(imputation) on both losses, with Holm's correction over the problems and both losses
together; then each of the two with every other contender on the final value, with Holm's
correction over the problems of each pair. The report also gives the seconds each run
spent in the optimiser.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayesopt.optimizer import default_n_initial
from benchmarks import problems, stats, store
from benchmarks.bbob_report import HARDWARE, _order
from benchmarks.figures import _pyplot, styles_for
from benchmarks.manifest import manifest_lines

__all__ = ["failed_share", "initial_design", "main", "write_report"]

RESULTS = Path(__file__).resolve().parent / "results"
CHALLENGER, DEFAULT = "bayesopt+classifier", "bayesopt"


def initial_design(problem: str) -> int:
    """``n0``: the size of bayesopt's default initial design on ``problem``."""
    return default_n_initial(problems.get(problem).space)


def failed_share(values: Sequence[float | None], n0: int) -> float:
    """The fraction of failed values (non-finite, or ``None`` as the run store writes NaN)
    from index ``n0`` on; NaN when none are left.

    Example:
        >>> failed_share([1.0, None, 2.0, float("nan")], 2)
        0.5
    """
    tail = values[n0:]
    failed = sum(v is None or not math.isfinite(v) for v in tail)
    return failed / len(tail) if tail else math.nan


Losses = dict[str, dict[str, dict[int, float]]]
"""``{problem: {contender: {seed: loss}}}``."""


def _final(record: dict[str, Any]) -> float:
    """The final log10 regret, or the final value where the optimum is unknown (NaN when
    every evaluation failed: the store writes NaN as ``None``)."""
    value = record.get("log10_regret", record.get("final"))
    return math.nan if value is None else float(value)


def _losses(records: Sequence[dict[str, Any]]) -> tuple[Losses, Losses]:
    """``(finals, shares)``: ``{problem: {contender: {seed: loss}}}`` of the ok runs."""
    finals: Losses = {}
    shares: Losses = {}
    for r in records:
        if r["status"] != "ok":
            continue
        n0 = initial_design(r["problem"])
        finals.setdefault(r["problem"], {}).setdefault(r["contender"], {})[r["seed"]] = _final(r)
        shares.setdefault(r["problem"], {}).setdefault(r["contender"], {})[r["seed"]] = (
            failed_share(r["values"], n0)
        )
    return finals, shares


RESOLUTION = 2
"""Losses are compared rounded to this many decimals (0.01 of a decade, or of a failed
share): runs trapped in the same local minimum differ by 1e-4 decades from the last steps of
the acquisition search, and a paired test would read that rounding noise as a win."""


def _pair(
    losses: Mapping[str, Mapping[int, float]], a: str, b: str
) -> tuple[list[float], list[float]]:
    seeds = sorted(set(losses.get(a, {})) & set(losses.get(b, {})))
    return (
        [round(losses[a][s], RESOLUTION) for s in seeds],
        [round(losses[b][s], RESOLUTION) for s in seeds],
    )


def _table(
    data: Mapping[str, Mapping[str, Mapping[int, float]]], names: Sequence[str]
) -> list[str]:
    lines = ["| problem | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for problem, by in data.items():
        cells = [stats.median_iqr(by[n].values()) if n in by else "-" for n in names]
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _comparison_lines(finals: Losses, shares: Losses, names: Sequence[str]) -> list[str]:
    lines: list[str] = []
    if any(CHALLENGER in by and DEFAULT in by for by in finals.values()):
        family = {}
        for metric, data in (("failed share", shares), ("final value", finals)):
            for problem, by in data.items():
                if CHALLENGER in by and DEFAULT in by:
                    family[(problem, metric)] = stats.compare(*_pair(by, CHALLENGER, DEFAULT))
        corrected = stats.holm_outcomes(family)
        lines += [
            f"### `{CHALLENGER}` against `{DEFAULT}`",
            "",
            "Outcome from the classifier's side: W (raw p; outcome after Holm over the "
            f"{len(family)} comparisons). Losses are compared rounded to {RESOLUTION} "
            "decimals, so runs trapped in the same minimum tie.",
            "",
            "| problem | failed share | final value |",
            "|---|---|---|",
        ]
        for problem in finals:
            cells = [
                stats.wtl_cell(family.get((problem, m)), corrected.get((problem, m)))
                for m in ("failed share", "final value")
            ]
            lines.append(f"| {problem} | " + " | ".join(cells) + " |")
        lines.append("")
    others = [n for n in names if n not in (CHALLENGER, DEFAULT)]
    for own in (DEFAULT, CHALLENGER):
        if not any(own in by for by in finals.values()):
            continue
        lines += [
            f"### `{own}` against the others, final value",
            "",
            "Outcome from bayesopt's side; Holm over the problems of each pair.",
            "",
            "| problem | " + " | ".join(others) + " |",
            "|---" * (len(others) + 1) + "|",
        ]
        per_pair = {
            o: {
                p: stats.compare(*_pair(by, own, o))
                for p, by in finals.items()
                if own in by and o in by
            }
            for o in others
        }
        corrected_pairs = {o: stats.holm_outcomes(c) for o, c in per_pair.items()}
        for problem in finals:
            cells = [
                stats.wtl_cell(per_pair[o].get(problem), corrected_pairs[o].get(problem))
                for o in others
            ]
            lines.append(f"| {problem} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _figure(
    records: Sequence[dict[str, Any]], shares: Losses, names: Sequence[str], path: Path
) -> Path:
    """Top: the failed share per contender (box plots over seeds). Bottom: the median
    best-so-far log10 regret (or loss) against evaluations."""
    plt = _pyplot()
    styles = styles_for(names)
    probs = list(shares)
    fig, axes = plt.subplots(2, len(probs), figsize=(4.2 * len(probs), 7.0), squeeze=False)
    for j, problem in enumerate(probs):
        top, bottom = axes[0][j], axes[1][j]
        present = [n for n in names if n in shares[problem]]
        top.boxplot([list(shares[problem][n].values()) for n in present], showfliers=True)
        top.set_xticks(range(1, len(present) + 1), present, rotation=35, ha="right", fontsize=7)
        top.set_title(problem, fontsize=9)
        top.set_ylabel("failed share after the initial design" if j == 0 else "")
        prob = problems.get(problem)
        for n in present:
            traces = [
                r["trace"] for r in records
                if r["problem"] == problem and r["contender"] == n and r["status"] == "ok"
            ]  # fmt: skip
            arr = np.asarray(traces, dtype=float)
            if prob.optimum is not None:
                arr = np.log10(np.maximum(arr - prob.optimum, 1e-12))
            colour, line, marker = styles[n]
            steps = np.arange(1, arr.shape[1] + 1)
            bottom.plot(
                steps, np.median(arr, axis=0), color=colour, linestyle=line, marker=marker,
                markevery=max(1, len(steps) // 8), markersize=4, label=n,
            )  # fmt: skip
        bottom.set_xlabel("evaluations")
        label = "log10 regret" if prob.optimum is not None else "best validation log loss"
        bottom.set_ylabel(f"median best-so-far {label}", fontsize=8)
    axes[1][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(suite_dir: Path, command: str, date: str) -> Path:
    """Write ``REPORT.md`` and ``failures.png`` of a hidden-failure suite; return the path."""
    records = list(store.latest(store.read(suite_dir / store.RUNS)[0]).values())
    if not records:
        raise ValueError(f"no runs in {suite_dir / store.RUNS}")
    finals, shares = _losses(records)
    names = _order(n for by in finals.values() for n in by)
    errors = sum(r["status"] != "ok" for r in records)
    seeds = sorted({r["seed"] for r in records})
    budgets = {r["problem"]: r["budget"] for r in records}
    rows = [
        f"| {p} | {problems.get(p).dim} | {budgets[p]} | "
        f"{initial_design(p)} | {problems.get(p).description} |"
        for p in finals
    ]
    ask_s: Losses = {}
    for r in records:
        if r["status"] == "ok":
            ask_s.setdefault(r["problem"], {}).setdefault(r["contender"], {})[r["seed"]] = r[
                "ask_s"
            ] + r.get("tell_s", 0.0)
    means = {
        p: {n: statistics.fmean(by[n].values()) for n in names if n in by}
        for p, by in shares.items()
    }
    lines = [
        "# Hidden failure regions: failed evaluations and regret",
        "",
        f"Made by `{command}` from `runs.jsonl` ({len(records)} runs, seeds "
        f"{seeds[0]}-{seeds[-1]}, {errors} errors). Each problem fails, without telling the "
        "optimiser why, in a region of its space: the optimiser is told NaN there. "
        "bayesopt's default imputes a failure with the worst value seen; "
        f"`{CHALLENGER}` also fits a GP to each trial's success and multiplies its "
        "probability into the acquisition (Gelbart, Snoek and Adams, 2014). Optuna's "
        "samplers are told a failed trial (they ignore it when proposing).",
        "",
        "These problems decide `failure_model`'s default, so its results here are "
        "in-sample; no other default was chosen on them.",
        "",
        "| problem | d | budget | n0 | what fails |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Failed share after the initial design",
        "",
        "Median [quartiles] over seeds of the fraction of evaluations after the first n0 that "
        "failed (lower is better).",
        "",
        *_table(shares, names),
        "Mean over seeds:",
        "",
        "| problem | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
        *(
            f"| {p} | " + " | ".join(f"{m[n]:.3f}" if n in m else "-" for n in names) + " |"
            for p, m in means.items()
        ),
        "",
        "## Final value",
        "",
        "Median [quartiles] of the final log10 regret of the best value found (the MLP "
        "task: the best validation log loss); lower is better.",
        "",
        *_table(finals, names),
        "## Cost",
        "",
        "Median [quartiles] over seeds of the seconds a run spent in the optimiser's asks "
        "and tells (one thread; cells ran beside other benchmark processes, at the times and "
        "loads `commands.log` gives, so compare columns that ran together):",
        "",
        *_table(ask_s, names),
        "## Paired comparisons",
        "",
        *_comparison_lines(finals, shares, names),
        "![failed share and regret](failures.png)",
        "",
    ]
    _figure(records, shares, names, suite_dir / "failures.png")
    lines += manifest_lines(suite_dir, records, command, (), f"{HARDWARE}, {date}")
    path = suite_dir / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; print its path."""
    parser = argparse.ArgumentParser(description="Report the hidden-failure benchmark.")
    parser.add_argument("--suite", default="failures", help="under results/")
    parser.add_argument("--results", default=str(RESULTS), help="results folder")
    parser.add_argument("--date", default="2026-12-01", help="when the runs were made")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.failure_report " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    print(write_report(Path(args.results) / args.suite, command.strip(), args.date))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
