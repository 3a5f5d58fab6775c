"""The COCO BBOB noiseless suite: 24 functions at d = 2, 5, 10 and 20 on [-5, 5]^d.

Problems are named ``bbob-f01-d2`` .. ``bbob-f24-d20`` (family ``"bbob"``) and evaluated
by COCO's own implementation (``cocoex``, from the optional ``coco-experiment`` package,
imported on first evaluation only). The budget is ``20 d`` evaluations.

**Instances.** The run seed chooses the COCO instance: ``instance = seed + 1``. Seeds 0-14
are the report instances 1-15 (the ones every table and figure uses); seeds 100 and up are
the tuning instances 101+, the only BBOB instances on which a default may ever be chosen.
Seeds 15-99 (instances 16-100) belong to neither set.

**Values.** The optimiser is told COCO's value ``f(x)``. The record stores ``f(x) - f_opt``,
where ``f_opt`` is the instance's optimal value as COCO computes it
(``bbob2009_compute_fopt``, reproduced in ``bbob_fopt``), so every problem's optimum is 0
and a record's best-so-far trace is its precision ``Delta f``, which the regret tables
(log10) and the ECDFs of ``benchmarks.ecdf`` read directly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bayesopt as bo
from benchmarks.problems.base import Evaluation, Problem

__all__ = [
    "DIMENSIONS",
    "FUNCTION_GROUPS",
    "FUNCTION_NAMES",
    "REPORT_SEEDS",
    "TUNING_SEEDS",
    "BBOBFunction",
    "BBOBProblem",
    "bbob_fopt",
    "bbob_name",
    "bbob_problems",
    "instance_of",
    "parse_name",
]

DIMENSIONS = (2, 5, 10, 20)
"""Dimensions registered (COCO's own: 2, 3, 5, 10, 20, 40)."""

REPORT_SEEDS = tuple(range(15))
"""Seeds of the report instances 1-15."""

TUNING_SEEDS = tuple(range(100, 115))
"""Seeds of the tuning instances 101-115 (more are available: any seed >= 100)."""

FUNCTION_NAMES = {
    1: "sphere",
    2: "ellipsoid (separable)",
    3: "Rastrigin (separable)",
    4: "Bueche-Rastrigin",
    5: "linear slope",
    6: "attractive sector",
    7: "step ellipsoid",
    8: "Rosenbrock",
    9: "Rosenbrock (rotated)",
    10: "ellipsoid",
    11: "discus",
    12: "bent cigar",
    13: "sharp ridge",
    14: "different powers",
    15: "Rastrigin",
    16: "Weierstrass",
    17: "Schaffer F7",
    18: "Schaffer F7 (ill-conditioned)",
    19: "Griewank-Rosenbrock",
    20: "Schwefel",
    21: "Gallagher 101 peaks",
    22: "Gallagher 21 peaks",
    23: "Katsuura",
    24: "Lunacek bi-Rastrigin",
}
"""COCO's short names of the 24 noiseless functions."""

FUNCTION_GROUPS = {
    "separable": (1, 2, 3, 4, 5),
    "moderate": (6, 7, 8, 9),
    "ill-conditioned": (10, 11, 12, 13, 14),
    "multimodal": (15, 16, 17, 18, 19),
    "weakly structured": (20, 21, 22, 23, 24),
}
"""COCO's five function groups: separable, low or moderate conditioning, high conditioning
and unimodal, multimodal with adequate global structure, multimodal with weak global
structure."""


def instance_of(seed: int) -> int:
    """The COCO instance a run seed evaluates: ``seed + 1`` (seed 0 is instance 1)."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return seed + 1


def bbob_name(function: int, dim: int) -> str:
    """The registry name of a function and dimension, e.g. ``bbob-f01-d2``."""
    return f"bbob-f{function:02d}-d{dim}"


def parse_name(name: str) -> tuple[int, int]:
    """``(function, dim)`` of a name made by ``bbob_name``.

    Raises:
        ValueError: not a BBOB problem name.
    """
    parts = name.split("-")
    if len(parts) != 3 or parts[0] != "bbob" or parts[1][:1] != "f" or parts[2][:1] != "d":
        raise ValueError(f"not a BBOB problem name: {name!r}")
    return int(parts[1][1:]), int(parts[2][1:])


# f_opt: COCO's legacy generator (suite_bbob_legacy_code.c), bit for bit --------------------
def _uniform(n: int, seed: int) -> list[float]:
    """``bbob2009_unif``: ``n`` uniform numbers from a Park-Miller generator with shuffle."""
    seed = max(abs(seed), 1)
    state, table = seed, [0] * 32
    for i in range(39, -1, -1):
        tmp = state // 127773
        state = 16807 * (state - tmp * 127773) - 2836 * tmp
        if state < 0:
            state += 2147483647
        if i < 32:
            table[i] = state
    current, out = table[0], []
    for _ in range(n):
        tmp = state // 127773
        state = 16807 * (state - tmp * 127773) - 2836 * tmp
        if state < 0:
            state += 2147483647
        j = current // 67108865
        current, table[j] = table[j], state
        r = current / 2.147483647e9
        out.append(r if r != 0.0 else 1e-99)
    return out


def _gauss(seed: int) -> float:
    """``bbob2009_gauss`` for one number (Box-Muller on two uniforms)."""
    u = _uniform(2, seed)
    g = math.sqrt(-2.0 * math.log(u[0])) * math.cos(2.0 * math.pi * u[1])
    return g if g != 0.0 else 1e-99


@functools.cache
def bbob_fopt(function: int, instance: int) -> float:
    """The optimal value of a BBOB function instance (``bbob2009_compute_fopt``).

    Equal to COCO's value at its optimum ``x_opt`` for every function and instance (the
    tests check a sample against ``cocoex``).
    """
    rseed = {4: 3, 18: 17}.get(function, function) + 10000 * instance
    value = math.floor(100.0 * 100.0 * _gauss(rseed) / _gauss(rseed + 1) + 0.5) / 100.0
    return min(1000.0, max(-1000.0, value))


@functools.cache
def _coco_problem(function: int, dim: int, instance: int) -> tuple[Any, Any]:
    """The suite and the ``cocoex`` problem (kept together: the problem lives in the suite)."""
    try:
        import cocoex
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "BBOB problems need cocoex: pip install coco-experiment (or bayesopt[bench])"
        ) from exc
    suite = cocoex.Suite("bbob", f"instances:{instance}", f"dimensions:{dim}")
    problem = suite.get_problem_by_function_dimension_instance(function, dim, instance)
    return suite, problem


@dataclass(frozen=True)
class BBOBFunction:
    """One BBOB function instance as ``params -> float``.

    Attributes:
        function: 1-24.
        dim: the dimension.
        instance: the COCO instance.
        shifted: return ``f(x) - f_opt`` (the precision) instead of ``f(x)``.
    """

    function: int
    dim: int
    instance: int
    shifted: bool = False

    @property
    def names(self) -> list[str]:
        """Parameter names ``x0 .. x{d-1}``."""
        return [f"x{i}" for i in range(self.dim)]

    @property
    def fopt(self) -> float:
        """The instance's optimal value."""
        return bbob_fopt(self.function, self.instance)

    def __call__(self, params: dict[str, Any]) -> float:
        import numpy as np

        _, problem = _coco_problem(self.function, self.dim, self.instance)
        value = float(problem(np.array([float(params[n]) for n in self.names])))
        return value - self.fopt if self.shifted else value


