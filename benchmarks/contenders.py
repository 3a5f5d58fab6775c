"""Optimisers under test, each behind the same sequential ask/tell ``Session``.

A ``Contender`` makes a fresh, seeded ``Session`` for one run. Sessions hand out plain
params dicts (Python ints, floats and category values, as ``bayesopt.Space`` defines them)
and take the observed value back; a non-finite value is a failed evaluation. Peers that are
not installed are reported by ``available()`` and skipped by the runner.

Batch mode: ``get("bayesopt-q4")`` is ``bayesopt`` asked 4 points per round and told all 4
before the next round (``batched``); the suffix works for the contenders of ``BATCHABLE``.
The peers added beside Optuna and scikit-optimize (Nevergrad, SMAC3, Ax, HEBO) live in
``benchmarks/peers/``.
"""

from __future__ import annotations

import importlib.util
import math
import re
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import bayesopt as bo
from benchmarks.peers import ax_session, nevergrad_session, smac_session, subprocess_session
from benchmarks.peers.common import WorstImputer

__all__ = ["BATCHABLE", "Contender", "Session", "batched", "get", "names", "registry"]


class Session(Protocol):
    """One optimisation run, driven one evaluation at a time."""

    def ask(self) -> dict[str, Any]:
        """The next params to evaluate."""
        ...

    def tell(self, value: float) -> None:
        """The observed value of the params last asked (NaN: the evaluation failed)."""
        ...

    def info(self) -> dict[str, Any]:
        """Diagnostics recorded with the run (e.g. counts of fallback asks)."""
        ...


# Optional Session methods, looked up with getattr by ``benchmarks.cell.run_cell``:
#   ask_batch(q) -> list[params]   q points of one round (batch contenders)
#   tell_batch(values) -> None     their observed values, in ask order (NaN: failed)
#   recommend() -> int | dict | None
#                                  what the optimiser would deploy: the 0-based index of
#                                  an evaluation, or params (evaluated noise-free once,
#                                  outside the budget); None or absent: the best observed
#   close() -> None                release files or processes (called once, at the end)


@dataclass(frozen=True)
class Contender:
    """A named, seeded optimiser factory.

    Attributes:
        name: registry key, e.g. ``"optuna-tpe"``.
        make: ``(space, seed) -> Session``.
        requires: modules that must be importable (optional peers).
        budget_factor: evaluations per budget unit; ``random-2x`` has 2 and is reported at
            budget point ``k`` as the best of its first ``2 k`` evaluations.
        ask_cost: ``(n_observations, dim) -> rough seconds per ask`` (run-time estimates).
        description: one line for the README and the report.
        batch: points per round (``batched``): the run asks ``batch`` points, evaluates
            them, tells them all, and its budget points are rounds.
        budgeted: ``make`` takes a third argument, ``budget=`` the number of evaluations
            of the run (optimisers that plan with it, such as Nevergrad's NGOpt).
        venv: the peer runs in the side environment ``.venv-<venv>`` (a subprocess), which
            must exist for the contender to be available.
    """

    name: str
    make: Callable[..., Session]
    requires: tuple[str, ...] = ()
    budget_factor: int = 1
    ask_cost: Callable[[int, int], float] = lambda n, d: 1e-4
    description: str = ""
    batch: int = 1
    budgeted: bool = False
    venv: str | None = None

    def available(self) -> bool:
        """Whether every module in ``requires`` can be imported (and the side environment
        of a ``venv`` peer exists)."""
        if self.venv is not None and not subprocess_session.venv_python(self.venv).exists():
            return False
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    @property
    def needs(self) -> str:
        """What must be installed for ``available()`` (for notices)."""
        parts = list(self.requires)
        if self.venv is not None:
            parts.append(f".venv-{self.venv} (python benchmarks/peers/make_venv.py {self.venv})")
        return ", ".join(parts)

    def session(self, space: bo.Space, seed: int, n_evals: int) -> Session:
        """A fresh session for a run of ``n_evals`` evaluations."""
        if self.budgeted:
            return self.make(space, seed, budget=n_evals)
        return self.make(space, seed)

    @property
    def family(self) -> str:
        """``"bayesopt"``, ``"baseline"`` or ``"peer"`` (for grouping in the report)."""
        if self.name.startswith("bayesopt"):
            return "bayesopt"
        return "peer" if self.requires or self.venv else "baseline"


