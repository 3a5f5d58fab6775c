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

Experiments: ``A`` tunes (log lr, momentum, log weight decay) for everyone; ``B`` lets
hypergradients tune a 10-block learning-rate schedule per layer and a weight decay per layer
(22 values) while BO and random search tune a parametric schedule (initial rate, decay,
weight decay), momentum fixed at 0.9 for all. The chosen hyperparameters of each method are
retrained with ``FRESH_SEEDS`` fresh seeds (new minibatch order and initial weights) and
scored by test error.

Each (experiment, model, seed, method) cell appends one JSON line to ``runs.jsonl`` when it
finishes; a rerun skips finished cells. Cells run seed-major with the method order rotated
per seed, so load on a shared machine falls on every method alike.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
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
from bayesopt.hypergrad import (
    HypergradientDescent,
    Hyperparameters,
    TrainingProblem,
    hypergradient,
    sgd_hd,
)

__all__ = ["main_hypergrad", "run_cells", "run_memory", "write_report"]

RESULTS = Path(__file__).parent / "results" / "hypergrad"
RUNS = "runs.jsonl"
N_STEPS = 200
BATCH = 50
N_BLOCKS = 10
MOMENTUM_B = 0.9
FRESH_SEEDS = 5
DTYPE = torch.float32
SGD_HD_BETAS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
METHODS = ("hypergrad", "bayesopt", "random", "random-2x", "sgd-hd")
RUNNERS = ("hypergrad", "bayesopt", "random", "sgd-hd")  # random also yields random-2x
MODELS = ("logreg", "mlp")
EXPERIMENTS = ("A", "B")
BOUNDS = {"lr": (1e-3, 10.0), "momentum": (0.0, 0.99), "weight_decay": (1e-6, 1e-1)}
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


