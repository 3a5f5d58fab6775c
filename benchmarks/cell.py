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
    "cmaes",
    "hyperopt",
    "nevergrad",
    "smac",
    "ConfigSpace",
    "ax-platform",
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
def library_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Versions of Python and of ``packages`` (``"absent"`` when one is not installed)."""
    out = {"python": platform.python_version()}
    for name in packages:
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


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    """Params as JSON values (categories that are not str, int, float, bool or None become
    their ``repr``)."""
    plain = (str, int, float, bool, type(None))
    return {k: v if isinstance(v, plain) else repr(v) for k, v in params.items()}


def _recommended(
    session: Any, problem: problems.Problem, values: list[float], observed: list[float]
) -> tuple[float, int | None]:
    """Noise-free value of the point the session recommends, and its evaluation index.

    ``session.recommend()`` may give an evaluation index, a params dict (a point that was
    not necessarily evaluated: it is evaluated here, noise-free, outside the budget) or
    ``None``; without the method, or with ``None``, the recommendation is the evaluation
    with the best observed value (what a user of the peer would deploy).
    """
    pick = getattr(session, "recommend", None)
    choice = pick() if pick is not None else None
    if isinstance(choice, dict):
        return float(problem.fn(choice)), None
    if choice is None or not 0 <= int(choice) < len(values):
        finite = [i for i, v in enumerate(observed) if math.isfinite(v)]
        if not finite:
            return math.nan, None
        choice = min(finite, key=observed.__getitem__)
    return values[int(choice)], int(choice)


def run_cell(cell: Cell, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one cell and return its record; a raising contender gives a record with an error.

    A batch contender (``contender.batch = q``) asks q points per round with
    ``session.ask_batch(q)``, evaluates them, and tells them together with
    ``session.tell_batch``; the cell's budget counts rounds.

    Args:
        cell: what to run.
        meta: extra fields stored in the record (suite, git commit of the run).

    Returns:
        The record: the cell's fields, ``status`` (``"ok"`` or ``"error"``), ``trace``
        (best-so-far noise-free value per budget point), ``values`` (noise-free value of
        every evaluation), ``observed`` (noisy problems only), ``params`` (every evaluated
        params dict), ``ask_times`` (seconds of each ask call: one per evaluation, or one
        per round for a batch contender), ``eval_times`` (seconds of each evaluation),
        ``final``, ``log10_regret`` (problems with a known optimum), ``recommended`` (the
        noise-free value of the point the contender recommends at the end: see
        ``_recommended``) with ``recommended_index`` and ``recommended_log10_regret``,
        ``wall_s``, ``ask_s`` (seconds inside ``ask``), ``ask_s_max``, ``tell_s`` (skopt
        fits its model in ``tell``), ``eval_s``, ``recommend_s``, ``n_asks``, ``batch``,
        ``info``, ``versions`` and ``meta``.
    """
    problem = problems.get(cell.problem)
    contender = contenders.get(cell.contender)
    n_evals = cell.budget * contender.budget_factor
    q = contender.batch
    evaluate = problem.evaluator(cell.seed)
    values: list[float] = []
    observed: list[float] = []
    params: list[dict[str, Any]] = []
    ask_times: list[float] = []
    eval_times: list[float] = []
    tell_s = recommend_s = 0.0
    recommended, recommended_index = math.nan, None
    error = None
    info: dict[str, Any] = {}
    session: Any = None
    start = time.perf_counter()
    try:
        session = contender.session(problem.space, cell.seed, n_evals)
        while len(values) < n_evals:
            t0 = time.perf_counter()
            if q > 1:
                asked = session.ask_batch(min(q, n_evals - len(values)))
                if not asked:
                    raise RuntimeError(f"{cell.contender}: ask_batch returned no point")
            else:
                asked = [session.ask()]
            ask_times.append(time.perf_counter() - t0)
            found = []
            for x in asked:
                t1 = time.perf_counter()
                evaluation = evaluate(x)
                eval_times.append(time.perf_counter() - t1)
                found.append(evaluation.observed)
                values.append(evaluation.true)
                observed.append(evaluation.observed)
                params.append(_jsonable(x))
            t2 = time.perf_counter()
            if q > 1:
                session.tell_batch(found)
            else:
                session.tell(found[0])
            tell_s += time.perf_counter() - t2
        t3 = time.perf_counter()
        recommended, recommended_index = _recommended(session, problem, values, observed)
        recommend_s = time.perf_counter() - t3
        info = session.info()
    except Exception as exc:  # a crashing contender must not stop the run
        error = f"{type(exc).__name__}: {exc}"
        info = {"traceback": traceback.format_exc(limit=8)[-4000:]}
    finally:
        close = getattr(session, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:  # a failing clean-up is recorded, not raised
                info["close_error"] = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - start
    trace = budget_trace(values, cell.budget, contender.budget_factor)
    final = trace[-1] if error is None else math.nan
    record: dict[str, Any] = {
        **asdict(cell),
        "family": problem.family,
        "status": "ok" if error is None else "error",
        "error": error,
        "n_evals": len(values),
        "batch": q,
        "trace": trace,
        "values": values,
        "params": params,
        "ask_times": ask_times,
        "eval_times": eval_times,
        "final": final,
        "recommended": recommended if error is None else math.nan,
        "recommended_index": recommended_index,
        "optimum": problem.optimum,
        "wall_s": wall,
        "ask_s": sum(ask_times),
        "ask_s_max": max(ask_times, default=0.0),
        "tell_s": tell_s,
        "eval_s": sum(eval_times),
        "recommend_s": recommend_s,
        "n_asks": len(ask_times),
        "info": info,
        "versions": library_versions(),
        "meta": meta or {},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if problem.noisy:
        record["observed"] = observed
    if problem.optimum is not None:
        record["log10_regret"] = log10_regret(final, problem.optimum)
        record["recommended_log10_regret"] = log10_regret(record["recommended"], problem.optimum)
    return record
