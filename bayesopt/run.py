"""``minimize()`` and ``maximize()``: the evaluation loop on top of ask and tell.

The loop keeps ``n_workers`` evaluations in flight. When one finishes it is told at once
(so a journal holds it before anything else happens) and the next trial is asked, with the
trials still in flight as pending points. Where the evaluations run:

* ``n_workers=1`` and no executor: in this process, one after the other.
* ``n_workers > 1`` and no executor: a local ``ProcessPoolExecutor`` (``forkserver``, or
  ``spawn`` where that is missing; never ``fork``, which is unsafe with torch's threads).
* any ``concurrent.futures.Executor``, or a ``dask.distributed.Client`` (used through
  ``client.get_executor(pure=False)``, so equal params are still evaluated anew).

How ``f`` is called (decided once, from its signature, before the first trial):

* ``f(params)``: the params as one dict. ``f(params, trial)``, where the second
  parameter is required, also gets a ``TrialHandle`` (see "Stopping early" below).
* ``f(**params)``: the params as keyword arguments, ``f(lr=..., depth=..., act=...)``, when
  ``f`` names every parameter of the space among its own parameters, or takes only
  keywords (``def f(**params)``). A further required parameter named ``trial`` (not a
  parameter of the space) gets the ``TrialHandle``.
* A signature that fits both forms without naming the space's parameters (``f(*args,
  **kwargs)``, say) is a ``TypeError`` before the first trial, and so is one that fits
  neither; ``unpack=True`` (keywords) or ``unpack=False`` (one dict) decides explicitly. A
  callable whose signature cannot be read gets the dict, unless ``unpack=True``.

Faults (the same rules in this process and in worker processes):

* ``f`` raises an ``Exception``, or ``SystemExit`` (``sys.exit()``): the trial fails with
  ``error="TypeName: message"`` (``"SystemExit: <code>"``) and the run goes on. In a worker,
  ``sys.exit()`` only ends that call; in this process it does not end the program either.
* ``f`` looks broken: the first 5 trials the run finishes (all of them, if it finishes
  fewer) fail with the same exception (the same type and message) and none succeeds. Then
  ``minimize`` raises a ``RuntimeError`` chained from the first of those exceptions (with
  its traceback when ``f`` ran in this process), rather than spend the budget on failures
  and return ``best=None``. Trials in flight stay pending, as on Ctrl-C. An objective that
  fails on purpose (a diverged training run) should return ``float("nan")`` instead: a
  value that is not finite fails its trial without counting here, and so do bad return
  values, dying workers and differing exceptions (those end in a ``RuntimeWarning`` when
  every trial failed).
* ``f`` returns something that is not a real number (a string, ``None``, an array, an int
  too large for a float, an object whose ``__float__`` raises): the trial fails with
  ``error="TypeName: the objective returned <repr>"``, the first time with a
  ``RuntimeWarning``, and the run goes on.
* ``f`` raises ``KeyboardInterrupt`` (in this process or in a worker): the run stops as on
  Ctrl-C (below). Other ``BaseException`` subclasses that are not ``Exception``
  (``GeneratorExit``, ``asyncio.CancelledError``, a framework's control flow) propagate from
  ``f`` in this process the same way; in a worker they only end that call and fail its trial.
* a worker process dies (a segfault, ``os._exit``, the OOM killer): a process pool breaks
  and fails every future in it. One policy (``bayesopt._pool.WorkerPool``, which the
  benchmark runner uses too) recovers: the pool is rebuilt (a pool passed in is replaced,
  with a warning); a trial that was alone in the pool when its worker died is failed, and
  trials that were in flight together are re-run one at a time, alone, so that only the
  trial that kills its worker is failed (after at most two worker deaths). Trials a broken
  pool refused to take are submitted again. After worker deaths in a row, each rebuild waits
  a little longer (up to 2 s), so that an ``f`` that always kills its worker fails every
  trial without spinning, and the run ends at ``n_trials`` as usual.
* the workers cannot load ``f`` (defined in a notebook or an unguarded ``__main__``):
  checked once, before the first trial, by unpickling ``f`` in a worker: ``RuntimeError``.
* the process running ``minimize`` is killed (even by ``SIGKILL``): the workers of its own
  pool end too (on POSIX systems), rather than go on evaluating for nobody.
* a trial is told by another process (or another optimiser on the same journal) while it is
  evaluated here: its result here is discarded with a ``RuntimeWarning``; the run goes on.
* ``f`` raises ``bayesopt.Pruned``: the trial is pruned (see "Stopping early" below).
* ``timeout``: no new trial is asked after that many seconds; those in flight finish.
* ``KeyboardInterrupt`` (and any error raised by a callback): the workers of an own pool are
  stopped, the trials in flight stay pending, the journal is closed, and the exception
  propagates. The journal is consistent: each line is whole and every told result is in it.
  A later ``minimize`` on the same journal claims those pending trials and re-evaluates them
  (a pending trial is only taken over once the process that asked it is dead).
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import math
import numbers
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from bayesopt._pool import WorkerPool
from bayesopt.asktell import AskTell
from bayesopt.optimizer import Optimizer
from bayesopt.pruners import Pruned
from bayesopt.space import Space
from bayesopt.trial import Trial, TrialState, check_value

__all__ = ["Result", "TrialHandle", "maximize", "minimize"]

_DIED = (
    "BrokenProcessPool: the worker process died while evaluating this trial (a crash, "
    "os._exit or a signal)"
)
"""The error of a trial whose worker process died while it ran alone."""

_NOT_RUNNABLE = (
    "Define `f` in an importable module (not in a notebook), guard scripts with "
    "`if __name__ == '__main__':`, or use n_workers=1."
)
"""What to do when the worker processes cannot load ``f``."""


@dataclass(frozen=True)
class Result:
    """What ``minimize`` and ``maximize`` return.

    Attributes:
        best: the best complete trial (its ``params`` and ``value``), or ``None`` when no
            trial completed (with constraints: the best feasible one; with several
            objectives always ``None``: see ``optimizer.pareto_front()``).
        trials: every trial of the study, in ask order.
        optimizer: the ``Optimizer``, to go on with ``ask`` and ``tell``, or to plot.
    """

    best: Trial | None
    trials: list[Trial]
    optimizer: AskTell

    def __repr__(self) -> str:
        states = [t.state for t in self.trials]
        return (
            f"Result(best={self.best!r}, trials={len(self.trials)} "
            f"({states.count(TrialState.COMPLETE)} complete, "
            f"{states.count(TrialState.FAILED)} failed))"
        )


class TrialHandle:
    """What an objective of two arguments, ``f(params, trial)``, gets as ``trial``: its
    line to the study while it runs, for intermediate reports and early stopping.

    Attributes:
        id: the trial's id.
        params: its params (a copy).
    """

    def __init__(self, opt: AskTell, trial: Trial) -> None:
        self._opt, self.id, self.params = opt, trial.id, dict(trial.params)

    def report(self, step: float, value: float) -> None:
        """Record an intermediate value at budget ``step`` (``AskTell.report``)."""
        self._opt.report(self.id, step, value)

    def should_stop(self) -> bool:
        """Whether the pruner stops the trial now; if so it is pruned already, and ``f``
        should return (its value is then ignored) or raise ``bayesopt.Pruned``."""
        return self._opt.should_stop(self.id)

    def continues(self) -> int | None:
        """The id of the earlier trial whose training run this one may resume from its
        checkpoint (``AskTell.continues``: a multi-fidelity promotion), or ``None``: then
        train from the start. A resumed run reports only the steps beyond the earlier
        trial's last one."""
        earlier = self._opt.continues(self.id)
        return None if earlier is None else earlier.id

    def __repr__(self) -> str:
        return f"TrialHandle(id={self.id}, params={self.params!r})"