# -- experiments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """What is tuned: the BO / random-search space, and the hypergradient parameterisation.

    Attributes:
        name: ``"A"`` or ``"B"``.
        space: the space of BO and random search.
        to_hypers: ``space params -> Hyperparameters`` (BO's and random search's training).
        expand: ``Hyperparameters -> the hypergradient method's (possibly richer) start``.
        optimise: what the hypergradient method tunes.
        centre: the centre of the box (in the space's own scaling): every gradient start.
        bounds: natural-unit box of the hypergradient method (covers what BO can reach).
    """

    name: str
    space: bo.Space
    to_hypers: Callable[[dict[str, Any]], Hyperparameters]
    expand: Callable[[Hyperparameters, int], Hyperparameters]
    optimise: tuple[str, ...]
    centre: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    description: str = ""


def _centre(space: bo.Space) -> dict[str, float]:
    return space.from_unit(torch.full((space.dim,), 0.5, dtype=torch.float64))


def _a_hypers(p: dict[str, Any]) -> Hyperparameters:
    return Hyperparameters.create(
        lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"]
    )


def _b_hypers(p: dict[str, Any]) -> Hyperparameters:
    frac = torch.arange(N_BLOCKS, dtype=torch.float64) / (N_BLOCKS - 1)
    lr = p["lr"] * p["decay"] ** frac
    return Hyperparameters.create(lr=lr, momentum=MOMENTUM_B, weight_decay=p["weight_decay"])


def _b_expand(h: Hyperparameters, n_groups: int) -> Hyperparameters:
    """A shared schedule and decay -> one schedule and one decay per layer."""
    raw = dict(h.raw)
    raw["lr"] = raw["lr"].expand(-1, n_groups).clone()
    raw["weight_decay"] = raw["weight_decay"].expand(n_groups).clone()
    return Hyperparameters(raw)


@functools.cache
def experiment(name: str) -> Experiment:
    """The experiment named ``"A"`` or ``"B"``."""
    lr, wd = bo.Real(*BOUNDS["lr"], log=True), bo.Real(*BOUNDS["weight_decay"], log=True)
    if name == "A":
        space = bo.Space({"lr": lr, "momentum": bo.Real(*BOUNDS["momentum"]), "weight_decay": wd})
        return Experiment(
            "A",
            space,
            _a_hypers,
            lambda h, _g: h,
            ("lr", "momentum", "weight_decay"),
            _centre(space),
            dict(BOUNDS),
            "3-D: log lr, momentum, log weight decay (the same for everyone)",
        )
    if name == "B":
        space = bo.Space({"lr": lr, "decay": bo.Real(1e-3, 1.0, log=True), "weight_decay": wd})
        return Experiment(
            "B",
            space,
            _b_hypers,
            _b_expand,
            ("lr", "weight_decay"),
            _centre(space),
            {"lr": (1e-6, BOUNDS["lr"][1]), "weight_decay": BOUNDS["weight_decay"]},
            f"schedules: hypergradients tune {N_BLOCKS} lr blocks x layer + decay per layer; "
            f"BO / random: lr_b = lr * decay^(b/{N_BLOCKS - 1}), weight decay; momentum "
            f"{MOMENTUM_B}; the per-block rates of hypergradients may go down to 1e-6, as far as "
            "BO's decaying schedules reach",
        )
    raise ValueError(f"unknown experiment {name!r}; known: {EXPERIMENTS}")


# -- one cell ------------------------------------------------------------------------------


@dataclass
class Trace:
    """Evaluations of one method run: ``evals`` are ``[seconds, value or None]``;
    ``incumbents`` ``[seconds, value, hypers params, beta or None]`` at each improvement."""

    evals: list[list] = field(default_factory=list)
    incumbents: list[list] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, t: float, value: float | None, hypers: Hyperparameters | dict, beta=None):
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
    torch.set_num_threads(1)  # benchmark worker: one thread, so methods compare fairly
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
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# -- the grid ------------------------------------------------------------------------------


def read_runs(path: Path) -> list[dict[str, Any]]:
    """Records of ``runs.jsonl`` (a truncated last line is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


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
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = {pool.submit(_safe_cell, *c, horizon, budgets): c for c in todo}
        for fut in as_completed(futures):
            _append(path, fut.result())
            print(f"  done {futures[fut]}", flush=True)
    return len(todo)


# -- memory --------------------------------------------------------------------------------


def memory_probe(method: str, n_steps: int) -> dict[str, Any]:
    """One hypergradient of the digits MLP in float64, in this (fresh) process.

    Returns counted trajectory bytes and the measured growth of peak RSS during the call
    (Linux: ``/proc/self/clear_refs`` resets the peak first).
    """
    torch.set_num_threads(1)
    hypers = Hyperparameters.create(lr=1.0, momentum=0.9, weight_decay=1e-4)
    kw = {"unroll": {"method": "unroll"}, "reverse-stored": {"checkpoint_every": 1}, "reverse": {}}[
        method
    ]
    hypergradient(make_problem("mlp", 0, dtype=torch.float64).replace(n_steps=5), hypers, **kw)
    problem = make_problem("mlp", 0, dtype=torch.float64).replace(n_steps=n_steps)

    def status(key: str) -> int:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key))

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS:")
    out = hypergradient(problem, hypers, **kw)
    return {
        "method": method,
        "T": n_steps,
        "stored_bytes": out.stored_bytes,
        "peak_states": out.peak_states,
        "rss_growth_kib": status("VmHWM:") - before,
        "seconds": out.seconds,
        "value": out.value,
    }


