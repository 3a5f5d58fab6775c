"""The events a study is made of: every change of its state is one of these.

``bayesopt.history`` applies them to the state; ``bayesopt.journal`` writes them as lines
and reads them back. Both import this module and nothing of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bayesopt.trial import Trial

__all__ = [
    "Added",
    "Asked",
    "Claimed",
    "Enqueued",
    "Event",
    "EventError",
    "Failed",
    "Pruned",
    "Reported",
    "Told",
    "typed",
]


class EventError(Exception):
    """An event, or a journal record, does not decode or does not fit the history.

    Internal: the journal reports it as a ``JournalError`` naming the line, and a live call
    never produces one (it validates first).
    """


@dataclass(frozen=True)
class Asked:
    """New pending trials: the first ``dequeued`` of them taken from the queue, in order.

    Attributes:
        trials: the pending trials, with consecutive ids from the next free one.
        dequeued: how many of them came from the front of the queue.
        session: the journal session that asked them (``None`` without a journal).
    """

    trials: tuple[Trial, ...]
    dequeued: int
    session: str | None


@dataclass(frozen=True)
class Told:
    """A pending trial completed with a finite ``value``.

    In a study that declares outcomes, ``values`` holds every outcome told and
    ``feasible`` whether the constraints hold (``None`` without constraints); ``value`` is
    the single objective's value, ``None`` with several objectives.
    """

    id: int
    value: float | None
    values: dict[str, float] | None = None
    feasible: bool | None = None


@dataclass(frozen=True)
class Failed:
    """A pending trial failed, with the ``error`` text (or ``None``)."""

    id: int
    error: str | None


@dataclass(frozen=True)
class Added:
    """A finished trial recorded from outside (``source`` ``"added"``), with the next id."""

    trial: Trial


@dataclass(frozen=True)
class Enqueued:
    """Params appended to the queue that ``ask`` empties first."""

    params: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    """Pending trials whose session died, taken over by ``session``."""

    ids: tuple[int, ...]
    session: str | None


@dataclass(frozen=True)
class Reported:
    """An intermediate ``value`` of a pending trial at budget ``step`` (epochs, iterations,
    a data fraction): steps of a trial strictly increase."""

    id: int
    step: float
    value: float


@dataclass(frozen=True)
class Pruned:
    """A pending trial stopped early: by its pruner's rule (``error`` ``None``), or because
    it reported a value that is not finite (``error`` says so)."""

    id: int
    error: str | None


Event = Asked | Told | Failed | Added | Enqueued | Claimed | Reported | Pruned


def typed(params: Mapping[str, Any]) -> list[tuple[str, type, Any]]:
    """``params`` with each value's exact type, for comparisons where ``1 == 1.0 == True``
    must not hold."""
    return [(k, type(v), v) for k, v in params.items()]
