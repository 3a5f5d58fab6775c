"""Parameter types and how each encodes to its coordinate of the unit cube.

* ``Real``: an affine map of ``[low, high]`` (of ``[log low, log high]`` when ``log=True``).
* ``Integer``: ``high - low + 1`` bins split at the half-integers; value ``k`` encodes to
  ``k`` mapped like a real on ``[low - 0.5, high + 0.5]`` (in log space when ``log=True``).
* ``Categorical``: one bin per choice; choice ``i`` encodes to the centre of bin ``i``. The
  order carries no meaning: the surrogate treats this coordinate with a Hamming-type kernel.

Each parameter may be **conditional**: ``when={"model": "svm"}`` makes it active only when
the parameter ``model`` is active and equal to ``"svm"``; ``when={"model": ["svm", "knn"]}``
(or ``In("svm", "knn")``) tests membership, and several keys must all hold. ``Space``
checks the conditions against the other parameters (see ``bayesopt.space``).

Constraints between parameters are ``Linear`` inequalities over numeric parameters, in
their own units, and ``Predicate`` functions of the params (checked by rejection).

All of these are importable from ``bayesopt.space``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Categorical",
    "Condition",
    "Constraint",
    "In",
    "Integer",
    "Linear",
    "Parameter",
    "Predicate",
    "Real",
]


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


class In:
    """The values a parent parameter may take for a condition to hold (membership).

    ``when={"model": In("svm", "knn")}`` means the same as ``when={"model": ["svm",
    "knn"]}``. A bare list, tuple or set in ``when`` is a membership test, so to test a
    choice that is itself a tuple write ``In((1, 2))``. Equal ``In`` hold the same values
    in any order.

    Example:
        >>> Real(0.0, 1.0, when={"model": In("svm", "knn")}).when["model"]
        In('svm', 'knn')
    """

    __slots__ = ("_keys", "_values")

    def __init__(self, *values: Hashable) -> None:
        if not values:
            raise ValueError("In: give at least one value.")
        kept: list[Hashable] = []
        keys: set[tuple[type, Hashable]] = set()
        for v in values:
            try:
                hash(v)
            except TypeError:
                raise TypeError(
                    f"In: values must be hashable, but got {v!r}; write In(*values) to test "
                    "membership in a list."
                ) from None
            if _is_real_number(v) and v != v:
                raise ValueError("In: values must not be NaN.")
            key = _choice_key(v)
            if key not in keys:
                keys.add(key)
                kept.append(v)
        object.__setattr__(self, "_values", tuple(kept))
        object.__setattr__(self, "_keys", frozenset(keys))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("In is immutable.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (In, self._values)

    @property
    def values(self) -> tuple[Hashable, ...]:
        """The allowed values, in the order given (repeats dropped)."""
        return self._values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, In):
            return NotImplemented
        return self._keys == other._keys

    def __hash__(self) -> int:
        return hash(self._keys)

    def __repr__(self) -> str:
        return f"In({', '.join(repr(v) for v in self._values)})"


class Condition(Mapping[str, In]):
    """When a parameter is active: ``{parent name: In(values)}``, every entry must hold.

    Built from a parameter's ``when=`` argument: a single value tests equality, a list,
    tuple or set (or ``In``) tests membership. The parameter is active exactly when every
    parent named here is active and takes one of the listed values. An empty condition
    means always active. Immutable and hashable; compares equal to a condition with the
    same entries.

    Example:
        >>> c = Condition({"model": "svm", "kernel": ["poly", "rbf"]})
        >>> c["model"], len(c)
        (In('svm'), 2)
    """

    __slots__ = ("_items",)

    def __init__(self, when: Mapping[str, Any] | None = None, *, kind: str = "Condition") -> None:
        items: dict[str, In] = {}
        if isinstance(when, Condition):
            items = dict(when._items)
        elif when is not None:
            if not isinstance(when, Mapping):
                raise TypeError(
                    f"{kind}: `when` must be a mapping of parent name to value(s), "
                    f"but got {when!r}."
                )
            if len(when) == 0:
                raise ValueError(
                    f"{kind}: `when` must name at least one parent; leave it out for an "
                    "unconditional parameter."
                )
            for name, value in when.items():
                if not isinstance(name, str) or not name:
                    raise TypeError(
                        f"{kind}: `when` keys must be parameter names (non-empty str), "
                        f"but got {name!r}."
                    )
                items[name] = _as_in(kind, name, value)
        object.__setattr__(self, "_items", items)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Condition is immutable.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Condition, (self._items or None,))

    def __getitem__(self, name: str) -> In:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{k!r}: {v.values[0]!r}"
            if len(v.values) == 1 and not isinstance(v.values[0], tuple | frozenset)
            else f"{k!r}: {v!r}"
            for k, v in self._items.items()
        )
        return f"{{{inner}}}"

    def to_dict(self) -> dict[str, list[Hashable]]:
        """``{parent: [values]}``, the form ``Space.to_dict`` stores."""
        return {k: list(v.values) for k, v in self._items.items()}


def _as_in(kind: str, parent: str, value: Any) -> In:
    """A ``when`` value as an ``In``: itself, a collection's members, or one value."""
    if isinstance(value, In):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, set | frozenset):
        value = sorted(value, key=repr)  # a stable order for ``to_dict``
    try:
        if isinstance(value, list | tuple):
            return In(*value)
        return In(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{kind}: `when[{parent!r}]`: {exc}") from None


def _when_repr(when: Condition) -> str:
    return f", when={when!r}" if when else ""


@dataclass(frozen=True, repr=False)
class Real:
    """A continuous parameter on ``[low, high]``, optionally log-scaled.

    ``when`` makes it conditional (see ``Condition``): ``Real(1e-3, 1e3, log=True,
    when={"model": "svm"})`` is active only when ``model`` is ``"svm"``.

    Example:
        >>> Real(1e-5, 1e-1, log=True)
        Real(low=1e-05, high=0.1, log=True)
    """

    low: float
    high: float
    log: bool = False
    when: Condition = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        _check_bounds("Real", self.low, self.high, self.log, integer=False)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        object.__setattr__(self, "when", Condition(self.when, kind="Real"))

    def __repr__(self) -> str:
        when = _when_repr(self.when)
        return f"Real(low={self.low!r}, high={self.high!r}, log={self.log!r}{when})"

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


@dataclass(frozen=True, repr=False)
class Integer:
    """An integer parameter on ``{low, ..., high}``, optionally log-scaled.

    ``when`` makes it conditional (see ``Condition``). An integer may also be the parent of
    a condition: ``when={"n_layers": [3, 4]}``.

    Example:
        >>> Integer(1, 8)
        Integer(low=1, high=8, log=False)
    """

    low: int
    high: int
    log: bool = False
    when: Condition = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        _check_bounds("Integer", self.low, self.high, self.log, integer=True)
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))
        object.__setattr__(self, "when", Condition(self.when, kind="Integer"))

    def __repr__(self) -> str:
        return (
            f"Integer(low={self.low!r}, high={self.high!r}, log={self.log!r}"
            f"{_when_repr(self.when)})"
        )

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


