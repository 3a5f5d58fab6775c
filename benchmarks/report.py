"""``REPORT.md`` and figures for one suite of results.

The report answers, per problem and over all problems: does bayesopt beat random search,
random search with twice the budget, and the peers (Optuna, scikit-optimize)? Every claim
is a paired two-sided Wilcoxon signed-rank test across seeds at p < 0.05, shown raw and
after Holm's correction within each pair's family of problems; headline counts and mean
ranks use the report set (problems never used to choose bayesopt's defaults), and every
table marks the tuning-set problems. The factor study's variants are left to the ablation
report.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import contenders, presets, store
from benchmarks.figures import plot_curves
from benchmarks.figures_rounds import plot_rounds
from benchmarks.manifest import manifest_lines
from benchmarks.report_comparisons import answers, baseline_tables, losses, split, tagged
from benchmarks.report_ranks import rank_section
from benchmarks.results_table import ProblemResults, Results, batch_of, build, label_of
from benchmarks.stats import ALPHA, compare, min_attainable_p

__all__ = ["write_report"]

EXTRA_PACKAGES = ("matplotlib", "tqdm", "cmaes", "hyperopt", "nevergrad", "smac", "ax-platform")
"""Installed versions listed in the manifest beside those the records hold."""

VARIANTS = frozenset(contenders.names()) - frozenset(contenders.names(variants=False))
"""The factor study's contenders: reported in ``results/ablation/REPORT.md``, not here."""

FAMILY_TITLE = {
    "synthetic": "Synthetic functions (noise-free)",
    "noisy": "Noisy synthetic functions (regret of the noise-free value)",
    "mixed": "Mixed integer / categorical functions",
    "ml": "Hyperparameter tuning on scikit-learn data sets",
}


def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return float(med), float(q1), float(q3)


# Sections ---------------------------------------------------------------------------------
def _header(res: Results, suite_dir: Path, command: str) -> list[str]:
    versions = next((r.get("versions") for r in res.records if r.get("versions")), {})
    metas = {json.dumps(r.get("meta", {}).get("commit")) for r in res.records}
    commands = suite_dir / "commands.log"
    runs = commands.read_text().splitlines() if commands.exists() else []
    seeds = sorted({int(r["seed"]) for r in res.records})
    out = [
        f"# Benchmark report: `{suite_dir.name}`",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({platform.machine()}, {os.cpu_count()} CPUs visible).",
        "",
        "Runs that produced the results (from `commands.log`):",
        "",
        "```",
        *(runs or ["(no commands.log)"]),
        "```",
        "",
        f"{len(res.records)} cells ({len(res.errors)} errors), {len(res.problems)} problems, "
        f"{len(res.contenders)} contenders, seeds {_seed_text(seeds)}. "
        f"Code commit(s): {', '.join(sorted(m.strip(chr(34)) for m in metas))}. "
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
    ]
    if res.batched:
        out += [
            "**Batch mode.** Problems labelled `name@RxQ` ran R rounds of Q points: each "
            "round the contender is asked Q points (bayesopt: `ask(Q)`; Optuna: Q `study.ask` "
            "before any tell, so the later ones are sampled with the earlier ones running; "
            "random: Q draws; random-2x: 2Q), all are evaluated, then told together. Budget "
            "points are rounds, the budget in evaluations is R × Q, and contenders are "
            "compared only at equal Q (contender `bayesopt` in an `@16x4` row is "
            "`bayesopt-q4`).",
            "",
        ]
    variants = Counter(r["contender"] for r in res.records if r["contender"] in VARIANTS)
    if variants:
        out += [
            f"The {sum(variants.values())} cells of the factor study's variants in "
            f"`runs.jsonl` ({', '.join(f'{n}: {k}' for n, k in variants.items())}) are left "
            "out of this report: they are compared with the default in "
            "`results/ablation/REPORT.md`.",
            "",
        ]
    return out


def _problems(labels: list[str]) -> str:
    return f"{len(labels)} problem" + ("" if len(labels) == 1 else "s")


