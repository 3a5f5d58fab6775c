"""Branin subject to ``x1 + x2 <= 4`` at several constraint margins: infeasible model asks
and the regret of the best feasible value.

Usage, from the repository root: ``python -m benchmarks.scripts.constraint_margin_branin
[--margins 0 2e-4 0.002] [--seeds 0 1 2] [--trials 30] [--constraint-warp W]`` prints one
line per run (``W``: ``ModelOptions.constraint_warp``, the library's default if not given). The
constrained minimum, 2.38596 at (3.0817, 0.9183), lies on the constraint, so the margin
trades infeasible asks against how close the runs get (``ProposeOptions.constraint_margin``).
"""

from __future__ import annotations

import argparse
import math
import warnings

import torch
from botorch.test_functions import Branin

import bayesopt as bo

SPACE = bo.Space({"x1": bo.Real(-5.0, 10.0), "x2": bo.Real(0.0, 15.0)})
BOUND = 4.0
CONSTRAINED_MIN = 2.38596
BRANIN = Branin()
"""BoTorch's Branin-Hoo, as in the benchmark suite (minimum 0.397887 at three points, all
with ``x1 + x2 > 4``)."""


def branin(x1: float, x2: float) -> float:
    """Branin-Hoo at one point."""
    return float(BRANIN.evaluate_true(torch.tensor([[x1, x2]], dtype=torch.float64))[0])


def run(
    margin: float, seed: int, trials: int, model_options: bo.ModelOptions
) -> tuple[int, int, float]:
    """(infeasible model asks, model asks, regret of the best feasible value) of one run."""
    opt = bo.Optimizer(
        SPACE,
        seed=seed,
        constraints={"sum": ("<=", BOUND)},
        propose_options=bo.ProposeOptions(constraint_margin=margin),
        model_options=model_options,
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
    parser.add_argument("--constraint-warp", default=bo.ModelOptions().constraint_warp)
    args = parser.parse_args(argv)
    options = bo.ModelOptions(constraint_warp=args.constraint_warp)
    for margin in args.margins:
        for seed in args.seeds:
            bad, asks, regret = run(margin, seed, args.trials, options)
            print(
                f"margin {margin:g}, seed {seed}: {bad} of {asks} model asks infeasible, "
                f"regret {regret:.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
