"""Search spaces: named parameters, their conditions and constraints, and the unit cube.

Every parameter (``Real``, ``Integer``, ``Categorical``; see ``bayesopt.parameters`` for how
each is encoded) owns one coordinate of the unit cube ``[0, 1]^d``.

Decoding accepts any point of the cube: integers and categoricals are decoded by the bin the
coordinate falls in, so they round-trip exactly; reals round-trip to within a few ulps.

**Conditional parameters** (``when=``) are active only when their parents take given
values; a params dict holds exactly the active parameters. An inactive parameter's
coordinate is fixed at its *imputation value*: ``IMPUTE_ORDINAL`` (0.5, the middle of the
coordinate) for reals and integers, and ``IMPUTE_CATEGORICAL`` (0.0, the lower edge, which
is no category's bin centre) for categoricals, so that the Hamming kernel of the surrogate
sees "inactive" as a level of its own. ``to_unit`` writes these values and ``snap`` restores
them, so two points that differ only in inactive coordinates encode identically.

**Constraints** (``constraints=``) restrict the space to the points that satisfy them:
``Linear`` inequalities over unconditional, non-log numeric parameters and ``Predicate``
functions. ``validate`` rejects params that violate one; ``sample_unit`` and ``sobol``
draw feasible points only (by rejection from their stream, with hit-and-run sampling of
the polytope as a fallback for linear constraints that leave little volume); the
acquisition search keeps to them (``unit_structure``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bayesopt.parameters import (
    Categorical,
    Condition,
    Constraint,
    In,
    Integer,
    Linear,
    Parameter,
    Predicate,
    Real,
    _is_integer,
)

__all__ = [
    "Categorical",
    "Condition",
    "In",
    "Integer",
    "Linear",
    "Parameter",
    "Predicate",
    "Real",
    "Space",
    "UnitStructure",
]

DTYPE = torch.float64

MAX_GRID = 1024
"""Integers with more values than this get no grid: the acquisition search treats them as
continuous and decoding rounds them (one value is then under 0.1 % of the range)."""

IMPUTE_ORDINAL = 0.5
"""Unit value of an inactive real or integer coordinate (the middle of its range)."""
IMPUTE_CATEGORICAL = 0.0
"""Unit value of an inactive categorical coordinate (no category's bin centre)."""

CONSTRAINTS_KEY = "$constraints"
"""The key of ``to_dict`` that holds the constraints (reserved: no parameter has it)."""

MAX_BRANCHES = 10_000
"""Assignments of the conditions' parents enumerated for ``n_points`` and ``active_dim``;
beyond, those fall back to ``None`` and the number of coordinates."""
MAX_FEASIBLE_COUNT = 2**16
"""A constrained, fully discrete space with at most this many grid points counts its
feasible points (``n_points``); a larger one reports ``None``."""
UNIT_MARGIN = 1e-7
"""Relative margin by which ``unit_constraints`` tighten the linear constraints."""
REJECTION_CHUNK = 1024
MAX_REJECTION_DRAWS = 2**17
"""Points drawn from a stream, at most, to find the feasible ones it needs."""


class Space(Mapping[str, Parameter]):
    """An ordered, immutable mapping from parameter names to parameter types.

    Args:
        params: ``{name: Real | Integer | Categorical}``; the order is kept. A parameter
            with ``when=`` is conditional (see ``bayesopt.parameters.Condition``).
        constraints: ``Linear`` inequalities and ``Predicate`` functions (a bare callable
            ``fn(params) -> bool`` is wrapped in a ``Predicate``); the space holds only the
            points that satisfy all of them.

    Raises:
        TypeError, ValueError: a bad definition, named: a condition on an unknown
            parameter, on the parameter itself or on a ``Real`` (conditions test equality
            or membership: a parent is a ``Categorical`` or an ``Integer``); a value the
            parent cannot take; a cycle of conditions; a parameter whose conditions can
            never hold together; a ``Linear`` constraint on an unknown, categorical,
            log-scaled or conditional parameter; a set of linear constraints that no
            point satisfies (checked by a linear program).

    Example:
        >>> space = Space({"lr": Real(1e-4, 1e-1, log=True), "depth": Integer(1, 8)})
        >>> space.dim
        2
        >>> space.from_unit(space.to_unit({"lr": 1e-2, "depth": 3}))["depth"]
        3
        >>> cond = Space({
        ...     "model": Categorical(["svm", "rf"]),
        ...     "C": Real(1e-3, 1e3, log=True, when={"model": "svm"}),
        ... })
        >>> cond.validate({"model": "rf"})
        {'model': 'rf'}
    """

    def __init__(
        self,
        params: Mapping[str, Parameter],
        constraints: Sequence[Constraint | Callable[[dict[str, Any]], bool]] = (),
    ) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"Space: `params` must be a mapping name -> parameter, got {params!r}.")
        if len(params) == 0:
            raise ValueError("Space: a space needs at least one parameter, but got none.")
        for name, p in params.items():
            if not isinstance(name, str):
                raise TypeError(f"Space: parameter names must be str, but got {name!r}.")
            if not name:
                raise ValueError("Space: parameter names must not be empty.")
            if name == CONSTRAINTS_KEY:
                raise ValueError(f"Space: the name {CONSTRAINTS_KEY!r} is reserved.")
            if not isinstance(p, Real | Integer | Categorical):
                raise TypeError(
                    f"Space: parameter {name!r} must be a Real, Integer or Categorical, "
                    f"but got {p!r}."
                )
        self._params: dict[str, Parameter] = dict(params)
        self._cond = _Conditions(self._params)
        self._constraints, self._linear = _check_constraints(constraints, self._params)
        self._branches: list[tuple[frozenset[str], int]] | bool | None = False  # lazy
        self._feasible_count: int | bool | None = False  # lazy
        self._imputation = torch.tensor(
            [
                IMPUTE_CATEGORICAL if isinstance(p, Categorical) else IMPUTE_ORDINAL
                for p in self._params.values()
            ],
            dtype=DTYPE,
        )

    # Mapping protocol -------------------------------------------------------------------
    def __getitem__(self, name: str) -> Parameter:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return (
            list(self._params.items()) == list(other._params.items())
            and self._constraints == other._constraints
        )

    def __hash__(self) -> int:
        return hash((tuple(self._params.items()), self._constraints))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._params.items())
        if self._constraints:
            return f"Space({{{inner}}}, constraints={list(self._constraints)!r})"
        return f"Space({{{inner}}})"

    # Geometry ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Parameter names in order."""
        return list(self._params)

    @property
    def dim(self) -> int:
        """Dimension of the unit cube the space is encoded into."""
        return len(self._params)

    @property
    def conditional(self) -> bool:
        """Whether some parameter has a condition (``when=``)."""
        return bool(self._cond.direct)

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        """The constraints, in the order given."""
        return self._constraints

    @property
    def n_points(self) -> int | None:
        """Number of distinct points when every parameter is discrete, else ``None``.

        In a conditional space a point holds only its active parameters, so this counts
        each branch's points (``None`` when the conditions have more than
        ``MAX_BRANCHES`` branches). In a constrained space it counts the feasible points
        (``None`` above ``MAX_FEASIBLE_COUNT`` grid points).
        """
        if self._constraints:
            if self._feasible_count is False:  # counted once: the space is immutable
                self._feasible_count = self._count_feasible()
            return self._feasible_count  # type: ignore[return-value]
        if not self.conditional:
            if any(p.n_values is None for p in self._params.values()):
                return None
            return math.prod(p.n_values for p in self._params.values())
        branches = self._branch_list()
        if branches is None or any(count < 0 for _, count in branches):
            return None
        return sum(count for _, count in branches)

    @property
    def active_dim(self) -> int:
        """The most parameters active at once (``dim`` in a space without conditions)."""
        branches = self._branch_list()
        if branches is None:
            return self.dim
        return max(len(active) for active, _ in branches)

    @property
    def active_ordinal_dim(self) -> int:
        """The most non-categorical parameters active at once."""
        branches = self._branch_list()
        ordinal = {k for k, p in self._params.items() if not isinstance(p, Categorical)}
        if branches is None:
            return len(ordinal)
        return max(len(active & ordinal) for active, _ in branches)

    def grid(self, i: int) -> torch.Tensor | None:
        """Allowed unit values of coordinate ``i`` (bin centres), or ``None`` if continuous.

        Integers with more than ``MAX_GRID`` values count as continuous here.

        Returns:
            ``k`` sorted unit values, for a discrete parameter with ``k`` values.
        """
        p = list(self._params.values())[i]
        if isinstance(p, Real) or p.n_values > MAX_GRID:
            return None
        if isinstance(p, Integer):
            values = [p._encode(v) for v in range(p.low, p.high + 1)]
        else:
            values = [(j + 0.5) / p.n_values for j in range(p.n_values)]
        return torch.tensor(values, dtype=DTYPE)

    @property
    def categorical_dims(self) -> list[int]:
        """Indices of the categorical coordinates."""
        return [i for i, p in enumerate(self._params.values()) if isinstance(p, Categorical)]

    @property
    def imputation(self) -> Tensor:
        """The ``d`` unit values inactive coordinates take (``IMPUTE_ORDINAL``,
        ``IMPUTE_CATEGORICAL``)."""
        return self._imputation.clone()

    # Conditions -------------------------------------------------------------------------
    def active_names(self, params: Mapping[str, Any]) -> list[str]:
        """The parameters active under ``params``, in space order.

        Only the parents' values matter; a parent that is missing from ``params`` makes
        its children inactive.

        Example:
            >>> space = Space({
            ...     "model": Categorical(["svm", "rf"]),
            ...     "C": Real(1e-3, 1e3, log=True, when={"model": "svm"}),
            ... })
            >>> space.active_names({"model": "svm"})
            ['model', 'C']
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of name to value, but got {params!r}.")
        values: dict[str, Any] = {}
        for name in self._cond.order:
            if self._cond.is_active(name, values) and name in params:
                values[name] = self._params[name]._validate(name, params[name])
        return [k for k in self._params if self._cond.is_active(k, values)]

    def branch(self, params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """The values of the active parents of conditions: which branch ``params`` is in.

        Returns:
            ``((parent, value), ...)`` in space order; ``()`` in a space without
            conditions.
        """
        checked = self.validate(params)
        return tuple(
            (k, checked[k]) for k in self._params if k in self._cond.parent_set and k in checked
        )

    def active_mask(self, U: Tensor) -> Tensor:
        """Which coordinates of unit points are active.

        Args:
            U: ``... x d`` unit points.

        Returns:
            A ``... x d`` bool tensor (all true in a space without conditions).
        """
        return self._cond.active_mask(U)

    def impute(self, U: Tensor) -> Tensor:
        """Unit points with their inactive coordinates set to the imputation value.

        Differentiable in the active coordinates (the acquisition search scores points
        through it, so inactive coordinates get no gradient).

        Args:
            U: ``... x d`` unit points.

        Returns:
            ``... x d`` points.
        """
        if not self.conditional:
            return U
        mask = self._cond.active_mask(U.detach())
        return torch.where(mask, U, self._imputation.to(U))

    # Encoding ---------------------------------------------------------------------------
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a params dict and return it with canonical Python values.

        In a conditional space it must hold exactly the active parameters; in a
        constrained space it must satisfy the constraints (an unbound ``Predicate``, as
        read from a journal, is not checked).

        Raises:
            TypeError: ``params`` is not a mapping, or a value has the wrong type.
            ValueError: a name is unknown or missing, a value lies outside its parameter,
                an inactive parameter is given, or a constraint is violated.
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of name to value, but got {params!r}.")
        unknown = [k for k in params if k not in self._params]
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown!r}; the space has {self.names!r}.")
        if not self.conditional:
            missing = [k for k in self._params if k not in params]
            if missing:
                raise ValueError(f"missing parameter(s) {missing!r}; the space has {self.names!r}.")
            out = {k: p._validate(k, params[k]) for k, p in self._params.items()}
        else:
            out = self._validate_conditional(params)
        if self._constraints:
            self._check_feasible(out)
        return out

    def _validate_conditional(self, params: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        missing: list[str] = []
        inactive: list[str] = []
        for name in self._cond.order:
            if self._cond.is_active(name, values):
                if name in params:
                    values[name] = self._params[name]._validate(name, params[name])
                else:
                    missing.append(name)
            elif name in params:
                inactive.append(name)
        if missing:
            missing.sort(key=self.names.index)
            raise ValueError(
                f"missing parameter(s) {missing!r}: active {self._why(missing[0], values)}; "
                f"give exactly the active parameters."
            )
        if inactive:
            inactive.sort(key=self.names.index)
            raise ValueError(
                f"parameter(s) {inactive!r} are inactive here ({self._why(inactive[0], values)}) "
                "and must be left out; give exactly the active parameters."
            )
        return {k: values[k] for k in self._params if k in values}

    def _why(self, name: str, values: Mapping[str, Any]) -> str:
        """The condition of ``name`` and its parents' values, in words."""
        cond = self._params[name].when
        if not cond:
            return "always"
        parts = []
        for parent, allowed in cond.items():
            now = repr(values[parent]) if parent in values else "inactive"
            parts.append(f"{parent!r} in {list(allowed.values)!r} (it is {now})")
        return "when " + " and ".join(parts)

    def _check_feasible(self, params: Mapping[str, Any]) -> None:
        for c in self._constraints:
            if isinstance(c, Linear):
                lhs = c.lhs(params)
                tol = c.tolerance(self._linear.scale_of(c))
                ok = lhs <= c.bound + tol if c.op == "<=" else lhs >= c.bound - tol
                if not ok:
                    raise ValueError(
                        f"params violate the constraint {c!r}: the left-hand side is {lhs!r}."
                    )
            elif c.fn is not None and not c(params):
                raise ValueError(f"params violate the constraint {c!r} (it returned False).")

    def to_unit(self, params: Mapping[str, Any]) -> torch.Tensor:
        """Encode one params dict as a point of the unit cube.

        Inactive parameters' coordinates take the imputation value (``imputation``).

        Returns:
            A ``d`` tensor (float64) in ``[0, 1]^d``.
        """
        params = self.validate(params)
        imputed = self._imputation.tolist()
        return torch.tensor(
            [
                p._encode(params[k]) if k in params else x
                for (k, p), x in zip(self._params.items(), imputed, strict=True)
            ],
            dtype=DTYPE,
        )

    def from_unit(self, u: torch.Tensor | Sequence[float]) -> dict[str, Any]:
        """Decode one point of the unit cube (values outside are clipped).

        Constraints are not checked here (see ``feasible_mask``).

        Args:
            u: a ``d`` tensor or sequence of floats.

        Returns:
            ``{name: value}`` with plain Python ``float``, ``int`` or the choice object,
            for the active parameters.
        """
        u = torch.as_tensor(u, dtype=DTYPE).reshape(-1)
        if u.numel() != self.dim:
            raise ValueError(f"from_unit: expected {self.dim} coordinates, got {u.numel()}.")
        if not bool(torch.isfinite(u).all()):
            raise ValueError(f"from_unit: coordinates must be finite, got {u.tolist()!r}.")
        values = u.clamp(0.0, 1.0).tolist()
        if not self.conditional:
            return {k: p._decode(x) for (k, p), x in zip(self._params.items(), values, strict=True)}
        coords = dict(zip(self._params, values, strict=True))
        out: dict[str, Any] = {}
        for name in self._cond.order:
            if self._cond.is_active(name, out):
                out[name] = self._params[name]._decode(coords[name])
        return {k: out[k] for k in self._params if k in out}

    def snap(self, u: torch.Tensor) -> torch.Tensor:
        """Move discrete coordinates to their bin centres and inactive ones to their
        imputation value: the canonical form of a unit point.

        Args:
            u: ``... x d`` unit points.

        Returns:
            ``... x d`` unit points whose discrete coordinates are exact bin centres.
        """
        out = u.clamp(0.0, 1.0).clone()
        for i, p in enumerate(self._params.values()):
            if isinstance(p, Categorical):
                idx = (out[..., i] * p.n_values).floor().clamp(0, p.n_values - 1)
                out[..., i] = (idx + 0.5) / p.n_values
            elif isinstance(p, Integer):
                lo, hi = p._edges()
                x = lo + out[..., i] * (hi - lo)
                value = (x.exp() if p.log else x).round().clamp(p.low, p.high)
                x = value.log() if p.log else value
                out[..., i] = (x - lo) / (hi - lo)
        if self.conditional:
            out = torch.where(self._cond.active_mask(out), out, self._imputation.to(out))
        return out

    def feasible_mask(self, U: Tensor) -> Tensor:
        """Which unit points satisfy every constraint (after decoding), exactly: with no
        allowance for rounding, unlike ``validate``.

        Args:
            U: ``n x d`` unit points (canonical ones: see ``snap``).

        Returns:
            An ``n`` bool tensor (all true without constraints).

        Raises:
            ValueError: the space holds an unbound ``Predicate`` (read from a journal).
        """
        U = U.reshape(-1, self.dim)
        ok = torch.ones(len(U), dtype=torch.bool, device=U.device)
        if self._linear is not None:
            ok &= self._linear.feasible(U)
        for c in self._constraints:
            if isinstance(c, Predicate):
                for j in torch.nonzero(ok).reshape(-1).tolist():
                    ok[j] = c(self.from_unit(U[j].cpu()))
        return ok

    def unit_constraints(self) -> list[tuple[Tensor, Tensor, float]]:
        """The linear constraints over unit coordinates in BoTorch's format.

        Returns:
            ``[(indices, coefficients, rhs), ...]``, each meaning
            ``sum_i coefficients[i] * u[indices[i]] >= rhs`` (as ``optimize_acqf``'s
            ``inequality_constraints``). Integer coordinates enter relaxed: a point that
            satisfies these may still violate a constraint after rounding
            (``feasible_mask`` is the exact test). They are tightened by ``UNIT_MARGIN``
            (relative), so that a point on their boundary is strictly feasible.
        """
        return [] if self._linear is None else self._linear.botorch()

    def unit_structure(self) -> UnitStructure | None:
        """What the acquisition search needs to respect the structure, in unit-cube terms;
        ``None`` for a space without conditions or constraints."""
        if not self.conditional and not self._constraints:
            return None
        return UnitStructure(
            snap=self.snap,
            impute=self.impute,
            active=self.active_mask,
            feasible=self.feasible_mask if self._constraints else None,
            sample=lambda n, seed: self.sample_unit(n, seed),
            inequality_constraints=self.unit_constraints(),
        )

    def sample_unit(self, n: int, seed: int | None = None, *, sobol: bool = True) -> torch.Tensor:
        """Draw ``n`` points in the unit cube: scrambled Sobol, or uniform when ``sobol=False``.

        In a constrained space, the first ``n`` feasible points of that stream.

        Returns:
            An ``n x d`` tensor of canonical points (see ``snap``).

        Raises:
            ValueError: the constraints let too few points through (see
                ``MAX_REJECTION_DRAWS``).
        """
        if not _is_integer(n) or n < 0:
            raise ValueError(f"sample: `n >= 0` must be an int, but got {n!r}.")
        seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
        if sobol:
            return self.sobol(n, seed)
        gen = torch.Generator().manual_seed(seed)
        if not self._constraints:
            return self.snap(torch.rand(n, self.dim, generator=gen, dtype=DTYPE))
        return self._feasible_stream(
            lambda k: torch.rand(k, self.dim, generator=gen, dtype=DTYPE), n, 0, seed
        )

    def sobol(self, n: int, seed: int, *, skip: int = 0) -> torch.Tensor:
        """Points ``skip`` to ``skip + n`` of the scrambled Sobol sequence seeded ``seed``.

        In a constrained space, the feasible points of that sequence, numbered in order.

        Args:
            n: number of points.
            seed: the engine's seed (``torch.quasirandom.SobolEngine``).
            skip: points of the (feasible) sequence to skip first.

        Returns:
            An ``n x d`` tensor of canonical points.
        """
        engine = torch.quasirandom.SobolEngine(self.dim, scramble=True, seed=seed)
        if not self._constraints:
            if skip:
                engine.fast_forward(skip)
            return self.snap(engine.draw(n, dtype=DTYPE))
        return self._feasible_stream(lambda k: engine.draw(k, dtype=DTYPE), n, skip, seed)

    def _feasible_stream(
        self, draw: Callable[[int], Tensor], n: int, skip: int, seed: int
    ) -> Tensor:
        """Feasible points ``skip`` to ``skip + n`` of a stream of draws (by rejection),
        completed by hit-and-run samples of the polytope when the stream runs dry."""
        need = skip + n
        kept: list[Tensor] = []
        got = drawn = 0
        while got < need and drawn < MAX_REJECTION_DRAWS:
            U = self.snap(draw(REJECTION_CHUNK))
            drawn += REJECTION_CHUNK
            U = U[self.feasible_mask(U)]
            kept.append(U)
            got += len(U)
        if got < need and self._linear is not None:
            kept.append(self._polytope_points(need - got, seed))
            got = sum(len(U) for U in kept)
        if got < need:
            raise ValueError(
                f"sample: only {got} of {drawn} points drawn satisfy the constraints "
                f"{list(self._constraints)!r}, but {need} are needed; the constraints leave "
                "too little of the space (loosen them, or encode the restriction in the "
                "parameters)."
            )
        return torch.cat(kept)[skip:need] if kept else torch.empty(0, self.dim, dtype=DTYPE)

    def _polytope_points(self, n: int, seed: int) -> Tensor:
        """Up to ``n`` feasible canonical points by hit-and-run in the linear polytope."""
        from botorch.utils.sampling import HitAndRunPolytopeSampler

        from bayesopt._rng import seeded_torch

        assert self._linear is not None
        A, b = self._linear.dense(self.dim)
        bounds = torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]).to(DTYPE)
        out: list[Tensor] = []
        got = 0
        with seeded_torch(seed):
            sampler = HitAndRunPolytopeSampler(
                inequality_constraints=(A, b), bounds=bounds, n_burnin=200, n_thinning=20,
                seed=seed,
            )  # fmt: skip
            for _ in range(8):
                U = self.snap(sampler.draw(max(n, 64)).to(DTYPE))
                U = U[self.feasible_mask(U)]
                out.append(U)
                got += len(U)
                if got >= n:
                    break
        return torch.cat(out)[:n]

    def sample(self, n: int, seed: int | None = None, *, sobol: bool = True) -> list[dict]:
        """Draw ``n`` params dicts: scrambled Sobol, or uniform when ``sobol=False``.

        Example:
            >>> Space({"x": Integer(0, 3)}).sample(2, seed=0)[0]["x"] in range(4)
            True
        """
        return [self.from_unit(row) for row in self.sample_unit(n, seed, sobol=sobol)]

    # Counting ---------------------------------------------------------------------------
    def _branch_list(self) -> list[tuple[frozenset[str], int]] | None:
        """``[(active names, number of points or -1 when continuous)]`` per assignment of
        the parents' classes; ``None`` beyond ``MAX_BRANCHES``."""
        if self._branches is False:
            self._branches = self._cond.branches(self._params)
        return self._branches  # type: ignore[return-value]

    def _count_feasible(self) -> int | None:
        if any(p.n_values is None for p in self._params.values()):
            return None
        if math.prod(p.n_values for p in self._params.values()) > MAX_FEASIBLE_COUNT:
            return None
        grids = [self.grid(i) for i in range(self.dim)]
        U = torch.cartesian_prod(*grids).reshape(-1, self.dim)
        U = torch.unique(self.snap(U), dim=0)
        return int(self.feasible_mask(U).sum())

    # Serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description of the space (choices are kept as objects).

        A conditional parameter's entry has ``"when": {parent: [values]}``; constraints,
        when there are any, are under the key ``CONSTRAINTS_KEY`` (``"$constraints"``):
        ``{"type": "linear", "coefficients": {...}, "op": "<=", "bound": b}`` or
        ``{"type": "predicate", "name": ...}`` (a function is stored by name only).
        """
        out: dict[str, Any] = {}
        for k, p in self._params.items():
            if isinstance(p, Categorical):
                entry: dict[str, Any] = {"type": "categorical", "choices": list(p.choices)}
            else:
                kind = "real" if isinstance(p, Real) else "integer"
                entry = {"type": kind, "low": p.low, "high": p.high, "log": p.log}
            if p.when:
                entry["when"] = p.when.to_dict()
            out[k] = entry
        if self._constraints:
            out[CONSTRAINTS_KEY] = [_constraint_to_dict(c) for c in self._constraints]
        return out

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Space:
        """The space described by ``spec``, the format of ``to_dict`` (its inverse).

        A predicate comes back unbound (known by name, see ``Predicate``).

        Raises:
            TypeError: ``spec`` or an entry is not a mapping.
            ValueError: an entry has an unknown ``type`` or keys that do not fit it.

        Example:
            >>> space = Space({"n": Integer(1, 8), "act": Categorical(["relu", None])})
            >>> Space.from_dict(space.to_dict()) == space
            True
        """
        if not isinstance(spec, Mapping):
            raise TypeError(f"Space.from_dict: `spec` must be a mapping, but got {spec!r}.")
        params: dict[str, Parameter] = {}
        constraints: list[Constraint] = []
        for name, entry in spec.items():
            if name == CONSTRAINTS_KEY:
                constraints = _constraints_from_list(entry)
                continue
            params[name] = _param_from_dict(name, entry)
        return cls(params, constraints)


# Parameters and constraints from their descriptions -------------------------------------------
def _param_from_dict(name: str, entry: Any) -> Parameter:
    if not isinstance(entry, Mapping):
        raise TypeError(f"Space.from_dict: entry {name!r} must be a mapping, but got {entry!r}.")
    kind = entry.get("type")
    keys = set(entry) - {"type", "when"}
    expected = {"choices"} if kind == "categorical" else {"low", "high", "log"}
    if kind not in ("real", "integer", "categorical"):
        raise ValueError(
            f"Space.from_dict: entry {name!r}: `type` must be 'real', 'integer' or "
            f"'categorical', but got {kind!r}."
        )
    if keys != expected:
        raise ValueError(
            f"Space.from_dict: entry {name!r} ({kind}) must have the keys "
            f"{sorted(expected)}, but has {sorted(keys)}."
        )
    when = entry.get("when")
    if when is not None:
        if not isinstance(when, Mapping) or not all(
            isinstance(v, list | tuple) for v in when.values()
        ):
            raise ValueError(
                f"Space.from_dict: entry {name!r}: `when` must map parent names to lists of "
                f"values, but got {when!r}."
            )
        when = {k: In(*v) for k, v in when.items()}
    if kind == "categorical":
        return Categorical(entry["choices"], when=when)
    if kind == "real":
        return Real(entry["low"], entry["high"], log=entry["log"], when=when)
    return Integer(entry["low"], entry["high"], log=entry["log"], when=when)


def _constraint_to_dict(c: Constraint) -> dict[str, Any]:
    if isinstance(c, Linear):
        return {"type": "linear", "coefficients": c.coefficients, "op": c.op, "bound": c.bound}
    return {"type": "predicate", "name": c.name}


def _constraints_from_list(entry: Any) -> list[Constraint]:
    if not isinstance(entry, list | tuple):
        raise TypeError(
            f"Space.from_dict: {CONSTRAINTS_KEY!r} must be a list of constraints, "
            f"but got {entry!r}."
        )
    out: list[Constraint] = []
    for item in entry:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == "linear" and set(item) == {"type", "coefficients", "op", "bound"}:
            out.append(Linear(item["coefficients"], item["op"], item["bound"]))
        elif kind == "predicate" and set(item) == {"type", "name"}:
            out.append(Predicate.unbound(item["name"]))
        else:
            raise ValueError(
                f"Space.from_dict: a constraint must be {{'type': 'linear', 'coefficients', "
                f"'op', 'bound'}} or {{'type': 'predicate', 'name'}}, but got {item!r}."
            )
    return out


# Conditions -----------------------------------------------------------------------------------
class _Conditions:
    """The parameters' conditions, checked: parents, a topological order, and for each
    conditional parameter the values every ancestor must take (``requires``).

    A parent's value is compared through its *code*: the choice's index for a
    categorical, the value for an integer.
    """

    def __init__(self, params: dict[str, Parameter]) -> None:
        self.params = params
        self.names = list(params)
        self.index = {k: i for i, k in enumerate(self.names)}
        direct: dict[str, dict[str, frozenset[int]]] = {}
        for name, p in params.items():
            if p.when:
                direct[name] = {
                    parent: _codes_of(params, name, parent, allowed)
                    for parent, allowed in p.when.items()
                }
        self.direct = direct
        self.order = _topological_order(self.names, direct)
        requires: dict[str, dict[str, frozenset[int]]] = {}
        for name in self.order:
            if name not in direct:
                continue
            req: dict[str, frozenset[int]] = {}
            for parent, codes in direct[name].items():
                for r, allowed in [(parent, codes), *requires.get(parent, {}).items()]:
                    both = req[r] & allowed if r in req else allowed
                    if not both:
                        raise ValueError(
                            f"Space: parameter {name!r} can never be active: through its own "
                            f"and its parents' conditions it needs {r!r} in "
                            f"{self._values(r, req[r])!r} and in "
                            f"{self._values(r, allowed)!r} at once."
                        )
                    req[r] = both
            requires[name] = req
        self.requires = requires
        self.parent_set = {r for conds in direct.values() for r in conds}
        self.parents = [k for k in self.order if k in self.parent_set]
        self._allowed = {
            name: [
                (self.index[r], torch.tensor(sorted(s), dtype=torch.long)) for r, s in req.items()
            ]
            for name, req in requires.items()
        }

    def _values(self, parent: str, codes: frozenset[int]) -> list[Any]:
        p = self.params[parent]
        return (
            [p.choices[c] for c in sorted(codes)] if isinstance(p, Categorical) else sorted(codes)
        )

    def code(self, name: str, value: Any) -> int:
        """The code of a (validated) value of the parent ``name``."""
        p = self.params[name]
        if isinstance(p, Categorical):
            i = p.index(value)
            return -1 if i is None else i
        return int(value)

    def is_active(self, name: str, values: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active, given the values of its (active) parents."""
        for parent, codes in self.direct.get(name, {}).items():
            if parent not in values or self.code(parent, values[parent]) not in codes:
                return False
        return True

    def codes(self, U: Tensor, i: int) -> Tensor:
        """The codes of coordinate ``i`` of unit points ``U`` (``...``), as longs."""
        p = self.params[self.names[i]]
        u = U[..., i].clamp(0.0, 1.0)
        if isinstance(p, Categorical):
            return (u * p.n_values).floor().clamp(0, p.n_values - 1).long()
        assert isinstance(p, Integer)
        lo, hi = p._edges()
        x = lo + u * (hi - lo)
        return (x.exp() if p.log else x).round().clamp(p.low, p.high).long()

    def active_mask(self, U: Tensor) -> Tensor:
        mask = torch.ones(U.shape, dtype=torch.bool, device=U.device)
        if not self.direct:
            return mask
        codes = {self.index[r]: self.codes(U, self.index[r]) for r in self.parents}
        for name, allowed in self._allowed.items():
            ok = torch.ones(U.shape[:-1], dtype=torch.bool, device=U.device)
            for i, values in allowed:
                ok &= torch.isin(codes[i], values.to(U.device))
            mask[..., self.index[name]] = ok
        return mask

    def branches(self, params: dict[str, Parameter]) -> list[tuple[frozenset[str], int]] | None:
        """Each assignment of the parents' value classes: the active names and the number
        of points (-1 when an active parameter is continuous); ``None`` beyond
        ``MAX_BRANCHES``.

        A class gathers the values of one parent that satisfy the same conditions, so an
        assignment of classes decides which parameters are active.
        """
        conds_on: dict[str, list[frozenset[int]]] = {r: [] for r in self.parents}
        for conds in self.direct.values():
            for r, s in conds.items():
                if s not in conds_on[r]:
                    conds_on[r].append(s)
        classes: dict[str, list[tuple[tuple[bool, ...], int]]] = {}
        for r, sets in conds_on.items():
            union = frozenset().union(*sets)
            sizes: dict[tuple[bool, ...], int] = {}
            for c in union:
                sig = tuple(c in s for s in sets)
                sizes[sig] = sizes.get(sig, 0) + 1
            rest = params[r].n_values - len(union)  # parents are discrete
            if rest > 0:
                sig = (False,) * len(sets)
                sizes[sig] = sizes.get(sig, 0) + rest
            classes[r] = list(sizes.items())
        slot = {
            (name, r): conds_on[r].index(s)
            for name, conds in self.direct.items()
            for r, s in conds.items()
        }

        def active(name: str, assign: dict[str, tuple[bool, ...]]) -> bool:
            return all(r in assign and assign[r][slot[name, r]] for r in self.direct.get(name, {}))

        out: list[tuple[frozenset[str], int]] = []
        stack: list[tuple[int, dict[str, tuple[bool, ...]], int]] = [(0, {}, 1)]
        while stack:
            i, assign, count = stack.pop()
            if i == len(self.parents):
                names = frozenset(k for k in self.names if active(k, assign))
                total = count
                for k in names - self.parent_set:
                    n_values = params[k].n_values
                    total = -1 if n_values is None or total < 0 else total * n_values
                out.append((names, total))
                if len(out) > MAX_BRANCHES:
                    return None
                continue
            r = self.parents[i]
            if active(r, assign):
                for sig, size in reversed(classes[r]):
                    stack.append((i + 1, {**assign, r: sig}, count * size))
            else:
                stack.append((i + 1, assign, count))
        return out


