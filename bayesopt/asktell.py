"""The ask/tell life cycle shared by every optimiser: history, pending trials, validation.

A subclass only decides *where* to evaluate next (``_suggest``). Everything else (the
trial list, the queue of enqueued params, the checks on every public call, the best trial,
export, persistence) lives here, so that ``Optimizer`` and ``RandomSearch`` behave
identically at the edge. Each public call validates all of its input before it changes any
state.

Every change of state is an *event* (asked, told, failed, added, enqueued, claimed) applied
by one function, ``_apply``, to copies of the state, which are swapped in by one statement.
With ``storage=`` the events are appended to a journal (``bayesopt.storage``) before they
are swapped in, and a journal is resumed by applying its events with that same function:
the restored trials (ids, params with their exact types, values, states, sources), queue
and seed are exactly those of the uninterrupted study. Since an ask is a pure function of
the seed, the trials and the queue, a resumed study proposes what the uninterrupted one
would have.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, overload

import numpy as np
import torch

from bayesopt import storage as _storage
from bayesopt._rng import derive_seed, fresh_seed
from bayesopt.space import Space
from bayesopt.storage import Bad, Journal, JournalError
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


def _check_value(value: object, failed: bool, error: object = None) -> tuple[float | None, Any]:
    """The value as a float (``None`` for a failure) and the error text.

    NaN and inf count as failures, with an error saying so; an ``error`` implies a failure.
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
    value = float(value)
    if math.isfinite(value):
        return value, None
    return None, f"value {value!r} is not finite"


def _check_storage(storage: object) -> str | None:
    if storage is None:
        return None
    if not isinstance(storage, str | os.PathLike):
        raise TypeError(
            f"`storage` must be a path (str or os.PathLike) or None, but got {storage!r}."
        )
    path = os.fspath(storage)
    if not isinstance(path, str) or not path:
        raise ValueError(f"`storage` must be a non-empty path, but got {storage!r}.")
    return path