FAIL_FAST = 5
"""A run whose first ``FAIL_FAST`` finished trials (or all, if fewer) fail with one and the
same exception from ``f``, with no success, raises instead of going on."""


@dataclass(frozen=True)
class _Calling:
    """How ``f`` is called: ``keywords`` (``f(**params)``, else ``f(params)``), and whether
    it gets a ``TrialHandle`` (as ``trial=`` with keywords, else second)."""

    keywords: bool
    handle: bool


@dataclass(frozen=True)
class _Keywords:
    """``f`` called with the params as keyword arguments; picklable when ``f`` is."""

    f: Callable[..., Any]

    def __call__(self, params: dict[str, Any], *handle: TrialHandle) -> Any:
        return self.f(**params, **({"trial": handle[0]} if handle else {}))


def _binds(signature: inspect.Signature, *args: Any, **kwargs: Any) -> bool:
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _calling(f: Callable[..., Any], names: Iterable[str], unpack: bool | None) -> _Calling:
    """How to call ``f`` (module docstring, "How ``f`` is called").

    Raises:
        TypeError: the signature is ambiguous (and ``unpack`` is ``None``), or fits neither
            form, or not the one ``unpack`` asks for.
    """
    names = tuple(names)
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # a builtin, say: trust `unpack`
        return _Calling(keywords=bool(unpack), handle=False)
    one: _Calling | None = None  # f(params) or f(params, trial)
    if _binds(signature, {}):
        one = _Calling(keywords=False, handle=False)
    elif _binds(signature, {}, None):
        one = _Calling(keywords=False, handle=True)
    dummy = dict.fromkeys(names)
    spread: _Calling | None = None  # f(**params) or f(**params, trial=handle)
    if _binds(signature, **dummy):
        spread = _Calling(keywords=True, handle=False)
    elif "trial" not in names and _binds(signature, **dummy, trial=None):
        spread = _Calling(keywords=True, handle=True)
    forms = f"f(params), f(params, trial) or f({', '.join(f'{n}=...' for n in names)})"
    if unpack is not None:
        chosen = spread if unpack else one
        if chosen is None:
            form = "keyword arguments, f(**params)" if unpack else "one dict, f(params)"
            raise TypeError(
                f"`f` must accept the params as {form}, since unpack={unpack}, but its "
                f"signature is {signature}."
            )
        return chosen
    named = {
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    if spread is not None and (one is None or set(names) <= named):
        return spread
    if one is not None and spread is None:
        return one
    if one is None:
        raise TypeError(f"`f` must be callable as {forms}, but its signature is {signature}.")
    raise TypeError(
        f"`f{signature}` fits both f(params) and f(**params) without naming the space's "
        f"parameters ({', '.join(names)}): pass unpack=False to get the params as one dict, "
        "or unpack=True to get them as keyword arguments."
    )


def minimize(
    f: Callable[[dict[str, Any]], float],
    space: Space,
    n_trials: int,
    *,
    seed: int | None = None,
    n_workers: int = 1,
    executor: Any = None,
    storage: Any = None,
    timeout: float | None = None,
    callbacks: Iterable[Callable[[AskTell, Trial], Any]] = (),
    progress: bool = True,
    unpack: bool | None = None,
    **optimizer_options: Any,
) -> Result:
    """Minimise ``f`` over ``space`` with Bayesian optimisation.

    Args:
        f: the objective, ``f(params: dict) -> float``, or ``f(**params) -> float``
            (``def train(lr, depth, act)``): a function that names every parameter of the
            space gets them as keyword arguments (the module docstring, "How ``f`` is
            called", has the whole rule; ``unpack`` overrides it). With worker processes it
            must be picklable: defined at the top level of a module (scripts need an
            ``if __name__ == "__main__":`` guard, as with any process pool). An exception
            or ``SystemExit`` raised by ``f``, a worker process it kills, or a return value
            that is not a real number fails its trial, and the run goes on (see the module
            docstring, "Faults"), unless the run's first 5 trials all fail with the same
            exception; ``KeyboardInterrupt`` stops the run, leaving the trials in flight
            pending. An objective ``f(params, trial)`` (or a keyword objective with a
            ``trial`` parameter) gets a ``TrialHandle`` to report intermediate values
            (``trial.report(step, value)``) and to ask whether to stop
            (``trial.should_stop()``, with ``pruner=`` set); it runs in this process or on a
            thread executor. Raising ``bayesopt.Pruned`` prunes the trial.
        space: the search space.
        n_trials: the budget: the study ends with this many trials (resumed trials and
            those of other processes sharing the journal count). Failed trials count.
        seed: seeds the optimiser; ``None`` draws one (or resumes the journal's).
        n_workers: evaluations kept in flight.
        executor: ``None`` (this process for ``n_workers=1``, else a local process pool),
            any ``concurrent.futures.Executor``, or a ``dask.distributed.Client``. An executor
            passed in is not shut down.
        storage: a journal file; an existing one is resumed (see ``bayesopt.journal``).
        timeout: stop asking new trials after this many seconds; those in flight finish.
        callbacks: called as ``callback(optimizer, trial)`` after each tell.
        progress: show a progress bar (trials done, best value, ETA) on stderr.
        unpack: ``True``: call ``f(**params)``; ``False``: call ``f(params)``; ``None``
            (the default): decide from ``f``'s signature.
        **optimizer_options: passed to ``Optimizer`` (``acquisition``, ``n_initial``,
            ``pruner``, ...). With ``objectives=`` or ``constraints=`` (see
            ``bayesopt.outcomes``), ``f`` returns a mapping ``{name: value}`` of every
            objective and constraint; a return value that is not such a mapping fails its
            trial, as a non-number does for a plain objective.

    Returns:
        A ``Result`` with ``best``, ``trials`` and the ``optimizer``.

    Raises:
        TypeError: an argument has the wrong type, ``f``'s signature fits neither
            ``f(params)`` nor ``f(**params)`` (or both, ambiguously), or ``f`` is not
            picklable for worker processes.
        ValueError: an argument is out of range, or the journal holds another study.
        RuntimeError: the worker processes cannot load ``f``, or the run's first 5 trials
            (all of them, if fewer) failed with the same exception and none succeeded; the
            exception is chained (``__cause__``).
        KeyboardInterrupt: on Ctrl-C, or raised by ``f``; the trials in flight stay pending.

    Example:
        >>> import bayesopt as bo
        >>> space = bo.Space({"x": bo.Real(-2.0, 2.0)})
        >>> result = bo.minimize(lambda p: (p["x"] - 0.5) ** 2, space, 8, seed=0, progress=False)
        >>> abs(result.best.params["x"] - 0.5) < 0.1
        True
        >>> def f(x):  # names the space's parameter: called as f(x=...)
        ...     return (x - 0.5) ** 2
        >>> bo.minimize(f, space, 8, seed=0, progress=False).best == result.best
        True
    """
    if "maximize" in optimizer_options:
        raise TypeError("minimize() takes no `maximize`; call bayesopt.maximize() instead.")
    return _optimize(
        f, space, n_trials, False, seed, n_workers, executor, storage, timeout, callbacks,
        progress, unpack, optimizer_options,
    )  # fmt: skip


def maximize(
    f: Callable[[dict[str, Any]], float],
    space: Space,
    n_trials: int,
    *,
    seed: int | None = None,
    n_workers: int = 1,
    executor: Any = None,
    storage: Any = None,
    timeout: float | None = None,
    callbacks: Iterable[Callable[[AskTell, Trial], Any]] = (),
    progress: bool = True,
    unpack: bool | None = None,
    **optimizer_options: Any,
) -> Result:
    """Maximise ``f`` over ``space``: ``minimize`` with ``maximize=True`` (same arguments).

    Example:
        >>> import bayesopt as bo
        >>> space = bo.Space({"n": bo.Integer(0, 6)})
        >>> bo.maximize(lambda p: -abs(p["n"] - 4), space, 7, seed=0, progress=False).best.value
        0.0
    """
    if "maximize" in optimizer_options:
        raise TypeError("maximize() takes no `maximize`; call bayesopt.minimize() instead.")
    return _optimize(
        f, space, n_trials, True, seed, n_workers, executor, storage, timeout, callbacks,
        progress, unpack, optimizer_options,
    )  # fmt: skip


# Argument checks -------------------------------------------------------------------------------
def _check_int(name: str, value: object, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int, but got {value!r}.")
    if value < low:
        raise ValueError(f"`{name} >= {low}` must hold, but got {name}={value}.")
    return int(value)


def _as_executor(executor: object) -> cf.Executor | None:
    if executor is None or isinstance(executor, cf.Executor):
        return executor
    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(executor, distributed.Client):
        return executor.get_executor(pure=False)
    raise TypeError(
        "`executor` must be None, a concurrent.futures.Executor or a dask.distributed.Client, "
        f"but got {executor!r}."
    )


def _check_callbacks(callbacks: object) -> tuple[Callable[..., Any], ...]:
    if callable(callbacks) or not isinstance(callbacks, Iterable):
        raise TypeError(
            "`callbacks` must be a sequence of callables (wrap a single one in a tuple), "
            f"but got {callbacks!r}."
        )
    out = tuple(callbacks)
    for cb in out:
        if not callable(cb):
            raise TypeError(f"every callback must be callable, but got {cb!r}.")
    return out


def _optimize(
    f: Any,
    space: Space,
    n_trials: Any,
    maximize: bool,
    seed: Any,
    n_workers: Any,
    executor: Any,
    storage: Any,
    timeout: Any,
    callbacks: Any,
    progress: Any,
    unpack: Any,
    options: Mapping[str, Any],
) -> Result:
    if not callable(f):
        raise TypeError(f"`f` must be callable, f(params: dict) -> float, but got {f!r}.")
    n_trials = _check_int("n_trials", n_trials, 1)
    n_workers = _check_int("n_workers", n_workers, 1)
    if timeout is not None:
        if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool):
            raise TypeError(f"`timeout` must be a number of seconds or None, but got {timeout!r}.")
        if not timeout > 0:
            raise ValueError(f"`timeout > 0` must hold, but got timeout={timeout!r}.")
    callbacks = _check_callbacks(callbacks)
    if not isinstance(progress, bool):
        raise TypeError(f"`progress` must be a bool, but got {progress!r}.")
    if unpack is not None and not isinstance(unpack, bool):
        raise TypeError(f"`unpack` must be True, False or None, but got {unpack!r}.")
    if not isinstance(space, Space):
        raise TypeError(f"`space` must be a bayesopt.Space, but got {space!r}.")
    calling = _calling(f, space, unpack)
    pool = _as_executor(executor)
    in_process = (pool is None and n_workers == 1) or isinstance(pool, cf.ThreadPoolExecutor)
    if calling.handle and not in_process:
        raise TypeError(
            "an objective f(params, trial) (or f(..., trial) with keywords) that reports to "
            "the study runs in this process (n_workers=1) or on a "
            "concurrent.futures.ThreadPoolExecutor: its trial handle talks to the optimiser, "
            "which worker processes do not have. Several processes can share a study through "
            "storage= instead, each with n_workers=1."
        )
    if isinstance(pool, cf.ProcessPoolExecutor) or (pool is None and n_workers > 1):
        _check_picklable(f)
    opt = Optimizer(space, seed=seed, maximize=maximize, storage=storage, **options)
    call = _Keywords(f) if calling.keywords else f
    loop = _Loop(opt, call, calling.handle, n_trials, n_workers, pool, timeout, callbacks, progress)
    loop.run()
    return Result(_best(opt), opt.trials, opt)


def _best(opt: AskTell) -> Trial | None:
    """``opt.best``, or ``None`` for a study with several objectives (which has none)."""
    if opt.outcomes is not None and opt.outcomes.multi:
        return None
    return opt.best


def _check_picklable(f: Any) -> None:
    try:
        pickle.dumps(f)
    except Exception as exc:
        raise TypeError(
            "`f` must be picklable to run in worker processes, but pickling it failed "
            f"({type(exc).__name__}: {exc}). Define it at the top level of a module (not a "
            "lambda or a nested function), or use n_workers=1."
        ) from exc


# The loop -------------------------------------------------------------------------------------
def _describe(exc: BaseException) -> str:
    """``"TypeName: message"`` (``"SystemExit: <code>"``), or the type's name alone."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: {exc.code}"
    text = _safe(str, exc, limit=None)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _safe(show: Callable[[object], str], value: object, limit: int | None = 200) -> str:
    """``show(value)`` (``str`` or ``repr``), cut to ``limit`` characters; never raises."""
    try:
        text = show(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


class _Loop:
    """One run of ``minimize``: the evaluations in flight and the progress bar."""

    def __init__(
        self,
        opt: AskTell,
        f: Callable[..., Any],
        with_handle: bool,
        n_trials: int,
        n_workers: int,
        executor: cf.Executor | None,
        timeout: float | None,
        callbacks: tuple[Callable[..., Any], ...],
        progress: bool,
    ) -> None:
        self.opt, self.f, self.n_trials, self.n_workers = opt, f, n_trials, n_workers
        self.with_handle = with_handle
        self.callbacks = callbacks
        # The exceptions of this run's first finished trials while each failed with the same
        # one, and none succeeded; None once that no longer holds.
        self.same_failures: list[BaseException] | None = []
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.executor = executor
        self.workers: WorkerPool[Trial] | None = None
        self.warned_value = False  # about a return value that is not a real number
        done = sum(t.is_finished for t in opt.trials)
        self.bar = _Progress(n_trials, done, opt.maximize) if progress else None

    # Running -----------------------------------------------------------------------------
    def run(self) -> None:
        try:
            if self.executor is None and self.n_workers == 1:
                self._run_inline()
            else:
                self._run_pool()
        except BaseException:
            self._abort()
            raise
        finally:
            if self.bar is not None:
                self.bar.close()
        if self.workers is not None:
            self.workers.close()
        self._warn_if_all_failed()

    def _expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _next(self) -> Trial | None:
        return None if self._expired() else self.opt.next_trial(self.n_trials)

    def _run_inline(self) -> None:
        while (trial := self._next()) is not None:
            try:
                outcome = ("value", self.f(*self._args(trial)))
            except Pruned:
                outcome = ("pruned", None)
            except (Exception, SystemExit) as exc:  # as in a worker; KeyboardInterrupt stops
                outcome = ("error", exc)
            self._finish(trial, outcome)
        self._check_broken(final=True)

    def _args(self, trial: Trial) -> tuple[Any, ...]:
        """``f``'s arguments: the params, and the trial's handle if ``f`` takes one."""
        params = dict(trial.params)
        return (params, TrialHandle(self.opt, trial)) if self.with_handle else (params,)

    def _run_pool(self) -> None:
        self.workers = WorkerPool(
            self.f, self._args, self.n_workers, executor=self.executor, hint=_NOT_RUNNABLE,
            label="minimize()",
        )  # fmt: skip
        while True:
            self.workers.fill(self._next)
            if not self.workers.busy:
                break
            for trial, future in self.workers.wait():
                self._finish(trial, _outcome(future))
        self._check_broken(final=True)

    def _finish(self, trial: Trial, outcome: tuple[str, Any]) -> None:
        """Tell a trial its outcome, then run the callbacks and update the progress bar.

        ``outcome`` is ``("value", what f returned)``, ``("pruned", None)``, ``("error",
        the exception f raised)`` or ``("error", "TypeName: message")`` (no exception).
        """
        kind, payload = outcome
        self._track(kind, payload)
        if kind == "error" and isinstance(payload, BaseException):
            payload = _describe(payload)
        state = self.opt.trials[trial.id].state
        if kind == "pruned" or state is TrialState.PRUNED:  # by f, or by its handle already
            if state is TrialState.PENDING:
                self.opt.prune(trial.id)
            told = self.opt.trials[trial.id]
            for callback in self.callbacks:
                callback(self.opt, told)
            if self.bar is not None:
                self.bar.update(self.opt)
            return
        value, error = None, payload if kind == "error" else None
        if kind == "value":
            try:
                if self.opt.outcomes is None:
                    value, error = check_value(payload)
                else:  # a mapping of outcomes: checked here, told as it is
                    value, error = payload, self.opt.outcomes.check(payload)[3]
            except Exception as exc:  # whatever f returned, the run goes on
                error = self._bad_value(trial, payload, exc)
        try:
            if error is None:
                told = self.opt.tell(trial.id, value)
            else:
                told = self.opt.tell(trial.id, error=error)
        except ValueError:
            state = self.opt.trials[trial.id].state
            if state is TrialState.PENDING:
                raise
            result = f"value {_safe(repr, payload)}" if kind == "value" else payload
            warnings.warn(
                f"minimize(): trial {trial.id} was already told (state {state.value!r}) by "
                "another process or optimiser on the journal while it was evaluated here; its "
                f"result here ({result}) was discarded.",
                RuntimeWarning,
                stacklevel=6,  # from minimize(): its caller
            )
        else:
            for callback in self.callbacks:
                callback(self.opt, told)
        if self.bar is not None:
            self.bar.update(self.opt)
        self._check_broken(final=False)

    def _track(self, kind: str, payload: Any) -> None:
        """Follow whether every trial so far failed with the same exception raised by ``f``."""
        seen = self.same_failures
        if seen is None:
            return
        failed = kind == "error" and isinstance(payload, BaseException)
        if failed and (not seen or _describe(payload) == _describe(seen[0])):
            seen.append(payload)
        else:  # a success, a prune, another error: f is not broken
            self.same_failures = None

    def _check_broken(self, *, final: bool) -> None:
        """Raise when the run's first ``FAIL_FAST`` trials (at its end: all, if fewer)
        failed with the same exception and none succeeded."""
        seen = self.same_failures
        if not seen or (len(seen) < FAIL_FAST and not final):
            return
        first = seen[0]
        which = "the only trial" if len(seen) == 1 else f"all of the first {len(seen)} trials"
        raise RuntimeError(
            f"minimize(): {which} of this run failed with the same exception and none "
            f"succeeded, so the objective looks broken: {_describe(first)}. The run stopped "
            "(with storage=, the journal keeps its trials). An objective that fails on "
            "purpose should return float('nan') rather than raise."
        ) from first

    def _bad_value(self, trial: Trial, payload: Any, exc: Exception) -> str:
        """The error of a trial whose value cannot be used; a warning the first time."""
        what = _safe(repr, payload)
        detail = "" if isinstance(exc, TypeError) else f" ({_safe(str, exc)})"
        if not self.warned_value:
            self.warned_value = True
            cause = "" if isinstance(exc, TypeError) else f" ({_describe(exc)})"
            outcomes = self.opt.outcomes
            rule = (
                "a real number (a float, an int, or a numpy or torch scalar)"
                if outcomes is None
                else f"a mapping of every outcome {list(outcomes.names)} to a real number"
            )
            warnings.warn(
                f"minimize(): trial {trial.id} failed: the objective returned {what} of type "
                f"{type(payload).__name__}{cause}; it must return {rule}. The run goes on; "
                "later trials that return "
                "such values fail without this warning (see `result.trials[i].error`).",
                RuntimeWarning,
                stacklevel=7,  # from minimize(): its caller
            )
        return f"{type(exc).__name__}: the objective returned {what}{detail}"

    def _abort(self) -> None:
        """Stop after an interrupt or an error: in-flight trials stay pending."""
        if self.workers is not None:
            self.workers.abort()
        self.opt.close()

    def _warn_if_all_failed(self) -> None:
        trials = self.opt.trials
        if trials and all(t.state is TrialState.FAILED for t in trials):
            warnings.warn(
                f"minimize(): all {len(trials)} trials failed; the first with: "
                f"{trials[0].error}. See `result.trials[i].error`.",
                RuntimeWarning,
                stacklevel=4,
            )


def _outcome(future: cf.Future | None) -> tuple[str, Any]:
    """A trial's outcome from its future (``None``: its worker died while it ran alone)."""
    if future is None:
        return ("error", _DIED)
    if future.cancelled():
        return ("error", "CancelledError: the executor cancelled it")
    exc = future.exception()
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C reached the worker first
        raise KeyboardInterrupt  # the trials in flight stay pending
    if isinstance(exc, Pruned):
        return ("pruned", None)
    return ("value", future.result()) if exc is None else ("error", exc)


# Progress ----------------------------------------------------------------------------------------
class _Progress:
    """Trials done, the best value and an ETA on stderr: tqdm when installed, else a line."""

    def __init__(self, total: int, initial: int, maximize: bool, file: TextIO | None = None):
        self.total, self.done, self.maximize = total, initial, maximize
        self.file = file if file is not None else sys.stderr
        self.start, self.start_done = time.monotonic(), initial
        self.last_draw = -math.inf
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.tqdm = None
        else:
            self.tqdm = tqdm(
                total=total, initial=initial, desc="bayesopt", unit="trial", file=self.file,
                dynamic_ncols=True,
            )  # fmt: skip

    def update(self, opt: AskTell) -> None:
        done = sum(t.is_finished for t in opt.trials)
        if opt.outcomes is not None and opt.outcomes.multi:
            text = f"front={len(opt.pareto_front())}"
        else:
            best = opt.best
            text = "best=-" if best is None else f"best={best.value:.6g}"
        if self.tqdm is not None:
            self.tqdm.update(max(0, min(done, self.total) - self.tqdm.n))
            self.tqdm.set_postfix_str(text, refresh=True)
            return
        self.done = done
        now = time.monotonic()
        if now - self.last_draw >= 0.5 or done >= self.total:
            self.last_draw = now
            self.file.write(f"\rbayesopt: {done}/{self.total} trials, {text}, ETA {self._eta()}")
            self.file.flush()

    def _eta(self) -> str:
        ran = self.done - self.start_done
        if ran <= 0:
            return "?"
        seconds = (time.monotonic() - self.start) / ran * max(0, self.total - self.done)
        return time.strftime("%H:%M:%S", time.gmtime(round(seconds)))

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.last_draw > -math.inf:
            self.file.write("\n")
            self.file.flush()