def _codes_of(params: dict[str, Parameter], child: str, parent: str, allowed: In) -> frozenset[int]:
    """The codes of a condition's values, checked against the parent."""
    if parent not in params:
        raise ValueError(
            f"Space: parameter {child!r} has a condition on {parent!r}, which is not a "
            f"parameter of the space; the space has {list(params)!r}."
        )
    if parent == child:
        raise ValueError(f"Space: parameter {child!r} has a condition on itself.")
    q = params[parent]
    if isinstance(q, Real):
        raise ValueError(
            f"Space: parameter {child!r} has a condition on the Real parameter {parent!r}; "
            "conditions test equality or membership, so a parent must be a Categorical or "
            "an Integer."
        )
    codes = set()
    for v in allowed.values:
        if isinstance(q, Categorical):
            i = q.index(v)
            if i is None:
                raise ValueError(
                    f"Space: the condition of {child!r} on {parent!r} can never hold for "
                    f"{v!r}: {parent!r} takes {list(q.choices)!r}."
                )
            codes.add(i)
        else:
            if not _is_integer(v) or not q.low <= v <= q.high:
                raise ValueError(
                    f"Space: the condition of {child!r} on {parent!r} can never hold for "
                    f"{v!r}: {parent!r} takes the integers {q.low} to {q.high}."
                )
            codes.add(int(v))
    return frozenset(codes)


