"""REPORT.md of the COCO BBOB suite (preset ``bbob``): ``python -m benchmarks bbob-report``.

Per dimension: which cells ran; the median final log10 precision ``log10(f - f_opt)`` per
function and contender; ECDFs of runtimes over all functions and per function group
(``benchmarks.ecdf``); paired comparisons (Wilcoxon + Holm, ``benchmarks.stats``) of
bayesopt against random, random-2x and every peer, and of every contender against
random-2x, per function across instances and across functions on the per-function
medians; mean ranks with the Friedman test and the Nemenyi critical difference. The
manifest names the commit, the package versions, the machine and the wall time.

Every number comes from instances 1-15 (seeds 0-14), on which nothing was tuned.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import contenders, presets, problems, store
from benchmarks.cell import log10_regret
from benchmarks.ecdf import TARGETS, EcdfCurve, ecdf_by_contender, plot_ecdfs
from benchmarks.figures import plot_cd
from benchmarks.manifest import manifest_lines
from benchmarks.problems.bbob import FUNCTION_GROUPS, FUNCTION_NAMES, parse_name
from benchmarks.report_comparisons import family
from benchmarks.results_table import ProblemResults, Results
from benchmarks.stats import (
    ALPHA,
    Q_ALPHA_005,
    Comparison,
    compare,
    friedman,
    holm_outcomes,
    min_attainable_p,
    nemenyi_cd,
)

__all__ = ["build_bbob", "write_bbob_report"]

HARDWARE = "a 2-core x86-64 Linux VM"
DATE = "2026-11-30"
EXTRA_PACKAGES = ("coco-experiment", "cmaes", "hyperopt", "matplotlib")
"""Versions read when the report is written (the records store the others)."""


def build_bbob(records: Iterable[dict[str, Any]]) -> Results:
    """Finished BBOB records as ``Results`` (final metric: log10 precision, floored at
    ``1e-12``), problems in registry order; records of other problems are ignored."""
    records = [r for r in records if r["problem"] in problems.bbob_registry()]
    ok = [r for r in records if r.get("status") == "ok"]
    order = list(problems.bbob_registry())
    out: dict[str, ProblemResults] = {}
    for r in sorted(ok, key=lambda r: order.index(r["problem"])):
        problem = problems.get(r["problem"])
        label = (
            r["problem"] if int(r["budget"]) == problem.budget else f"{r['problem']}@{r['budget']}"
        )
        pr = out.setdefault(label, ProblemResults(label, problem, int(r["budget"])))
        metric = [log10_regret(math.nan if v is None else v, 0.0) for v in r["trace"]]
        pr.curves.setdefault(r["contender"], {})[int(r["seed"])] = metric
        pr.final.setdefault(r["contender"], {})[int(r["seed"])] = metric[-1]
    errors = [r for r in records if r.get("status") != "ok"]
    return Results(out, errors, records)


def _fmt(x: float, digits: int = 2) -> str:
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def _median(pr: ProblemResults, name: str, seeds: Collection[int] | None = None) -> float:
    """The median final value of ``name`` over its instances (or over ``seeds`` only)."""
    final = pr.final.get(name, {})
    values = [v for s, v in final.items() if math.isfinite(v) and (seeds is None or s in seeds)]
    return float(np.median(values)) if values else math.nan


def _order(names: Iterable[str]) -> list[str]:
    known = contenders.names()
    return sorted(set(names), key=lambda n: known.index(n) if n in known else len(known))


def _dims(res: Results) -> list[int]:
    return sorted({parse_name(pr.problem.name)[1] for pr in res.problems.values()})


def _at(res: Results, dim: int) -> Results:
    """The problems of one dimension, on the (function, instance) cells bayesopt ran there.

    Where bayesopt ran only part of a dimension's grid (a d = 10 run costs minutes), the
    peers are compared on the same cells, so every aggregate (ECDF, ranks, tests) rests on
    one set of problems; their other runs stay in ``runs.jsonl``."""
    kept = {k: pr for k, pr in res.problems.items() if parse_name(pr.problem.name)[1] == dim}
    ours = {(pr.problem.name, s) for pr in kept.values() for s in pr.final.get("bayesopt", {})}
    if not ours:
        return Results(kept, res.errors, res.records)
    shared = {}
    for k, pr in kept.items():
        seeds = {s for name, s in ours if name == pr.problem.name}
        if seeds:
            shared[k] = replace(pr, curves=_only(pr.curves, seeds), final=_only(pr.final, seeds))
    records = [
        r for r in res.records
        if r["problem"] not in problems.bbob_registry()
        or parse_name(r["problem"])[1] != dim
        or (r["problem"], int(r["seed"])) in ours
    ]  # fmt: skip
    return Results(shared, res.errors, records)


def _partial_note(res: Results) -> list[str]:
    """A paragraph naming the dimensions where bayesopt ran fewer cells than a peer (whose
    comparisons ``_at`` restricts to bayesopt's cells), or nothing."""
    partial = []
    for dim in _dims(res):
        cells: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for pr in res.problems.values():
            if parse_name(pr.problem.name)[1] == dim:
                for c, by in pr.final.items():
                    cells[c] |= {(pr.problem.name, s) for s in by}
        ours = cells.get("bayesopt", set())
        if ours and any(not other <= ours for other in cells.values()):
            partial.append(dim)
    if not partial:
        return []
    dims = ", ".join(f"d = {d}" for d in partial)
    return [
        f"At {dims} bayesopt ran only part of the grid, so every contender is compared on "
        "the cells bayesopt ran there: the dimension's summary line names them. The peers' "
        "other runs stay in `runs.jsonl`.",
        "",
    ]


def _only(by_contender: dict[str, dict[int, Any]], seeds: set[int]) -> dict[str, dict]:
    """``{contender: {seed: x}}`` restricted to ``seeds``."""
    return {c: {s: x for s, x in by.items() if s in seeds} for c, by in by_contender.items()}


def _instances(res: Results) -> str:
    """The instances bayesopt ran, as COCO numbers them (seed + 1)."""
    seeds = sorted({s for pr in res.problems.values() for s in pr.final.get("bayesopt", {})})
    if not seeds:
        return "(all)"
    lo, hi = seeds[0] + 1, seeds[-1] + 1
    return f"{lo}-{hi}" if len(seeds) == hi - lo + 1 else ",".join(str(s + 1) for s in seeds)


# Coverage ---------------------------------------------------------------------------------
def _coverage(res: Results, preset_cells: list[Any]) -> list[str]:
    done = {
        (pr.problem.name, c, s) for pr in res.problems.values() for c, by in pr.final.items()
        for s in by
    }  # fmt: skip
    expected: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for cell in preset_cells:
        f, d = parse_name(cell.problem)
        expected[(d, cell.contender)].append((f, cell.seed))
    seen: dict[tuple[int, str], int] = defaultdict(int)
    for name, c, _ in done:
        seen[(parse_name(name)[1], c)] += 1
    dims = sorted({d for d, _ in expected} | {d for d, _ in seen})
    names = _order([c for _, c in expected] + [c for _, c in seen])
    out = [
        "## What ran",
        "",
        "Finished cells (function x instance) per dimension and contender, against the "
        "preset's grid ("
        + "; ".join(
            f"d = {d}: 24 functions x instances 1-{n} = {24 * n}"
            for d, n in presets.BBOB_INSTANCES.items()
        )
        + "):",
        "",
        "| d | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for d in dims:
        row = [
            f"{seen.get((d, n), 0)}/{len(expected[(d, n)])}"
            if (d, n) in expected
            else f"{seen.get((d, n), 0)} (not in the preset)"
            for n in names
        ]
        out.append(f"| {d} | " + " | ".join(row) + " |")
    out.append("")
    for d, left_out in presets.BBOB_SKIPPED.items():
        out += [
            f"At d = {d} the preset leaves out {', '.join(left_out)} for its cost "
            "(`benchmarks.presets.BBOB_SKIPPED` says how much).",
            "",
        ]
    from benchmarks.problems.bbob import DIMENSIONS

    unrun = [str(d) for d in DIMENSIONS if d not in dims]
    if unrun:
        out += [f"d = {', '.join(unrun)}: registered, not run.", ""]
    missing = []
    for (d, n), cells in sorted(expected.items()):
        left = sorted((f, s) for f, s in cells if (f"bbob-f{f:02d}-d{d}", n, s) not in done)
        if left:
            missing.append(f"- d = {d}, {n}: {len(left)} of {len(cells)} missing: {_gaps(left)}.")
    if missing:
        out += [
            "**Not run** (the runner is resumable: `python -m benchmarks run --preset bbob "
            "--workers 1` runs what is missing, then rerun the report):",
            "",
        ]
        out += [*missing, ""]
    else:
        out += ["Every cell of the preset ran.", ""]
    if res.errors:
        out += [f"{len(res.errors)} cells ended in an error:", ""]
        for r in res.errors[:20]:
            out.append(f"- {r['problem']} {r['contender']} seed {r['seed']}: {r.get('error')}")
        out.append("")
    return out


def _ranges(numbers: Iterable[int]) -> str:
    """``1-3, 5`` from ``[1, 2, 3, 5]``."""
    out: list[list[int]] = []
    for k in sorted(numbers):
        if out and k == out[-1][-1] + 1:
            out[-1].append(k)
        else:
            out.append([k])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in out)


def _gaps(left: list[tuple[int, int]]) -> str:
    """Missing (function, seed) pairs as functions grouped by their missing instances."""
    by_function: dict[int, list[int]] = defaultdict(list)
    for f, seed in left:
        by_function[f].append(seed + 1)
    by_instances: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for f, instances in by_function.items():
        by_instances[tuple(sorted(instances))].append(f)
    return "; ".join(
        f"f{_ranges(fs)} (instance{'s' if len(inst) > 1 else ''} {_ranges(inst)})"
        for inst, fs in sorted(by_instances.items(), key=lambda kv: min(kv[1]))
    )


# Regret tables ----------------------------------------------------------------------------
def _regret_table(res: Results, names: list[str]) -> list[str]:
    out = [
        "| function | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for pr in res.problems.values():
        f, _ = parse_name(pr.problem.name)
        medians = {n: _median(pr, n) for n in names}
        best = min((v for v in medians.values() if math.isfinite(v)), default=math.nan)
        cells = []
        for n in names:
            m, k = medians[n], len(pr.final.get(n, {}))
            text = _fmt(m) + ("" if k in (0, _n_seeds(res)) else f" ({k})")
            cells.append(f"**{text}**" if math.isfinite(m) and m <= best + 1e-9 else text)
        out.append(f"| f{f} {FUNCTION_NAMES[f]} | " + " | ".join(cells) + " |")
    return [*out, ""]


def _n_seeds(res: Results) -> int:
    return max((len(v) for pr in res.problems.values() for v in pr.final.values()), default=0)


# ECDFs ------------------------------------------------------------------------------------
def _ecdfs(res: Results, dim: int, suite_dir: Path) -> tuple[list[str], dict[str, dict]]:
    function_of = {name: parse_name(name) for name in problems.names("bbob")}
    records = [
        r for r in res.records
        if r.get("status") == "ok" and r["problem"] in function_of
        and int(r["budget"]) == problems.get(r["problem"]).budget
    ]  # fmt: skip
    panels: dict[str, dict[str, EcdfCurve]] = {
        "all functions": ecdf_by_contender(records, dim, range(1, 25), function_of)
    }
    for group, funcs in FUNCTION_GROUPS.items():
        title = f"{group} f{funcs[0]}-{funcs[-1]}"
        panels[title] = ecdf_by_contender(records, dim, funcs, function_of)
    panels = {k: {n: v[n] for n in _order(v)} for k, v in panels.items()}
    path = plot_ecdfs(
        panels,
        suite_dir / f"ecdf_d{dim}.png",
        title=f"BBOB d = {dim}: ECDF of runtimes to {len(TARGETS)} targets 1e2..1e-8",
    )
    names = _order(n for p in panels.values() for n in p)
    out = [
        f"![ECDF d = {dim}]({path.name})",
        "",
        "Fraction of (function, instance, target) triples reached at the budget (20 d), the "
        "ECDF's last point (runs in brackets where fewer than the others):",
        "",
        "| functions | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for title, curves in panels.items():
        runs = {c.n_runs for c in curves.values()}
        cells = []
        for n in names:
            c = curves.get(n)
            if c is None:
                cells.append("–")
                continue
            extra = f" ({c.n_runs})" if len(runs) > 1 and c.n_runs < max(runs) else ""
            cells.append(f"{c.final:.3f}{extra}")
        out.append(f"| {title} | " + " | ".join(cells) + " |")
    return [*out, ""], panels


# Comparisons ------------------------------------------------------------------------------
def _pairs(names: list[str]) -> list[tuple[str, str]]:
    pairs = [("bayesopt", n) for n in names if n != "bayesopt"] if "bayesopt" in names else []
    pairs += [(n, "random-2x") for n in names if n not in ("bayesopt", "random-2x")]
    return pairs if "random-2x" in names else [p for p in pairs if "random-2x" not in p]


def _across_functions(res: Results, a: str, b: str) -> tuple[int, int, int, Comparison]:
    """Per-function medians of ``a`` and ``b``: functions where a is lower / equal / higher,
    and the paired Wilcoxon test of the medians over functions (from ``a``'s side). Each
    function's two medians are over the instances both ran, so that a contender run on
    fewer instances is compared like for like."""
    x, y = [], []
    for pr in res.problems.values():
        common = set(pr.final.get(a, {})) & set(pr.final.get(b, {}))
        ma, mb = _median(pr, a, common), _median(pr, b, common)
        if math.isfinite(ma) and math.isfinite(mb):
            x.append(ma)
            y.append(mb)
    d = np.array(x) - np.array(y)
    return int((d < 0).sum()), int((d == 0).sum()), int((d > 0).sum()), compare(x, y)


def _comparisons(res: Results, names: list[str]) -> tuple[list[str], list[str]]:
    pairs = _pairs(names)
    fams = {(a, b): family(res, a, b) for a, b in pairs}
    n_seeds = _n_seeds(res)
    out = [
        "Per function: paired Wilcoxon signed-rank test across instances of the final log10 "
        "precision (p < 0.05), then Holm's correction over the functions of the pair "
        "(win/tie/loss from the first contender's side; raw | Holm).",
    ]
    if n_seeds and min_attainable_p(n_seeds) >= ALPHA:
        out[-1] += (
            f" **With {n_seeds} instances the smallest attainable p is "
            f"{min_attainable_p(n_seeds):.4f}, so no single function can show a significant "
            "difference: every per-function verdict is a tie by construction.** The "
            "across-function test beside it is the informative one."
        )
    out += [
        "",
        "Across functions: the per-function medians paired over the functions of this "
        "dimension (functions where the first is lower / equal / higher), two-sided Wilcoxon "
        "over functions, Holm's correction over the pairs in this table.",
        "",
        "| pair | functions | per function, raw | per function, Holm | median lower / equal / "
        "higher | p (across functions) | Holm |",
        "|---|---|---|---|---|---|---|",
    ]
    across = {(a, b): _across_functions(res, a, b) for a, b in pairs}
    verdicts = holm_outcomes({k: v[3] for k, v in across.items()})
    for (a, b), fam in fams.items():
        lo, eq, hi, test = across[(a, b)]
        p = f"{test.p_value:.2g}" if test.n_pairs else "–"
        out.append(
            f"| {a} vs {b} | {len(fam.raw)} | {fam.wtl(False)} | {fam.wtl(True)} | "
            f"{lo} / {eq} / {hi} | {p} | {verdicts[(a, b)].value} |"
        )
    summary = [
        f"{b} {verdicts[(a, b)].value} (lower median on {across[(a, b)][0]} of "
        f"{across[(a, b)][3].n_pairs} functions, p = {across[(a, b)][3].p_value:.2g})"
        for a, b in pairs
        if a == "bayesopt"
    ]
    return [*out, ""], summary


def _where_peers_win(res: Results, names: list[str]) -> list[str]:
    if "bayesopt" not in names:
        return []
    out = ["Functions where a contender's median beats bayesopt's by more than 0.5 in log10:", ""]
    any_line = False
    for pr in res.problems.values():
        f, _ = parse_name(pr.problem.name)
        mb = _median(pr, "bayesopt")
        better = [
            f"{n} {_fmt(_median(pr, n))}"
            for n in names
            if n != "bayesopt" and _median(pr, n) < mb - 0.5
        ]
        if better and math.isfinite(mb):
            any_line = True
            out.append(f"- f{f} {FUNCTION_NAMES[f]} (bayesopt {_fmt(mb)}): {', '.join(better)}")
    return [*out, ""] if any_line else ["No contender's median beats bayesopt's by 0.5.", ""]


# Ranks ------------------------------------------------------------------------------------
def _ranks(res: Results, names: list[str], dim: int, suite_dir: Path) -> list[str]:
    field = [n for n in names if all(math.isfinite(_median(pr, n)) for pr in res.problems.values())]
    out = ["Mean rank of the per-function medians (1 the best; ties share), over the "
           f"{len(res.problems)} functions; the field: {', '.join(field)}."]  # fmt: skip
    runs = {n: sum(len(pr.final.get(n, {})) for pr in res.problems.values()) for n in field}
    fewer = [f"{n} ({runs[n]} runs)" for n in field if runs[n] < max(runs.values(), default=0)]
    if fewer:
        out[-1] += (
            f" Medians over fewer instances than the others (max {max(runs.values())} runs): "
            f"{', '.join(fewer)}."
        )
    left = [n for n in names if n not in field]
    if left:
        out[-1] += f" Left out (missing on some function): {', '.join(left)}."
    if len(field) < 3 or len(res.problems) < 2:
        return [*out, "", "Too few contenders or functions for the Friedman test.", ""]
    test = friedman({k: {n: _median(pr, n) for n in field} for k, pr in res.problems.items()})
    order = sorted(field, key=test.mean_ranks.__getitem__)
    out += [
        "",
        "| contender | mean rank |",
        "|---|---|",
        *(f"| {n} | {test.mean_ranks[n]:.2f} |" for n in order),
        "",
        f"Friedman chi² = {test.statistic:.1f} (p = {test.p_value:.2g}); Iman-Davenport F = "
        f"{test.iman_davenport:.2f} (p = {test.iman_davenport_p:.2g}).",
    ]
    if len(field) in Q_ALPHA_005:
        cd = nemenyi_cd(len(field), len(res.problems))
        apart = [
            f"{a} < {b}"
            for i, a in enumerate(order)
            for b in order[i + 1 :]
            if test.mean_ranks[b] - test.mean_ranks[a] > cd
        ]
        path = plot_cd(
            test.mean_ranks,
            cd,
            suite_dir / f"cd_d{dim}.png",
            title=f"BBOB d = {dim}: {len(res.problems)} functions, Friedman p = {test.p_value:.2g}",
        )
        out[-1] += (
            f" Nemenyi critical difference {cd:.2f} (k = {len(field)}, N = "
            f"{len(res.problems)}); pairs further apart: {', '.join(apart) or 'none'}."
        )
        out += ["", f"![critical difference d = {dim}]({path.name})"]
    return [*out, ""]


# Manifest ---------------------------------------------------------------------------------
def write_bbob_report(suite_dir: Path, command: str) -> Path:
    """Write ``REPORT.md``, ``ecdf_d*.png`` and ``cd_d*.png`` of a BBOB suite.

    Args:
        suite_dir: the suite's folder (``runs.jsonl`` inside).
        command: the command line that made the report (recorded in it).

    Returns:
        The path of REPORT.md.
    """
    records, _ = store.read(suite_dir / store.RUNS)
    res = build_bbob(store.latest(records).values())
    preset_cells = presets.get("bbob").cells()
    lines = [
        "# COCO BBOB benchmark",
        "",
        f"Made by `{command}` from `runs.jsonl`. The 24 noiseless BBOB functions of COCO "
        "(`cocoex`), search domain [-5, 5]^d, budget 20 d evaluations, the preset's "
        "instances per dimension ("
        + ", ".join(f"1-{n} at d = {d}" for d, n in presets.BBOB_INSTANCES.items())
        + "; seed s runs instance s + 1). Nothing was tuned on these instances: bayesopt "
        "and every peer run with their default settings. The metric is the final precision "
        "log10(f - f_opt) of the best evaluation, with f_opt COCO's optimal value of the "
        "instance (floored at 1e-12; lower is better). random-2x is random search with 40 d "
        "evaluations, read at budget point k as the best of its first 2 k.",
        "",
        *_coverage(res, preset_cells),
        *_partial_note(res),
    ]
    body, summary = [], ["## Summary", ""]
    for dim in _dims(res):
        sub = _at(res, dim)
        names = _order(n for pr in sub.problems.values() for n in pr.final)
        comp_lines, verdicts = _comparisons(sub, names)
        ecdf_lines, panels = _ecdfs(sub, dim, suite_dir)
        reached = panels["all functions"]
        order = sorted(reached, key=lambda n: -reached[n].final)
        summary += [
            f"- **d = {dim}**, fraction of the 51 targets x {len(sub.problems)} functions x "
            f"instances {_instances(sub)} reached at 20 d: "
            + ", ".join(f"{n} {reached[n].final:.3f} ({reached[n].n_runs} runs)" for n in order)
            + ".",
        ]
        if verdicts:
            summary.append(
                "  bayesopt against each, across functions (Wilcoxon on the per-function "
                "medians, Holm over the pairs): " + "; ".join(verdicts) + "."
            )
        body += [
            f"## d = {dim}",
            "",
            f"### Median final log10(f - f_opt), d = {dim} (best in bold; instances in "
            "brackets where fewer ran)",
            "",
            *_regret_table(sub, names),
            "### ECDF of runtimes",
            "",
            "Runtimes to COCO's 51 targets f_opt + 10^k, k = 2, 1.8, ..., -8, over every "
            "(function, instance) run; x is evaluations / d (log scale); panels: all 24 "
            "functions and COCO's five groups. Computed from the records, the COCO way "
            "(`benchmarks/ecdf.py`).",
            "",
            *ecdf_lines,
            "### Paired comparisons",
            "",
            *comp_lines,
            *_where_peers_win(sub, names),
            "### Mean ranks",
            "",
            *_ranks(sub, names, dim, suite_dir),
        ]
    machine = f"{HARDWARE}, {DATE}"
    manifest = manifest_lines(suite_dir, res.records, command, EXTRA_PACKAGES, machine)
    lines += [*summary, "", *body, *manifest]
    path = suite_dir / "REPORT.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