def _sets(res: Results) -> list[str]:
    """``## Tuning set and report set``: which problems may have shaped the default."""
    report, tuning = split(res)
    seeds = sorted({int(s) for pr in res.problems.values() for c in pr.final.values() for s in c})
    return [
        "## Tuning set and report set",
        "",
        "bayesopt's current default was tuned on the problems of the **tuning set** "
        f"(`benchmarks/presets.py`, `TUNING_SET`: {', '.join(presets.TUNING_SET)}): the "
        "factor study (`results/ablation/`) chose its settings (model, output transform, "
        "initial design, acquisition search, discrete search, trust-region rule) on them "
        "with seeds 0–9; those of them in the standard suite are its cells, with the same "
        "seeds and budgets. bayesopt's results on them are therefore in-sample. The study "
        "also compared the default with its "
        "predecessor on every standard problem, which is how RF-wine entered the tuning "
        "set. The **report set** (`REPORT_SET`) is every other problem; none was used to "
        "choose anything.",
        "",
        f"In this report (seeds {_seed_text(seeds)}): report set, {_problems(report)}: "
        f"{', '.join(report) or 'none'}; tuning set, {_problems(tuning)}: "
        f"{', '.join(tuning) or 'none'}. Headline counts and mean ranks use the report set "
        "only; tables over all problems mark tuning-set problems with (tuning).",
        "",
    ]


def _seed_text(seeds: list[int]) -> str:
    if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _family_tables(res: Results) -> list[str]:
    out = ["## Final scores per problem", ""]
    for family, prs in res.by_family().items():
        names = [n for n in res.contenders if any(n in pr.final for pr in prs)]
        metric = prs[0].metric_name
        better = "lower is better" if prs[0].has_optimum else "higher is better"
        out += [
            f"### {FAMILY_TITLE[family]}",
            "",
            f"Median [25 %, 75 %] of the final {metric} ({better}); best median in bold.",
            "",
            "| problem | d | budget | " + " | ".join(names) + " |",
            "|---" * (len(names) + 3) + "|",
        ]
        for pr in prs:
            stats = {n: _quartiles(list(pr.final[n].values())) for n in names if n in pr.final}
            finite = [pr.loss(s[0]) for s in stats.values() if math.isfinite(s[0])]
            best = min(finite) if finite else math.nan
            cells = []
            for n in names:
                if n not in stats:
                    cells.append("–")
                    continue
                med, q1, q3 = stats[n]
                digits = 2 if pr.has_optimum else 3
                text = f"{_fmt(med, digits)} [{_fmt(q1, digits)}, {_fmt(q3, digits)}]"
                cells.append(f"**{text}**" if pr.loss(med) == best else text)
            out.append(
                f"| {tagged(pr)} | {pr.problem.dim} | {pr.budget} | " + " | ".join(cells) + " |"
            )
        out.append("")
        if family == "ml":
            out += _references(prs)
    return out


def _references(prs: list[ProblemResults]) -> list[str]:
    out = [
        "Anchors of the normalised score (also in `references.json`): score 1 = the best "
        "value any contender found on any seed, 0 = the median value of one uniformly random "
        "evaluation (pooled over the random streams of all seeds).",
        "",
        "| task | what is minimised | best seen | median random | random evaluations |",
        "|---|---|---|---|---|",
    ]
    for pr in prs:
        ref = pr.reference
        if ref is None:
            out.append(f"| {tagged(pr)} | {pr.problem.description} | n/a | n/a | 0 |")
            continue
        out.append(
            f"| {tagged(pr)} | {pr.problem.description} | {ref.best:.6g} | "
            f"{ref.median_random:.6g} | {ref.n_random} |"
        )
    return [*out, ""]


