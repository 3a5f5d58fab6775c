"""AutoML controllers against random search: does anything beat random search with twice
the budget?

Li and Talwalkar (2019) found that random search is a strong baseline for architecture
search, and random search with twice the budget ("random-2x", Bergstra and Bengio's
baseline) stronger still. This experiment asks the same question of a REINFORCE controller
(``bayesopt.controller.ControllerSearch``), regularised evolution
(``bayesopt.evolution.EvolutionSearch``), bayesopt's GP default and Optuna's TPE, on

- ``nas-digits``: the tabular architecture benchmark (``benchmarks/problems/nas.py``):
  3,072 MLPs on digits, an evaluation is one random seed's validation error; the test
  error of the configuration chosen by validation is scored too;
- ``logreg-breast``: a cheap tuning task of the standard suite (scikit-learn's logistic
  regression on breast cancer, 3-fold CV log loss; a log-scaled real and two
  categoricals; deterministic);
- ``nas-digits-long``: ``nas-digits`` with 300 evaluations, to see whether the learning
  methods catch up with more data (without the GP, whose asks would take hours here).

Each (problem, contender, seed) cell is one sequential ask/tell run; ``random-2x`` runs
twice the evaluations and is read at budget point ``k`` as the best of its first ``2k``.
Every record is appended to ``runs.jsonl`` as soon as its cell ends, so ``run`` resumes
where it stopped. ``report`` writes ``REPORT.md``, the figures and ``manifest.json``.

Usage::

    nice -n 10 python -m benchmarks.automl run [--seeds 0-49] [--problems ...]
    python -m benchmarks.automl report
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import bayesopt as bo
from bayesopt.controller import ControllerSearch
from bayesopt.evolution import EvolutionSearch
from benchmarks import store
from benchmarks.problems.base import Problem

__all__ = ["CONTENDERS", "PROBLEMS", "main", "run", "write_report"]

OUT = Path(__file__).resolve().parent / "results" / "automl"
PROBLEMS = ("nas-digits", "logreg-breast", "nas-digits-long")
CONTENDERS = ("random", "random-2x", "controller", "evolution", "bayesopt", "optuna-tpe")
BUDGETS = {"nas-digits": 100, "logreg-breast": 40, "nas-digits-long": 300}
"""Evaluations per run (random-2x: twice as many). ``logreg-breast`` keeps the standard
suite's budget."""
SKIP = frozenset({("nas-digits-long", "bayesopt")})
"""Cells not run: bayesopt's asks take about 1.5 s each at 100 to 300 observations here."""
SEEDS = tuple(range(50))
COLOURS = {
    "random": ("0.45", "--"),
    "random-2x": ("0.1", ":"),
    "controller": ("tab:red", "-"),
    "evolution": ("tab:green", "-"),
    "bayesopt": ("tab:blue", "-"),
    "optuna-tpe": ("tab:orange", "-."),
}


# Contenders ----------------------------------------------------------------------------------
class _Session:
    """Any ``bayesopt`` ask/tell proposer, one evaluation at a time."""

    def __init__(self, opt: bo.AskTell) -> None:
        self.opt = opt
        self._trial: bo.Trial | None = None

    def ask(self) -> dict[str, Any]:
        self._trial = self.opt.ask()
        return dict(self._trial.params)

    def tell(self, value: float) -> None:
        assert self._trial is not None
        self.opt.tell(self._trial, value)
        self._trial = None

    def info(self) -> dict[str, Any]:
        if isinstance(self.opt, ControllerSearch):
            return {"updates": self.opt.updates}
        return {}


def _make(name: str, space: bo.Space, seed: int) -> Any:
    """A fresh session of contender ``name``."""
    if name in ("random", "random-2x"):
        return _Session(bo.RandomSearch(space, seed=seed))
    if name == "controller":
        return _Session(ControllerSearch(space, seed=seed))
    if name == "evolution":
        return _Session(EvolutionSearch(space, seed=seed))
    from benchmarks import contenders

    return contenders.get(name).make(space, seed)


DESCRIPTIONS = {
    "random": "bayesopt.RandomSearch, uniform draws",
    "random-2x": "the same stream with twice the evaluations",
    "controller": "ControllerSearch defaults: LSTM (32 units), batch 8, Adam lr 0.01, entropy "
    "weight 0.01, normalised reward with an EMA baseline (decay 0.8)",
    "evolution": "EvolutionSearch defaults: population 20, tournament 5, mutation scale 0.1",
    "bayesopt": "bayesopt.Optimizer, default settings (qLogNEI)",
    "optuna-tpe": "optuna TPESampler(seed), default settings",
}