def _topological_order(names: list[str], direct: dict[str, dict[str, Any]]) -> list[str]:
    """Parents before children, otherwise in space order.

    Raises:
        ValueError: the conditions form a cycle (named).
    """
    position = {k: i for i, k in enumerate(names)}
    children: dict[str, list[str]] = {k: [] for k in names}
    waiting = {k: len(direct.get(k, {})) for k in names}
    for child, conds in direct.items():
        for parent in conds:
            children[parent].append(child)
    ready = [(position[k], k) for k in names if waiting[k] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(k)
        for c in children[k]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (position[c], c))
    if len(order) < len(names):
        raise ValueError(f"Space: the conditions form a cycle: {' -> '.join(_cycle(direct))}.")
    return order


def _cycle(direct: dict[str, dict[str, Any]]) -> list[str]:
    """One cycle of the parent graph, as names (the first repeated at the end)."""
    for start in direct:
        path, seen = [start], {start: 0}
        k = start
        while k in direct:
            k = next(iter(direct[k]))
            if k in seen:
                cycle = path[seen[k] :]
                return [*cycle, k]
            seen[k] = len(path)
            path.append(k)
    return []  # pragma: no cover - only called on a cycle


# Constraints ------------------------------------------------------------------------------------
def _check_constraints(
    constraints: Any, params: dict[str, Parameter]
) -> tuple[tuple[Constraint, ...], _LinearSet | None]:
    if isinstance(constraints, str | bytes | Mapping) or not isinstance(constraints, Sequence):
        raise TypeError(
            f"Space: `constraints` must be a list of Linear, Predicate or callables, "
            f"but got {constraints!r}."
        )
    out: list[Constraint] = []
    for c in constraints:
        if isinstance(c, Linear):
            for name in c.coefficients:
                _check_linear_param(c, name, params)
            out.append(c)
        elif isinstance(c, Predicate):
            out.append(c)
        elif callable(c):
            out.append(Predicate(c))
        else:
            raise TypeError(
                f"Space: a constraint must be a Linear, a Predicate or a callable, but got {c!r}."
            )
    linear = [c for c in out if isinstance(c, Linear)]
    if not linear:
        return tuple(out), None
    lin = _LinearSet(linear, params)
    lin.check_feasible()
    return tuple(out), lin


