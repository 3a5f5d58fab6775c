"""What the acquisition search's L-BFGS-B did in one ask after ``n`` observations.

Usage, from the repository root: ``python -m benchmarks.scripts.lbfgs_probe <n>
[--checkout PATH]`` (Hartmann-6, seed 1, the latency benchmark's observations) prints
scipy's result for each L-BFGS-B run of the ask: evaluations, iterations, stop message and
final objective (the sum of -LogEI over the starts). With ``--checkout`` the ask runs in a
fresh process that imports ``bayesopt`` and ``benchmarks`` from that checkout. Output for
commits 54ff68e and 9815058 is in ``benchmarks/results/latency/lbfgs_probe.txt``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def probe(n: int) -> None:
    """Run one ask with scipy's L-BFGS-B results printed."""
    import bayesopt as bo
    from bayesopt import propose
    from benchmarks.latency import _observations

    original = propose.scipy_minimize

    def reporting(*args, **kwargs):
        res = original(*args, **kwargs)
        print(
            f"L-BFGS-B: {res.nfev} evaluations, {res.nit} iterations, {res.message}, "
            f"f = {res.fun:.1f}"
        )
        return res

    propose.scipy_minimize = reporting
    space, params, values = _observations("hartmann6", n, 1)
    opt = bo.Optimizer(space, seed=1)
    for p, v in zip(params, values, strict=True):
        opt.add(p, v)
    opt.ask()


def main(argv: Sequence[str] | None = None) -> int:
    """Probe here, or in a fresh process for ``--checkout``."""
    parser = argparse.ArgumentParser(description="L-BFGS-B runs of one ask.")
    parser.add_argument("n", type=int, help="observations before the ask")
    parser.add_argument("--checkout", help="probe this checkout's bayesopt (a fresh process)")
    args = parser.parse_args(argv)
    if args.checkout:
        from benchmarks.scripts._checkout import run_in_checkout

        return run_in_checkout(args.checkout, __file__, [str(args.n)])
    probe(args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
