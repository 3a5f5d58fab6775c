"""Continuous test functions from ``botorch.test_functions``, with known optima.

Budgets follow about ``20 d`` evaluations, capped at 100 (with fixed budgets of 40 for
Branin, 60 for Rosenbrock-4 and 80 for Ackley-5); Rosenbrock-10, made for the ``hard``
preset, has 200. Parameters are ``x0 .. x{d-1}`` on the
function's usual box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from botorch.test_functions import (
    Ackley,
    Branin,
    Hartmann,
    Levy,
    Michalewicz,
    Rosenbrock,
    StyblinskiTang,
)
from botorch.test_functions.synthetic import SyntheticTestFunction

import bayesopt as bo
from benchmarks.problems.base import Problem

__all__ = ["BotorchFunction", "make_botorch_problem", "synthetic_problems"]


@dataclass(frozen=True)
class BotorchFunction:
    """``params -> float`` over a BoTorch test function (noise-free, minimisation)."""

    function: SyntheticTestFunction

    @property
    def names(self) -> list[str]:
        """Parameter names ``x0 .. x{d-1}``."""
        return [f"x{i}" for i in range(self.function.dim)]

    def space(self) -> bo.Space:
        """The function's box as a ``bayesopt.Space``."""
        lo, hi = self.function.bounds.tolist()
        return bo.Space({n: bo.Real(a, b) for n, a, b in zip(self.names, lo, hi, strict=True)})

    def __call__(self, params: dict[str, Any]) -> float:
        x = torch.tensor([[float(params[n]) for n in self.names]], dtype=torch.float64)
        return float(self.function.evaluate_true(x).item())


def make_botorch_problem(
    name: str,
    function: SyntheticTestFunction,
    budget: int,
    *,
    family: str = "synthetic",
    noise_std: float = 0.0,
    description: str = "",
) -> Problem:
    """A ``Problem`` over a BoTorch test function, with its known optimal value."""
    fn = BotorchFunction(function)
    return Problem(
        name=name,
        family=family,
        space=fn.space(),
        budget=budget,
        fn=fn,
        optimum=float(function.optimal_value),
        noise_std=noise_std,
        eval_cost_s=1e-4,
        description=description,
    )


def synthetic_problems() -> list[Problem]:
    """The noise-free synthetic problems and their noisy variants."""
    p = make_botorch_problem
    return [
        p("branin", Branin(), 40, description="Branin, 2-D, three global minima"),
        p("hartmann6", Hartmann(dim=6), 80, description="Hartmann, 6-D, multimodal"),
        p("ackley5", Ackley(dim=5), 80, description="Ackley, 5-D, many local minima"),
        p("ackley10", Ackley(dim=10), 100, description="Ackley, 10-D"),
        p("ackley20", Ackley(dim=20), 100, description="Ackley, 20-D (latency benchmark)"),
        p("rosenbrock4", Rosenbrock(dim=4), 60, description="Rosenbrock, 4-D on [-5, 10]^4"),
        p(
            "rosenbrock10",
            Rosenbrock(dim=10),
            200,
            description="Rosenbrock, 10-D on [-5, 10]^10 (preset hard)",
        ),
        p("levy6", Levy(dim=6), 80, description="Levy, 6-D on [-10, 10]^6"),
        p("levy12", Levy(dim=12), 100, description="Levy, 12-D on [-10, 10]^12"),
        p("styblinski8", StyblinskiTang(dim=8), 100, description="Styblinski-Tang, 8-D"),
        p("michalewicz5", Michalewicz(dim=5), 80, description="Michalewicz, 5-D, steep ridges"),
        p(
            "branin-noisy",
            Branin(),
            40,
            family="noisy",
            noise_std=1.0,
            description="Branin + N(0, 1) noise (range of f about 0.4 to 300)",
        ),
        p(
            "hartmann6-noisy",
            Hartmann(dim=6),
            80,
            family="noisy",
            noise_std=0.1,
            description="Hartmann-6 + N(0, 0.1^2) noise (range of f about -3.3 to 0)",
        ),
    ]
