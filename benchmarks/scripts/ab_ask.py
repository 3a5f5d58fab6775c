"""Seconds of one ask after ``n`` random Hartmann-6 observations (the latency benchmark's).

Usage, from the repository root: ``python -m benchmarks.scripts.ab_ask <n> <seed>
[--checkout PATH]`` prints the seconds. With ``--checkout`` the ask runs in a fresh process
that imports ``bayesopt`` and ``benchmarks`` from that checkout. ``ab_ask.sh`` runs it
alternately for two checkouts (fresh processes, same machine and load), so that their asks
are compared side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def time_ask(n: int, seed: int) -> float:
    """Seconds of one ``ask()`` after ``n`` observations; first-call costs are paid before."""
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
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Print the seconds of one ask, here or in a fresh process for ``--checkout``."""
    parser = argparse.ArgumentParser(description="Seconds of one ask after n observations.")
    parser.add_argument("n", type=int, help="observations before the ask")
    parser.add_argument("seed", type=int)
    parser.add_argument("--checkout", help="time this checkout's bayesopt (a fresh process)")
    args = parser.parse_args(argv)
    if args.checkout:
        from benchmarks.scripts._checkout import run_in_checkout

        return run_in_checkout(args.checkout, __file__, [str(args.n), str(args.seed)])
    print(time_ask(args.n, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
