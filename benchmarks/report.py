"""``REPORT.md`` and figures for one suite of results.

The report answers, per problem and over all problems: does bayesopt beat random search,
random search with twice the budget, and the peers (Optuna, scikit-optimize)? Every claim
is a paired two-sided Wilcoxon signed-rank test across seeds at p < 0.05; the section
"Where bayesopt loses" lists every problem where a bayesopt variant loses such a test, and
every problem where its median is worse without significance.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from benchmarks import contenders, store
from benchmarks.figures import plot_curves
from benchmarks.results_table import ProblemResults, Results, build
from benchmarks.stats import ALPHA, Comparison, Outcome, compare, mean_ranks, min_attainable_p

__all__ = ["write_report"]

BASELINES = ("random", "random-2x")
SYMBOL = {Outcome.WIN: "+", Outcome.TIE: "=", Outcome.LOSS: "−"}
FAMILY_TITLE = {
    "synthetic": "Synthetic functions (noise-free)",
    "noisy": "Noisy synthetic functions (regret of the noise-free value)",
    "mixed": "Mixed integer / categorical functions",
    "ml": "Hyperparameter tuning on scikit-learn data sets",
}


def _bayesopt_names(names: list[str]) -> list[str]:
    return [n for n in names if contenders.get(n).family == "bayesopt"]


def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return float(med), float(q1), float(q3)


def _comparisons(res: Results, a: str, b: str) -> dict[str, Comparison]:
    """``{problem label: a vs b}`` over problems where both ran."""
    out = {}
    for label, pr in res.problems.items():
        if a in pr.final and b in pr.final and a != b:
            x, y = pr.paired(a, b)
            if x:
                out[label] = compare(x, y)
    return out


def _wtl(comps: dict[str, Comparison]) -> str:
    c = Counter(x.outcome for x in comps.values())
    return f"{c[Outcome.WIN]}/{c[Outcome.TIE]}/{c[Outcome.LOSS]}" if comps else "–"


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
    return out


def _seed_text(seeds: list[int]) -> str:
    if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _answers(res: Results) -> list[str]:
    names = res.contenders
    others = [n for n in names if contenders.get(n).family != "bayesopt"]
    out = [
        "## Answers",
        "",
        "Win/tie/loss counts over problems: paired two-sided Wilcoxon signed-rank test "
        f"across seeds, p < {ALPHA}. Lower regret / higher normalised score is better.",
        "",
        "| bayesopt variant | " + " | ".join(f"vs {o}" for o in others) + " |",
        "|---" * (len(others) + 1) + "|",
    ]
    for b in _bayesopt_names(names):
        out.append(f"| {b} | " + " | ".join(_wtl(_comparisons(res, b, o)) for o in others) + " |")
    n_seeds = [len(pr.final.get("random", {})) for pr in res.problems.values()]
    if n_seeds and max(n_seeds) and min_attainable_p(max(n_seeds)) >= ALPHA:
        out += [
            "",
            f"**Caution:** with {max(n_seeds)} seeds no difference can be significant "
            f"(smallest attainable p = {min_attainable_p(max(n_seeds)):.3f}); every "
            "comparison reads as a tie.",
        ]
    out += ["", *_plain_answers(res), ""]
    return out


def _plain_answers(res: Results) -> list[str]:
    if "bayesopt" not in res.contenders:
        return []
    lines = []
    questions = [
        ("random", "Does bayesopt beat random search with the same budget?"),
        ("random-2x", "Does it beat random search with twice the budget?"),
        ("optuna-tpe", "Does it beat Optuna's TPE?"),
        ("optuna-gp", "Does it beat Optuna's GP sampler?"),
        ("skopt-gp", "Does it beat scikit-optimize's GP?"),
    ]
    for other, question in questions:
        comps = _comparisons(res, "bayesopt", other)
        if not comps:
            continue
        c = Counter(x.outcome for x in comps.values())
        lost = sorted(k for k, v in comps.items() if v.outcome is Outcome.LOSS)
        won = sorted(k for k, v in comps.items() if v.outcome is Outcome.WIN)
        answer = (
            f"significantly better on {c[Outcome.WIN]} of {len(comps)} problems"
            + (f" ({', '.join(won)})" if won and len(won) <= 8 else "")
            + f", worse on {c[Outcome.LOSS]}"
            + (f" ({', '.join(lost)})" if lost else "")
            + f", no significant difference on {c[Outcome.TIE]}."
        )
        lines.append(f"- **{question}** {answer[0].upper()}{answer[1:]}")
    return lines


def _losses(res: Results) -> list[str]:
    out = ["## Where bayesopt loses", ""]
    found = False
    for b in _bayesopt_names(res.contenders):
        for label, pr in res.problems.items():
            if b not in pr.final:
                continue
            for other in pr.contenders:
                if contenders.get(other).family == "bayesopt":
                    continue
                x, y = pr.paired(b, other)
                if not x:
                    continue
                comp = compare(x, y)
                med_b, med_o = float(np.median(x)), float(np.median(y))
                digits = 2 if pr.has_optimum else 3
                values = (
                    f"median {pr.metric_name} {_fmt(pr.loss(med_b), digits)} vs "
                    f"{_fmt(pr.loss(med_o), digits)}"
                )
                if comp.outcome is Outcome.LOSS:
                    found = True
                    out.append(
                        f"- **{b} loses to {other} on {label}** (p = {comp.p_value:.3g}, "
                        f"{comp.n_pairs} seeds; {values})."
                    )
                elif med_b > med_o and comp.outcome is Outcome.TIE:
                    out.append(
                        f"- {b} trails {other} on {label} without significance "
                        f"(p = {comp.p_value:.2g}; {values})."
                    )
    if not found:
        out.insert(2, "No significant loss of any bayesopt variant.")
        out.insert(3, "")
    return [*out, ""]


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
                f"| {pr.label} | {pr.problem.dim} | {pr.budget} | " + " | ".join(cells) + " |"
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
            out.append(f"| {pr.label} | {pr.problem.description} | n/a | n/a | 0 |")
            continue
        out.append(
            f"| {pr.label} | {pr.problem.description} | {ref.best:.6g} | "
            f"{ref.median_random:.6g} | {ref.n_random} |"
        )
    return [*out, ""]


def _baseline_tables(res: Results) -> list[str]:
    names = res.contenders
    base = [b for b in BASELINES if b in names]
    if not base:
        return []
    out = [
        "## Win / tie / loss against random search",
        "",
        "Counts over problems (Wilcoxon, p < 0.05). The grid below gives each problem: "
        "`+` significantly better, `=` no significant difference, `−` significantly worse; "
        "first symbol vs " + " then vs ".join(base) + ".",
        "",
        "| contender | " + " | ".join(f"vs {b}" for b in base) + " |",
        "|---" * (len(base) + 1) + "|",
    ]
    comps = {(n, b): _comparisons(res, n, b) for n in names for b in base}
    for n in names:
        out.append(f"| {n} | " + " | ".join(_wtl(comps[n, b]) for b in base) + " |")
    out += ["", "| problem | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label in res.problems:
        row = []
        for n in names:
            marks = [SYMBOL[comps[n, b][label].outcome] for b in base if label in comps[n, b]]
            row.append(" ".join(marks) if marks else "·")
        out.append(f"| {label} | " + " | ".join(row) + " |")
    return [*out, ""]


def _ranks(res: Results) -> list[str]:
    names = res.contenders
    common = [pr for pr in res.problems.values() if all(n in pr.final for n in names)]
    every = {
        label: {n: _aligned(pr, n) for n in pr.contenders} for label, pr in res.problems.items()
    }
    all_ranks = mean_ranks(every)
    common_ranks = mean_ranks({pr.label: every[pr.label] for pr in common})
    counts = {n: sum(n in pr.final for pr in res.problems.values()) for n in names}
    out = [
        "## Mean rank",
        "",
        "Rank 1 is best. Ranked per problem and seed (ties share the mean rank), averaged "
        f"over seeds, then over problems. *Common* uses the {len(common)} problems on which "
        "every contender ran (comparable across contenders); *own* every problem the "
        "contender ran on (ranks there are among the contenders present).",
        "",
        "| contender | mean rank, common | mean rank, own | problems |",
        "|---|---|---|---|",
    ]
    order = sorted(names, key=lambda n: common_ranks.get(n, all_ranks.get(n, math.inf)))
    for n in order:
        out.append(
            f"| {n} | {_fmt(common_ranks.get(n, math.nan))} | "
            f"{_fmt(all_ranks.get(n, math.nan))} | {counts[n]} |"
        )
    return [*out, ""]


def _aligned(pr: ProblemResults, name: str) -> list[float]:
    seeds = sorted({s for c in pr.final.values() for s in c})
    return [pr.loss(pr.final[name].get(s, math.nan)) for s in seeds]


def _costs(res: Results) -> list[str]:
    rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    fallbacks: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    for r in res.records:
        if r.get("status") != "ok":
            continue
        row = rows[r["contender"]]
        row["ask_s"] += r.get("ask_s", 0.0)
        row["tell_s"] += r.get("tell_s", 0.0)
        row["asks"] += r.get("n_asks", 0)
        row["wall_s"] += r.get("wall_s", 0.0)
        row["cells"] += 1
        row["max_ask"] = max(row["max_ask"], r.get("ask_s_max", 0.0))
        for reason, k in (r.get("info") or {}).get("fallbacks", {}).items():
            fallbacks[r["contender"], r["problem"]] += k
            reasons[reason] += k
    out = [
        "## Cost",
        "",
        "Seconds on one thread per worker. *Ask* is the mean time inside `ask`; *optimiser "
        "per evaluation* adds `tell` (scikit-optimize fits its model there). Cell seconds "
        "include the objective's own time.",
        "",
        "| contender | mean s per ask | max s of one ask | optimiser s per evaluation | "
        "cells | total cell-s |",
        "|---|---|---|---|---|---|",
    ]
    for n in res.contenders:
        row = rows.get(n)
        if not row or not row["asks"]:
            continue
        out.append(
            f"| {n} | {row['ask_s'] / row['asks']:.3f} | {row['max_ask']:.2f} | "
            f"{(row['ask_s'] + row['tell_s']) / row['asks']:.3f} | {int(row['cells'])} | "
            f"{row['wall_s']:.0f} |"
        )
    total = sum(row["wall_s"] for row in rows.values())
    out += ["", f"Total: {total:,.0f} cell-seconds over {len(res.records)} cells."]
    out.append("")
    return out + _fallbacks(res, fallbacks, reasons)


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
        out.append(f"| {problem} | " + " | ".join(str(fallbacks[n, problem]) for n in ours) + " |")
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
    res = build(store.latest(records).values())
    figure = plot_curves(res, suite_dir / "curves.png")
    refs = {
        label: vars(pr.reference) for label, pr in res.problems.items() if pr.reference is not None
    }
    (suite_dir / "references.json").write_text(json.dumps(refs, indent=2) + "\n")
    lines = (
        _header(res, suite_dir, command)
        + _answers(res)
        + _losses(res)
        + _family_tables(res)
        + _baseline_tables(res)
        + _ranks(res)
        + _costs(res)
        + [
            "## Curves",
            "",
            "Median (line) and 25–75 % band over seeds of the best-so-far metric against "
            "the number of evaluations.",
            "",
            f"![curves]({figure.name})",
            "",
        ]
        + _errors(res)
        + _method()
    )
    if bad:
        lines.append(f"({bad} unreadable line(s) of runs.jsonl were skipped.)")
    out = suite_dir / "REPORT.md"
    out.write_text("\n".join(lines).rstrip() + "\n")
    return out
