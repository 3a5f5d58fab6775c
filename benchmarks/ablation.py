"""The factor study's report: every variant against its reference, paired by seed.

``python -m benchmarks ablation`` runs the ``ablation`` preset (resumable; ``--no-run``
skips that) and writes ``benchmarks/results/ablation/REPORT.md``:

* per factor, one table: each variant's Wilcoxon win/tie/loss count against its reference
  over the problems both ran, its median final metric beside the reference's on each
  problem, and its mean seconds per ask beside the reference's (measured in the same run);
* the new default beside every peer on the committed ``standard`` suite (median final log10
  regret with quartiles on the problems with a known optimum, mean ranks);
* ``CONCLUSIONS.md`` from the same folder, verbatim, when it exists (the decisions, written
  by hand from the tables above).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import store
from benchmarks.results_table import Results, build
from benchmarks.stats import Outcome, compare, mean_ranks
from benchmarks.variants import VARIANTS, Variant

__all__ = ["write_report"]

PEERS = (
    "bayesopt-v0",
    "bayesopt-v1",
    "bayesopt",
    "optuna-gp",
    "optuna-tpe",
    "skopt-gp",
    "random",
    "random-2x",
)
MARK = {Outcome.WIN: "W", Outcome.TIE: "·", Outcome.LOSS: "L"}


def _records(suite_dir: Path) -> list[dict[str, Any]]:
    path = suite_dir / store.RUNS
    if not path.exists():
        return []
    records, _ = store.read(path)
    return list(store.latest(records).values())


def _ask_seconds(records: list[dict[str, Any]]) -> dict[str, float]:
    asks: dict[str, float] = defaultdict(float)
    seconds: dict[str, float] = defaultdict(float)
    for r in records:
        if r.get("status") == "ok":
            asks[r["contender"]] += r.get("n_asks", 0)
            seconds[r["contender"]] += r.get("ask_s", 0.0)
    return {k: seconds[k] / asks[k] for k in asks if asks[k]}


def _median(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def _fmt(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.2f}"


def _variant_rows(res: Results, v: Variant, ask_s: dict[str, float]) -> tuple[str, str]:
    """The summary row and the per-problem row of one variant."""
    outcomes, cells = [], []
    for pr in res.problems.values():
        if v.name not in pr.final or v.reference not in pr.final:
            continue
        a, b = pr.paired(v.name, v.reference)
        comp = compare(a, b)
        outcomes.append((pr.label, comp.outcome))
        seeds = sorted(set(pr.final[v.name]) & set(pr.final[v.reference]))
        va = _median([pr.final[v.name][s] for s in seeds])
        vb = _median([pr.final[v.reference][s] for s in seeds])
        cells.append(f"{pr.label}: {_fmt(va)} / {_fmt(vb)} {MARK[comp.outcome]}")
    if not outcomes:
        return f"| {v.name} | {v.reference} | not run | | | | {v.description} |", ""
    w = [lb for lb, o in outcomes if o is Outcome.WIN]
    losses = [lb for lb, o in outcomes if o is Outcome.LOSS]
    t = len(outcomes) - len(w) - len(losses)
    sa, sb = ask_s.get(v.name, math.nan), ask_s.get(v.reference, math.nan)
    summary = (
        f"| {v.name} | {v.reference} | {len(w)}/{t}/{len(losses)} | {', '.join(w) or '—'} | "
        f"{', '.join(losses) or '—'} | {sa:.3f} / {sb:.3f} | {v.description} |"
    )
    return summary, f"| {v.name} | " + "<br>".join(cells) + " |"


def _factor_tables(res: Results, records: list[dict[str, Any]]) -> list[str]:
    ask_s = _ask_seconds(records)
    factors: dict[str, list[Variant]] = defaultdict(list)
    factors["combination"].append(
        Variant(
            "bayesopt",
            "combination",
            "bayesopt-v0",
            "the adopted default against the old: Matérn 5/2 x learned output scale, "
            "bounded lengthscale prior, noise floor 1e-6 with Gamma(1.1, 30), lean MAP fit, "
            "Yeo-Johnson outputs",
        )
    )
    factors["combination"].append(
        Variant(
            "bayesopt-v1",
            "combination",
            "bayesopt-v0",
            "the study's first default against the old: the same without Yeo-Johnson outputs",
        )
    )
    for v in VARIANTS:
        if v.factor != "reference":
            factors[v.factor].append(v)
    out = [
        "## Factors",
        "",
        "W/T/L: paired two-sided Wilcoxon signed-rank test over seeds at p < 0.05 on each "
        "problem, from the variant's side (a win means a lower final log10 regret). Seconds "
        "per ask are means over every ask of the variant's cells, measured in the same runs "
        "as its reference's, on a shared 2-core machine (compare ratios, not absolutes).",
        "",
    ]
    for factor, variants in factors.items():
        out += [
            f"### {factor}",
            "",
            "| variant | against | W/T/L | wins on | losses on | s per ask (variant / "
            "reference) | what changes |",
            "|---|---|---|---|---|---|---|",
        ]
        details = []
        for v in variants:
            summary, detail = _variant_rows(res, v, ask_s)
            out.append(summary)
            if detail:
                details.append(detail)
        if details:
            out += [
                "",
                "Median final log10 regret over the seeds both ran, variant / reference, and "
                "the test's verdict (W win, · tie, L loss):",
                "",
                "| variant | per problem |",
                "|---|---|",
                *details,
            ]
        out.append("")
    return out


def _old_vs_new(standard: Results) -> list[str]:
    """The new default against the pre-study default on every standard problem."""
    out = [
        "## The new default against the old one (standard suite, all 15 problems)",
        "",
        "`bayesopt-v0` here is the pre-study default as it ran for the committed standard "
        "report (commit 0253d6b); the new default's cells ran at the commits listed in that "
        "report. Paired Wilcoxon over 10 seeds; final log10 regret (lower is better) or "
        "normalised score (higher is better), median new / old.",
        "",
        "| problem | verdict for the new default | p | median new / old |",
        "|---|---|---|---|",
    ]
    counts = {o: 0 for o in Outcome}
    for pr in standard.problems.values():
        if "bayesopt" not in pr.final or "bayesopt-v0" not in pr.final:
            continue
        comp = compare(*pr.paired("bayesopt", "bayesopt-v0"))
        counts[comp.outcome] += 1
        new = _median(list(pr.final["bayesopt"].values()))
        old = _median(list(pr.final["bayesopt-v0"].values()))
        digits = 2 if pr.has_optimum else 3
        out.append(
            f"| {pr.label} | {comp.outcome.value} | {comp.p_value:.3g} | "
            f"{new:.{digits}f} / {old:.{digits}f} |"
        )
    out += [
        "",
        f"Win/tie/loss: {counts[Outcome.WIN]}/{counts[Outcome.TIE]}/{counts[Outcome.LOSS]}.",
        "",
    ]
    return out


HARTMANN6_SECOND_BASIN = -3.25
"""Final values above this are in Hartmann-6's second-best basin (f = -3.2032) or worse;
the global minimum is -3.3224."""


BASIN_CONTENDERS = (
    "bayesopt",
    "bayesopt-v1",
    "optuna-gp",
    "optuna-gp+our-design",
    "bayesopt-v1+init10u",
)


def _basin_table(records: list[dict[str, Any]]) -> list[str]:
    """How often each contender ends Hartmann-6 outside the global basin, over all seeds."""
    finals: dict[str, dict[int, float]] = defaultdict(dict)
    for r in records:
        if r["problem"] == "hartmann6" and r.get("status") == "ok" and r.get("trace"):
            finals[r["contender"]][int(r["seed"])] = float(r["trace"][-1])
    names = [n for n in BASIN_CONTENDERS if len(finals.get(n, {})) >= 20]
    if len(names) < 2 or names[0] != "bayesopt":
        return []
    seeds = sorted(set.intersection(*(set(finals[n]) for n in names)))
    out = [
        "## Hartmann-6: how often the run ends in the second basin",
        "",
        f"Seeds {seeds[0]}–{seeds[-1]} ({len(seeds)}), 80 evaluations. A run is trapped when "
        f"its best value is above {HARTMANN6_SECOND_BASIN} (the second-best basin is at "
        "-3.2032, the global minimum -3.3224). p: Fisher's exact test (two-sided) of the "
        "count against bayesopt's.",
        "",
        "| contender | trapped | p | trapped seeds |",
        "|---|---|---|---|",
    ]
    from scipy.stats import fisher_exact

    counts = {n: [s for s in seeds if finals[n][s] > HARTMANN6_SECOND_BASIN] for n in names}
    ours = len(counts["bayesopt"])
    for n in names:
        k = len(counts[n])
        table = [[ours, len(seeds) - ours], [k, len(seeds) - k]]
        p = "—" if n == "bayesopt" else f"{float(fisher_exact(table).pvalue):.2g}"
        out.append(f"| {n} | {k}/{len(seeds)} | {p} | {', '.join(map(str, counts[n]))} |")
    first10 = [s for s in seeds if s < 10]
    out += [
        "",
        "Seeds 0–9 alone (the anchor cell): "
        + ", ".join(
            f"{n} {sum(finals[n][s] > HARTMANN6_SECOND_BASIN for s in first10)}/{len(first10)}"
            for n in names
        )
        + ".",
        "",
    ]
    return out


def _peer_table(standard: Results) -> list[str]:
    names = [n for n in PEERS if n in standard.contenders]
    with_optimum = [pr for pr in standard.problems.values() if pr.has_optimum]
    out = [
        "## The new default beside every peer (standard suite)",
        "",
        "Median final log10 simple regret [25 %, 75 %] over the seeds, from "
        "`benchmarks/results/standard/` (lower is better; best median in bold).",
        "",
        "| problem | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for pr in with_optimum:
        medians = {}
        cells = {}
        for n in names:
            vals = [v for v in pr.final.get(n, {}).values() if math.isfinite(v)]
            if not vals:
                cells[n] = "—"
                continue
            q1, med, q3 = np.percentile(vals, [25, 50, 75])
            medians[n] = med
            cells[n] = f"{med:.2f} [{q1:.2f}, {q3:.2f}]"
        best = min(medians, key=medians.get) if medians else None
        row = [f"**{cells[n]}**" if n == best else cells[n] for n in names]
        out.append(f"| {pr.label} | " + " | ".join(row) + " |")
    every = {}
    for pr in standard.problems.values():
        present = [n for n in pr.contenders if n in names]
        seeds = sorted({s for n in present for s in pr.final[n]})
        every[pr.label] = {
            n: [pr.loss(pr.final[n].get(s, math.nan)) for s in seeds] for n in present
        }
    ranks = mean_ranks(every)
    out += [
        "",
        "Mean rank over every standard problem each ran on (1 is best; among the contenders "
        "listed here):",
        "",
        "| contender | mean rank |",
        "|---|---|",
        *[f"| {n} | {ranks[n]:.2f} |" for n in sorted(ranks, key=ranks.get)],
        "",
    ]
    return out


def write_report(suite_dir: Path, command: str, standard_dir: Path | None = None) -> Path:
    """Write ``REPORT.md`` of the factor study in ``suite_dir``.

    Args:
        suite_dir: the ablation suite's folder (``runs.jsonl`` inside).
        command: the command line, printed into the report.
        standard_dir: the standard suite's folder, for the comparison with the peers.

    Returns:
        The report's path.
    """
    records = _records(suite_dir)
    res = build(records)
    problems_run = ", ".join(res.problems) or "none yet"
    seeds = sorted({int(r["seed"]) for r in records})
    lines = [
        "# Factor study: what makes bayesopt's default",
        "",
        f"Made by `{command}`. Problems: {problems_run}. Seeds: "
        f"{seeds[0] if seeds else '-'}–{seeds[-1] if seeds else '-'} ({len(seeds)}). "
        f"{len(records)} cells. Variants are defined in `benchmarks/variants.py`.",
        "",
    ]
    conclusions = suite_dir / "CONCLUSIONS.md"
    if conclusions.exists():
        lines += [conclusions.read_text(encoding="utf-8").rstrip(), ""]
    lines += _factor_tables(res, records)
    lines += _basin_table(records)
    if standard_dir is not None and (standard_dir / store.RUNS).exists():
        standard = build(_records(standard_dir))
        lines += _old_vs_new(standard)
        lines += _peer_table(standard)
    out = suite_dir / "REPORT.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
