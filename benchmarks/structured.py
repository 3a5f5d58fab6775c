"""The ``structured`` benchmark: optimisers on conditional search spaces, and the ablation
of bayesopt's treatment of them.

```bash
python -m benchmarks.structured run                      # the committed grid; resumable
python -m benchmarks.structured run --problems jenatton --contenders bayesopt --seeds 0-2
python -m benchmarks.structured report                   # REPORT.md, curves.png, manifest
```

``run`` appends one JSON line per (problem, contender, seed) cell to
``benchmarks/results/structured/runs.jsonl`` as soon as the cell is done, and skips cells
already there; it runs the cells one after the other in this process. ``report`` writes
``REPORT.md``, ``curves.png``, ``ablation.png`` and ``manifest.json`` next to it.

Problems: ``benchmarks.problems.structured`` (three synthetic trees with known optima, CASH
on four bundled data sets). Contenders, all told the same objective values:

* ``random``, ``random-2x``: ``bayesopt.RandomSearch`` with the budget and twice it;
* ``optuna-tpe``: Optuna's TPE, define-by-run (a parameter is suggested only when it is
  active), ``multivariate=True, group=True``, the setting Optuna recommends for
  conditional spaces;
* ``optuna-gp``: Optuna's ``GPSampler``, define-by-run (its GP covers the parameters every
  trial has; the others are sampled at random, Optuna's documented fallback);
* ``smac``: SMAC3's hyperparameter-optimisation facade (random forest) with the conditions
  as ConfigSpace conditions (when ``smac`` is importable);
* ``bayesopt``: ``bayesopt.Optimizer`` with its defaults on the conditional space;
* the ablation variants (``VARIANTS``): the same optimiser on the flattened space
  (every parameter always active, the objective reading the active ones; what one does
  without conditional parameters), without per-branch starts of the acquisition search,
  and with two other kernels: an activity-indicator kernel and the arc kernel of Swersky
  et al. (2014).

The loss compared is the final log10 simple regret on problems with a known optimum and
the final cross-validated error on CASH; paired two-sided Wilcoxon tests over seeds with
Holm's correction across problems (``benchmarks.stats``), and mean ranks.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gpytorch.kernels import Kernel
from torch import Tensor

import bayesopt as bo
from bayesopt import gp
from bayesopt.propose import ProposeOptions
from bayesopt.space import Categorical, Integer, Real, Space
from benchmarks import stats, store
from benchmarks.cell import budget_trace, library_versions, log10_regret
from benchmarks.problems.base import Problem
from benchmarks.problems.structured import CashTask, structured_problems, tuning_set

__all__ = ["CONTENDERS", "VARIANTS", "main", "run_cell", "write_report"]

RESULTS = Path(__file__).resolve().parent / "results" / "structured"
PACKAGES = ("torch", "botorch", "gpytorch", "numpy", "scipy", "scikit-learn", "optuna", "smac")
STYLES = {
    "bayesopt": ("tab:blue", "-"),
    "optuna-tpe": ("tab:orange", "-."),
    "optuna-gp": ("tab:red", "-."),
    "smac": ("tab:green", "-."),
    "random": ("0.45", "--"),
    "random-2x": ("0.15", ":"),
    "bayesopt-flat": ("tab:brown", "--"),
    "bayesopt-nobranch": ("tab:cyan", "--"),
    "bayesopt-indicator": ("tab:purple", "--"),
    "bayesopt-arc": ("tab:pink", "--"),
    "bayesopt-perbranch": ("tab:olive", "--"),
}
MAIN = ("bayesopt", "optuna-tpe", "optuna-gp", "smac", "random", "random-2x")
VARIANTS = (
    "bayesopt-flat",
    "bayesopt-nobranch",
    "bayesopt-indicator",
    "bayesopt-arc",
    "bayesopt-perbranch",
)
CONTENDERS = MAIN + VARIANTS
DEFAULT_SEEDS = tuple(range(10))


# Sessions -------------------------------------------------------------------------------------
class Session:
    """One run: ``ask() -> params`` (active parameters only) and ``tell(value)``."""

    def ask(self) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, value: float) -> None:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        return {}


class AskTellSession(Session):
    """A bayesopt optimiser; ``project`` maps its params to the problem's (flat space)."""

    def __init__(
        self,
        opt: bo.Optimizer | bo.RandomSearch,
        project: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.opt = opt
        self.project = project or (lambda p: p)
        self.trial: bo.Trial | None = None
        self.sources: dict[str, int] = {}
        self.fallbacks = 0

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bo.FallbackWarning)
            self.trial = self.opt.ask()
        self.fallbacks += sum(isinstance(w.message, bo.FallbackWarning) for w in caught)
        src = self.trial.source.value
        self.sources[src] = self.sources.get(src, 0) + 1
        return self.project(dict(self.trial.params))

    def tell(self, value: float) -> None:
        assert self.trial is not None
        self.opt.tell(self.trial, value)

    def info(self) -> dict[str, Any]:
        return {"sources": self.sources, "fallbacks": self.fallbacks}