def _costs(res: Results) -> list[str]:
    rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    fallbacks: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    shown = set(res.contenders)
    for r in res.records:
        if r.get("status") != "ok":
            continue
        base, _ = batch_of(r["contender"])
        if base in VARIANTS:
            continue
        row = rows[r["contender"]]
        row["ask_s"] += r.get("ask_s", 0.0)
        row["tell_s"] += r.get("tell_s", 0.0)
        row["asks"] += r.get("n_asks", 0)
        row["wall_s"] += r.get("wall_s", 0.0)
        row["cells"] += 1
        row["max_ask"] = max(row["max_ask"], r.get("ask_s_max", 0.0))
        if base not in shown:
            continue
        for reason, k in (r.get("info") or {}).get("fallbacks", {}).items():
            fallbacks[base, label_of(r)] += k
            reasons[reason] += k
    out = [
        "## Cost",
        "",
        f"Seconds per worker process, {_thread_setting(res.records)}. *Ask* is the mean time "
        "inside `ask`; *optimiser per evaluation* adds `tell` (scikit-optimize fits its model "
        "there). Cell seconds include the objective's own time."
        + (
            " For a batch contender (`NAME-qQ`) one ask proposes a whole round of Q points."
            if res.batched
            else ""
        ),
        "",
        "| contender | mean s per ask | max s of one ask | optimiser s per evaluation | "
        "cells | total cell-s |",
        "|---|---|---|---|---|---|",
    ]
    order = {n: i for i, n in enumerate(res.contenders)}
    names = sorted(
        (n for n in rows if batch_of(n)[0] in order),
        key=lambda n: (batch_of(n)[1], order[batch_of(n)[0]]),
    )
    for n in names:
        row = rows[n]
        if not row["asks"]:
            continue
        evals = row["asks"] * batch_of(n)[1]
        out.append(
            f"| {n} | {row['ask_s'] / row['asks']:.3f} | {row['max_ask']:.2f} | "
            f"{(row['ask_s'] + row['tell_s']) / evals:.3f} | {int(row['cells'])} | "
            f"{row['wall_s']:.0f} |"
        )
    total = sum(row["wall_s"] for row in rows.values())
    cells = len(res.records)
    out += ["", f"Total: {total:,.0f} cell-seconds over all {cells} cells of `runs.jsonl`."]
    out.append("")
    return out + _fallbacks(res, fallbacks, reasons)


def _thread_setting(records: list[dict[str, Any]]) -> str:
    """How the records' workers set their threads (records made before the setting was
    recorded ran with the runner's former default of one thread)."""
    settings = {(r.get("meta") or {}).get("threads", 1) for r in records}
    words = {None: "no thread setting (each library's own defaults)"}
    return " and ".join(sorted(words.get(t, f"{t} thread(s) set by the runner") for t in settings))


def _fallbacks(
    res: Results, fallbacks: Counter[tuple[str, str]], reasons: Counter[str]
) -> list[str]:
    """Asks of bayesopt contenders that fell back to a space-filling point, per problem."""
    ours = [n for n in res.contenders if n.startswith("bayesopt")]
    if not ours:
        return []
    if not fallbacks:
        return [
            "Fallback asks (`FallbackWarning`: the GP could not be used, a space-filling "
            f"point was proposed): none, for {', '.join(ours)} on every problem.",
            "",
        ]
    out = [
        "Fallback asks (`FallbackWarning`: the GP could not be used, a space-filling point "
        "was proposed), per problem; reasons: "
        + ", ".join(f"{k}× {reason}" for reason, k in reasons.most_common())
        + ".",
        "",
        "| problem | " + " | ".join(ours) + " |",
        "|---" * (len(ours) + 1) + "|",
    ]
    for problem in sorted({p for _, p in fallbacks}):
        mark = " (tuning)" if problem.split("@")[0] in presets.TUNING_SET else ""
        counts = " | ".join(str(fallbacks[n, problem]) for n in ours)
        out.append(f"| {problem}{mark} | {counts} |")
    return [*out, ""]


