"""How often the trust region's success rule matters, replayed from recorded BBOB runs.

Usage, from the repository root::

    python -m benchmarks.scripts.tr_success_replay
        [--runs benchmarks/results/ablation/tr_success/runs.jsonl] [--contender bayesopt]

For each of the contender's BBOB runs in the file, it rebuilds the values the optimiser
saw (the recorded precision plus the instance's ``f_opt``), counts the model trials whose
gain over the best is positive but below TuRBO's ``1e-3 * |best|`` (the trials on which
``region_success="strict"`` and the default disagree), and replays the default region
(``trust_region.replay``) to count the runs whose region restarted. It prints the median
``|f_opt|``, the median and mean of those trials per run, and both run counts
(``benchmarks/results/ablation/tr_success/NOTES.md``).
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

from bayesopt import trust_region
from benchmarks import store
from benchmarks.problems.bbob import bbob_fopt, instance_of, parse_name

RUNS = Path(__file__).resolve().parents[1] / "results/ablation/tr_success/runs.jsonl"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the counts; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(RUNS), help="a runs.jsonl of BBOB cells")
    parser.add_argument("--contender", default="bayesopt", help="whose runs to replay")
    args = parser.parse_args(argv)
    records, _ = store.read(Path(args.runs))
    offsets, small_gains, restarted = [], [], 0
    for r in store.latest(records).values():
        if r["contender"] != args.contender or not r["problem"].startswith("bbob-"):
            continue
        function, dim = parse_name(r["problem"])
        fopt = bbob_fopt(function, instance_of(int(r["seed"])))
        seen = [v + fopt for v in r["values"]]
        n_initial = r["info"]["sources"].get("initial", 0)
        counts = [i >= n_initial for i in range(len(seen))]
        best, small = math.inf, 0
        for value, counted in zip(seen, counts, strict=True):
            if counted and best - 1e-3 * abs(best) <= value < best:
                small += 1
            best = min(best, value)
        offsets.append(abs(fopt))
        small_gains.append(small)
        restarted += trust_region.replay(seen, counts, dim).restarts > 0
    n = len(small_gains)
    print(f"runs: {n}; median |f_opt|: {statistics.median(offsets):.1f}")
    print(f"model trials with a gain below 1e-3 |best|: median {statistics.median(small_gains)}, "
          f"mean {statistics.mean(small_gains):.1f}; runs with any: "
          f"{sum(s > 0 for s in small_gains)} of {n}")  # fmt: skip
    print(f"runs whose region restarted at least once: {restarted} of {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
