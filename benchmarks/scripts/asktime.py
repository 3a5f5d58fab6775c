"""Seconds per ask of one seeded run, for timing two checkouts side by side.

Usage, from the repository root: ``python -m benchmarks.scripts.asktime <problem> <seed>
[--checkout PATH]`` runs ``bayesopt.Optimizer`` on the problem for its budget and prints one
JSON line (``code``: the checkout whose ``bayesopt`` ran). With ``--checkout`` the run is in
a fresh process that imports ``bayesopt`` and ``benchmarks`` from that checkout.
``asktime.sh`` runs it seed by seed, alternating two checkouts on the same machine, so both
see the same load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def time_run(name: str, seed: int) -> dict[str, Any]:
    """Run ``name`` for its budget, one thread; seconds per ask and the best value."""
    import torch

    import bayesopt as bo
    from benchmarks import problems

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    problem = problems.get(name)
    opt = bo.Optimizer(problem.space, seed=seed)
    ask = 0.0
    for _ in range(problem.budget):
        start = time.perf_counter()
        trial = opt.ask()
        ask += time.perf_counter() - start
        opt.tell(trial, problem.fn(trial.params))
    code = str(Path(bo.__file__).resolve().parents[1])
    out = {"code": code, "problem": name, "seed": seed, "s_per_ask": ask / problem.budget}
    return {**out, "best": opt.best.value, "file": bo.__file__}


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line, from a run here or in a fresh process for ``--checkout``."""
    parser = argparse.ArgumentParser(description="Seconds per ask of one seeded run.")
    parser.add_argument("problem", help="a benchmark problem, e.g. hartmann6")
    parser.add_argument("seed", type=int)
    parser.add_argument("--checkout", help="run this checkout's bayesopt (a fresh process)")
    args = parser.parse_args(argv)
    if args.checkout:
        from benchmarks.scripts._checkout import run_in_checkout

        return run_in_checkout(args.checkout, __file__, [args.problem, str(args.seed)])
    print(json.dumps(time_run(args.problem, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