def _saturated(res: Results) -> list[str]:
    """``## Saturated tasks``: tuning tasks whose contenders cannot be told apart."""
    tasks = [pr for pr in res.problems.values() if not pr.has_optimum]
    if not tasks:
        return []
    flagged = [pr for pr in tasks if pr.saturated]
    out = [
        "## Saturated tasks",
        "",
        "A tuning task is **saturated** when the spread of the contenders' median best values "
        "(over seeds, in the objective's units) is no larger than the larger of the median "
        "seed-to-seed standard deviation of one contender and the task's resolution (the "
        "smallest positive gap between two final values: one misclassified row of a "
        "cross-validated error rate, say): `max_c m_c − min_c m_c ≤ max(median_c s_c, δ)` "
        "(`stats.saturated`, computed from the records). Such a task cannot separate the "
        "contenders; it is marked (saturated) in every table and left out of the mean "
        "ranks, but its paired tests are still shown.",
        "",
    ]
    if not flagged:
        return [*out, f"None of the {len(tasks)} tuning tasks is saturated.", ""]
    out += [
        "| task | spread of medians | median seed s.d. | resolution δ |",
        "|---|---|---|---|",
    ]
    for pr in flagged:
        finals = [[x for x in v.values() if math.isfinite(x)] for n, v in pr.raw_final.items()]
        finals = [f for f in finals if len(f) >= 2]
        meds = [float(np.median(f)) for f in finals]
        sds = [float(np.std(f, ddof=1)) for f in finals]
        gaps = np.diff(np.unique([x for f in finals for x in f]))
        delta = float(gaps.min()) if len(gaps) else 0.0
        out.append(
            f"| {pr.label} | {max(meds) - min(meds):.4g} | {float(np.median(sds)):.4g} | "
            f"{delta:.4g} |"
        )
    return [*out, ""]


def _recommended(res: Results) -> list[str]:
    """``## Recommended point on noisy problems``: regret of what each contender would
    deploy, beside the regret of its best noise-free evaluation."""
    noisy = [pr for pr in res.problems.values() if pr.problem.noisy and pr.recommended]
    if not noisy:
        return []
    out = [
        "## Recommended point on noisy problems",
        "",
        "The regret tables score the best *noise-free* value among the points a contender "
        "evaluated, which no optimiser can know on a noisy problem. Here each contender "
        "also names the point it would deploy at the end, scored by its noise-free value: "
        "bayesopt's `Optimizer.recommend()` (the evaluated point with the best posterior "
        "mean when its GP judges the objective noisy, else the best observed one), "
        "Nevergrad's `provide_recommendation()`, SMAC's incumbent and Ax's "
        "`get_best_parameterization()`; every other contender, and random search, "
        "recommends its best *observed* (noisy) evaluation. Median [25 %, 75 %] of the "
        "log10 regret; *vs bayesopt*: paired Wilcoxon of the recommended points' regrets "
        f"across seeds (p < {ALPHA}, raw; `+` bayesopt's recommendation is better).",
        "",
        "| problem | contender | best evaluated | recommended | vs bayesopt (p) |",
        "|---|---|---|---|---|",
    ]
    for pr in noisy:
        for n in res.contenders:
            if n not in pr.recommended:
                continue
            best = _quartiles(list(pr.final.get(n, {}).values()))
            rec = _quartiles(list(pr.recommended[n].values()))
            versus = "–"
            if n != "bayesopt" and "bayesopt" in pr.recommended:
                x, y = pr.paired("bayesopt", n, pr.recommended)
                if x:
                    comp = compare(x, y)
                    symbol = {"win": "+", "tie": "=", "loss": "−"}[comp.outcome.value]
                    versus = f"{symbol} ({comp.p_value:.2g})"
            out.append(
                f"| {tagged(pr)} | {n} | {_fmt(best[0])} [{_fmt(best[1])}, {_fmt(best[2])}] | "
                f"{_fmt(rec[0])} [{_fmt(rec[1])}, {_fmt(rec[2])}] | {versus} |"
            )
    return [*out, ""]


def _errors(res: Results) -> list[str]:
    if not res.errors:
        return []
    out = ["## Errors", "", f"{len(res.errors)} cells recorded an error:", ""]
    for r in res.errors[:30]:
        out.append(f"- {r['problem']} / {r['contender']} / seed {r['seed']}: `{r.get('error')}`")
    return [*out, ""]


