"""Trials, their states and their sources."""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


class TrialState(enum.StrEnum):
    """Life cycle of a trial: asked (pending), then complete, failed or pruned (stopped
    early by a pruner, see ``bayesopt.pruners``)."""

    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"


class Source(enum.StrEnum):
    """Where a trial's params came from; compares equal to its string, as journals hold it."""

    INITIAL = "initial"
    """The optimiser's initial design (Sobol or uniform draws)."""
    MODEL = "model"
    """The GP: the maximiser of the acquisition."""
    FALLBACK = "fallback"
    """A space-filling point, when the GP could not be used."""
    RANDOM = "random"
    """A uniform draw of ``RandomSearch``."""
    SOBOL = "sobol"
    """A point of the scrambled Sobol sequence of ``RandomSearch(sobol=True)``."""
    ENQUEUED = "enqueued"
    """Params passed to ``enqueue``."""
    ADDED = "added"
    """An evaluation recorded with ``add``."""
    HYPERGRAD = "hypergrad"
    """A meta-iteration of ``bayesopt.hypergrad.HypergradientDescent``."""
    PROPOSED = "proposed"
    """A point of a user-written proposer that gives no other source."""


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective: what was asked, and what came back.

    Trials are frozen snapshots; the optimiser replaces a pending trial by a complete or
    failed one when it is told, and hands out copies, so editing ``params`` of a returned
    trial never changes the optimiser. ``state`` compares equal to its string.

    Attributes:
        id: position in ask order, starting at 0.
        params: ``{name: value}`` with plain Python values.
        value: the objective value, or ``None`` while pending or when failed; a pruned
            trial keeps its last intermediate value (``None`` if it reported none).
        state: ``"pending"``, ``"complete"``, ``"failed"`` or ``"pruned"``.
        source: where the params came from, a ``Source`` (a string is converted).
        error: why a failed trial failed (``"TypeName: message"`` of the exception the
            objective raised, or the non-finite value it returned), or why a pruned trial
            was stopped if not by its pruner's rule; ``None`` otherwise.
        intermediate: ``(step, value)`` pairs reported during the evaluation, in
            increasing step order (``AskTell.report``).
        budget: the step to train to, when the optimiser chose one (a multi-fidelity
            ``Optimizer``: see ``bayesopt.multifidelity``); ``None`` otherwise.
        values: every outcome told, ``{name: value}``, in a study that declares
            objectives or constraints (``bayesopt.outcomes``); ``None`` otherwise. With
            several objectives ``value`` is ``None`` and the objectives are here.
        feasible: whether every constraint holds, in a study with constraints (a NaN
            constraint value counts as violated); ``None`` otherwise, and while pending.

    Example:
        >>> Trial(id=0, params={"x": 1.0})
        Trial(id=0, params={'x': 1.0}, state="pending")
    """

    id: int
    params: dict[str, Any]
    value: float | None = None
    state: TrialState = TrialState.PENDING
    source: Source = field(default=Source.MODEL, compare=False)
    error: str | None = field(default=None, compare=False)
    intermediate: tuple[tuple[float, float], ...] = field(default=(), compare=False)
    budget: float | None = field(default=None, compare=False)
    values: dict[str, float] | None = field(default=None, compare=False)
    feasible: bool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", TrialState(self.state))
        try:
            object.__setattr__(self, "source", Source(self.source))
        except ValueError:
            known = [s.value for s in Source]
            raise ValueError(f"`source` must be one of {known}, but got {self.source!r}.") from None

    def __repr__(self) -> str:
        value = "" if self.value is None else f", value={self.value!r}"
        budget = "" if self.budget is None else f", budget={self.budget!r}"
        values = "" if self.values is None else f", values={self.values!r}"
        feasible = "" if self.feasible is None else f", feasible={self.feasible!r}"
        return (
            f"Trial(id={self.id}, params={self.params!r}{value}{values}{feasible}, "
            f'state="{self.state.value}"{budget})'
        )

    def copy(self) -> Trial:
        """A copy with its own ``params`` dict."""
        return Trial(
            self.id, dict(self.params), self.value, self.state, self.source, self.error,
            self.intermediate, self.budget,
            None if self.values is None else dict(self.values), self.feasible,
        )  # fmt: skip

    @property
    def is_finished(self) -> bool:
        """Whether the trial has ended (complete, failed or pruned)."""
        return self.state is not TrialState.PENDING

    def to_record(self) -> dict[str, Any]:
        """A flat dict: ``id``, ``state``, ``value``, ``source``, ``params_<name>``,
        ``error`` when the trial has one, ``last_step`` when it reported intermediate
        values, ``budget`` when its ask set one, and, in a study with several outcomes,
        ``values_<name>`` for each outcome and ``feasible`` when it has constraints."""
        record: dict[str, Any] = {
            "id": self.id,
            "state": self.state.value,
            "value": self.value,
            "source": self.source.value,
        }
        record.update({f"params_{k}": v for k, v in self.params.items()})
        if self.error is not None:
            record["error"] = self.error
        if self.intermediate:
            record["last_step"] = self.intermediate[-1][0]
        if self.budget is not None:
            record["budget"] = self.budget
        if self.values is not None:
            record.update({f"values_{k}": v for k, v in self.values.items()})
        if self.feasible is not None:
            record["feasible"] = self.feasible
        return record


def check_value(
    value: object, failed: bool = False, error: object = None
) -> tuple[float | None, str | None]:
    """An objective value as a trial records it: the float (``None`` for a failure) and the
    error text.

    NaN and +-inf count as failures, with an error saying so, and so does a number too large
    for a float (``10**400``, which counts as ``inf``); an ``error`` implies a failure.

    Raises:
        TypeError: ``value`` is not a real number (a float, an int, or a numpy or torch
            scalar), ``failed`` is not a bool, or ``error`` is not a str.
        ValueError: both a value and ``failed=True`` (or an ``error``) were given.

    Example:
        >>> check_value(2), check_value(float("nan")), check_value(None, error="boom")
        ((2.0, None), (None, 'value nan is not finite'), (None, 'boom'))
    """
    if not isinstance(failed, bool | np.bool_):
        raise TypeError(f"`failed` must be a bool, but got {failed!r}.")
    if error is not None and not isinstance(error, str):
        raise TypeError(f"`error` must be a str or None, but got {error!r}.")
    if failed or error is not None:
        if value is not None:
            raise ValueError("pass either a value or `failed=True` (or an `error`), not both.")
        return None, error
    if isinstance(value, np.ndarray | torch.Tensor) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise TypeError(f"`value` must be a real number (or pass failed=True), but got {value!r}.")
    try:
        value = float(value)
    except OverflowError:  # an int (or Fraction) beyond the float range counts as +-inf
        sign = "-" if value < 0 else ""
        return None, f"value {sign}{_digits(value)} is too large for a float (counts as {sign}inf)"
    if math.isfinite(value):
        return value, None
    return None, f"value {value!r} is not finite"


def _digits(value: numbers.Real) -> str:
    """A short text for a huge number: ``10**400`` becomes ``'1000000000...(401 digits)'``."""
    text = str(int(abs(value)))
    return text if len(text) <= 20 else f"{text[:10]}...({len(text)} digits)"
