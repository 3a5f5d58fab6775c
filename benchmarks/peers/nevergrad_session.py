"""Nevergrad's NGOpt and its CMA behind the benchmark ``Session`` interface."""

from __future__ import annotations

from typing import Any

import bayesopt as bo
from benchmarks.peers.common import WorstImputer, category_labels, plain

__all__ = ["NevergradSession", "make_cma", "make_ngopt"]


def _parameter(p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    import nevergrad as ng

    if isinstance(p, bo.Categorical):
        return ng.p.Choice(category_labels(p))
    if p.log:
        param = ng.p.Log(lower=float(p.low), upper=float(p.high))
    else:
        param = ng.p.Scalar(lower=float(p.low), upper=float(p.high))
    return param.set_integer_casting() if isinstance(p, bo.Integer) else param


class NevergradSession:
    """A Nevergrad optimiser (``nevergrad.optimizers.registry[name]``) on a ``ng.p.Dict``.

    Reals are ``ng.p.Scalar`` (``ng.p.Log`` on a log scale), integers the same with integer
    casting, categoricals ``ng.p.Choice`` of their labels; the parametrization's random
    state is ``RandomState(seed)``. The optimiser is told the run's budget and one worker,
    as its documentation asks. A failed evaluation is told as the worst value seen (1.0
    before any): Nevergrad would clip a NaN to 5e20. ``recommend`` is Nevergrad's
    ``provide_recommendation``.
    """

    def __init__(self, space: bo.Space, seed: int, budget: int, optimizer: str) -> None:
        import nevergrad as ng
        import numpy as np

        self.space = space
        self.parametrization = ng.p.Dict(**{n: _parameter(p) for n, p in space.items()})
        self.parametrization.random_state = np.random.RandomState(seed)
        self.optimizer = ng.optimizers.registry[optimizer](
            parametrization=self.parametrization, budget=budget, num_workers=1
        )
        self._candidate: Any = None
        self._imputer = WorstImputer()

    def _params(self, value: dict[str, Any]) -> dict[str, Any]:
        return {name: plain(value[name], p) for name, p in self.space.items()}

    def ask(self) -> dict[str, Any]:
        self._candidate = self.optimizer.ask()
        return self._params(self._candidate.value)

    def tell(self, value: float) -> None:
        assert self._candidate is not None, "tell() before ask()"
        self.optimizer.tell(self._candidate, self._imputer.finite(value))
        self._candidate = None

    def recommend(self) -> dict[str, Any]:
        """Nevergrad's recommendation (its estimate of the best point)."""
        return self._params(self.optimizer.provide_recommendation().value)

    def close(self) -> None:
        """Stop the threads of recast optimizers (SQP, Powell... which NGOpt may pick):
        they are not daemons, and a process that still holds one does not exit."""
        _stop_recast_threads(self.optimizer, set())

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        chosen = getattr(self.optimizer, "optim", None)  # NGOpt's pick, once made
        if chosen is not None:
            out["optimizer"] = type(chosen).__name__
        if self._imputer.failed:
            out["failed_imputed"] = self._imputer.failed
        return out


def _stop_recast_threads(obj: Any, seen: set[int], depth: int = 0) -> None:
    """Stop every ``_messaging_thread`` of ``obj`` and of the optimizers it holds."""
    from nevergrad.optimization.base import Optimizer

    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    thread = getattr(obj, "_messaging_thread", None)
    if thread is not None:
        thread.stop()
    for value in vars(obj).values():
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, Optimizer):
                _stop_recast_threads(item, seen, depth + 1)


def make_ngopt(space: bo.Space, seed: int, budget: int) -> NevergradSession:
    """``NGOpt``: Nevergrad's own choice of algorithm for this space and budget."""
    return NevergradSession(space, seed, budget, "NGOpt")


def make_cma(space: bo.Space, seed: int, budget: int) -> NevergradSession:
    """Nevergrad's ``CMA`` (pycma through Nevergrad's parametrization)."""
    return NevergradSession(space, seed, budget, "CMA")
