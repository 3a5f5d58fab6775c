"""A scoped thread limit for the work inside one ask.

The GPs of a tuning loop are small: a fit and an acquisition search run thousands of tiny
parallel regions. With torch's default of one OpenMP thread per core, every region wakes
and synchronises all the threads; when another process keeps a core busy (the model being
tuned, or the workers of ``minimize``), each region waits for a thread that is not
scheduled. An ask then becomes 10 to 20 times slower, idle machine included. So each ask
runs under a thread limit chosen by its size, and the caller's settings are restored when
it ends, whether it returns or raises.

The limit covers torch's intra-op threads and, through ``threadpoolctl`` when it is
installed, the BLAS and OpenMP pools that SciPy's L-BFGS-B and NumPy use. Torch's thread
count is a process-wide setting: while asks run, other threads of the same process see
the limit too. Concurrent asks share one limit, set by the first to enter and restored by
the last to leave, so the caller's value is always what remains.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Iterator
from typing import Literal

import torch

__all__ = ["LARGE_N", "Threads", "check_threads", "limited_threads", "threads_for"]

Threads = int | Literal["auto"] | None
"""An optimiser's ``threads`` setting: ``"auto"``, a fixed count, or ``None`` (no limit)."""

LARGE_N = 10_000
"""With ``threads="auto"``, an ask whose GP conditions on at least this many observations
keeps the caller's thread count; smaller asks run on one thread. Measured with the
``bayesopt-1thread`` and ``bayesopt-nolimit`` probes of ``python -m benchmarks latency`` on
Hartmann-6 (``benchmarks/results/latency/threads/THREADS.md``): one thread was faster at
every n up to 5,000 on a 2-core VM (idle and loaded) and on a 16-core machine (2.0 s
against 6.6 s at n = 3,000, idle); at n = 10,000 the 16-core machine's default threads
won (14.4 s against 21.0 s)."""

_lock = threading.Lock()
_active = 0
_saved: tuple[int, object | None] | None = None


def check_threads(threads: object) -> Threads:
    """Validate an optimiser's ``threads`` argument.

    Raises:
        TypeError: not ``"auto"``, an int or ``None``.
        ValueError: an int below 1.
    """
    if threads is None or threads == "auto":
        return threads  # type: ignore[return-value]
    if not isinstance(threads, numbers.Integral) or isinstance(threads, bool):
        raise TypeError(f"`threads` must be 'auto', an int or None, but got {threads!r}.")
    if threads < 1:
        raise ValueError(f"`threads >= 1` must hold, but got threads={threads}.")
    return int(threads)


def threads_for(threads: Threads, n: int) -> int | None:
    """The thread limit of an ask whose GP sees ``n`` observations (``None``: no limit)."""
    if threads == "auto":
        return 1 if n < LARGE_N else None
    return threads


@contextlib.contextmanager
def limited_threads(limit: int | None) -> Iterator[None]:
    """Run the block with at most ``limit`` threads; restore the caller's settings after.

    ``None`` runs the block as it is. Nested and concurrent blocks keep the limit of the
    outermost one.
    """
    if limit is None:
        yield
        return
    _enter(limit)
    try:
        yield
    finally:
        _leave()


def _enter(limit: int) -> None:
    global _active, _saved
    with _lock:
        _active += 1
        if _active > 1:
            return
        before = torch.get_num_threads()
        blas = _blas_limit(limit)
        _saved = (before, blas)
        if limit != before:
            torch.set_num_threads(limit)


def _leave() -> None:
    global _active, _saved
    with _lock:
        _active -= 1
        if _active or _saved is None:
            return
        before, blas = _saved
        _saved = None
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
        if blas is not None:
            blas.restore_original_limits()  # type: ignore[attr-defined]


_controller: object | None = None


def _blas_limit(limit: int) -> object | None:
    """Limit the BLAS/OpenMP pools seen by ``threadpoolctl``; ``None`` if unavailable."""
    global _controller
    try:
        import threadpoolctl
    except ImportError:
        return None
    if _controller is None:
        # Inspecting the loaded libraries costs milliseconds: do it once per process.
        _controller = threadpoolctl.ThreadpoolController()
    return _controller.limit(limits=limit, user_api="blas")  # type: ignore[attr-defined]
