"""The ``multifidelity`` benchmark: optimisers that stop or shorten trainings, on a cost axis.

Every run gets a cost budget in full trainings (``max_step`` steps each) and spends it one
step at a time; the x-axis of every comparison is the total cost (the sum of the steps
trained) or the wall-clock seconds (training seconds, tabulated or measured, plus the
optimiser's own CPU seconds). A run's incumbent is its best observed evaluation at the
full budget; its score at a cost ``c`` is the noise-free value of that incumbent
(``CurveProblem.true_value``: the mean over the training seeds for the tabular benchmark)
once ``c`` has been spent, and its test score is the incumbent's test accuracy.

Contenders (``CONTENDERS``): random search at the full budget, and with twice the cost
(``random-2x``, reported at half its cost); ``Hyperband`` and ``ASHA`` with random
proposals; bayesopt at the full budget, BOHB-style (``Fidelity(model="rungs")``) and with
the multi-fidelity GP (``Fidelity(model="gp")``, the default; Matérn and exponential-decay
kernels); Optuna's TPE with its
``HyperbandPruner`` and with its ``MedianPruner``; DEHB and SMAC3's multi-fidelity facade
when they are installed. Trials that continue (ours, Optuna) pay only for their new steps;
DEHB, SMAC and the multi-fidelity GP start each evaluation afresh and pay all of its steps.

Usage::

    python -m benchmarks.multifidelity run [--problems digits-mlp] [--contenders ...]
        [--seeds 50] [--results DIR]
    python -m benchmarks.multifidelity report [--results DIR]

``run`` appends one JSON line per finished run to ``<results>/runs.jsonl`` and skips the
runs already there, so an interrupted run resumes; ``report`` writes ``REPORT.md`` and the
figures next to it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bayesopt as bo
from bayesopt.multifidelity import Fidelity
from bayesopt.pruners import ASHA, Hyperband
from benchmarks import stats, store
from benchmarks.problems.learning_curves import CurveProblem, Job, curve_problems

__all__ = ["CONTENDERS", "Tracker", "main", "run_one", "write_report"]

RESULTS = store.RESULTS / "multifidelity"
DEFAULT = "bayesopt-mfgp-matern"
"""The contender that is bayesopt's default multi-fidelity method (``Fidelity(min, max)``)."""
ETA = 3


# Accounting --------------------------------------------------------------------------------------
class OutOfBudget(Exception):
    """The run has spent its cost budget."""


@dataclass
class Tracker:
    """The cost, seconds and incumbent of one run.

    Attributes:
        problem: what is optimised.
        limit: the cost budget in steps.
    """

    problem: CurveProblem
    limit: float
    cost: float = 0.0
    train_s: float = 0.0
    opt_s: float = 0.0
    early_cost: float = 0.0
    n_trials: int = 0
    n_full: int = 0
    best: float = math.inf
    trajectory: list[list[float]] = field(default_factory=list)
    rows: set[int] = field(default_factory=set)

    def start(self, params: dict[str, Any], rng: np.random.Generator) -> Job:
        """A fresh training run of ``params`` (a tabulated one's row is counted in
        ``rows``)."""
        self.n_trials += 1
        job = self.problem.start(params, rng)
        row = getattr(job, "row", None)
        if row is not None:
            self.rows.add(int(row))
        return job

    def resume(self, job: Job) -> Job:
        """A new trial that continues ``job`` from its last step (its checkpoint): those
        steps now count towards a run that goes on, not towards a stopped one."""
        self.n_trials += 1
        self.early_cost -= job.step
        return job

    def train(self, job: Job, step: int) -> float:
        """Train ``job`` on to ``step``; its value there.

        Raises:
            OutOfBudget: the steps would go beyond the budget (nothing is spent).
        """
        need = step - job.step
        if self.cost + need > self.limit + 1e-9:
            raise OutOfBudget
        before = job.seconds
        value = job.advance(step)
        self.cost += need
        self.train_s += job.seconds - before
        return value

    def stopped(self, job: Job) -> None:
        """``job`` ends before the full budget: its steps were spent on a stopped trial."""
        self.early_cost += job.step

    def finished(self, job: Job, params: dict[str, Any], value: float) -> None:
        """``job`` ends with ``value`` at its current step (an incumbent if at full budget)."""
        if job.step < self.problem.max_step:
            self.stopped(job)
            return
        self.n_full += 1
        if math.isfinite(value) and value < self.best:
            self.best = value
            true = value if self.problem.true_value is None else self.problem.true_value(params)
            full = self.problem.max_step
            wall = self.train_s + self.opt_s
            self.trajectory.append([self.cost / full, wall, true, job.test_score(), value])

    @contextlib.contextmanager
    def optimiser(self) -> Iterator[None]:
        """Count the CPU seconds of the block as the optimiser's."""
        start = time.process_time()
        try:
            yield
        finally:
            self.opt_s += time.process_time() - start


