"""How close ``bayesopt.importance`` comes to exact Sobol indices, GP against random forest.

Ishigami (d = 3) and the Sobol G function (d = 6) have known first-order and total indices.
For each surrogate, sample size and seed, random-search trials are fitted and the mean
absolute error of the indices against the exact ones is recorded. Writes
``benchmarks/results/importance/IMPORTANCE.md``.

    python -m benchmarks.scripts.importance_truth --sizes 50,100,200 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import bayesopt as bo
from bayesopt.sensitivity import importance

OUT = Path(__file__).resolve().parents[1] / "results" / "importance"
G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0)


def _ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> float:
    return math.sin(x[0]) + a * math.sin(x[1]) ** 2 + b * x[2] ** 4 * math.sin(x[0])


def _ishigami_exact(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def _g(x: np.ndarray) -> float:
    return float(np.prod([(abs(4 * xi - 2) + a) / (1 + a) for xi, a in zip(x, G_A, strict=True)]))


def _g_exact() -> tuple[list[float], list[float]]:
    vi = [1 / (3 * (1 + a) ** 2) for a in G_A]
    v = math.prod(1 + w for w in vi) - 1
    total = [w * math.prod(1 + u for j, u in enumerate(vi) if j != i) / v for i, w in enumerate(vi)]
    return [w / v for w in vi], total


PROBLEMS = {
    "ishigami": (bo.Space({f"x{i}": bo.Real(-math.pi, math.pi) for i in (1, 2, 3)}), _ishigami,
                 _ishigami_exact()),
    "sobol-g": (bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(1, 7)}), _g, _g_exact()),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,100,200")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    start = time.time()
    for name, (space, f, (first, total)) in PROBLEMS.items():
        for n in sizes:
            for surrogate in ("gp", "forest"):
                errs_first, errs_total, ranks = [], [], []
                for seed in seeds:
                    rs = bo.RandomSearch(space, seed=seed)
                    for _ in range(n):
                        t = rs.ask()
                        rs.tell(t, f(np.array([t.params[k] for k in space.names])))
                    imp = importance(rs, surrogate=surrogate, seed=seed)
                    est_f = np.array(list(imp.first.values()))
                    est_t = np.array(list(imp.total.values()))
                    errs_first.append(float(np.mean(np.abs(est_f - first))))
                    errs_total.append(float(np.mean(np.abs(est_t - total))))
                    ranks.append(int(np.argmax(est_t)) == int(np.argmax(total)))
                rows.append((name, n, surrogate, np.mean(errs_first), np.mean(errs_total),
                             sum(ranks), len(seeds)))  # fmt: skip
                print(rows[-1], flush=True)
    lines = [
        "# Parameter importance against exact Sobol indices",
        "",
        "`bayesopt.importance` on random-search trials of two functions with known indices:",
        "Ishigami (d = 3, a = 7, b = 0.1) and the Sobol G function (d = 6, a = "
        f"{list(G_A)}). Mean absolute error of the first-order and total indices over the",
        f"parameters, averaged over seeds {seeds}; *top right* counts the seeds whose most",
        "important parameter (largest total index) is the true one.",
        "",
        "| function | trials | surrogate | MAE first-order | MAE total | top right |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, n, s, ef, et, ok, k in rows:
        lines.append(f"| {name} | {n} | {s} | {ef:.3f} | {et:.3f} | {ok}/{k} |")
    cells = {(r[0], r[1]): {} for r in rows}
    for name, n, s, ef, et, _, _ in rows:
        cells[(name, n)][s] = ef + et
    wins = sum(c["gp"] < c["forest"] for c in cells.values())
    lines += [
        "",
        f"The GP has the lower error (first-order plus total) in {wins} of {len(cells)} "
        "cells, so it is the default surrogate. On Ishigami the two largest total indices "
        "are close (0.558 and 0.442), which is why the top parameter is often missed with "
        "few trials.",
        "",
        f"Command: `python -m benchmarks.scripts.importance_truth --sizes {args.sizes} "
        f"--seeds {args.seeds}`; {time.time() - start:.0f} s on a 2-core x86-64 Linux VM, "
        "2026-11-30.",
        "",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "IMPORTANCE.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
