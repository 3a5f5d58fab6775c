"""Parameter types and how each encodes to its coordinate of the unit cube.

* ``Real``: an affine map of ``[low, high]`` (of ``[log low, log high]`` when ``log=True``).
* ``Integer``: ``high - low + 1`` bins split at the half-integers; value ``k`` encodes to
  ``k`` mapped like a real on ``[low - 0.5, high + 0.5]`` (in log space when ``log=True``).
* ``Categorical``: one bin per choice; choice ``i`` encodes to the centre of bin ``i``. The
  order carries no meaning: the surrogate treats this coordinate with a Hamming-type kernel.

All three are importable from ``bayesopt.space`` and ``bayesopt``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Categorical", "Integer", "Parameter", "Real"]


def _is_real_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_integer(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


MAX_INTEGER = 2**53
MAX_INTEGER_SPAN = 2**50
MAX_LOG_INTEGER = 2**40
"""Integer limits that keep the float64 unit-cube encoding exact for every value: bounds
within +-2**53, ``high - low <= 2**50``, and ``high <= 2**40`` when ``log=True``."""


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