# Contenders --------------------------------------------------------------------------------------
Runner = Callable[[CurveProblem, int, Tracker], dict[str, Any]]


def _quiet() -> contextlib.AbstractContextManager:
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def _asktell(make: Callable[[CurveProblem, int], bo.AskTell], resume: bool = False) -> Runner:
    """A bayesopt proposer: each trial trains step by step, reports every step and stops
    when ``should_stop`` says so (its pruner, or the budget its ask set). With ``resume``
    a trial that ``opt.continues(trial)`` an earlier one resumes that one's run from its
    checkpoint and pays only for the new steps; otherwise every trial trains afresh."""

    def run(problem: CurveProblem, seed: int, tr: Tracker) -> dict[str, Any]:
        rng = np.random.default_rng([seed, 1])
        with tr.optimiser(), _quiet():
            opt = make(problem, seed)
        reporting = opt.pruner is not None or getattr(opt, "fidelity", None) is not None
        jobs: dict[int, Job] = {}
        while True:
            with tr.optimiser(), _quiet():
                trial = opt.ask()
                earlier = opt.continues(trial) if resume else None
            if earlier is not None and earlier.id in jobs:
                job = tr.resume(jobs.pop(earlier.id))
            else:
                job = tr.start(trial.params, rng)
            jobs[trial.id] = job
            target = int(trial.budget or problem.max_step)
            value = math.nan
            for step in range(job.step + 1, target + 1):
                try:
                    value = tr.train(job, step)
                except OutOfBudget:
                    return _asktell_info(opt)
                if not reporting and step < target:
                    continue
                with tr.optimiser(), _quiet():
                    opt.report(trial, step, value)
                    stop = opt.should_stop(trial)
                if stop:
                    tr.stopped(job)
                    break
            else:
                with tr.optimiser(), _quiet():
                    opt.tell(trial, value)
                tr.finished(job, trial.params, value)

    return run


def _asktell_info(opt: bo.AskTell) -> dict[str, Any]:
    sources = [t.source.value for t in opt.trials]
    return {"fallbacks": sources.count("fallback"), "model_asks": sources.count("model")}


def _fidelity(problem: CurveProblem, **kw: Any) -> Fidelity:
    return Fidelity(problem.min_step, problem.max_step, reduction_factor=ETA, **kw)


def _hyperband(problem: CurveProblem) -> Hyperband:
    return Hyperband(problem.min_step, problem.max_step, ETA)


class _CompleteOnly(bo.Optimizer):
    """Hyperband with a GP fitted on the complete trials only (pruned ones left out): what
    ``Optimizer(pruner=...)`` did before it modelled the rungs (an ablation)."""

    def model_data(self) -> Any:
        return self._complete_data()


def _mfgp(resume: bool = False, **kw: Any) -> Runner:
    return _asktell(
        lambda p, s: bo.Optimizer(p.space, seed=s, fidelity=_fidelity(p, model="gp", **kw)),
        resume=resume,
    )


def _optuna(pruner: str) -> Runner:
    def run(problem: CurveProblem, seed: int, tr: Tracker) -> dict[str, Any]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        rng = np.random.default_rng([seed, 1])
        with tr.optimiser():
            if pruner == "hyperband":
                prune = optuna.pruners.HyperbandPruner(
                    min_resource=problem.min_step, max_resource=problem.max_step,
                    reduction_factor=ETA,
                )  # fmt: skip
            else:
                prune = optuna.pruners.MedianPruner()
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), pruner=prune)
            dists = {n: _optuna_distribution(p) for n, p in problem.space.items()}
        while True:
            with tr.optimiser():
                trial = study.ask(dists)
            job = tr.start(dict(trial.params), rng)
            value = math.nan
            for step in range(1, problem.max_step + 1):
                try:
                    value = tr.train(job, step)
                except OutOfBudget:
                    return {}
                if not math.isfinite(value):
                    break
                with tr.optimiser():
                    trial.report(value, step)
                    stop = trial.should_prune()
                if stop:
                    with tr.optimiser():
                        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    tr.stopped(job)
                    break
            else:
                with tr.optimiser():
                    study.tell(trial, value)
                tr.finished(job, dict(trial.params), value)
                continue
            if not math.isfinite(value):
                with tr.optimiser():
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                tr.stopped(job)

    return run


