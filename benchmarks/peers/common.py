"""What every peer adapter shares: failure imputation, plain values and category labels."""

from __future__ import annotations

import math
from typing import Any

import bayesopt as bo

__all__ = ["WorstImputer", "category_labels", "from_label", "plain", "space_spec"]


class WorstImputer:
    """For peers that cannot be told a failure: a non-finite value becomes the worst
    finite value so far (1.0 before any), and the failures are counted.

    Example:
        >>> imputer = WorstImputer()
        >>> imputer.finite(float("nan")), imputer.finite(3.0), imputer.finite(float("inf"))
        (1.0, 3.0, 3.0)
    """

    def __init__(self) -> None:
        self.worst, self.failed = -math.inf, 0

    def finite(self, value: float) -> float:
        """``value``, or the worst finite value so far when it is not finite."""
        if math.isfinite(value):
            self.worst = max(self.worst, value)
            return float(value)
        self.failed += 1
        return self.worst if math.isfinite(self.worst) else 1.0


def category_labels(p: bo.Categorical) -> list[str]:
    """String labels of a categorical parameter's choices, for peers that take strings:
    ``str(choice)`` when those are distinct, else ``c0, c1, ...``."""
    labels = [str(c) for c in p.choices]
    return labels if len(set(labels)) == len(labels) else [f"c{i}" for i in range(len(labels))]


def from_label(label: Any, p: bo.Categorical) -> Any:
    """The choice of ``p`` whose label (``category_labels``) is ``label``."""
    return p.choices[category_labels(p).index(str(label))]


def plain(value: Any, p: bo.Real | bo.Integer | bo.Categorical) -> Any:
    """A peer's value (a numpy scalar, a label) as the Python value bayesopt uses, clipped
    into the parameter's bounds.

    Raises:
        ValueError: a category label that ``p`` does not have.
    """
    if isinstance(p, bo.Real):
        return min(max(float(value), p.low), p.high)
    if isinstance(p, bo.Integer):
        return min(max(round(float(value)), p.low), p.high)
    if value in p.choices:
        return next(c for c in p.choices if c == value)
    return from_label(value, p)


def space_spec(space: bo.Space) -> list[dict[str, Any]]:
    """A JSON description of ``space`` for peers run in another process: one dict per
    parameter, ``{"name", "type": "real" | "integer" | "categorical", "low", "high",
    "log"}`` or ``{"name", "type", "choices": labels}``.

    Example:
        >>> space_spec(bo.Space({"lr": bo.Real(1e-3, 1.0, log=True)}))
        [{'name': 'lr', 'type': 'real', 'low': 0.001, 'high': 1.0, 'log': True}]
    """
    out: list[dict[str, Any]] = []
    for name, p in space.items():
        if isinstance(p, bo.Categorical):
            out.append({"name": name, "type": "categorical", "choices": category_labels(p)})
            continue
        kind = "real" if isinstance(p, bo.Real) else "integer"
        low, high = (float(p.low), float(p.high)) if kind == "real" else (int(p.low), int(p.high))
        out.append({"name": name, "type": kind, "low": low, "high": high, "log": bool(p.log)})
    return out
