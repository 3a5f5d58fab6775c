"""Seconds per ask of one seeded run, for timing two checkouts side by side.

Usage: ``python asktime.py <checkout> <problem> <seed>`` prints one JSON line. Run by
``asktime.sh`` seed by seed, alternating the pre-study checkout (84ab09d, as a git
worktree) and the current one on the same machine, so both see the same load.
"""

import importlib
import json
import sys
import time
import warnings

import torch


def main() -> None:
    """Run ``problem`` for its budget with the bayesopt of ``checkout`` and print timings."""
    checkout, name, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    sys.path.insert(0, checkout)
    bo = importlib.import_module("bayesopt")
    sys.path.insert(1, "/work/main")
    problem = importlib.import_module("benchmarks.problems").get(name)
    opt = bo.Optimizer(problem.space, seed=seed)
    ask = 0.0
    for _ in range(problem.budget):
        start = time.perf_counter()
        trial = opt.ask()
        ask += time.perf_counter() - start
        opt.tell(trial, problem.fn(trial.params))
    out = {"code": checkout, "problem": name, "seed": seed, "s_per_ask": ask / problem.budget}
    print(json.dumps({**out, "best": opt.best.value, "file": bo.__file__}))


if __name__ == "__main__":
    main()
