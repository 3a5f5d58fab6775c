"""Registry of benchmark problems: ``get(name)``, ``names(family)``.

The COCO BBOB problems (family ``"bbob"``, ``benchmarks/problems/bbob.py``) are kept in a
registry of their own, ``bbob_registry()``: ``get`` finds them and ``names("bbob")`` lists
them, but ``registry()`` and ``names()`` hold the other families only, so the 96 BBOB
problems never enter the presets and sets built from those (``full``, ``REPORT_SET``). The
problems with hidden failure regions (family ``"failures"``,
``benchmarks/problems/failures.py``) are kept apart the same way (``failure_registry()``).
"""

from __future__ import annotations

import functools

from benchmarks.problems.base import FAMILIES, Evaluation, Problem
from benchmarks.problems.bbob import bbob_problems
from benchmarks.problems.failures import failure_problems
from benchmarks.problems.layerwise_mlp import layerwise_mlp_problems
from benchmarks.problems.mixed import mixed_problems
from benchmarks.problems.ml import ml_problems
from benchmarks.problems.synthetic import synthetic_problems

__all__ = [
    "FAMILIES",
    "Evaluation",
    "Problem",
    "bbob_registry",
    "failure_registry",
    "get",
    "names",
    "registry",
]


@functools.cache
def registry() -> dict[str, Problem]:
    """All problems but BBOB's by name, in report order (family, then definition order)."""
    every = synthetic_problems() + mixed_problems() + ml_problems() + layerwise_mlp_problems()
    every.sort(key=lambda p: FAMILIES.index(p.family))
    return {p.name: p for p in every}


@functools.cache
def bbob_registry() -> dict[str, Problem]:
    """The BBOB problems by name (``bbob-f01-d2`` .. ``bbob-f24-d20``), dimension-major."""
    return {p.name: p for p in bbob_problems()}


@functools.cache
def failure_registry() -> dict[str, Problem]:
    """The problems with hidden failure regions by name."""
    return {p.name: p for p in failure_problems()}


def get(name: str) -> Problem:
    """The problem called ``name`` (BBOB's and the failure problems included).

    Raises:
        KeyError: no such problem (the message lists the known names).
    """
    found = registry().get(name) or bbob_registry().get(name) or failure_registry().get(name)
    if found is None:
        raise KeyError(
            f"unknown problem {name!r}; known: {', '.join(registry())}, "
            f"{', '.join(failure_registry())} and bbob-fFF-dD (F = 01-24, D = 2, 5, 10, 20)"
        )
    return found


def names(family: str | None = None) -> list[str]:
    """Problem names: of one family, or (``None``) of every family but ``bbob`` and
    ``failures``."""
    if family == "bbob":
        return list(bbob_registry())
    if family == "failures":
        return list(failure_registry())
    return [n for n, p in registry().items() if family is None or p.family == family]