def run_memory(out_dir: Path, steps: Sequence[int]) -> Path:
    """Probe each method and T in a fresh subprocess; write ``memory.json``."""
    rows = []
    root = Path(__file__).resolve().parent.parent
    for T in steps:
        for method in ("unroll", "reverse-stored", "reverse"):
            code = (
                f"import json; from benchmarks.hypergrad import memory_probe; "
                f"print(json.dumps(memory_probe({method!r}, {int(T)})))"
            )
            proc = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                cwd=root,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            if proc.returncode != 0:
                raise RuntimeError(f"memory probe {method} T={T} failed:\n{proc.stderr}")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(
                f"  T={T:5d} {method:15s} counted {r['stored_bytes'] / 2**20:8.2f} MiB  "
                f"RSS +{r['rss_growth_kib'] / 1024:8.2f} MiB  {r['seconds']:.2f} s",
                flush=True,
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "memory.json"
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return path


# -- report --------------------------------------------------------------------------------


def _latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per (experiment, model, seed, method): the one with the longest horizon."""
    best: dict[tuple, dict[str, Any]] = {}
    for r in records:
        key = (r["experiment"], r["model"], r["seed"], r["method"])
        if key not in best or r["horizon"] >= best[key]["horizon"]:
            best[key] = r
    return list(best.values())


def _curve(record: dict[str, Any], grid: np.ndarray) -> np.ndarray:
    t = np.array([e[0] for e in record["evals"]], dtype=float) / record["time_scale"]
    v = np.array([np.inf if e[1] is None else e[1] for e in record["evals"]], dtype=float)
    best = np.minimum.accumulate(v) if len(v) else v
    idx = np.searchsorted(t, grid, side="right") - 1
    out = np.where(idx >= 0, best[np.clip(idx, 0, None)] if len(v) else np.nan, np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def _fmt(xs: Sequence[float], pct: bool = False, digits_: int = 2) -> str:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return "–"
    scale = 100.0 if pct else 1.0
    a = np.asarray(xs) * scale
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():.{digits_}f} ± {sd:.{digits_}f}"


def _median_iqr(xs: Sequence[float]) -> str:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return "–"
    q1, q2, q3 = np.percentile(xs, [25, 50, 75])
    return f"{q2:.4f} [{q1:.4f}, {q3:.4f}]"


def _wilcoxon(a: Sequence[float], b: Sequence[float]) -> str:
    """``lower``/``higher``/``tie`` for paired ``a`` against ``b`` (two-sided p < 0.05)."""
    from scipy.stats import wilcoxon

    d = np.asarray(a) - np.asarray(b)
    d = d[np.isfinite(d)]
    if len(d) < 6 or not np.any(d):
        return f"n={len(d)}: no test" if len(d) < 6 else "tie"
    p = wilcoxon(d).pvalue
    if p >= 0.05:
        return f"tie (p={p:.2f})"
    return f"{'lower' if np.median(d) < 0 else 'higher'} (p={p:.3f})"


def write_report(out_dir: Path, command: str = "") -> Path:
    """``REPORT.md`` and figures from ``runs.jsonl``, ``memory.json`` and, verbatim after the
    set-up, the hand-written ``FINDINGS.md`` if there is one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    every = read_runs(out_dir / RUNS)
    errors = [r for r in every if r.get("status") == "error"]
    records = _latest([r for r in every if r.get("status") != "error"])
    lines = [
        "# Hypergradients vs Bayesian optimisation vs random search (digits)",
        "",
        f"Made by `{command or 'python -m benchmarks hypergrad report'}` "
        f"from `{RUNS}` and `memory.json`; the run commands are in `commands.log`.",
        "",
        "## Set-up",
        "",
        "* Data: `sklearn.datasets.load_digits`, fixed split 1000 train / 400 validation / "
        "397 test, features standardised on the training part.",
        f"* Models: multinomial logistic regression (64-10) and an MLP (64-128-10, tanh). "
        f"Training: {N_STEPS} steps of SGD with momentum, minibatches of {BATCH}, "
        f"{str(DTYPE).replace('torch.', '')}. "
        "The update is `v <- m v - (1 - m) g`, `w <- w + lr v` (Maclaurin et al.), so the "
        "step of heavy-ball SGD is `lr (1 - m)`.",
        "* Objective for every method: validation cross-entropy after training; minibatch "
        "order and initial weights are fixed by the benchmark seed, so it is deterministic.",
        f"* Box: lr in {BOUNDS['lr']} (log), momentum in {BOUNDS['momentum']}, weight decay in "
        f"{BOUNDS['weight_decay']} (log).",
        "* (A) everyone tunes (log lr, momentum, log weight decay). "
        f"(B) {experiment('B').description}.",
        f"* `hypergrad`: Adam (meta lr {META_LR} in raw units, gradient norm clipped at 1) on "
        "exact hypergradients from checkpointed reverse SGD, from the centre of the box; "
        "after 3 divergences in a row it restarts from a random point. `sgd-hd`: Baydin et "
        f"al.'s multiplicative rule from the centre, one run per beta in {SGD_HD_BETAS} "
        "(it finishes in a few seconds and does not use the rest of the budget). `random-2x`: "
        "random search given twice the seconds, plotted at half its time.",
        f"* Test error: the best-validation hyperparameters of each method at each budget, "
        f"retrained with {FRESH_SEEDS} fresh seeds (new minibatch order and initial weights; "
        "the same fresh seeds for every method), mean ± sd over all seeds x retrains. "
        "`val gap` = validation loss on fresh seeds minus the validation loss the method "
        "found: how much of its gain was fitted to the tuning seed (validation overfitting).",
        "* Wall-clock budgets on a 2-core VM shared with other work, one thread per process. "
        "Cells run seed-major with the method order rotated per seed, so load changes fall on "
        "all methods alike; timings are still noisy. Each ask of BO and each meta-step of "
        "`hypergrad` counts against its budget.",
        "",
    ]
    findings = out_dir / "FINDINGS.md"  # hand-written reading of the results, if any
    if findings.exists():
        lines += [findings.read_text(encoding="utf-8").strip(), ""]
    figures = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["experiment"], r["model"]), []).append(r)
    for (exp_name, model), recs in sorted(groups.items()):
        exp = experiment(exp_name)
        budgets = sorted({float(b) for r in recs for b in r["chosen"]})
        seeds = sorted({r["seed"] for r in recs})
        lines += [f"## ({exp_name}) {model}: {exp.description}", ""]
        lines.append(
            f"Seeds run: {_ranges(seeds)} ({len(seeds)}); budgets: "
            f"{', '.join(f'{b:g} s' for b in budgets)}."
        )
        lines.append("")
        for b in budgets:
            lines += [
                f"### Budget {b:g} s",
                "",
                "| method | seeds | evaluations (median) | best validation loss, median [IQR] "
                "| test error % | test loss | val gap | retrains diverged |",
                "|---|---|---|---|---|---|---|---|",
            ]
            by_method: dict[str, dict[int, dict]] = {}
            for r in recs:
                c = r["chosen"].get(str(b))
                if c is not None:
                    by_method.setdefault(r["method"], {})[r["seed"]] = c
            for m in METHODS:
                if m not in by_method:
                    continue
                cs = list(by_method[m].values())
                errs = [e for c in cs for e in c["test_errors"]]
                tl = [x for c in cs for x in c["test_losses"]]
                gap = [
                    np.mean(c["fresh_val_losses"]) - c["value"] for c in cs if c["fresh_val_losses"]
                ]
                lines.append(
                    f"| {m} | {len(cs)} | {np.median([c['n_evals'] for c in cs]):.0f} | "
                    f"{_median_iqr([c['value'] for c in cs])} | {_fmt(errs, pct=True)} | "
                    f"{_fmt(tl, digits_=3)} | {_fmt(gap, digits_=3)} | "
                    f"{sum(c['diverged'] for c in cs)} / {FRESH_SEEDS * len(cs)} |"
                )
            if "hypergrad" in by_method:
                lines += ["", "Paired over seeds, hypergrad against each (Wilcoxon, p < 0.05):", ""]
                hg = by_method["hypergrad"]
                for m in METHODS[1:]:
                    if m not in by_method:
                        continue
                    common = sorted(set(hg) & set(by_method[m]))
                    val = _wilcoxon(
                        [hg[s]["value"] for s in common], [by_method[m][s]["value"] for s in common]
                    )
                    err = _wilcoxon(
                        [np.mean(hg[s]["test_errors"]) for s in common],
                        [np.mean(by_method[m][s]["test_errors"]) for s in common],
                    )
                    lines.append(f"* vs {m}: validation loss {val}; test error {err}")
            lines.append("")
        horizon = max(budgets)
        fig_name = f"curves_{exp_name}_{model}.png"
        _plot_curves(plt, recs, horizon, out_dir / fig_name, f"({exp_name}) {model}")
        figures.append(fig_name)
        lines += [f"![best-so-far validation loss]({fig_name})", ""]
        if exp_name == "A":
            lines += _hypergrad_notes(recs, horizon)
        if exp_name == "B":
            sched_name = f"schedule_B_{model}.png"
            if _plot_schedules(plt, recs, horizon, out_dir / sched_name, model):
                lines += [
                    f"![learned learning-rate schedules]({sched_name})",
                    "",
                    "Learned schedules: the hypergradient method's best lr per block and layer "
                    "(one thin line per seed, bold: geometric mean), against the parametric "
                    "schedules BO and random search chose (dashed, geometric mean).",
                    "",
                ]
            lines += _hypergrad_notes(recs, horizon)
    lines += _memory_section(out_dir, plt)
    if errors:
        lines += ["## Errors", ""]
        lines += [
            f"* {r['experiment']} {r['model']} seed {r['seed']} {r['method']}: {r['error']}"
            for r in errors
        ]
        lines.append("")
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _hypergrad_notes(recs: list[dict[str, Any]], horizon: float) -> list[str]:
    hg = [r for r in recs if r["method"] == "hypergrad"]
    if not hg:
        return []
    runs = [r["info"].get("runs", 1) for r in hg]
    stops = [s for r in hg for s in r["info"].get("stops", [])]
    failed = [sum(e[1] is None for e in r["evals"]) for r in hg]
    steps = [len(r["evals"]) for r in hg]
    return [
        f"`hypergrad` over {horizon:g} s: {np.median(steps):.0f} meta-steps (median), "
        f"{sum(failed)} diverged meta-steps in all, {sum(runs) - len(hg)} restarts after a "
        f"run stopped on divergence (stop reasons: "
        f"{', '.join(f'{s} x{stops.count(s)}' for s in sorted(set(stops)))}).",
        "",
    ]