def _problem(name: str) -> Problem:
    if name.startswith("nas-digits"):
        from benchmarks.problems.nas import nas_problem

        return dataclasses.replace(nas_problem(budget=BUDGETS[name]), name=name)
    from benchmarks.problems import get

    return get(name)


# Running -----------------------------------------------------------------------------------
def run_cell(problem: Problem, contender: str, seed: int, budget: int) -> dict[str, Any]:
    """One seeded run: every evaluation's observed, noise-free and test value, and the
    mean, median and largest wall and CPU seconds of its asks."""
    factor = 2 if contender == "random-2x" else 1
    session = _make(contender, problem.space, seed)
    evaluate = problem.evaluator(seed)
    test = getattr(problem, "test_error", None)
    observed, true, tests, ask_s, ask_cpu = [], [], [], [], []
    began = time.perf_counter()
    for _ in range(budget * factor):
        t0, c0 = time.perf_counter(), time.process_time()
        params = session.ask()
        ask_s.append(time.perf_counter() - t0)
        ask_cpu.append(time.process_time() - c0)
        ev = evaluate(params)
        session.tell(ev.observed)
        observed.append(ev.observed)
        true.append(ev.true)
        if test is not None:
            tests.append(test(params))
    record = _compact(
        {
            "problem": problem.name,
            "description": problem.description,
            "contender": contender,
            "seed": seed,
            "budget": budget,
            "observed": observed,
            "true": true,
            "ask_s": _summary(ask_s),
            "ask_cpu_s": _summary(ask_cpu),
            "wall_s": time.perf_counter() - began,
            "info": session.info(),
        }
    )
    if test is not None:
        record["test"] = _compact(tests)
    return record


def _summary(seconds: list[float]) -> dict[str, float]:
    """Mean, median and largest of a run's per-ask seconds (3 significant digits)."""
    x = np.asarray(seconds, dtype=float)
    stats = {"mean": x.mean(), "median": np.median(x), "max": x.max()} if len(x) else {}
    return {k: float(f"{v:.3g}") for k, v in stats.items()}


def _compact(obj: Any) -> Any:
    """``obj`` with its floats to 7 significant digits: a smaller file, the same report
    (it shows 4 decimals)."""
    if isinstance(obj, float):
        return float(f"{obj:.7g}")
    if isinstance(obj, dict):
        return {k: _compact(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_compact(x) for x in obj]
    return obj


def _commit() -> str | None:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True)
    return out.stdout.decode().strip() or None if out.returncode == 0 else None


def run(
    out: Path,
    problems: Sequence[str] = PROBLEMS,
    contenders: Sequence[str] = CONTENDERS,
    seeds: Sequence[int] = SEEDS,
    *,
    max_cells: int | None = None,
    progress: Callable[[str], None] = print,
) -> int:
    """Run every missing cell, seed by seed (so a partial run is balanced); returns how
    many ran."""
    from benchmarks.runner import init_worker

    init_worker(1)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "runs.jsonl"
    done = {store.run_key(r) for r in store.read_runs(path)}
    meta = {"commit": _commit(), "python": platform.python_version(), "torch": _version("torch")}
    made = {name: _problem(name) for name in problems}
    ran = 0
    for seed in seeds:
        for name in problems:
            for contender in contenders:
                if (name, contender, seed) in done or (name, contender) in SKIP:
                    continue
                if max_cells is not None and ran >= max_cells:
                    return ran
                record = run_cell(made[name], contender, seed, BUDGETS[name]) | {"meta": meta}
                store.append(path, record, strict=False)
                ran += 1
                progress(f"{name} {contender} seed {seed}: {record['wall_s']:.1f} s")
    return ran


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:  # pragma: no cover - depends on the environment
        return None


# Analysis ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curves:
    """Best-so-far curves of one (problem, contender): ``seeds x budget`` arrays, the
    incumbent chosen by the observed value at each budget point."""

    seeds: list[int]
    observed: np.ndarray
    true: np.ndarray
    test: np.ndarray | None
    ask_s: np.ndarray
    ask_cpu_s: np.ndarray


