"""Collection rules for the doctest run over the package, and a bounded process exit."""

from __future__ import annotations

import faulthandler
import importlib.util
import multiprocessing
import os
import sys
import threading
import time

import pytest

# bayesopt.sklearn needs scikit-learn (the `sklearn` extra); without it, skip its doctests.
collect_ignore = [] if importlib.util.find_spec("sklearn") else ["bayesopt/sklearn.py"]

EXIT_GRACE_S = float(os.environ.get("BAYESOPT_TEST_EXIT_GRACE_S", "60"))
"""Seconds the test process may take to exit after the session ends."""

_status: dict[str, int] = {"exit": 1}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the worker pools the tests leave for the interpreter to stop at exit.

    scikit-learn's ``n_jobs`` keeps joblib's reusable loky executor (a non-daemon manager
    thread and its worker processes) alive until interpreter exit, where it is joined.
    """
    _status["exit"] = int(exitstatus)
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(5.0)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Bound the interpreter's exit once pytest is done.

    A third-party thread or child process that never ends (a kernel, a pool's manager
    thread) makes the interpreter wait at exit forever after the summary is printed. If
    the process is still alive ``EXIT_GRACE_S`` seconds later, print every thread's stack
    and the remaining child processes to stderr, stop the children and exit with pytest's
    status, so that a hang is reported instead of eating the CI job's time. A hang late
    in interpreter finalization, where Python threads no longer run, is stopped by
    ``faulthandler`` 30 s after that, with status 1.
    """
    faulthandler.dump_traceback_later(EXIT_GRACE_S + 30.0, exit=True)

    def guard() -> None:
        time.sleep(EXIT_GRACE_S)
        sys.stderr.write(
            f"\nThe test process had not exited {EXIT_GRACE_S:.0f} s after the session "
            "ended. Its threads:\n"
        )
        faulthandler.dump_traceback(sys.stderr, all_threads=True)
        _stop_children()
        sys.stderr.flush()
        os._exit(_status["exit"])

    threading.Thread(target=guard, name="exit-guard", daemon=True).start()


def _stop_children() -> None:
    """Print and kill this process's remaining child processes (needs psutil)."""
    try:
        import psutil
    except ImportError:
        return
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            sys.stderr.write(f"child {child.pid}: {' '.join(child.cmdline())[:200]}\n")
            child.kill()
        except psutil.Error:
            pass
