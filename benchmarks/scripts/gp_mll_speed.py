"""Seconds per MAP-objective evaluation and per fit: bayesopt's closed form against GPyTorch.

The data are ``n`` uniform points on Hartmann-6 (seed 0), standardised; the model is
``bayesopt.gp.build``'s default (Matérn-5/2, output scale, the bounded lengthscale prior,
the low-noise likelihood). One evaluation is the objective and its gradient with respect
to every hyperparameter at the model's initial values, by three paths:

- ``closed form``: ``bayesopt.gp.mll.objective``, what ``map_fit`` calls;
- ``lean autograd``: ``bayesopt.gp.mll.neg_log_posterior`` and a backward pass through
  the kernel only (the path of models without a closed form);
- ``gpytorch``: ``ExactMarginalLogLikelihood`` forward and backward, what BoTorch's
  ``fit_gpytorch_mll`` evaluates.

Then one fit from the same initial values: ``bayesopt.gp.map_fit`` against BoTorch's
``fit_gpytorch_mll`` (final objective per observation, lower is better, and seconds).
Everything runs on one thread, as an ask does (``threads="auto"``).

Usage: ``python benchmarks/scripts/gp_mll_speed.py [--n 200 512] [--repeats 30]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.optim.utils import get_parameters_and_bounds
from botorch.test_functions import Hartmann
from gpytorch.mlls import ExactMarginalLogLikelihood

from bayesopt import gp
from bayesopt.gp import mll
from benchmarks.scripts._timing import median_seconds


def _model(n: int):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 6, generator=g, dtype=torch.float64)
    y = gp.standardize(-Hartmann(dim=6)(X))
    model = gp.build(X, y)
    model.train()
    return model


def evaluations(n: int, repeats: int) -> dict[str, float]:
    """Median seconds of one objective-and-gradient evaluation per path."""
    model = _model(n)
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    tensors = list(params.values())
    exact_mll = ExactMarginalLogLikelihood(model.likelihood, model)

    def closed() -> None:
        mll.objective(model, params)

    def lean() -> None:
        _, proxy = mll.neg_log_posterior(model)
        torch.autograd.grad(proxy, tensors, allow_unused=True)

    def gpytorch() -> None:
        with gp.exact():
            loss = -exact_mll(model(*model.train_inputs), model.train_targets)
        torch.autograd.grad(loss, tensors, allow_unused=True)

    return {
        "closed form": median_seconds(closed, repeats),
        "lean autograd": median_seconds(lean, repeats),
        "gpytorch": median_seconds(gpytorch, repeats),
    }


def fits(n: int) -> dict[str, tuple[float, float]]:
    """``(seconds, final objective)`` of one fit from the initial values, per fitter."""
    ours = _model(n)
    start = time.perf_counter()
    value = gp.map_fit(ours)
    out = {"bayesopt map_fit": (time.perf_counter() - start, value)}
    theirs = _model(n)
    exact_mll = ExactMarginalLogLikelihood(theirs.likelihood, theirs)
    start = time.perf_counter()
    with warnings.catch_warnings(), gp.exact():
        warnings.simplefilter("ignore")
        fit_gpytorch_mll(exact_mll)
    seconds = time.perf_counter() - start
    exact_mll.train()
    with torch.no_grad(), gp.exact():
        final = -float(exact_mll(theirs(*theirs.train_inputs), theirs.train_targets))
    out["botorch fit_gpytorch_mll"] = (seconds, final)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200, 512])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}")
    for n in args.n:
        times = evaluations(n, args.repeats)
        closed = times["closed form"]
        print(f"n = {n}: one objective and gradient")
        for name, seconds in times.items():
            print(f"  {name:14s} {1e3 * seconds:8.2f} ms  ({seconds / closed:.2f}x closed form)")
        print(f"n = {n}: one fit from the initial values")
        for name, (seconds, value) in fits(n).items():
            print(f"  {name:26s} {seconds:7.2f} s  objective {value:.6f}")


if __name__ == "__main__":
    main()
