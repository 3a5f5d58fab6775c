"""What the acquisition search's L-BFGS-B did in one ask after ``n`` observations.

Usage: ``python lbfgs_probe.py <checkout> <n>`` (Hartmann-6, seed 1, the latency
benchmark's observations) prints scipy's result for each L-BFGS-B run of the ask:
evaluations, iterations, stop message and final objective (the sum of -LogEI over the
starts). Output for the session-start commit and for now is in ``lbfgs_probe.txt``.
"""

import sys


def main() -> None:
    """Run one ask of ``checkout``'s bayesopt with scipy's L-BFGS-B results printed."""
    checkout, n = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, checkout)
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


if __name__ == "__main__":
    main()
