"""Mixed integer / categorical problems with known optima.

Each one is a classic continuous function evaluated at ``z - shift[c]`` plus
``offset[c]``, where some coordinates of ``z`` are integers and the categorical ``c``
selects among shifted copies. Shifts are integer vectors and ``offset[0] = 0``, so the
global optimum is the base function's (0, at an integer point) for the first category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from botorch.test_functions import Ackley, Levy
from botorch.test_functions.synthetic import SyntheticTestFunction

import bayesopt as bo
from benchmarks.problems.base import Problem

__all__ = ["ShiftedMixed", "mixed_problems"]


@dataclass(frozen=True)
class ShiftedMixed:
    """``base(z - shift[c]) + offset[c]``; ``z`` gathers reals, integers and log-integers.

    Attributes:
        base: a BoTorch function whose minimum 0 lies at an integer point.
        coords: parameter names forming ``z`` in order; a name in ``log2`` enters as
            ``log2(value)``.
        log2: names that enter through ``log2``.
        shifts: ``{category: integer shift vector}`` (same length as ``coords``).
        offsets: ``{category: added constant}``; the first category has 0.
    """

    base: SyntheticTestFunction
    coords: tuple[str, ...]
    log2: tuple[str, ...]
    shifts: dict[str, tuple[int, ...]]
    offsets: dict[str, float]

    def __call__(self, params: dict[str, Any]) -> float:
        c = params["variant"]
        z = [
            (math.log2(params[n]) if n in self.log2 else float(params[n])) - s
            for n, s in zip(self.coords, self.shifts[c], strict=True)
        ]
        x = torch.tensor([z], dtype=torch.float64)
        return float(self.base.evaluate_true(x).item()) + self.offsets[c]


def mixed_problems() -> list[Problem]:
    """The mixed-type problems."""
    ackley = ShiftedMixed(
        base=Ackley(dim=6, bounds=[(-20.0, 20.0)] * 6),  # room for the shifts
        coords=("x0", "x1", "x2", "k0", "k1", "k2"),
        log2=(),
        shifts={"a": (0,) * 6, "b": (2, -1, 3, 1, -2, 2), "c": (-3, 2, 1, -2, 3, -1)},
        offsets={"a": 0.0, "b": 0.5, "c": 1.0},
    )
    ackley_space = bo.Space(
        {
            **{f"x{i}": bo.Real(-5.0, 10.0) for i in range(3)},
            **{f"k{i}": bo.Integer(-5, 10) for i in range(3)},
            "variant": bo.Categorical(["a", "b", "c"]),
        }
    )
    levy = ShiftedMixed(
        base=Levy(dim=5, bounds=[(-20.0, 20.0)] * 5),
        coords=("x0", "x1", "k0", "k1", "m"),
        log2=("m",),
        shifts={
            "a": (0,) * 5,
            "b": (3, -2, 2, -4, 0),
            "c": (-4, 3, -3, 2, 0),
            "d": (5, 5, -5, 5, 0),
        },
        offsets={"a": 0.0, "b": 0.3, "c": 0.6, "d": 0.9},
    )
    levy_space = bo.Space(
        {
            "x0": bo.Real(-10.0, 10.0),
            "x1": bo.Real(-10.0, 10.0),
            "k0": bo.Integer(-10, 10),
            "k1": bo.Integer(-10, 10),
            "m": bo.Integer(1, 100, log=True),
            "variant": bo.Categorical(["a", "b", "c", "d"]),
        }
    )
    return [
        Problem(
            name="mixed-ackley",
            family="mixed",
            space=ackley_space,
            budget=100,
            fn=ackley,
            optimum=0.0,
            eval_cost_s=1e-4,
            bayesopt_ask_factor=1.5,
            description="Ackley-6 on [-5, 10]: 3 reals, 3 integers, 3 shifted copies (categorical)",
        ),
        Problem(
            name="mixed-levy",
            family="mixed",
            space=levy_space,
            budget=100,
            fn=levy,
            optimum=0.0,
            eval_cost_s=1e-4,
            bayesopt_ask_factor=1.5,
            description=(
                "Levy-5: 2 reals, 2 integers, 1 log-integer (enters as log2 m, optimum m=2), "
                "4 shifted copies (categorical)"
            ),
        ),
    ]