def _optuna_distribution(p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(p, bo.Real):
        return FloatDistribution(p.low, p.high, log=p.log)
    if isinstance(p, bo.Integer):
        return IntDistribution(p.low, p.high, log=p.log)
    return CategoricalDistribution(list(p.choices))


def _unit_configspace(problem: CurveProblem, seed: int) -> Any:
    """A ConfigSpace of ``d`` floats in ``[0, 1]``: the space's own unit-cube encoding, so
    peers search the same (log-scaled, integer-celled) coordinates as bayesopt."""
    from ConfigSpace import ConfigurationSpace, Float

    cs = ConfigurationSpace(seed=seed)
    cs.add([Float(f"u{i}", (0.0, 1.0)) for i in range(problem.space.dim)])
    return cs


def _from_config(problem: CurveProblem, config: Any) -> dict[str, Any]:
    u = [float(config[f"u{i}"]) for i in range(problem.space.dim)]
    return problem.space.from_unit(u)


def _scratch_eval(
    problem: CurveProblem, tr: Tracker, params: dict[str, Any], budget: float, rng: Any
) -> float:
    """Train ``params`` afresh to ``ceil(budget)`` steps; the value there."""
    steps = min(problem.max_step, max(problem.min_step, math.ceil(budget - 1e-9)))
    job = tr.start(params, rng)
    value = tr.train(job, steps)
    tr.finished(job, params, value)
    return value


def _dehb(problem: CurveProblem, seed: int, tr: Tracker) -> dict[str, Any]:
    from dehb import DEHB

    rng = np.random.default_rng([seed, 1])
    with contextlib.suppress(Exception):
        from loguru import logger

        logger.remove()
    with tempfile.TemporaryDirectory() as out, _quiet():
        with tr.optimiser():
            dehb = DEHB(
                cs=_unit_configspace(problem, seed), f=None, dimensions=problem.space.dim,
                min_fidelity=problem.min_step, max_fidelity=problem.max_step, eta=ETA,
                n_workers=1, seed=seed, output_path=out,
            )  # fmt: skip
        while True:
            with tr.optimiser():
                job = dehb.ask()
            params = _from_config(problem, job["config"])
            try:
                value = _scratch_eval(problem, tr, params, job["fidelity"], rng)
            except OutOfBudget:
                return {}
            fitness = value if math.isfinite(value) else 1e6
            with tr.optimiser():
                dehb.tell(job, {"fitness": fitness, "cost": float(job["fidelity"])})


def _smac(problem: CurveProblem, seed: int, tr: Tracker) -> dict[str, Any]:
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    rng = np.random.default_rng([seed, 1])
    with tempfile.TemporaryDirectory() as out, _quiet():
        with tr.optimiser():
            scenario = Scenario(
                _unit_configspace(problem, seed), deterministic=True, n_trials=100_000,
                min_budget=problem.min_step, max_budget=problem.max_step, seed=seed,
                output_directory=Path(out),
            )  # fmt: skip
            intensifier = MultiFidelityFacade.get_intensifier(scenario, eta=ETA)
            smac = MultiFidelityFacade(
                scenario, lambda config, seed=0, budget=1: 0.0, intensifier=intensifier,
                overwrite=True, logging_level=40,
            )  # fmt: skip
        while True:
            with tr.optimiser():
                info = smac.ask()
            params = _from_config(problem, info.config)
            try:
                value = _scratch_eval(problem, tr, params, info.budget, rng)
            except OutOfBudget:
                return {}
            cost = value if math.isfinite(value) else 1e6
            with tr.optimiser():
                smac.tell(info, TrialValue(cost=cost))


def _random(problem: CurveProblem, seed: int) -> bo.AskTell:
    return bo.RandomSearch(problem.space, seed=seed)


CONTENDERS: dict[str, Runner] = {
    "random": _asktell(_random),
    "random-2x": _asktell(lambda p, s: bo.RandomSearch(p.space, seed=s + 100_000)),
    "hyperband": _asktell(lambda p, s: bo.RandomSearch(p.space, seed=s, pruner=_hyperband(p))),
    "asha": _asktell(
        lambda p, s: bo.RandomSearch(
            p.space, seed=s, pruner=ASHA(p.min_step, ETA, max_resource=p.max_step)
        )
    ),
    "bayesopt": _asktell(lambda p, s: bo.Optimizer(p.space, seed=s)),
    "bayesopt-bohb": _asktell(
        lambda p, s: bo.Optimizer(p.space, seed=s, fidelity=_fidelity(p, model="rungs"))
    ),
    "bayesopt-mfgp-exp-decay": _mfgp(kernel="exp-decay"),
    "bayesopt-mfgp-matern": _mfgp(kernel="matern"),
    "optuna-tpe-hyperband": _optuna("hyperband"),
    "optuna-tpe-median": _optuna("median"),
    "dehb": _dehb,
    "smac-hyperband": _smac,
}
"""``{name: runner}`` of the contenders of the report."""

ABLATION: dict[str, Runner] = {
    "bayesopt-bohb-no-random": _asktell(
        lambda p, s: bo.Optimizer(
            p.space, seed=s, fidelity=_fidelity(p, model="rungs", random_fraction=0.0)
        )
    ),
    "bayesopt-asha": _asktell(
        lambda p, s: bo.Optimizer(
            p.space,
            seed=s,
            fidelity=_fidelity(p, model="rungs"),
            pruner=ASHA(p.min_step, ETA, max_resource=p.max_step),
        )
    ),
    "bayesopt-hb-complete": _asktell(
        lambda p, s: _CompleteOnly(p.space, seed=s, pruner=_hyperband(p))
    ),
    "bayesopt-mfgp-matern-no-promote": _mfgp(kernel="matern", promote=False),
    "bayesopt-mfgp-resume": _mfgp(kernel="matern", resume=True),
    "bayesopt-mfgp-linear-trunc": _mfgp(kernel="linear-trunc"),
    "bayesopt-mfgp-aei": _mfgp(kernel="matern", budget_rule="aei"),
    "bayesopt-mfgp-mes": _mfgp(kernel="matern", acquisition="mes"),
    "bayesopt-mfgp-kg": _mfgp(kernel="matern", acquisition="kg"),
}
"""Variants measured on the tabular benchmark to choose the defaults."""

OPTIONAL = {"dehb": "dehb", "smac-hyperband": "smac"}
"""Contenders that need a package: skipped (and said so) when it does not import."""

COST_FACTOR = {"random-2x": 2.0}


def available(name: str) -> str | None:
    """``None`` if contender ``name`` can run here, else why not (one line)."""
    module = OPTIONAL.get(name)
    if module is None:
        return None
    try:
        __import__(module)
    except Exception as exc:  # an optional peer may fail in any way on import
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def run_one(problem: CurveProblem, contender: str, seed: int) -> dict[str, Any]:
    """Run one contender on one problem with one seed; its record.

    Returns:
        ``problem``, ``contender``, ``seed``, ``max_cost`` (full trainings), ``trajectory``
        (``[cost in full trainings, wall s, true value, test score, observed value]`` at
        each new incumbent), ``cost`` (full trainings spent), ``early_cost`` (those spent
        on trials stopped before the full budget), ``n_trials``, ``n_full``,
        ``distinct_rows`` (tabular problems: the table rows the trials looked up, else
        ``None``), ``train_s``,
        ``opt_s``, ``info`` and ``error`` (``None``, or the traceback's last line).
    """
    runner = {**CONTENDERS, **ABLATION}[contender]
    factor = COST_FACTOR.get(contender, 1.0)
    tr = Tracker(problem, problem.max_cost * problem.max_step * factor)
    error, info = None, {}
    start = time.perf_counter()
    try:
        info = runner(problem, seed, tr) or {}
    except Exception:  # a contender's crash is recorded, not fatal to the sweep
        error = traceback.format_exc().strip().splitlines()[-1]
    full = problem.max_step
    return {
        "problem": problem.name,
        "contender": contender,
        "seed": seed,
        "max_cost": problem.max_cost,
        "cost_factor": factor,
        "trajectory": tr.trajectory,
        "cost": tr.cost / full,
        "early_cost": tr.early_cost / full,
        "n_trials": tr.n_trials,
        "n_full": tr.n_full,
        "distinct_rows": len(tr.rows) if tr.rows else None,
        "train_s": round(tr.train_s, 3),
        "opt_s": round(tr.opt_s, 3),
        "run_s": round(time.perf_counter() - start, 3),
        "info": info,
        "error": error,
    }


def _key(record: dict[str, Any]) -> tuple[str, str, int]:
    return (record["problem"], record["contender"], int(record["seed"]))


def run(
    problems: Sequence[str],
    contenders: Sequence[str],
    seeds: int | None,
    results: Path,
    shard: tuple[int, int] = (0, 1),
    first_seed: int = 0,
) -> None:
    """Run every missing (problem, contender, seed), appending records as they finish.

    The seeds are ``first_seed`` onwards (``seeds`` of them, or the problem's own count);
    ``shard=(i, k)`` runs only those ``s`` with ``s % k == i`` (for ``k`` processes sharing
    one results file).
    """
    path = results / "runs.jsonl"
    done = {_key(r) for r in store.read(path, key=_key)[0]}
    factories = curve_problems()
    skip = {c: why for c in contenders if (why := available(c)) is not None}
    for c, why in skip.items():
        print(f"skipping {c}: {why}", flush=True)
    for name in problems:
        problem = factories[name]()
        n = problem.seeds if seeds is None else seeds
        for seed in (s for s in range(first_seed, first_seed + n) if s % shard[1] == shard[0]):
            for contender in contenders:
                if contender in skip or (name, contender, seed) in done:
                    continue
                record = run_one(problem, contender, seed)
                record["meta"] = _meta()
                store.append(path, record)
                best = record["trajectory"][-1][2] if record["trajectory"] else math.nan
                print(
                    f"{name} {contender} seed {seed}: best {best:.4g}, {record['n_trials']} "
                    f"trials, opt {record['opt_s']:.1f} s, run {record['run_s']:.1f} s"
                    + (f", ERROR {record['error']}" if record["error"] else ""),
                    flush=True,
                )


PACKAGES = ("bayesopt", "torch", "botorch", "gpytorch", "numpy", "scikit-learn", "optuna",
            "dehb", "smac", "ConfigSpace")  # fmt: skip
"""The packages whose versions a record keeps and the manifest lists."""


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "absent"
    return versions


def _meta() -> dict[str, Any]:
    """The code commit (when the code runs from a git checkout) and the package versions."""
    out: dict[str, Any] = {"versions": _versions()}
    with contextlib.suppress(OSError):
        root = Path(__file__).resolve().parent.parent
        res = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        )
        if res.returncode == 0 and res.stdout.strip():
            out["commit"] = res.stdout.strip()
    return out


