"""``REPORT.md`` and figures of the hypergradient benchmark (``hypergrad report``).

Reads ``runs.jsonl`` and ``memory.json`` of a results folder (``benchmarks.hypergrad``,
``benchmarks.hypergrad_memory``) and puts the hand-written ``FINDINGS.md``, if there is one,
verbatim after the set-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import hypergrad as hg
from benchmarks import stats
from benchmarks.hypergrad_experiments import BOUNDS, N_BLOCKS, experiment
from benchmarks.hypergrad_memory import memory_section

__all__ = ["write_report"]

COLOURS = {"hypergrad": "C3", "bayesopt": "C0", "random": "C7", "random-2x": "C2", "sgd-hd": "C1"}
MIN_PAIRS = 6
"""Fewest paired seeds for a Wilcoxon test in the report."""


def write_report(out_dir: Path, command: str = "") -> Path:
    """Write ``REPORT.md`` and its figures into ``out_dir``; returns the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    every = hg.read_runs(out_dir / hg.RUNS)
    errors = [r for r in every if r.get("status") == "error"]
    records = _latest([r for r in every if r.get("status") != "error"])
    lines = _setup(command)
    findings = out_dir / "FINDINGS.md"  # hand-written reading of the results, if any
    if findings.exists():
        lines += [findings.read_text(encoding="utf-8").strip(), ""]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["experiment"], r["model"]), []).append(r)
    for (exp_name, model), recs in sorted(groups.items()):
        lines += _group_section(plt, out_dir, exp_name, model, recs)
    lines += memory_section(out_dir, plt)
    if errors:
        lines += ["## Errors", ""]
        lines += [
            f"* {r['experiment']} {r['model']} seed {r['seed']} {r['method']}: {r['error']}"
            for r in errors
        ]
        lines.append("")
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _setup(command: str) -> list[str]:
    """Title, provenance and the set-up bullets."""
    return [
        "# Hypergradients vs Bayesian optimisation vs random search (digits)",
        "",
        f"Made by `{command or 'python -m benchmarks hypergrad report'}` "
        f"from `{hg.RUNS}` and `memory.json`; the run commands are in `commands.log`.",
        "",
        "## Set-up",
        "",
        "* Data: `sklearn.datasets.load_digits`, fixed split 1000 train / 400 validation / "
        "397 test, features standardised on the training part.",
        f"* Models: multinomial logistic regression (64-10) and an MLP (64-128-10, tanh). "
        f"Training: {hg.N_STEPS} steps of SGD with momentum, minibatches of {hg.BATCH}, "
        f"{str(hg.DTYPE).replace('torch.', '')}. "
        "The update is `v <- m v - (1 - m) g`, `w <- w + lr v` (Maclaurin et al.), so the "
        "step of heavy-ball SGD is `lr (1 - m)`.",
        "* Objective for every method: validation cross-entropy after training; minibatch "
        "order and initial weights are fixed by the benchmark seed, so it is deterministic.",
        f"* Box: lr in {BOUNDS['lr']} (log), momentum in {BOUNDS['momentum']}, weight decay in "
        f"{BOUNDS['weight_decay']} (log).",
        "* (A) everyone tunes (log lr, momentum, log weight decay). "
        f"(B) {experiment('B').description}.",
        f"* `hypergrad`: Adam (meta lr {hg.META_LR} in raw units, gradient norm clipped at 1) "
        "on exact hypergradients from checkpointed reverse SGD, from the centre of the box; "
        "after 3 divergences in a row it restarts from a random point. `sgd-hd`: Baydin et "
        f"al.'s multiplicative rule from the centre, one run per beta in {hg.SGD_HD_BETAS} "
        "(it finishes in a few seconds and does not use the rest of the budget). `random-2x`: "
        "random search given twice the seconds, plotted at half its time.",
        f"* Test error: the best-validation hyperparameters of each method at each budget, "
        f"retrained with {hg.FRESH_SEEDS} fresh seeds (new minibatch order and initial weights; "
        "the same fresh seeds for every method), mean ± sd over all seeds x retrains. "
        "`val gap` = validation loss on fresh seeds minus the validation loss the method "
        "found: how much of its gain was fitted to the tuning seed (validation overfitting).",
        "* Wall-clock budgets on a 2-core VM shared with other work, one thread per process. "
        "Cells run seed-major with the method order rotated per seed, so load changes fall on "
        "all methods alike; timings are still noisy. Each ask of BO and each meta-step of "
        "`hypergrad` counts against its budget.",
        "",
    ]


