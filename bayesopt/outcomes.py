"""Several outcomes: objectives and black-box constraints, feasibility, Pareto fronts.

A study that declares its outcomes (``Optimizer(space, objectives=..., constraints=...)``)
is told a mapping ``{name: value}`` holding every objective and every constraint. This
module owns the declarations (``Outcomes``), the check of a told mapping
(``Outcomes.check``) and the analysis of a finished study: which trials are feasible,
which are Pareto-optimal (``pareto_mask``, ``pareto_front``), and the hypervolume they
dominate (``hypervolume``, with ``reference_point``). It knows trials, never optimisers.

Conventions: objective values stay in the user's units and directions in trials; every
computation here turns them into *gains* (larger is better: a minimised objective is
negated), the convention of BoTorch's multi-objective utilities.

Example:
    >>> out = Outcomes.declare({"error": "min", "latency": "min"}, {"mem": ("<=", 8.0)})
    >>> values, value, feasible, error = out.check({"error": 0.1, "latency": 3, "mem": 9})
    >>> values, value, feasible
    ({'error': 0.1, 'latency': 3.0, 'mem': 9.0}, None, False)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bayesopt.trial import Trial, TrialState

__all__ = [
    "DIRECTIONS",
    "OPERATORS",
    "REFERENCE_SCALE",
    "REFERENCE_TRIALS",
    "Outcomes",
    "hypervolume",
    "pareto_front",
    "pareto_mask",
    "reference_point",
]

DIRECTIONS = ("min", "max")
OPERATORS = ("<=", ">=")
REFERENCE_SCALE = 0.1
"""The inferred reference point lies this fraction of the range beyond the nadir point
(BoTorch's ``infer_reference_point`` default, after Ishibuchi et al. 2011)."""
REFERENCE_TRIALS = 10
"""The inferred reference point comes from this many first complete, feasible trials, and
is fixed once a study holds them."""
VALUE = "value"
"""The name of the one objective of a study that declares only constraints."""


def _name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"`{what}` names must be non-empty strings, but got {name!r}.")
    return name


def _real(value: object) -> float | None:
    """``value`` as a float (NaN allowed), or ``None`` when it is not a real number."""
    if isinstance(value, np.ndarray | torch.Tensor) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