# Report ------------------------------------------------------------------------------------------
def incumbent_at(record: dict[str, Any], cost: float) -> float:
    """The noise-free value of a run's incumbent once ``cost`` full trainings are spent
    (on the run's own axis divided by its cost factor); NaN before any full evaluation."""
    value = math.nan
    for c, _, true, _, _ in record["trajectory"]:
        if c / record.get("cost_factor", 1.0) <= cost + 1e-9:
            value = true
    return value


def _incumbent_by_seconds(record: dict[str, Any], seconds: float) -> float:
    value = math.nan
    for _, s, true, _, _ in record["trajectory"]:
        if s <= seconds:
            value = true
    return value


def _final_test(record: dict[str, Any]) -> float:
    return record["trajectory"][-1][3] if record["trajectory"] else math.nan


def _table(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[int, dict[str, Any]]]]:
    """``{problem: {contender: {seed: record}}}``, the last record of each run winning."""
    out: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for r in records:
        out.setdefault(r["problem"], {}).setdefault(r["contender"], {})[int(r["seed"])] = r
    return out


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    return tuple(float(np.quantile(a, q)) for q in (0.25, 0.5, 0.75))  # type: ignore[return-value]


def _fmt(x: float, digits: int = 3) -> str:
    if not math.isfinite(x):
        return "–" if math.isnan(x) else ("∞" if x > 0 else "-∞")
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def _losses_at(
    runs: dict[str, dict[int, dict[str, Any]]], cost: float, worst: float
) -> dict[str, dict[int, float]]:
    """Per contender and seed, the incumbent's value at ``cost`` (``worst`` before any)."""
    out: dict[str, dict[int, float]] = {}
    for name, by_seed in runs.items():
        out[name] = {}
        for seed, r in by_seed.items():
            v = incumbent_at(r, cost)
            out[name][seed] = worst if math.isnan(v) else v
    return out