@dataclass(frozen=True, repr=False)
class Categorical:
    """An unordered choice among hashable values (str, int, float, bool, None, ...).

    ``when`` makes it conditional (see ``Condition``); a categorical is the usual parent of
    other parameters' conditions.

    Example:
        >>> Categorical(["relu", "tanh", None])
        Categorical(choices=('relu', 'tanh', None))
    """

    choices: tuple[Hashable, ...]
    _index: dict = field(init=False, repr=False, compare=False, hash=False)
    when: Condition = field(default=None)  # type: ignore[assignment]

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
        object.__setattr__(self, "when", Condition(self.when, kind="Categorical"))

    def __repr__(self) -> str:
        return f"Categorical(choices={self.choices!r}{_when_repr(self.when)})"

    @property
    def n_values(self) -> int:
        """Number of choices."""
        return len(self.choices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Categorical):
            return NotImplemented
        mine = [_choice_key(c) for c in self.choices]
        return mine == [_choice_key(c) for c in other.choices] and self.when == other.when

    def __hash__(self) -> int:
        return hash((tuple(_choice_key(c) for c in self.choices), self.when))

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


# Constraints between parameters ---------------------------------------------------------------
LINEAR_OPS = ("<=", ">=")


class Linear:
    """A linear inequality over numeric parameters, in their own units.

    ``Linear({"a": 1.0, "b": 2.0}, "<=", 1.0)`` keeps ``a + 2 b <= 1``. The parameters must
    be unconditional, non-log ``Real`` or ``Integer`` ones (``Space`` checks): on a log scale
    the inequality is not linear in the unit cube, so write such a constraint as a
    ``Predicate`` (or constrain the logarithm by hand).

    Example:
        >>> Linear({"a": 1.0, "b": 1.0}, "<=", 1.0)
        Linear({'a': 1.0, 'b': 1.0}, '<=', 1.0)
    """

    __slots__ = ("_bound", "_coefficients", "_op")

    def __init__(self, coefficients: Mapping[str, float], op: str, bound: float) -> None:
        if not isinstance(coefficients, Mapping):
            raise TypeError(
                f"Linear: `coefficients` must be a mapping of name to number, "
                f"but got {coefficients!r}."
            )
        if len(coefficients) == 0:
            raise ValueError("Linear: `coefficients` must name at least one parameter.")
        coefs: dict[str, float] = {}
        for name, a in coefficients.items():
            if not isinstance(name, str) or not name:
                raise TypeError(
                    f"Linear: coefficient keys must be parameter names, but got {name!r}."
                )
            if not _is_real_number(a) or not math.isfinite(float(a)):
                raise TypeError(
                    f"Linear: the coefficient of {name!r} must be a finite real number, "
                    f"but got {a!r}."
                )
            coefs[name] = float(a)
        if all(a == 0.0 for a in coefs.values()):
            raise ValueError("Linear: at least one coefficient must be non-zero.")
        if op not in LINEAR_OPS:
            raise ValueError(f"Linear: `op` must be one of {LINEAR_OPS}, but got {op!r}.")
        if not _is_real_number(bound) or not math.isfinite(float(bound)):
            raise TypeError(f"Linear: `bound` must be a finite real number, but got {bound!r}.")
        object.__setattr__(self, "_coefficients", coefs)
        object.__setattr__(self, "_op", op)
        object.__setattr__(self, "_bound", float(bound))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Linear is immutable.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Linear, (self._coefficients, self._op, self._bound))

    @property
    def coefficients(self) -> dict[str, float]:
        """``{name: coefficient}`` (a copy)."""
        return dict(self._coefficients)

    @property
    def op(self) -> str:
        """``"<="`` or ``">="``."""
        return self._op

    @property
    def bound(self) -> float:
        """The right-hand side."""
        return self._bound

    def lhs(self, params: Mapping[str, Any]) -> float:
        """``sum_j a_j x_j`` at ``params``."""
        return math.fsum(a * float(params[k]) for k, a in self._coefficients.items())

    def tolerance(self, scale: float) -> float:
        """Slack allowed for float rounding, for parameters of magnitude up to ``scale``."""
        total = sum(abs(a) for a in self._coefficients.values()) * scale
        return 1e-9 * max(1.0, abs(self._bound), total)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Linear):
            return NotImplemented
        return (self._coefficients, self._op, self._bound) == (
            other._coefficients,
            other._op,
            other._bound,
        )

    def __hash__(self) -> int:
        return hash((tuple(sorted(self._coefficients.items())), self._op, self._bound))

    def __repr__(self) -> str:
        return f"Linear({self._coefficients!r}, {self._op!r}, {self._bound!r})"


