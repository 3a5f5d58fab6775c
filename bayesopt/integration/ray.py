"""``BayesoptSearch``: a Ray Tune searcher that proposes with bayesopt's GP optimiser.

Ray Tune runs the trials (on a laptop or a cluster), schedules them (ASHA, PBT, ...) and
limits their concurrency (``ConcurrencyLimiter``, ``max_concurrent_trials``); the searcher
only decides where to evaluate next. Trials that are running when a new one is suggested
are pending points of the bayesopt optimiser, so a batch of concurrent trials is diverse.

The search space is a ``bayesopt.Space``, or Tune's ``param_space`` (given to the
``Tuner`` or here), converted parameter by parameter (``"a/b"`` names a nested key):

* ``tune.uniform(lo, hi)``, ``tune.loguniform``: ``Real(lo, hi)``, ``log=True``;
* ``tune.quniform(lo, hi, q)``, ``tune.qloguniform``: an ``Integer`` over the multiples
  ``k * q`` in ``[lo, hi]`` (``log=True``);
* ``tune.randint(lo, hi)``, ``tune.lograndint``: ``Integer(lo, hi - 1)`` (Tune excludes
  ``hi``), ``log=True``;
* ``tune.qrandint(lo, hi, q)``, ``tune.qlograndint``: an ``Integer`` over the multiples of
  ``q`` (Tune includes ``hi`` when ``q > 1``);
* ``tune.choice(categories)``: ``Categorical`` over the categories' indices;
* constants: left to Tune (not searched).

``tune.randn``/``qrandn`` (unbounded), ``tune.sample_from`` and ``tune.grid_search`` have
no bayesopt counterpart and raise ``ValueError``, as do domains inside lists.

A trial that ends is told its last reported value of ``metric`` (this includes trials a
scheduler such as ASHA stopped early: Tune does not tell a searcher why a trial ended); a
trial that errored, or whose result lacks the metric or holds a value that is not a real
number, is told as a failure.

The examples in the docstrings are plain code (Ray Tune is an optional extra, so they are
not doctests); the tests run them.
"""

from __future__ import annotations

import math
import numbers
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bayesopt as bo

try:
    from ray.tune.search import Searcher
    from ray.tune.search.sample import (
        Categorical,
        Domain,
        Float,
        Integer,
        LogUniform,
        Quantized,
        Uniform,
    )
    from ray.tune.search.variant_generator import parse_spec_vars
except ImportError as exc:  # the module stays importable; the searcher says what is missing
    _IMPORT_ERROR: ImportError | None = exc
    Searcher = object  # type: ignore[assignment,misc]
else:
    _IMPORT_ERROR = None

__all__ = ["BayesoptSearch", "to_space"]

_RESERVED = ("maximize", "storage", "pruner")
_MODES = ("min", "max")
_STATE_VERSION = 1


@dataclass(frozen=True)
class _Param:
    """How one searched parameter maps between a Tune config and bayesopt.

    ``kind`` is ``"plain"`` (the bayesopt value is the config value), ``"grid"`` (the
    config value is ``index * q``; ``integral`` says whether it is an int) or ``"choice"``
    (the config value is ``categories[index]``). ``path`` is where the value sits in a
    nested config, or ``None`` for a flat key (a ``bayesopt.Space`` given directly).
    """

    path: tuple[str, ...] | None
    kind: str = "plain"
    q: float | int = 1
    integral: bool = False
    categories: tuple[Any, ...] = ()

    def to_config(self, value: Any) -> Any:
        if self.kind == "choice":
            return self.categories[value]
        if self.kind == "grid":
            return int(value * self.q) if self.integral else float(value * self.q)
        return value

    def from_config(self, value: Any) -> Any:
        """The bayesopt value of a config value (bayesopt validates the range)."""
        if self.kind == "choice":
            exact = [i for i, c in enumerate(self.categories) if type(c) is type(value)]
            for i in exact + list(range(len(self.categories))):
                if _equal(self.categories[i], value):
                    return i
            raise ValueError(f"value must be one of {list(self.categories)!r}, but got {value!r}.")
        if self.kind == "grid":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"expected a multiple of {self.q!r}, but got {value!r}.")
            k = round(value / self.q)
            if not math.isclose(k * self.q, value, rel_tol=1e-9, abs_tol=1e-12):
                raise ValueError(f"value must be a multiple of {self.q!r}, but got {value!r}.")
            return k
        return value