def checkpoints(max_cost: float) -> list[float]:
    """The costs (full trainings) the tables report: 5, 10, 20 up to ``max_cost``."""
    return [c for c in (2.0, 5.0, 10.0, 20.0) if c <= max_cost + 1e-9]


def _order(names: Sequence[str]) -> list[str]:
    known = [*CONTENDERS, *ABLATION]
    return sorted(names, key=lambda n: known.index(n) if n in known else len(known))


def _problem_section(
    name: str, runs: dict[str, dict[int, dict[str, Any]]], problem: CurveProblem | None, fig: str
) -> tuple[list[str], dict[str, Any]]:
    lines = [f"### {name}", ""]
    if problem is not None:
        lines += [problem.description + ".", ""]
    all_true = [t[2] for by in runs.values() for r in by.values() for t in r["trajectory"]]
    worst = max(all_true, default=1.0) + 1.0
    max_cost = max(r["max_cost"] for by in runs.values() for r in by.values())
    cps = checkpoints(max_cost)
    names = _order(list(runs))
    head = "| contender | seeds | " + " | ".join(f"cost {c:g}" for c in cps)
    head += " | test score | stopped early | trials | optimiser CPU s |"
    lines += [
        "Incumbent value (noise-free, lower is better) after a cost of c full trainings: "
        "median [q1, q3] over seeds ('–': no full-budget evaluation yet). Test score: "
        "the final incumbent's test "
        + ("accuracy" if problem is None or problem.kind != "synthetic" else "value, negated")
        + "; stopped early: the share of the cost spent on trials that did not reach the "
        "full budget; trials: median trials started"
        + (
            " (in brackets, the distinct tabulated configurations they looked up)."
            if any(r.get("distinct_rows") is not None for by in runs.values() for r in by.values())
            else "."
        ),
        "",
        head,
        "|" + "---|" * (len(cps) + 6),
    ]
    summary: dict[str, Any] = {"medians": {}, "worst": worst}
    for n in names:
        by_seed = runs[n]
        cells = []
        for c in cps:
            vals = [incumbent_at(r, c) for r in by_seed.values()]
            filled = [worst if math.isnan(v) else v for v in vals]
            q1, med, q3 = _quartiles(filled)
            summary["medians"].setdefault(n, {})[c] = med
            show = lambda v: "–" if v >= worst else _fmt(v)  # noqa: E731
            cells.append(f"{show(med)} [{show(q1)}, {show(q3)}]")
        tests = [_final_test(r) for r in by_seed.values()]
        test = float(np.nanmedian(tests)) if any(np.isfinite(tests)) else math.nan
        early = np.mean([r["early_cost"] / max(r["cost"], 1e-12) for r in by_seed.values()])
        trials = f"{np.median([r['n_trials'] for r in by_seed.values()]):g}"
        looked_up = [r.get("distinct_rows") for r in by_seed.values()]
        if all(v is not None for v in looked_up):
            trials += f" ({np.median(looked_up):g})"
        opt_s = np.median([r["opt_s"] for r in by_seed.values()])
        errors = sum(r["error"] is not None for r in by_seed.values())
        label = (
            f"{n}"
            + (" (default)" if n == DEFAULT else "")
            + (f" ({errors} errors)" if errors else "")
        )
        lines.append(
            f"| {label} | {len(by_seed)} | " + " | ".join(cells)
            + f" | {_fmt(test)} | {early:.0%} | {trials} | {opt_s:.1f} |"
        )  # fmt: skip
    lines += ["", f"![{name}]({fig})", ""]
    # Paired comparisons of the default against every other contender.
    if DEFAULT in runs:
        rows = []
        for c in cps[-2:]:
            losses = _losses_at(runs, c, worst)
            mine = losses[DEFAULT]
            comps = {}
            for other in names:
                if other == DEFAULT:
                    continue
                seeds = sorted(set(mine) & set(losses[other]))
                if len(seeds) < 2:
                    continue
                comps[other] = stats.compare(
                    [mine[s] for s in seeds], [losses[other][s] for s in seeds]
                )
            outcomes = stats.holm_outcomes(comps) if comps else {}
            for other, comp in comps.items():
                rows.append((c, other, outcomes[other], comp))
            summary.setdefault("outcomes", {})[c] = {k: v.value for k, v in outcomes.items()}
        if rows:
            lines += [
                f"{DEFAULT} against each contender (paired two-sided Wilcoxon over seeds, "
                "Holm-corrected over the contenders at each cost; win: the default's "
                "incumbent is better):",
                "",
                "| cost | contender | outcome | p | pairs |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {c:g} | {o} | {out.value} | {comp.p_value:.2g} | {comp.n_pairs} |"
                for c, o, out, comp in rows
            ]
            lines.append("")
    return lines, summary