@dataclass(frozen=True)
class Outcomes:
    """The outcomes a study is told: objectives with directions, and constraints.

    Build it with ``Outcomes.declare``, which checks the user's dicts.

    Attributes:
        objectives: ``(name, "min" | "max")`` pairs, in declaration order.
        constraints: ``(name, "<=" | ">=", bound)`` triples: a trial is feasible when every
            constraint value satisfies its bound.
        declared: whether ``objectives`` was given (``False``: one objective ``"value"``
            implied by ``constraints=`` alone, its direction from ``maximize``).
        reference: the user's reference point, one value per objective in the user's
            units and declaration order, or ``None`` to infer one from the trials.
    """

    objectives: tuple[tuple[str, str], ...]
    constraints: tuple[tuple[str, str, float], ...] = ()
    declared: bool = True
    reference: tuple[float, ...] | None = None

    @classmethod
    def declare(
        cls,
        objectives: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        constraints: Mapping[str, tuple[str, float]]
        | Sequence[tuple[str, str, float]]
        | None = None,
        *,
        maximize: bool = False,
        reference_point: Mapping[str, float] | None = None,
    ) -> Outcomes | None:
        """Check the declarations of ``Optimizer(objectives=, constraints=, reference_point=)``.

        Args:
            objectives: ``{name: "min" | "max"}`` (or the pairs a journal stores); ``None``
                for one objective, ``"value"``, when constraints are given.
            constraints: ``{name: ("<=" | ">=", bound)}`` with a finite bound (or the
                triples a journal stores).
            maximize: the direction of the implied ``"value"`` objective; must be ``False``
                when ``objectives`` is given (the directions are there).
            reference_point: ``{objective: value}`` for two or more objectives (or the
                pairs a journal stores): the point, in the user's units, worse than any
                trade-off worth having (above it for a minimised objective, below for a
                maximised one); ``None`` to infer it.

        Returns:
            The declarations, or ``None`` when neither is given (a study told floats).

        Raises:
            TypeError: a declaration is not a mapping, a name is not a string, a bound is
                not a number.
            ValueError: an empty mapping, an unknown direction or operator, a non-finite
                bound, a name declared twice, ``maximize=True`` with ``objectives``, or a
                ``reference_point`` for fewer than two objectives, or that misses one.

        Example:
            >>> Outcomes.declare(None, {"mem": ("<=", 8)}).objectives
            (('value', 'min'),)
        """
        if objectives is None and constraints is None:
            if reference_point is not None:
                raise ValueError("`reference_point` needs two or more `objectives`.")
            return None
        if objectives is not None and maximize:
            raise ValueError(
                "pass either `maximize=True` or `objectives=` (whose directions say what is "
                "maximised), not both."
            )
        objs = _pairs(objectives, "objectives") if objectives is not None else None
        cons = _pairs(constraints, "constraints") if constraints is not None else []
        if objs is None:
            out_objs = ((VALUE, "max" if maximize else "min"),)
        else:
            out_objs = tuple(_objective(k, v) for k, v in objs)
        out_cons = tuple(_constraint(k, v) for k, v in cons)
        names = [k for k, _ in out_objs] + [k for k, *_ in out_cons]
        twice = sorted({k for k in names if names.count(k) > 1})
        if twice:
            raise ValueError(
                f"each outcome is declared once, in `objectives` or in `constraints`, but "
                f"{twice} appear twice."
            )
        out = cls(out_objs, out_cons, objs is not None)
        if reference_point is None:
            return out
        if len(out_objs) < 2:
            raise ValueError(
                f"`reference_point` needs two or more `objectives`, but the study has "
                f"{list(out.objective_names)}."
            )
        point = dict(_pairs(reference_point, "reference_point"))  # or the journal's pairs
        reference = out.from_gains(out.to_gains(point, "reference_point"))
        return replace(out, reference=tuple(reference[k] for k in out.objective_names))

    # What the study records ------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The declarations as a journal stores them (``objectives`` only when declared)."""
        out: dict[str, Any] = {}
        if self.declared:
            out["objectives"] = self.objectives
        if self.constraints:
            out["constraints"] = self.constraints
        if self.reference is not None:
            out["reference_point"] = tuple(zip(self.objective_names, self.reference, strict=True))
        return out

    @property
    def reference_point(self) -> dict[str, float] | None:
        """The user's reference point as ``{objective: value}``, or ``None``."""
        if self.reference is None:
            return None
        return dict(zip(self.objective_names, self.reference, strict=True))

    def reference_gains(self) -> Tensor | None:
        """The user's reference point as ``m`` gains, or ``None``."""
        point = self.reference_point
        return None if point is None else self.to_gains(point, "reference_point")

    @property
    def names(self) -> tuple[str, ...]:
        """Every outcome's name: the objectives, then the constraints."""
        return self.objective_names + self.constraint_names

    @property
    def objective_names(self) -> tuple[str, ...]:
        """The objectives' names, in declaration order."""
        return tuple(k for k, _ in self.objectives)

    @property
    def constraint_names(self) -> tuple[str, ...]:
        """The constraints' names, in declaration order."""
        return tuple(k for k, *_ in self.constraints)

    @property
    def multi(self) -> bool:
        """Whether there are several objectives (then ``Trial.value`` is ``None``)."""
        return len(self.objectives) > 1

    # Checking a tell ---------------------------------------------------------------------
    def check(
        self, values: object
    ) -> tuple[dict[str, float], float | None, bool | None, str | None]:
        """A told mapping as a trial records it.

        Args:
            values: ``{name: value}`` with every objective and constraint.

        Returns:
            ``(values, value, feasible, error)``: every outcome as a float; the single
            objective's value (``None`` with several objectives); whether every
            constraint holds (``None`` without constraints); and, when an objective is not
            finite, the error text of the failure it causes (then ``value`` is ``None``).
            A NaN constraint value counts as violated.

        Raises:
            TypeError: ``values`` is not a mapping, or holds a value that is not a real
                number.
            ValueError: an outcome is missing, or a name is unknown.
        """
        if not isinstance(values, Mapping):
            raise TypeError(
                f"this study declares outcomes {list(self.names)}: tell a mapping "
                f"{{name: value}} with each of them, but got {values!r}."
            )
        unknown = [k for k in values if k not in self.names]
        if unknown:
            raise ValueError(
                f"unknown outcome(s) {unknown!r}; this study declares {list(self.names)}."
            )
        missing = [k for k in self.names if k not in values]
        if missing:
            kind = "objective" if missing[0] in self.objective_names else "constraint"
            raise ValueError(
                f"the {kind} value {missing[0]!r} is missing (missing: {missing}); tell "
                f"every outcome of {list(self.names)}."
            )
        out: dict[str, float] = {}
        for k in self.names:
            x = _real(values[k])
            if x is None:
                raise TypeError(f"outcome {k!r} must be a real number, but got {values[k]!r}.")
            out[k] = x
        error = next(
            (f"objective {k!r}: value {out[k]!r} is not finite" for k in self.objective_names
             if not math.isfinite(out[k])),
            None,
        )  # fmt: skip
        value = None if self.multi or error else out[self.objective_names[0]]
        return out, value, self.feasible(out), error

    def feasible(self, values: Mapping[str, float]) -> bool | None:
        """Whether every constraint holds (NaN violates); ``None`` without constraints."""
        if not self.constraints:
            return None
        return all(_holds(values[k], op, bound) for k, op, bound in self.constraints)

    # Tensors ----------------------------------------------------------------------------
    def gains(self, trials: Sequence[Trial]) -> Tensor:
        """The objectives of ``trials`` as an ``n x m`` float64 tensor of gains (larger
        is better: minimised objectives negated)."""
        signs = [1.0 if d == "max" else -1.0 for _, d in self.objectives]
        rows = [[s * t.values[k] for s, (k, _) in zip(signs, self.objectives, strict=True)]
                for t in trials]  # type: ignore[index]  # fmt: skip
        return torch.tensor(rows, dtype=torch.float64).reshape(len(trials), len(signs))

    def to_gains(self, point: object, what: str = "ref_point") -> Tensor:
        """A point ``{objective: value}`` in the user's units as ``m`` gains.

        Raises:
            TypeError: ``point`` is not a mapping of numbers.
            ValueError: it misses an objective, names another outcome, or holds a value
                that is not finite.
        """
        if not isinstance(point, Mapping):
            raise TypeError(f"`{what}` must be a dict {{objective: value}}, but got {point!r}.")
        names = self.objective_names
        if set(point) != set(names):
            raise ValueError(f"`{what}` must give exactly the objectives {list(names)}, but "
                             f"got {list(point)}.")  # fmt: skip
        gains = []
        for k, d in self.objectives:
            x = _real(point[k])
            if x is None or not math.isfinite(x):
                raise (TypeError if x is None else ValueError)(
                    f"`{what}[{k!r}]` must be a finite number, but got {point[k]!r}."
                )
            gains.append(x if d == "max" else -x)
        return torch.tensor(gains, dtype=torch.float64)

    def from_gains(self, gains: Tensor) -> dict[str, float]:
        """``m`` gains as ``{objective: value}`` in the user's units."""
        return {
            k: float(g) if d == "max" else -float(g)
            for (k, d), g in zip(self.objectives, gains.tolist(), strict=True)
        }

    def slacks(self, trials: Sequence[Trial]) -> Tensor:
        """The constraints of ``trials`` as an ``n x c`` tensor of slacks: ``bound - v``
        for ``<=``, ``v - bound`` for ``>=``; a constraint holds where its slack is
        ``>= 0`` (NaN where the value was NaN)."""
        rows = [
            [(b - t.values[k]) if op == "<=" else (t.values[k] - b)  # type: ignore[index]
             for k, op, b in self.constraints]
            for t in trials
        ]  # fmt: skip
        return torch.tensor(rows, dtype=torch.float64).reshape(len(trials), len(self.constraints))

    def project(
        self, trials: Sequence[Trial], outcome: str | None = None
    ) -> tuple[list[Trial], bool]:
        """The trials as a single-objective study of one outcome, for the views that show
        one number per trial (``plot.history``, ``importance``, the surrogate's slices).

        Args:
            trials: the study's trials.
            outcome: an objective or a constraint; ``None`` for the first objective.

        Returns:
            ``(trials, maximize)``: copies whose ``value`` is that outcome (a complete trial
            with a non-finite value becomes failed, as the GP would impute it), and whether
            larger is better (an objective's direction; a ``>=`` constraint).

        Raises:
            ValueError: ``outcome`` is not one of this study's outcomes.
        """
        name = self.objective_names[0] if outcome is None else outcome
        if name not in self.names:
            raise ValueError(
                f"`outcome` must be one of this study's outcomes {list(self.names)}, but got "
                f"{outcome!r}."
            )
        maximize = dict(self.objectives).get(name) == "max" or any(
            k == name and op == ">=" for k, op, _ in self.constraints
        )
        out = []
        for t in trials:
            if t.state is TrialState.COMPLETE and t.values is not None:
                x = t.values[name]
                t = (
                    replace(t, value=x)
                    if math.isfinite(x)
                    else replace(t, value=None, state=TrialState.FAILED)
                )
            out.append(t)
        return out, maximize

    def usable(self, trials: Sequence[Trial]) -> list[Trial]:
        """The complete, feasible trials (complete ones when there are no constraints)."""
        return [
            t
            for t in trials
            if t.state is TrialState.COMPLETE and t.values is not None and t.feasible is not False
        ]


