"""The best precision and the trust region's length along one run on a BBOB function.

Usage, from the repository root::

    python -m benchmarks.scripts.trust_region_trace --function 1 --dim 10 --instance 102
        [--noise-floor 1e-6] [--every 20]

Runs ``bayesopt.Optimizer`` (its defaults, or the given GP noise floor) for ``20 d``
evaluations on one COCO instance, one thread, and prints every ``--every`` evaluations
the log10 precision of the best value so far, the region's side length and its restarts.
Use tuning instances (101 and up) only. It showed the 1e-6 noise floor stalling the sphere
at d = 10 (``benchmarks/results/ablation/noise_floor/NOTES.md``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import bayesopt as bo
from bayesopt._threads import limited_threads
from benchmarks.problems.bbob import BBOBFunction


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print the trace; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", type=int, required=True, help="BBOB function, 1-24")
    parser.add_argument("--dim", type=int, required=True, help="dimension")
    parser.add_argument("--instance", type=int, required=True, help="COCO instance (101+)")
    parser.add_argument("--noise-floor", type=float, help="GP noise floor (default: the model's)")
    parser.add_argument("--every", type=int, default=20, help="evaluations between lines")
    args = parser.parse_args(argv)
    fn = BBOBFunction(args.function, args.dim, args.instance)
    space = bo.Space({name: bo.Real(-5.0, 5.0) for name in fn.names})
    options = bo.ModelOptions(noise_floor=args.noise_floor)
    opt = bo.Optimizer(space, seed=args.instance, model_options=options)
    best = math.inf
    with limited_threads(1):
        for k in range(1, 20 * args.dim + 1):
            trial = opt.ask()
            value = fn(trial.params)
            opt.tell(trial, value)
            best = min(best, value)
            if k % args.every == 0 or k == 20 * args.dim:
                region = opt.region()
                precision = math.log10(max(best - fn.fopt, 1e-12))
                print(f"{k:5d}  {precision:6.2f}  length {region.length:.4f}  "
                      f"restarts {region.restarts}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