def to_space(config: Mapping[str, Any]) -> bo.Space:
    """The ``bayesopt.Space`` of a Tune ``param_space`` (its searched parameters).

    Args:
        config: a Tune search space: a (nested) dict of ``tune.uniform``,
            ``tune.loguniform``, ``tune.quniform``, ``tune.randint``, ``tune.choice``, ...
            and constants. A nested key is named by its path, ``"outer/inner"``.

    Raises:
        ValueError: a domain has no bayesopt counterpart (unbounded, ``sample_from``,
            ``grid_search``, inside a list), or the config searches nothing.

    Example:
        ```python
        from ray import tune
        from bayesopt.integration.ray import to_space

        space = to_space({"lr": tune.loguniform(1e-4, 0.1), "net": {"n": tune.randint(1, 4)}})
        assert space["lr"] == bo.Real(1e-4, 0.1, log=True)
        assert space["net/n"] == bo.Integer(1, 3)  # Tune's randint excludes its upper bound
        ```
    """
    return _convert(config)[0]


def _convert(config: Mapping[str, Any]) -> tuple[bo.Space, dict[str, _Param]]:
    if _IMPORT_ERROR is not None:
        raise ImportError("this needs Ray Tune: pip install 'bayesopt[ray]'") from _IMPORT_ERROR
    if not isinstance(config, Mapping):
        raise TypeError(f"`config` must be a dict (a Tune param_space), but got {config!r}.")
    _, domains, grids = parse_spec_vars(dict(config))
    if grids:
        names = ["/".join(map(str, path)) for path, _ in grids]
        raise ValueError(
            f"BayesoptSearch: {names} use tune.grid_search, which a searcher cannot combine "
            "with its own proposals; use tune.choice instead."
        )
    if not domains:
        raise ValueError("BayesoptSearch: the config has no parameter to search.")
    params: dict[str, Any] = {}
    maps: dict[str, _Param] = {}
    for path, domain in domains:
        name = "/".join(map(str, path))
        if not all(isinstance(p, str) for p in path):
            raise ValueError(
                f"BayesoptSearch: parameter {name!r} sits inside a list; only nested dicts "
                "are supported."
            )
        try:
            params[name], maps[name] = _parameter(tuple(path), domain)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"BayesoptSearch: parameter {name!r}: {exc}") from None
    return bo.Space(params), maps


def _parameter(path: tuple[str, ...], domain: Domain) -> tuple[Any, _Param]:
    """The bayesopt parameter of one Tune domain, and its mapping."""
    sampler = domain.get_sampler()
    q = None
    if isinstance(sampler, Quantized):
        q, sampler = sampler.q, sampler.sampler
    log = isinstance(sampler, LogUniform)
    if isinstance(domain, Categorical) and isinstance(sampler, Uniform):
        categories = tuple(domain.categories)
        return bo.Categorical(tuple(range(len(categories)))), _Param(
            path, "choice", categories=categories
        )
    if not isinstance(domain, Float | Integer) or not isinstance(sampler, Uniform | LogUniform):
        raise ValueError(
            f"{type(domain).__name__} with a {type(sampler).__name__} sampler has no bayesopt "
            "counterpart; bayesopt needs bounded parameters (tune.uniform, loguniform, "
            "quniform, randint, lograndint, qrandint, choice)."
        )
    integral = isinstance(domain, Integer)
    if q is None:
        if integral:  # Tune's integer domains exclude the upper bound
            return bo.Integer(domain.lower, domain.upper - 1, log=log), _Param(path)
        return bo.Real(domain.lower, domain.upper, log=log), _Param(path)
    low, high = _grid_index(domain.lower, q, math.ceil), _grid_index(domain.upper, q, math.floor)
    if integral and q == 1:  # qrandint(q=1) excludes the upper bound, as randint does
        high -= 1
    return bo.Integer(low, high, log=log), _Param(path, "grid", q=q, integral=integral)


def _grid_index(bound: float, q: float, rounding: Any) -> int:
    """``bound``'s index on the grid of multiples of ``q``, rounded inwards (as Tune does)."""
    scaled = bound / q
    nearest = round(scaled)
    return int(nearest) if math.isclose(scaled, nearest) else int(rounding(scaled))


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


