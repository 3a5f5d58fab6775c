"""The study's state as a pure function of its events.

A ``History`` holds the trials, the queue of enqueued params, which journal session owns
each pending trial, and the order in which intermediate values were reported (pruners
compare a trial with those that reached a budget before it). It is never changed: ``apply``
and ``replay`` return a new one. Live calls and the replay of a journal go through the same
function, so a resumed study holds exactly the state of the uninterrupted one.

Example:
    >>> from bayesopt.events import Asked, Told
    >>> from bayesopt.trial import Trial
    >>> h = replay(History(), [Asked((Trial(0, {"x": 0.5}),), 0, None), Told(0, 1.5)])
    >>> h.trials[0].value, h.trials[0].state.value
    (1.5, 'complete')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from bayesopt.events import (
    Added,
    Asked,
    Claimed,
    Enqueued,
    Event,
    EventError,
    Failed,
    Pruned,
    Reported,
    Told,
    typed,
)
from bayesopt.trial import Source, Trial, TrialState

__all__ = ["History", "apply", "replay"]


def _frozen(owners: dict[int, str | None]) -> Mapping[int, str | None]:
    return MappingProxyType(owners)


def _rebuild(
    trials: tuple[Trial, ...],
    queue: tuple,
    owners: dict,
    reports: tuple,
    finished: tuple = (),
    asked_at: tuple = (),
) -> History:
    return History(trials, queue, _frozen(owners), reports, finished, asked_at)


@dataclass(frozen=True)
class History:
    """The state of a study. Read it, never change it (its dicts are shared).

    Attributes:
        trials: every trial in id order.
        queue: params enqueued and not yet asked, first out first.
        owners: pending trial id -> the journal session that asked or claimed it.
        reports: ``(trial id, step)`` of every intermediate report, in the order they were
            made.
        finished: ids of the trials that are no longer pending (told, failed, pruned, or
            added finished), in the order they finished.
        asked_at: per trial id, how many trials had finished when it was asked or added
            (so what a proposer knew then is ``finished[:asked_at[id]]``).
    """

    trials: tuple[Trial, ...] = ()
    queue: tuple[dict[str, Any], ...] = ()
    owners: Mapping[int, str | None] = field(default_factory=lambda: _frozen({}))
    reports: tuple[tuple[int, float], ...] = ()
    finished: tuple[int, ...] = ()
    asked_at: tuple[int, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy with ``owners`` as a plain dict (a read-only view cannot be)."""
        return _rebuild, (
            self.trials, self.queue, dict(self.owners), self.reports, self.finished,
            self.asked_at,
        )  # fmt: skip

    @property
    def pending(self) -> tuple[Trial, ...]:
        """Trials asked and not yet told."""
        return tuple(t for t in self.trials if t.state is TrialState.PENDING)

    @property
    def complete(self) -> tuple[Trial, ...]:
        """Trials told a finite value."""
        return tuple(t for t in self.trials if t.state is TrialState.COMPLETE)

    def best(self, maximize: bool = False) -> Trial | None:
        """The complete trial with the lowest value (highest with ``maximize``), or ``None``.

        Ties go to the earliest trial. Trials without a ``value`` (several objectives) and
        infeasible ones (``feasible`` false) are left out.
        """
        complete = [t for t in self.complete if t.value is not None and t.feasible is not False]
        if not complete:
            return None
        sign = -1.0 if maximize else 1.0
        return min(complete, key=lambda t: sign * t.value)  # type: ignore[operator]


def apply(state: History, event: Event) -> History:
    """The state after one event.

    Raises:
        EventError: the event does not fit the state (an unknown trial, a trial told
            twice, ids out of order, a dequeue that does not match the queue).
    """
    return replay(state, (event,))


