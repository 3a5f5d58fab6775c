"""Objectives that worker processes import (by name) in tests/test_run.py.

This module imports neither torch nor bayesopt, so that a worker process starts fast.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def quadratic(params: dict) -> float:
    """Minimum 0 at x = 0.3 (x in [0, 1])."""
    return (params["x"] - 0.3) ** 2


def record_pid(folder: str, params: dict) -> float:
    """``quadratic``, writing this process's pid to a fresh file in ``folder``."""
    path = Path(folder) / f"{os.getpid()}-{time.monotonic_ns()}"
    path.write_text(f"{os.getpid()} {params['x']!r}\n")
    return quadratic(params)


def crash_above(threshold: float, params: dict) -> float:
    """Kill the worker process (no exception, no cleanup) when x > threshold."""
    if params["x"] > threshold:
        os._exit(1)
    return quadratic(params)


def raise_above(threshold: float, params: dict) -> float:
    """Raise a ValueError when x > threshold."""
    if params["x"] > threshold:
        raise ValueError(f"x={params['x']:.3f} is too large")
    return quadratic(params)


def sleepy(seconds: float, params: dict) -> float:
    """``quadratic`` after a nap."""
    time.sleep(seconds)
    return quadratic(params)


def not_a_number(params: dict) -> object:
    """Returns a string: minimize must say so."""
    return "0.5"