def _method() -> list[str]:
    return [
        "## How to read this",
        "",
        "- **Simple regret** is the best noise-free value among the evaluations so far minus "
        "the known optimum, floored at 1e-12, in log10. On noisy problems the optimiser sees "
        "noisy values, but regret is computed from the noise-free value of the points it "
        "evaluated.",
        "- **Normalised score** (tuning tasks): 0 is the median value of one random "
        "evaluation, 1 the best value any contender found on any seed (Bayesmark's "
        "construction); negative means worse than a typical random point.",
        "- **random-2x** is uniform random search with twice the evaluations; at budget "
        "point k it reports the best of its first 2k draws. Its first draws are those of "
        "`random` with the same seed.",
        "- **Wilcoxon**: paired by seed, two-sided, zero differences dropped; all-equal "
        f"inputs are a tie. With n seeds the smallest attainable p is 2/2^n "
        f"({min_attainable_p(6):.3f} for 6, {min_attainable_p(10):.4f} for 10).",
        "- **Holm's correction**: within one pair of contenders over m problems, sort the m "
        f"p-values; the i-th smallest is significant if it and every smaller one are at "
        f"most {ALPHA}/(m − i + 1). It keeps the chance of any false verdict in the family "
        f"at {ALPHA} or below, where m separate tests at {ALPHA} would not. With 10 seeds "
        f"and m = 15 the first threshold is {ALPHA / 15:.4f}, above the smallest attainable "
        f"p ({min_attainable_p(10):.4f}): a difference must hold on nearly every seed.",
        "- **Mean rank, Friedman, CD**: ranks of the per-problem median losses of the field "
        "(distinct methods on every problem); the Friedman test of equal mean ranks; the "
        "Nemenyi critical difference (Demšar 2006) for all pairs at once.",
        "",
    ]


def write_report(suite_dir: Path, command: str) -> Path:
    """Write ``REPORT.md``, ``curves.png`` and ``references.json`` into ``suite_dir``.

    Args:
        suite_dir: the suite's results folder (holding ``runs.jsonl``).
        command: the command line that asked for the report (printed into it).

    Returns:
        The path of ``REPORT.md``.
    """
    records, bad = store.read(suite_dir / store.RUNS)
    if not records:
        raise SystemExit(f"no records in {suite_dir / store.RUNS}; run the suite first")
    res = build(store.latest(records).values()).without(VARIANTS)
    _, tuning = split(res)
    if res.batched:
        figure = plot_rounds(res, suite_dir / "curves.png", tuning=tuning)
    else:
        figure = plot_curves(res, suite_dir / "curves.png", tuning=tuning)
    refs = {
        label: vars(pr.reference) for label, pr in res.problems.items() if pr.reference is not None
    }
    (suite_dir / "references.json").write_text(json.dumps(refs, indent=2) + "\n")
    ranks = rank_section(res, suite_dir)
    lines = (
        _header(res, suite_dir, command)
        + _sets(res)
        + answers(res, ranks.summary())
        + losses(res)
        + _family_tables(res)
        + _recommended(res)
        + _saturated(res)
        + baseline_tables(res)
        + ranks.lines()
        + _costs(res)
        + [
            "## Curves",
            "",
            "Median (line) and 25–75 % band over seeds of the best-so-far metric against "
            + (
                "rounds (one panel per problem and batch size)"
                if res.batched
                else "the number of evaluations"
            )
            + "; tuning-set panels are marked (tuning).",
            "",
            f"![curves]({figure.name})",
            "",
        ]
        + _errors(res)
        + _method()
        + manifest_lines(suite_dir, res.records, command, EXTRA_PACKAGES)
    )
    if bad:
        lines.append(f"({bad} unreadable line(s) of runs.jsonl were skipped.)")
    out = suite_dir / "REPORT.md"
    out.write_text("\n".join(lines).rstrip() + "\n")
    return out
