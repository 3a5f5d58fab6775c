"""Shared fixtures: small spaces and objectives."""

from __future__ import annotations

import math

import pytest
import torch

import bayesopt as bo

# The test process (not the library) runs torch single-threaded: the GPs here are small,
# and on a loaded 2-core machine OpenMP's spinning threads slowed a 31-point fit from
# 0.3 s to 9 s.
torch.set_num_threads(1)


@pytest.fixture
def mixed_space() -> bo.Space:
    return bo.Space(
        {
            "lr": bo.Real(1e-4, 1e-1, log=True),
            "x": bo.Real(-2.0, 3.0),
            "depth": bo.Integer(1, 8),
            "width": bo.Integer(8, 256, log=True),
            "act": bo.Categorical(["relu", "tanh", None, True, 3]),
        }
    )


def _branin(p: dict) -> float:
    x0, x1 = p["x0"], p["x1"]
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5.0 / math.pi
    r, s, t = 6.0, 10.0, 1.0 / (8 * math.pi)
    return a * (x1 - b * x0**2 + c * x0 - r) ** 2 + s * (1 - t) * math.cos(x0) + s


BRANIN_MIN = 0.397887357729738


@pytest.fixture
def branin():
    """Branin on params ``{"x0", "x1"}``; its minimum is ``BRANIN_MIN``."""
    return _branin


@pytest.fixture
def branin_min() -> float:
    return BRANIN_MIN


@pytest.fixture
def branin_space() -> bo.Space:
    return bo.Space({"x0": bo.Real(-5.0, 10.0), "x1": bo.Real(0.0, 15.0)})


@pytest.fixture
def drain():
    """``drain(pool, items)``: run ``items`` through a ``bayesopt._pool.WorkerPool`` and
    return ``{item: result, or None when given up}``."""

    def run(pool, items):
        queue, out = list(items), {}
        with pool:
            while True:
                pool.fill(lambda: queue.pop(0) if queue else None)
                if not pool.busy:
                    return out
                for x, future in pool.wait():
                    out[x] = None if future is None else future.result()

    return run