@dataclass(frozen=True)
class BBOBProblem(Problem):
    """A BBOB function at one dimension; the run seed picks the instance (``instance_of``).

    Attributes:
        function: the BBOB function number, 1-24.
    """

    function: int = 1

    def evaluator(self, seed: int) -> Callable[[dict[str, Any]], Evaluation]:
        """The objective of run ``seed``: instance ``seed + 1``.

        Returns:
            ``params -> Evaluation(observed=f(x), true=f(x) - f_opt)``: the optimiser sees
            COCO's value, the record its precision (non-finite: ``nan`` for both).
        """
        f = BBOBFunction(self.function, self.dim, instance_of(seed))
        fopt = f.fopt

        def evaluate(params: dict[str, Any]) -> Evaluation:
            value = f(params)
            if not math.isfinite(value):
                return Evaluation(math.nan, math.nan)
            return Evaluation(value, value - fopt)

        return evaluate


def bbob_problem(function: int, dim: int) -> BBOBProblem:
    """The problem of one BBOB function at one dimension (budget ``20 d``)."""
    names = [f"x{i}" for i in range(dim)]
    return BBOBProblem(
        name=bbob_name(function, dim),
        family="bbob",
        space=bo.Space({n: bo.Real(-5.0, 5.0) for n in names}),
        budget=20 * dim,
        fn=BBOBFunction(function, dim, instance_of(0), shifted=True),
        optimum=0.0,
        eval_cost_s=2e-5,
        description=f"BBOB f{function} {FUNCTION_NAMES[function]}, {dim}-D on [-5, 5]^{dim}",
        function=function,
    )


def bbob_problems(dims: tuple[int, ...] = DIMENSIONS) -> list[Problem]:
    """The 24 functions at each of ``dims``, dimension-major."""
    return [bbob_problem(f, d) for d in dims for f in range(1, 25)]