# bayesopt ---------------------------------------------------------------------------------
class AskTellSession:
    """A ``bayesopt`` optimiser (``Optimizer`` or ``RandomSearch``) as a ``Session``.

    Counts the sources of the asked trials and the ``FallbackWarning``s raised, so the report
    can show how often the GP path could not be used.
    """

    def __init__(self, optimizer: bo.Optimizer | bo.RandomSearch) -> None:
        self.optimizer = optimizer
        self._trial: bo.Trial | None = None
        self._batch: list[bo.Trial] = []
        self._index: dict[int, int] = {}  # trial id -> evaluation index
        self._sources: Counter[bo.Source] = Counter()
        self._fallback_reasons: Counter[str] = Counter()

    def _asked(self, n: int | None) -> list[bo.Trial]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bo.FallbackWarning)
            asked = self.optimizer.ask() if n is None else self.optimizer.ask(n)
        for w in caught:
            if isinstance(w.message, bo.FallbackWarning):
                self._fallback_reasons[w.message.reason.value] += 1
        trials = [asked] if n is None else list(asked)
        for trial in trials:
            self._sources[trial.source] += 1
            self._index[trial.id] = len(self._index)
        return trials

    def ask(self) -> dict[str, Any]:
        (self._trial,) = self._asked(None)
        return dict(self._trial.params)

    def tell(self, value: float) -> None:
        assert self._trial is not None, "tell() before ask()"
        self.optimizer.tell(self._trial, value)
        self._trial = None

    def ask_batch(self, q: int) -> list[dict[str, Any]]:
        """``optimizer.ask(q)``: q points proposed jointly."""
        self._batch = self._asked(q)
        return [dict(t.params) for t in self._batch]

    def tell_batch(self, values: list[float]) -> None:
        """Tell every point of the round, in ask order."""
        for trial, value in zip(self._batch, values, strict=True):
            self.optimizer.tell(trial, value)
        self._batch = []

    def recommend(self) -> int | None:
        """The evaluation ``optimizer.recommend()`` picks (best posterior mean when the GP
        finds the objective noisy, else the best observed)."""
        trial = self.optimizer.recommend()
        return None if trial is None else self._index.get(trial.id)

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sources": {s.value: k for s, k in self._sources.items()}}
        if self._fallback_reasons:
            out["fallbacks"] = dict(self._fallback_reasons)
        return out


def _bayesopt(acquisition: str) -> Callable[[bo.Space, int], Session]:
    def make(space: bo.Space, seed: int) -> Session:
        return AskTellSession(bo.Optimizer(space, seed=seed, acquisition=acquisition))

    return make


def _random(space: bo.Space, seed: int) -> Session:
    return AskTellSession(bo.RandomSearch(space, seed=seed))


def _sobol(space: bo.Space, seed: int) -> Session:
    return AskTellSession(bo.RandomSearch(space, seed=seed, sobol=True))


# Optuna -----------------------------------------------------------------------------------
class OptunaSession:
    """An Optuna study driven by ``study.ask(distributions)`` / ``study.tell``."""

    def __init__(self, space: bo.Space, sampler: Any) -> None:
        import optuna

        self._optuna = optuna
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.distributions = {name: _optuna_distribution(p) for name, p in space.items()}
        self._trial: Any = None
        self._batch: list[Any] = []

    def ask(self) -> dict[str, Any]:
        self._trial = self.study.ask(self.distributions)
        return dict(self._trial.params)

    def tell(self, value: float) -> None:
        self._tell(self._trial, value)
        self._trial = None

    def _tell(self, trial: Any, value: float) -> None:
        if math.isfinite(value):
            self.study.tell(trial, value)
        else:
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)

    def ask_batch(self, q: int) -> list[dict[str, Any]]:
        """``q`` asks before any tell: the earlier ones are RUNNING trials when the later
        ones are sampled (GPSampler: qLogEI over them; TPESampler: its constant liar)."""
        self._batch = [self.study.ask(self.distributions) for _ in range(q)]
        return [dict(t.params) for t in self._batch]

    def tell_batch(self, values: list[float]) -> None:
        """Tell every trial of the round, in ask order."""
        for trial, value in zip(self._batch, values, strict=True):
            self._tell(trial, value)
        self._batch = []

    def info(self) -> dict[str, Any]:
        return {}


