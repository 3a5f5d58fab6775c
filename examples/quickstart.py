"""What Bayesian optimisation buys: tuning gradient boosting, against random search.

Run with ``make demo`` (or ``python examples/quickstart.py``). Five hyperparameters of
scikit-learn's ``GradientBoostingRegressor`` are tuned on the bundled diabetes data: the
validation error is the 3-fold cross-validated mean squared error on a training split, and
each method's chosen configuration is then refitted and scored on a held-out test split.

For each of a few seeds, bayesopt and random search get the same number of trials, and
random search gets twice as many as well (the fair bar for a model-based method). The
runs are independent and share the cores, one process each. The
table shows the median and range over seeds; ``demo.png`` shows best-so-far curves. The
benchmark suite runs the same task (``gb-diabetes``) on 10 seeds with paired tests
(``benchmarks/results/standard/REPORT.md``).

Environment: ``BAYESOPT_DEMO_TRIALS`` (default 40) and ``BAYESOPT_DEMO_SEEDS`` (default 3)
set the budget; ``BAYESOPT_DEMO_PLOT=0`` skips the figure.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold, cross_val_score, train_test_split

import bayesopt as bo
import bayesopt.plot  # the figures (matplotlib is imported when drawing)

N_TRIALS = int(os.environ.get("BAYESOPT_DEMO_TRIALS", "40"))
N_SEEDS = int(os.environ.get("BAYESOPT_DEMO_SEEDS", "3"))
PLOT = os.environ.get("BAYESOPT_DEMO_PLOT", "1") != "0"

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
CV = KFold(n_splits=3, shuffle=True, random_state=0)

SPACE = bo.Space(
    {
        "n_estimators": bo.Integer(10, 200, log=True),
        "max_depth": bo.Integer(1, 6),
        "learning_rate": bo.Real(1e-3, 1.0, log=True),
        "subsample": bo.Real(0.5, 1.0),
        "loss": bo.Categorical(["squared_error", "absolute_error", "huber"]),
    }
)


def model(params: dict) -> GradientBoostingRegressor:
    return GradientBoostingRegressor(**params, random_state=0)


def validation_error(params: dict) -> float:
    """3-fold cross-validated mean squared error on the training split (lower is better)."""
    scores = cross_val_score(model(params), X_train, y_train, cv=CV,
                             scoring="neg_mean_squared_error")  # fmt: skip
    return -float(np.mean(scores))


def test_error(params: dict) -> float:
    """Mean squared error on the held-out test split, after refitting on the training one."""
    return float(mean_squared_error(y_test, model(params).fit(X_train, y_train).predict(X_test)))


def run(method: str, seed: int) -> tuple[bo.AskTell, float]:
    """One ask/tell tuning run; returns the optimiser and its wall time."""
    _warm_up()  # BoTorch's first-use imports are not timed
    if method == "bayesopt":
        opt: bo.AskTell = bo.Optimizer(SPACE, seed=seed)
        n = N_TRIALS
    else:
        opt = bo.RandomSearch(SPACE, seed=seed)
        n = N_TRIALS * (2 if method == "random-2x" else 1)
    start = time.perf_counter()
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, validation_error(trial.params))
    return opt, time.perf_counter() - start


def _warm_up() -> None:
    """One model ask on a toy problem, so that BoTorch's first-use imports are not timed."""
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0, n_initial=2)
    for x in (0.2, 0.7):
        opt.add({"x": x}, x)
    opt.ask()


def _summary(values: list[float]) -> str:
    return f"{np.median(values):8.0f} [{min(values):6.0f}, {max(values):6.0f}]"


def main() -> None:
    print(
        f"Tuning GradientBoostingRegressor on load_diabetes ({len(X_train)} training rows), "
        f"{N_TRIALS} trials ({2 * N_TRIALS} for random-2x), seeds 0-{N_SEEDS - 1}.\n"
    )
    methods = ("bayesopt", "random", "random-2x")
    runs: dict[str, list[bo.AskTell]] = {m: [] for m in methods}
    times: dict[str, list[float]] = {m: [] for m in methods}
    jobs = [(m, seed) for m in methods for seed in range(N_SEEDS)]  # the longest first
    # The runs are independent: one process per core (optimisers pickle without a journal).
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run, m, seed): (m, seed) for m, seed in jobs}
        results = {}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            bar = "#" * (30 * done // len(jobs))
            sys.stderr.write(f"\r[{bar:<30}] {done}/{len(jobs)} runs done ({workers} processes)")
        sys.stderr.write("\n")
    for m, seed in jobs:
        opt, seconds = results[(m, seed)]
        runs[m].append(opt)
        times[m].append(seconds)
    print("\nmethod       trials   validation MSE: median [range]   test MSE: median [range]"
          "   seconds per run")  # fmt: skip
    for method in methods:
        best = [opt.best for opt in runs[method]]
        val = [b.value for b in best]
        test = [test_error(b.params) for b in best]
        print(f"{method:<11} {len(runs[method][0].trials):>6}   {_summary(val):>30}   "
              f"{_summary(test):>24}   {np.median(times[method]):>15.1f}")  # fmt: skip
    chosen = min((opt.best for opt in runs["bayesopt"]), key=lambda t: t.value)
    print("\nBest configuration found by bayesopt:")
    for name, value in chosen.params.items():
        print(f"  {name:<14} {value:.4g}" if isinstance(value, float) else f"  {name:<14} {value}")
    if PLOT:
        figure = Path("demo.png").resolve()
        ax = bo.plot.convergence(runs, budget_factor={"random-2x": 2})
        ax.set_title("GradientBoostingRegressor on diabetes: best validation MSE so far")
        ax.set_xlabel("trials (random-2x: pairs of trials)")
        ax.figure.savefig(figure, dpi=110, bbox_inches="tight")
        print(f"\nConvergence figure: {figure}")
    print("\nA few seeds illustrate; they do not prove. The benchmark suite's paired tests on "
          "10 seeds do: benchmarks/results/standard/REPORT.md (problem gb-diabetes).")  # fmt: skip


if __name__ == "__main__":
    main()