def root_parameter(space: Space) -> str | None:
    """The unconditional categorical that the most conditions test directly, or ``None``."""
    counts = {
        name: sum(1 for q in space.values() if q.when and name in q.when)
        for name, p in space.items()
        if isinstance(p, Categorical) and not p.when
    }
    best = max(counts, key=lambda n: counts[n], default=None)
    return best if best is not None and counts[best] > 0 else None


def branch_space(space: Space, root: str, value: Any) -> Space | None:
    """The parameters that can be active when ``root == value``, with the test on ``root``
    dropped from their conditions; ``None`` when there are none."""
    kept: dict[str, Any] = {}
    grew = True
    while grew:
        grew = False
        for name, p in space.items():
            if name == root or name in kept:
                continue
            when = dict(p.when or {})
            if root in when and value not in when.pop(root).values:
                continue
            if all(parent in kept for parent in when):
                kept[name] = dataclasses.replace(p, when=when or None)
                grew = True
    return Space({n: kept[n] for n in space.names if n in kept}) if kept else None


class PerBranchSession(Session):
    """One GP optimiser per value of the root choice and a bandit over the values, as
    SMAC and BOHB treat a top-level categorical branch.

    Each value of ``root_parameter(space)`` gets its own ``bayesopt.Optimizer`` on
    ``branch_space`` (seeded apart). The bandit first takes every value once, in order,
    then the one with the lowest ``best_k - spread * sqrt(2 ln N / n_k)`` (UCB1 on each
    branch's best value, ``spread`` the interquartile range of every finite value so far,
    ``n_k`` the branch's trials and ``N`` all trials). A branch without parameters is one
    point, asked again only when the bandit picks it.
    """

    def __init__(self, space: Space, seed: int) -> None:
        root = root_parameter(space)
        if root is None:
            raise ValueError("PerBranchSession: the space has no root choice with conditions.")
        self.root = root
        self.choices = list(space[root].choices)
        self.spaces = [branch_space(space, root, v) for v in self.choices]
        self.opts = [
            None if sub is None else bo.Optimizer(sub, seed=seed * 1009 + i)
            for i, sub in enumerate(self.spaces)
        ]
        self.values: list[list[float]] = [[] for _ in self.choices]
        self.current: tuple[int, bo.Trial | None] | None = None
        self.fallbacks = 0

    def _pick(self) -> int:
        counts = [len(v) for v in self.values]
        for k, c in enumerate(counts):
            if c == 0:
                return k
        finite = [x for vs in self.values for x in vs if math.isfinite(x)]
        if not finite:
            return int(np.argmin(counts))
        q1, q3 = np.quantile(finite, [0.25, 0.75])
        spread = float(q3 - q1) or 1.0
        total = sum(counts)
        index = [
            min((x for x in vs if math.isfinite(x)), default=max(finite))
            - spread * math.sqrt(2 * math.log(total) / len(vs))
            for vs in self.values
        ]
        return int(np.argmin(index))

    def ask(self) -> dict[str, Any]:
        k = self._pick()
        opt = self.opts[k]
        trial = None
        params: dict[str, Any] = {}
        if opt is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", bo.FallbackWarning)
                trial = opt.ask()
            self.fallbacks += sum(isinstance(w.message, bo.FallbackWarning) for w in caught)
            params = dict(trial.params)
        self.current = (k, trial)
        return {self.root: self.choices[k], **params}

    def tell(self, value: float) -> None:
        assert self.current is not None
        k, trial = self.current
        if trial is not None:
            self.opts[k].tell(trial, value)  # type: ignore[union-attr]
        self.values[k].append(value)

    def info(self) -> dict[str, Any]:
        return {
            "branches": {str(c): len(v) for c, v in zip(self.choices, self.values, strict=True)},
            "fallbacks": self.fallbacks,
        }


