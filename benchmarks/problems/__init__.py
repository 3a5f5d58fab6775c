"""Registry of benchmark problems: ``get(name)``, ``names(family)``."""

from __future__ import annotations

import functools

from benchmarks.problems.base import FAMILIES, Evaluation, Problem
from benchmarks.problems.mixed import mixed_problems
from benchmarks.problems.ml import ml_problems
from benchmarks.problems.synthetic import synthetic_problems

__all__ = ["FAMILIES", "Evaluation", "Problem", "get", "names", "registry"]


@functools.cache
def registry() -> dict[str, Problem]:
    """All problems by name, in report order (family, then definition order)."""
    every = synthetic_problems() + mixed_problems() + ml_problems()
    every.sort(key=lambda p: FAMILIES.index(p.family))
    return {p.name: p for p in every}


def get(name: str) -> Problem:
    """The problem called ``name``.

    Raises:
        KeyError: no such problem (the message lists the known names).
    """
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; known: {', '.join(registry())}") from None


def names(family: str | None = None) -> list[str]:
    """Problem names, all or of one family."""
    return [n for n, p in registry().items() if family is None or p.family == family]
