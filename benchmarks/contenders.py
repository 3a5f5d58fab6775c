"""Optimisers under test, each behind the same sequential ask/tell ``Session``.

A ``Contender`` makes a fresh, seeded ``Session`` for one run. Sessions hand out plain
params dicts (Python ints, floats and category values, as ``bayesopt.Space`` defines them)
and take the observed value back; a non-finite value is a failed evaluation. Peers that are
not installed are reported by ``available()`` and skipped by the runner.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import bayesopt as bo

__all__ = ["Contender", "Session", "get", "names", "registry"]


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
    """

    name: str
    make: Callable[[bo.Space, int], Session]
    requires: tuple[str, ...] = ()
    budget_factor: int = 1
    ask_cost: Callable[[int, int], float] = lambda n, d: 1e-4
    description: str = ""

    def available(self) -> bool:
        """Whether every module in ``requires`` can be imported."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    @property
    def family(self) -> str:
        """``"bayesopt"``, ``"baseline"`` or ``"peer"`` (for grouping in the report)."""
        if self.name.startswith("bayesopt"):
            return "bayesopt"
        return "peer" if self.requires else "baseline"


# bayesopt ---------------------------------------------------------------------------------
class AskTellSession:
    """A ``bayesopt`` optimiser (``Optimizer`` or ``RandomSearch``) as a ``Session``.

    Counts the sources of the asked trials and the ``FallbackWarning``s raised, so the report
    can show how often the GP path could not be used.
    """

    def __init__(self, optimizer: bo.Optimizer | bo.RandomSearch) -> None:
        self.optimizer = optimizer
        self._trial: bo.Trial | None = None
        self._sources: Counter[bo.Source] = Counter()
        self._fallback_reasons: Counter[str] = Counter()

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bo.FallbackWarning)
            self._trial = self.optimizer.ask()
        for w in caught:
            if isinstance(w.message, bo.FallbackWarning):
                self._fallback_reasons[w.message.reason.value] += 1
        self._sources[self._trial.source] += 1
        return dict(self._trial.params)

    def tell(self, value: float) -> None:
        assert self._trial is not None, "tell() before ask()"
        self.optimizer.tell(self._trial, value)
        self._trial = None

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

    def ask(self) -> dict[str, Any]:
        self._trial = self.study.ask(self.distributions)
        return dict(self._trial.params)

    def tell(self, value: float) -> None:
        state = self._optuna.trial.TrialState
        if math.isfinite(value):
            self.study.tell(self._trial, value)
        else:
            self.study.tell(self._trial, state=state.FAIL)
        self._trial = None

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
        self._worst = -math.inf
        self._failed = 0

    def ask(self) -> dict[str, Any]:
        self._x = self.optimizer.ask()
        return {
            name: _plain(v, self._space[name]) for name, v in zip(self.names, self._x, strict=True)
        }

    def tell(self, value: float) -> None:
        if math.isfinite(value):
            self._worst = max(self._worst, value)
        else:
            self._failed += 1
            value = self._worst if math.isfinite(self._worst) else 1.0
        self.optimizer.tell(self._x, float(value))
        self._x = None

    def info(self) -> dict[str, Any]:
        return {"failed_imputed": self._failed} if self._failed else {}


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
    """The contender called ``name``.

    Raises:
        KeyError: no such contender (the message lists the known names).
    """
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"unknown contender {name!r}; known: {', '.join(registry())}") from None


def names(variants: bool = True) -> list[str]:
    """Contender names in report order; ``variants=False`` leaves out the factor study's."""
    if variants:
        return list(registry())
    return [c.name for c in _CONTENDERS]
