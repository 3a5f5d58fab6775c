"""Seconds of one ask after ``n`` random Hartmann-6 observations, for one checkout.

Usage: ``python ab_ask.py <checkout> <n> <seed>`` prints the seconds. ``ab_ask.sh`` runs
it alternately for two checkouts (fresh processes, same machine and load), so their asks
are compared side by side. The observations are the latency benchmark's.
"""

import sys


def main() -> None:
    """Time one ``ask()`` of ``checkout``'s bayesopt after ``n`` observations."""
    import time

    checkout, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, checkout)
    import bayesopt as bo
    from benchmarks.latency import _observations

    space, params, values = _observations("hartmann6", n, seed)
    opt = bo.Optimizer(space, seed=seed)
    for p, v in zip(params, values, strict=True):
        opt.add(p, v)
    warm = bo.Optimizer(space, seed=seed + 100)  # imports and first-call costs, untimed
    for p, v in list(zip(params, values, strict=True))[:20]:
        warm.add(p, v)
    warm.ask()
    start = time.perf_counter()
    opt.ask()
    print(time.perf_counter() - start)


if __name__ == "__main__":
    main()
