"""The ask/tell life cycle shared by every optimiser: history, pending trials, validation.

A subclass only decides *where* to evaluate next (``_suggest``). Everything else (the
trial list, the queue of enqueued params, the checks on every public call, the best trial,
export) lives here, so that ``Optimizer`` and ``RandomSearch`` behave identically at the
edge. Each public call validates all of its input before it changes any state.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Mapping
from typing import Any, overload

import numpy as np
import torch

from bayesopt._rng import derive_seed, fresh_seed
from bayesopt.space import Space
from bayesopt.trial import Trial, TrialState

__all__ = ["AskTell"]


def _check_seed(seed: object) -> int:
    if seed is None:
        return fresh_seed()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"`seed` must be an int or None, but got {seed!r}.")
    if seed < 0:
        raise ValueError(f"`seed >= 0` must hold, but got seed={seed}.")
    return int(seed)


def _check_value(value: object, failed: bool) -> float | None:
    """The value as a float, ``None`` for a failure; NaN and inf count as failures."""
    if not isinstance(failed, bool | np.bool_):
        raise TypeError(f"`failed` must be a bool, but got {failed!r}.")
    if failed:
        if value is not None:
            raise ValueError("pass either a value or `failed=True`, not both.")
        return None
    if isinstance(value, np.ndarray | torch.Tensor) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise TypeError(f"`value` must be a real number (or pass failed=True), but got {value!r}.")
    value = float(value)
    return value if math.isfinite(value) else None


class AskTell:
    """Base class: the ask/tell life cycle over a ``Space``.

    Args:
        space: the search space.
        seed: seeds every random choice; ``None`` draws one from OS entropy.
        maximize: maximise the objective instead of minimising it.
    """

    def __init__(self, space: Space, *, seed: int | None = None, maximize: bool = False) -> None:
        if not isinstance(space, Space):
            raise TypeError(f"`space` must be a bayesopt.Space, but got {space!r}.")
        if not isinstance(maximize, bool):
            raise TypeError(f"`maximize` must be a bool, but got {maximize!r}.")
        self.space = space
        self.seed = _check_seed(seed)
        self.maximize = maximize
        self._trials: list[Trial] = []
        self._queue: list[dict[str, Any]] = []
        self._lock = threading.RLock()

    # Subclass hook ----------------------------------------------------------------------
    def _suggest(
        self, n: int, pending: list[dict[str, Any]], position: int, seed: int
    ) -> list[tuple[dict, str]]:
        """Propose ``n`` params dicts, each with its source label. Must not change state.

        Args:
            n: number of points.
            pending: params asked and not told, including enqueued ones being asked now.
            position: the id the first proposal will get.
            seed: the seed of this ask.
        """
        raise NotImplementedError

    # Asking -----------------------------------------------------------------------------
    @overload
    def ask(self) -> Trial: ...

    @overload
    def ask(self, n: int) -> list[Trial]: ...

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Propose where to evaluate next.

        Args:
            n: ``None`` for one ``Trial``; an int ``>= 1`` for a list of ``n`` trials proposed
                jointly (diverse, with each other and with all pending trials accounted for).

        Returns:
            A pending ``Trial``, or a list of them. Enqueued params come out first.

        Example:
            >>> import bayesopt as bo
            >>> opt = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0)
            >>> trial = opt.ask()
            >>> trial.state
            <TrialState.PENDING: 'pending'>
        """
        if n is not None and (not isinstance(n, numbers.Integral) or isinstance(n, bool)):
            raise TypeError(f"`n` must be an int or None, but got {n!r}.")
        if n is not None and n < 1:
            raise ValueError(f"`n >= 1` must hold, but got n={n}.")
        count = 1 if n is None else int(n)
        with self._lock:
            from_queue = self._queue[:count]
            pending = [t.params for t in self._trials if t.state is TrialState.PENDING]
            pending = pending + from_queue
            seed = derive_seed(self.seed, len(self._trials))
            position = len(self._trials) + len(from_queue)
            n_new = count - len(from_queue)
            suggested = self._suggest(n_new, pending, position, seed) if n_new else []
            proposals = [(p, "enqueued") for p in from_queue] + suggested
            start = len(self._trials)
            new = [
                Trial(id=start + i, params=dict(p), source=src)
                for i, (p, src) in enumerate(proposals)
            ]
            # Commit only after every proposal was made.
            del self._queue[: len(from_queue)]
            self._trials.extend(new)
        out = [t.copy() for t in new]
        return out[0] if n is None else out

    # Telling ----------------------------------------------------------------------------
    def tell(
        self, trial: Trial | int, value: float | None = None, *, failed: bool = False
    ) -> Trial:
        """Record the result of an asked trial.

        Args:
            trial: the ``Trial`` returned by ``ask``, or its ``id``.
            value: the objective value. NaN or +-inf marks the trial failed.
            failed: mark the trial failed (then pass no value).

        Returns:
            The finished trial (``state`` ``"complete"`` or ``"failed"``).

        Raises:
            TypeError: ``trial`` is neither a Trial nor an int, or ``value`` is not real.
            ValueError: the trial is unknown, was already told, or belongs elsewhere.
        """
        checked = _check_value(value, failed)
        with self._lock:
            tid = self._resolve(trial)
            old = self._trials[tid]
            if old.state is not TrialState.PENDING:
                raise ValueError(
                    f"trial {tid} was already told (state {old.state.value!r}); "
                    "each trial is told once."
                )
            new = self._finished(old, checked)
            self._trials[tid] = new
        return new.copy()

    def add(
        self, params: Mapping[str, Any], value: float | None = None, *, failed: bool = False
    ) -> Trial:
        """Record an evaluation made outside the optimiser (a warm start).

        Args:
            params: ``{name: value}``, inside the space.
            value: the objective value (NaN or +-inf marks it failed).
            failed: record a failed evaluation (then pass no value).

        Returns:
            The new finished trial, with ``source="added"``.
        """
        checked_params = self.space.validate(params)
        checked = _check_value(value, failed)
        with self._lock:
            trial = Trial(id=len(self._trials), params=checked_params, source="added")
            trial = self._finished(trial, checked)
            self._trials.append(trial)
        return trial.copy()

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Make a following ``ask`` return exactly these params (first in, first out).

        Args:
            params: ``{name: value}``, inside the space.
        """
        checked = self.space.validate(params)
        with self._lock:
            self._queue.append(checked)

    def _resolve(self, trial: Trial | int) -> int:
        if isinstance(trial, Trial):
            tid = trial.id
        elif isinstance(trial, numbers.Integral) and not isinstance(trial, bool):
            tid = int(trial)
        else:
            raise TypeError(f"`trial` must be a Trial or an int id, but got {trial!r}.")
        if not 0 <= tid < len(self._trials):
            raise ValueError(
                f"unknown trial id {tid}; this optimiser has ids 0..{len(self._trials) - 1}."
            )
        if isinstance(trial, Trial) and trial.params != self._trials[tid].params:
            raise ValueError(f"trial {tid} does not belong to this optimiser (params differ).")
        return tid

    @staticmethod
    def _finished(trial: Trial, value: float | None) -> Trial:
        state = TrialState.FAILED if value is None else TrialState.COMPLETE
        return Trial(trial.id, trial.params, value, state, trial.source)

    # Reading ----------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        """All trials in ask order (copies: editing them changes nothing here)."""
        return [t.copy() for t in self._trials]

    @property
    def pending(self) -> list[Trial]:
        """Trials asked and not yet told."""
        return [t.copy() for t in self._trials if t.state is TrialState.PENDING]

    @property
    def best(self) -> Trial | None:
        """The best complete trial (lowest value, highest with ``maximize=True``), or None."""
        complete = [t for t in self._trials if t.state is TrialState.COMPLETE]
        if not complete:
            return None
        sign = -1.0 if self.maximize else 1.0
        return min(complete, key=lambda t: sign * t.value).copy()

    def _loss(self, value: float) -> float:
        """The value in minimisation orientation."""
        return -value if self.maximize else value

    def to_records(self) -> list[dict[str, Any]]:
        """Trials as flat dicts: ``id``, ``state``, ``value``, ``source``, ``params_<name>``."""
        return [t.to_record() for t in self._trials]

    def to_dataframe(self) -> Any:
        """Trials as a ``pandas.DataFrame`` (one row per trial); needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(space={self.space!r}, seed={self.seed}, "
            f"maximize={self.maximize}, n_trials={len(self._trials)})"
        )
