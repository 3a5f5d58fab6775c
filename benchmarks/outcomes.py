"""The ``constrained`` and ``multiobjective`` benchmarks: optimisers told several outcomes.

```bash
python -m benchmarks.outcomes run --suite constrained --seeds 0-9        # resumable
python -m benchmarks.outcomes run --suite multiobjective --problems zdt1 --contenders bayesopt
python -m benchmarks.outcomes report --suite multiobjective               # REPORT.md, figures
```

``run`` appends one JSON line per (problem, contender, seed) cell to
``benchmarks/results/<suite>/runs.jsonl`` as soon as the cell is done (flushed and
fsynced) and skips the cells already there, so a killed run loses only the cell in flight;
each invocation is logged to ``commands.log``. ``report`` writes ``REPORT.md``,
``curves.png`` and (multiobjective) ``fronts.png`` next to it.

Problems: ``benchmarks.problems.outcomes``. Every contender is told the same outcomes:

* ``random``, ``random-2x``: uniform draws (``bayesopt.Space.sample(..., sobol=False)``),
  the budget and twice it, the second extending the first's stream;
* ``optuna-gp``: Optuna's ``GPSampler(seed=s, constraints_func=...)``;
* ``optuna-tpe``: Optuna's ``TPESampler(seed=s, constraints_func=...)``;
* ``optuna-nsga2``: Optuna's ``NSGAIISampler(seed=s, constraints_func=...)``, its default
  population of 50 (multiobjective only);
* ``bayesopt``: ``bayesopt.Optimizer(space, objectives=..., constraints=..., seed=s)``
  (LogEI times the probability of feasibility with constraints; with several objectives
  the expected hypervolume improvement over the posterior means' Pareto front, relative to
  two inferred reference points at once; both in closed form, ``acquisition.LogEHVI``);
* ``bayesopt-parego``: the same with ``acquisition="parego"`` (qLogNParEGO; multiobjective
  only);
* ``bayesopt-nehvi``: the same with ``ProposeOptions(closed_form="never")``, qLogNEHVI (the
  default before the posterior means' Pareto front; multiobjective only; relative to the
  observations' reference point, as two points need the closed form);
* ``bayesopt+closedform``: ``ProposeOptions(closed_form="always")``, the factor study's
  variant (``benchmarks/results/ablation/outcomes_tuning``);
* ``bayesopt+ref``: the default given the problem's reference point
  (``reference_point=``), as a user who knows what a trade-off must beat would pass it;
* ``bayesopt+front-ref``: ``ProposeOptions(reference_from="front")``, the inferred
  reference point taken from the nadir of the observed Pareto front instead of every
  observation;
* ``bayesopt+alt-ref``: ``ProposeOptions(reference_from="alternate")``, the two rules
  above on alternate asks;
* ``bayesopt+both-ref``: ``ProposeOptions(reference_from="both")``, the hypervolume
  improvement relative to both inferred points at once, each divided by the volume already
  held relative to it; the default since its study, so now the same as ``bayesopt``;
* ``bayesopt+obs-ref``: ``ProposeOptions(reference_from="observations")``, the default
  before: the reference point inferred from every feasible observation;
* ``bayesopt+wide-search``: the acquisition searched from 2048 raw points with 20 local
  searches; its records ran as ``ProposeOptions(raw_samples=2048, n_restarts=20)`` before
  that search became the default for several objectives, so it is now the default;
* ``bayesopt+no-warp``: ``ModelOptions(output_warp="none")``, the objectives only
  standardised, so that the hypervolume the acquisition measures is the judge's up to a
  scale per objective;
* ``bayesopt+init10``: the default with an initial design of at most 10
  points, where Optuna's GPSampler starts its model.

Optuna is told constraint values through ``constraints_func`` (``c <= 0`` feasible) and a
NaN objective as a failed trial. The losses: the final log10 regret of the best feasible
value (constrained) and the final log10 hypervolume regret (multiobjective); paired
two-sided Wilcoxon tests over seeds with Holm's correction over the problems of each pair
of contenders (``benchmarks.stats``).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import bayesopt as bo
from bayesopt.optimizer import default_n_initial
from benchmarks import stats, store
from benchmarks.manifest import CODE_PATHS, host, manifest_lines
from benchmarks.problems.outcomes import SUITES, OutcomeProblem, problems

__all__ = [
    "CONTENDERS",
    "hypervolume",
    "hypervolume_trace",
    "main",
    "make_session",
    "run_cell",
    "write_report",
]

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("torch", "botorch", "gpytorch", "numpy", "scipy", "scikit-learn", "optuna")
CONTENDERS: dict[str, tuple[str, ...]] = {
    "constrained": ("bayesopt", "optuna-gp", "optuna-tpe", "random", "random-2x"),
    "multiobjective": (
        "bayesopt",
        "bayesopt-parego",
        "bayesopt-nehvi",
        "optuna-gp",
        "optuna-tpe",
        "optuna-nsga2",
        "random",
        "random-2x",
    ),
}
"""The contenders of each suite, in report order."""
_CONSTRAINT_VARIANTS = (
    "bayesopt+init10",
    "bayesopt+margin0",
    "bayesopt+margin2e-4",
    "bayesopt+margin2e-3",
    "bayesopt+constraint-warp",
    "bayesopt+constraint-copula",
    "bayesopt+no-constraint-warp",
)
"""Variants of how constraints are handled (and the initial design), in both suites: the
multi-objective one has a constrained problem too."""
VARIANTS: dict[str, tuple[str, ...]] = {
    "constrained": _CONSTRAINT_VARIANTS,
    "multiobjective": (
        "bayesopt+closedform",
        "bayesopt+ref",
        "bayesopt+front-ref",
        "bayesopt+no-warp",
        "bayesopt+alt-ref",
        "bayesopt+both-ref",
        "bayesopt+obs-ref",
        "bayesopt+wide-search",
        *_CONSTRAINT_VARIANTS,
    ),
}
"""Factor-study variants a suite can run and report when asked (``--contenders``), after its
contenders; a plain ``run`` leaves them out."""


def _known(suite: str) -> tuple[str, ...]:
    return (*CONTENDERS[suite], *VARIANTS[suite])


FLOOR = 1e-12
"""Regrets are floored here before the log10."""


# Sessions -------------------------------------------------------------------------------------
class Session:
    """One run: ``ask() -> params`` and ``tell(outcomes)``."""

    def ask(self) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, outcomes: Mapping[str, float]) -> None:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        return {}


class RandomSession(Session):
    """Uniform draws: ``n`` points of ``space.sample(n, seed, sobol=False)`` in order (so
    a longer run extends a shorter one's stream)."""

    def __init__(self, space: bo.Space, seed: int, n: int) -> None:
        self.points = space.sample(n, seed=seed, sobol=False)
        self.k = 0

    def ask(self) -> dict[str, Any]:
        self.k += 1
        return dict(self.points[self.k - 1])

    def tell(self, outcomes: Mapping[str, float]) -> None:
        pass


class BayesoptSession(Session):
    """``bayesopt.Optimizer`` told every objective and constraint as a mapping."""

    def __init__(self, problem: OutcomeProblem, seed: int, **kwargs: Any) -> None:
        objectives = None if list(problem.objectives) == ["value"] else dict(problem.objectives)
        self.opt = bo.Optimizer(
            problem.space,
            objectives=objectives,
            constraints=dict(problem.constraints) or None,
            seed=seed,
            **kwargs,
        )
        self.trial: bo.Trial | None = None
        self.sources: dict[str, int] = {}
        self.fallbacks = 0

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bo.FallbackWarning)
            self.trial = self.opt.ask()
        self.fallbacks += sum(isinstance(w.message, bo.FallbackWarning) for w in caught)
        src = self.trial.source.value
        self.sources[src] = self.sources.get(src, 0) + 1
        return dict(self.trial.params)

    def tell(self, outcomes: Mapping[str, float]) -> None:
        if self.trial is None:
            raise RuntimeError("tell() before ask()")
        self.opt.tell(self.trial, dict(outcomes))

    def info(self) -> dict[str, Any]:
        return {"sources": self.sources, "fallbacks": self.fallbacks}


