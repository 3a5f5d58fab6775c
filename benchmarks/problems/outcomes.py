"""Problems with several outcomes: black-box constraints and several objectives.

Two suites:

* ``constrained``: one objective (``"value"``, minimised) and constraints ``c_i <= 0``:
  constrained Hartmann-6, Gardner et al.'s 2-D problem, the four engineering problems
  of SCBO (pressure vessel, tension-compression spring, welded beam, speed reducer) and a
  real task (an MLP on digits under a parameter-count limit);
* ``multiobjective``: objectives ``f1, ..., fM``, all minimised: BraninCurrin (at 30 and at
  100 evaluations), DTLZ2
  (d = 6, M = 2 and 3), ZDT1-3 (d = 6), VehicleSafety (M = 3), C2DTLZ2 (one constraint)
  and a real task (the same MLP: validation error against log10 parameter count).

The synthetic problems are BoTorch's test functions (``botorch.test_functions``), in their
minimisation form; BoTorch states a constraint as a *slack* ``s(x) >= 0``, here it is
``c(x) = -s(x) <= 0``. Reference points and maximal hypervolumes are BoTorch's (minimisation
convention: a point counts only when it is below the reference point in every objective).

Example:
    >>> p = problem("gardner")
    >>> out = p.fn({"x1": 4.71238898, "x2": 0.0})
    >>> round(out["value"], 6), out["c1"] <= 0
    (-2.0, True)
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import bayesopt as bo

__all__ = [
    "SUITES",
    "OutcomeProblem",
    "constrained_problems",
    "multiobjective_problems",
    "problem",
    "problems",
]

SUITES = ("constrained", "multiobjective")


@dataclass(frozen=True)
class OutcomeProblem:
    """A problem whose evaluation returns several named outcomes.

    Attributes:
        name: registry key, e.g. ``"dtlz2-m3"``.
        suite: ``"constrained"`` or ``"multiobjective"``.
        space: the search space.
        objectives: ``{name: "min"}`` (every objective here is minimised).
        constraints: ``{name: ("<=", 0.0)}``: feasible when every one holds.
        fn: ``params -> {outcome name: value}`` with every objective and constraint.
        budget: evaluations each contender gets.
        optimum: the best feasible value (constrained suite), or ``None``.
        optimum_source: where ``optimum`` comes from (literature, computed, BoTorch).
        ref_point: reference point per objective, in objective order (multiobjective).
        max_hv: hypervolume of the true Pareto front at ``ref_point``, or ``None``.
        description: one line for the report.
        regret_floor: regrets are floored here before the log10 (a task whose values
            come in steps, such as a validation error over 200 rows, floors at a fraction
            of the step, so "found the best" reads as one value rather than ``-12``).
    """

    name: str
    suite: str
    space: bo.Space
    objectives: Mapping[str, str]
    constraints: Mapping[str, tuple[str, float]]
    fn: Callable[[dict[str, Any]], dict[str, float]]
    budget: int
    optimum: float | None = None
    optimum_source: str = ""
    ref_point: tuple[float, ...] | None = None
    max_hv: float | None = None
    description: str = ""
    regret_floor: float = 1e-12
    eval_cost_s: float = 1e-3
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise ValueError(f"{self.name}: `suite` must be one of {SUITES}, got {self.suite!r}")
        if self.budget < 1:
            raise ValueError(f"{self.name}: `budget >= 1` must hold, got {self.budget}")
        if any(d != "min" for d in self.objectives.values()):
            raise ValueError(f"{self.name}: every objective must be minimised ('min').")
        if self.ref_point is not None and len(self.ref_point) != len(self.objectives):
            raise ValueError(f"{self.name}: `ref_point` needs one entry per objective.")

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return self.space.dim

    @property
    def objective_names(self) -> list[str]:
        """The objectives, in order."""
        return list(self.objectives)

    @property
    def constraint_names(self) -> list[str]:
        """The constraints, in order."""
        return list(self.constraints)

    def feasible(self, outcomes: Mapping[str, float]) -> bool:
        """Whether every constraint holds (a NaN constraint is violated) and every
        objective is finite."""
        for name, (op, bound) in self.constraints.items():
            v = outcomes[name]
            if not math.isfinite(v) or (v > bound if op == "<=" else v < bound):
                return False
        return all(math.isfinite(outcomes[n]) for n in self.objectives)


# BoTorch test functions -----------------------------------------------------------------------
def _space_of(bounds: torch.Tensor) -> bo.Space:
    lo, hi = bounds.tolist()
    return bo.Space(
        {
            f"x{i + 1}": bo.Real(float(a), float(b))
            for i, (a, b) in enumerate(zip(lo, hi, strict=True))
        }
    )


@dataclass(frozen=True)
class _BoTorchFn:
    """``params -> outcomes`` of a BoTorch test problem (a picklable callable)."""

    problem: Any
    n_objectives: int

    def __call__(self, params: dict[str, Any]) -> dict[str, float]:
        x = torch.tensor(
            [[float(params[f"x{i + 1}"]) for i in range(self.problem.dim)]], dtype=torch.float64
        )
        with torch.no_grad():
            y = self.problem.evaluate_true(x).reshape(-1)
            slack = (
                self.problem.evaluate_slack_true(x).reshape(-1)
                if hasattr(self.problem, "evaluate_slack_true")
                else torch.zeros(0)
            )
        if self.n_objectives == 1:
            out = {"value": float(y[0])}
        else:
            out = {f"f{i + 1}": float(v) for i, v in enumerate(y.tolist())}
        out |= {f"c{i + 1}": -float(s) for i, s in enumerate(slack.tolist())}
        return out


def _botorch_problem(
    name: str, suite: str, instance: Any, budget: int, description: str, **kwargs: Any
) -> OutcomeProblem:
    m = int(getattr(instance, "num_objectives", 1))
    k = int(getattr(instance, "num_constraints", 0))
    objectives = {"value": "min"} if m == 1 else {f"f{i + 1}": "min" for i in range(m)}
    return OutcomeProblem(
        name=name,
        suite=suite,
        space=_space_of(instance.bounds),
        objectives=objectives,
        constraints={f"c{i + 1}": ("<=", 0.0) for i in range(k)},
        fn=_BoTorchFn(instance, m),
        budget=budget,
        description=description,
        **kwargs,
    )


# Gardner et al. (2014) ------------------------------------------------------------------------
def gardner(params: dict[str, Any]) -> dict[str, float]:
    """Gardner et al. (2014), simulation 1: ``cos(2 x1) cos(x2) + sin(x1)`` subject to
    ``cos(x1) cos(x2) - sin(x1) sin(x2) <= 0.5`` on ``[0, 6]^2``; stated as
    ``c1 = cos(x1 + x2) - 0.5 <= 0``."""
    x1, x2 = float(params["x1"]), float(params["x2"])
    value = math.cos(2 * x1) * math.cos(x2) + math.sin(x1)
    return {"value": value, "c1": math.cos(x1) * math.cos(x2) - math.sin(x1) * math.sin(x2) - 0.5}


# A real task: an MLP on digits ----------------------------------------------------------------
MLP_SPACE = bo.Space(
    {
        "lr": bo.Real(1e-4, 1e-1, log=True),
        "alpha": bo.Real(1e-6, 1e-1, log=True),
        "width1": bo.Integer(4, 256, log=True),
        "width2": bo.Integer(4, 256, log=True),
    }
)
MLP_MAX_PARAMS = 2000
"""The parameter-count limit of the constrained MLP task."""


def mlp_parameter_count(width1: int, width2: int, n_in: int = 64, n_out: int = 10) -> int:
    """Weights and biases of a ``n_in - width1 - width2 - n_out`` perceptron."""
    return (n_in + 1) * width1 + (width1 + 1) * width2 + (width2 + 1) * n_out


@functools.cache
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """600 digits (fixed subsample), standardised on 400 training rows; 200 validation."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    keep = np.random.default_rng(0).permutation(len(y))[:600]
    Xtr, Xva, ytr, yva = train_test_split(
        X[keep], y[keep], test_size=200, stratify=y[keep], random_state=0
    )
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    return (Xtr - mu) / sd, (Xva - mu) / sd, ytr, yva


