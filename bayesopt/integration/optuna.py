"""``BayesoptSampler``: an Optuna sampler that proposes with bayesopt's GP optimiser.

Optuna users keep their study, storage (in memory, RDB or journal), pruners, callbacks and
``optuna-dashboard``, and change only the sampler:
``optuna.create_study(sampler=BayesoptSampler(seed=0))``.

How Optuna's parameters map onto a ``bayesopt.Space`` (one coordinate each):

* ``suggest_float(low, high)``, with ``log=True``: ``Real(low, high)``, with ``log=True``;
* ``suggest_float(low, high, step=s)``: ``Integer(0, n)``, the index ``k`` of the grid
  value ``low + k * s`` (``n = (high - low) / s``);
* ``suggest_int(low, high)``, with ``log=True``: ``Integer(low, high)``, with ``log=True``;
* ``suggest_int(low, high, step=s)``: ``Integer(0, n)``, the index of ``low + k * s``;
* ``suggest_categorical(choices)``: ``Categorical`` over the choices' indices.

A stepped parameter is an integer over its grid indices, so the GP sees its order and the
acquisition search stays on the grid. A categorical is its choice's index, which the GP
treats as unordered; the choices themselves (``None``, ``bool``, ``int``, ``float``,
``str``) come back unchanged.

The sampler holds no state of its own that Optuna's storage does not: each
``sample_relative`` derives the bayesopt study from the Optuna study's trials, so several
processes sharing one storage (each with its own sampler) all see everyone's trials:

* complete trials are told their value, in the study's direction;
* failed trials are told as failures (bayesopt imputes the worst value seen, so the search
  steers away from them);
* pruned trials, by default (``pruned="value"``), are told the value Optuna records for
  them, their last intermediate value, or a failure when they reported none (see
  ``BayesoptSampler``);
* running trials (and waiting, enqueued ones) are pending points: the next point is chosen
  away from them. A sampled trial records its params in its system attributes at once, so
  the other processes see them before the objective has asked for every parameter.

The bayesopt optimiser is cached between calls and only the newly finished trials are
added to it; it is rebuilt (one pass over the trials) when trials finished out of number
order or the search space changed. The ask itself is bayesopt's.

Parameters outside the relative search space (conditional or dynamic ones, whose
distribution is not the same in every complete trial), and every parameter of the first
trial, are sampled by an independent sampler (a seeded ``RandomSampler`` by default), as
Optuna's own samplers do.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

import bayesopt as bo

try:
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
    from optuna.samplers import BaseSampler, RandomSampler
    from optuna.search_space import IntersectionSearchSpace, intersection_search_space
    from optuna.study import Study, StudyDirection
    from optuna.trial import FrozenTrial, TrialState
except ImportError as exc:  # the module stays importable; the sampler says what is missing
    _IMPORT_ERROR: ImportError | None = exc
    BaseSampler = object  # type: ignore[assignment,misc]
else:
    _IMPORT_ERROR = None

__all__ = ["PRUNED_POLICIES", "BayesoptSampler"]

PRUNED_POLICIES = ("value", "failed", "ignore")
"""How pruned trials enter the GP: their recorded value, a failure, or not at all."""

_SHARED_KEY = "bayesopt:relative_params"
_ATTR_LENGTH = 2045  # the longest system attribute every Optuna storage accepts
_RESERVED = ("maximize", "storage", "pruner")
_PROBE_SPACE = bo.Space({"x": bo.Real(0.0, 1.0)}) if _IMPORT_ERROR is None else None

_logger = logging.getLogger(__name__)


class BayesoptSampler(BaseSampler):
    """An Optuna sampler backed by ``bayesopt.Optimizer`` (GP-based Bayesian optimisation).

    Args:
        seed: seeds the optimiser and the independent sampler; the same seed and the same
            study history give the same params. ``None`` draws one from OS entropy.
        pruned: how pruned trials enter the GP. ``"value"`` (default): the value Optuna
            records for a pruned trial, its last intermediate value, or a failure when it
            reported none. The pruner stopped the trial because its curve was worse than
            its peers' at the same step, and for the usual improving curves that value is a
            pessimistic estimate of where it would have ended, so the search moves away
            without treating it as broken (a median pruner stops about half the trials;
            calling them all failures would flatten the model). ``"failed"``: a failure,
            for curves whose early values can look better than final ones. ``"ignore"``:
            left out of the GP, as ``bayesopt.Optimizer`` does with its own pruned trials.
        independent_sampler: samples the parameters outside the relative search space,
            and the first trial; ``None`` for ``RandomSampler(seed=seed)``.
        warn_independent_sampling: log a warning when a parameter is sampled by the
            independent sampler although the study has a complete trial.
        constraints_func: not supported yet (bayesopt handles one unconstrained
            objective); must be ``None``.
        **optimizer_options: passed to ``bayesopt.Optimizer`` (``n_initial``,
            ``acquisition``, ``model_options``, ``propose_options``, ``device``,
            ``threads``, ``trust_region``, ...). The sampler sets ``maximize`` from the
            study's direction.

    Raises:
        ImportError: optuna is not installed.
        TypeError: an argument has the wrong type, or is one the sampler sets itself.
        ValueError: an argument is out of range, or ``constraints_func`` was given.

    Multi-objective studies, and trials with constraints (``Trial.set_constraint``),
    raise ``ValueError`` when sampled.

    Example:
        >>> import optuna
        >>> from bayesopt.integration.optuna import BayesoptSampler
        >>> study = optuna.create_study(sampler=BayesoptSampler(seed=0))
        >>> study.optimize(lambda t: (t.suggest_float("x", -2.0, 2.0) - 0.5) ** 2, n_trials=10)
        >>> abs(study.best_params["x"] - 0.5) < 0.1
        True
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        pruned: str = "value",
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        **optimizer_options: Any,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ImportError(
                "BayesoptSampler needs optuna: pip install 'bayesopt[optuna]'"
            ) from _IMPORT_ERROR
        if constraints_func is not None:
            raise ValueError(
                "BayesoptSampler: `constraints_func` is not supported yet (bayesopt optimises "
                "one unconstrained objective); pass constraints_func=None, or use "
                "optuna.samplers.GPSampler or TPESampler for constrained studies."
            )
        if pruned not in PRUNED_POLICIES:
            raise ValueError(
                f"BayesoptSampler: `pruned` must be one of {PRUNED_POLICIES}, but got {pruned!r}."
            )
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise TypeError(
                "BayesoptSampler: `independent_sampler` must be an optuna.samplers.BaseSampler "
                f"or None, but got {independent_sampler!r}."
            )
        if not isinstance(warn_independent_sampling, bool):
            raise TypeError(
                "BayesoptSampler: `warn_independent_sampling` must be a bool, but got "
                f"{warn_independent_sampling!r}."
            )
        reserved = [k for k in _RESERVED if k in optimizer_options]
        if reserved:
            raise TypeError(
                f"BayesoptSampler: `{reserved[0]}` is not an option here: the direction "
                "comes from the study, and the study's storage and pruner are Optuna's."
            )
        # Validates the seed and the options with bayesopt's own checks (and draws a seed).
        probe = bo.Optimizer(_PROBE_SPACE, seed=seed, **optimizer_options)
        self._seed = probe.seed
        self._options = dict(optimizer_options)
        self._pruned = pruned
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._warn_independent_sampling = warn_independent_sampling
        self._lock = threading.Lock()
        self._intersection: tuple[str, IntersectionSearchSpace] | None = None
        self._cache: _Cache | None = None

    # Pickling (the lock cannot be; the cache is rebuilt on demand) ----------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        state["_cache"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # Optuna's sampler interface ----------------------------------------------------------
    def reseed_rng(self) -> None:
        """Draw a new seed (Optuna calls this in each thread of ``n_jobs > 1``)."""
        with self._lock:
            self._seed = int(np.random.SeedSequence().generate_state(1)[0])
            self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The distributions every complete trial shares, less those with a single value
        or that bayesopt cannot represent (integers spanning more than ``2**50``)."""
        _check_study(study)
        with self._lock:
            if self._intersection is None or self._intersection[0] != study.study_name:
                self._intersection = (study.study_name, IntersectionSearchSpace())
            intersection = self._intersection[1]
        space = intersection.calculate(study, use_cache=True)
        return {
            name: dist
            for name, dist in space.items()
            if not dist.single() and _parameter(dist) is not None
        }

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """The optimiser's next point in ``search_space``, given every trial of the study.

        Returns ``{}`` (every parameter then comes from the independent sampler or from
        ``enqueue_trial``) when the space is empty or all of it was enqueued.

        Raises:
            ValueError: the study is multi-objective, or its trials carry constraints.
        """
        _check_study(study)
        codec = _Codec.build(search_space)
        if codec is None:
            return {}
        fixed = trial.system_attrs.get("fixed_params") or {}
        if all(name in fixed for name in codec.dists):
            return {}
        new, pending = self._propose(study, trial, codec)
        written = _share(study, trial, codec, new)
        # Another process may have shared (nearly) the same point while this one asked, not
        # knowing of it: then ask again, with it pending. Of two such processes, at least
        # the one that reads the storage last sees the other, so they do not both keep it.
        states = (TrialState.RUNNING, TrialState.WAITING)
        running = study.get_trials(deepcopy=False, states=states)
        arrived = [p for p in _pending(codec, running, trial.number) if p not in pending]
        if any(_near(codec.space, new, p) for p in arrived):
            new, _ = self._propose(study, trial, codec)
            _share(study, trial, codec, new, blank=written)
        return codec.decode(new)

    def _propose(
        self, study: Study, trial: FrozenTrial, codec: _Codec
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The optimiser's next point (bayesopt params) and the pending points it avoided."""
        trials = study.get_trials(deepcopy=False)
        maximize = study.direction == StudyDirection.MAXIMIZE
        with self._lock:
            opt = self._synced(study.study_name, codec, maximize, trials)
            pending = _pending(codec, trials, trial.number)
            work = copy.deepcopy(opt)  # the cached optimiser holds finished trials only
            for params in pending:
                work.enqueue(params)
            return work.ask(len(pending) + 1)[-1].params, pending

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """A value from the independent sampler, for a parameter outside the relative
        search space (logged when the study already has a complete trial)."""
        _check_study(study)
        if self._warn_independent_sampling and _has_complete(study):
            _logger.warning(
                "BayesoptSampler: parameter %r of trial %d is sampled by %s (independently "
                "of the others): it is not in the search space every complete trial shares "
                "(a conditional or dynamic parameter), or bayesopt cannot represent it. Pass "
                "warn_independent_sampling=False to silence this.",
                param_name,
                trial.number,
                type(self._independent_sampler).__name__,
            )
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._independent_sampler.after_trial(study, trial, state, values)

    # The bayesopt study ------------------------------------------------------------------
    def to_optimizer(
        self, study: Study, search_space: Mapping[str, BaseDistribution] | None = None
    ) -> bo.Optimizer:
        """The study as bayesopt sees it: a ``bayesopt.Optimizer`` holding its finished
        trials, for bayesopt's analysis tools (``importance``, ``bayesopt.plot``,
        ``model_data``, ``recommend``).

        Args:
            study: a single-objective study.
            search_space: the distributions to model; ``None`` for the relative search
                space (``infer_relative_search_space``).

        Returns:
            A new optimiser (a copy: asking it changes nothing here) whose trials are the
            study's usable finished trials in number order, added with their values
            (failures as failed; pruned ones as set by ``pruned``), with ``maximize`` from
            the study's direction. Categorical and stepped parameters hold the indices
            described in the module docstring.

        Raises:
            ValueError: the study is multi-objective, its trials carry constraints, or no
                parameter of ``search_space`` has a bayesopt parameter.

        Example:
            >>> import optuna
            >>> from bayesopt.integration.optuna import BayesoptSampler
            >>> sampler = BayesoptSampler(seed=0)
            >>> study = optuna.create_study(direction="maximize", sampler=sampler)
            >>> study.optimize(lambda t: -abs(t.suggest_int("n", 0, 9) - 4), n_trials=4)
            >>> opt = sampler.to_optimizer(study)
            >>> opt.maximize, len(opt.trials), opt.best.value == study.best_value
            (True, 4, True)
        """
        _check_study(study)
        trials = study.get_trials(deepcopy=False)
        if search_space is None:
            search_space = {
                name: dist
                for name, dist in intersection_search_space(trials).items()
                if not dist.single()
            }
        codec = _Codec.build(search_space)
        if codec is None:
            raise ValueError(
                "BayesoptSampler.to_optimizer: no parameter of `search_space` has a bayesopt "
                f"parameter (got {dict(search_space)!r})."
            )
        maximize = study.direction == StudyDirection.MAXIMIZE
        with self._lock:
            return copy.deepcopy(self._synced(study.study_name, codec, maximize, trials))

    def _synced(
        self, study_name: str, codec: _Codec, maximize: bool, trials: list[FrozenTrial]
    ) -> bo.Optimizer:
        """The cached optimiser, holding exactly the usable finished trials in number order
        (call with the lock held)."""
        key = (study_name, codec.signature, maximize, self._seed)
        cache = self._cache
        if cache is None or cache.key != key:
            cache = self._cache = _Cache(key, codec, self._new_optimizer(codec, maximize))
        rows = []
        for t in sorted((t for t in trials if t.state.is_finished()), key=attrgetter("number")):
            if t.number not in cache.encoded:
                cache.encoded[t.number] = self._row(codec, t)
            row = cache.encoded[t.number]
            if row is not None:
                rows.append(row)
        told = cache.told
        if [r[::2] for r in rows[: len(told)]] != told:  # a trial finished out of order
            cache.opt, told = self._new_optimizer(codec, maximize), []
        for number, params, value in rows[len(told) :]:
            if value is None:
                cache.opt.add(params, failed=True)
            else:
                cache.opt.add(params, value)
            told.append((number, value))
        cache.told = told
        return cache.opt

    def _new_optimizer(self, codec: _Codec, maximize: bool) -> bo.Optimizer:
        return bo.Optimizer(codec.space, seed=self._seed, maximize=maximize, **self._options)

    def _row(self, codec: _Codec, t: FrozenTrial) -> tuple[int, dict[str, Any], Any] | None:
        """``(number, params, value)`` of a finished trial (value ``None`` for a failure),
        or ``None`` when it does not enter the GP."""
        if t.state == TrialState.COMPLETE:
            value = t.value
        elif t.state == TrialState.FAIL:
            value = None
        elif t.state == TrialState.PRUNED and self._pruned != "ignore":
            value = t.value if self._pruned == "value" else None
        else:
            return None
        if _has_constraints(t):
            raise ValueError(
                f"BayesoptSampler: trial {t.number} has constraints (Trial.set_constraint or "
                "constraints_func), which are not supported yet; bayesopt optimises one "
                "unconstrained objective. Use optuna.samplers.GPSampler or TPESampler."
            )
        internal = {}
        for name, dist in codec.dists.items():
            if name not in t.params or t.distributions.get(name) != dist:
                return None
            internal[name] = dist.to_internal_repr(t.params[name])
        params = codec.encode(internal)
        return None if params is None else (t.number, params, value)


