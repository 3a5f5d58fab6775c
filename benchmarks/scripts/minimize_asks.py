"""Seconds per model ask in ``bayesopt.minimize`` while its workers keep every core busy.

``minimize(n_workers=<cores>)`` runs a CPU-bound objective (Hartmann-6 plus a busy loop of
``--burn`` seconds) in a local process pool, so that every core is busy while the main
process asks. The time of each model-based ask is recorded by wrapping
``Optimizer.suggest``. The default ``threads="auto"`` and ``threads=None`` (no limit: the
behaviour of a library that leaves torch's threads alone) run alternately, seed by seed.

Usage, from the repository root:
``python -m benchmarks.scripts.minimize_asks [--seeds 0,1] [--trials 40] [--burn 0.3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import bayesopt as bo
from benchmarks import problems

PROBLEM = problems.get("hartmann6")


def objective(params: dict) -> float:
    end = time.perf_counter() + BURN_S
    while time.perf_counter() < end:
        pass
    return PROBLEM.fn(params)


BURN_S = float(os.environ.get("BURN_S", "0.3"))


def model_ask_seconds(seed: int, trials: int, threads: object) -> list[float]:
    seconds: list[float] = []
    suggest = bo.Optimizer.suggest

    def timed(self, request):
        start = time.perf_counter()
        out = suggest(self, request)
        if any(source is bo.Source.MODEL for _, source in out):
            seconds.append(time.perf_counter() - start)
        return out

    bo.Optimizer.suggest = timed
    try:
        bo.minimize(
            objective,
            PROBLEM.space,
            n_trials=trials,
            seed=seed,
            n_workers=len(os.sched_getaffinity(0)),
            progress=False,
            threads=threads,
        )
    finally:
        bo.Optimizer.suggest = suggest
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"auto": [], "None": []}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for threads in ("auto", None):
            secs = model_ask_seconds(seed, args.trials, threads)
            results[str(threads)].append(statistics.fmean(secs))
            print(
                f"seed {seed} threads={threads!s:5s}: {statistics.fmean(secs):.3f} s per "
                f"model ask (max {max(secs):.3f}, {len(secs)} asks)",
                flush=True,
            )
    for key, means in results.items():
        print(f"threads={key}: mean {statistics.fmean(means):.3f} s per model ask")


if __name__ == "__main__":
    main()
