"""Tune an SVM on scikit-learn's bundled digits data with bayesopt's ask/tell loop.

Run with ``make demo`` (or ``python examples/quickstart.py``). It prints one line per trial,
then the best parameters, then compares against random search with the same budget.
Set ``BAYESOPT_DEMO_TRIALS`` to change the budget (default 20).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import bayesopt as bo

N_TRIALS = int(os.environ.get("BAYESOPT_DEMO_TRIALS", "20"))
SEED = 0

X, y = load_digits(return_X_y=True)
CV = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)

SPACE = bo.Space(
    {
        "C": bo.Real(1e-2, 1e3, log=True),
        "gamma": bo.Real(1e-5, 1e0, log=True),
        "kernel": bo.Categorical(["rbf", "poly", "sigmoid"]),
        "degree": bo.Integer(2, 5),  # used by the poly kernel only
    }
)


def cv_error(params: dict) -> float:
    """3-fold cross-validated classification error of an SVM (lower is better)."""
    model = make_pipeline(StandardScaler(), SVC(**params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return 1.0 - float(np.mean(cross_val_score(model, X, y, cv=CV, n_jobs=1)))


def tune(opt: bo.Optimizer | bo.RandomSearch, label: str) -> bo.Trial:
    """The ask/tell loop: ask, evaluate, tell; one printed line per trial."""
    start = time.perf_counter()
    for _ in range(N_TRIALS):
        trial = opt.ask()
        error = cv_error(trial.params)
        opt.tell(trial, error)
        p = trial.params
        print(
            f"{label:>6} #{trial.id:02d} [{trial.source:>7}] error={error:.4f}  "
            f"C={p['C']:9.3g} gamma={p['gamma']:9.3g} kernel={p['kernel']:<7} "
            f"degree={p['degree']}  best={opt.best.value:.4f}"
        )
    print(f"{label}: {N_TRIALS} trials in {time.perf_counter() - start:.1f} s\n")
    return opt.best


def main() -> None:
    print(f"Tuning an SVM on load_digits ({X.shape[0]} images), {N_TRIALS} trials each.\n")
    best_bo = tune(bo.Optimizer(SPACE, seed=SEED), "bo")
    best_rs = tune(bo.RandomSearch(SPACE, seed=SEED), "random")
    print(f"Best parameters (bayesopt): {best_bo.params}")
    print(f"bayesopt      best CV error: {best_bo.value:.4f}")
    print(f"random search best CV error: {best_rs.value:.4f}")
    if best_bo.value < best_rs.value:
        print("bayesopt found a better configuration than random search with the same budget.")
    elif best_bo.value == best_rs.value:
        print("bayesopt and random search tie on this seed.")
    else:
        print("random search won on this seed; one seed proves little (see benchmarks/).")


if __name__ == "__main__":
    main()