def _group_section(
    plt: Any, out_dir: Path, exp_name: str, model: str, recs: list[dict[str, Any]]
) -> list[str]:
    """One (experiment, model): a table per budget, the curves and, for B, the schedules."""
    exp = experiment(exp_name)
    budgets = sorted({float(b) for r in recs for b in r["chosen"]})
    seeds = sorted({r["seed"] for r in recs})
    lines = [f"## ({exp_name}) {model}: {exp.description}", ""]
    lines.append(
        f"Seeds run: {_ranges(seeds)} ({len(seeds)}); budgets: "
        f"{', '.join(f'{b:g} s' for b in budgets)}."
    )
    lines.append("")
    for b in budgets:
        lines += _budget_table(recs, b)
    horizon = max(budgets)
    fig_name = f"curves_{exp_name}_{model}.png"
    _plot_curves(plt, recs, horizon, out_dir / fig_name, f"({exp_name}) {model}")
    lines += [f"![best-so-far validation loss]({fig_name})", ""]
    if exp_name == "B":
        sched_name = f"schedule_B_{model}.png"
        if _plot_schedules(plt, recs, horizon, out_dir / sched_name, model):
            lines += [
                f"![learned learning-rate schedules]({sched_name})",
                "",
                "Learned schedules: the hypergradient method's best lr per block and layer "
                "(one thin line per seed, bold: geometric mean), against the parametric "
                "schedules BO and random search chose (dashed, geometric mean).",
                "",
            ]
    return lines + _hypergrad_notes(recs, horizon)


