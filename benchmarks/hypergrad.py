"""Hypergradients against BO and random search on digits: ``python -m benchmarks hypergrad``.

Every method tunes SGD-with-momentum training of a model on ``sklearn.datasets.load_digits``
(bundled; fixed 1000 / 400 / 397 train / validation / test split, features standardised on
the training part) by the validation cross-entropy after ``N_STEPS`` minibatch steps, at
equal wall-clock budgets:

* ``hypergrad``: ``bayesopt.hypergrad.HypergradientDescent`` (exact hypergradients by
  checkpointed reverse SGD, Adam, clipping), started at the centre of the box, restarted from
  a random point whenever it stops on divergence;
* ``bayesopt``: ``bayesopt.Optimizer`` (GP-BO);
* ``random``: ``bayesopt.RandomSearch``; ``random-2x``: the same stream with twice the time;
* ``sgd-hd``: Baydin et al.'s online hypergradient descent on the learning rate from the
  centre of the box, one run per meta step size ``beta`` in ``SGD_HD_BETAS``.

Experiments (``benchmarks.hypergrad_experiments``): ``A`` tunes (log lr, momentum, log
weight decay) for everyone; ``B`` lets hypergradients tune a 10-block learning-rate schedule
per layer and a weight decay per layer (22 values) while BO and random search tune a
parametric schedule (initial rate, decay, weight decay), momentum fixed at 0.9 for all. The
chosen hyperparameters of each method are retrained with ``FRESH_SEEDS`` fresh seeds (new
minibatch order and initial weights) and scored by test error.

Each (experiment, model, seed, method) cell appends one JSON line to ``runs.jsonl`` when it
finishes (``benchmarks.store``: a line torn by a killed run is cut before the next append);
a rerun skips finished cells. Cells run seed-major with the method order rotated per seed,
so load on a shared machine falls on every method alike. The memory measurement is in
``benchmarks.hypergrad_memory``, the report in ``benchmarks.hypergrad_report``.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import bayesopt as bo
from bayesopt._rng import derive_seed
from bayesopt.hypergrad import HypergradientDescent, Hyperparameters, TrainingProblem, sgd_hd
from benchmarks import store
from benchmarks.hypergrad_experiments import EXPERIMENTS, Experiment, experiment
from benchmarks.runner import init_worker, run_meta

__all__ = ["main_hypergrad", "read_runs", "run_cells"]

RESULTS = Path(__file__).parent / "results" / "hypergrad"
RUNS = "runs.jsonl"
N_STEPS = 200
BATCH = 50
FRESH_SEEDS = 5
DTYPE = torch.float32
SGD_HD_BETAS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
METHODS = ("hypergrad", "bayesopt", "random", "random-2x", "sgd-hd")
RUNNERS = ("hypergrad", "bayesopt", "random", "sgd-hd")  # random also yields random-2x
MODELS = ("logreg", "mlp")
META_LR = 0.2  # Adam step in raw units; picked on seed 99 (not a benchmark seed)


# -- data and problems ---------------------------------------------------------------------


@functools.cache
def digits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fixed split of digits: ``{"train", "val", "test"}`` -> (float64 inputs, labels)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    mean, sd = X[:1000].mean(0), X[:1000].std(0)
    X = (X - mean) / np.where(sd > 0, sd, 1.0)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    return {
        "train": (Xt[:1000], yt[:1000]),
        "val": (Xt[1000:1400], yt[1000:1400]),
        "test": (Xt[1400:], yt[1400:]),
    }


def make_model(name: str) -> torch.nn.Module:
    """The architecture (its own initial values are unused: ``init_seed`` draws them)."""
    if name == "logreg":
        return torch.nn.Linear(64, 10)
    if name == "mlp":
        layers = [torch.nn.Linear(64, 128), torch.nn.Tanh(), torch.nn.Linear(128, 10)]
        return torch.nn.Sequential(*layers)
    raise ValueError(f"unknown model {name!r}; known: {MODELS}")


def make_problem(model: str, seed: int, *, dtype: torch.dtype = DTYPE) -> TrainingProblem:
    """Minibatch order and initial weights both from ``seed``; groups are layers."""
    data = digits()
    return TrainingProblem(
        make_model(model),
        data["train"],
        data["val"],
        n_steps=N_STEPS,
        batch_size=BATCH,
        groups="layer",
        seed=seed,
        init_seed=seed,
        dtype=dtype,
    )


# -- one cell ------------------------------------------------------------------------------


@dataclass
class Trace:
    """Evaluations of one method run: ``evals`` are ``[seconds, value or None]``;
    ``incumbents`` ``[seconds, value, hypers params, beta or None]`` at each improvement."""

    evals: list[list] = field(default_factory=list)
    incumbents: list[list] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        t: float,
        value: float | None,
        hypers: Hyperparameters | dict,
        beta: float | None = None,
    ) -> None:
        """Record one evaluation at ``t`` seconds, and the incumbent if it improved."""
        ok = value is not None and math.isfinite(value)
        self.evals.append([round(t, 4), value if ok else None])
        if ok and (not self.incumbents or value < self.incumbents[-1][1]):
            params = hypers if isinstance(hypers, dict) else hypers.to_params()
            self.incumbents.append([round(t, 4), value, params, beta])


def _clock() -> Callable[[], float]:
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


def _run_hypergrad(problem: TrainingProblem, exp: Experiment, seed: int, horizon: float) -> Trace:
    trace, clock = Trace(), _clock()
    restarts = bo.RandomSearch(exp.space, seed=derive_seed(seed, 7))
    init = exp.expand(exp.to_hypers(exp.centre), problem.n_groups)
    stops: list[str] = []
    while clock() < horizon:
        hd = HypergradientDescent(
            problem, init, optimise=exp.optimise, bounds=exp.bounds, meta_lr=META_LR
        )

        def record(step, hd=hd) -> None:
            trace.add(clock(), None if step.diverged else step.value, hd.trials[-1].params)

        hd.run(time_budget=max(horizon - clock(), 1e-9), callback=record)
        stops.append(str(hd.stop_reason))
        if hd.stop_reason == "time_budget":
            break
        init = exp.expand(exp.to_hypers(restarts.ask().params), problem.n_groups)
    trace.info = {"runs": len(stops), "stops": stops}
    return trace


def _run_asktell(opt: bo.Optimizer | bo.RandomSearch, problem, exp, horizon) -> Trace:
    trace, clock = Trace(), _clock()
    while clock() < horizon:
        trial = opt.ask()
        hypers = exp.to_hypers(trial.params)
        result = problem.train(hypers)
        opt.tell(trial, result.value if not result.diverged else float("nan"))
        trace.add(clock(), None if result.diverged else result.value, hypers)
    return trace


def _run_sgd_hd(problem: TrainingProblem, exp: Experiment, seed: int, horizon: float) -> Trace:
    trace, clock = Trace(), _clock()
    init = exp.expand(exp.to_hypers(exp.centre), problem.n_groups)
    for beta in SGD_HD_BETAS:
        if clock() >= horizon:
            break
        out = sgd_hd(problem, init, beta=beta)
        trace.add(clock(), None if out.diverged else out.value, init, beta)
    return trace


def _retrain(model: str, seed: int, incumbent: list) -> dict[str, Any]:
    """Test error and loss, and validation loss, of the incumbent on fresh seeds."""
    _, _, params, beta = incumbent
    hypers = Hyperparameters.from_params(params)
    data = digits()
    X_test, y_test = data["test"]
    errors, losses, vals, diverged = [], [], [], 0
    for j in range(FRESH_SEEDS):
        fresh = 100_000 + 100 * seed + j  # the same fresh seeds for every method
        problem = make_problem(model, fresh)
        out = problem.train(hypers) if beta is None else sgd_hd(problem, hypers, beta=beta)
        if out.diverged:
            diverged += 1
            errors.append(0.9)  # a constant guess on 10 balanced classes
            continue
        with torch.no_grad():
            logits = problem.predict(out.weights, X_test.to(DTYPE))
            errors.append(float((logits.argmax(1) != y_test).double().mean()))
            losses.append(float(torch.nn.functional.cross_entropy(logits.double(), y_test)))
        vals.append(out.value)
    return {
        "test_errors": errors,
        "test_losses": losses,
        "fresh_val_losses": vals,
        "diverged": diverged,
    }


def _best_at(trace: Trace, t: float) -> list | None:
    found = [inc for inc in trace.incumbents if inc[0] <= t]
    return found[-1] if found else None


def run_cell(
    experiment_name: str,
    model: str,
    seed: int,
    runner: str,
    horizon: float,
    budgets: Sequence[float],
) -> list[dict[str, Any]]:
    """Run one method for ``horizon`` seconds (``random``: twice that) and score it.

    Returns:
        One record per reported method (``random`` gives ``random`` and ``random-2x``).
    """
    torch.set_num_threads(1)  # one thread, so methods compare fairly (also in-process)
    exp = experiment(experiment_name)
    problem = make_problem(model, seed)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.perf_counter()
    if runner == "hypergrad":
        traces = {"hypergrad": (_run_hypergrad(problem, exp, seed, horizon), 1.0)}
    elif runner == "bayesopt":
        trace = _run_asktell(bo.Optimizer(exp.space, seed=seed), problem, exp, horizon)
        traces = {"bayesopt": (trace, 1.0)}
    elif runner == "random":
        trace = _run_asktell(bo.RandomSearch(exp.space, seed=seed), problem, exp, 2 * horizon)
        traces = {"random": (trace, 1.0), "random-2x": (trace, 2.0)}
    elif runner == "sgd-hd":
        traces = {"sgd-hd": (_run_sgd_hd(problem, exp, seed, horizon), 1.0)}
    else:
        raise ValueError(f"unknown runner {runner!r}; known: {RUNNERS}")
    records = []
    for method, (trace, speed) in traces.items():
        chosen = {}
        for b in budgets:
            inc = _best_at(trace, speed * b)
            if inc is None:
                chosen[str(b)] = None
                continue
            n = sum(1 for e in trace.evals if e[0] <= speed * b)
            chosen[str(b)] = {
                "t": inc[0],
                "value": inc[1],
                "params": inc[2],
                "beta": inc[3],
                "n_evals": n,
                **_retrain(model, seed, inc),
            }
        records.append(
            {
                "experiment": experiment_name,
                "model": model,
                "seed": seed,
                "method": method,
                "horizon": horizon,
                "time_scale": speed,
                "evals": trace.evals,
                "chosen": chosen,
                "info": trace.info,
                "started": started,
                "cell_seconds": round(time.perf_counter() - t0, 2),
                "commit": _commit(),
            }
        )
    return records


def _safe_cell(*args: Any) -> list[dict[str, Any]]:
    """``run_cell``, but an exception becomes an error record (retried by the next run)."""
    try:
        return run_cell(*args)
    except Exception as exc:
        import traceback

        exp, model, seed, runner, horizon, _ = args
        return [
            {
                "experiment": exp,
                "model": model,
                "seed": seed,
                "method": runner,
                "horizon": horizon,
                "status": "error",
                "error": repr(exc),
                "traceback": traceback.format_exc(),
                "commit": _commit(),
            }
        ]


@functools.cache
def _commit() -> str:
    """The git commit of the code run (``"unknown"`` outside a git checkout)."""
    return run_meta("hypergrad").get("commit", "unknown")


# -- the grid ------------------------------------------------------------------------------


def cell_key(record: dict[str, Any]) -> tuple[str, str, int, str]:
    """``(experiment, model, seed, method)``: what identifies a record."""
    return (record["experiment"], record["model"], int(record["seed"]), record["method"])


def read_runs(path: Path) -> list[dict[str, Any]]:
    """Records of ``runs.jsonl``; a truncated or unreadable line is skipped."""
    return store.read(path, key=cell_key)[0]


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    for r in records:
        store.append(path, r)


def plan(
    experiments: Sequence[str],
    models: Sequence[str],
    seeds: Sequence[int],
    runners: Sequence[str] = RUNNERS,
) -> list[tuple[str, str, int, str]]:
    """Cells in seed-major order, methods rotated per seed."""
    cells = []
    for seed in seeds:
        for exp in experiments:
            for model in models:
                k = seed % len(runners)
                for runner in list(runners[k:]) + list(runners[:k]):
                    cells.append((exp, model, seed, runner))
    return cells


def run_cells(
    out_dir: Path,
    experiments: Sequence[str],
    models: Sequence[str],
    seeds: Sequence[int],
    budgets: Sequence[float],
    workers: int = 1,
    runners: Sequence[str] = RUNNERS,
) -> int:
    """Run every cell not yet finished at horizon ``max(budgets)``; returns cells run."""
    horizon = float(max(budgets))
    path = out_dir / RUNS
    done = {
        (
            r["experiment"],
            r["model"],
            r["seed"],
            "random" if r["method"] == "random-2x" else r["method"],
        )
        for r in read_runs(path)
        if r["horizon"] >= horizon and r.get("status") != "error"
    }
    todo = [c for c in plan(experiments, models, seeds, runners) if c not in done]
    each = {"hypergrad": 1, "bayesopt": 1, "random": 2, "sgd-hd": 0.05}
    estimate = sum(each[c[3]] for c in todo) * horizon / max(1, workers)
    print(
        f"hypergrad benchmark: {len(todo)} cells to run ({len(done)} done), about "
        f"{estimate / 60:.0f} min on {workers} worker(s) -> {path}",
        flush=True,
    )
    budgets = sorted(float(b) for b in budgets)
    if workers <= 1:
        for cell in todo:
            _append(path, _safe_cell(*cell, horizon, budgets))
            print(f"  done {cell}", flush=True)
        return len(todo)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker) as pool:
        futures = {pool.submit(_safe_cell, *c, horizon, budgets): c for c in todo}
        for fut in as_completed(futures):
            _append(path, fut.result())
            print(f"  done {futures[fut]}", flush=True)
    return len(todo)


# -- entry point used by benchmarks.cli ----------------------------------------------------


def main_hypergrad(args: Any) -> int:
    """Run the ``hypergrad`` subcommand (``args`` from ``benchmarks.cli``)."""
    from benchmarks.hypergrad_memory import run_memory  # both modules import this one
    from benchmarks.hypergrad_report import write_report

    for name, given, known in (
        ("--experiments", args.experiments, EXPERIMENTS),
        ("--models", args.models, MODELS),
        ("--methods", args.methods, RUNNERS),
    ):
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise SystemExit(f"{name}: unknown {unknown}; choose from {list(known)}")
    if not args.budgets or min(args.budgets) <= 0:
        raise SystemExit(f"--budgets must be positive seconds, got {args.budgets}")
    out_dir = args.out
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.perf_counter()
    did = []
    if args.action in ("run", "all"):
        n = run_cells(
            out_dir,
            args.experiments,
            args.models,
            args.seeds,
            args.budgets,
            workers=args.workers,
            runners=args.methods,
        )
        did.append(f"ran {n} cells")
    if args.action in ("memory", "all"):
        run_memory(out_dir, args.steps)
        did.append(f"memory at T={','.join(map(str, args.steps))}")
    if args.action in ("report", "all"):
        print(f"wrote {write_report(out_dir, args.command_line)}")
        did.append("report")
    if args.action != "report":
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "commands.log").open("a", encoding="utf-8") as fh:
            fh.write(
                f"{started}\t{args.command_line}\t{'; '.join(did)} in "
                f"{time.perf_counter() - t0:.0f} s\n"
            )
    return 0