def curves_of(records: list[dict[str, Any]], problem: str, contender: str) -> Curves | None:
    """The curves of one (problem, contender), seeds sorted; ``None`` without records."""
    rows = sorted(
        (r for r in records if r["problem"] == problem and r["contender"] == contender),
        key=lambda r: r["seed"],
    )
    if not rows:
        return None
    factor = 2 if contender == "random-2x" else 1
    obs, true, test = [], [], []
    for r in rows:
        o = np.asarray(r["observed"], dtype=float)
        o = np.where(np.isfinite(o), o, np.inf)
        # incumbent after each evaluation: the first trial with the lowest observed value
        best = np.array([int(np.argmin(o[: i + 1])) for i in range(len(o))])
        at = best[factor - 1 :: factor]  # budget point k: the best of the first factor*k
        obs.append(o[at])
        true.append(np.asarray(r["true"], dtype=float)[at])
        if "test" in r:
            test.append(np.asarray(r["test"], dtype=float)[at])
    return Curves(
        seeds=[r["seed"] for r in rows],
        observed=np.array(obs),
        true=np.array(true),
        test=np.array(test) if test else None,
        ask_s=np.array([r["ask_s"]["mean"] for r in rows]),
        ask_cpu_s=np.array([r["ask_cpu_s"]["mean"] for r in rows]),
    )


def _paired(a: Curves, b: Curves, metric: str, k: int) -> tuple[list[float], list[float]]:
    """The two contenders' values at budget point ``k`` on their common seeds."""
    common = sorted(set(a.seeds) & set(b.seeds))
    ia = [a.seeds.index(s) for s in common]
    ib = [b.seeds.index(s) for s in common]
    xa, xb = getattr(a, metric), getattr(b, metric)
    return [float(xa[i, k]) for i in ia], [float(xb[i, k]) for i in ib]


METRICS = {
    "true": "validation error of the incumbent (noise-free: mean over the 3 seeds)",
    "test": "test error of the incumbent (chosen by validation; mean over the 3 seeds)",
    "observed": "best observed value (CV log loss)",
}


def _metrics(problem: str) -> list[str]:
    return ["true", "test"] if problem.startswith("nas-digits") else ["observed"]