def _distributions(space: bo.Space) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, p in space.items():
        if isinstance(p, bo.Real):
            out[name] = FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, bo.Integer):
            out[name] = IntDistribution(p.low, p.high, log=p.log)
        else:
            out[name] = CategoricalDistribution(list(p.choices))
    return out


def _constraint_values(trial: Any) -> list[float]:
    """Optuna's ``constraints_func``: the values stored before ``tell`` (``<= 0``
    feasible; NaN, which Optuna rejects, becomes a large violation)."""
    return [v if math.isfinite(v) else 1e300 for v in trial.user_attrs.get("constraints", [])]


class OptunaSession(Session):
    """An Optuna study asked with fixed distributions (``study.ask(distributions)``)."""

    def __init__(self, problem: OutcomeProblem, kind: str, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        cf = _constraint_values if problem.constraints else None
        samplers = {
            "optuna-gp": lambda: optuna.samplers.GPSampler(seed=seed, constraints_func=cf),
            "optuna-tpe": lambda: optuna.samplers.TPESampler(seed=seed, constraints_func=cf),
            "optuna-nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cf),
        }
        self.optuna = optuna
        self.problem = problem
        self.distributions = _distributions(problem.space)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.study = optuna.create_study(
                directions=["minimize"] * len(problem.objectives), sampler=samplers[kind]()
            )
        self.trial: Any = None

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trial = self.study.ask(self.distributions)
        return dict(self.trial.params)

    def tell(self, outcomes: Mapping[str, float]) -> None:
        cons = [float(outcomes[c]) for c in self.problem.constraints]
        if cons:
            self.trial.set_user_attr("constraints", cons)
        values = [float(outcomes[o]) for o in self.problem.objectives]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if all(math.isfinite(v) for v in values):
                self.study.tell(self.trial, values if len(values) > 1 else values[0])
            else:
                self.study.tell(self.trial, state=self.optuna.trial.TrialState.FAIL)


CONSTRAINT_WARPS = {
    "bayesopt+constraint-warp": "yeo-johnson",
    "bayesopt+constraint-copula": "copula",
    "bayesopt+no-constraint-warp": "none",
}
"""Variants with a given ``ModelOptions.constraint_warp``: Yeo-Johnson is the default's since
2026-12-02, ``"none"`` the one before (what ``bayesopt`` ran in the study's records)."""
MARGINS = {"bayesopt+margin0": 0.0, "bayesopt+margin2e-4": 2e-4, "bayesopt+margin2e-3": 2e-3}
"""Variants with a given ``ProposeOptions.constraint_margin``: 2e-4 is the default's since
2026-12-02, 2e-3 the one before (what ``bayesopt`` ran in the margin study's records)."""
REFERENCE_VARIANTS = {
    "bayesopt+front-ref": "front",
    "bayesopt+alt-ref": "alternate",
    "bayesopt+both-ref": "both",
    "bayesopt+obs-ref": "observations",
}
"""Variants with a given ``ProposeOptions.reference_from``: ``"both"`` is the default's since
2026-12-02, ``"observations"`` the one before (what ``bayesopt`` ran in its study's
records)."""


def make_session(name: str, problem: OutcomeProblem, seed: int) -> Session:
    """A fresh, seeded session of contender ``name`` on ``problem``.

    Example:
        >>> from benchmarks.problems.outcomes import problem
        >>> s = make_session("random", problem("gardner"), seed=0)
        >>> sorted(s.ask())
        ['x1', 'x2']
    """
    if name in ("random", "random-2x"):
        return RandomSession(problem.space, seed, 2 * problem.budget)
    if name == "bayesopt":
        return BayesoptSession(problem, seed)
    if name == "bayesopt-parego":
        return BayesoptSession(problem, seed, acquisition="parego")
    if name == "bayesopt+closedform":
        options = bo.ProposeOptions(closed_form="always")
        return BayesoptSession(problem, seed, propose_options=options)
    if name == "bayesopt-nehvi":
        options = bo.ProposeOptions(closed_form="never")
        return BayesoptSession(problem, seed, propose_options=options)
    if name == "bayesopt+wide-search":  # the default's search since propose.PARETO_SEARCH
        return BayesoptSession(problem, seed)
    if name in REFERENCE_VARIANTS:
        options = bo.ProposeOptions(reference_from=REFERENCE_VARIANTS[name])
        return BayesoptSession(problem, seed, propose_options=options)
    if name == "bayesopt+no-warp":
        return BayesoptSession(problem, seed, model_options=bo.ModelOptions(output_warp="none"))
    if name == "bayesopt+init10":
        n_initial = min(default_n_initial(problem.space), 10)
        return BayesoptSession(problem, seed, n_initial=n_initial)
    if name in CONSTRAINT_WARPS:
        options = bo.ModelOptions(constraint_warp=CONSTRAINT_WARPS[name])
        return BayesoptSession(problem, seed, model_options=options)
    if name in MARGINS:
        options = bo.ProposeOptions(constraint_margin=MARGINS[name])
        return BayesoptSession(problem, seed, propose_options=options)
    if name == "bayesopt+ref":
        if problem.ref_point is None:
            raise ValueError(f"{problem.name} has no reference point to give")
        point = dict(zip(problem.objectives, problem.ref_point, strict=True))
        return BayesoptSession(problem, seed, reference_point=point)
    if name in ("optuna-gp", "optuna-tpe", "optuna-nsga2"):
        return OptunaSession(problem, name, seed)
    known = sorted({c for suite in CONTENDERS for c in _known(suite)})
    raise KeyError(f"unknown contender {name!r}; known: {known}")


def available(name: str) -> bool:
    """Whether the contender's library is importable."""
    import importlib.util

    return not name.startswith("optuna") or importlib.util.find_spec("optuna") is not None


# Hypervolume ----------------------------------------------------------------------------------
def hypervolume(points: Any, ref_point: Sequence[float]) -> float:
    """Hypervolume dominated by ``points`` (``n x M``, every objective *minimised*) and
    bounded by ``ref_point``: the Lebesgue measure of ``{y : p <= y <= ref}`` over the
    points ``p``. Points not strictly below ``ref_point`` in every objective add nothing.
    Computed with BoTorch's ``Hypervolume`` on the negated values (BoTorch maximises).

    Example:
        >>> hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0])
        3.0
    """
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume
    from botorch.utils.multi_objective.pareto import is_non_dominated

    ref = torch.as_tensor(np.asarray(ref_point, dtype=float))
    Y = torch.as_tensor(np.asarray(points, dtype=float)).reshape(-1, ref.numel())
    Y = Y[torch.isfinite(Y).all(-1) & (ref > Y).all(-1)]
    if len(Y) == 0:
        return 0.0
    gains = -Y
    front = gains[is_non_dominated(gains, deduplicate=True)]
    return float(Hypervolume(ref_point=-ref).compute(front))


def hypervolume_trace(
    points: Any, feasible: Sequence[bool], ref_point: Sequence[float]
) -> list[float]:
    """The hypervolume of the feasible points among the first ``k``, for every ``k``."""
    Y = np.asarray(points, dtype=float).reshape(len(feasible), -1)
    ref = np.asarray(ref_point, dtype=float)
    out: list[float] = []
    hv = 0.0
    kept: list[np.ndarray] = []
    for y, ok in zip(Y, feasible, strict=True):
        if ok and np.all(np.isfinite(y)) and np.all(y < ref):
            dominated = any(np.all(k <= y) for k in kept)
            kept.append(y)
            if not dominated:
                hv = hypervolume(np.array(kept), ref)
        out.append(hv)
    return out


def _best_trace(values: Sequence[float], feasible: Sequence[bool]) -> list[float]:
    """Best feasible value among the first ``k`` evaluations (``inf`` before the first)."""
    out, best = [], math.inf
    for v, ok in zip(values, feasible, strict=True):
        if ok and v < best:
            best = v
        out.append(best)
    return out


# Cells ----------------------------------------------------------------------------------------
def run_cell(problem: OutcomeProblem, contender: str, seed: int) -> dict[str, Any]:
    """Run one (problem, contender, seed) cell and return its record.

    The record holds every evaluation (``params``, ``outcomes``, ``feasible``, ``ask_s``),
    the ``trace`` (best feasible value, or hypervolume at ``problem.ref_point``, after each
    budget step; ``random-2x`` takes two evaluations a step) and ``final``.
    """
    factor = 2 if contender == "random-2x" else 1
    n = problem.budget * factor
    session = make_session(contender, problem, seed)
    names = problem.objective_names + problem.constraint_names
    params_seen: list[dict[str, Any]] = []
    outcomes: list[dict[str, float]] = []
    feasible: list[bool] = []
    ask_s: list[float] = []
    cpu0, wall0 = time.process_time(), time.time()
    for _ in range(n):
        t = time.perf_counter()
        params = session.ask()
        ask_s.append(time.perf_counter() - t)
        out = problem.fn(params)
        out = {k: float(out[k]) for k in names}
        session.tell(out)
        params_seen.append({k: _plain(v) for k, v in params.items()})
        outcomes.append(out)
        feasible.append(problem.feasible(out))
    if problem.suite == "constrained":
        full = _best_trace([o["value"] for o in outcomes], feasible)
    else:
        assert problem.ref_point is not None
        Y = [[o[k] for k in problem.objective_names] for o in outcomes]
        full = hypervolume_trace(Y, feasible, problem.ref_point)
    trace = [full[(i + 1) * factor - 1] for i in range(problem.budget)]
    return {
        "suite": problem.suite,
        "problem": problem.name,
        "contender": contender,
        "seed": seed,
        "budget": problem.budget,
        "factor": factor,
        "status": "ok",
        "params": params_seen,
        "outcomes": outcomes,
        "feasible": feasible,
        "trace": [_json_float(v) for v in trace],
        "final": _json_float(trace[-1]),
        "n_feasible": int(sum(feasible)),
        "ask_s": ask_s,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.time() - wall0,
        "info": session.info(),
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _json_float(x: float) -> float | None:
    """JSON has no infinity: ``None`` stands for "no feasible point yet"."""
    return float(x) if math.isfinite(x) else None


# Running --------------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the results."""
    import importlib.metadata
    import platform

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` or ``"0,3,5"`` (or both, comma-separated) as a list of seeds."""
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        try:
            out += list(range(int(a), int(b) + 1)) if b else [int(a)]
        except ValueError:
            raise ValueError(f"`--seeds` must look like 0-9 or 0,3,5, got {text!r}") from None
    return out


def _section_table(
    title: str,
    caption: str,
    order: Sequence[str],
    names: Sequence[str],
    cell: Callable[[str, str], str],
) -> list[str]:
    """A ``## title`` section: a row per problem, a column per contender, ``cell(p, c)``."""
    lines = ["", f"## {title}", "", caption, "", "| problem | " + " | ".join(names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    for p in order:
        lines.append(f"| `{p}` | " + " | ".join(cell(p, c) for c in names) + " |")
    return lines


def _median_table(
    title: str,
    caption: str,
    order: Sequence[str],
    names: Sequence[str],
    losses: dict[str, dict[str, dict[int, float]]],
) -> list[str]:
    """A ``## title`` section: per problem and contender, median [quartiles] over seeds."""

    def cell(p: str, c: str) -> str:
        return _median_iqr(list(losses[p][c].values())) if c in losses[p] else "-"

    return _section_table(title, caption, order, names, cell)


def _feasible_share(records: Sequence[dict[str, Any]]) -> str:
    """Median share of feasible evaluations; in parentheses, runs with none."""
    if not records:
        return "-"
    frac = np.median([r["n_feasible"] / len(r["feasible"]) for r in records])
    none = sum(r["n_feasible"] == 0 for r in records)
    return f"{frac:.2f}" + (f" ({none})" if none else "")


def _first_feasible(records: Sequence[dict[str, Any]]) -> str:
    """Median evaluations to the first feasible point (``never`` above every number)."""
    if not records:
        return "-"
    firsts = [r["feasible"].index(True) + 1 if r["n_feasible"] else math.inf for r in records]
    med = float(np.quantile(firsts, 0.5, method="inverted_cdf"))
    return "never" if math.isinf(med) else f"{med:.0f}"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False,
            cwd=Path(__file__).resolve().parent.parent,  # the repository root
        )  # fmt: skip
        return out.stdout.strip()
    except OSError:
        return ""


def _meta(suite: str) -> dict[str, Any]:
    return {
        "suite": suite,
        "commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        "tree_dirty": bool(_git("status", "--porcelain", *CODE_PATHS)),
        "threads": None,
        "host": host(),
    }


def run(args: argparse.Namespace) -> int:
    """Run the missing cells of the grid, appending each record as it finishes."""
    suite = args.suite
    probs = {p.name: p for p in problems(suite)}
    names = args.problems.split(",") if args.problems else list(probs)
    contenders = args.contenders.split(",") if args.contenders else list(CONTENDERS[suite])
    unknown = [n for n in names if n not in probs] + [
        c for c in contenders if c not in _known(suite)
    ]
    if unknown:
        print(f"unknown problems or contenders for suite {suite}: {unknown}", file=sys.stderr)
        return 2
    seeds = parse_seeds(args.seeds)
    skipped = [c for c in contenders if not available(c)]
    for c in skipped:
        print(f"skipping {c}: its library is not installed", file=sys.stderr)
    contenders = [c for c in contenders if c not in skipped]
    folder = Path(args.results) / suite
    out = folder / "runs.jsonl"
    done = {
        (r["problem"], r["contender"], r["seed"], r["budget"])
        for r in store.read_runs(out)
        if r.get("status") == "ok" or not args.retry_errors
    }
    cells = [
        (p, c, s)
        for s in seeds
        for p in names
        for c in contenders
        if (p, c, s, probs[p].budget) not in done
    ]
    meta = {"versions": library_versions(), "meta": _meta(suite)}
    began, errors, ran = time.time(), 0, 0
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    try:
        for k, (p, c, s) in enumerate(cells, 1):
            try:
                with _quiet():
                    record = run_cell(probs[p], c, s)
            except Exception as exc:  # a failing contender is recorded
                errors += 1
                record = {
                    "suite": suite, "problem": p, "contender": c, "seed": s,
                    "budget": probs[p].budget, "status": "error",
                    "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                }  # fmt: skip
            store.append(out, record | meta, strict=False)
            ran += 1
            final = record.get("final")
            print(
                f"[{k}/{len(cells)}] {suite} {p} {c} seed {s}: {record['status']}, final "
                f"{final if final is None else f'{final:.5g}'} ({record.get('wall_s', 0):.1f} s)",
                flush=True,
            )
    finally:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "commands.log").open("a") as f:
            f.write(
                f"{stamp} {_command(args)}: ran {ran} cells ({errors} errors) in "
                f"{time.time() - began:.0f} s\n"
            )
    return 0


def _command(args: argparse.Namespace) -> str:
    parts = ["python -m benchmarks.outcomes"]
    if Path(args.results).resolve() != RESULTS:
        parts += ["--results", str(args.results)]
    parts += ["run", "--suite", args.suite]
    for flag in ("problems", "contenders"):
        if getattr(args, flag):
            parts += [f"--{flag}", getattr(args, flag)]
    parts += ["--seeds", args.seeds]
    return " ".join(parts)


# Report: shared -------------------------------------------------------------------------------
Table = dict[str, dict[str, dict[int, dict[str, Any]]]]


def _table(records: list[dict[str, Any]], budgets: Mapping[str, int]) -> Table:
    """``{problem: {contender: {seed: record}}}`` of the ``ok`` records made at the
    problem's budget in ``budgets`` (the last record of a cell wins)."""
    out: Table = {}
    for r in records:
        if r.get("status") == "ok" and r["budget"] == budgets.get(r["problem"]):
            out.setdefault(r["problem"], {}).setdefault(r["contender"], {})[r["seed"]] = r
    return out


def _common_seeds(table: Table) -> Table:
    """``table`` with each problem cut to the seeds every contender there has, so that
    every median and test of a problem covers the same seeds."""
    out: Table = {}
    for p, cells in table.items():
        common = set.intersection(*(set(runs) for runs in cells.values()))
        if common:
            out[p] = {c: {s: runs[s] for s in sorted(common)} for c, runs in cells.items()}
    return out


def _trace(record: dict[str, Any]) -> np.ndarray:
    return np.array([math.inf if v is None else v for v in record["trace"]], dtype=float)


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "nan" if not math.isfinite(x) else f"{x:.3g}"


def _median_iqr(xs: Sequence[float]) -> str:
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "-"
    q1, m, q3 = np.quantile(xs, [0.25, 0.5, 0.75], method="inverted_cdf")
    return f"{_fmt(m)} [{_fmt(q1)}, {_fmt(q3)}]"


def _median(xs: Sequence[float]) -> float:
    """The sample median as the tables show it (the lower middle value of an even count,
    so that ``inf``, no feasible point, stays a value)."""
    return float(np.quantile(xs, 0.5, method="inverted_cdf"))


def _finite_losses(losses: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
    """Losses with ``inf`` (no feasible point) replaced by one more than the worst finite
    loss of the problem, so the ranks and the signed-rank test see it as the worst."""
    finite = [v for per in losses.values() for v in per.values() if math.isfinite(v)]
    worst = (max(finite) if finite else 0.0) + 1.0
    return {
        c: {s: (v if math.isfinite(v) else worst) for s, v in per.items()}
        for c, per in losses.items()
    }


def _comparisons(
    losses: dict[str, dict[str, dict[int, float]]], a: str, others: Sequence[str]
) -> tuple[dict[str, dict[str, stats.Comparison]], dict[str, dict[str, stats.Outcome]]]:
    """``a`` against each of ``others`` on every problem, raw and Holm-corrected (the
    family: one pair of contenders over the problems)."""
    raw: dict[str, dict[str, stats.Comparison]] = {}
    holm: dict[str, dict[str, stats.Outcome]] = {}
    for b in others:
        fam = {}
        for prob, per in losses.items():
            if a in per and b in per:
                seeds = sorted(set(per[a]) & set(per[b]))
                if seeds:
                    fam[prob] = stats.compare(
                        [per[a][s] for s in seeds], [per[b][s] for s in seeds]
                    )
        raw[b] = fam
        holm[b] = stats.holm_outcomes(fam) if fam else {}
    return raw, holm


def _wtl_section(losses, order: Sequence[str], a: str, others: Sequence[str]) -> list[str]:
    raw, holm = _comparisons(losses, a, others)
    lines = ["| problem | " + " | ".join(others) + " |", "|---" * (len(others) + 1) + "|"]
    for p in order:
        lines.append(
            f"| `{p}` | "
            + " | ".join(stats.wtl_cell(raw[b].get(p), holm[b].get(p)) for b in others)
            + " |"
        )
    totals = []
    for b in others:
        outs = list(holm[b].values())
        w, t, l_ = (sum(o is stats.Outcome(k) for o in outs) for k in ("win", "tie", "loss"))
        rw, rt, rl = (
            sum(c.outcome is stats.Outcome(k) for c in raw[b].values())
            for k in ("win", "tie", "loss")
        )
        totals.append(f"{w}/{t}/{l_} (raw {rw}/{rt}/{rl})")
    lines.append("| **W/T/L (Holm)** | " + " | ".join(totals) + " |")
    return lines


def _mean_ranks(
    losses, order: Sequence[str], names: Sequence[str]
) -> tuple[dict[str, float], list[str]]:
    """Mean ranks over the problems where every one of ``names`` ran, and those problems."""
    table = {}
    for p in order:
        per = losses[p]
        if not all(n in per for n in names):
            continue
        seeds = sorted(set.intersection(*(set(per[n]) for n in names)))
        if seeds:
            table[p] = {n: [per[n][s] for s in seeds] for n in names}
    return (stats.mean_ranks(table) if table else {}), list(table)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_curves(curves, order, names, ylabel: str, path: Path, title: str) -> None:
    """``curves[p][c]``: ``seeds x budget`` array; median line and quartile band."""
    from benchmarks.figures import styles_for

    plt = _pyplot()
    styles = styles_for(names)
    n = len(order)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, p in zip(axes.flat, order, strict=False):
        for c in names:
            Y = curves[p].get(c)
            if Y is None or len(Y) == 0:
                continue
            q1, med, q3 = np.quantile(Y, [0.25, 0.5, 0.75], axis=0, method="inverted_cdf")
            x = np.arange(1, Y.shape[1] + 1)
            colour, ls, marker = styles[c]
            ax.plot(x, med, color=colour, ls=ls, marker=marker, markevery=max(1, len(x) // 6),
                    ms=4, label=c)  # fmt: skip
            ok = np.isfinite(q1) & np.isfinite(q3)
            ax.fill_between(x[ok], q1[ok], q3[ok], color=colour, alpha=0.12, lw=0)
        if not any(np.isfinite(Y).any() for Y in curves[p].values() if len(Y)):
            ax.text(0.5, 0.5, "no run found a\nfeasible point", ha="center", va="center",
                    transform=ax.transAxes, fontsize="small")  # fmt: skip
        ax.set_title(p, fontsize="small")
        ax.set_xlabel("evaluations")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize="x-small")
    fig.suptitle(title, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _cost_lines(table: Table, order, names) -> list[str]:
    lines = [
        "",
        "## Cost",
        "",
        "Wall seconds per ask (median over runs of the mean ask) and per run.",
        "",
        "| contender | s / ask | s / run |",
        "|---|---|---|",
    ]
    for c in names:
        recs = [r for p in order for r in table[p].get(c, {}).values()]
        if recs:
            per_ask = np.median([np.mean(r["ask_s"]) for r in recs])
            per_run = np.median([r["wall_s"] for r in recs])
            lines.append(f"| {c} | {per_ask:.3f} | {per_run:.1f} |")

    def per_run(p: str, c: str) -> str:
        recs = list(table[p].get(c, {}).values())
        return f"{np.mean([r['wall_s'] for r in recs]):.1f}" if recs else "-"

    caption = "Mean wall seconds of a run, per problem (the same runs)."
    return lines + _section_table("Seconds per run", caption, order, names, per_run)


def _header(suite: str, records, probs, order, table, command: str) -> list[str]:
    used = sum(len(runs) for p in order for runs in table[p].values())
    errors = [r for r in records if r.get("status") == "error"]
    return [
        f"# {'Constrained' if suite == 'constrained' else 'Multi-objective'} optimisation",
        "",
        f"Generated by `{command}` from `runs.jsonl` ({len(records)} records, "
        f"{len(errors)} errors); the runs by the commands in `commands.log` (see *Manifest*). "
        f"Each problem is reported on the seeds that every contender ran on it at the "
        f"problem's budget (column *seeds*; {used} runs in all); other records (more seeds "
        "of the cheap contenders, other budgets) stay in `runs.jsonl`.",
        "",
    ]


def _seed_text(seeds: Sequence[int]) -> str:
    if not seeds:
        return "none"
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def _seed_counts(table: Table, p: str) -> str:
    seeds = sorted(next(iter(table[p].values())))
    return f"{len(seeds)} ({_seed_text(seeds)})"


CONTENDER_ROWS: dict[str, str] = {
    "bayesopt": "`bayesopt.Optimizer(space, objectives=..., constraints=..., seed=s)`: "
    "LogEI times the probability of feasibility with constraints; with several objectives "
    "the expected hypervolume improvement over the posterior means' Pareto front; both in "
    "closed form (`acquisition.LogEHVI`)",
    "bayesopt-parego": 'the same with `acquisition="parego"` (qLogNParEGO)',
    "bayesopt-nehvi": "the same with `ProposeOptions(closed_form='never')`: qLogNEHVI, the "
    "default before 2026-12-01",
    "bayesopt+closedform": "the same with `ProposeOptions(closed_form='always')`: the "
    "posterior means' Pareto front instead of qLogNEHVI, the factor study's variant (the default "
    "since)",
    "bayesopt+init10": "the default with an initial design of at most 10 points "
    "(`n_initial=min(default_n_initial(space), 10)`; Optuna's GPSampler starts its model "
    "after 10 trials)",
    "bayesopt+ref": "the default given the problem's reference point (`reference_point=`) "
    "instead of inferring one from the observations at every ask",
    "bayesopt+front-ref": "the default with `ProposeOptions(reference_from='front')`: the "
    "reference point inferred at each ask from the nadir of the observed Pareto front instead "
    "of every observation",
    "bayesopt+wide-search": "the acquisition searched from 2048 raw points with 20 local "
    "searches, run as `ProposeOptions(raw_samples=2048, n_restarts=20)` before that search "
    "became the default's for several objectives (`propose.PARETO_SEARCH`); now the default",
    "bayesopt+alt-ref": "the default with `ProposeOptions(reference_from='alternate')`: the "
    "reference point inferred from every observation and from the Pareto front's nadir on "
    "alternate asks",
    "bayesopt+both-ref": "`ProposeOptions(reference_from='both')`: the hypervolume improvement "
    "relative to the observations' and the Pareto front's inferred points at once, each "
    "divided by the volume the front already holds relative to it; the default since "
    "2026-12-02",
    "bayesopt+obs-ref": "the default before 2026-12-02, `ProposeOptions(reference_from="
    "'observations')`: the reference point inferred from every feasible observation",
    "bayesopt+no-warp": "the default with `ModelOptions(output_warp='none')`: objectives only "
    "standardised, so the acquisition's hypervolume is the judge's up to a scale per objective",
    "bayesopt+margin0": "the default with `ProposeOptions(constraint_margin=0.0)`: a constraint "
    "counts as met up to its bound, not a small margin of its observed values' s.d. inside it",
    "bayesopt+margin2e-4": "`ProposeOptions(constraint_margin=2e-4)`, the default's margin since "
    "2026-12-02, a tenth of the one before",
    "bayesopt+margin2e-3": "`ProposeOptions(constraint_margin=2e-3)`, the default's margin "
    "before 2026-12-02",
    "bayesopt+constraint-warp": "`ModelOptions(constraint_warp='yeo-johnson')`: each "
    "constraint's slacks Yeo-Johnson transformed as an objective is, its bound mapped through "
    "the transform (the default since 2026-12-02)",
    "bayesopt+no-constraint-warp": "`ModelOptions(constraint_warp='none')`: constraint slacks "
    "only standardised, the default before 2026-12-02",
    "bayesopt+constraint-copula": "the default with `ModelOptions(constraint_warp='copula')`: "
    "each constraint's slacks replaced by the normal quantiles of their ranks, its bound "
    "mapped between the ranks it separates",
    "optuna-gp": "`optuna.samplers.GPSampler(seed=s, constraints_func=...)`",
    "optuna-tpe": "`optuna.samplers.TPESampler(seed=s, constraints_func=...)`, defaults otherwise",
    "optuna-nsga2": "`optuna.samplers.NSGAIISampler(seed=s, constraints_func=...)`, its default "
    "population of 50 (so at these budgets mostly its random first generation)",
    "random": "uniform draws, `bayesopt.Space.sample(2 * budget, seed=s, sobol=False)`, the "
    "first `budget`",
    "random-2x": "the same stream, all `2 * budget` draws; its curve is drawn against "
    "evaluations / 2",
    "ax": "not run: Ax 1.3.1 is importable, but its default generation strategy took 20-90 s "
    "an ask in the main suite, too slow for this grid on 2 cores",
}
"""One line per contender for the reports (``ax``: why it is absent)."""


def _contender_table(names: Sequence[str]) -> str:
    """The contender table: the contenders that ran, and the ones not run."""
    rows = [f"| `{c}` | {CONTENDER_ROWS[c]} |" for c in (*names, "ax")]
    return "\n".join(["| name | what |", "|---|---|", *rows])


# Report: constrained --------------------------------------------------------------------------
def _constrained_report(records, results: Path, command: str) -> list[str]:
    probs = {p.name: p for p in problems("constrained")}
    table = _common_seeds(_table(records, {p: pr.budget for p, pr in probs.items()}))
    order = [p for p in probs if p in table]
    names = [c for c in _known("constrained") if any(c in table[p] for p in order)]
    refs: dict[str, tuple[float, str]] = {}
    for p in order:
        best = min(
            (
                r["final"]
                for cells in table[p].values()
                for r in cells.values()
                if r["final"] is not None
            ),
            default=math.inf,
        )
        known = probs[p].optimum
        if known is not None and known <= best:
            refs[p] = (known, "known optimum")
        elif known is not None:
            refs[p] = (best, f"best found: below the stated optimum {known:.6g}")
        else:
            refs[p] = (best, "best feasible value any contender found")
    losses: dict[str, dict[str, dict[int, float]]] = {}
    curves: dict[str, dict[str, np.ndarray]] = {}
    for p in order:
        f_ref = refs[p][0]
        losses[p] = {}
        curves[p] = {}
        for c, cells in table[p].items():
            floor = probs[p].regret_floor
            losses[p][c] = {
                s: (math.inf if r["final"] is None else math.log10(max(r["final"] - f_ref, floor)))
                for s, r in cells.items()
            }
            curves[p][c] = np.array(
                [np.log10(np.maximum(_trace(r) - f_ref, floor)) for r in cells.values()]
            )
    finite = {p: _finite_losses(losses[p]) for p in order}
    lines = _header("constrained", records, probs, order, table, command)
    lines += [
        "Single-objective problems with black-box constraints `c_i(x) <= 0`, every constraint "
        "value told to each contender with the objective. The loss is the final **log10 "
        "regret of the best feasible value** found, `log10(max(f_best - f_ref, floor))` "
        "(floor 1e-12; 1e-3 on the MLP task, whose error moves in steps of 0.005), where "
        "`f_ref` is the known optimum or, where no optimum is known (or a contender found a "
        "feasible value below the stated one), the best feasible value any contender found "
        "(column *reference*). A run without a feasible point has regret `inf`; in the tests "
        "and ranks it counts as worse than every run with one.",
        "",
        "| problem | d | constraints | budget | seeds | f_ref | reference | description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in order:
        pr = probs[p]
        lines.append(
            f"| `{p}` | {pr.dim} | {len(pr.constraints)} | {pr.budget} | {_seed_counts(table, p)} "
            f"| {refs[p][0]:.6g} | {refs[p][1]}"
            + (
                f" ({pr.optimum_source})"
                if pr.optimum is not None and refs[p][1] == "known optimum"
                else ""
            )
            + f" | {pr.description} |"
        )
    lines += ["", "## Contenders", "", _contender_table(names)]
    lines += _median_table(
        "Final log10 regret of the best feasible value",
        "Median [25 %, 75 %] over seeds (`inf`: no feasible point; with an even number of "
        "seeds the median is the lower middle value).",
        order,
        names,
        losses,
    )

    def runs(p: str, c: str) -> list[dict[str, Any]]:
        return list(table[p].get(c, {}).values())

    lines += _section_table(
        "Fraction of feasible evaluations",
        "Median over seeds of the share of a run's evaluations that satisfy every constraint; "
        "in parentheses, the runs that found no feasible point.",
        order,
        names,
        lambda p, c: _feasible_share(runs(p, c)),
    )
    lines += _section_table(
        "Evaluations to the first feasible point",
        "Median over seeds (a run without a feasible point counts as `never`, above every "
        "number); `random-2x` counts its own evaluations.",
        order,
        names,
        lambda p, c: _first_feasible(runs(p, c)),
    )
    lines += _verdicts(finite, order, names, "bayesopt")
    if "bayesopt" in names:
        what = "log10 regret of the best feasible value"
        lines += _where_peers_win(losses, order, names, what, tests=finite)
    lines += _cost_lines(table, order, names)
    _plot_curves(curves, order, names, "log10 regret (best feasible)", results / "curves.png",
                 "best feasible value: median and 25-75 % band over seeds")  # fmt: skip
    lines += [
        "",
        "![regret curves](curves.png)",
        "",
        "A median curve (a band) starts once the median run (both quartile runs) has found a "
        "feasible point.",
        "",
    ]
    return lines


def _verdicts(losses, order, names, a: str) -> list[str]:
    if a not in names:
        return []
    others = [c for c in names if c != a]
    lines = [
        "",
        f"## {a} against each contender",
        "",
        f"Outcome of `{a}` (W win, T tie, L loss) in a paired two-sided Wilcoxon signed-rank "
        "test over seeds on the final loss, with its p-value, and the outcome after Holm's "
        "correction over the problems of each pair.",
        "",
    ]
    lines += _wtl_section(losses, order, a, others)
    pairs = sorted({len(v) for per in losses.values() for v in per.values()})
    if pairs and pairs[0] < 6:
        lines += [
            "",
            f"With n seeds the smallest two-sided p of the exact test is 2 / 2^n "
            f"({', '.join(f'n = {n}: {stats.min_attainable_p(n):.3g}' for n in pairs)}): "
            "fewer than 6 seeds can never reach p < 0.05.",
        ]
    # The contenders' ranks leave the factor-study variants out, so that a variant (a
    # near-copy of bayesopt) does not push the other contenders down; a second line ranks
    # the whole field.
    variants = [c for c in names if any(c in v for v in VARIANTS.values())]
    fields = [
        ([c for c in names if c not in variants], "every contender ran (ranked per seed, then "
         "averaged; 1 best)"),
        (names if variants else [], f"all ran, with the variants ({', '.join(variants)})"),
    ]  # fmt: skip
    for field, what in fields:
        ranks, where = _mean_ranks(losses, order, field) if field else ({}, [])
        if ranks:
            ranked = ", ".join(f"{c} {ranks[c]:.2f}" for c in sorted(ranks, key=ranks.get))
            lines += ["", f"Mean ranks over the {len(where)} problem(s) where {what}: {ranked}."]
    return lines


# Report: multiobjective -----------------------------------------------------------------------
def _front(record: dict[str, Any], objectives: Sequence[str]) -> np.ndarray:
    """The feasible non-dominated outcome vectors of a run (minimisation)."""
    Y = np.array(
        [
            [o[k] for k in objectives]
            for o, ok in zip(record["outcomes"], record["feasible"], strict=True)
            if ok
        ],
        dtype=float,
    ).reshape(-1, len(objectives))
    Y = Y[np.isfinite(Y).all(1)]
    keep = [i for i, y in enumerate(Y) if not any(np.all(z <= y) and np.any(z < y) for z in Y)]
    return Y[keep]


def _multiobjective_report(records, results: Path, command: str) -> list[str]:
    probs = {p.name: p for p in problems("multiobjective")}
    table = _common_seeds(_table(records, {p: pr.budget for p, pr in probs.items()}))
    order = [p for p in probs if p in table]
    names = [c for c in _known("multiobjective") if any(c in table[p] for p in order)]
    hv_ref: dict[str, tuple[float, str]] = {}
    for p in order:
        pr = probs[p]
        best = max(
            (r["final"] or 0.0 for cells in table[p].values() for r in cells.values()), default=0.0
        )
        if pr.max_hv is not None and pr.max_hv >= best:
            hv_ref[p] = (pr.max_hv, "BoTorch `max_hv`")
        else:
            fronts = [
                _front(r, pr.objective_names) for cells in table[p].values() for r in cells.values()
            ]
            union = hypervolume(np.concatenate(fronts), pr.ref_point) if fronts else 0.0
            why = "no known maximum" if pr.max_hv is None else "above `max_hv`"
            hv_ref[p] = (max(union, best), f"union of every run's front ({why})")
    losses: dict[str, dict[str, dict[int, float]]] = {}
    curves: dict[str, dict[str, np.ndarray]] = {}
    hv_final: dict[str, dict[str, list[float]]] = {}
    for p in order:
        top = hv_ref[p][0]
        losses[p], curves[p], hv_final[p] = {}, {}, {}
        for c, cells in table[p].items():
            losses[p][c] = {
                s: math.log10(max(top - (r["final"] or 0.0), FLOOR)) for s, r in cells.items()
            }
            curves[p][c] = np.array(
                [np.log10(np.maximum(top - _trace(r), FLOOR)) for r in cells.values()]
            )
            hv_final[p][c] = [r["final"] or 0.0 for r in cells.values()]
    lines = _header("multiobjective", records, probs, order, table, command)
    lines += [
        "Every objective is **minimised**. The hypervolume of a run is that of its feasible "
        "evaluations, bounded by the problem's reference point (a point counts only where it "
        "is below the reference point in every objective), computed with BoTorch's "
        "`Hypervolume` on the negated values. The loss is the final **log10 hypervolume "
        "regret**, `log10(max(HV_max - HV, 1e-12))`, with `HV_max` BoTorch's `max_hv` of the "
        "true front, or, for the real task, the hypervolume of the union of every run's front "
        "(a lower bound of the true maximum, so there the regret is relative to the best "
        "known).",
        "",
        "| problem | d | M | constraints | budget | seeds | reference point | HV_max | from | "
        "description |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in order:
        pr = probs[p]
        ref = ", ".join(f"{v:.4g}" for v in pr.ref_point or ())
        lines.append(
            f"| `{p}` | {pr.dim} | {len(pr.objectives)} | {len(pr.constraints)} | {pr.budget} | "
            f"{_seed_counts(table, p)} | ({ref}) | {hv_ref[p][0]:.6g} | {hv_ref[p][1]} | "
            f"{pr.description} |"
        )
    lines += ["", "## Contenders", "", _contender_table(names)]
    lines += _median_table(
        "Final log10 hypervolume regret",
        "Median [25 %, 75 %] over seeds (with an even number of seeds the median is the lower "
        "middle value).",
        order,
        names,
        losses,
    )
    lines += [
        "",
        "Final hypervolume, median over seeds (for scale):",
        "",
        "| problem | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for p in order:
        lines.append(
            f"| `{p}` | "
            + " | ".join(
                f"{np.median(hv_final[p][c]):.4g}" if c in hv_final[p] else "-" for c in names
            )
            + " |"
        )
    lines += _verdicts(losses, order, names, "bayesopt")
    if "bayesopt-parego" in names:
        lines += [
            "",
            "`bayesopt-parego` against the same contenders (and `bayesopt`):",
            "",
        ]
        others = [c for c in names if c != "bayesopt-parego"]
        lines += _wtl_section(losses, order, "bayesopt-parego", others)
    for variant in VARIANTS["multiobjective"]:
        if variant in names:
            lines += ["", f"`{variant}` against the same contenders (and `bayesopt`):", ""]
            others = [c for c in names if c != variant]
            lines += _wtl_section(losses, order, variant, others)
    if "bayesopt" in names:
        lines += _where_peers_win(losses, order, names, "log10 hypervolume regret")
    lines += _cost_lines(table, order, names)
    _plot_curves(curves, order, names, "log10 HV regret", results / "curves.png",
                 "hypervolume regret: median and 25-75 % band over seeds")  # fmt: skip
    seed = min(min(table[p].get("bayesopt", {0: None})) for p in order) if order else 0
    _plot_fronts(table, order, names, probs, seed, results / "fronts.png")
    lines += [
        "",
        "![hypervolume regret curves](curves.png)",
        "",
        f"Feasible non-dominated points of seed {seed} per contender (M = 3: the three pairs of "
        "objectives):",
        "",
        "![Pareto fronts](fronts.png)",
        "",
    ]
    return lines


def _where_peers_win(losses, order, names, what: str, tests=None) -> list[str]:
    """The (problem, peer) pairs where the peer's median ``losses`` is lower than
    bayesopt's or the paired test on ``tests`` (default: ``losses``) finds bayesopt worse."""
    peers = [c for c in names if not c.startswith("bayesopt")]
    raw, holm = _comparisons(losses if tests is None else tests, "bayesopt", peers)
    rows = []
    for p in order:
        for c in peers:
            comp = raw[c].get(p)
            if comp is None:
                continue
            mb = _median(list(losses[p]["bayesopt"].values()))
            mc = _median(list(losses[p][c].values()))
            if comp.outcome is stats.Outcome.LOSS:
                verdict = "significant" + (
                    " after Holm" if holm[c].get(p) is stats.Outcome.LOSS else " (not after Holm)"
                )
            elif mc < mb:
                verdict = "better median, not significant"
            else:
                continue
            rows.append(
                f"| `{p}` | {c} | {_fmt(mc)} | {_fmt(mb)} | {comp.p_value:.3f} | {verdict} |"
            )
    lines = ["", "## Where a peer beats bayesopt", ""]
    if not rows:
        return [*lines, "No peer has a lower median final loss than `bayesopt` on any problem."]
    return [
        *lines,
        f"Every (problem, peer) where the peer's median final {what} is lower than "
        "`bayesopt`'s, or the paired test finds `bayesopt` worse.",
        "",
        "| problem | peer | peer median | bayesopt median | p | verdict |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def _plot_fronts(table: Table, order, names, probs, seed: int, path: Path) -> None:
    from itertools import combinations

    from benchmarks.figures import styles_for

    plt = _pyplot()
    styles = styles_for(names)
    panels = [(p, pair) for p in order for pair in combinations(range(len(probs[p].objectives)), 2)]
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (p, (i, j)) in zip(axes.flat, panels, strict=False):
        objs = probs[p].objective_names
        for c in names:
            r = table[p].get(c, {}).get(seed)
            if r is None:
                continue
            F = _front(r, objs)
            if len(F) == 0:
                continue
            colour, _, marker = styles[c]
            ax.scatter(F[:, i], F[:, j], s=14, color=colour, marker=marker, label=c, alpha=0.8)
        ax.set_title(f"{p} (seed {seed})", fontsize="small")
        ax.set_xlabel(objs[i])
        ax.set_ylabel(objs[j])
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(results: Path, suite: str, command: str | None = None) -> Path:
    """``REPORT.md`` and its figures in ``results`` (the suite's folder) from its
    ``runs.jsonl``.

    Example:
        >>> write_report(Path("benchmarks/results/constrained"), "constrained")  # doctest: +SKIP
    """
    if suite not in SUITES:
        raise ValueError(f"`suite` must be one of {SUITES}, got {suite!r}")
    command = command or f"python -m benchmarks.outcomes report --suite {suite}"
    records = store.read_runs(results / "runs.jsonl")
    if not any(r.get("status") == "ok" for r in records):
        raise ValueError(f"{results / 'runs.jsonl'} holds no finished cell to report on.")
    build = _constrained_report if suite == "constrained" else _multiobjective_report
    lines = build(records, results, command)
    errors = [r for r in records if r.get("status") == "error"]
    if errors:
        lines += [
            "",
            "## Errors",
            "",
            "| problem | contender | seed | error |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{r['problem']}` | {r['contender']} | {r['seed']} | {r['error'][:120]} |"
            for r in errors
        ]
    notes = results / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip(), ""]
    lines += ["", *manifest_lines(results, records, command, extra_packages=("matplotlib",))]
    path = results / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


# Compare: one contender, two runs ------------------------------------------------------------
def _run_losses(
    records: Sequence[dict[str, Any]], contender: str, problem: OutcomeProblem, top: float
) -> dict[int, float]:
    """The final losses per seed of ``contender``'s finished runs of ``problem``: log10
    hypervolume regret below ``top`` (several objectives) or log10 regret above ``top``."""
    out = {}
    for r in records:
        if r.get("status") != "ok" or r["contender"] != contender or r["problem"] != problem.name:
            continue
        if problem.suite == "multiobjective":
            out[r["seed"]] = math.log10(max(top - (r["final"] or 0.0), FLOOR))
        elif r["final"] is None:
            out[r["seed"]] = math.inf
        else:
            out[r["seed"]] = math.log10(max(r["final"] - top, problem.regret_floor))
    return out


def compare_runs(
    old: Sequence[dict[str, Any]],
    new: Sequence[dict[str, Any]],
    suite: str,
    contender: str,
    new_contender: str | None = None,
) -> list[str]:
    """Markdown lines: ``contender``'s new runs against its old ones, problem by problem,
    paired by seed (two-sided Wilcoxon, Holm's correction over the problems). With
    ``new_contender`` the new runs are that contender's (a variant against the default).

    Run seconds are medians of the records' wall time over those seeds (comparable only
    when both runs shared a machine alike). The loss is the report's: log10 hypervolume
    regret below BoTorch's ``max_hv`` (or, without one, below the best hypervolume of
    either run), or log10 regret of the best feasible value above the known optimum (or
    the best of either run).
    """
    later = new_contender or contender
    rows, fam = [], {}
    for prob in problems(suite):
        finals = [
            r["final"]
            for run, name in ((old, contender), (new, later))
            for r in run
            if r.get("status") == "ok" and r["contender"] == name
            and r["problem"] == prob.name and r["final"] is not None
        ]  # fmt: skip
        if not finals:
            continue
        if suite == "multiobjective":
            top = prob.max_hv if prob.max_hv is not None else max(finals)
        else:
            top = prob.optimum if prob.optimum is not None else min(finals)
        a = _run_losses(new, later, prob, top)
        b = _run_losses(old, contender, prob, top)
        seeds = sorted(set(a) & set(b))
        if not seeds:
            continue
        xa, xb = [a[k] for k in seeds], [b[k] for k in seeds]
        # A run without a feasible point (inf) is worse than every run with one, as in
        # the report's tests.
        tested = _finite_losses({"new": a, "old": b})
        fam[prob.name] = stats.compare(
            [tested["new"][k] for k in seeds], [tested["old"][k] for k in seeds]
        )
        secs = [
            statistics.median(
                r["wall_s"]
                for r in run
                if r.get("status") == "ok" and r["contender"] == name
                and r["problem"] == prob.name and r["seed"] in seeds
            )
            for run, name in ((old, contender), (new, later))
        ]  # fmt: skip
        rows.append((prob.name, len(seeds), _median(xb), _median(xa), *secs))
    holm = stats.holm_outcomes(fam) if fam else {}
    lines = [
        "| problem | pairs | median old | median new | new against old | run s, old | run s, new |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{name}` | {n} | {mo:.3f} | {mn:.3f} | {stats.wtl_cell(fam[name], holm[name])} "
        f"| {so:.1f} | {sn:.1f} |"
        for name, n, mo, mn, so, sn in rows
    ]
    return lines


# CLI ------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.outcomes run|report|compare --suite constrained|multiobjective``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.outcomes", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--results",
        default=str(RESULTS),
        help="folder of the suites' folders (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the missing cells of the grid")
    r.add_argument("--suite", required=True, choices=SUITES)
    r.add_argument("--problems", default="", help="comma-separated (default: the suite's)")
    r.add_argument("--contenders", default="", help="comma-separated (default: the suite's)")
    r.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (default: %(default)s)")
    r.add_argument("--retry-errors", action="store_true", help="rerun cells recorded as errors")
    rep = sub.add_parser("report", help="write REPORT.md and the figures")
    rep.add_argument("--suite", required=True, choices=SUITES)
    cmp_ = sub.add_parser(
        "compare", help="one contender's runs in two runs.jsonl files, paired by seed"
    )
    cmp_.add_argument("--suite", required=True, choices=SUITES)
    cmp_.add_argument("--old", required=True, help="runs.jsonl of the runs before a change")
    cmp_.add_argument("--new", required=True, help="runs.jsonl of the runs after it")
    cmp_.add_argument("--contender", default="bayesopt", help="(default: %(default)s)")
    cmp_.add_argument(
        "--new-contender", default=None, help="the new runs' contender (default: --contender)"
    )
    args = parser.parse_args(argv)
    if args.command == "compare":
        lines = compare_runs(
            store.read_runs(Path(args.old)), store.read_runs(Path(args.new)), args.suite,
            args.contender, args.new_contender,
        )  # fmt: skip
        print("\n".join(lines))
        return 0
    if args.command == "run":
        try:
            parse_seeds(args.seeds)
        except ValueError as exc:
            parser.error(str(exc))
        return run(args)
    results = Path(args.results).resolve()
    where = "" if results == RESULTS else f" --results {os.path.relpath(results)}"
    command = f"python -m benchmarks.outcomes{where} report --suite {args.suite}"
    print(write_report(Path(args.results) / args.suite, args.suite, command))
    return 0


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


if __name__ == "__main__":
    sys.exit(main())