def _figure(
    name: str,
    runs: dict[str, dict[int, dict[str, Any]]],
    path: Path,
    optimum: float | None,
    *,
    seconds: bool = False,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    all_true = [t[2] for by in runs.values() for r in by.values() for t in r["trajectory"]]
    worst = max(all_true, default=1.0) + 1.0
    for n in _order(list(runs)):
        by_seed = list(runs[n].values())
        if seconds:
            top = max(r["train_s"] + r["opt_s"] for r in by_seed)
            grid = np.geomspace(max(top / 1000, 1e-2), max(top, 1e-1), 120)
            vals = np.array([[_incumbent_by_seconds(r, g) for g in grid] for r in by_seed])
        else:
            grid = np.linspace(0.0, by_seed[0]["max_cost"], 200)[1:]
            vals = np.array([[incumbent_at(r, g) for g in grid] for r in by_seed])
        filled = np.where(np.isnan(vals), worst, vals)
        q1, med, q3 = np.quantile(filled, [0.25, 0.5, 0.75], axis=0)
        shown = med < worst
        if optimum is not None:  # simple regret, floored for the log scale
            q1, med, q3 = (np.maximum(q - optimum, 1e-4) for q in (q1, med, q3))
        style = "-" if n.startswith("bayesopt") else "--"
        width = 2.2 if n == DEFAULT else 1.2
        (line,) = ax.plot(grid[shown], med[shown], style, lw=width, label=n)
        ok = np.quantile(filled, 0.75, axis=0) < worst
        ax.fill_between(grid[ok], q1[ok], q3[ok], color=line.get_color(), alpha=0.12)
    ax.set_xlabel(
        "wall-clock seconds (training + optimiser)" if seconds else "cost (full trainings)"
    )
    if seconds:
        ax.set_xscale("log")
    what = "simple regret" if optimum is not None else "value"
    ax.set_ylabel(f"incumbent's {what} (median, quartiles)")
    ax.set_yscale("log")
    ax.set_title(name)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: Path, command: str) -> Path:
    """Write ``REPORT.md`` and its figures from ``<results>/runs.jsonl``."""
    records, _ = store.read(results / "runs.jsonl", key=_key)
    table = _table(records)
    factories = curve_problems()
    out = [
        "# Multi-fidelity benchmark",
        "",
        f"Made by `{command}` (runs by `python -m benchmarks.multifidelity run`).",
        "",
    ]
    out += _manifest(records)
    out += [_method(), ""]
    summaries = {}
    order = [n for n in factories if n in table] + [n for n in table if n not in factories]
    for name in order:
        problem = factories[name]() if name in factories else None
        optimum = None if problem is None else problem.optimum
        fig = f"{name}.png"
        _figure(name, table[name], results / fig, optimum)
        lines, summaries[name] = _problem_section(name, table[name], problem, fig)
        if problem is not None and problem.kind == "tabular":
            _figure(name, table[name], results / f"{name}-seconds.png", optimum, seconds=True)
            lines += [f"![{name}, seconds]({name}-seconds.png)", ""]
        out += lines
    out += _goal(summaries.get("digits-mlp"))
    notes = results / "notes.md"  # the discussion, written by hand after reading the tables
    if notes.exists():
        out += [notes.read_text().rstrip(), ""]
    path = results / "REPORT.md"
    path.write_text("\n".join(out) + "\n")
    (results / "summary.json").write_text(json.dumps(summaries, indent=1, default=str) + "\n")
    return path