def _pairs(obj: object, what: str) -> list[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        items = list(obj.items())
    elif isinstance(obj, tuple | list) and all(isinstance(x, tuple | list) for x in obj):
        # The form a journal stores: (name, direction) or (name, op, bound).
        items = [(x[0], x[1] if len(x) == 2 else tuple(x[1:])) for x in obj if len(x) >= 2]
        if len(items) != len(obj):
            raise TypeError(f"`{what}` must be a dict, but got {obj!r}.")
    else:
        raise TypeError(f"`{what}` must be a dict (or None), but got {obj!r}.")
    if not items:
        raise ValueError(f"`{what}` must declare at least one outcome (or be None), but is empty.")
    return items


def _objective(name: object, direction: object) -> tuple[str, str]:
    name = _name(name, "objectives")
    if direction not in DIRECTIONS:
        raise ValueError(
            f"the direction of objective {name!r} must be one of {DIRECTIONS}, but got "
            f"{direction!r}."
        )
    return name, str(direction)


def _constraint(name: object, spec: object) -> tuple[str, str, float]:
    name = _name(name, "constraints")
    if not isinstance(spec, tuple | list) or len(spec) != 2:
        raise TypeError(
            f"constraint {name!r} must be an (op, bound) pair such as ('<=', 8.0), but got "
            f"{spec!r}."
        )
    op, bound = spec
    if op not in OPERATORS:
        raise ValueError(f"the operator of constraint {name!r} must be one of {OPERATORS}, "
                         f"but got {op!r}.")  # fmt: skip
    b = _real(bound)
    if b is None:
        raise TypeError(f"the bound of constraint {name!r} must be a number, but got {bound!r}.")
    if not math.isfinite(b):
        raise ValueError(f"the bound of constraint {name!r} must be finite, but got {bound!r}.")
    return name, str(op), b


def _holds(value: float, op: str, bound: float) -> bool:
    if math.isnan(value):
        return False
    return value <= bound if op == "<=" else value >= bound


# The Pareto front and the hypervolume ----------------------------------------------------------
def pareto_mask(Y: Tensor) -> Tensor:
    """Which rows of ``Y`` are non-dominated (maximisation).

    A row is dominated when another is at least as large in every column and larger in
    one. Equal rows do not dominate each other: all copies of a Pareto-optimal point are
    kept.

    Args:
        Y: ``n x m`` gains.

    Returns:
        ``n`` booleans.

    Example:
        >>> Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.5], [1.0, 0.0]])
        >>> pareto_mask(Y).tolist()
        [True, True, False, True]
    """
    if len(Y) == 0:
        return torch.zeros(0, dtype=torch.bool)
    ge = (Y[:, None, :] >= Y[None, :, :]).all(-1)  # ge[i, j]: i is at least j everywhere
    gt = (Y[:, None, :] > Y[None, :, :]).any(-1)
    dominated = (ge & gt).any(0)  # some i dominates j
    return ~dominated


def pareto_front(trials: Sequence[Trial], outcomes: Outcomes) -> list[Trial]:
    """The non-dominated trials among the complete, feasible ones, in id order.

    Example:
        >>> out = Outcomes.declare({"a": "min", "b": "min"})
        >>> ts = [Trial(i, {}, None, "complete", values={"a": a, "b": b})
        ...       for i, (a, b) in enumerate([(1, 2), (2, 1), (2, 2)])]
        >>> [t.id for t in pareto_front(ts, out)]
        [0, 1]
    """
    usable = outcomes.usable(trials)
    mask = pareto_mask(outcomes.gains(usable))
    return [t for t, keep in zip(usable, mask.tolist(), strict=True) if keep]


def reference_point(gains: Tensor, scale: float = REFERENCE_SCALE) -> Tensor:
    """The reference point inferred from ``n x m`` gains (maximisation): BoTorch's
    ``infer_reference_point`` given all of them, ``nadir - scale * range`` with the nadir
    each column's worst value and the range each column's spread (a single point: ``scale``
    times its magnitude, at least ``1e-8``).

    Raises:
        ValueError: ``gains`` is empty.

    Example:
        >>> reference_point(torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64))
        tensor([-0.1000, -0.1000], dtype=torch.float64)
    """
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    if len(gains) == 0:
        raise ValueError("a reference point needs at least one feasible complete trial.")
    return infer_reference_point(gains.to(torch.float64), scale=scale)


def hypervolume(gains: Tensor, ref: Tensor) -> float:
    """The hypervolume that ``n x m`` gains dominate above ``ref`` (maximisation); 0 when
    none is better than ``ref`` in every objective.

    Example:
        >>> hypervolume(torch.tensor([[1.0, 2.0], [2.0, 1.0]]), torch.zeros(2))
        3.0
    """
    from botorch.utils.multi_objective.box_decompositions.dominated import (
        DominatedPartitioning,
    )

    gains = gains.to(torch.float64)
    ref = ref.to(torch.float64)
    above = gains[(gains > ref).all(-1)]
    if len(above) == 0:
        return 0.0
    if gains.shape[-1] == 1:
        return float(above.max() - ref[0])
    part = DominatedPartitioning(ref_point=ref, Y=above)
    return float(part.compute_hypervolume())