def _check_linear_param(c: Linear, name: str, params: dict[str, Parameter]) -> None:
    if name not in params:
        raise ValueError(
            f"Space: the constraint {c!r} names {name!r}, which is not a parameter of the "
            f"space; the space has {list(params)!r}."
        )
    p = params[name]
    if isinstance(p, Categorical):
        raise ValueError(
            f"Space: the constraint {c!r} names the categorical {name!r}; Linear takes "
            "Real and Integer parameters (use a Predicate)."
        )
    if p.log:
        raise ValueError(
            f"Space: the constraint {c!r} names the log-scaled {name!r}; a linear "
            "inequality in a log-scaled parameter is not linear in the unit cube (use a "
            "Predicate)."
        )
    if p.when:
        raise ValueError(
            f"Space: the constraint {c!r} names the conditional {name!r}; Linear takes "
            "unconditional parameters (use a Predicate, which sees the active ones)."
        )


class _LinearSet:
    """The linear constraints, compiled to unit coordinates.

    A parameter's value is ``x = lo + w u`` in its coordinate ``u`` (``lo = low``,
    ``w = high - low`` for a real; ``lo = low - 1/2``, ``w = high - low + 1`` for an
    integer, before rounding). Each constraint becomes ``A u <= b`` (``>=`` negated).
    """

    def __init__(self, linear: list[Linear], params: dict[str, Parameter]) -> None:
        names = list(params)
        self.linear = linear
        self.params = params
        self.rows: list[tuple[list[int], Tensor, Tensor, Tensor, str, float, float]] = []
        for c in linear:
            idx = [names.index(k) for k in c.coefficients]
            coef = torch.tensor(list(c.coefficients.values()), dtype=DTYPE)
            lo = torch.tensor([_lo_w(params[k])[0] for k in c.coefficients], dtype=DTYPE)
            w = torch.tensor([_lo_w(params[k])[1] for k in c.coefficients], dtype=DTYPE)
            tol = c.tolerance(self.scale_of(c))
            self.rows.append((idx, coef, lo, w, c.op, c.bound, tol))

    def scale_of(self, c: Linear) -> float:
        """The largest magnitude of the constraint's parameters' bounds."""
        return max(max(abs(self.params[k].low), abs(self.params[k].high)) for k in c.coefficients)

    def feasible(self, U: Tensor) -> Tensor:
        """Exactly (no tolerance): the points drawn and proposed satisfy the constraints
        as written, while ``validate`` allows ``Linear.tolerance`` for rounding in input."""
        ok = torch.ones(len(U), dtype=torch.bool, device=U.device)
        for idx, coef, _, _, op, bound, _ in self.rows:
            X = torch.stack([self._decode(U[:, i], i) for i in idx], dim=1)
            lhs = X @ coef.to(X)
            ok &= lhs <= bound if op == "<=" else lhs >= bound
        return ok

    def _decode(self, u: Tensor, i: int) -> Tensor:
        p = list(self.params.values())[i]
        u = u.clamp(0.0, 1.0)
        if isinstance(p, Real):
            return (p.low + u * (p.high - p.low)).clamp(p.low, p.high)
        lo, hi = p._edges()
        return (lo + u * (hi - lo)).round().clamp(p.low, p.high)

    def _unit_rows(self) -> list[tuple[list[int], Tensor, float]]:
        """``(indices, a, c)`` with ``a . u <= c`` for each constraint."""
        out = []
        for idx, coef, lo, w, op, bound, _ in self.rows:
            a = coef * w
            c = bound - float((coef * lo).sum())
            out.append((idx, a, c) if op == "<=" else (idx, -a, -c))
        return out

    def botorch(self) -> list[tuple[Tensor, Tensor, float]]:
        """BoTorch's ``sum coef u >= rhs``, tightened by ``UNIT_MARGIN`` (relative) so that
        a search that ends on the boundary is feasible after rounding."""
        out = []
        for idx, a, c in self._unit_rows():
            margin = UNIT_MARGIN * (1.0 + abs(c) + float(a.abs().sum()))
            out.append((torch.tensor(idx, dtype=torch.long), -a, -c + margin))
        return out

    def dense(self, d: int) -> tuple[Tensor, Tensor]:
        rows = self._unit_rows()
        A = torch.zeros(len(rows), d, dtype=DTYPE)
        b = torch.zeros(len(rows), 1, dtype=DTYPE)
        for j, (idx, a, c) in enumerate(rows):
            A[j, idx] = a
            b[j, 0] = c
        return A, b

    def check_feasible(self) -> None:
        """A linear program: the largest ball inside the constraints and the unit cube.

        Raises:
            ValueError: no point satisfies the constraints, or (all of their parameters
                real) they leave a set with no interior (an equality written as two
                inequalities), which sampling cannot hit.
        """
        from scipy.optimize import linprog

        d = len(self.params)
        A, b = self.dense(d)
        used = sorted({i for idx, *_ in self.rows for i in idx})
        A = A[:, used].numpy()
        b = b[:, 0].numpy()
        norms = np.linalg.norm(A, axis=1)
        k = len(used)
        cost = np.zeros(k + 1)
        cost[-1] = -1.0  # maximise the radius t
        res = linprog(
            cost,
            A_ub=np.hstack([A, norms[:, None]]),
            b_ub=b,
            bounds=[(0.0, 1.0)] * k + [(None, 1.0)],
            method="highs",
        )
        if res.status != 0:  # pragma: no cover - bounded and feasible in t by construction
            raise ValueError(f"Space: could not check the constraints ({res.message}).")
        radius = float(res.x[-1])
        if radius < -1e-9:
            raise ValueError(
                f"Space: the constraints {self.linear!r} are infeasible: no point of the "
                "space satisfies all of them."
            )
        all_real = all(isinstance(self.params[list(self.params)[i]], Real) for i in used)
        if all_real and radius <= 1e-9:
            raise ValueError(
                f"Space: the constraints {self.linear!r} leave no interior (only a set of "
                "zero volume, e.g. an equality written as two inequalities), which points "
                "cannot be drawn from; fix the parameters involved instead."
            )