def _goal(summary: dict[str, Any] | None) -> list[str]:
    """Whether the default beat every contender's median at a cost of 20 full trainings on
    the tabular benchmark, and full-budget bayesopt at 10, as measured."""
    if not summary or DEFAULT not in summary["medians"]:
        return []
    medians = summary["medians"]
    lines = ["## The goal, measured", ""]
    field = [n for n in medians if n != DEFAULT and n in CONTENDERS]  # not the ablation
    for cost, rivals in ((20.0, field), (10.0, ["bayesopt"])):
        mine = medians[DEFAULT].get(cost)
        if mine is None:
            continue
        beaten = [n for n in rivals if cost in medians.get(n, {}) and mine < medians[n][cost]]
        lost = [n for n in rivals if cost in medians.get(n, {}) and mine >= medians[n][cost]]
        verdict = "met" if not lost else "not met"
        lines.append(
            f"- digits-mlp, cost {cost:g}: {DEFAULT} median {_fmt(mine)}; lower than "
            f"{len(beaten)} of {len(beaten) + len(lost)} contenders' medians ({verdict}"
            + (": not lower than " + ", ".join(f"{n} ({_fmt(medians[n][cost])})" for n in lost)
               if lost else "")
            + ")."
        )  # fmt: skip
    return [*lines, ""]