def replay(state: History, events: Iterable[Event]) -> History:
    """The state after ``events``, applied in order (one copy of the state, however many).

    The events are taken one by one, so a caller that yields them lazily knows which one
    raised.

    Raises:
        EventError: an event does not fit the state before it.
    """
    trials, queue, owners = list(state.trials), list(state.queue), dict(state.owners)
    reports, finished, asked_at = list(state.reports), list(state.finished), list(state.asked_at)
    for event in events:
        n_trials = len(trials)
        if isinstance(event, Reported | Pruned):
            _stopping(event, trials, owners, reports)
        else:
            _apply(event, trials, queue, owners)
        asked_at += [len(finished)] * (len(trials) - n_trials)
        if isinstance(event, Told | Failed | Pruned):
            finished.append(event.id)
        elif isinstance(event, Added) and event.trial.state is not TrialState.PENDING:
            finished.append(event.trial.id)
    return History(
        tuple(trials), tuple(queue), _frozen(owners), tuple(reports), tuple(finished),
        tuple(asked_at),
    )  # fmt: skip


def _pending(trials: list[Trial], tid: int, what: str) -> Trial:
    if tid >= len(trials):
        raise EventError(f"{what} trial {tid}, but the study has ids 0..{len(trials) - 1}")
    trial = trials[tid]
    if trial.state is not TrialState.PENDING:
        raise EventError(f"{what} trial {tid}, which is already {trial.state.value!r}")
    return trial


def _stopping(event: Reported | Pruned, trials: list[Trial], owners: dict, reports: list) -> None:
    """Apply an intermediate report or a pruning, in place."""
    if isinstance(event, Reported):
        old = _pending(trials, event.id, "reported")
        if old.intermediate and not event.step > old.intermediate[-1][0]:
            raise EventError(
                f"trial {event.id} reported step {event.step!r} after step "
                f"{old.intermediate[-1][0]!r}: steps must increase"
            )
        curve = (*old.intermediate, (event.step, event.value))
        trials[event.id] = replace(old, intermediate=curve)
        reports.append((event.id, event.step))
        return
    old = _pending(trials, event.id, "pruned")
    last = old.intermediate[-1][1] if old.intermediate and event.error is None else None
    trials[event.id] = replace(old, value=last, state=TrialState.PRUNED, error=event.error)
    owners.pop(event.id, None)


def _apply(event: Event, trials: list[Trial], queue: list[dict], owners: dict) -> None:
    """Apply one event to private copies of the state, in place."""
    if isinstance(event, Asked):
        _asked(event, trials, queue, owners)
    elif isinstance(event, Told | Failed):
        tid = event.id
        kind = "told" if isinstance(event, Told) else "failed"
        if tid >= len(trials):
            raise EventError(f"{kind} trial {tid}, but the study has ids 0..{len(trials) - 1}")
        old = trials[tid]
        if old.state is not TrialState.PENDING:
            raise EventError(f"trial {tid} told twice (it is already {old.state.value!r})")
        if isinstance(event, Told):
            trials[tid] = replace(
                old,
                value=event.value,
                state=TrialState.COMPLETE,
                values=None if event.values is None else dict(event.values),
                feasible=event.feasible,
            )
        else:
            trials[tid] = replace(old, state=TrialState.FAILED, error=event.error)
        owners.pop(tid, None)
    elif isinstance(event, Added):
        if event.trial.id != len(trials):
            raise EventError(f"added trial id {event.trial.id}, but the next id is {len(trials)}")
        trials.append(event.trial)
    elif isinstance(event, Enqueued):
        queue.append(event.params)
    elif isinstance(event, Claimed):
        for tid in event.ids:
            if tid >= len(trials) or trials[tid].state is not TrialState.PENDING:
                raise EventError(f"claimed trial {tid}, which is not pending")
            owners[tid] = event.session
    else:
        raise EventError(f"unknown event {event!r}")


def _asked(event: Asked, trials: list[Trial], queue: list[dict], owners: dict) -> None:
    new, k = event.trials, event.dequeued
    for i, t in enumerate(new):
        if t.id != len(trials) + i:
            raise EventError(f"asked trial id {t.id}, but the next id is {len(trials) + i}")
    if k > len(new) or k > len(queue):
        raise EventError(f"{k} trial(s) taken from a queue of {len(queue)}")
    for q, t in zip(queue[:k], new[:k], strict=True):
        if typed(q) != typed(t.params) or t.source is not Source.ENQUEUED:
            raise EventError(f"trial {t.id} was taken from the queue, but the queue holds {q!r}")
    del queue[:k]
    trials.extend(new)
    owners.update({t.id: event.session for t in new})