def _optuna_distribution(p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(p, bo.Real):
        return FloatDistribution(p.low, p.high, log=p.log)
    if isinstance(p, bo.Integer):
        return IntDistribution(p.low, p.high, log=p.log)
    return CategoricalDistribution(list(p.choices))


def _optuna_tpe(space: bo.Space, seed: int) -> Session:
    import optuna

    return OptunaSession(space, optuna.samplers.TPESampler(seed=seed))


def _optuna_gp(space: bo.Space, seed: int) -> Session:
    import optuna

    return OptunaSession(space, optuna.samplers.GPSampler(seed=seed))


# scikit-optimize --------------------------------------------------------------------------
_WorstImputer = WorstImputer  # the name the adapters below and older code use


class SkoptSession:
    """A ``skopt.Optimizer`` (GP surrogate, ``gp_hedge`` acquisition).

    skopt fits its model inside ``tell``. It cannot take a failed evaluation, so a failure
    is told as the worst value seen so far (1.0 when nothing was seen yet).
    """

    def __init__(self, space: bo.Space, seed: int) -> None:
        import skopt

        self.names = space.names
        self.optimizer = skopt.Optimizer(
            [_skopt_dimension(p) for p in space.values()],
            base_estimator="GP",
            acq_func="gp_hedge",
            n_initial_points=10,
            random_state=seed,
        )
        self._space = space
        self._x: list[Any] | None = None
        self._imputer = _WorstImputer()

    def ask(self) -> dict[str, Any]:
        self._x = self.optimizer.ask()
        return {
            name: _plain(v, self._space[name]) for name, v in zip(self.names, self._x, strict=True)
        }

    def tell(self, value: float) -> None:
        value = self._imputer.finite(value)
        self.optimizer.tell(self._x, float(value))
        self._x = None

    def info(self) -> dict[str, Any]:
        failed = self._imputer.failed
        return {"failed_imputed": failed} if failed else {}


def _skopt_dimension(p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    from skopt.space import Categorical, Integer, Real

    prior = "log-uniform" if getattr(p, "log", False) else "uniform"
    if isinstance(p, bo.Real):
        return Real(p.low, p.high, prior=prior)
    if isinstance(p, bo.Integer):
        return Integer(p.low, p.high, prior=prior)
    return Categorical(list(p.choices))


def _plain(value: Any, p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    """skopt hands back numpy scalars; turn them into the Python values bayesopt uses."""
    if isinstance(p, bo.Real):
        return float(value)
    if isinstance(p, bo.Integer):
        return int(value)
    return next(c for c in p.choices if c == value)


def _skopt_gp(space: bo.Space, seed: int) -> Session:
    return SkoptSession(space, seed)


# CMA-ES -----------------------------------------------------------------------------------
class CMAESSession:
    """CMA-ES (the ``cmaes`` package's ``CMA``) on the unit cube, with IPOP restarts.

    Starts at the centre of the cube with step size 0.2 (2 on BBOB's [-5, 5]) and the
    package's default population ``4 + floor(3 ln d)``. Each ask is one ``CMA.ask``; a
    generation is told once its population is evaluated. When ``should_stop`` fires, it
    restarts from a uniformly random mean with twice the population (IPOP). Points are
    decoded by ``Space.from_unit`` (log scales and integer rounding as bayesopt does);
    categorical parameters are not supported (``ValueError``). A failed evaluation is told
    as the worst value seen (1.0 before any).
    """

    def __init__(self, space: bo.Space, seed: int) -> None:
        import numpy as np

        if any(isinstance(p, bo.Categorical) for p in space.values()):
            raise ValueError("cma-es: categorical parameters are not supported")
        self._np = np
        self.space = space
        self._rng = np.random.default_rng(seed)
        self._population: int | None = None
        self._restarts = 0
        self._cma = self._start(np.full(space.dim, 0.5))
        self._x: Any = None
        self._told: list[tuple[Any, float]] = []
        self._imputer = _WorstImputer()

    def _start(self, mean: Any) -> Any:
        from cmaes import CMA

        bounds = self._np.tile([0.0, 1.0], (self.space.dim, 1))
        cma = CMA(
            mean=mean,
            sigma=0.2,
            bounds=bounds,
            seed=int(self._rng.integers(2**31 - 1)),
            population_size=self._population,
        )
        self._population = cma.population_size
        return cma

    def ask(self) -> dict[str, Any]:
        self._x = self._cma.ask()
        return self.space.from_unit(self._x.tolist())

    def tell(self, value: float) -> None:
        value = self._imputer.finite(value)
        self._told.append((self._x, float(value)))
        self._x = None
        if len(self._told) == self._cma.population_size:
            self._cma.tell(self._told)
            self._told = []
            if self._cma.should_stop():
                self._restarts += 1
                self._population = 2 * self._cma.population_size
                self._cma = self._start(self._rng.uniform(0.0, 1.0, self.space.dim))

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"restarts": self._restarts, "population": self._population}
        if self._imputer.failed:
            out["failed_imputed"] = self._imputer.failed
        return out


def _cma_es(space: bo.Space, seed: int) -> Session:
    return CMAESSession(space, seed)


# hyperopt ---------------------------------------------------------------------------------
class HyperoptSession:
    """hyperopt's TPE (``tpe.suggest``, default settings: 20 random startup trials) driven
    one trial at a time, as ``fmin`` drives it: ``Trials.new_trial_ids``, ``suggest`` with a
    seed drawn from ``default_rng(seed)``, ``insert_trial_docs``, then the result written
    into the trial document. A failed evaluation is a trial with ``status: "fail"``.
    """

    def __init__(self, space: bo.Space, seed: int) -> None:
        import numpy as np
        from hyperopt import Trials, base, tpe

        self._base = base
        self._suggest = tpe.suggest
        self._hp_space = {name: _hyperopt_dimension(name, p) for name, p in space.items()}
        self.space = space
        self.domain = base.Domain(lambda params: 0.0, self._hp_space)
        self.trials = Trials()
        self._rng = np.random.default_rng(seed)
        self._doc: dict[str, Any] | None = None

    def ask(self) -> dict[str, Any]:
        from hyperopt import space_eval

        ids = self.trials.new_trial_ids(1)
        self.trials.refresh()
        docs = self._suggest(ids, self.domain, self.trials, int(self._rng.integers(2**31 - 1)))
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        self._doc = self.trials._dynamic_trials[-1]
        vals = {k: v[0] for k, v in self._doc["misc"]["vals"].items() if v}
        params = space_eval(self._hp_space, vals)
        return {name: _plain(params[name], p) for name, p in self.space.items()}

    def tell(self, value: float) -> None:
        assert self._doc is not None, "tell() before ask()"
        base = self._base
        if math.isfinite(value):
            self._doc["result"] = {"loss": float(value), "status": base.STATUS_OK}
        else:
            self._doc["result"] = {"status": base.STATUS_FAIL}
        self._doc["state"] = base.JOB_STATE_DONE
        self.trials.refresh()
        self._doc = None

    def info(self) -> dict[str, Any]:
        return {}


def _hyperopt_dimension(name: str, p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    import math as m

    from hyperopt import hp

    if isinstance(p, bo.Real):
        if p.log:
            return hp.loguniform(name, m.log(p.low), m.log(p.high))
        return hp.uniform(name, p.low, p.high)
    if isinstance(p, bo.Integer):
        if p.log:
            return hp.qloguniform(name, m.log(p.low), m.log(p.high), 1)
        return hp.uniformint(name, p.low, p.high)
    return hp.choice(name, list(p.choices))


def _hyperopt_tpe(space: bo.Space, seed: int) -> Session:
    return HyperoptSession(space, seed)


# Plain BoTorch ----------------------------------------------------------------------------
def botorch_plain_step(X: Any, Y: Any, seed: int) -> Any:
    """One model-based step of the plain BoTorch loop: ``SingleTaskGP`` (BoTorch's
    defaults) + ``fit_gpytorch_mll`` + ``LogExpectedImprovement`` + ``optimize_acqf`` with
    10 restarts and 512 raw samples, float64, on the unit cube.

    Args:
        X: ``n x d`` unit-cube points.
        Y: ``n x 1`` values to maximise.
        seed: seeds torch's global generator for the call (restored after).

    Returns:
        A ``1 x d`` tensor: the next unit point.
    """
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    bounds = torch.stack([torch.zeros(X.shape[-1]), torch.ones(X.shape[-1])]).to(X)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SingleTaskGP(X, Y)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acqf = LogExpectedImprovement(model, best_f=Y.max())
        U, _ = optimize_acqf(acqf, bounds, q=1, num_restarts=10, raw_samples=512)
    return U


class BotorchPlainSession:
    """The plain BoTorch loop a user would write from BoTorch's tutorials: a scrambled
    Sobol design of ``2 d + 1`` points, then ``botorch_plain_step`` on the complete
    evaluations (failed ones are dropped). Categoricals are treated as ordinal coordinates
    of the unit cube, decoded by ``Space.from_unit``."""

    def __init__(self, space: bo.Space, seed: int) -> None:
        import torch

        self._torch = torch
        self.space = space
        self.seed = seed
        n_initial = 2 * space.dim + 1
        self._design = list(space.sample_unit(n_initial, seed=seed))
        self._X: list[Any] = []
        self._y: list[float] = []
        self._u: Any = None

    def ask(self) -> dict[str, Any]:
        torch = self._torch
        if self._design:
            self._u = self._design.pop(0)
        elif len(self._y) < 2:
            self._u = self.space.sample_unit(1, seed=self.seed + 7919 * len(self._X))[0]
        else:
            X = torch.stack(self._X).to(torch.float64)
            Y = -torch.tensor(self._y, dtype=torch.float64).unsqueeze(-1)
            self._u = botorch_plain_step(X, Y, self.seed + len(self._X))[0]
        self._u = self.space.snap(self._u.unsqueeze(0))[0]
        return self.space.from_unit(self._u)

    def tell(self, value: float) -> None:
        if math.isfinite(value):
            self._X.append(self._u)
            self._y.append(float(value))
        self._u = None

    def info(self) -> dict[str, Any]:
        return {}


def _botorch_plain(space: bo.Space, seed: int) -> Session:
    return BotorchPlainSession(space, seed)


# Registry ---------------------------------------------------------------------------------
def _gp_cost(base: float, per_obs: float, d_scale: float = 10.0) -> Callable[[int, int], float]:
    """A rough ask-latency model ``base + per_obs * n * (1 + d / d_scale)`` in seconds.

    Calibrated on single-thread runs on a 2-core x86-64 VM (the quick preset; Hartmann-6,
    Ackley-10 and RF on wine cells): within about 30 % there.
    """
    return lambda n, d: base + per_obs * n * (1.0 + d / d_scale)


_CONTENDERS = (
    Contender(
        "bayesopt",
        _bayesopt("qlognei"),
        ask_cost=_gp_cost(0.05, 0.009, d_scale=20.0),
        description="bayesopt.Optimizer, default settings (qLogNEI)",
    ),
    Contender(
        "bayesopt-logei",
        _bayesopt("logei"),
        ask_cost=_gp_cost(0.05, 0.009, d_scale=20.0),
        description='bayesopt.Optimizer(acquisition="logei")',
    ),
    Contender(
        "bayesopt-ucb",
        _bayesopt("ucb"),
        ask_cost=_gp_cost(0.05, 0.009, d_scale=20.0),
        description='bayesopt.Optimizer(acquisition="ucb")',
    ),
    Contender("random", _random, description="bayesopt.RandomSearch, uniform draws"),
    Contender(
        "random-2x",
        _random,
        budget_factor=2,
        description="uniform random search with twice the evaluations (same stream as random)",
    ),
    Contender("sobol", _sobol, description="bayesopt.RandomSearch(sobol=True), scrambled Sobol"),
    Contender(
        "optuna-tpe",
        _optuna_tpe,
        requires=("optuna",),
        ask_cost=_gp_cost(0.005, 0.0002),
        description="optuna TPESampler(seed), default settings",
    ),
    Contender(
        "optuna-gp",
        _optuna_gp,
        requires=("optuna", "torch"),
        ask_cost=_gp_cost(0.02, 0.0006),
        description="optuna GPSampler(seed), default settings",
    ),
    Contender(
        "botorch-plain",
        _botorch_plain,
        requires=("botorch",),
        ask_cost=_gp_cost(0.15, 0.004, d_scale=20.0),
        description="plain BoTorch loop: SingleTaskGP, LogEI, optimize_acqf 10 x 512, Sobol 2d+1",
    ),
    Contender(
        "skopt-gp",
        _skopt_gp,
        requires=("skopt",),
        ask_cost=_gp_cost(0.03, 0.008, d_scale=20.0),
        description='skopt.Optimizer(base_estimator="GP", acq_func="gp_hedge")',
    ),
    Contender(
        "cma-es",
        _cma_es,
        requires=("cmaes",),
        ask_cost=lambda n, d: 2e-4,
        description="cmaes.CMA on the unit cube, sigma 0.2, default population, IPOP "
        "restarts (numeric spaces only)",
    ),
    Contender(
        "hyperopt-tpe",
        _hyperopt_tpe,
        requires=("hyperopt",),
        ask_cost=_gp_cost(0.004, 0.0001),
        description="hyperopt tpe.suggest, default settings, one trial at a time",
    ),
    Contender(
        "nevergrad-ngopt",
        nevergrad_session.make_ngopt,
        requires=("nevergrad",),
        ask_cost=lambda n, d: 2e-3,
        budgeted=True,
        description="nevergrad NGOpt (its own algorithm choice for the space and budget)",
    ),
    Contender(
        "nevergrad-cma",
        nevergrad_session.make_cma,
        requires=("nevergrad",),
        ask_cost=lambda n, d: 2e-3,
        budgeted=True,
        description="nevergrad CMA (pycma through nevergrad's parametrization)",
    ),
    Contender(
        "smac-hpo",
        smac_session.make_hpo,
        requires=("smac",),
        ask_cost=_gp_cost(0.1, 0.002),
        budgeted=True,
        description="SMAC3 HyperparameterOptimizationFacade (random forest), deterministic "
        "scenario, one evaluation per configuration",
    ),
    Contender(
        "smac-bb",
        smac_session.make_bb,
        requires=("smac",),
        ask_cost=_gp_cost(1.0, 0.05),
        budgeted=True,
        description="SMAC3 BlackBoxFacade (Gaussian process), deterministic scenario",
    ),
    Contender(
        "ax",
        ax_session.make_ax,
        requires=("ax",),
        ask_cost=_gp_cost(2.0, 0.05),
        description="ax.api.Client(random_seed) with Ax's default generation strategy",
    ),
    Contender(
        "hebo",
        subprocess_session.make_hebo,
        ask_cost=_gp_cost(0.5, 0.01),
        venv="hebo",
        description="HEBO (Huawei) in its own virtual environment .venv-hebo, over a "
        "JSON-lines ask/tell protocol (benchmarks/peers/make_venv.py hebo)",
    ),
)

BATCHABLE = ("bayesopt", "random", "random-2x", "optuna-gp", "optuna-tpe", "ax")
"""Contenders with a batch mode: ``NAME-qK`` asks K points per round (``batched``); the
factor study's variants (``benchmarks.variants``) have one too."""

_BATCH_NAME = re.compile(r"^(?P<base>.+)-q(?P<q>[0-9]+)$")


def _batchable(name: str) -> bool:
    """Whether ``name`` has a batch mode: ``BATCHABLE``, and every variant of the factor
    study (an ``Optimizer``, asked ``ask(q)``)."""
    if name in BATCHABLE:
        return True
    from benchmarks.variants import VARIANTS

    return any(v.name == name for v in VARIANTS)


def batched(name: str, q: int) -> Contender:
    """Contender ``name`` asked ``q`` points per round, all told before the next round.

    Its budget points are rounds: a cell's budget is the number of rounds, and its trace
    point ``k`` is the best value after round ``k`` (``budget_factor`` is ``q`` times the
    base one, so ``random-2x-q4`` draws 8 points a round).

    Raises:
        KeyError: ``name`` has no batch mode (see ``BATCHABLE``).
        ValueError: ``q < 2``.

    Example:
        >>> batched("bayesopt", 4).name, batched("random-2x", 4).budget_factor
        ('bayesopt-q4', 8)
    """
    if not _batchable(name):
        raise KeyError(
            f"contender {name!r} has no batch mode; batchable: {', '.join(BATCHABLE)} and "
            "the factor study's bayesopt variants"
        )
    if q < 2:
        raise ValueError(f"`q >= 2` must hold for a batch contender, but got q={q}")
    base = registry()[name]
    return Contender(
        f"{name}-q{q}",
        base.make,
        requires=base.requires,
        budget_factor=base.budget_factor * q,
        ask_cost=base.ask_cost,
        description=f"{name}, {q} points per round (asked together, told together)",
        batch=q,
        budgeted=base.budgeted,
        venv=base.venv,
    )


def _variant(variant: Any) -> Callable[[bo.Space, int], Session]:
    from benchmarks.variants import make_optimizer

    def make(space: bo.Space, seed: int) -> Session:
        return AskTellSession(make_optimizer(variant, space, seed))

    return make


def _optuna_gp_our_design(space: bo.Space, seed: int) -> Session:
    """Optuna's GPSampler started from bayesopt's initial design (same seed): isolates
    what the initial design does from what the model and the acquisition do."""
    import optuna

    design = bo.Optimizer(space, seed=seed)
    points = [design.ask().params for _ in range(design.n_initial)]
    session = OptunaSession(
        space, optuna.samplers.GPSampler(seed=seed, n_startup_trials=len(points))
    )
    for params in points:
        session.study.enqueue_trial(params)
    return session


def _variants() -> tuple[Contender, ...]:
    from benchmarks.variants import VARIANTS

    return (
        *(
            Contender(
                v.name,
                _variant(v),
                ask_cost=_gp_cost(0.05, 0.009, d_scale=20.0),
                description=v.description,
            )
            for v in VARIANTS
        ),
        Contender(
            "optuna-gp+our-design",
            _optuna_gp_our_design,
            requires=("optuna", "torch"),
            ask_cost=_gp_cost(0.02, 0.0006),
            description="optuna GPSampler(seed) after bayesopt's initial design for the same "
            "seed (2d + 1 Sobol points, enqueued): the initial design's share of a result",
        ),
    )


def registry() -> dict[str, Contender]:
    """All contenders by name, in report order (the factor study's variants last)."""
    return {c.name: c for c in (*_CONTENDERS, *_variants())}


def get(name: str) -> Contender:
    """The contender called ``name`` (``NAME-qK``: ``batched(NAME, K)``).

    Raises:
        KeyError: no such contender (the message lists the known names).
    """
    found = registry().get(name)
    if found is not None:
        return found
    match = _BATCH_NAME.match(name)
    if match and _batchable(match["base"]) and int(match["q"]) >= 2:
        return batched(match["base"], int(match["q"]))
    raise KeyError(
        f"unknown contender {name!r}; known: {', '.join(registry())}, and NAME-qK "
        f"(K >= 2 points per round) for NAME in {', '.join(BATCHABLE)}"
    )


def names(variants: bool = True) -> list[str]:
    """Contender names in report order; ``variants=False`` leaves out the factor study's."""
    if variants:
        return list(registry())
    return [c.name for c in _CONTENDERS]
