"""Acquisition values and seconds: bayesopt's acquisition search against BoTorch's.

For each problem and seed, the default ``bayesopt.Optimizer`` runs its initial design
(``2d + 1`` Sobol points) and 10 model asks on the noise-free objective. For the next ask
the script builds the GP and the acquisition exactly as ``Optimizer._propose`` does (from
``opt.model_data()``, with ``bayesopt.gp.fit`` and ``bayesopt.acquisition.make``, under the
ask's seed, exact factorisation and one thread) and maximises that one acquisition object
with three searches:

- ``alternating``: ``bayesopt.propose.maximize`` with the default ``ProposeOptions`` (512
  Sobol raw samples, the best 10 plus the 3 best observations as starts, L-BFGS-B
  alternating with an exhaustive discrete step; one L-BFGS-B run per start since
  2026-11-30, one run over all starts together when the results in
  ``benchmarks/results/ablation/propose_vs_botorch*.md`` were made);
- ``botorch``: the same call with ``method="botorch"``: BoTorch's
  ``optimize_acqf_mixed_alternating`` (``optimize_acqf`` on continuous spaces) with the same
  512 raw samples and 10 restarts;
- ``botorch-defaults``: ``method="botorch"`` at BoTorch's own defaults (1,024 raw samples,
  20 restarts, discrete coordinates with more than 20 values relaxed).

Each proposed point is scored by the same acquisition object (a log-scale acquisition:
LogEI in closed form or qLogNEI, as the ask would choose); differences below ``TIE`` count
as ties. Each search runs ``--repeats`` times (the same point each time: the searches are
seeded) and its seconds are the median; the first problem's acquisition is searched once by
every method beforehand, untimed, as a warm-up, and the order of the methods rotates by
seed. No pending points; the evaluated points are avoided, as in the ask.

Usage, from the repository root:
``python benchmarks/scripts/propose_vs_botorch.py --out OUT.md
[--problems branin,hartmann6,levy6,mixed-levy] [--seeds 0-4] [--model-asks 10] [--repeats 3]``

Writes the Markdown table to ``--out`` (and prints it) and every measurement to the same
path with the suffix ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botorch
import torch
from botorch.exceptions.warnings import BotorchWarning
from linear_operator.utils.warnings import NumericalWarning

import bayesopt as bo
from bayesopt import acquisition, gp, propose
from bayesopt._rng import derive_seed, seeded_torch
from bayesopt._threads import limited_threads
from bayesopt.optimizer import NOISY_FRACTION, NOISY_MIN_TRIALS
from benchmarks import problems

METHODS: dict[str, propose.ProposeOptions] = {
    "alternating": propose.ProposeOptions(),
    "botorch": propose.ProposeOptions(method="botorch"),
    "botorch-defaults": propose.ProposeOptions(
        method="botorch", raw_samples=1024, n_restarts=20, max_exhaustive=20
    ),
}
TIE = 1e-3
"""Acquisition values closer than this (log units: 0.1 % of the expected improvement) tie."""


@dataclass
class Target:
    """One ask's acquisition and what ``propose.maximize`` gets with it."""

    acqf: Any
    grids: list[torch.Tensor | None]
    cat_dims: list[int]
    seed: int
    X_avoid: torch.Tensor
    X_best: torch.Tensor
    scales: torch.Tensor
    kind: str


def history(problem: problems.Problem, seed: int, model_asks: int) -> bo.Optimizer:
    """The default optimiser after its initial design and ``model_asks`` model asks."""
    opt = bo.Optimizer(problem.space, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bo.FallbackWarning)
        for _ in range(opt.n_initial + model_asks):
            trial = opt.ask()
            opt.tell(trial, problem.fn(trial.params))
    return opt


def target(opt: bo.Optimizer) -> Target:
    """The next ask's acquisition, built as ``Optimizer._propose`` builds it (no pending)."""
    seed = derive_seed(opt.seed, len(opt.trials))
    data = opt.model_data()
    X_all, X_failed = data.X, data.X_failed
    X, y = opt._local_data(data.X, data.y)
    space = opt.space
    with seeded_torch(seed), gp.exact(), limited_threads(1):
        model = gp.fit(X, y, cat_dims=space.categorical_dims, seed=seed, options=opt.model_options)
        noise = gp.noise_fraction(model)
        noisy = len(X_all) - len(X_failed) >= NOISY_MIN_TRIALS and noise > NOISY_FRACTION
        X_avoid = torch.cat([X_failed] + ([] if noisy else [X_all]))
        X_best = X[
            torch.argsort(y, descending=True, stable=True)[: METHODS["alternating"].n_incumbents]
        ]
        acqf = acquisition.make(
            opt.acquisition,
            model,
            X_baseline=X,
            best_f=float(y.max()),
            X_pending=None,
            q=1,
            seed=seed,
            noise_fraction=noise,
        )
        scales = gp.lengthscales(model, space.dim, space.categorical_dims)
    grids = [space.grid(i) for i in range(space.dim)]
    return Target(
        acqf, grids, space.categorical_dims, seed, X_avoid, X_best, scales, type(acqf).__name__
    )