# Report ------------------------------------------------------------------------------------
def _fmt(x: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _med_iqr(values: np.ndarray, digits: int = 4) -> str:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{_fmt(med, digits)} [{_fmt(q1, digits)}, {_fmt(q3, digits)}]"


def _wtl_tables(curves: dict, problems: list[str], contenders: list[str]) -> list[str]:
    """Win/tie/loss of every pair at the final budget: paired Wilcoxon, Holm over the
    pairs of one problem and metric."""
    from benchmarks.stats import Outcome, compare, holm_outcomes

    lines: list[str] = []
    for problem in problems:
        for metric in _metrics(problem):
            present = [c for c in contenders if curves.get((problem, c)) is not None]
            if len(present) < 2:
                continue
            k = curves[(problem, present[0])].observed.shape[1] - 1
            comps = {}
            for i, a in enumerate(present):
                for b in present[i + 1 :]:
                    xa, xb = _paired(curves[(problem, a)], curves[(problem, b)], metric, k)
                    comps[(a, b)] = compare(xa, xb)
            holm = holm_outcomes(comps)
            lines += [
                f"**{problem}, {METRICS[metric]}, after {k + 1} evaluations.** Row vs column: "
                "W = row significantly lower (better), L = higher, · = no difference after "
                f"Holm over the {len(comps)} pairs; raw p in brackets.",
                "",
                "| | " + " | ".join(present) + " |",
                "|---" * (len(present) + 1) + "|",
            ]
            for a in present:
                cells = []
                for b in present:
                    if a == b:
                        cells.append("")
                        continue
                    key, flip = ((a, b), False) if (a, b) in comps else ((b, a), True)
                    out, p = holm[key], comps[key].p_value
                    if flip and out is not Outcome.TIE:
                        out = Outcome.LOSS if out is Outcome.WIN else Outcome.WIN
                    mark = {"win": "W", "loss": "L", "tie": "·"}[out.value]
                    cells.append(f"{mark} ({p:.2g})")
                lines.append(f"| {a} | " + " | ".join(cells) + " |")
            lines.append("")
    return lines


def _verdicts(curves: dict, problems: list[str], contenders: list[str]) -> dict:
    """``{(problem, metric, contender, baseline): (outcome after Holm, p, median diff)}``
    for each contender against random-2x and random, Holm over the pairs of the table."""
    from benchmarks.stats import compare, holm_outcomes

    out = {}
    for problem in problems:
        for metric in _metrics(problem):
            present = [c for c in contenders if curves.get((problem, c)) is not None]
            if not present:
                continue
            k = curves[(problem, present[0])].observed.shape[1] - 1
            comps = {}
            for a in present:
                for b in present:
                    if a < b:
                        xa, xb = _paired(curves[(problem, a)], curves[(problem, b)], metric, k)
                        comps[(a, b)] = compare(xa, xb)
            holm = holm_outcomes(comps)
            for base in ("random-2x", "random"):
                for a in present:
                    if a == base or base not in present:
                        continue
                    key = (a, base) if (a, base) in comps else (base, a)
                    res = holm[key].value
                    if key[0] != a and res != "tie":
                        res = "loss" if res == "win" else "win"
                    xa, xb = _paired(curves[(problem, a)], curves[(problem, base)], metric, k)
                    diff = float(np.median(np.subtract(xa, xb)))
                    out[(problem, metric, a, base)] = (res, comps[key].p_value, diff)
    return out


def _plot_curves(curves: dict, problems: list[str], contenders: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(p, m) for p in problems for m in _metrics(p)]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.0 * nrows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (problem, metric) in zip(axes.flat, panels, strict=False):
        present = [c for c in contenders if curves.get((problem, c)) is not None]
        # A tuning task's values crowd near its best: plot the gap to the best value any
        # run found (plus 1e-5, for the log scale).
        floor = (
            min(float(getattr(curves[(problem, c)], metric).min()) for c in present) - 1e-5
            if metric == "observed" and present
            else 0.0
        )
        for c in present:
            cv = curves[(problem, c)]
            y = getattr(cv, metric) - floor
            x = np.arange(1, y.shape[1] + 1)
            med = np.median(y, axis=0)
            q1, q3 = np.percentile(y, [25, 75], axis=0)
            colour, style = COLOURS.get(c, ("k", "-"))
            ax.plot(x, med, color=colour, linestyle=style, label=c)
            ax.fill_between(x, q1, q3, color=colour, alpha=0.12, linewidth=0)
        title = {
            "true": "validation error of the incumbent",
            "test": "test error of the incumbent",
            "observed": "best observed value",
        }[metric]
        ax.set_title(f"{problem}: {title}", fontsize=10)
        ax.set_xlabel("evaluations (random-2x: half its evaluations)")
        ax.set_ylabel(
            {
                "true": "validation error",
                "test": "test error",
                "observed": "CV log loss minus the best of all runs",
            }[metric]
        )
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Best so far: median and interquartile range over seeds", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_controller(records: list[dict[str, Any]], problems: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(problems), figsize=(5.2 * len(problems), 6.4), squeeze=False)
    for j, problem in enumerate(problems):
        rows = [r for r in records if r["problem"] == problem and r["contender"] == "controller"]
        if not rows:
            continue
        n = min(len(r["info"]["updates"]) for r in rows)
        if n == 0:
            continue
        trials = [u["trials"] for u in rows[0]["info"]["updates"][:n]]
        for i, key in enumerate(("entropy", "mean_reward")):
            y = np.array([[u[key] for u in r["info"]["updates"][:n]] for r in rows])
            med = np.nanmedian(y, axis=0)
            q1, q3 = np.nanpercentile(y, [25, 75], axis=0)
            ax = axes[i][j]
            ax.plot(trials, med, color="tab:red", marker="o", markersize=3)
            ax.fill_between(trials, q1, q3, color="tab:red", alpha=0.15, linewidth=0)
            ax.set_xlabel("finished trials consumed")
            ax.set_ylabel("entropy (nats)" if key == "entropy" else "mean reward (-value)")
            what = "policy entropy" if key == "entropy" else "mean reward of each batch"
            ax.set_title(f"{problem}: controller, {what}", fontsize=10)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_report(out: Path, command: str) -> Path:
    """Write ``REPORT.md``, ``curves.png``, ``controller.png`` and ``manifest.json``."""
    records = store.read_runs(out / "runs.jsonl")
    if not records:
        raise FileNotFoundError(f"{out / 'runs.jsonl'}: no runs; run first")
    problems = [p for p in PROBLEMS if any(r["problem"] == p for r in records)]
    contenders = [c for c in CONTENDERS if any(r["contender"] == c for r in records)]
    curves = {(p, c): curves_of(records, p, c) for p in problems for c in contenders}
    _plot_curves(curves, problems, contenders, out / "curves.png")
    _plot_controller(records, problems, out / "controller.png")
    verdicts = _verdicts(curves, problems, contenders)
    seeds = sorted({r["seed"] for r in records})
    commits = sorted({str(r.get("meta", {}).get("commit")) for r in records})
    lines = [
        "# AutoML controllers against random search",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs visible). {len(records)} runs: "
        + "; ".join(
            f"{p}: {len({r['contender'] for r in records if r['problem'] == p})} contenders"
            for p in problems
        )
        + f"; {len(seeds)} seeds ({_seed_text(seeds)}); code "
        f"commit(s) {', '.join(commits)} plus the working tree. The commands that produced "
        "the runs are in `commands.log`; every run is a line of `runs.jsonl`.",
        "",
        "## The question",
        "",
        "Li and Talwalkar (2019) found random search a hard baseline for neural architecture "
        "search. Does a REINFORCE controller (Zoph and Le, 2017), regularised evolution "
        "(Real et al., 2019), bayesopt's GP or Optuna's TPE beat random search with twice "
        "the budget here?",
        "",
    ]
    lines += _answer(verdicts, problems, contenders)
    lines += _setup(records, problems, contenders)
    lines += ["## Results at the full budget", ""]
    lines += _final_table(curves, problems, contenders)
    lines += ["## Every pair", ""]
    lines += _wtl_tables(curves, problems, contenders)
    lines += [
        "## Curves",
        "",
        "![best so far](curves.png)",
        "",
        "The incumbent at budget point k is the trial with the lowest *observed* value among "
        "the first k evaluations (2k for random-2x); its validation and test errors are the "
        "table's means over the 3 training seeds, which the optimiser never sees.",
        "",
        "## The controller's policy",
        "",
        "![controller entropy and reward](controller.png)",
        "",
    ]
    lines += _controller_text(records, problems)
    lines += ["## Seconds per proposal", ""]
    lines += _time_table(curves, problems, contenders)
    lines += _references()
    report = out / "REPORT.md"
    report.write_text("\n".join(lines) + "\n")
    manifest = {
        "command": command,
        "written": time.strftime("%Y-%m-%d %H:%M"),
        "runs": len(records),
        "seeds": seeds,
        "problems": {p: next(r["budget"] for r in records if r["problem"] == p) for p in problems},
        "contenders": {c: DESCRIPTIONS[c] for c in contenders},
        "files": {
            f.name: _sha256(f)
            for f in sorted(out.iterdir())
            if f.is_file() and f.name not in ("manifest.json",)
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return report


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _plainly(verdicts: dict, problems: list[str], contenders: list[str]) -> list[str]:
    """The answer in words, problem by problem: who beats random-2x, after Holm; then
    what that says about Li and Talwalkar's finding (about architecture search, so the
    ``nas-digits`` problems)."""
    searchers = [c for c in contenders if c not in ("random", "random-2x")]
    lines = []
    nas_winners = []
    for problem in problems:
        wins: dict[str, list[str]] = {}
        losses: dict[str, list[str]] = {}
        tested = set()
        for metric in _metrics(problem):
            for a in searchers:
                v = verdicts.get((problem, metric, a, "random-2x"))
                if v is None:
                    continue
                tested.add(a)
                if v[0] == "win":
                    wins.setdefault(a, []).append(metric)
                elif v[0] == "loss":
                    losses.setdefault(a, []).append(metric)
        if not tested:
            continue
        if problem.startswith("nas-digits"):
            nas_winners += list(wins)
        better = "; ".join(f"{a} ({', '.join(m)})" for a, m in wins.items()) or "none"
        worse = "; ".join(f"{a} ({', '.join(m)})" for a, m in losses.items()) or "none"
        lines.append(
            f"- **{problem}** ({', '.join(sorted(tested, key=searchers.index))} tested): "
            f"better than random-2x: {better}; worse: {worse}."
        )
    nas = [p for p in problems if p.startswith("nas-digits")]
    if nas and not nas_winners:
        head = (
            "**On the architecture benchmark nothing beats random-2x.** No method is "
            "significantly better than random search with twice the budget on "
            f"{' or '.join(nas)}, on validation or on test error (after Holm's correction): "
            "Li and Talwalkar's finding holds here."
        )
    elif nas:
        head = (
            f"**On the architecture benchmark, {', '.join(sorted(set(nas_winners)))} beat "
            "random-2x** on at least one metric (after Holm's correction): there, Li and "
            "Talwalkar's finding does not carry over."
        )
    else:
        head = "The architecture benchmark is not among these runs."
    return [head, "", *lines, ""]


def _answer(verdicts: dict, problems: list[str], contenders: list[str]) -> list[str]:
    lines = ["## Answer", ""]
    lines += _plainly(verdicts, problems, contenders)
    lines += ["Against random search with the *same* budget (after Holm):", ""]
    for problem in problems:
        for metric in _metrics(problem):
            rows = [
                (a, verdicts[(problem, metric, a, "random")][0])
                for a in contenders
                if (problem, metric, a, "random") in verdicts
            ]
            better = [a for a, o in rows if o == "win"]
            worse = [a for a, o in rows if o == "loss"]
            lines.append(
                f"- {problem}, {metric}: better: {', '.join(better) or 'none'}; worse: "
                f"{', '.join(worse) or 'none'}."
            )
    lines += [
        "",
        "Paired two-sided Wilcoxon signed-rank tests over the seeds at the full budget, "
        "Holm's correction over all pairs of contenders of one problem and metric "
        "(`benchmarks.stats`). Metrics: `true` is the validation error of the incumbent "
        "(mean over the 3 training seeds), `test` its test error, `observed` the best "
        "observed value. Median paired differences (contender minus baseline; negative is "
        "better) and raw p-values:",
        "",
        "| problem | metric | contender | vs random-2x | vs random |",
        "|---|---|---|---|---|",
    ]
    for problem in problems:
        for metric in _metrics(problem):
            for a in contenders:
                cells = []
                for base in ("random-2x", "random"):
                    v = verdicts.get((problem, metric, a, base))
                    cells.append("" if v is None else f"{v[0]} ({v[2]:+.4f}, p={v[1]:.2g})")
                if any(cells):
                    lines.append(f"| {problem} | {metric} | {a} | {cells[0]} | {cells[1]} |")
    lines.append("")
    lines += _why(problems)
    return lines


def _why(problems: list[str]) -> list[str]:
    """Numbers from the table that explain a tie with random search."""
    if not any(p.startswith("nas-digits") for p in problems):
        return []
    try:
        from benchmarks.problems.nas import load_table

        table = load_table()
    except FileNotFoundError:
        return []
    val = table.mean_val_error()
    seed_sd = float(np.median(table.val_acc[:, :, -1].std(axis=1)))
    best = float(val.min())
    near = int((val <= best + seed_sd).sum())
    top = float(np.quantile(val, 0.01))
    hit = {k: 1 - 0.99**k for k in (100, 200, 300, 600)}
    return [
        "**Why random search is hard to beat on this table.** The best configuration's mean "
        f"validation error is {best:.4f}; {near} configurations lie within one seed-to-seed "
        f"standard deviation of it (median over configurations: {seed_sd:.4f}), and the top "
        f"1 % starts at {top:.4f}. Uniform draws reach the top 1 % with probability "
        + ", ".join(f"{v:.1%} in {k}" for k, v in hit.items())
        + " evaluations, and one evaluation is a single seed, so an incumbent chosen by its "
        "observed value is partly chosen by luck: what separates the good configurations "
        "is of the order of the noise in their evaluation.",
        "",
    ]


def _setup(records: list, problems: list[str], contenders: list[str]) -> list[str]:
    lines = ["## Set-up", "", "| problem | budget | what |", "|---|---|---|"]
    for p in problems:
        desc = next(
            (r["description"] for r in records if r["problem"] == p and r.get("description")), ""
        )
        budget = next(r["budget"] for r in records if r["problem"] == p)
        lines.append(f"| {p} | {budget} (random-2x: {2 * budget}) | {desc} |")
    lines += ["", "| contender | settings |", "|---|---|"]
    lines += [f"| {c} | {DESCRIPTIONS[c]} |" for c in contenders]
    lines += [
        "",
        "Seeds pair the runs: run `s` of every contender sees the same stream of table "
        "seeds on nas-digits (evaluation k of run s picks the same training seed for "
        "everyone). The controller and evolution run with their defaults, chosen before "
        "this experiment on a toy mixed function, not tuned here.",
        "",
    ]
    return lines


def _final_table(curves: dict, problems: list[str], contenders: list[str]) -> list[str]:
    lines = []
    for problem in problems:
        metrics = _metrics(problem)
        lines += [
            f"**{problem}** (median [quartiles] over seeds)",
            "",
            "| contender | " + " | ".join(METRICS[m] for m in metrics) + " |",
            "|---" * (len(metrics) + 1) + "|",
        ]
        for c in contenders:
            cv = curves.get((problem, c))
            if cv is None:
                continue
            cells = [_med_iqr(getattr(cv, m)[:, -1]) for m in metrics]
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _controller_text(records: list, problems: list[str]) -> list[str]:
    lines = []
    for problem in problems:
        rows = [r for r in records if r["problem"] == problem and r["contender"] == "controller"]
        if not rows or not rows[0]["info"].get("updates"):
            continue
        first = np.median([r["info"]["updates"][0]["entropy"] for r in rows])
        last = np.median([r["info"]["updates"][-1]["entropy"] for r in rows])
        r0 = np.nanmedian([r["info"]["updates"][0]["mean_reward"] for r in rows])
        r1 = np.nanmedian([r["info"]["updates"][-1]["mean_reward"] for r in rows])
        n = len(rows[0]["info"]["updates"])
        lines.append(
            f"- {problem}: {n} policy updates per run; median entropy {first:.2f} nats at the "
            f"first update (a uniform policy) and {last:.2f} at the last; median mean reward "
            f"of the batch {r0:.4f} at the first, {r1:.4f} at the last."
        )
    lines.append("")
    return lines


def _time_table(curves: dict, problems: list[str], contenders: list[str]) -> list[str]:
    lines = [
        "Mean seconds per ask over a run, median over seeds: wall clock and process CPU "
        "time (one thread; the machine was shared, so wall times carry the load of other "
        "processes and CPU times are the fairer comparison).",
        "",
        "| problem | " + " | ".join(contenders) + " |",
        "|---" * (len(contenders) + 1) + "|",
    ]
    for problem in problems:
        cells = []
        for c in contenders:
            cv = curves.get((problem, c))
            cells.append(
                ""
                if cv is None
                else f"{np.median(cv.ask_s):.2g} / {np.median(cv.ask_cpu_s):.2g} CPU"
            )
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _references() -> list[str]:
    return [
        "## References",
        "",
        "- B. Zoph, Q. V. Le. Neural architecture search with reinforcement learning. ICLR 2017.",
        "- E. Real, A. Aggarwal, Y. Huang, Q. V. Le. Regularized evolution for image "
        "classifier architecture search. AAAI 2019.",
        "- L. Li, A. Talwalkar. Random search and reproducibility for neural architecture "
        "search. UAI 2019.",
        "- J. Bergstra, Y. Bengio. Random search for hyper-parameter optimization. JMLR 13, 2012.",
        "",
    ]


# Command line --------------------------------------------------------------------------------
def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.automl", description=__doc__)
    ap.add_argument("action", choices=["run", "report"])
    ap.add_argument("--out", type=Path, default=OUT, help="results folder")
    ap.add_argument("--problems", type=lambda t: t.split(","), default=list(PROBLEMS))
    ap.add_argument("--contenders", type=lambda t: t.split(","), default=list(CONTENDERS))
    ap.add_argument("--seeds", type=_seeds, default=list(SEEDS), help="e.g. 0-49")
    ap.add_argument("--max-cells", type=int, help="stop after this many cells")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.automl run|report``.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    command = "python -m benchmarks.automl " + shlex.join(argv)
    for name in args.problems:
        if name not in BUDGETS:
            raise SystemExit(f"unknown problem {name!r}; known: {', '.join(BUDGETS)}")
    for name in args.contenders:
        if name not in DESCRIPTIONS:
            raise SystemExit(f"unknown contender {name!r}; known: {', '.join(DESCRIPTIONS)}")
    if args.action == "run":
        args.out.mkdir(parents=True, exist_ok=True)
        began = time.time()
        ran = run(args.out, args.problems, args.contenders, args.seeds, max_cells=args.max_cells)
        with (args.out / "commands.log").open("a") as fh:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(began))
            fh.write(f"{stamp}\t{command}\tran {ran} cells in {time.time() - began:.0f} s\n")
        return 0
    print(f"wrote {write_report(args.out, command)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
