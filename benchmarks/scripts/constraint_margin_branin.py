"""Branin subject to ``x1 + x2 <= 4`` at several constraint margins: infeasible model asks
and the regret of the best feasible value.

Usage, from the repository root: ``python -m benchmarks.scripts.constraint_margin_branin
[--margins 0 2e-4 0.002] [--seeds 0 1 2] [--trials 30]`` prints one line per run. The
constrained minimum, 2.38596 at (3.0817, 0.9183), lies on the constraint, so the margin
trades infeasible asks against how close the runs get (``ProposeOptions.constraint_margin``).
"""

from __future__ import annotations

import argparse
import math
import warnings

import bayesopt as bo

SPACE = bo.Space({"x1": bo.Real(-5.0, 10.0), "x2": bo.Real(0.0, 15.0)})
BOUND = 4.0
CONSTRAINED_MIN = 2.38596


def branin(x1: float, x2: float) -> float:
    """Branin-Hoo, minimum 0.397887 (three minima, all with ``x1 + x2 > 4``)."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def run(margin: float, seed: int, trials: int) -> tuple[int, int, float]:
    """(infeasible model asks, model asks, regret of the best feasible value) of one run."""
    opt = bo.Optimizer(
        SPACE,
        seed=seed,
        constraints={"sum": ("<=", BOUND)},
        propose_options=bo.ProposeOptions(constraint_margin=margin),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(trials):
            trial = opt.ask()
            x1, x2 = trial.params["x1"], trial.params["x2"]
            opt.tell(trial, {"value": branin(x1, x2), "sum": x1 + x2})
    model = [t for t in opt.trials if t.source == "model"]
    best = opt.best
    regret = math.inf if best is None else best.value - CONSTRAINED_MIN
    return sum(not t.feasible for t in model), len(model), regret


def main(argv: list[str] | None = None) -> None:
    """Print one line per (margin, seed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--margins", type=float, nargs="+", default=[0.0, 2e-4, 0.002])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args(argv)
    for margin in args.margins:
        for seed in args.seeds:
            bad, asks, regret = run(margin, seed, args.trials)
            print(
                f"margin {margin:g}, seed {seed}: {bad} of {asks} model asks infeasible, "
                f"regret {regret:.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
