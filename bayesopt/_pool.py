"""Work on an executor that survives dying worker processes: the one recovery policy.

``minimize`` runs its evaluations through ``WorkerPool``, and so does the benchmark runner.
A worker process that dies (a segfault, ``os._exit``, the OOM killer) breaks a
``concurrent.futures`` process pool, which then fails every future in it with
``BrokenProcessPool``. ``WorkerPool`` tells work that its workers cannot load apart from
work that kills them, and recovers from the latter:

1. Before the first item, it checks once that a worker can load the function: a probe task
   unpickles it (importing its module) and calls nothing. If that fails (typically: the
   function is defined in a notebook or an unguarded ``__main__``, or the workers cannot
   start), no item can run: ``RuntimeError``. Once the probe passed, a pool that breaks was
   broken by the work itself.
2. It waits until every future of the broken pool is done and replaces the pool by a fresh
   one of the same size (a pool passed in is replaced with a ``RuntimeWarning``). After two
   or more breaks in a row (no result came back in between) it first waits (``backoff``:
   0.1 s, doubling up to ``MAX_BACKOFF_S``), so that work that always kills its worker does
   not spin.
3. An item that was alone in the pool when its worker died is given up on: ``wait``
   reports it with ``future=None``. Items that were in flight together are re-run one at a
   time, alone in the pool, so that only the item that kills its worker is given up on and
   the others run once more. An item is given up on at its first death alone, so after at
   most two worker deaths in all.
4. An item that a broken pool refused to take has not started: it is submitted again first,
   and no death is counted against it.

Other executors (threads, Dask) do not break this way; their futures are passed through.

The workers of an own pool end when the process that made it dies, even by ``SIGKILL``
(see ``parent_watch``), rather than go on evaluating for nobody.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from types import TracebackType
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = [
    "MAX_BACKOFF_S",
    "Finished",
    "WorkerPool",
    "backoff",
    "parent_watch",
    "pool_context",
    "stop_workers",
]

T = TypeVar("T")

MAX_BACKOFF_S = 2.0
"""The longest wait before rebuilding a pool that broke again before any result came back."""

_FIRST_BACKOFF_S = 0.1
_sleep = time.sleep


def backoff(breaks: int) -> float:
    """Seconds to wait before rebuilding a pool after ``breaks`` breaks in a row: none after
    the first, then 0.1 s, doubling up to ``MAX_BACKOFF_S``."""
    if breaks < 2:
        return 0.0
    return min(MAX_BACKOFF_S, _FIRST_BACKOFF_S * 2.0 ** min(breaks - 2, 64))


def pool_context() -> Any:
    """``forkserver``, or ``spawn`` where that is missing; never ``fork``, which is unsafe
    with torch's threads."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a process pool now, its running work included."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


# Run by ``exec`` in a worker process (so that the worker need not import bayesopt and torch),
# with ``pid`` and ``poll`` set: see ``parent_watch``. It must not raise.
_WATCH_PARENT = """
import os, sys, threading, time

if sys.platform.startswith("linux"):
    try:  # SIGKILL this worker when its parent process ends: PR_SET_PDEATHSIG is 1.
        import ctypes, signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError, ValueError):
        pass


def _watch_parent():
    fd = None
    if poll is None and hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(1)
        except OSError:
            fd = None
    if fd is not None:
        import select
        waiter = select.poll()
        waiter.register(fd, select.POLLIN)
        waiter.poll()  # readable once the process has ended
        os._exit(1)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except OSError:
            pass
        time.sleep(1.0 if poll is None else poll)


if os.name == "posix":
    try:
        threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()
    except RuntimeError:
        pass
"""


