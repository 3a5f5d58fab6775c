"""Objectives that worker processes import (by name) in tests/test_run*.py.

This module imports neither torch nor bayesopt, so that a worker process starts fast.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path


def quadratic(params: dict) -> float:
    """Minimum 0 at x = 0.3 (x in [0, 1])."""
    return (params["x"] - 0.3) ** 2


def mixed_value(params: dict) -> float:
    """Minimum 0 at lr = 0.01, x = 0, depth = 3, act = 3 in conftest's ``mixed_space``."""
    lr, x, depth = params["lr"], params["x"], params["depth"]
    return (math.log10(lr) + 2) ** 2 + x**2 + abs(depth - 3) + (params["act"] != 3)


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


def exit_above(threshold: float, code: object, params: dict) -> float:
    """``sys.exit(code)`` when x > threshold."""
    if params["x"] > threshold:
        sys.exit(code)
    return quadratic(params)


def interrupt_above(threshold: float, params: dict) -> float:
    """Raise a KeyboardInterrupt when x > threshold (as Ctrl-C reaching the worker)."""
    if params["x"] > threshold:
        raise KeyboardInterrupt
    return quadratic(params)


class BadFloat(float):
    """A real number whose conversion to float raises."""

    def __float__(self) -> float:
        raise ValueError("no float today")


class NoFloat:
    """Not a number, though its ``__float__`` (which raises) says it might be."""

    def __float__(self) -> float:
        raise ValueError("no float today")

    def __repr__(self) -> str:
        return "NoFloat()"


class BadRepr:
    """Not a number, and its ``__repr__`` raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr today")


def bad_value(kind: str, params: dict) -> object:
    """Return something that is not a usable number, by ``kind``, when x > 0.5."""
    if params["x"] <= 0.5:
        return quadratic(params)
    if kind == "array":
        import numpy as np

        return np.array([1.0, 2.0, 3.0])
    return {
        "str": "0.5",
        "none": None,
        "huge": 10**400,
        "bad float": BadFloat(0.5),
        "no float": NoFloat(),
        "bad repr": BadRepr(),
    }[kind]


def sleep_and_record(folder: str, seconds: float, params: dict) -> float:
    """Write this process's pid to a fresh file in ``folder``, then nap."""
    path = Path(folder) / f"{os.getpid()}-{time.monotonic_ns()}"
    path.write_text(f"{os.getpid()} {params['x']!r}\n")
    time.sleep(seconds)
    return quadratic(params)