def define_by_run(space: Space, suggest: Callable[[str, Any], Any]) -> dict[str, Any]:
    """Suggest the active parameters of ``space``, parents first, as a define-by-run
    objective does."""
    params: dict[str, Any] = {}
    grew = True
    while grew:
        grew = False
        for name in space.names:
            if name not in params and name in space.active_names(params):
                params[name] = suggest(name, space[name])
                grew = True
    return {k: params[k] for k in space.names if k in params}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class OptunaSession(Session):
    """An Optuna study asked define-by-run (``study.ask()`` then ``trial.suggest_*``)."""

    def __init__(self, space: Space, sampler: Any) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        self.optuna = optuna
        self.space = space
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.trial: Any = None

    def _suggest(self, name: str, p: Any) -> Any:
        if isinstance(p, Real):
            return self.trial.suggest_float(name, p.low, p.high, log=p.log)
        if isinstance(p, Integer):
            return self.trial.suggest_int(name, p.low, p.high, log=p.log)
        return self.trial.suggest_categorical(name, list(p.choices))

    def ask(self) -> dict[str, Any]:
        self.trial = self.study.ask()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return define_by_run(self.space, self._suggest)

    def tell(self, value: float) -> None:
        if math.isfinite(value):
            self.study.tell(self.trial, value)
        else:
            self.study.tell(self.trial, state=self.optuna.trial.TrialState.FAIL)