def _lo_w(p: Parameter) -> tuple[float, float]:
    if isinstance(p, Real):
        return p.low, p.high - p.low
    assert isinstance(p, Integer)
    lo, hi = p._edges()
    return lo, hi - lo


@dataclass(frozen=True)
class UnitStructure:
    """A space's conditions and constraints in unit-cube terms (tensors in, tensors out),
    for the acquisition search (``bayesopt.propose.maximize``'s ``structure``).

    Attributes:
        snap: ``n x d -> n x d`` canonical points (``Space.snap``).
        impute: ``... x d -> ... x d``: inactive coordinates at their imputation value,
            differentiable in the active ones (``Space.impute``).
        active: ``... x d -> ... x d`` bool: the active coordinates (``Space.active_mask``).
        feasible: ``n x d -> n`` bool: the points that satisfy the constraints, or ``None``
            without constraints (``Space.feasible_mask``).
        sample: ``(n, seed) -> n x d`` feasible canonical points (``Space.sample_unit``).
        inequality_constraints: the linear constraints in BoTorch's format
            (``Space.unit_constraints``).
    """

    snap: Callable[[Tensor], Tensor]
    impute: Callable[[Tensor], Tensor]
    active: Callable[[Tensor], Tensor]
    feasible: Callable[[Tensor], Tensor] | None
    sample: Callable[[int, int], Tensor]
    inequality_constraints: list[tuple[Tensor, Tensor, float]]