def parent_watch(
    pid: int | None = None, *, poll: float | None = None
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """A worker-process initializer that ends the worker when process ``pid`` ends.

    A pool's workers are children of the ``forkserver`` process rather than of the process
    that uses the pool, so they would otherwise go on running their work after that process
    is killed (``SIGKILL`` leaves it no chance to stop them). The initializer does two things:
    on Linux it asks the kernel to ``SIGKILL`` the worker when its parent ends
    (``prctl(PR_SET_PDEATHSIG)``; the forkserver ends with the process that started it), and
    on POSIX systems it starts a daemon thread that waits for ``pid`` to end (on a pidfd, else
    checking every second) and then ends the worker with ``os._exit(1)``.

    Args:
        pid: the process to watch; default: this one.
        poll: check every this many seconds instead of waiting on a pidfd.

    Returns:
        ``(initializer, initargs)`` for ``concurrent.futures.ProcessPoolExecutor``. The
        initializer is the builtin ``exec`` running a short source text, so that a worker
        does not import bayesopt (and torch) to run it.
    """
    return exec, (_WATCH_PARENT, {"pid": os.getpid() if pid is None else pid, "poll": poll})


def _local_pool(n_workers: int) -> cf.ProcessPoolExecutor:
    initializer, initargs = parent_watch()
    return cf.ProcessPoolExecutor(
        n_workers, mp_context=pool_context(), initializer=initializer, initargs=initargs
    )


def _broke(future: cf.Future) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


class _Probe:
    """Pickles as "call ``id(fn)``": unpickling it in a worker loads ``fn`` and runs none of
    it (nor imports bayesopt)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __reduce__(self) -> tuple[Any, ...]:
        return (id, (self.fn,))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Finished(NamedTuple, Generic[T]):
    """An item whose work is over.

    Attributes:
        item: the item, as submitted.
        future: its done future (a result, an exception, or cancelled by the executor), or
            ``None`` when it was given up on: its worker died while it ran alone.
    """

    item: T
    future: cf.Future | None


class WorkerPool(Generic[T]):
    """Items of work in flight on an executor, recovered from worker deaths (see above).

    Args:
        fn: the function each item runs, ``fn(*args(item))``; picklable for processes.
        args: the arguments of ``fn`` for an item (built in this process).
        n_workers: items in flight at most.
        executor: where the work runs; ``None``: an own process pool from ``make_pool``.
            An executor passed in is not shut down.
        make_pool: ``make_pool(n_workers)``, a fresh process pool; default: one of
            ``pool_context()`` whose workers end with this process (``parent_watch``).
        hint: appended to the error of workers that cannot load ``fn``.
        label: begins that error and the warning about a broken pool passed in.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        args: Callable[[T], tuple[Any, ...]],
        n_workers: int,
        *,
        executor: cf.Executor | None = None,
        make_pool: Callable[[int], cf.ProcessPoolExecutor] | None = None,
        hint: str = "",
        label: str = "bayesopt",
    ) -> None:
        self.fn, self.args, self.n_workers = fn, args, n_workers
        self.make_pool = make_pool or _local_pool
        self.hint, self.label = hint, label
        self.owned = executor is None
        self.executor = self.make_pool(n_workers) if executor is None else executor
        self._in_flight: dict[cf.Future, T] = {}
        self._retry: deque[T] = deque()  # refused by a broken pool: submit again first
        self._suspects: deque[T] = deque()  # in flight together when a pool broke: re-run alone
        self._loaded = not isinstance(self.executor, cf.ProcessPoolExecutor)  # probe passed
        self._breaks = 0  # in a row, with no result in between

    @property
    def busy(self) -> bool:
        """Whether work is in flight."""
        return bool(self._in_flight)

    def fill(self, new: Callable[[], T | None]) -> None:
        """Submit work until ``n_workers`` items are in flight (one while suspects re-run
        alone): first the items to run again, then new ones from ``new()`` (``None``: none).

        Raises:
            RuntimeError: the worker processes cannot load ``fn`` (checked at the first call,
                before ``new`` is called).
        """
        while not self._loaded:
            if self._probe():
                break
            self._rebuild()  # the pool was broken before the probe could run
        while True:
            alone = bool(self._suspects)
            if len(self._in_flight) >= (1 if alone else self.n_workers):
                return
            queue = self._suspects or self._retry
            item = queue.popleft() if queue else new()
            if item is None:
                return
            if self._submit(item):
                continue
            (self._suspects if alone else self._retry).appendleft(item)
            if self._in_flight:
                return  # their futures fail too: ``wait`` rebuilds the pool
            self._rebuild()

    def wait(self) -> list[Finished[T]]:
        """Wait until some work is over and return it, in submission order.

        When the pool broke, this waits for all its futures, rebuilds it (after a wait when
        it broke before, see ``backoff``) and returns the work that finished normally, then
        the item given up on, if it was alone.
        """
        done, _ = cf.wait(self._in_flight, return_when=cf.FIRST_COMPLETED)
        if not any(_broke(future) for future in done):
            return self._pop(done)
        cf.wait(self._in_flight)  # a broken pool fails every future in it
        over = self._pop(self._in_flight)
        finished = [f for f in over if not _broke(f.future)]
        broken = [f.item for f in over if _broke(f.future)]
        self._rebuild()
        if len(broken) == 1:
            finished.append(Finished(broken[0], None))
        else:
            self._suspects.extend(broken)
        return finished

    def close(self) -> None:
        """Shut an own pool down, waiting for its workers (an executor passed in stays open)."""
        if self.owned:
            self.executor.shutdown(wait=True)

    def abort(self) -> None:
        """Stop now: cancel the work in flight and stop the workers of an own pool."""
        for future in self._in_flight:
            future.cancel()
        if self.owned and isinstance(self.executor, cf.ProcessPoolExecutor):
            stop_workers(self.executor)

    def __enter__(self) -> WorkerPool[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort() if exc_type is not None else self.close()

    def _probe(self) -> bool:
        """Check that a worker can load ``fn``: ``False`` when the pool was already broken.

        Raises:
            RuntimeError: ``fn`` cannot be pickled, or a worker cannot unpickle it (or start).
        """
        try:
            data = bytes(ForkingPickler.dumps(_Probe(self.fn)))
            future = self.executor.submit(pickle.loads, data)
        except BrokenProcessPool:
            return False
        except Exception as exc:
            raise self._cannot_load(exc) from exc
        try:
            future.result()
        except Exception as exc:
            raise self._cannot_load(exc) from exc
        self._loaded = True
        return True

    def _cannot_load(self, exc: BaseException) -> RuntimeError:
        return RuntimeError(
            f"{self.label}: the worker processes cannot load the function to run "
            f"({_describe(exc).rstrip('.')}). {self.hint}".rstrip()
        )

    def _submit(self, item: T) -> bool:
        try:
            future = self.executor.submit(self.fn, *self.args(item))
        except BrokenProcessPool:
            return False
        except OSError:
            # A worker died while this submit started its replacement: CPython's pool then
            # fails on its closed pipe ("handle is closed") before it calls itself broken.
            if isinstance(self.executor, cf.ProcessPoolExecutor):
                return False
            raise
        self._in_flight[future] = item
        return True

    def _pop(self, done: Iterable[cf.Future]) -> list[Finished[T]]:
        done = set(done)
        out = [Finished(item, f) for f, item in self._in_flight.items() if f in done]
        for f in done:
            del self._in_flight[f]
            if not f.cancelled() and not _broke(f):
                self._breaks = 0
        return out

    def _rebuild(self) -> None:
        """Replace a broken process pool by a fresh one of the same size, after the
        ``backoff`` of the breaks in a row."""
        self._breaks += 1
        old = self.executor
        assert isinstance(old, cf.ProcessPoolExecutor)
        old.shutdown(wait=False, cancel_futures=True)
        if not self.owned:
            warnings.warn(
                f"{self.label}: the process pool passed as `executor` broke (a worker died); "
                "going on with a new local process pool of the same size.",
                RuntimeWarning,
                stacklevel=7,  # from minimize(): its caller
            )
        self.owned = True  # the old pool is shut down: nothing passed in is left open
        delay = backoff(self._breaks)
        if delay > 0:
            _sleep(delay)
        self.executor = self.make_pool(getattr(old, "_max_workers", self.n_workers))
