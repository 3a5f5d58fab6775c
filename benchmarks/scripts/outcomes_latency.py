"""Seconds of one ask with several objectives after n observations: bayesopt and Optuna.

Both are given the same ``n`` uniform random points of DTLZ2 (d = 6) with M = 2 or 3
objectives (bayesopt through ``Optimizer.add``, Optuna through ``study.add_trial``), then
asked once; the median of ``--repeats`` asks, each on a fresh optimiser, is reported.
bayesopt runs its default (``acquisition.LogEHVI``: the expected hypervolume improvement
over the posterior means' Pareto front in closed form), the same ask, with the same search,
with that closed form replaced by its Monte-Carlo estimator (qLogEHVI, 128 quasi-random
samples) and, up to ``--nehvi-max-n`` observations,
``ProposeOptions(closed_form="never")`` (qLogNEHVI, the default before 2026-12-01); Optuna
its ``GPSampler`` (logEHVI). Each timing runs in this process, one after the other, so
the machine's load hits all alike.

Usage, from the repository root:
``python -m benchmarks.scripts.outcomes_latency [--n 50,200,1000] [--objectives 2,3]
[--repeats 3] [--out benchmarks/results/latency/OUTCOMES.md]``
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from botorch.test_functions.multi_objective import DTLZ2

import bayesopt as bo
from bayesopt import acquisition

DIM = 6


@contextlib.contextmanager
def monte_carlo_plug_in() -> Iterator[None]:
    """Within: ``LogEHVI`` hands every call to its Monte-Carlo fallback (qLogEHVI over the
    same box decomposition), as the default computed it before the closed form."""
    closed_form = acquisition.LogEHVI.forward
    acquisition.LogEHVI.forward = lambda self, X: self.fallback(X)
    try:
        yield
    finally:
        acquisition.LogEHVI.forward = closed_form


def _data(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).uniform(size=(n, DIM))
    Y = DTLZ2(dim=DIM, num_objectives=m)(torch.tensor(X)).numpy()
    return X, Y


def bayesopt_ask(n: int, m: int, seed: int, closed_form: str = "pareto") -> float:
    """Seconds of one bayesopt ask after ``n`` added observations."""
    space = bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(DIM)})
    names = [f"f{j}" for j in range(m)]
    options = bo.ProposeOptions(closed_form=closed_form)
    opt = bo.Optimizer(
        space, seed=seed, objectives=dict.fromkeys(names, "min"), propose_options=options
    )
    X, Y = _data(n, m, seed)
    for x, y in zip(X, Y, strict=True):
        values = dict(zip(names, map(float, y), strict=True))
        opt.add({f"x{i}": float(v) for i, v in enumerate(x)}, values)
    start = time.perf_counter()
    opt.ask()
    return time.perf_counter() - start


def optuna_ask(n: int, m: int, seed: int) -> float:
    """Seconds of one ``study.ask`` of Optuna's GPSampler after ``n`` added trials."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(DIM)}
    study = optuna.create_study(
        directions=["minimize"] * m, sampler=optuna.samplers.GPSampler(seed=seed)
    )
    X, Y = _data(n, m, seed)
    for x, y in zip(X, Y, strict=True):
        params = {f"x{i}": float(v) for i, v in enumerate(x)}
        values = [float(v) for v in y]
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=dists, values=values)
        )
    start = time.perf_counter()
    study.ask(dists)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Time the asks and write the Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.outcomes_latency")
    parser.add_argument("--n", default="50,200,1000")
    parser.add_argument("--objectives", default="2,3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--nehvi-max-n", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/latency/OUTCOMES.md"))
    args = parser.parse_args(argv)
    rows = []
    for n in [int(v) for v in args.n.split(",")]:
        for m in [int(v) for v in args.objectives.split(",")]:
            times: dict[str, list[float]] = {
                "bayesopt": [], "mc": [], "nehvi": [], "optuna-gp": [],
            }  # fmt: skip
            for r in range(args.repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    times["bayesopt"].append(bayesopt_ask(n, m, r))
                    with monte_carlo_plug_in():
                        times["mc"].append(bayesopt_ask(n, m, r))
                    if n <= args.nehvi_max_n:
                        times["nehvi"].append(bayesopt_ask(n, m, r, closed_form="never"))
                    times["optuna-gp"].append(optuna_ask(n, m, r))
            med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
            rows.append((n, m, med["bayesopt"], med["mc"], med["nehvi"], med["optuna-gp"]))
            print(
                f"n={n} M={m}: bayesopt {med['bayesopt']:.2f} s, Monte-Carlo "
                f"{med['mc']:.2f} s, qLogNEHVI {med['nehvi']:.2f} s, optuna-gp "
                f"{med['optuna-gp']:.2f} s",
                flush=True,
            )
    lines = [
        "# One ask with several objectives: bayesopt against Optuna's GPSampler",
        "",
        f"Made by `python -m benchmarks.scripts.outcomes_latency --n {args.n} --objectives "
        f"{args.objectives} --repeats {args.repeats} --nehvi-max-n {args.nehvi_max_n}` on "
        f"{platform.machine()} Linux, {time.strftime('%Y-%m-%d')}, on a shared 2-core VM "
        "(ratios are the reliable part). "
        f"DTLZ2, d = {DIM}, n uniform random observations added, then one ask; median over "
        f"{args.repeats} fresh optimisers. bayesopt: its default, one GP per objective and the "
        "expected hypervolume improvement over the posterior means' Pareto front in closed "
        "form (`acquisition.LogEHVI`), searched from 2048 raw points with 20 local searches "
        "(`propose.PARETO_SEARCH`); Monte-Carlo: the same ask and search with that value "
        "estimated by qLogEHVI from 128 quasi-random samples; qLogNEHVI: "
        '`ProposeOptions(closed_form="never")`, up to n = '
        f"{args.nehvi_max_n}; Optuna 5: GPSampler (logEHVI).",
        "",
        "| n | objectives | bayesopt (s) | Monte-Carlo (s) | qLogNEHVI (s) | Optuna GPSampler "
        "(s) | bayesopt / Monte-Carlo | bayesopt / Optuna |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {m} | {b:.2f} | {c:.2f} | {'–' if v != v else f'{v:.2f}'} | {o:.2f} "
        f"| {b / c:.2f}x | {b / o:.2f}x |"
        for n, m, b, c, v, o in rows
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
