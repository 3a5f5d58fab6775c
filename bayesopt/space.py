"""Search spaces: parameter types and the encoding to and from the unit cube.

Every parameter owns one coordinate of the unit cube ``[0, 1]^d``:

* ``Real``: an affine map of ``[low, high]`` (of ``[log low, log high]`` when ``log=True``).
* ``Integer``: ``high - low + 1`` bins split at the half-integers; value ``k`` encodes to
  ``k`` mapped like a real on ``[low - 0.5, high + 0.5]`` (in log space when ``log=True``).
* ``Categorical``: one bin per choice; choice ``i`` encodes to the centre of bin ``i``. The
  order carries no meaning: the surrogate treats this coordinate with a Hamming-type kernel.

Decoding accepts any point of the cube: integers and categoricals are decoded by the bin the
coordinate falls in, so they round-trip exactly; reals round-trip to within a few ulps.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["Categorical", "Integer", "Parameter", "Real", "Space"]

DTYPE = torch.float64


def _is_real_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_integer(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


MAX_INTEGER = 2**53
MAX_INTEGER_SPAN = 2**50
MAX_LOG_INTEGER = 2**40
"""Integer limits that keep the float64 unit-cube encoding exact for every value: bounds
within +-2**53, ``high - low <= 2**50``, and ``high <= 2**40`` when ``log=True``."""

MAX_GRID = 1024
"""Integers with more values than this get no grid: the acquisition search treats them as
continuous and decoding rounds them (one value is then under 0.1 % of the range)."""


def _check_bounds(kind: str, low: Any, high: Any, log: bool, integer: bool) -> None:
    check = _is_integer if integer else _is_real_number
    what = "an int" if integer else "a real number"
    for name, value in (("low", low), ("high", high)):
        if not check(value):
            raise TypeError(f"{kind}: `{name}` must be {what}, but got {value!r}.")
        if integer and abs(value) > MAX_INTEGER:
            raise ValueError(f"{kind}: `|{name}| <= 2**53` must hold, but got {value!r}.")
        try:
            finite = math.isfinite(value)
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{kind}: `{name}` must be finite, but got {value!r}.")
    if not isinstance(log, bool):
        raise TypeError(f"{kind}: `log` must be a bool, but got {log!r}.")
    if not low < high:
        raise ValueError(f"{kind}: `low < high` must hold, but got (low={low!r}, high={high!r}).")
    if log and low <= 0:
        raise ValueError(f"{kind}: `low > 0` must hold when log=True, but got low={low!r}.")
    if integer and high - low > MAX_INTEGER_SPAN:
        raise ValueError(f"{kind}: `high - low <= 2**50` must hold, but got {high - low}.")
    if integer and log and high > MAX_LOG_INTEGER:
        raise ValueError(f"{kind}: `high <= 2**40` must hold when log=True, but got {high}.")
    if not math.isfinite(float(high) - float(low)):
        raise ValueError(
            f"{kind}: `high - low` must be finite in float64, but got (low={low!r}, high={high!r})."
        )


@dataclass(frozen=True)
class Real:
    """A continuous parameter on ``[low, high]``, optionally log-scaled.

    Example:
        >>> Real(1e-5, 1e-1, log=True)
        Real(low=1e-05, high=0.1, log=True)
    """

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        _check_bounds("Real", self.low, self.high, self.log, integer=False)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @property
    def n_values(self) -> int | None:
        """Number of distinct values (``None`` for a continuum)."""
        return None

    def _validate(self, name: str, value: Any) -> float:
        if not _is_real_number(value):
            raise TypeError(f"parameter {name!r}: expected a real number, got {value!r}.")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf if value > 0 else -math.inf
        if not self.low <= value <= self.high:
            raise ValueError(
                f"parameter {name!r}: `{self.low!r} <= value <= {self.high!r}` must hold, "
                f"but got {value!r}."
            )
        return value

    def _encode(self, value: float) -> float:
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return (math.log(value) - lo) / (hi - lo)
        return (value - self.low) / (self.high - self.low)

    def _decode(self, u: float) -> float:
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            value = math.exp(lo + u * (hi - lo))
        else:
            value = self.low + u * (self.high - self.low)
        return min(max(value, self.low), self.high)


@dataclass(frozen=True)
class Integer:
    """An integer parameter on ``{low, ..., high}``, optionally log-scaled.

    Example:
        >>> Integer(1, 8)
        Integer(low=1, high=8, log=False)
    """

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        _check_bounds("Integer", self.low, self.high, self.log, integer=True)
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))

    @property
    def n_values(self) -> int:
        """Number of distinct values."""
        return self.high - self.low + 1

    def _validate(self, name: str, value: Any) -> int:
        if not _is_integer(value):
            raise TypeError(f"parameter {name!r}: expected an int, got {value!r}.")
        value = int(value)
        if not self.low <= value <= self.high:
            raise ValueError(
                f"parameter {name!r}: `{self.low} <= value <= {self.high}` must hold, "
                f"but got {value!r}."
            )
        return value

    def _edges(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low - 0.5), math.log(self.high + 0.5)
        return self.low - 0.5, self.high + 0.5

    def _encode(self, value: int) -> float:
        lo, hi = self._edges()
        x = math.log(value) if self.log else float(value)
        return (x - lo) / (hi - lo)

    def _decode(self, u: float) -> int:
        lo, hi = self._edges()
        x = lo + u * (hi - lo)
        value = round(math.exp(x)) if self.log else round(x)
        return int(min(max(value, self.low), self.high))


def _choice_key(choice: Hashable) -> tuple[type, Hashable]:
    # 1, 1.0 and True are equal in Python but are different choices here.
    return (type(choice), choice)


@dataclass(frozen=True)
class Categorical:
    """An unordered choice among hashable values (str, int, float, bool, None, ...).

    Example:
        >>> Categorical(["relu", "tanh", None])
        Categorical(choices=('relu', 'tanh', None))
    """

    choices: tuple[Hashable, ...]
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        choices = self.choices
        if isinstance(choices, np.ndarray):
            choices = choices.tolist()
        if isinstance(choices, str | bytes) or not isinstance(choices, Sequence):
            raise TypeError(
                f"Categorical: `choices` must be a sequence of values, but got {choices!r}."
            )
        choices = tuple(choices)
        if not choices:
            raise ValueError("Categorical: `choices` must not be empty.")
        index: dict[tuple[type, Hashable], int] = {}
        for i, c in enumerate(choices):
            if not isinstance(c, Hashable):
                raise TypeError(f"Categorical: every choice must be hashable, but got {c!r}.")
            if _is_real_number(c) and c != c:
                raise ValueError("Categorical: choices must not contain NaN.")
            key = _choice_key(c)
            if key in index:
                raise ValueError(f"Categorical: choices must be unique, but {c!r} is repeated.")
            index[key] = i
        object.__setattr__(self, "choices", choices)
        object.__setattr__(self, "_index", index)

    @property
    def n_values(self) -> int:
        """Number of choices."""
        return len(self.choices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Categorical):
            return NotImplemented
        return [_choice_key(c) for c in self.choices] == [_choice_key(c) for c in other.choices]

    def __hash__(self) -> int:
        return hash(tuple(_choice_key(c) for c in self.choices))

    def index(self, value: Any) -> int | None:
        """Position of ``value`` among the choices, or ``None`` when it is not one.

        An exact match (same type, equal value) wins. Otherwise an equal value of another
        type (a numpy scalar, say) matches when only one choice fits: bools never match
        numbers, and among equal numbers the choice whose type ``value`` derives from, then
        the one of the same kind (integral or not), is preferred.
        """
        try:
            i = self._index.get(_choice_key(value))
        except TypeError:  # unhashable value
            return None
        if i is not None:
            return i
        is_bool = isinstance(value, bool | np.bool_)
        matches = [
            j
            for j, c in enumerate(self.choices)
            if isinstance(c, bool) == is_bool and _safe_eq(c, value)
        ]
        for narrow in (
            lambda c: isinstance(value, type(c)),
            lambda c: isinstance(c, numbers.Integral) == isinstance(value, numbers.Integral),
        ):
            if len(matches) > 1:
                matches = [j for j in matches if narrow(self.choices[j])] or matches
        return matches[0] if len(matches) == 1 else None

    def _validate(self, name: str, value: Any) -> Hashable:
        i = self.index(value)
        if i is None:
            raise ValueError(
                f"parameter {name!r}: value must be one of {list(self.choices)!r}, "
                f"but got {value!r}."
            )
        return self.choices[i]

    def _encode(self, value: Hashable) -> float:
        i = self.index(value)
        assert i is not None  # validated before
        return (i + 0.5) / len(self.choices)

    def _decode(self, u: float) -> Hashable:
        i = min(int(u * len(self.choices)), len(self.choices) - 1)
        return self.choices[max(i, 0)]


def _safe_eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


Parameter = Real | Integer | Categorical


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