class Predicate:
    """A known constraint as a function of the params: ``fn(params) -> bool`` (True: allowed).

    ``params`` holds the active parameters only. Points are drawn and proposed by rejection:
    candidates the predicate refuses are dropped, so a predicate that accepts a tiny
    fraction of the space makes sampling fail with a clear error. A function cannot be
    written to a journal: the journal keeps its ``name``, and a study resumes only when the
    same space, predicate included, is passed again (predicates compare by name, so give
    distinct predicates distinct names). A space read back from a journal without it
    (``bayesopt.load``) holds an unbound predicate: its trials read as recorded, but it
    cannot draw points.

    Example:
        >>> p = Predicate(lambda params: params["a"] < params["b"], name="a<b")
        >>> p({"a": 0.1, "b": 0.5}), p.name
        (True, 'a<b')
    """

    __slots__ = ("_fn", "_name")

    def __init__(self, fn: Callable[[dict[str, Any]], bool], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"Predicate: `fn` must be callable, but got {fn!r}.")
        if name is None:
            name = getattr(fn, "__qualname__", None) or type(fn).__name__
        if not isinstance(name, str) or not name:
            raise TypeError(f"Predicate: `name` must be a non-empty str, but got {name!r}.")
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_name", name)

    @classmethod
    def unbound(cls, name: str) -> Predicate:
        """A predicate known by name only (as read from a journal); it cannot be called."""
        out = cls(bool, name)
        object.__setattr__(out, "_fn", None)
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Predicate is immutable.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_predicate, (self._fn, self._name))

    @property
    def name(self) -> str:
        """How the predicate is known in a journal."""
        return self._name

    @property
    def fn(self) -> Callable[[dict[str, Any]], bool] | None:
        """The function, or ``None`` for an unbound predicate."""
        return self._fn

    def __call__(self, params: Mapping[str, Any]) -> bool:
        if self._fn is None:
            raise ValueError(
                f"Predicate {self._name!r} has no function: the space was read from a "
                "description (a journal); pass the space with its predicate again."
            )
        return bool(self._fn(dict(params)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Predicate):
            return NotImplemented
        return self._name == other._name

    def __hash__(self) -> int:
        return hash(("Predicate", self._name))

    def __repr__(self) -> str:
        return f"Predicate({self._name!r})" if self._fn is None else f"Predicate({self._fn!r})"


def _predicate(fn: Callable[[dict[str, Any]], bool] | None, name: str) -> Predicate:
    """A predicate from its parts (unpickling; ``fn`` is ``None`` when unbound)."""
    return Predicate.unbound(name) if fn is None else Predicate(fn, name)


Constraint = Linear | Predicate
