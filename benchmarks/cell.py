"""One cell of the benchmark grid: a (problem, contender, seed, budget) run, and its record."""

from __future__ import annotations

import functools
import importlib.metadata
import math
import platform
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import contenders, problems

__all__ = ["Cell", "budget_trace", "estimate_seconds", "library_versions", "run_cell"]

REGRET_FLOOR = 1e-12
"""Simple regret is floored here before taking log10."""

PACKAGES = (
    "bayesopt",
    "torch",
    "botorch",
    "gpytorch",
    "numpy",
    "scipy",
    "scikit-learn",
    "optuna",
    "scikit-optimize",
)


@dataclass(frozen=True, order=True)
class Cell:
    """What one run is: a problem, a contender, a seed and a budget (in evaluations)."""

    problem: str
    contender: str
    seed: int
    budget: int

    @property
    def key(self) -> tuple[str, str, int, int]:
        """The key its record is stored under (see ``store.cell_key``)."""
        return (self.problem, self.contender, self.seed, self.budget)


def budget_trace(values: Sequence[float], budget: int, factor: int = 1) -> list[float]:
    """Best-so-far value at each budget point ``k = 1 .. budget``.

    Args:
        values: the noise-free value of every evaluation, in order (NaN: failed).
        budget: number of budget points.
        factor: evaluations per budget point: point ``k`` is the best of the first
            ``factor * k`` values (``random-2x`` has ``factor=2``).

    Returns:
        ``budget`` floats; NaN until the first finite value.
    """
    best, out = math.inf, []
    for k in range(1, budget + 1):
        for v in values[factor * (k - 1) : factor * k]:
            if math.isfinite(v) and v < best:
                best = v
        out.append(best if math.isfinite(best) else math.nan)
    return out


def log10_regret(best: float, optimum: float) -> float:
    """``log10(max(best - optimum, REGRET_FLOOR))``; NaN when ``best`` is NaN."""
    if not math.isfinite(best):
        return math.nan
    return math.log10(max(best - optimum, REGRET_FLOOR))


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def estimate_seconds(cell: Cell) -> float:
    """A rough guess of a cell's wall seconds on one core (to order and size runs)."""
    problem = problems.get(cell.problem)
    contender = contenders.get(cell.contender)
    n_evals = cell.budget * contender.budget_factor
    n_startup = min(max(2 * problem.dim + 1, 5), 20) if contender.family == "bayesopt" else 10
    factor = problem.bayesopt_ask_factor if contender.family == "bayesopt" else 1.0
    asks = sum(contender.ask_cost(n, problem.dim) for n in range(n_startup, n_evals))
    return 0.2 + factor * asks + n_evals * problem.eval_cost_s


def run_cell(cell: Cell, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one cell and return its record; a raising contender gives a record with an error.

    Args:
        cell: what to run.
        meta: extra fields stored in the record (suite, git commit of the run).

    Returns:
        The record: the cell's fields, ``status`` (``"ok"`` or ``"error"``), ``trace``
        (best-so-far noise-free value per budget point), ``values`` (noise-free value of
        every evaluation), ``observed`` (noisy problems only), ``final``, ``log10_regret``
        (problems with a known optimum), ``wall_s``, ``ask_s`` (seconds inside ``ask``),
        ``ask_s_max``, ``tell_s`` (skopt fits its model in ``tell``), ``eval_s``, ``n_asks``,
        ``info``, ``versions`` and ``meta``.
    """
    problem = problems.get(cell.problem)
    contender = contenders.get(cell.contender)
    n_evals = cell.budget * contender.budget_factor
    evaluate = problem.evaluator(cell.seed)
    values: list[float] = []
    observed: list[float] = []
    ask_s = tell_s = eval_s = ask_max = 0.0
    error = None
    info: dict[str, Any] = {}
    start = time.perf_counter()
    try:
        session = contender.make(problem.space, cell.seed)
        for _ in range(n_evals):
            t0 = time.perf_counter()
            params = session.ask()
            t1 = time.perf_counter()
            evaluation = evaluate(params)
            t2 = time.perf_counter()
            session.tell(evaluation.observed)
            tell_s += time.perf_counter() - t2
            ask_s += t1 - t0
            ask_max = max(ask_max, t1 - t0)
            eval_s += t2 - t1
            values.append(evaluation.true)
            observed.append(evaluation.observed)
        info = session.info()
    except Exception as exc:  # a crashing contender must not stop the run
        error = f"{type(exc).__name__}: {exc}"
        info = {"traceback": traceback.format_exc(limit=8)[-4000:]}
    wall = time.perf_counter() - start
    trace = budget_trace(values, cell.budget, contender.budget_factor)
    final = trace[-1] if error is None else math.nan
    record: dict[str, Any] = {
        **asdict(cell),
        "family": problem.family,
        "status": "ok" if error is None else "error",
        "error": error,
        "n_evals": len(values),
        "trace": trace,
        "values": values,
        "final": final,
        "optimum": problem.optimum,
        "wall_s": wall,
        "ask_s": ask_s,
        "ask_s_max": ask_max,
        "tell_s": tell_s,
        "eval_s": eval_s,
        "n_asks": len(values),
        "info": info,
        "versions": library_versions(),
        "meta": meta or {},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if problem.noisy:
        record["observed"] = observed
    if problem.optimum is not None:
        record["log10_regret"] = log10_regret(final, problem.optimum)
    return record