@dataclass
class _Cache:
    """The optimiser of one study and search space, and the finished trials it holds."""

    key: tuple[Any, ...]
    codec: _Codec
    opt: bo.Optimizer
    told: list[tuple[int, float | None]] = field(default_factory=list)
    encoded: dict[int, tuple[int, dict[str, Any], Any] | None] = field(default_factory=dict)


# Distributions <-> bayesopt parameters ------------------------------------------------------
def _n_steps(dist: FloatDistribution) -> int:
    return round((dist.high - dist.low) / dist.step)


def _parameter(dist: BaseDistribution) -> bo.Real | bo.Integer | bo.Categorical | None:
    """The bayesopt parameter of an Optuna distribution, or ``None`` if there is none."""
    try:
        if isinstance(dist, FloatDistribution):
            if dist.step is None:
                return bo.Real(dist.low, dist.high, log=dist.log)
            return bo.Integer(0, _n_steps(dist))
        if isinstance(dist, IntDistribution):
            if dist.step == 1:
                return bo.Integer(dist.low, dist.high, log=dist.log)
            return bo.Integer(0, (dist.high - dist.low) // dist.step)
        if isinstance(dist, CategoricalDistribution):
            return bo.Categorical(tuple(range(len(dist.choices))))
    except (TypeError, ValueError):  # a single value, or beyond bayesopt's integer range
        return None
    return None


def _to_bayesopt(dist: BaseDistribution, x: object) -> float | int | None:
    """An Optuna internal value as its bayesopt value, or ``None`` outside the parameter."""
    try:
        x = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    if isinstance(dist, CategoricalDistribution):
        i = int(x)
        return i if i == x and 0 <= i < len(dist.choices) else None
    if not dist.low <= x <= dist.high:
        return None
    if isinstance(dist, FloatDistribution):
        if dist.step is None:
            return x
        k = (x - dist.low) / dist.step
        return round(k) if abs(k - round(k)) < 1e-6 else None
    k = (x - dist.low) / dist.step
    if k != round(k):
        return None
    return round(x) if dist.step == 1 else round(k)


def _to_optuna(dist: BaseDistribution, value: Any) -> Any:
    """A bayesopt value as the Optuna (external) value of ``dist``."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[value]
    if isinstance(dist, FloatDistribution):
        if dist.step is None:
            return min(max(float(value), dist.low), dist.high)
        return min(dist.low + value * dist.step, dist.high)
    return int(value) if dist.step == 1 else int(dist.low + value * dist.step)


@dataclass(frozen=True)
class _Codec:
    """A relative search space: the distributions bayesopt can represent, and their space."""

    dists: dict[str, BaseDistribution]
    space: bo.Space

    @classmethod
    def build(cls, search_space: Mapping[str, BaseDistribution]) -> _Codec | None:
        params, dists = {}, {}
        for name, dist in search_space.items():
            param = _parameter(dist)
            if param is not None:
                params[name], dists[name] = param, dist
        return cls(dists, bo.Space(params)) if params else None

    @property
    def signature(self) -> tuple[tuple[str, BaseDistribution], ...]:
        return tuple(self.dists.items())

    def encode(self, internal: Mapping[str, Any]) -> dict[str, Any] | None:
        """Optuna internal values as bayesopt params; ``None`` if one is missing or outside."""
        out = {}
        for name, dist in self.dists.items():
            value = _to_bayesopt(dist, internal[name]) if name in internal else None
            if value is None:
                return None
            out[name] = value
        return out

    def decode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: _to_optuna(dist, params[name]) for name, dist in self.dists.items()}


# The study's trials --------------------------------------------------------------------------
def _check_study(study: Study) -> None:
    if len(study.directions) > 1:
        raise ValueError(
            "BayesoptSampler optimises one objective, but the study has "
            f"{len(study.directions)} directions; use a multi-objective sampler "
            "(optuna.samplers.NSGAIISampler, TPESampler) for this study."
        )


def _has_complete(study: Study) -> bool:
    """Whether the study has a complete trial (Optuna's per-trial cache when it has one)."""
    states = (TrialState.COMPLETE,)
    get = getattr(study, "_get_trials", None)
    if get is None:
        return bool(study.get_trials(deepcopy=False, states=states))
    return bool(get(deepcopy=False, states=states, use_cache=True))


def _has_constraints(trial: FrozenTrial) -> bool:
    return any(k == "constraints" or k.startswith("constraints:") for k in trial.system_attrs)


def _pending(codec: _Codec, trials: list[FrozenTrial], current: int) -> list[dict[str, Any]]:
    """The bayesopt params of the running and waiting trials other than ``current`` whose
    point in the space is known: from their params, their enqueued (fixed) params and the
    params a sampler shared in their system attributes."""
    out = []
    for t in trials:
        if t.number == current or t.state not in (TrialState.RUNNING, TrialState.WAITING):
            continue
        internal = _shared(t)
        fixed = t.system_attrs.get("fixed_params") or {}
        for name, dist in codec.dists.items():
            try:
                if name in t.params and t.distributions.get(name) == dist:
                    internal[name] = dist.to_internal_repr(t.params[name])
                elif name in fixed:
                    internal[name] = dist.to_internal_repr(fixed[name])
            except (TypeError, ValueError):
                continue
        params = codec.encode(internal)
        if params is not None:
            out.append(params)
    return out


def _shared(trial: FrozenTrial) -> dict[str, Any]:
    """The internal values ``_share`` stored in a trial's system attributes."""
    parts = []
    while (part := trial.system_attrs.get(f"{_SHARED_KEY}:{len(parts)}")) is not None:
        parts.append(part)
    if not parts:
        return {}
    try:
        data = json.loads("".join(parts))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _share(
    study: Study, trial: FrozenTrial, codec: _Codec, params: Mapping[str, Any], blank: int = 0
) -> int:
    """Store the sampled bayesopt params (as Optuna internal values, in JSON) in the trial's
    system attributes, so that other processes see the trial's point before its objective
    has asked for every parameter. Samplers write system attributes through the study's
    storage.

    Returns:
        The number of attributes written; pass it as ``blank`` when writing again, so that
        chunks the new text does not need are blanked.
    """
    internal = {
        name: dist.to_internal_repr(_to_optuna(dist, params[name]))
        for name, dist in codec.dists.items()
    }
    text = json.dumps(internal)
    chunks = [text[i : i + _ATTR_LENGTH] for i in range(0, len(text), _ATTR_LENGTH)]
    chunks += [""] * (blank - len(chunks))
    for i, chunk in enumerate(chunks):
        study._storage.set_trial_system_attr(trial._trial_id, f"{_SHARED_KEY}:{i}", chunk)
    return len(chunks)


def _near(space: bo.Space, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two points lie within ``1e-4`` of each other in every unit-cube coordinate."""
    return float((space.to_unit(a) - space.to_unit(b)).abs().max()) < 1e-4
