"""The ask/tell front every proposer shares: validation, events, the journal.

A proposer (``Optimizer``, ``RandomSearch`` or your own) only decides *where* to evaluate
next. Everything else lives here, so that every proposer behaves identically at the edge:
each public call validates all of its input, turns it into events (``bayesopt.events``),
appends them to the journal when there is one (``bayesopt.journal``), and applies them to
the history (``bayesopt.history``) in one assignment. A rejected call leaves the proposer
exactly as it was. Since an ask is a pure function of the seed and the history, a study
resumed from its journal proposes what the uninterrupted one would have.

Writing a proposer: subclass ``AskTell`` (one level deep) and

1. in ``__init__``, call ``super().__init__(space, seed=seed, maximize=maximize)``, check
   and keep your own arguments, and end with ``self.open(storage)``: the journal records
   ``settings()``, so it can only be opened once they are set;
2. implement ``settings()`` when the proposer has arguments that define the study: the
   keyword arguments ``k`` such that ``cls(space, seed=, maximize=, **settings())`` builds
   the same proposer. A journal records them, refuses to resume with other values, and
   ``bayesopt.load`` passes them back (``restore``). Values are those a journal stores
   (``None``, ``bool``, ``int``, ``float``, ``str``, tuples, numpy scalars, bayesopt's
   option dataclasses). Leave out what only says where or how fast it runs;
3. implement ``suggest(request)``: ``request.n`` new points from ``request.history``,
   without changing any state, drawing randomness only from ``request.seed``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self, overload

import torch

from bayesopt import outcomes as outcomes_module
from bayesopt._rng import check_seed, derive_seed
from bayesopt.events import (
    Added,
    Asked,
    Claimed,
    Enqueued,
    Event,
    Failed,
    Pruned,
    Reported,
    Told,
)
from bayesopt.history import History, replay
from bayesopt.journal import Header, Journal, JournalError, encode_event, encode_header
from bayesopt.proposal import Request, to_params
from bayesopt.pruners import Pruner
from bayesopt.resume import (
    check_header,
    check_storage,
    class_name,
    find_class,
    read_header,
    replay_records,
)
from bayesopt.space import Space
from bayesopt.trial import Source, Trial, TrialState
from bayesopt.trial import check_value as _check_value

__all__ = ["AskTell", "load"]


class AskTell:
    """The ask/tell front: the trials, the queue, the journal and every check.

    Args:
        space: the search space.
        seed: seeds every random choice; ``None`` draws one from OS entropy (or, when
            resuming a journal, takes the study's seed).
        maximize: maximise the objective instead of minimising it.
        pruner: stops trials early from their intermediate reports (``report``,
            ``should_stop``; see ``bayesopt.pruners``); ``None`` never stops one.
        objectives: ``{name: "min" | "max"}``: a study with these objectives, told a
            mapping (``tell(trial, {name: value, ...})``); see ``bayesopt.outcomes``.
            ``None`` (default): one objective, told a float, unless ``constraints`` is
            given. Not with ``maximize=True`` (the directions are here).
        constraints: ``{name: ("<=" | ">=", bound)}``: black-box constraints, told with
            the objectives; a trial is feasible when each holds. Without ``objectives``
            the one objective is called ``"value"``.
        reference_point: ``{objective: value}`` with two or more objectives: the point,
            in the user's units, beyond which a trade-off is worth nothing (an error of
            0.5, a latency of 100 ms). ``reference_point()`` and ``hypervolume()`` use it,
            and an ``Optimizer`` maximises the hypervolume above it. ``None`` (default):
            inferred from the first trials (``reference_point()``).
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        pruner: Pruner | None = None,
        objectives: Mapping[str, str] | None = None,
        constraints: Mapping[str, tuple[str, float]] | None = None,
        reference_point: Mapping[str, float] | None = None,
    ) -> None:
        if not isinstance(space, Space):
            raise TypeError(f"`space` must be a bayesopt.Space, but got {space!r}.")
        if not isinstance(maximize, bool):
            raise TypeError(f"`maximize` must be a bool, but got {maximize!r}.")
        if pruner is not None and not isinstance(pruner, Pruner):
            raise TypeError(
                f"`pruner` must be a bayesopt.pruners.Pruner or None, but got {pruner!r}."
            )
        self.outcomes = outcomes_module.Outcomes.declare(
            objectives, constraints, maximize=maximize, reference_point=reference_point
        )
        if self.outcomes is not None and pruner is not None:
            raise ValueError(
                "`pruner` works on one objective told as floats; a study with `objectives=` "
                "or `constraints=` takes no pruner."
            )
        self.pruner = pruner
        self.space = space
        self.seed = check_seed(seed)
        self.maximize = maximize
        self._history = History()
        self._lock = threading.RLock()
        self._depth = 0
        self._seed_given = seed is not None
        self._storage: str | None = None
        self._journal: Journal | None = None
        self._read_only: str | None = None  # why changes are refused (load(), closed)

    # What a proposer defines --------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The keyword arguments, besides space, seed, maximize and storage, that define
        this study (a journal records them). None here."""
        return {}

    def suggest(self, request: Request) -> torch.Tensor | Sequence[Any]:
        """Propose ``request.n`` new points: the one method a proposer implements.

        Returns:
            An ``n x d`` tensor of unit-cube points, or a sequence of ``n`` points, each a
            params dict or a ``d`` unit-cube point, optionally paired with its ``Source``
            as ``(point, source)``. Unpaired points get ``Source.PROPOSED``. Params are
            validated, unit points decoded with ``Space.from_unit``. A multi-fidelity
            proposer returns ``(point, source, budget)`` triples instead: the step to
            train each trial to, kept as ``Trial.budget``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement `suggest(request)`.")

    # The journal ----------------------------------------------------------------------------
    def open(self, storage: str | os.PathLike | None) -> None:
        """Record the study in a journal file, or resume the study it holds.

        A proposer's ``__init__`` ends with this call. Every later change is appended to the
        file and fsynced before the call returns (see ``bayesopt.journal``). An existing
        journal must hold a study of the same class, space, maximize, seed (unless the seed
        was ``None``) and ``settings()``; its trials, queue and seed are restored.

        Args:
            storage: the journal's path, or a ``Storage`` (a path with lock options);
                ``None`` does nothing.

        Raises:
            TypeError: ``storage`` is not a path, or the space or settings hold values a
                journal cannot store (then no file is created).
            ValueError: the journal holds another study (the message says what differs), or
                the path is not a regular file, or has several hard links.
            JournalError: the file is not a journal, or is corrupt beyond a torn last line.
            TimeoutError: its lock was not free within ``Storage.lock_timeout``.
            RuntimeError: the proposer already has a journal, or already has trials.
        """
        spec = check_storage(storage)
        if spec is None:
            return
        path = str(spec.path)
        if self._journal is not None or self._read_only is not None:
            raise RuntimeError(f"this {type(self).__name__} already has a journal.")
        if self._history.trials or self._history.queue:
            raise RuntimeError("`open(storage)` must come before the first ask, add or enqueue.")
        settings = self.settings()
        if self.pruner is not None:
            settings = {**settings, "pruner": self.pruner}
        if self.outcomes is not None:
            settings = {**settings, **self.outcomes.settings()}
        mine = Header(class_name(type(self)), self.space, self.seed, self.maximize, settings)
        record = encode_header(mine)  # unstorable values fail before a file exists
        journal = Journal(path, writable=True, lock_timeout=spec.lock_timeout)
        try:
            with self._lock, journal.locked():
                records, pos = journal.read_new()
                journal.pos = pos
                where = str(journal.path)
                seed, state = self.seed, History()
                if not records:
                    pos = journal.append([record])
                else:
                    header = read_header(records[0], where)
                    check_header(header, mine, where, seed_given=self._seed_given)
                    seed, state = header.seed, replay_records(records[1:], self.space, where, state)
                journal.pos = pos
                self.seed, self._history, self._storage, self._journal = seed, state, path, journal
        except BaseException:
            journal.close()
            raise

    def close(self) -> None:
        """Close the journal: this process's pending trials become claimable by others, and
        later changes raise ``RuntimeError``. Without a journal, nothing happens."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
                self._read_only = "was closed"

    @classmethod
    def restore(
        cls,
        space: Space,
        history: History,
        *,
        seed: int,
        maximize: bool,
        settings: Mapping[str, Any],
        path: str,
    ) -> Self:
        """A read-only proposer holding ``history``: how ``bayesopt.load`` rebuilds a study.

        Builds ``cls(space, seed=seed, maximize=maximize, **settings)`` without a journal;
        reading works, while ``ask``, ``tell``, ``add`` and ``enqueue`` raise
        ``RuntimeError`` naming ``path``, the journal to open to continue the study.
        """
        opt = cls(space, seed=seed, maximize=maximize, **settings)
        opt._history, opt._storage = history, path
        opt._read_only = "was opened read-only by bayesopt.load()"
        return opt

    # Copies -----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """What ``copy.copy``, ``copy.deepcopy`` and ``pickle`` keep: everything but the
        lock and the journal. A copy of a journalled study is a read-only snapshot (it
        cannot write to the journal, which belongs to the original); a copy of a study
        without a journal is an independent optimiser, which asks what the original would."""
        state = self.__dict__.copy()
        del state["_lock"]
        state["_depth"] = 0
        if state["_journal"] is not None:
            state["_journal"] = None
            state["_read_only"] = "is a copy (a read-only snapshot) of a journalled study"
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __copy__(self) -> Self:
        """A deep copy: a shallow one would share the proposer's caches with the original."""
        return copy.deepcopy(self)

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
            state = self._history
            from_queue = state.queue[:count]
            start = len(state.trials)
            request = Request(
                n=count - len(from_queue),
                history=state,
                pending=tuple(t.params for t in state.pending) + from_queue,
                position=start + len(from_queue),
                seed=derive_seed(self.seed, start),
            )
            new = [
                Trial(start + i, dict(p), source=Source.ENQUEUED) for i, p in enumerate(from_queue)
            ]
            if request.n:
                answer, budgets = _split_budgets(self.suggest(request))
                who = f"{type(self).__name__}.suggest"
                proposals = to_params(answer, request.n, self.space, who)
                for (params, source), budget in zip(proposals, budgets, strict=True):
                    new.append(Trial(start + len(new), params, source=source, budget=budget))
            # Commit only after every proposal was made.
            self._commit([Asked(tuple(new), len(from_queue), self._session())])
        out = [t.copy() for t in new]
        return out[0] if n is None else out

    def next_trial(self, budget: int) -> Trial | None:
        """The next trial to evaluate, for a loop that may share its journal with others.

        Args:
            budget: the number of trials the study should reach.

        Returns:
            A pending trial whose process died (claimed for this one; only with a journal),
            else a new ask while the study holds fewer than ``budget`` trials, else ``None``.
        """
        if not isinstance(budget, numbers.Integral) or isinstance(budget, bool):
            raise TypeError(f"`budget` must be an int, but got {budget!r}.")
        with self._mutating():
            if self._journal is not None:
                for t in self._history.pending:
                    if not self._journal.is_alive(self._history.owners.get(t.id)):
                        self._commit([Claimed((t.id,), self._session())])
                        return self._history.trials[t.id].copy()
            if len(self._history.trials) >= budget:
                return None
            return self.ask()

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
            trial: the ``Trial`` returned by ``ask``, or its ``id`` (with a journal, also a
                trial another process asked).
            value: the objective value. NaN or +-inf marks the trial failed. In a study
                that declares outcomes (``objectives=``, ``constraints=``), a mapping
                ``{name: value}`` with every objective and every constraint: a
                non-finite objective marks the trial failed; a NaN constraint value
                counts as violated (the trial completes, infeasible).
            failed: mark the trial failed (then pass no value).
            error: why the evaluation failed (e.g. ``"ValueError: bad input"``); kept as
                ``Trial.error``. Passing it marks the trial failed.

        Returns:
            The finished trial (``state`` ``"complete"`` or ``"failed"``).

        Raises:
            TypeError: ``trial`` is neither a Trial nor an int, or ``value`` is not real
                (in a study with declared outcomes: not a mapping of real numbers).
            ValueError: the trial is unknown, was already told, or belongs elsewhere; an
                outcome is missing or unknown.
        """
        told = self._check_told(value, failed, error)
        with self._mutating():
            tid = self._pending(trial, "each trial is told once").id
            self._commit([told(tid)])
            new = self._history.trials[tid]
        return new.copy()

    def _check_told(self, value: object, failed: bool, error: object) -> Any:
        """The event of a tell, as a function of the trial id (everything checked first)."""
        if self.outcomes is None or failed or error is not None:
            if self.outcomes is None and isinstance(value, Mapping):
                raise TypeError(
                    f"this study declares no outcomes: tell a float, but got {value!r} (pass "
                    "`objectives=` or `constraints=` to the optimiser to tell a mapping)."
                )
            checked, why = _check_value(value, failed, error)
            return lambda tid: Failed(tid, why) if checked is None else Told(tid, checked)
        values, single, feasible, why = self.outcomes.check(value)
        if why is not None:
            return lambda tid: Failed(tid, why)
        return lambda tid: Told(tid, single, values, feasible)

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
            value: the objective value (NaN or +-inf marks it failed); with declared
                outcomes, a mapping of every outcome, as ``tell`` takes.
            failed: record a failed evaluation (then pass no value).
            error: why the evaluation failed; passing it records a failure.

        Returns:
            The new finished trial, with ``source`` ``Source.ADDED``.
        """
        checked_params = self.space.validate(params)
        told = self._check_told(value, failed, error)(0)
        if isinstance(told, Failed):
            state, checked, why, values, feasible = TrialState.FAILED, None, told.error, None, None
        else:
            state, checked, why = TrialState.COMPLETE, told.value, None
            values, feasible = told.values, told.feasible
        with self._mutating():
            tid = len(self._history.trials)
            trial = Trial(
                tid, checked_params, checked, state, Source.ADDED, why,
                values=values, feasible=feasible,
            )  # fmt: skip
            self._commit([Added(trial)])
        return trial.copy()

    # Stopping early ---------------------------------------------------------------------
    def report(self, trial: Trial | int, step: float, value: float) -> Trial:
        """Record an intermediate value of a pending trial, at a budget ``step``.

        Args:
            trial: a pending trial, or its id.
            step: the budget spent so far (epochs, iterations, a data fraction): a finite
                number ``>= 0``, larger than the trial's previous step, and within the
                pruner's budgets (``max_resource``) and the optimiser's fidelity range
                (``check_step``).
            value: the objective at that step. NaN or +-inf prunes the trial (its error
                says why).

        Returns:
            The trial, with the report in ``intermediate`` (or pruned).

        Raises:
            TypeError: ``step`` or ``value`` is not a real number.
            ValueError: the trial is unknown or not pending, or ``step`` is negative, not
                finite, not larger than the previous one or beyond the pruner's budgets.
        """
        step = _check_step(step)
        self.check_step(step)
        checked, why = _check_value(value)
        with self._mutating():
            old = self._pending(trial, "report on pending trials only")
            tid = old.id
            if old.intermediate and not step > old.intermediate[-1][0]:
                raise ValueError(
                    f"`step` must increase: trial {tid} already reported step "
                    f"{old.intermediate[-1][0]!r}, and got {step!r}."
                )
            if checked is None:
                event: Event = Pruned(tid, f"intermediate value at step {step!r}: {why}")
            else:
                event = Reported(tid, step, checked)
            self._commit([event])
            return self._history.trials[tid].copy()

    def should_stop(self, trial: Trial | int) -> bool:
        """Whether a trial should stop now, by the pruner's rule or because it reached the
        budget its ask set (``reached_budget``); if so it is pruned at once (a journal
        event), keeping its curve and its last value.

        Returns:
            ``True`` for a trial that is (now) pruned; ``False`` without a pruner, or while
            the trial should go on.

        Raises:
            ValueError: the trial is unknown, complete or failed.
        """
        with self._mutating():
            if self._history.trials[self._resolve(trial)].state is TrialState.PRUNED:
                return True
            current = self._pending(trial, "only a pending trial can be stopped")
            tid = current.id
            if not self.reached_budget(current) and (
                self.pruner is None
                or not self.pruner.should_stop(
                    current, self._history, maximize=self.maximize, seed=self.seed
                )
            ):
                return False
            self._commit([Pruned(tid, None)])
            return True

    def continues(self, trial: Trial | int) -> Trial | None:
        """The earlier trial whose training run ``trial`` may resume, or ``None``.

        A multi-fidelity ``Optimizer`` asks again for a configuration that an earlier trial
        trained to a lower budget and stopped, when it predicts that configuration to beat
        every one trained to the full budget (a promotion; ``Fidelity(promote=True)``).
        Whoever keeps checkpoints may resume that run instead of training afresh: load the
        checkpoint of the trial returned here and report only the steps beyond its last
        report (freeze-thaw). It is the stopped (pruned) earlier trial with the same params
        that trained furthest below ``trial``'s budget (the latest of equals); ``None`` if
        there is none.

        Raises:
            TypeError: ``trial`` is not a Trial or an int id.
            ValueError: the trial is unknown.

        Example:
            >>> import bayesopt as bo
            >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
            >>> first = rs.ask()
            >>> _ = rs.report(first, 3, 0.5)
            >>> _ = rs.prune(first)
            >>> rs.enqueue(first.params)  # the same configuration, asked again
            >>> again = rs.ask()
            >>> rs.continues(again).id, rs.continues(first)
            (0, None)
        """
        trials = self._history.trials
        mine = trials[self._resolve(trial)]
        limit = math.inf if mine.budget is None else mine.budget
        best: Trial | None = None
        for t in trials[: mine.id]:
            if (
                t.state is TrialState.PRUNED
                and t.intermediate
                and t.params == mine.params
                and t.intermediate[-1][0] < limit
                and (best is None or t.intermediate[-1][0] >= best.intermediate[-1][0])
            ):
                best = t
        return None if best is None else best.copy()

    def check_step(self, step: float) -> None:
        """Raise ``ValueError`` for a report's step outside the study's budgets (here the
        pruner's; a multi-fidelity ``Optimizer`` also checks its fidelity range)."""
        if self.pruner is not None:
            self.pruner.check_step(step)

    def reached_budget(self, trial: Trial) -> bool:
        """Whether ``should_stop`` stops a pending trial because it reached the budget its
        ask set (``Trial.budget``) below the full one. Never, here; a multi-fidelity
        ``Optimizer`` stops its low-budget trials so."""
        return False

    def prune(self, trial: Trial | int) -> Trial:
        """Stop a pending trial early by the caller's own decision (``minimize`` calls it
        when the objective raises ``bayesopt.Pruned``).

        Returns:
            The pruned trial: its ``value`` is its last intermediate value, or ``None``.

        Raises:
            ValueError: the trial is unknown or not pending.
        """
        with self._mutating():
            tid = self._pending(trial, "only a pending trial can be pruned").id
            self._commit([Pruned(tid, None)])
            return self._history.trials[tid].copy()

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Make a following ``ask`` return exactly these params (first in, first out).

        Args:
            params: ``{name: value}``, inside the space.
        """
        checked = self.space.validate(params)
        with self._mutating():
            self._commit([Enqueued(checked)])

    @staticmethod
    def check_value(value: object) -> float | None:
        """The value as ``tell`` records it: a float, or ``None`` for a failure (NaN, +-inf).

        Raises:
            TypeError: ``value`` is not a real number (a float, an int, or a numpy or torch
                scalar).

        Example:
            >>> import numpy as np
            >>> AskTell.check_value(np.float32(0.5)), AskTell.check_value(float("inf"))
            (0.5, None)
        """
        return _check_value(value)[0]

    def _resolve(self, trial: Trial | int) -> int:
        if isinstance(trial, Trial):
            tid = trial.id
        elif isinstance(trial, numbers.Integral) and not isinstance(trial, bool):
            tid = int(trial)
        else:
            raise TypeError(f"`trial` must be a Trial or an int id, but got {trial!r}.")
        trials = self._history.trials
        if not 0 <= tid < len(trials):
            raise ValueError(
                f"unknown trial id {tid}; this optimiser has ids 0..{len(trials) - 1}."
            )
        if isinstance(trial, Trial) and trial.params != trials[tid].params:
            raise ValueError(f"trial {tid} does not belong to this optimiser (params differ).")
        return tid

    def _pending(self, trial: Trial | int, hint: str) -> Trial:
        """The pending trial ``trial`` refers to (call with the change's locks held).

        Raises:
            ValueError: it is unknown, belongs elsewhere, or is no longer pending.
        """
        current = self._history.trials[self._resolve(trial)]
        if current.state is not TrialState.PENDING:
            raise ValueError(
                f"trial {current.id} is already {current.state.value!r} (already told or "
                f"pruned); {hint}."
            )
        return current

    # Events -----------------------------------------------------------------------------
    def _commit(self, events: list[Event]) -> None:
        """Apply events to the history, append them to the journal, swap the new one in."""
        new = replay(self._history, events)
        if self._journal is None:
            self._history = new
            return
        pos = self._journal.append([encode_event(e) for e in events])
        # One statement: if an interrupt lands after the append and before this line, the
        # position is not moved either, and the next call reads these events back.
        self._history, self._journal.pos = new, pos

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
            if outer and self._journal.forked():  # type: ignore[union-attr]
                # A forked child shares the parent's file description, and so its lock:
                # it becomes a writer of its own (see ``__getstate__`` for copies).
                self._journal = self._journal.reopen()  # type: ignore[union-attr]
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
        state = self._history
        if records:
            state = replay_records(records, self.space, str(self._journal.path), state)
        self._history, self._journal.pos = state, pos

    def _session(self) -> str | None:
        return None if self._journal is None else self._journal.session

    # Reading ----------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        """All trials in ask order (copies: editing them changes nothing here)."""
        return [t.copy() for t in self._history.trials]

    @property
    def pending(self) -> list[Trial]:
        """Trials asked and not yet told."""
        return [t.copy() for t in self._history.pending]

    @property
    def best(self) -> Trial | None:
        """The best complete trial (lowest value, highest with ``maximize=True``), or None.

        With constraints, the best *feasible* one: ``None`` while no trial is feasible.

        Raises:
            RuntimeError: the study has several objectives (there is no single best:
                see ``pareto_front()``).
        """
        out = self.outcomes
        if out is not None and out.multi:
            raise RuntimeError(
                f"a study with several objectives {list(out.objective_names)} has no single "
                "best trial; use pareto_front() (and hypervolume())."
            )
        maximize = self.maximize if out is None else out.objectives[0][1] == "max"
        best = self._history.best(maximize)
        return None if best is None else best.copy()

    # Several outcomes -------------------------------------------------------------------
    def _declared(self, what: str) -> outcomes_module.Outcomes:
        if self.outcomes is None:
            raise RuntimeError(
                f"{what} needs a study that declares `objectives=` (or `constraints=`); this "
                "one is told floats: see `best`."
            )
        return self.outcomes

    def pareto_front(self) -> list[Trial]:
        """The non-dominated trials among the complete, feasible ones, in id order.

        A trial is dominated when another feasible trial is at least as good in every
        objective and better in one; equal trials are all kept. With one objective this is
        the best feasible trial(s).

        Raises:
            RuntimeError: the study declares no outcomes.

        Example:
            >>> import bayesopt as bo
            >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
            ...                      objectives={"a": "min", "b": "min"})
            >>> for a, b in [(1, 2), (2, 1), (2, 2)]:
            ...     _ = rs.add({"x": 0.5}, {"a": a, "b": b})
            >>> [t.id for t in rs.pareto_front()]
            [0, 1]
        """
        out = self._declared("pareto_front()")
        return [t.copy() for t in outcomes_module.pareto_front(self._history.trials, out)]

    def reference_point(self) -> dict[str, float]:
        """The reference point ``hypervolume()`` uses when given none, per objective in
        the user's units and directions.

        It is the study's ``reference_point=`` when one was given. Otherwise it is
        BoTorch's ``infer_reference_point`` (``nadir - 0.1 * range``) on the first
        ``outcomes.REFERENCE_TRIALS`` (10) complete, feasible trials in id order: the
        nadir is each objective's worst value among them. Once the study holds that many,
        the point never moves again, so the hypervolume of a growing study never
        decreases.

        Raises:
            RuntimeError: the study declares no outcomes.
            ValueError: no reference point was given and no trial is complete and feasible
                yet.
        """
        out = self._declared("reference_point()")
        if out.reference_point is not None:
            return out.reference_point
        first = out.usable(self._history.trials)[: outcomes_module.REFERENCE_TRIALS]
        ref = outcomes_module.reference_point(out.gains(first))
        return out.from_gains(ref)

    def hypervolume(self, ref_point: Mapping[str, float] | None = None) -> float:
        """The hypervolume dominated by the complete, feasible trials.

        Args:
            ref_point: ``{objective: value}`` in the user's units, worse than what counts
                (above it for a minimised objective, below for a maximised one); ``None``
                for ``reference_point()`` (the study's ``reference_point=``, or inferred).

        Returns:
            The volume of the objective space between the reference point and the Pareto
            front; ``0.0`` while no trial is feasible or none beats the reference point.

        Raises:
            RuntimeError: the study declares no outcomes.
            TypeError, ValueError: ``ref_point`` is not a mapping of every objective to a
                finite number.

        Example:
            >>> import bayesopt as bo
            >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
            ...                      objectives={"a": "min", "b": "min"})
            >>> for a, b in [(1, 2), (2, 1)]:
            ...     _ = rs.add({"x": 0.5}, {"a": a, "b": b})
            >>> rs.hypervolume({"a": 3.0, "b": 3.0})
            3.0
        """
        out = self._declared("hypervolume()")
        usable = out.usable(self._history.trials)
        if ref_point is None and out.reference is not None:
            ref = out.reference_gains()
        elif ref_point is None:
            if not usable:
                return 0.0
            ref = out.gains(usable[: outcomes_module.REFERENCE_TRIALS])
            ref = outcomes_module.reference_point(ref)
        else:
            ref = out.to_gains(ref_point, "ref_point")
        return outcomes_module.hypervolume(out.gains(usable), ref)

    def recommend(self) -> Trial | None:
        """The complete trial to deploy. Here ``best``; a model-based proposer may judge
        the objective noisy and prefer the trial its model expects to be best
        (``Optimizer.recommend``)."""
        return self.best

    @property
    def _trials(self) -> tuple[Trial, ...]:
        """The history's trials themselves (not copies), for a proposer's own use."""
        return self._history.trials

    def _loss(self, value: float) -> float:
        """The value in minimisation orientation."""
        return -value if self.maximize else value

    def to_records(self) -> list[dict[str, Any]]:
        """Trials as flat dicts: ``id``, ``state``, ``value``, ``source``, ``params_<name>``."""
        return [t.to_record() for t in self._history.trials]

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
            f"maximize={self.maximize}, n_trials={len(self._history.trials)})"
        )


def _split_budgets(answer: object) -> tuple[object, list[float | None]]:
    """A ``suggest`` answer without its budgets, and the budgets (``None`` where absent):
    items ``(point, source, budget)`` become ``(point, source)``."""
    if isinstance(answer, torch.Tensor | str | bytes) or not isinstance(answer, Sequence):
        return answer, [None] * _length(answer)
    items, budgets = [], []
    for item in answer:
        budget = None
        if isinstance(item, tuple) and len(item) == 3 and isinstance(item[1], Source):
            item, budget = (item[0], item[1]), _check_budget(item[2])
        items.append(item)
        budgets.append(budget)
    return items, budgets


def _length(answer: object) -> int:
    try:
        return len(answer)  # type: ignore[arg-type]
    except TypeError:
        return 0  # not a sequence: to_params says what is wrong


def _check_budget(budget: object) -> float:
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise TypeError(f"a proposed `budget` must be a number, but got {budget!r}.")
    if not (math.isfinite(budget) and budget > 0):
        raise ValueError(f"a proposed `budget` must be finite and > 0, but got {budget!r}.")
    return int(budget) if isinstance(budget, numbers.Integral) else float(budget)


def _check_step(step: object) -> float:
    """A report's step: a finite real number ``>= 0`` (an int stays an int)."""
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise TypeError(f"`step` must be a number (a budget), but got {step!r}.")
    if not (math.isfinite(step) and step >= 0):
        raise ValueError(f"`step` must be finite and >= 0, but got {step!r}.")
    return int(step) if isinstance(step, numbers.Integral) else float(step)