def _budget_table(recs: list[dict[str, Any]], budget: float) -> list[str]:
    """The methods' table at one budget, then hypergrad paired against each method."""
    lines = [
        f"### Budget {budget:g} s",
        "",
        "| method | seeds | evaluations (median) | best validation loss, median [IQR] "
        "| test error % | test loss | val gap | retrains diverged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_method: dict[str, dict[int, dict]] = {}
    for r in recs:
        c = r["chosen"].get(str(budget))
        if c is not None:
            by_method.setdefault(r["method"], {})[r["seed"]] = c
    for m in hg.METHODS:
        if m not in by_method:
            continue
        cs = list(by_method[m].values())
        errs = [e for c in cs for e in c["test_errors"]]
        tl = [x for c in cs for x in c["test_losses"]]
        gap = [np.mean(c["fresh_val_losses"]) - c["value"] for c in cs if c["fresh_val_losses"]]
        lines.append(
            f"| {m} | {len(cs)} | {np.median([c['n_evals'] for c in cs]):.0f} | "
            f"{stats.median_iqr([c['value'] for c in cs], '.4f', '–')} | {_fmt(errs, pct=True)} | "
            f"{_fmt(tl, digits_=3)} | {_fmt(gap, digits_=3)} | "
            f"{sum(c['diverged'] for c in cs)} / {hg.FRESH_SEEDS * len(cs)} |"
        )
    if "hypergrad" in by_method:
        lines += ["", "Paired over seeds, hypergrad against each (Wilcoxon, p < 0.05):", ""]
        hgd = by_method["hypergrad"]
        for m in hg.METHODS[1:]:
            if m not in by_method:
                continue
            common = sorted(set(hgd) & set(by_method[m]))
            val = _wilcoxon(
                [hgd[s]["value"] for s in common], [by_method[m][s]["value"] for s in common]
            )
            err = _wilcoxon(
                [np.mean(hgd[s]["test_errors"]) for s in common],
                [np.mean(by_method[m][s]["test_errors"]) for s in common],
            )
            lines.append(f"* vs {m}: validation loss {val}; test error {err}")
    lines.append("")
    return lines


def _latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per (experiment, model, seed, method): the one with the longest horizon."""
    best: dict[tuple, dict[str, Any]] = {}
    for r in records:
        key = hg.cell_key(r)
        if key not in best or r["horizon"] >= best[key]["horizon"]:
            best[key] = r
    return list(best.values())


def _wilcoxon(a: Sequence[float], b: Sequence[float]) -> str:
    """``lower``/``higher``/``tie`` for paired ``a`` against ``b`` (two-sided p < 0.05)."""
    res = stats.compare(a, b)
    if res.n_pairs < MIN_PAIRS:
        return f"n={res.n_pairs}: no test"
    if res.outcome is stats.Outcome.TIE:
        d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
        return f"tie (p={res.p_value:.2f})" if np.any(d[np.isfinite(d)]) else "tie"
    return f"{'lower' if res.outcome is stats.Outcome.WIN else 'higher'} (p={res.p_value:.3f})"


def _fmt(xs: Sequence[float], pct: bool = False, digits_: int = 2) -> str:
    """``mean ± sd`` of the finite values (in percent if ``pct``)."""
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return "–"
    scale = 100.0 if pct else 1.0
    a = np.asarray(xs) * scale
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():.{digits_}f} ± {sd:.{digits_}f}"


def _hypergrad_notes(recs: list[dict[str, Any]], horizon: float) -> list[str]:
    """Meta-steps, diverged steps and restarts of ``hypergrad`` over the horizon."""
    hgr = [r for r in recs if r["method"] == "hypergrad"]
    if not hgr:
        return []
    runs = [r["info"].get("runs", 1) for r in hgr]
    stops = [s for r in hgr for s in r["info"].get("stops", [])]
    failed = [sum(e[1] is None for e in r["evals"]) for r in hgr]
    steps = [len(r["evals"]) for r in hgr]
    return [
        f"`hypergrad` over {horizon:g} s: {np.median(steps):.0f} meta-steps (median), "
        f"{sum(failed)} diverged meta-steps in all, {sum(runs) - len(hgr)} restarts after a "
        f"run stopped on divergence (stop reasons: "
        f"{', '.join(f'{s} x{stops.count(s)}' for s in sorted(set(stops)))}).",
        "",
    ]


def _ranges(xs: Sequence[int]) -> str:
    """``0-5,7,9-10`` for the sorted integers ``xs``."""
    out, xs = [], sorted(xs)
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        out.append(f"{xs[i]}" if i == j else f"{xs[i]}-{xs[j]}")
        i = j + 1
    return ",".join(out)


def _curve(record: dict[str, Any], grid: np.ndarray) -> np.ndarray:
    """Best-so-far value at each time of ``grid`` (NaN before the first finite one)."""
    t = np.array([e[0] for e in record["evals"]], dtype=float) / record["time_scale"]
    v = np.array([np.inf if e[1] is None else e[1] for e in record["evals"]], dtype=float)
    best = np.minimum.accumulate(v) if len(v) else v
    idx = np.searchsorted(t, grid, side="right") - 1
    out = np.where(idx >= 0, best[np.clip(idx, 0, None)] if len(v) else np.nan, np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def _plot_curves(
    plt: Any, recs: list[dict[str, Any]], horizon: float, path: Path, title: str
) -> None:
    """Best-so-far validation loss against seconds: median and quartiles over seeds."""
    grid = np.linspace(0, horizon, 241)[1:]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    floor, finals = np.inf, []
    for m in hg.METHODS:
        rs = [r for r in recs if r["method"] == m and r["horizon"] >= horizon]
        if not rs:
            continue
        # Before its first finite evaluation a seed counts as +inf (worse than anything).
        curves = np.nan_to_num(np.array([_curve(r, grid) for r in rs]), nan=np.inf)
        lo, med, hi = np.quantile(curves, [0.25, 0.5, 0.75], axis=0, method="nearest")
        lo, med, hi = (np.where(np.isfinite(x), x, np.nan) for x in (lo, med, hi))
        floor = min(floor, float(np.nanmin(lo)) if np.isfinite(lo).any() else np.inf)
        finals.append(float(med[-1]))
        ax.plot(grid, med, color=COLOURS[m], label=f"{m} (n={len(rs)})")
        ax.fill_between(grid, lo, hi, color=COLOURS[m], alpha=0.15, lw=0)
    ax.set_xlabel("seconds (wall clock, one thread)")
    ax.set_ylabel("best validation loss so far")
    ax.set_yscale("log")
    finite = [f for f in finals if math.isfinite(f)]
    if finite and math.isfinite(floor):  # zoom on where the methods differ
        ax.set_ylim(0.95 * floor, 2.5 * max(finite))
    ax.set_title(f"{title}: median and 25-75 % over seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_schedules(
    plt: Any, recs: list[dict[str, Any]], horizon: float, path: Path, model: str
) -> bool:
    """The learned lr schedules of (B); ``False`` (no figure) without hypergrad records."""
    hgr = [r for r in recs if r["method"] == "hypergrad" and r["chosen"].get(str(horizon))]
    if not hgr:
        return False
    lrs = np.array([r["chosen"][str(horizon)]["params"]["lr"] for r in hgr])  # seeds x B x G
    n_layers = lrs.shape[2]
    edges = np.arange(N_BLOCKS + 1) * hg.N_STEPS / N_BLOCKS
    fig, axes = plt.subplots(1, n_layers, figsize=(4.2 * n_layers, 3.6), sharey=True, squeeze=False)
    for g in range(n_layers):
        ax = axes[0, g]
        for s in range(len(hgr)):
            ax.stairs(lrs[s, :, g], edges, color="C3", alpha=0.25, lw=0.8, baseline=None)
        ax.stairs(
            np.exp(np.log(lrs[:, :, g]).mean(0)),
            edges,
            color="C3",
            lw=2.2,
            baseline=None,
            label="hypergrad (per block)",
        )
        for m in ("bayesopt", "random"):
            rs = [r for r in recs if r["method"] == m and r["chosen"].get(str(horizon))]
            if rs:
                sched = np.array(
                    [np.array(r["chosen"][str(horizon)]["params"]["lr"])[:, 0] for r in rs]
                )
                ax.stairs(
                    np.exp(np.log(sched).mean(0)),
                    edges,
                    color=COLOURS[m],
                    ls="--",
                    lw=1.5,
                    baseline=None,
                    label=f"{m} (parametric)",
                )
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"{model} layer {g + 1}")
        if g == 0:
            ax.set_ylabel("learning rate lr")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