class BayesoptSearch(Searcher):
    """A Ray Tune searcher backed by ``bayesopt.Optimizer`` (GP-based Bayesian optimisation).

    Args:
        space: a ``bayesopt.Space`` (suggestions are flat dicts of its names), or a Tune
            search space (a nested dict of ``tune.uniform``, ``tune.choice``, ...);
            ``None`` to take the ``Tuner``'s ``param_space``.
        metric: the result key to optimise; ``None`` to take the ``TuneConfig``'s.
        mode: ``"min"`` or ``"max"``; ``None`` to take the ``TuneConfig``'s.
        points_to_evaluate: configurations to evaluate first, in order (e.g. the current
            defaults), as config dicts of the search space.
        seed: seeds the optimiser; ``None`` draws one from OS entropy.
        **optimizer_options: passed to ``bayesopt.Optimizer`` (``n_initial``,
            ``acquisition``, ``model_options``, ``device``, ...); ``mode`` sets
            ``maximize``.

    Raises:
        ImportError: Ray Tune is not installed.
        TypeError: an argument has the wrong type, or is one the searcher sets itself.
        ValueError: an argument is out of range, or the space has a parameter bayesopt
            cannot represent.

    Example:
        Pass it as ``tune.TuneConfig(search_alg=BayesoptSearch(seed=0), ...)``; by hand,
        the calls Tune makes look like this:

        ```python
        import bayesopt as bo
        from bayesopt.integration.ray import BayesoptSearch

        search = BayesoptSearch(bo.Space({"x": bo.Real(-2.0, 2.0)}), "loss", "min", seed=0)
        for i in range(6):
            config = search.suggest(f"trial_{i}")
            search.on_trial_complete(f"trial_{i}", {"loss": (config["x"] - 0.5) ** 2})
        assert search.optimizer.best.value < 0.5
        ```
    """

    def __init__(
        self,
        space: bo.Space | Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        *,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        **optimizer_options: Any,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ImportError(
                "BayesoptSearch needs Ray Tune: pip install 'bayesopt[ray]'"
            ) from _IMPORT_ERROR
        if metric is not None and not isinstance(metric, str):
            raise TypeError(f"BayesoptSearch: `metric` must be a str or None, but got {metric!r}.")
        if mode is not None and mode not in _MODES:
            raise ValueError(
                f"BayesoptSearch: `mode` must be 'min', 'max' or None, but got {mode!r}."
            )
        reserved = [k for k in _RESERVED if k in optimizer_options]
        if reserved:
            raise TypeError(
                f"BayesoptSearch: `{reserved[0]}` is not an option here: the direction is "
                "`mode`, and Tune owns the checkpoints and the schedulers."
            )
        if points_to_evaluate is not None and (
            isinstance(points_to_evaluate, Mapping | str)
            or not isinstance(points_to_evaluate, Sequence)
            or not all(isinstance(p, Mapping) for p in points_to_evaluate)
        ):
            raise TypeError(
                "BayesoptSearch: `points_to_evaluate` must be a list of config dicts, but got "
                f"{points_to_evaluate!r}."
            )
        probe = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=seed, **optimizer_options)
        super().__init__(metric=metric, mode=mode)
        self._seed = probe.seed
        self._options = dict(optimizer_options)
        self._points = [dict(p) for p in points_to_evaluate or ()]
        self._space: bo.Space | None = None
        self._maps: dict[str, _Param] = {}
        self._opt: bo.Optimizer | None = None
        self._live: dict[str, int] = {}
        if space is not None:
            self._set_space(space)

    # Tune's searcher interface -----------------------------------------------------------
    def set_search_properties(
        self, metric: str | None, mode: str | None, config: Mapping[str, Any], **spec: Any
    ) -> bool:
        """Take the ``Tuner``'s metric, mode and ``param_space`` (Tune calls this).

        Returns:
            ``True`` when the space was taken from ``config``; ``False`` when the searcher
            already has one (its metric and mode are still filled in when unset).
        """
        if self._opt is None:
            if metric is not None and self._metric is None:
                self._metric = metric
            if mode is not None and self._mode is None:
                if mode not in _MODES:
                    raise ValueError(
                        f"BayesoptSearch: `mode` must be 'min' or 'max', not {mode!r}."
                    )
                self._mode = mode
        if self._space is not None:
            return False
        self._set_space(config)
        return True

    def suggest(self, trial_id: str) -> dict[str, Any]:
        """The next configuration, with the running trials as pending points.

        Raises:
            RuntimeError: there is no search space, metric or mode yet.
        """
        opt = self._optimizer()
        trial = opt.ask()
        self._live[trial_id] = trial.id
        return self._to_config(trial.params)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """Nothing: the searcher learns from the last result, in ``on_trial_complete``."""

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Tell the optimiser the trial's last value of ``metric``, or a failure.

        A trial this searcher did not suggest (or already told) is ignored.
        """
        tid = self._live.pop(trial_id, None)
        if tid is None or self._opt is None:
            return
        why = _failure(result, self._metric, error)
        if why is None:
            self._opt.tell(tid, result[self._metric])  # type: ignore[index]
        else:
            self._opt.tell(tid, error=why)

    def add_evaluated_point(
        self,
        parameters: Mapping[str, Any],
        value: float | None,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Record a configuration evaluated outside this search (a warm start).

        ``value`` is the metric (``None``, NaN or ``error=True`` record a failure); a pruned
        point is recorded with its value, as a trial a scheduler stopped is.
        """
        opt = self._optimizer()
        params = self._from_config(parameters)
        checked = None if value is None else opt.check_value(value)
        if error or checked is None:
            opt.add(params, failed=True)
        else:
            opt.add(params, checked)

    def save(self, checkpoint_path: str) -> None:
        """Pickle the searcher's state (space, optimiser with its history, live trials)."""
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        """Load a state written by ``save``; the search continues where it stopped."""
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

    def get_state(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "metric": self._metric,
            "mode": self._mode,
            "seed": self._seed,
            "options": self._options,
            "points": self._points,
            "space": self._space,
            "maps": self._maps,
            "optimizer": self._opt,
            "live": dict(self._live),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
            raise ValueError("BayesoptSearch: not a state written by BayesoptSearch.save.")
        self._metric, self._mode = state["metric"], state["mode"]
        self._seed, self._options = state["seed"], state["options"]
        self._points, self._space, self._maps = state["points"], state["space"], state["maps"]
        self._opt, self._live = state["optimizer"], dict(state["live"])

    # The optimiser -------------------------------------------------------------------------
    @property
    def space(self) -> bo.Space | None:
        """The bayesopt search space, once known."""
        return self._space

    @property
    def optimizer(self) -> bo.Optimizer:
        """The bayesopt optimiser: every suggested, told and added trial (created on first
        use; needs the space, metric and mode)."""
        return self._optimizer()

    def _set_space(self, space: bo.Space | Mapping[str, Any]) -> None:
        if isinstance(space, bo.Space):
            maps = {name: _Param(None) for name in space}
        elif isinstance(space, Mapping):
            space, maps = _convert(space)
        else:
            raise TypeError(
                "BayesoptSearch: `space` must be a bayesopt.Space or a Tune search space "
                f"(a dict), but got {space!r}."
            )
        old = (self._space, self._maps)
        self._space, self._maps = space, maps
        try:
            for point in self._points:
                self._from_config(point)
        except (TypeError, ValueError):
            self._space, self._maps = old
            raise

    def _optimizer(self) -> bo.Optimizer:
        if self._opt is not None:
            return self._opt
        if self._space is None:
            raise RuntimeError(
                "BayesoptSearch has no search space: pass `space=` or give the Tuner a "
                "`param_space` of tune.uniform, tune.randint, tune.choice, ..."
            )
        if self._metric is None or self._mode is None:
            raise RuntimeError(
                "BayesoptSearch needs a `metric` and a `mode` ('min' or 'max'): pass them "
                "here or to tune.TuneConfig."
            )
        opt = bo.Optimizer(
            self._space, seed=self._seed, maximize=self._mode == "max", **self._options
        )
        for point in self._points:
            opt.enqueue(self._from_config(point))
        self._opt = opt
        return opt

    def _to_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for name, value in params.items():
            m = self._maps[name]
            if m.path is None:
                config[name] = m.to_config(value)
                continue
            node = config
            for key in m.path[:-1]:
                node = node.setdefault(key, {})
            node[m.path[-1]] = m.to_config(value)
        return config

    def _from_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Bayesopt params of a config dict (nested like the search space).

        Raises:
            TypeError, ValueError: a value is missing, has the wrong type or lies outside.
        """
        assert self._space is not None
        if not isinstance(config, Mapping):
            raise TypeError(f"BayesoptSearch: a config must be a dict, but got {config!r}.")
        params = {}
        for name, m in self._maps.items():
            node: Any = config
            for key in m.path or (name,):
                if not isinstance(node, Mapping) or key not in node:
                    raise ValueError(f"BayesoptSearch: the config {config!r} has no {name!r}.")
                node = node[key]
            try:
                params[name] = m.from_config(node)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"BayesoptSearch: parameter {name!r}: {exc}") from None
        return self._space.validate(params)


def _failure(result: Mapping[str, Any] | None, metric: str | None, error: bool) -> str | None:
    """Why a finished trial counts as failed, or ``None`` when its result has a value."""
    if error:
        return "the trial raised an error"
    if result is None or metric not in result:
        return f"the trial reported no {metric!r}"
    value = result[metric]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"the trial reported {metric!r} = {value!r}, not a real number"
    if not math.isfinite(value):
        return f"the trial reported {metric!r} = {value!r}"
    return None