# Reading a study -----------------------------------------------------------------------------
def load(path: str | os.PathLike) -> AskTell:
    """Open a journal read-only, for analysis.

    Args:
        path: a journal written with ``storage=``.

    Returns:
        The study's proposer (``Optimizer``, ``RandomSearch`` or another subclass of
        ``AskTell``, with the journal's space, seed and settings; see ``AskTell.restore``)
        holding every trial as of now. ``trials``, ``best``, ``to_dataframe()`` and the
        rest work; ``ask``, ``tell``, ``add`` and ``enqueue`` raise ``RuntimeError``.

    It takes no lock, so a writer that holds the lock (even one stopped with ``SIGSTOP``)
    does not block it; a last line still being written is skipped with a
    ``JournalWarning``.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: ``path`` is not a regular file.
        JournalError: the file is not a journal, is corrupt beyond a torn last line, or
            names a class that is not imported or no longer takes its settings.

    Example:
        >>> import os, tempfile, bayesopt as bo
        >>> path = os.path.join(tempfile.mkdtemp(), "study.jsonl")
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0, storage=path)
        >>> _ = rs.tell(rs.ask(), 0.5)
        >>> bo.load(path).trials[0].value
        0.5
    """
    journal = Journal(path, writable=False)
    try:
        records, _ = journal.read_new()
    finally:
        journal.close()
    where = str(journal.path)
    if not records:
        raise JournalError(f"{where} holds no events: it is empty or not a bayesopt journal.")
    header = read_header(records[0], where)
    cls = find_class(AskTell, header.optimizer)
    if cls is None:
        raise JournalError(
            f"{where}: the study was made by {header.optimizer}, which is not an imported "
            "proposer (a subclass of bayesopt.AskTell); import the module that defines it "
            "first."
        )
    history = replay_records(records[1:], header.space, where, History())
    try:
        return cls.restore(
            header.space,
            history,
            seed=header.seed,
            maximize=header.maximize,
            settings=header.settings,
            path=where,
        )
    except (TypeError, ValueError) as exc:
        raise JournalError(
            f"{where}: the settings {header.settings!r} do not fit {header.optimizer}: {exc}"
        ) from exc