class SmacSession(Session):
    """SMAC3's hyperparameter-optimisation facade with ConfigSpace conditions."""

    def __init__(self, space: Space, seed: int, budget: int) -> None:
        from smac import HyperparameterOptimizationFacade, Scenario

        self.space = space
        self._dir = tempfile.TemporaryDirectory()
        scenario = Scenario(
            configspace_of(space, seed),
            deterministic=True,
            n_trials=budget,
            seed=seed,
            output_directory=Path(self._dir.name) / "smac",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.smac = HyperparameterOptimizationFacade(
                scenario,
                target_function=lambda config, seed=0: 0.0,
                overwrite=True,
                logging_level=40,
            )
        self.info_: Any = None

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.info_ = self.smac.ask()
        return self.space.validate({k: _plain(v) for k, v in dict(self.info_.config).items()})

    def tell(self, value: float) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        if math.isfinite(value):
            result = TrialValue(cost=value)
        else:
            result = TrialValue(cost=math.inf, status=StatusType.CRASHED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.smac.tell(self.info_, result)


def configspace_of(space: Space, seed: int) -> Any:
    """A ConfigSpace with the parameters and conditions of ``space``."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    hps: dict[str, Any] = {}
    for name, p in space.items():
        if isinstance(p, Real):
            hps[name] = CS.Float(name, (p.low, p.high), log=p.log)
        elif isinstance(p, Integer):
            hps[name] = CS.Integer(name, (p.low, p.high), log=p.log)
        else:
            hps[name] = CS.Categorical(name, list(p.choices))
    cs.add(list(hps.values()))
    for name, p in space.items():
        conds = []
        for parent, allowed in p.when.items():
            values = list(allowed.values)
            if len(values) == 1:
                conds.append(CS.EqualsCondition(hps[name], hps[parent], values[0]))
            else:
                conds.append(CS.InCondition(hps[name], hps[parent], values))
        if len(conds) == 1:
            cs.add(conds[0])
        elif conds:
            cs.add(CS.AndConjunction(*conds))
    return cs


# Kernel variants (ablation) -------------------------------------------------------------------
class IndicatorKernel(Kernel):
    """A Hamming kernel over the activity indicators of the conditional parameters, one
    indicator per distinct condition: ``exp(-mean_g [a_g(x) != a_g(x')] / l_g)``.
    Multiplied with the default kernel, it lets the GP learn how much two points whose
    sets of active parameters differ have in common."""

    def __init__(self, space: Space) -> None:
        from botorch.models.kernels.categorical import CategoricalKernel
        from gpytorch.constraints import GreaterThan

        super().__init__()
        seen: dict[Any, int] = {}
        for i, (_, p) in enumerate(space.items()):
            if p.when and p.when not in seen:
                seen[p.when] = i
        self.mask = space.active_mask
        self.columns = list(seen.values())
        self.hamming = CategoricalKernel(
            ard_num_dims=len(self.columns), lengthscale_constraint=GreaterThan(1e-6)
        )

    def _features(self, X: Tensor) -> Tensor:
        return self.mask(X.detach())[..., self.columns].to(X)

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, **params: Any) -> Tensor:
        return self.hamming.forward(self._features(x1), self._features(x2), diag=diag, **params)


class ArcKernel(Kernel):
    """The arc kernel of Swersky et al. (2014) over the non-categorical coordinates.

    An unconditional coordinate enters as ``u / l``; a conditional one as the point
    ``(sin(pi rho u), cos(pi rho u)) / (pi rho l)`` of an arc when active and the arc's
    centre when inactive, so that nearby active values are ``|u - u'| / l`` apart and an
    inactive point lies ``1 / (pi rho l)`` from every active one (``rho`` in (0.05, 1]
    learned per coordinate). A Matérn-5/2 of the Euclidean distance of these embeddings.
    """

    def __init__(self, space: Space) -> None:
        from gpytorch.constraints import GreaterThan, Interval

        from bayesopt.gp.priors import BoundedLengthscalePrior

        super().__init__()
        params = list(space.values())
        self.ordinal = [i for i, p in enumerate(params) if not isinstance(p, Categorical)]
        self.mask = space.active_mask
        self.conditional = [k for k, i in enumerate(self.ordinal) if params[i].when]
        self.register_parameter("raw_ls", torch.nn.Parameter(torch.zeros(len(self.ordinal))))
        self.register_constraint("raw_ls", GreaterThan(1e-3, transform=None, initial_value=1.0))
        self.register_prior("ls_prior", BoundedLengthscalePrior(), lambda m: m.ls)
        self.register_parameter(
            "raw_rho", torch.nn.Parameter(torch.zeros(max(1, len(self.conditional))))
        )
        self.register_constraint("raw_rho", Interval(0.05, 1.0))
        with torch.no_grad():
            self.raw_ls.fill_(1.0)

    @property
    def ls(self) -> Tensor:
        """The lengthscales of the non-categorical coordinates."""
        return self.raw_ls_constraint.transform(self.raw_ls)

    def _embed(self, X: Tensor) -> Tensor:
        U = X[..., self.ordinal]
        ell = self.ls.reshape(-1)
        parts = [U / ell]
        if self.conditional:
            k = self.conditional
            active = self.mask(X.detach())[..., self.ordinal][..., k].to(X)
            rho = self.raw_rho_constraint.transform(self.raw_rho)[: len(k)]
            radius = 1.0 / (math.pi * rho * ell[k])
            theta = math.pi * rho * U[..., k]
            keep = torch.ones(U.shape[-1], dtype=torch.bool, device=X.device)
            keep[k] = False
            parts = [
                (U / ell)[..., keep],
                active * radius * torch.sin(theta),
                active * radius * torch.cos(theta),
            ]
        return torch.cat(parts, dim=-1)

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, **params: Any) -> Tensor:
        e1, e2 = self._embed(x1), self._embed(x2)
        if diag:
            r2 = ((e1 - e2) ** 2).sum(-1)
        else:
            r2 = ((e1.unsqueeze(-2) - e2.unsqueeze(-3)) ** 2).sum(-1)
        r = r2.clamp_min(1e-30).sqrt()
        s5 = math.sqrt(5.0) * r
        return (1.0 + s5 + 5.0 / 3.0 * r2) * torch.exp(-s5)


def structured_fit(space: Space, kind: str) -> Callable[..., Any]:
    """A ``gp.fit`` whose kernel is the default one times ``IndicatorKernel`` (``kind =
    "indicator"``) or ``ArcKernel`` times the categorical kernel (``"arc"``)."""
    from gpytorch.kernels import ProductKernel, ScaleKernel

    from bayesopt._rng import seeded_torch

    def fit(X: Tensor, y: Tensor, *, cat_dims: Sequence[int] = (), seed: int = 0, options=None):
        options = options or gp.ModelOptions()
        with warnings.catch_warnings(), gp.exact():
            warnings.simplefilter("ignore")
            model = gp.build(X, y, cat_dims=cat_dims, options=options)
            outer = model.covar_module
            base = outer.base_kernel if isinstance(outer, ScaleKernel) else outer
            if kind == "indicator":
                new = ProductKernel(base, IndicatorKernel(space))
            else:
                cat = [
                    k
                    for k in getattr(base, "kernels", [base])
                    if k.__class__.__name__ == "CategoricalKernel"
                ]
                new = ProductKernel(ArcKernel(space), *cat) if cat else ArcKernel(space)
            new = new.to(X)
            if isinstance(outer, ScaleKernel):
                outer.base_kernel = new
            else:
                model.covar_module = new
            with seeded_torch(seed):
                gp.map_fit(model, maxiter=options.fit_maxiter)
        model.eval()
        if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
            raise gp.SurrogateError("GP fit produced non-finite hyperparameters")
        return model

    return fit


class _GP:
    """The ``bayesopt.gp`` namespace with ``fit`` replaced."""

    def __init__(self, fit: Callable[..., Any]) -> None:
        self.fit = fit

    def __getattr__(self, name: str) -> Any:
        return getattr(gp, name)


class KernelVariant(bo.Optimizer):
    """``bayesopt.Optimizer`` whose asks fit ``structured_fit(space, kind)`` instead of
    the default GP (the ask's ``gp`` namespace is swapped for the duration of the ask, in
    this process only)."""

    def __init__(self, space: Space, *, kind: str, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        self._fit = structured_fit(space, kind)

    def _propose(self, *args: Any, **kwargs: Any) -> Any:
        import bayesopt.optimizer as module

        saved = module.gp
        module.gp = _GP(self._fit)  # type: ignore[assignment]
        try:
            return super()._propose(*args, **kwargs)
        finally:
            module.gp = saved


def flatten(space: Space) -> Space:
    """``space`` with every condition dropped (every parameter always active)."""
    return Space({k: dataclasses.replace(p, when=None) for k, p in space.items()})


# Contenders -----------------------------------------------------------------------------------
def make_session(name: str, problem: Problem, seed: int) -> Session:
    """A fresh, seeded session of contender ``name`` on ``problem``."""
    space = problem.space
    if name in ("random", "random-2x"):
        return AskTellSession(bo.RandomSearch(space, seed=seed))
    if name == "bayesopt":
        return AskTellSession(bo.Optimizer(space, seed=seed))
    if name == "bayesopt-nobranch":
        options = ProposeOptions(branch_starts=0)
        return AskTellSession(bo.Optimizer(space, seed=seed, propose_options=options))
    if name == "bayesopt-flat":
        flat = flatten(space)

        def project(p: dict[str, Any]) -> dict[str, Any]:
            return {k: p[k] for k in space.active_names(p)}

        return AskTellSession(bo.Optimizer(flat, seed=seed), project)
    if name == "bayesopt-perbranch":
        return PerBranchSession(space, seed)
    if name in ("bayesopt-indicator", "bayesopt-arc"):
        kind = name.split("-")[1]
        return AskTellSession(KernelVariant(space, kind=kind, seed=seed))
    if name == "optuna-tpe":
        import optuna

        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        return OptunaSession(space, sampler)
    if name == "optuna-gp":
        import optuna

        return OptunaSession(space, optuna.samplers.GPSampler(seed=seed))
    if name == "smac":
        return SmacSession(space, seed, problem.budget)
    raise KeyError(f"unknown contender {name!r}; known: {list(CONTENDERS)}")


def available(name: str) -> bool:
    """Whether the contender's library is importable."""
    import importlib.util

    module = {"optuna-tpe": "optuna", "optuna-gp": "optuna", "smac": "smac"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def run_cell(problem: Problem, contender: str, seed: int) -> dict[str, Any]:
    """Run one (problem, contender, seed) cell and return its record."""
    factor = 2 if contender == "random-2x" else 1
    n = problem.budget * factor
    session = make_session(contender, problem, seed)
    values: list[float] = []
    params_seen: list[dict[str, Any]] = []
    ask_cpu = eval_cpu = 0.0
    cpu0, wall0 = time.process_time(), time.time()
    for _ in range(n):
        t = time.process_time()
        params = session.ask()
        ask_cpu += time.process_time() - t
        t = time.process_time()
        value = float(problem.fn(params))
        eval_cpu += time.process_time() - t
        session.tell(value)
        values.append(value if math.isfinite(value) else math.nan)
        params_seen.append(params)
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    best_value, best_i = min(finite) if finite else (math.nan, -1)
    record: dict[str, Any] = {
        "problem": problem.name,
        "contender": contender,
        "seed": seed,
        "budget": problem.budget,
        "values": values,
        "trace": budget_trace(values, problem.budget, factor),
        "final": best_value,
        "best_params": {k: _plain(v) for k, v in params_seen[best_i].items()}
        if best_i >= 0
        else None,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.time() - wall0,
        "ask_cpu_s": ask_cpu,
        "eval_cpu_s": eval_cpu,
        "info": session.info(),
    }
    if problem.optimum is not None:
        record["log10_regret"] = log10_regret(best_value, problem.optimum)
    if isinstance(problem.fn, CashTask) and best_i >= 0:
        record["test_loss"] = problem.fn.test_loss(params_seen[best_i])
        record["branch"] = params_seen[best_i]["learner"]
    return record


# Running --------------------------------------------------------------------------------------
def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _command(args: argparse.Namespace) -> str:
    """The ``run`` command as typed (``--results`` only when not the default)."""
    parts = ["python -m benchmarks.structured"]
    if Path(args.results).resolve() != RESULTS:
        parts += ["--results", str(args.results)]
    parts.append("run")
    for flag in ("problems", "contenders"):
        if getattr(args, flag):
            parts += [f"--{flag}", getattr(args, flag)]
    parts += ["--seeds", args.seeds]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    """Run the missing cells of the grid, appending each record as it finishes."""
    problems = {p.name: p for p in structured_problems()}
    names = args.problems.split(",") if args.problems else list(problems)
    contenders = args.contenders.split(",") if args.contenders else list(CONTENDERS)
    unknown = [n for n in names if n not in problems] + [
        c for c in contenders if c not in CONTENDERS
    ]
    if unknown:
        print(f"unknown problems or contenders: {unknown}", file=sys.stderr)
        return 2
    skipped = [c for c in contenders if not available(c)]
    for c in skipped:
        print(f"skipping {c}: its library is not installed", file=sys.stderr)
    contenders = [c for c in contenders if c not in skipped]
    out = Path(args.results) / "runs.jsonl"
    done = {store.run_key(r) for r in store.read_runs(out)}
    cells = [
        (p, c, s)
        for s in _seeds(args.seeds)
        for p in names
        for c in contenders
        if (p, c, s) not in done
    ]
    log = Path(args.results) / "commands.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M')} {_command(args)}\n")
    meta = {"versions": library_versions(PACKAGES), "commit": _commit()}
    for k, (p, c, s) in enumerate(cells, 1):
        record = run_cell(problems[p], c, s) | meta
        store.append(out, record, strict=False)
        print(
            f"[{k}/{len(cells)}] {p} {c} seed {s}: final {record['final']:.4g} "
            f"({record['cpu_s']:.1f} CPU s)",
            flush=True,
        )
    return 0


# Report ---------------------------------------------------------------------------------------
def loss_of(record: dict[str, Any]) -> float:
    """The loss compared: final log10 regret (known optimum) or the final CV error."""
    return float(record.get("log10_regret", record["final"]))


def _table(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[int, dict[str, Any]]]]:
    """``{problem: {contender: {seed: record}}}`` (the last record of a cell wins)."""
    out: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for r in records:
        out.setdefault(r["problem"], {}).setdefault(r["contender"], {})[r["seed"]] = r
    return out


def _paired(cells: dict[str, dict[int, dict[str, Any]]], a: str, b: str) -> tuple[list, list]:
    seeds = sorted(set(cells.get(a, {})) & set(cells.get(b, {})))
    return [loss_of(cells[a][s]) for s in seeds], [loss_of(cells[b][s]) for s in seeds]


def _comparisons(
    table: dict[str, dict[str, dict[int, dict[str, Any]]]], a: str, others: Sequence[str]
) -> tuple[dict[str, dict[str, stats.Comparison]], dict[str, dict[str, stats.Outcome]]]:
    """``a`` against each of ``others`` on every problem: raw and Holm-corrected (the
    family: one pair of contenders over the problems)."""
    raw: dict[str, dict[str, stats.Comparison]] = {}
    holm: dict[str, dict[str, stats.Outcome]] = {}
    for b in others:
        fam = {}
        for prob, cells in table.items():
            if a in cells and b in cells:
                x, y = _paired(cells, a, b)
                if x:
                    fam[prob] = stats.compare(x, y)
        raw[b] = fam
        holm[b] = stats.holm_outcomes(fam) if fam else {}
    return raw, holm


def _mean_ranks(
    table: dict[str, dict[str, dict[int, dict[str, Any]]]], names: Sequence[str]
) -> dict[str, float]:
    losses = {}
    for prob, cells in table.items():
        present = [n for n in names if n in cells]
        if len(present) < len(names):
            continue
        seeds = sorted(set.intersection(*(set(cells[n]) for n in present)))
        if seeds:
            losses[prob] = {n: [loss_of(cells[n][s]) for s in seeds] for n in present}
    return stats.mean_ranks(losses)


def write_report(results: Path, command: str) -> Path:
    """``REPORT.md``, ``curves.png``, ``ablation.png`` and ``manifest.json`` from the
    records in ``results/runs.jsonl``."""
    records = store.read_runs(results / "runs.jsonl")
    table = _table(records)
    problems = {p.name: p for p in structured_problems()}
    order = [p for p in problems if p in table]
    main = [c for c in MAIN if any(c in table[p] for p in order)]
    variants = [c for c in VARIANTS if any(c in table[p] for p in order)]
    seeds = sorted({r["seed"] for r in records})
    lines = [
        "# Structured search spaces: conditional parameters and CASH",
        "",
        f"Generated by `{command}` from `runs.jsonl` ({len(records)} runs); the runs by",
        "the commands in `commands.log`. Versions and totals: `manifest.json`.",
        "",
        _setup_text(problems, order, table),
        "",
    ]
    lines += _results_section(table, order, main, problems)
    lines += _against_tpe(table, order)
    lines += _ablation_section(table, order, variants)
    lines += _cost_section(table, order, main + variants)
    notes = results / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip(), ""]
    _plot_curves(table, order, main, problems, results / "curves.png")
    if variants:
        _plot_curves(table, order, ["bayesopt", *variants], problems, results / "ablation.png")
    manifest = {
        "command": command,
        "runs": len(records),
        "seeds": seeds,
        "budgets": {p: problems[p].budget for p in order},
        "cpu_s_by_contender": {
            c: round(sum(r["cpu_s"] for r in records if r["contender"] == c), 1)
            for c in main + variants
        },
        "cpu_s_total": round(sum(r["cpu_s"] for r in records), 1),
        "versions": records[-1].get("versions", {}) if records else {},
        "commits": sorted({r.get("commit", "unknown") for r in records}),
    }
    (results / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    path = results / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


def _optimum(problem: Problem) -> str:
    return "-" if problem.optimum is None else f"{problem.optimum:.6g}"


def _seed_counts(table, p: str) -> str:
    """``n`` seeds, or ``n (variants m)`` where the ablation variants ran on fewer."""
    counts = {c: len(runs) for c, runs in table[p].items()}
    main = {counts[c] for c in MAIN if c in counts}
    rest = {counts[c] for c in VARIANTS if c in counts} - main
    text = "/".join(str(n) for n in sorted(main))
    return text + (f" (variants {'/'.join(str(n) for n in sorted(rest))})" if rest else "")


def _setup_text(problems: dict[str, Problem], order: Sequence[str], table) -> str:
    rows = "\n".join(
        f"| `{p}` | {problems[p].budget} | {_seed_counts(table, p)} | {_optimum(problems[p])} | "
        f"{problems[p].description} |"
        for p in order
    )
    return (
        "Each cell (problem, contender, seed) is one run; the seeds per problem are in the "
        "table below. The loss is the final log10 "
        "simple regret where the optimum is known and the final 3-fold cross-validated "
        "error (1 - accuracy; 1 - R^2 on diabetes) on CASH. Paired two-sided Wilcoxon "
        "signed-rank tests over seeds (`benchmarks.stats.compare`), Holm's correction over "
        "the problems of each pair of contenders; mean ranks over problems of the "
        "per-seed ranks (1 best). Tuning set (where the default kernel and search were "
        f"chosen): {', '.join(f'`{t}`' for t in tuning_set())}.\n\n"
        "| problem | budget | seeds | optimum | description |\n|---|---|---|---|---|\n" + rows
    )


def _results_section(table, order, main, problems) -> list[str]:
    lines = ["## Final loss per contender", "", "Median [25 %, 75 %] over seeds.", ""]
    lines += ["| problem | " + " | ".join(main) + " |", "|---" * (len(main) + 1) + "|"]
    for p in order:
        cells = table[p]
        row = [
            stats.median_iqr([loss_of(r) for r in cells[c].values()], ".3g") if c in cells else "-"
            for c in main
        ]
        lines.append(f"| `{p}` | " + " | ".join(row) + " |")
    cash = [p for p in order if p.startswith("cash-")]
    if cash:
        lines += [
            "",
            "CASH: held-out test error of each run's final choice (refitted on the training "
            "split), median [25 %, 75 %], and the learners chosen.",
            "",
        ]
        lines += ["| problem | " + " | ".join(main) + " |", "|---" * (len(main) + 1) + "|"]
        for p in cash:
            cells = table[p]
            row = []
            for c in main:
                if c not in cells:
                    row.append("-")
                    continue
                tests = [r.get("test_loss", math.nan) for r in cells[c].values()]
                picks: dict[str, int] = {}
                for r in cells[c].values():
                    picks[r.get("branch", "?")] = picks.get(r.get("branch", "?"), 0) + 1
                top = ", ".join(f"{k} {v}" for k, v in sorted(picks.items(), key=lambda kv: -kv[1]))
                row.append(f"{stats.median_iqr(tests, '.3g')}; {top}")
            lines.append(f"| `{p}` | " + " | ".join(row) + " |")
    others = [c for c in main if c != "bayesopt"]
    raw, holm = _comparisons(table, "bayesopt", others)
    lines += [
        "",
        "## bayesopt against each contender",
        "",
        "Outcome of bayesopt (W win, T tie, L loss) with the raw p-value, and the outcome after "
        "Holm's correction.",
        "",
    ]
    lines += ["| problem | " + " | ".join(others) + " |", "|---" * (len(others) + 1) + "|"]
    for p in order:
        lines.append(
            f"| `{p}` | "
            + " | ".join(stats.wtl_cell(raw[b].get(p), holm[b].get(p)) for b in others)
            + " |"
        )
    totals = []
    for b in others:
        outs = list(holm[b].values())
        w, t, l_ = (sum(o is stats.Outcome(k) for o in outs) for k in ("win", "tie", "loss"))
        totals.append(f"{w}/{t}/{l_}")
    lines.append("| **W/T/L (Holm)** | " + " | ".join(totals) + " |")
    ranks = _mean_ranks(table, main)
    lines += [
        "",
        "## Mean ranks",
        "",
        f"Over the {len(order)} problems (the {len(main)} contenders ranked per seed, then "
        f"averaged).",
        "",
    ]
    lines += ["| contender | mean rank |", "|---|---|"]
    lines += [f"| {c} | {ranks[c]:.2f} |" for c in sorted(ranks, key=ranks.get)]
    return lines


def _against_tpe(table, order) -> list[str]:
    raw, holm = _comparisons(table, "bayesopt", ["optuna-tpe"])
    outcomes = holm["optuna-tpe"]
    wins = [p for p, o in outcomes.items() if o is stats.Outcome.WIN]
    losses = [p for p, o in outcomes.items() if o is stats.Outcome.LOSS]
    raw_losses = [p for p, c in raw["optuna-tpe"].items() if c.outcome is stats.Outcome.LOSS]
    n = len(outcomes)
    met = len(wins) * 2 >= n and not losses
    return [
        "",
        "## The goal against TPE",
        "",
        f"bayesopt beats Optuna's TPE significantly after Holm's correction on {len(wins)} "
        f"of {n} problems ({', '.join(f'`{p}`' for p in wins) or 'none'}) and loses on "
        f"{len(losses)} ({', '.join(f'`{p}`' for p in losses) or 'none'}; raw losses: "
        f"{', '.join(f'`{p}`' for p in raw_losses) or 'none'}). The goal (significant wins "
        f"on at least half, no loss) is {'met' if met else 'not met'}; the notes below "
        "discuss each problem where it is not.",
    ]


def _ablation_section(table, order, variants) -> list[str]:
    if not variants:
        return []
    lines = [
        "",
        "## Ablation: bayesopt's treatment of conditional spaces",
        "",
        "Each variant against the default (`bayesopt`: fixed imputation of inactive coordinates, "
        "the default product kernel, per-branch starts of the acquisition search): median final "
        "loss, and the default's outcome against the variant (W: the default is better).",
        "",
    ]
    names = ["bayesopt", *variants]
    lines += ["| problem | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    raw, holm = _comparisons(table, "bayesopt", variants)
    for p in order:
        cells = table[p]
        row = []
        for c in names:
            med = "-"
            if c in cells:
                med = stats.median_iqr([loss_of(r) for r in cells[c].values()], ".3g")
            if c != "bayesopt" and p in raw[c]:
                med += f"; {stats.wtl_cell(raw[c][p], holm[c].get(p))}"
            row.append(med)
        lines.append(f"| `{p}` | " + " | ".join(row) + " |")
    ranks = _mean_ranks(table, names)
    if ranks:
        where = [p for p in order if all(c in table[p] for c in names)]
        lines += ["", f"Mean ranks among the variants over the problems where all of them ran "
                  f"({', '.join(f'`{p}`' for p in where)}): " + ", ".join(
            f"{c} {ranks[c]:.2f}" for c in sorted(ranks, key=ranks.get)) + "."]  # fmt: skip
    return lines


def _cost_section(table, order, names) -> list[str]:
    lines = [
        "",
        "## Cost",
        "",
        "CPU seconds per ask (median over runs of the mean ask), and per run in total (asks and "
        "evaluations).",
        "",
    ]
    lines += ["| contender | s / ask | s / run |", "|---|---|---|"]
    for c in names:
        recs = [r for p in order for r in table[p].get(c, {}).values()]
        if not recs:
            continue
        per_ask = np.median([r["ask_cpu_s"] / max(1, len(r["values"])) for r in recs])
        per_run = np.median([r["cpu_s"] for r in recs])
        lines.append(f"| {c} | {per_ask:.3f} | {per_run:.1f} |")
    return lines


def _plot_curves(table, order, names, problems, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(order)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, p in zip(axes.flat, order, strict=False):
        opt = problems[p].optimum
        for c in names:
            runs = table[p].get(c)
            if not runs:
                continue
            Y = np.array([r["trace"] for r in runs.values()], dtype=float)
            if opt is not None:
                Y = np.log10(np.maximum(Y - opt, 1e-12))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(Y, axis=0)
            color, ls = STYLES.get(c, ("k", "-"))
            ax.plot(np.arange(1, len(med) + 1), med, color=color, ls=ls, label=c)
        ax.set_title(p, fontsize="small")
        ax.set_xlabel("evaluations")
        ax.set_ylabel("log10 regret" if opt is not None else "CV error")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize="x-small")
    fig.suptitle("median best-so-far over seeds", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# CLI ------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.structured run|report``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.structured", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--results", default=str(RESULTS), help="results folder (default: %(default)s)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the missing cells of the grid")
    r.add_argument("--problems", default="", help="comma-separated (default: all)")
    r.add_argument("--contenders", default="", help="comma-separated (default: all)")
    r.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (default: %(default)s)")
    sub.add_parser("report", help="write REPORT.md and the figures")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    command = "python -m benchmarks.structured report"
    print(write_report(Path(args.results), command))
    return 0


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


if __name__ == "__main__":
    with _quiet():
        sys.exit(main())