def _manifest(records: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, set[str]] = {}
    for r in records:
        for pkg, version in r.get("meta", {}).get("versions", {}).items():
            seen.setdefault(pkg, set()).add(version)
    if seen:
        kept = sum(bool(r.get("meta", {}).get("versions")) for r in records)
        whose = (
            "the records"
            if kept == len(records)
            else f"the {kept} of {len(records)} records that keep them"
        )
        versions = f"- versions (as {whose} say): " + ", ".join(
            f"{pkg} {' / '.join(sorted(v))}" for pkg, v in seen.items()
        )
    else:  # records made before they kept versions
        versions = "- versions (installed when this report was made; the records keep none): " + (
            ", ".join(f"{k} {v}" for k, v in _versions().items())
        )
    commits = sorted({c for r in records if (c := r.get("meta", {}).get("commit"))})
    untracked = sum(not r.get("meta", {}).get("commit") for r in records)
    code = f"- code: commit(s) {', '.join(commits) or 'none recorded'}"
    if untracked:
        code += f" ({untracked} runs from a copy of the code: `commands.log` names its commit)"
    run_s = sum(r["run_s"] for r in records)
    return [
        "## Manifest",
        "",
        code + " plus the working tree of the report",
        versions,
        f"- Python {platform.python_version()} on {platform.machine()} Linux; one process, "
        "one thread per run",
        f"- runs: {len(records)}, {run_s / 3600:.2f} CPU-hours of run time in all",
        "",
    ]


def _method() -> str:
    return (
        "## Method\n\n"
        "Each run spends a cost budget of full trainings one step at a time and stops when "
        "the next step would exceed it. The score at a cost c is the noise-free value of the "
        "incumbent (the best observed full-budget evaluation) once c is spent; before any "
        "full-budget evaluation a run counts as worse than every value seen (shown as "
        "'–'). Trials that continue (bayesopt's pruners and BOHB-style model, Optuna's "
        "pruners) pay only for their new steps; DEHB, SMAC and bayesopt's multi-fidelity GP "
        "start each evaluation afresh and pay for all of its steps. random-2x is random "
        "search with twice the cost budget, drawn from another seed, plotted at half its "
        "cost. Wall-clock seconds are the training seconds (tabulated CPU seconds of one "
        "thread for the tabular benchmark, measured for live tasks, none for synthetic "
        "functions) plus the optimiser's own CPU seconds."
    )


# CLI ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.multifidelity run|report``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.multifidelity")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the missing (problem, contender, seed) runs")
    r.add_argument("--problems", nargs="+", default=list(curve_problems()))
    r.add_argument("--contenders", nargs="+", default=list(CONTENDERS))
    r.add_argument("--seeds", type=int, default=None, help="seeds per problem (default: its own)")
    r.add_argument("--results", type=Path, default=RESULTS)
    r.add_argument(
        "--first-seed", type=int, default=0,
        help="the first seed (default: 0; the report's seeds start at 0, tuning uses 100 on)",
    )  # fmt: skip
    r.add_argument("--shard", default="0/1", help="i/k: run the seeds s with s %% k == i")
    p = sub.add_parser("report", help="write REPORT.md and the figures")
    p.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    if args.command == "run":
        unknown = [c for c in args.contenders if c not in CONTENDERS and c not in ABLATION]
        if unknown:
            parser.error(f"unknown contenders {unknown}; known: {[*CONTENDERS, *ABLATION]}")
        i, _, k = args.shard.partition("/")
        shard = (int(i), int(k or 1))
        run(args.problems, args.contenders, args.seeds, args.results, shard, args.first_seed)
    else:
        command = "python -m benchmarks.multifidelity " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
        )
        print(write_report(args.results, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
