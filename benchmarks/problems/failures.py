"""Problems with hidden failure regions: evaluations there crash (the optimiser is told NaN).

They measure how an optimiser learns where not to ask, the "unknown constraint" of Gelbart,
Snoek and Adams (2014). No optimiser is told where the region is:

* ``branin-crash``: Branin whose evaluations with ``x0 > 5`` fail (a third of the box,
  holding one of the three global minima; the other two stay reachable);
* ``hartmann6-crash``: Hartmann-6 whose evaluations with ``x1 + x5 > 1.2`` fail (32 % of
  the cube; the global minimum, at ``x1 + x5 = 0.81``, stays reachable);
* ``mlp1-digits-crash``: a real task, a one-hidden-layer torch MLP on digits
  (``LayerwiseMLP(layers=1)``: 9 ordinal parameters and the activation) that fails when
  a batch's activations, ``batch_size x width0`` floats, exceed ``MEMORY_LIMIT``, as on an
  accelerator with little memory (the limit is simulated; 37.5 % of the box, in the
  parameters' log scale, exceeds it), and when training diverges (a non-finite loss;
  rare: none in 60 random configurations).

They are kept apart from the suite's registry, like BBOB's: ``problems.get`` finds them and
``problems.names("failures")`` lists them. ``python -m benchmarks.failure_report`` reports
their runs.

Example:
    >>> import math
    >>> p = failure_problems()[0]
    >>> math.isnan(p.fn({"x0": 9.42478, "x1": 2.475})), round(p.fn({"x0": 3.14159, "x1": 2.275}), 4)
    (True, 0.3979)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from botorch.test_functions import Branin, Hartmann

from benchmarks.problems.base import Problem
from benchmarks.problems.layerwise_mlp import LayerwiseMLP, layerwise_space
from benchmarks.problems.synthetic import make_botorch_problem

__all__ = ["MEMORY_LIMIT", "failure_problems"]

MEMORY_LIMIT = 2**12
"""``mlp1-digits-crash`` fails when ``batch_size * width0`` exceeds this many floats."""


@dataclass(frozen=True)
class _Crashing:
    """A noise-free objective that returns NaN where ``fails(params)`` holds."""

    fn: Callable[[dict[str, Any]], float]
    fails: Callable[[dict[str, Any]], bool]

    def __call__(self, params: dict[str, Any]) -> float:
        return math.nan if self.fails(params) else float(self.fn(params))


def _branin_fails(p: dict[str, Any]) -> bool:
    return p["x0"] > 5.0


def _hartmann_fails(p: dict[str, Any]) -> bool:
    return p["x1"] + p["x5"] > 1.2


def _out_of_memory(p: dict[str, Any]) -> bool:
    return p["batch_size"] * p["width0"] > MEMORY_LIMIT


def _crashing(name: str, function: Any, budget: int, fails: Any, text: str) -> Problem:
    """A BoTorch test function's problem (``make_botorch_problem``) failing where ``fails``."""
    problem = make_botorch_problem(name, function, budget, family="failures", description=text)
    return replace(problem, fn=_Crashing(problem.fn, fails))


def failure_problems() -> list[Problem]:
    """The problems with hidden failure regions."""
    return [
        _crashing(
            "branin-crash", Branin(), 40, _branin_fails,
            "Branin; evaluations with x0 > 5 fail (a third of the box)",
        ),
        _crashing(
            "hartmann6-crash", Hartmann(dim=6), 80, _hartmann_fails,
            "Hartmann-6; evaluations with x1 + x5 > 1.2 fail (32 % of the cube)",
        ),
        Problem(
            name="mlp1-digits-crash",
            family="failures",
            space=layerwise_space(1),
            budget=60,
            fn=_Crashing(LayerwiseMLP(layers=1), _out_of_memory),
            eval_cost_s=0.25,
            description=(
                "1-hidden-layer torch MLP on digits, validation log loss; fails when training "
                f"diverges or batch_size x width0 > {MEMORY_LIMIT} floats (simulated memory)"
            ),
        ),
    ]  # fmt: skip
