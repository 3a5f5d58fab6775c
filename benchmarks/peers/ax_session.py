"""Ax (``ax.api.Client``) with its default generation strategy behind the benchmark
``Session`` interface."""

from __future__ import annotations

import logging
import math
from typing import Any

import bayesopt as bo
from benchmarks.peers.common import category_labels, plain

__all__ = ["AxSession", "ax_parameters", "make_ax"]

METRIC = "loss"


def ax_parameters(space: bo.Space) -> list[Any]:
    """``space`` as Ax parameter configs: ``RangeParameterConfig`` (float or int, log
    scaling as in bayesopt) and unordered ``ChoiceParameterConfig`` of the labels."""
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    out: list[Any] = []
    for name, p in space.items():
        if isinstance(p, bo.Categorical):
            labels = category_labels(p)
            out.append(ChoiceParameterConfig(name, labels, "str", is_ordered=False))
            continue
        kind = "float" if isinstance(p, bo.Real) else "int"
        bounds = (float(p.low), float(p.high)) if kind == "float" else (int(p.low), int(p.high))
        out.append(RangeParameterConfig(name, bounds, kind, scaling="log" if p.log else "linear"))
    return out


class AxSession:
    """An ``ax.api.Client(random_seed=seed)`` minimising one metric, with Ax's default
    generation strategy (a Sobol initial design, then BoTorch models chosen by Ax).

    Trials come from ``get_next_trials`` (``max_trials=q`` for a round) and are completed
    with ``complete_trial``; a failed evaluation is ``mark_trial_failed``. ``recommend`` is
    ``get_best_parameterization()`` (model-predicted best in-sample arm). Ax's INFO logs
    are silenced for the session's lifetime.
    """

    def __init__(self, space: bo.Space, seed: int) -> None:
        from ax.api.client import Client

        self._logger = logging.getLogger("ax")
        self._level = self._logger.level
        self._logger.setLevel(logging.WARNING)
        self.space = space
        self.client = Client(random_seed=seed)
        self.client.configure_experiment(parameters=ax_parameters(space))
        self.client.configure_optimization(objective=f"-{METRIC}")
        self._pending: list[int] = []

    def _params(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: plain(values[name], p) for name, p in self.space.items()}

    def ask_batch(self, q: int) -> list[dict[str, Any]]:
        """Up to ``q`` trials of one round (Ax generates them jointly)."""
        trials = self.client.get_next_trials(max_trials=q)
        self._pending = list(trials)
        return [self._params(trials[i]) for i in self._pending]

    def tell_batch(self, values: list[float]) -> None:
        """Complete (or mark failed) the round's trials, in ask order."""
        for index, value in zip(self._pending, values, strict=True):
            if math.isfinite(value):
                self.client.complete_trial(index, raw_data={METRIC: float(value)})
            else:
                self.client.mark_trial_failed(index)
        self._pending = []

    def ask(self) -> dict[str, Any]:
        return self.ask_batch(1)[0]

    def tell(self, value: float) -> None:
        self.tell_batch([value])

    def recommend(self) -> dict[str, Any] | None:
        """Ax's best parameterization (model-predicted, in-sample)."""
        try:
            params, *_ = self.client.get_best_parameterization()
        except Exception:  # no complete trial yet, or no model: fall back to the best seen
            return None
        return self._params(params)

    def close(self) -> None:
        """Restore the level of Ax's logger."""
        self._logger.setLevel(self._level)

    def info(self) -> dict[str, Any]:
        return {}


def make_ax(space: bo.Space, seed: int) -> AxSession:
    """Ax's ``Client`` with its defaults."""
    return AxSession(space, seed)