def search(
    t: Target, options: propose.ProposeOptions, repeats: int = 1
) -> tuple[torch.Tensor, float, float]:
    """The point one method proposes, its acquisition value and the median seconds."""
    seconds = []
    with gp.exact(), limited_threads(1):
        for _ in range(repeats):
            with seeded_torch(t.seed):
                start = time.perf_counter()
                x = propose.maximize(
                    t.acqf,
                    t.grids,
                    q=1,
                    seed=t.seed,
                    X_avoid=t.X_avoid,
                    X_starts=t.X_best,
                    options=options,
                    scales=t.scales,
                    cat_dims=t.cat_dims,
                )
                seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            value = float(t.acqf(x.unsqueeze(1)).reshape(-1)[0])
    return x, value, statistics.median(seconds)


def _on_grids(x: torch.Tensor, grids: list[torch.Tensor | None]) -> bool:
    return all(
        g is None or bool((g - float(x[0, i])).abs().min() < 1e-12) for i, g in enumerate(grids)
    )


def measure(
    names: list[str], seeds: list[int], model_asks: int, repeats: int
) -> list[dict[str, Any]]:
    """One record per problem and seed: each method's value, seconds and point."""
    records = []
    warm = True
    for name in names:
        problem = problems.get(name)
        for seed in seeds:
            t = target(history(problem, seed, model_asks))
            methods = list(METHODS)
            if warm:
                for m in methods:
                    search(t, METHODS[m])
                warm = False
            k = seed % len(methods)
            record: dict[str, Any] = {"problem": name, "seed": seed, "acquisition": t.kind}
            for m in methods[k:] + methods[:k]:
                x, value, seconds = search(t, METHODS[m], repeats)
                avoided = bool(len(t.X_avoid)) and float(torch.cdist(x, t.X_avoid).min()) < 1e-9
                record[m] = {
                    "value": value,
                    "seconds": seconds,
                    "x": x[0].tolist(),
                    "on_grids": _on_grids(x, t.grids),
                    "repeats_an_evaluated_point": avoided,
                }
            records.append(record)
            print(
                f"{name:11s} seed {seed}: "
                + ", ".join(
                    f"{m} {record[m]['value']:.4f} ({record[m]['seconds']:.2f} s)" for m in METHODS
                ),
                file=sys.stderr,
                flush=True,
            )
    return records


def _counts(deltas: list[float]) -> str:
    ours = sum(d > TIE for d in deltas)
    theirs = sum(d < -TIE for d in deltas)
    return f"{ours} / {len(deltas) - ours - theirs} / {theirs}"


def table(records: list[dict[str, Any]]) -> list[str]:
    """Per problem: value differences, who is higher, median seconds."""
    out = [
        "| problem | runs | acquisition | median Δ value vs botorch | ours higher / tie / "
        "botorch higher | median Δ value vs botorch-defaults | ours higher / tie / "
        "defaults higher | median s: alternating / botorch / botorch-defaults |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["problem"] for r in records):
        rows = [r for r in records if r["problem"] == name]
        d1 = [r["alternating"]["value"] - r["botorch"]["value"] for r in rows]
        d2 = [r["alternating"]["value"] - r["botorch-defaults"]["value"] for r in rows]
        secs = [statistics.median(r[m]["seconds"] for r in rows) for m in METHODS]
        kinds = ", ".join(sorted({r["acquisition"] for r in rows}))
        out.append(
            f"| {name} | {len(rows)} | {kinds} | {statistics.median(d1):+.1e} | {_counts(d1)} | "
            f"{statistics.median(d2):+.1e} | {_counts(d2)} | "
            + " / ".join(f"{s:.2f}" for s in secs)
            + " |"
        )
    return out


def details(records: list[dict[str, Any]]) -> list[str]:
    """One row per problem and seed: the three values and seconds."""
    out = [
        "| problem | seed | alternating | botorch | botorch-defaults | s (same order) |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        values = " | ".join(f"{r[m]['value']:.4f}" for m in METHODS)
        secs = " / ".join(f"{r[m]['seconds']:.2f}" for m in METHODS)
        out.append(f"| {r['problem']} | {r['seed']} | {values} | {secs} |")
    return out


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Markdown path (.json beside)")
    parser.add_argument("--problems", default="branin,hartmann6,levy6,mixed-levy")
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--model-asks", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="timed searches per method")
    args = parser.parse_args()
    names, seeds = args.problems.split(","), _seeds(args.seeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        warnings.simplefilter("ignore", BotorchWarning)
        records = measure(names, seeds, args.model_asks, args.repeats)
    machine = f"{os.cpu_count()} cores, {platform.machine()} {platform.system()}"
    command = "python benchmarks/scripts/propose_vs_botorch.py " + " ".join(sys.argv[1:])
    lines = [
        "# Acquisition search: bayesopt's alternating search against BoTorch's",
        "",
        f"Made by `{command}` on {machine}, one thread per search; botorch "
        f"{botorch.__version__}, torch {torch.__version__}. Δ value: the acquisition value "
        "(log scale) of our point minus BoTorch's, scored by the same acquisition object; "
        f"|Δ| ≤ {TIE} counts as a tie. History: the default optimiser's 2d + 1 Sobol points "
        f"and {args.model_asks} model asks; the measured search is the next ask's. Seconds: the "
        f"median of {args.repeats} runs of each search.",
        "",
        *table(records),
        "",
        "Every run:",
        "",
        *details(records),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    meta = {"command": command, "machine": machine, "botorch": botorch.__version__, "tie": TIE}
    args.out.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "records": records}, indent=1), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
