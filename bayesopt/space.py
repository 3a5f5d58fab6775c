"""Search spaces: named parameters and the encoding to and from the unit cube.

Every parameter (``Real``, ``Integer``, ``Categorical``; see ``bayesopt.parameters`` for how
each is encoded) owns one coordinate of the unit cube ``[0, 1]^d``.

Decoding accepts any point of the cube: integers and categoricals are decoded by the bin the
coordinate falls in, so they round-trip exactly; reals round-trip to within a few ulps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from bayesopt.parameters import Categorical, Integer, Parameter, Real, _is_integer

__all__ = ["Categorical", "Integer", "Parameter", "Real", "Space"]

DTYPE = torch.float64

MAX_GRID = 1024
"""Integers with more values than this get no grid: the acquisition search treats them as
continuous and decoding rounds them (one value is then under 0.1 % of the range)."""


class Space(Mapping[str, Parameter]):
    """An ordered, immutable mapping from parameter names to parameter types.

    Args:
        params: ``{name: Real | Integer | Categorical}``; the order is kept.

    Example:
        >>> space = Space({"lr": Real(1e-4, 1e-1, log=True), "depth": Integer(1, 8)})
        >>> space.dim
        2
        >>> space.from_unit(space.to_unit({"lr": 1e-2, "depth": 3}))["depth"]
        3
    """

    def __init__(self, params: Mapping[str, Parameter]) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"Space: `params` must be a mapping name -> parameter, got {params!r}.")
        if len(params) == 0:
            raise ValueError("Space: a space needs at least one parameter, but got none.")
        for name, p in params.items():
            if not isinstance(name, str):
                raise TypeError(f"Space: parameter names must be str, but got {name!r}.")
            if not name:
                raise ValueError("Space: parameter names must not be empty.")
            if not isinstance(p, Real | Integer | Categorical):
                raise TypeError(
                    f"Space: parameter {name!r} must be a Real, Integer or Categorical, "
                    f"but got {p!r}."
                )
        self._params: dict[str, Parameter] = dict(params)

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
        return list(self._params.items()) == list(other._params.items())

    def __hash__(self) -> int:
        return hash(tuple(self._params.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._params.items())
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
    def n_points(self) -> int | None:
        """Number of distinct points when every parameter is discrete, else ``None``."""
        total = 1
        for p in self._params.values():
            if p.n_values is None:
                return None
            total *= p.n_values
        return total

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

    # Encoding ---------------------------------------------------------------------------
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a params dict and return it with canonical Python values.

        Raises:
            TypeError: ``params`` is not a mapping, or a value has the wrong type.
            ValueError: a name is unknown or missing, or a value lies outside its parameter.
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of name to value, but got {params!r}.")
        unknown = [k for k in params if k not in self._params]
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown!r}; the space has {self.names!r}.")
        missing = [k for k in self._params if k not in params]
        if missing:
            raise ValueError(f"missing parameter(s) {missing!r}; the space has {self.names!r}.")
        return {k: p._validate(k, params[k]) for k, p in self._params.items()}

    def to_unit(self, params: Mapping[str, Any]) -> torch.Tensor:
        """Encode one params dict as a point of the unit cube.

        Returns:
            A ``d`` tensor (float64) in ``[0, 1]^d``.
        """
        params = self.validate(params)
        return torch.tensor([p._encode(params[k]) for k, p in self._params.items()], dtype=DTYPE)

    def from_unit(self, u: torch.Tensor | Sequence[float]) -> dict[str, Any]:
        """Decode one point of the unit cube (values outside are clipped).

        Args:
            u: a ``d`` tensor or sequence of floats.

        Returns:
            ``{name: value}`` with plain Python ``float``, ``int`` or the choice object.
        """
        u = torch.as_tensor(u, dtype=DTYPE).reshape(-1)
        if u.numel() != self.dim:
            raise ValueError(f"from_unit: expected {self.dim} coordinates, got {u.numel()}.")
        if not bool(torch.isfinite(u).all()):
            raise ValueError(f"from_unit: coordinates must be finite, got {u.tolist()!r}.")
        values = u.clamp(0.0, 1.0).tolist()
        return {k: p._decode(x) for (k, p), x in zip(self._params.items(), values, strict=True)}

    def snap(self, u: torch.Tensor) -> torch.Tensor:
        """Move discrete coordinates to their bin centres.

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
        return out

    def sample_unit(self, n: int, seed: int | None = None, *, sobol: bool = True) -> torch.Tensor:
        """Draw ``n`` points in the unit cube: scrambled Sobol, or uniform when ``sobol=False``.

        Returns:
            An ``n x d`` tensor, discrete coordinates snapped to bin centres.
        """
        if not _is_integer(n) or n < 0:
            raise ValueError(f"sample: `n >= 0` must be an int, but got {n!r}.")
        seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
        if sobol:
            engine = torch.quasirandom.SobolEngine(self.dim, scramble=True, seed=seed)
            u = engine.draw(n, dtype=DTYPE)
        else:
            gen = torch.Generator().manual_seed(seed)
            u = torch.rand(n, self.dim, generator=gen, dtype=DTYPE)
        return self.snap(u)

    def sample(self, n: int, seed: int | None = None, *, sobol: bool = True) -> list[dict]:
        """Draw ``n`` params dicts: scrambled Sobol, or uniform when ``sobol=False``.

        Example:
            >>> Space({"x": Integer(0, 3)}).sample(2, seed=0)[0]["x"] in range(4)
            True
        """
        return [self.from_unit(row) for row in self.sample_unit(n, seed, sobol=sobol)]

    # Serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A JSON-friendly description of the space (choices are kept as objects)."""
        out: dict[str, dict[str, Any]] = {}
        for k, p in self._params.items():
            if isinstance(p, Categorical):
                out[k] = {"type": "categorical", "choices": list(p.choices)}
            else:
                kind = "real" if isinstance(p, Real) else "integer"
                out[k] = {"type": kind, "low": p.low, "high": p.high, "log": p.log}
        return out

    @classmethod
    def from_dict(cls, spec: Mapping[str, Mapping[str, Any]]) -> Space:
        """The space described by ``spec``, the format of ``to_dict`` (its inverse).

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
        for name, entry in spec.items():
            if not isinstance(entry, Mapping):
                raise TypeError(
                    f"Space.from_dict: entry {name!r} must be a mapping, but got {entry!r}."
                )
            kind = entry.get("type")
            keys = set(entry) - {"type"}
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
            if kind == "categorical":
                params[name] = Categorical(entry["choices"])
            elif kind == "real":
                params[name] = Real(entry["low"], entry["high"], log=entry["log"])
            else:
                params[name] = Integer(entry["low"], entry["high"], log=entry["log"])
        return cls(params)
