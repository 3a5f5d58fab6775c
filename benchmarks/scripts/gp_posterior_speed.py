"""Seconds per acquisition call and per acquisition search: the cached posterior against BoTorch.

The data are ``n`` uniform points on Hartmann-6 (seed 0, optionally with Gaussian noise),
standardised and fitted with ``bayesopt.gp.fit``'s defaults. Timed, as medians:

- one LogEI value at ``b`` points: ``bayesopt.acquisition.CachedLogEI`` (on
  ``bayesopt.gp.posterior``) against BoTorch's ``LogExpectedImprovement``;
- one value and gradient at ``b`` points (a step of the acquisition search): the closed
  form ``CachedLogEI.value_and_gradient``, autograd through ``CachedLogEI``, autograd
  through BoTorch's ``LogExpectedImprovement``, autograd through BoTorch's
  ``qLogNoisyExpectedImprovement`` (128 quasi-Monte-Carlo samples, baseline pruning, as
  ``bayesopt.acquisition.make`` builds it where the cache does not apply), and
  ``bayesopt.acquisition.CachedLogNEI``, its estimator from the cached factor, in closed
  form and by autograd;
- one whole acquisition search (``bayesopt.propose.maximize``, default settings) with
  ``CachedLogEI`` and with ``LogExpectedImprovement``.

Everything runs on one thread, as an ask does (``threads="auto"``).

Usage: ``python benchmarks/scripts/gp_posterior_speed.py [--n 13 60 300 1000] [--b 13]
[--noise 0.0] [--repeats 20] [--search-n 60]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from botorch.acquisition import LogExpectedImprovement, qLogNoisyExpectedImprovement
from botorch.sampling import SobolQMCNormalSampler
from botorch.test_functions import Hartmann

from bayesopt import gp, propose
from bayesopt.acquisition import MC_SAMPLES, CachedLogEI, CachedLogNEI
from benchmarks.scripts._timing import median_seconds

D = 6


def _fitted(n: int, noise: float):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, D, generator=g, dtype=torch.float64)
    f = -Hartmann(dim=D)(X) + noise * torch.randn(n, generator=g, dtype=torch.float64)
    y = gp.standardize(f)
    return gp.fit(X, y, seed=0), X, y


def calls(n: int, b: int, noise: float, repeats: int) -> dict[str, float]:
    """Median seconds of one call per acquisition and path."""
    model, X, y = _fitted(n, noise)
    best_f = float(y.max())
    cached = CachedLogEI(model, best_f)
    botorch = LogExpectedImprovement(model, best_f=best_f)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        qnei = qLogNoisyExpectedImprovement(
            model,
            X_baseline=X,
            sampler=SobolQMCNormalSampler(torch.Size([MC_SAMPLES]), seed=0),
            prune_baseline=True,
        )
    lognei = CachedLogNEI(model, X, seed=0)
    T = torch.rand(b, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def value(acqf) -> Callable[[], object]:
        def run() -> None:
            with torch.no_grad():
                acqf(T.unsqueeze(1))

        return run

    def autograd(acqf) -> Callable[[], object]:
        def run() -> None:
            leaf = T.clone().requires_grad_(True)
            torch.autograd.grad(acqf(leaf.unsqueeze(1)).sum(), leaf)

        return run

    with gp.exact():
        return {
            "value: CachedLogEI": median_seconds(value(cached), repeats),
            "value: botorch LogEI": median_seconds(value(botorch), repeats),
            "gradient: CachedLogEI closed form": median_seconds(
                lambda: cached.value_and_gradient(T), repeats
            ),
            "gradient: CachedLogEI autograd": median_seconds(autograd(cached), repeats),
            "gradient: botorch LogEI autograd": median_seconds(autograd(botorch), repeats),
            "gradient: botorch qLogNEI autograd": median_seconds(autograd(qnei), repeats),
            "gradient: CachedLogNEI closed form": median_seconds(
                lambda: lognei.value_and_gradient(T), repeats
            ),
            "gradient: CachedLogNEI autograd": median_seconds(autograd(lognei), repeats),
        }


def searches(n: int, repeats: int) -> dict[str, float]:
    """Median seconds of one ``propose.maximize`` per acquisition."""
    model, X, y = _fitted(n, 0.0)
    best_f = float(y.max())
    grids = [None] * D
    X_best = X[torch.argsort(y, descending=True)[:3]]

    def search(acqf) -> Callable[[], object]:
        return lambda: propose.maximize(acqf, grids, seed=0, X_avoid=X, X_starts=X_best)

    with gp.exact():
        return {
            "search: CachedLogEI": median_seconds(search(CachedLogEI(model, best_f)), repeats),
            "search: botorch LogEI": median_seconds(
                search(LogExpectedImprovement(model, best_f=best_f)), repeats
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[13, 60, 300, 1000])
    parser.add_argument("--b", type=int, default=13, help="points per call")
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--search-n", type=int, nargs="*", default=[60])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}")
    for n in args.n:
        print(f"n = {n}, b = {args.b} points per call, noise s.d. {args.noise}")
        for name, seconds in calls(n, args.b, args.noise, args.repeats).items():
            print(f"  {name:36s} {1e3 * seconds:9.3f} ms")
    for n in args.search_n:
        print(f"n = {n}: one acquisition search (propose.maximize, default settings)")
        for name, seconds in searches(n, max(3, args.repeats // 4)).items():
            print(f"  {name:36s} {seconds:9.3f} s")


if __name__ == "__main__":
    main()