def _open_storage_after(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an ``__init__`` so that the journal opens once the outermost one has returned.

    The journal records (or, when resuming, checks) the constructor's settings, which a
    subclass sets after ``AskTell.__init__``; so it can only open when construction is done.
    """

    @functools.wraps(init)
    def __init__(self: AskTell, *args: Any, **kwargs: Any) -> None:
        depth = self.__dict__.get("_init_depth", 0)
        self.__dict__["_init_depth"] = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            self.__dict__["_init_depth"] = depth
        if depth == 0:
            del self.__dict__["_init_depth"]
            self._open_storage()

    return __init__


def _typed(params: Mapping[str, Any]) -> list[tuple[str, type, Any]]:
    return [(k, type(v), v) for k, v in params.items()]


_State = tuple[list[Trial], list[dict[str, Any]], dict[int, Any]]


_RUNTIME = ("self", "space", "seed", "maximize", "storage", "device", "threads")
"""Constructor arguments that are not settings of the study recorded in a journal."""


class AskTell:
    """Base class: the ask/tell life cycle over a ``Space``.

    Args:
        space: the search space.
        seed: seeds every random choice; ``None`` draws one from OS entropy (or, when
            resuming a journal, takes the study's seed).
        maximize: maximise the objective instead of minimising it.
        storage: a journal file (see ``bayesopt.storage``): every change is appended to it
            and fsynced before the call returns. An existing journal is resumed: it must
            hold a study of the same class, space and settings.
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        storage: str | os.PathLike | None = None,
    ) -> None:
        if not isinstance(space, Space):
            raise TypeError(f"`space` must be a bayesopt.Space, but got {space!r}.")
        if not isinstance(maximize, bool):
            raise TypeError(f"`maximize` must be a bool, but got {maximize!r}.")
        self._storage = _check_storage(storage)
        self.space = space
        self.seed = _check_seed(seed)
        self.maximize = maximize
        self._trials: list[Trial] = []
        self._queue: list[dict[str, Any]] = []
        self._owners: dict[int, Any] = {}  # pending trial id -> the journal session that owns it
        self._lock = threading.RLock()
        self._depth = 0
        self._seed_given = seed is not None
        self._journal: Journal | None = None
        self._read_only: str | None = None  # why changes are refused (load(), closed)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _open_storage_after(cls.__dict__["__init__"])  # type: ignore[method-assign]

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
        with self._mutating():
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
            self._commit(
                [
                    {
                        "event": "asked",
                        "trials": new,
                        "dequeued": len(from_queue),
                        "session": self._session(),
                    }
                ]
            )
        out = [t.copy() for t in new]
        return out[0] if n is None else out

    # Telling ----------------------------------------------------------------------------
    def tell(
        self,
        trial: Trial | int,
        value: float | None = None,
        *,
        failed: bool = False,
        error: str | None = None,
    ) -> Trial:
        """Record the result of an asked trial.

        Args:
            trial: the ``Trial`` returned by ``ask``, or its ``id`` (with ``storage``, also a
                trial another process asked).
            value: the objective value. NaN or +-inf marks the trial failed.
            failed: mark the trial failed (then pass no value).
            error: why the evaluation failed (e.g. ``"ValueError: bad input"``); kept as
                ``Trial.error``. Passing it marks the trial failed.

        Returns:
            The finished trial (``state`` ``"complete"`` or ``"failed"``).

        Raises:
            TypeError: ``trial`` is neither a Trial nor an int, or ``value`` is not real.
            ValueError: the trial is unknown, was already told, or belongs elsewhere.
        """
        checked, why = _check_value(value, failed, error)
        with self._mutating():
            tid = self._resolve(trial)
            old = self._trials[tid]
            if old.state is not TrialState.PENDING:
                raise ValueError(
                    f"trial {tid} was already told (state {old.state.value!r}); "
                    "each trial is told once."
                )
            if checked is None:
                event = {"event": "failed", "id": tid, "error": why}
            else:
                event = {"event": "told", "id": tid, "value": checked}
            self._commit([event])
            new = self._trials[tid]
        return new.copy()

    def add(
        self,
        params: Mapping[str, Any],
        value: float | None = None,
        *,
        failed: bool = False,
        error: str | None = None,
    ) -> Trial:
        """Record an evaluation made outside the optimiser (a warm start).

        Args:
            params: ``{name: value}``, inside the space.
            value: the objective value (NaN or +-inf marks it failed).
            failed: record a failed evaluation (then pass no value).
            error: why the evaluation failed; passing it records a failure.

        Returns:
            The new finished trial, with ``source="added"``.
        """
        checked_params = self.space.validate(params)
        checked, why = _check_value(value, failed, error)
        with self._mutating():
            state = TrialState.FAILED if checked is None else TrialState.COMPLETE
            trial = Trial(len(self._trials), checked_params, checked, state, "added", why)
            self._commit([{"event": "added", "trial": trial}])
        return trial.copy()

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Make a following ``ask`` return exactly these params (first in, first out).

        Args:
            params: ``{name: value}``, inside the space.
        """
        checked = self.space.validate(params)
        with self._mutating():
            self._commit([{"event": "enqueued", "params": checked}])

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

    # Events -----------------------------------------------------------------------------
    @staticmethod
    def _apply(event: dict[str, Any], trials: list, queue: list, owners: dict) -> None:
        """Apply one event to the state ``(trials, queue, owners)`` in place.

        The one place where state changes: live calls and journal replay both use it.

        Raises:
            Bad: the event does not fit the state (wrapped with a line number on replay).
        """
        kind = event["event"]
        if kind == "asked":
            new, k = event["trials"], event["dequeued"]
            for i, t in enumerate(new):
                if t.id != len(trials) + i:
                    raise Bad(f"asked trial id {t.id}, but the next id is {len(trials) + i}")
            if k > len(new) or k > len(queue):
                raise Bad(f"{k} trial(s) taken from a queue of {len(queue)}")
            for q, t in zip(queue[:k], new[:k], strict=True):
                if _typed(q) != _typed(t.params) or t.source != "enqueued":
                    raise Bad(f"trial {t.id} was taken from the queue, but the queue holds {q!r}")
            del queue[:k]
            trials.extend(new)
            owners.update({t.id: event["session"] for t in new})
        elif kind in ("told", "failed"):
            tid = event["id"]
            if tid >= len(trials):
                raise Bad(f"{kind} trial {tid}, but the study has ids 0..{len(trials) - 1}")
            old = trials[tid]
            if old.state is not TrialState.PENDING:
                raise Bad(f"trial {tid} told twice (it is already {old.state.value!r})")
            if kind == "told":
                trials[tid] = Trial(tid, old.params, event["value"], "complete", old.source)
            else:
                trials[tid] = Trial(tid, old.params, None, "failed", old.source, event["error"])
            owners.pop(tid, None)
        elif kind == "added":
            trial = event["trial"]
            if trial.id != len(trials):
                raise Bad(f"added trial id {trial.id}, but the next id is {len(trials)}")
            trials.append(trial)
        elif kind == "enqueued":
            queue.append(event["params"])
        elif kind == "claimed":
            for tid in event["ids"]:
                if tid >= len(trials) or trials[tid].state is not TrialState.PENDING:
                    raise Bad(f"claimed trial {tid}, which is not pending")
                owners[tid] = event["session"]
        else:  # pragma: no cover - decode_event lets no other kind through
            raise Bad(f"unknown event {kind!r}")

    def _commit(self, events: list[dict[str, Any]]) -> None:
        """Apply events to copies of the state, append them to the journal, swap them in."""
        trials, queue, owners = list(self._trials), list(self._queue), dict(self._owners)
        for event in events:
            self._apply(event, trials, queue, owners)
        if self._journal is None:
            self._trials, self._queue, self._owners = trials, queue, owners
            return
        pos = self._journal.append([_storage.encode_event(e) for e in events])
        # One statement: if an interrupt lands after the append and before this line, the
        # position is not moved either, and the next call reads these events back.
        self._trials, self._queue, self._owners, self._journal.pos = trials, queue, owners, pos

    def _replay(self, records: list[tuple[int, dict]], path: str, state: _State) -> _State:
        """Decode and apply journal records to a copy of ``state``."""
        trials, queue, owners = list(state[0]), list(state[1]), dict(state[2])
        for line, obj in records:
            try:
                self._apply(_storage.decode_event(obj, self.space), trials, queue, owners)
            except Bad as exc:
                raise JournalError(f"{path}, line {line}: {exc}.") from None
        return trials, queue, owners

    @contextlib.contextmanager
    def _mutating(self) -> Iterator[None]:
        """Hold the locks of a change; with a journal, first apply what others appended."""
        if self._read_only is not None:
            cls = type(self).__name__
            raise RuntimeError(
                f"this {cls} {self._read_only}; to continue the study, open it with "
                f"bayesopt.{cls}(space, storage={self._storage!r})."
            )
        with self._lock:
            outer = self._depth == 0 and self._journal is not None
            with self._journal.locked() if outer else contextlib.nullcontext():  # type: ignore[union-attr]
                if outer:
                    self._sync()
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1

    def _sync(self) -> None:
        """Apply the events other processes appended since this one last read."""
        assert self._journal is not None
        records, pos = self._journal.read_new()
        state = (self._trials, self._queue, self._owners)
        if records:
            state = self._replay(records, str(self._journal.path), state)
        self._trials, self._queue, self._owners, self._journal.pos = (*state, pos)

    def _session(self) -> str | None:
        return None if self._journal is None else self._journal.session

    # Storage ----------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        """The constructor's keyword arguments other than seed, maximize and storage, as
        resolved by this instance (the attribute of the same name), for the journal.

        ``device`` and ``threads`` are left out too: where and on how many threads the GP
        runs is not part of a study, which may be created on a GPU and resumed on a CPU (the
        asks agree up to float rounding)."""
        params = inspect.signature(type(self).__init__).parameters.values()
        names = [
            p.name
            for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in _RUNTIME
        ]
        missing = [n for n in names if not hasattr(self, n)]
        if missing:
            raise TypeError(
                f"{type(self).__name__} keeps no attribute for its argument(s) {missing}, so "
                "storage cannot record them; define a `_settings()` method."
            )
        return {n: getattr(self, n) for n in names}

    def _open_storage(self) -> None:
        """Create the journal, or resume it (called once construction is complete)."""
        if self._storage is None:
            return
        record = _storage.created_record(
            type(self), self.space, self.seed, self.maximize, self._settings()
        )
        journal = Journal(self._storage, writable=True)
        try:
            with self._lock, journal.locked():
                records, pos = journal.read_new()
                journal.pos = pos
                if not records:
                    pos = journal.append([record])
                    seed, state = self.seed, ([], [], {})
                else:
                    seed = self._check_created(records[0], str(journal.path))
                    state = self._replay(records[1:], str(journal.path), ([], [], {}))
                self.seed = seed
                self._trials, self._queue, self._owners = state
                journal.pos = pos
                self._journal = journal
        except BaseException:
            journal.close()
            raise

    def _check_created(self, first: tuple[int, dict], path: str) -> int:
        """Check a journal's ``created`` line against this instance; returns its seed."""
        try:
            created = _storage.decode_created(first[1])
        except Bad as exc:
            raise JournalError(f"{path}, line {first[0]}: {exc}.") from None
        name = f"{type(self).__module__}:{type(self).__qualname__}"
        if created.optimizer != name:
            raise ValueError(
                f"{path} holds a study of {created.optimizer}, not of {name}; open it with "
                "that class, or read it with bayesopt.load()."
            )
        if created.space != self.space:
            raise ValueError(
                f"`space` differs from the space of the study in {path} "
                f"({_space_diff(created.space, self.space)}); a study resumes only with the "
                "space it was created with."
            )
        if self._seed_given and created.seed != self.seed:
            raise ValueError(
                f"`seed={self.seed}` differs from the seed of the study in {path} "
                f"({created.seed}); pass seed=None (or that seed) to resume it."
            )
        if created.maximize != self.maximize:
            raise ValueError(
                f"`maximize={self.maximize}` differs from the study in {path} "
                f"(maximize={created.maximize})."
            )
        mine = self._settings()
        diffs = [
            f"{k}={created.settings[k]!r} in the journal but {mine[k]!r} here"
            for k in created.settings
            if k in mine and created.settings[k] != mine[k]
        ]
        if diffs:
            raise ValueError(
                f"the settings differ from the study in {path}: {'; '.join(diffs)}. Pass the "
                "same settings to resume it (or read it with bayesopt.load())."
            )
        return created.seed

    def _next_trial(self, limit: int) -> Trial | None:
        """For ``minimize``: a pending trial whose process died (claimed for this one), else
        a new ask while the study holds fewer than ``limit`` trials, else ``None``."""
        with self._mutating():
            if self._journal is not None:
                for t in self._trials:
                    if t.state is TrialState.PENDING and not self._journal.is_alive(
                        self._owners.get(t.id)
                    ):
                        claim = {"event": "claimed", "ids": [t.id], "session": self._session()}
                        self._commit([claim])
                        return self._trials[t.id].copy()
            if len(self._trials) >= limit:
                return None
            return self.ask()

    def _close_storage(self) -> None:
        """Close the journal: this process's pending trials become claimable by others."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
                self._read_only = "was closed"

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


def _space_diff(a: Space, b: Space) -> str:
    """What differs between two spaces, in words."""
    if a.names != b.names:
        return f"parameters {a.names} in the journal, {b.names} here"
    diffs = [f"{k}: {a[k]!r} in the journal, {b[k]!r} here" for k in a.names if a[k] != b[k]]
    return "; ".join(diffs)


AskTell.__init__ = _open_storage_after(AskTell.__init__)  # type: ignore[method-assign]