def mlp_error(params: dict[str, Any]) -> float:
    """Validation error of scikit-learn's ``MLPClassifier`` (two hidden layers, Adam, 60
    epochs, ``random_state=0``, one BLAS thread) on the digits split."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    Xtr, Xva, ytr, yva = _digits_split()
    model = MLPClassifier(
        hidden_layer_sizes=(int(params["width1"]), int(params["width2"])),
        learning_rate_init=float(params["lr"]),
        alpha=float(params["alpha"]),
        max_iter=60,
        random_state=0,
    )
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
        return float(np.mean(model.predict(Xva) != yva))


def mlp_constrained(params: dict[str, Any]) -> dict[str, float]:
    """Validation error subject to ``parameter count <= MLP_MAX_PARAMS`` (``c1`` is the
    count over the limit, in thousands)."""
    count = mlp_parameter_count(int(params["width1"]), int(params["width2"]))
    return {"value": mlp_error(params), "c1": (count - MLP_MAX_PARAMS) / 1000.0}


def mlp_tradeoff(params: dict[str, Any]) -> dict[str, float]:
    """Validation error (``f1``) against log10 of the parameter count (``f2``)."""
    count = mlp_parameter_count(int(params["width1"]), int(params["width2"]))
    return {"f1": mlp_error(params), "f2": math.log10(count)}


# Registries -----------------------------------------------------------------------------------
def constrained_problems() -> list[OutcomeProblem]:
    """The ``constrained`` suite (single objective, black-box constraints)."""
    from botorch.test_functions import synthetic as s

    lit = "literature, BoTorch's `_optimal_value`"
    return [
        _botorch_problem(
            "hartmann6-c", "constrained", s.ConstrainedHartmann(dim=6), 30,
            "Hartmann-6 subject to ||x|| <= 1 (BoTorch `ConstrainedHartmann`)",
            optimum=-3.32237, optimum_source="Hartmann-6's minimum, feasible: ||x*|| = 0.95",
        ),
        OutcomeProblem(
            name="gardner", suite="constrained",
            space=bo.Space({"x1": bo.Real(0.0, 6.0), "x2": bo.Real(0.0, 6.0)}),
            objectives={"value": "min"}, constraints={"c1": ("<=", 0.0)}, fn=gardner, budget=30,
            optimum=-2.0, optimum_source="computed: (3 pi / 2, 0), constraint slack 0.5",
            description="Gardner et al. (2014) 2-D: cos(2x1)cos(x2)+sin(x1), cos(x1+x2) <= 0.5",
        ),
        _botorch_problem(
            "pressure-vessel", "constrained", s.PressureVessel(), 30,
            "pressure vessel design, 4-D, 4 constraints (x1, x2 rounded to 1/16)",
            optimum=6059.946341, optimum_source=lit,
        ),
        _botorch_problem(
            "spring", "constrained", s.TensionCompressionString(), 30,
            "tension-compression spring, 3-D, 4 constraints",
            optimum=0.012681, optimum_source=lit,
        ),
        _botorch_problem(
            "welded-beam", "constrained", s.WeldedBeamSO(), 30,
            "welded beam, 4-D, 6 constraints", optimum=1.728226, optimum_source=lit,
        ),
        _botorch_problem(
            "speed-reducer", "constrained", s.SpeedReducer(), 30,
            "speed reducer, 7-D, 11 constraints", optimum=2996.3482, optimum_source=lit,
        ),
        OutcomeProblem(
            name="mlp-digits-size", suite="constrained", space=MLP_SPACE,
            objectives={"value": "min"}, constraints={"c1": ("<=", 0.0)}, fn=mlp_constrained,
            budget=30, eval_cost_s=0.3, regret_floor=1e-3,
            description=f"MLP (2 hidden layers) on digits: validation error, <= {MLP_MAX_PARAMS} "
            "parameters",
        ),
    ]  # fmt: skip


def multiobjective_problems() -> list[OutcomeProblem]:
    """The ``multiobjective`` suite (objectives all minimised)."""
    from botorch.test_functions import multi_objective as m

    def mo(name: str, inst: Any, budget: int, text: str) -> OutcomeProblem:
        return _botorch_problem(
            name, "multiobjective", inst, budget, text,
            ref_point=tuple(float(v) for v in inst.ref_point.tolist()),
            max_hv=float(inst.max_hv),
        )  # fmt: skip

    return [
        mo("branincurrin", m.BraninCurrin(), 30, "BraninCurrin, 2-D, M = 2"),
        mo(
            "branincurrin-100", m.BraninCurrin(), 100,
            "BraninCurrin, 2-D, M = 2, at 100 evaluations (a budget common in the literature)",
        ),
        mo("dtlz2-m2", m.DTLZ2(dim=6, num_objectives=2), 30, "DTLZ2, 6-D, M = 2"),
        mo("dtlz2-m3", m.DTLZ2(dim=6, num_objectives=3), 30, "DTLZ2, 6-D, M = 3"),
        mo(
            "dtlz2-m2-200", m.DTLZ2(dim=6, num_objectives=2), 200,
            "DTLZ2, 6-D, M = 2, at 200 evaluations (a budget common in the literature)",
        ),
        mo(
            "dtlz2-m3-200", m.DTLZ2(dim=6, num_objectives=3), 200,
            "DTLZ2, 6-D, M = 3, at 200 evaluations (a budget common in the literature)",
        ),
        mo("zdt1", m.ZDT1(dim=6), 30, "ZDT1, 6-D, M = 2 (convex front)"),
        mo("zdt2", m.ZDT2(dim=6), 30, "ZDT2, 6-D, M = 2 (concave front)"),
        mo("zdt3", m.ZDT3(dim=6), 30, "ZDT3, 6-D, M = 2 (disconnected front)"),
        mo("vehiclesafety", m.VehicleSafety(), 30, "VehicleSafety, 5-D, M = 3"),
        mo("c2dtlz2", m.C2DTLZ2(dim=6, num_objectives=2), 30, "C2DTLZ2, 6-D, M = 2, 1 constraint"),
        OutcomeProblem(
            name="mlp-digits-tradeoff", suite="multiobjective", space=MLP_SPACE,
            objectives={"f1": "min", "f2": "min"}, constraints={}, fn=mlp_tradeoff, budget=30,
            ref_point=(1.0, 5.0), eval_cost_s=0.3,
            description="MLP on digits: validation error against log10 parameter count",
        ),
    ]  # fmt: skip


def problems(suite: str) -> list[OutcomeProblem]:
    """The problems of ``suite`` (``"constrained"`` or ``"multiobjective"``)."""
    if suite == "constrained":
        return constrained_problems()
    if suite == "multiobjective":
        return multiobjective_problems()
    raise ValueError(f"`suite` must be one of {SUITES}, got {suite!r}")


def problem(name: str) -> OutcomeProblem:
    """The problem called ``name`` in either suite."""
    for suite in SUITES:
        for p in problems(suite):
            if p.name == name:
                return p
    raise KeyError(f"unknown problem {name!r}")
