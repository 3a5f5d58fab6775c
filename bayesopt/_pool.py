"""Work on an executor that survives dying worker processes: the one recovery policy.

``minimize`` runs its evaluations through ``WorkerPool``, and so does the benchmark runner.
A worker process that dies (a segfault, ``os._exit``, the OOM killer) breaks a
``concurrent.futures`` process pool, which then fails every future in it with
``BrokenProcessPool``. ``WorkerPool`` recovers thus:

1. It waits until every future of the broken pool is done and replaces the pool by a fresh
   one of the same size (a pool passed in is replaced with a ``RuntimeWarning``).
2. An item that was alone in the pool when its worker died is given up on: ``wait``
   reports it with ``future=None``. Items that were in flight together are re-run one at a
   time, alone in the pool, so that only the item that kills its worker is given up on and
   the others run once more. An item is given up on at its first death alone, so after at
   most two worker deaths in all.
3. An item that a broken pool refused to take has not started: it is submitted again first,
   and no death is counted against it.
4. A pool that breaks ``MAX_BLIND_BREAKS`` times before any result came back cannot run the
   work at all (typically: the function is defined in a notebook or an unguarded
   ``__main__``): ``RuntimeError``.

Other executors (threads, Dask) do not break this way; their futures are passed through.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = ["MAX_BLIND_BREAKS", "Finished", "WorkerPool", "pool_context", "stop_workers"]

T = TypeVar("T")

MAX_BLIND_BREAKS = 3
"""A process pool that breaks this many times before any result came back cannot run the
work at all (typically: the function is defined in a notebook or an unguarded ``__main__``)."""


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


def _local_pool(n_workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(n_workers, mp_context=pool_context())


def _broke(future: cf.Future) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


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
            ``pool_context()``.
        hint: appended to the error of a pool that cannot run the work at all.
        label: begins the warning about a broken pool passed in.
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
        self._blind_breaks = 0
        self._came_back = False

    @property
    def busy(self) -> bool:
        """Whether work is in flight."""
        return bool(self._in_flight)

    def fill(self, new: Callable[[], T | None]) -> None:
        """Submit work until ``n_workers`` items are in flight (one while suspects re-run
        alone): first the items to run again, then new ones from ``new()`` (``None``: none).

        Raises:
            RuntimeError: the pool broke ``MAX_BLIND_BREAKS`` times before any result.
        """
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

        When the pool broke, this waits for all its futures, rebuilds it and returns the
        work that finished normally, then the item given up on, if it was alone.

        Raises:
            RuntimeError: the pool broke ``MAX_BLIND_BREAKS`` times before any result.
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

    def _submit(self, item: T) -> bool:
        try:
            future = self.executor.submit(self.fn, *self.args(item))
        except BrokenProcessPool:
            return False
        self._in_flight[future] = item
        return True

    def _pop(self, done: Iterable[cf.Future]) -> list[Finished[T]]:
        done = set(done)
        out = [Finished(item, f) for f, item in self._in_flight.items() if f in done]
        for f in done:
            del self._in_flight[f]
            if not f.cancelled() and not _broke(f):
                self._came_back = True
        return out

    def _rebuild(self) -> None:
        """Replace a broken process pool by a fresh one of the same size."""
        if not self._came_back:
            self._blind_breaks += 1
            if self._blind_breaks >= MAX_BLIND_BREAKS:
                raise RuntimeError(
                    f"the process pool broke {self._blind_breaks} times before any result "
                    f"came back: its workers cannot run the work. {self.hint}".rstrip()
                )
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
        self.executor = self.make_pool(getattr(old, "_max_workers", self.n_workers))
        self.owned = True