def _ranges(xs: Sequence[int]) -> str:
    out, xs = [], sorted(xs)
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        out.append(f"{xs[i]}" if i == j else f"{xs[i]}-{xs[j]}")
        i = j + 1
    return ",".join(out)


COLOURS = {"hypergrad": "C3", "bayesopt": "C0", "random": "C7", "random-2x": "C2", "sgd-hd": "C1"}


def _plot_curves(plt, recs, horizon, path, title) -> None:
    grid = np.linspace(0, horizon, 241)[1:]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    floor, finals = np.inf, []
    for m in METHODS:
        rs = [r for r in recs if r["method"] == m and r["horizon"] >= horizon]
        if not rs:
            continue
        # Before its first finite evaluation a seed counts as +inf (worse than anything).
        curves = np.nan_to_num(np.array([_curve(r, grid) for r in rs]), nan=np.inf)
        lo, med, hi = np.quantile(curves, [0.25, 0.5, 0.75], axis=0, method="nearest")
        lo, med, hi = (np.where(np.isfinite(x), x, np.nan) for x in (lo, med, hi))
        floor = min(floor, float(np.nanmin(lo)) if np.isfinite(lo).any() else np.inf)
        finals.append(float(med[-1]))
        ax.plot(grid, med, color=COLOURS[m], label=f"{m} (n={len(rs)})")
        ax.fill_between(grid, lo, hi, color=COLOURS[m], alpha=0.15, lw=0)
    ax.set_xlabel("seconds (wall clock, one thread)")
    ax.set_ylabel("best validation loss so far")
    ax.set_yscale("log")
    finite = [f for f in finals if math.isfinite(f)]
    if finite and math.isfinite(floor):  # zoom on where the methods differ
        ax.set_ylim(0.95 * floor, 2.5 * max(finite))
    ax.set_title(f"{title}: median and 25-75 % over seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_schedules(plt, recs, horizon, path, model) -> bool:
    hg = [r for r in recs if r["method"] == "hypergrad" and r["chosen"].get(str(horizon))]
    if not hg:
        return False
    lrs = np.array([r["chosen"][str(horizon)]["params"]["lr"] for r in hg])  # seeds x B x G
    n_layers = lrs.shape[2]
    edges = np.arange(N_BLOCKS + 1) * N_STEPS / N_BLOCKS
    fig, axes = plt.subplots(1, n_layers, figsize=(4.2 * n_layers, 3.6), sharey=True, squeeze=False)
    for g in range(n_layers):
        ax = axes[0, g]
        for s in range(len(hg)):
            ax.stairs(lrs[s, :, g], edges, color="C3", alpha=0.25, lw=0.8, baseline=None)
        ax.stairs(
            np.exp(np.log(lrs[:, :, g]).mean(0)),
            edges,
            color="C3",
            lw=2.2,
            baseline=None,
            label="hypergrad (per block)",
        )
        for m in ("bayesopt", "random"):
            rs = [r for r in recs if r["method"] == m and r["chosen"].get(str(horizon))]
            if rs:
                sched = np.array(
                    [np.array(r["chosen"][str(horizon)]["params"]["lr"])[:, 0] for r in rs]
                )
                ax.stairs(
                    np.exp(np.log(sched).mean(0)),
                    edges,
                    color=COLOURS[m],
                    ls="--",
                    lw=1.5,
                    baseline=None,
                    label=f"{m} (parametric)",
                )
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"{model} layer {g + 1}")
        if g == 0:
            ax.set_ylabel("learning rate lr")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _memory_section(out_dir: Path, plt) -> list[str]:
    path = out_dir / "memory.json"
    if not path.exists():
        return ["## Memory", "", "Not measured (run `python -m benchmarks hypergrad memory`).", ""]
    rows = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "## Memory: unroll against reverse",
        "",
        "One hypergradient of the digits MLP (9,610 weights, float64, minibatches of 50), "
        "each in a fresh process. *Counted*: bytes held for the backward pass (`unroll`: "
        "live tensors saved by autograd, via `saved_tensors_hooks`; `reverse`: the stored "
        "`(w, v)` states). *RSS*: measured growth of the peak resident set during the call "
        "(`/proc/self/clear_refs` resets the peak first), which also counts transient "
        "buffers. `reverse-stored` keeps every state (`checkpoint_every=1`); `reverse` "
        "checkpoints every ceil(sqrt T) steps.",
        "",
        "| T | method | states held | counted MiB | RSS growth MiB | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        states = "–" if r["peak_states"] is None else str(r["peak_states"])
        lines.append(
            f"| {r['T']} | {r['method']} | {states} | {r['stored_bytes'] / 2**20:.2f} | "
            f"{r['rss_growth_kib'] / 1024:.1f} | {r['seconds']:.2f} |"
        )
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for i, m in enumerate(("unroll", "reverse-stored", "reverse")):
        rs = [r for r in rows if r["method"] == m]
        T = [r["T"] for r in rs]
        ax.plot(
            T, [r["stored_bytes"] / 2**20 for r in rs], "o-", color=f"C{i}", label=f"{m}: counted"
        )
        ax.plot(
            T,
            [max(r["rss_growth_kib"], 1) / 1024 for r in rs],
            "s--",
            color=f"C{i}",
            alpha=0.6,
            label=f"{m}: RSS growth",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training steps T")
    ax.set_ylabel("MiB")
    ax.legend(fontsize=7)
    ax.set_title("memory of one hypergradient (MLP, float64)")
    fig.tight_layout()
    fig.savefig(out_dir / "memory.png", dpi=110)
    plt.close(fig)
    return [*lines, "", "![memory](memory.png)", ""]


# -- entry point used by benchmarks.cli ----------------------------------------------------


def main_hypergrad(args: Any) -> int:
    """Run the ``hypergrad`` subcommand (``args`` from ``benchmarks.cli``)."""
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
