"""Shared fixtures: small spaces and objectives."""

from __future__ import annotations

import math

import pytest

import bayesopt as bo


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


def branin(p: dict) -> float:
    x0, x1 = p["x0"], p["x1"]
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5.0 / math.pi
    r, s, t = 6.0, 10.0, 1.0 / (8 * math.pi)
    return a * (x1 - b * x0**2 + c * x0 - r) ** 2 + s * (1 - t) * math.cos(x0) + s


BRANIN_MIN = 0.397887357729738


@pytest.fixture
def branin_space() -> bo.Space:
    return bo.Space({"x0": bo.Real(-5.0, 10.0), "x1": bo.Real(0.0, 15.0)})
