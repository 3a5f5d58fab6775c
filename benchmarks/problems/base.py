"""The ``Problem`` record shared by every problem family."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

import bayesopt as bo

__all__ = ["Evaluation", "Problem"]

FAMILIES = ("synthetic", "noisy", "mixed", "ml", "bbob", "failures")
"""Problem families, in report order (``bbob``: the COCO suite, and ``failures``: hidden
failure regions, each registered apart; see ``benchmarks.problems.bbob_registry`` and
``failure_registry``)."""


class Evaluation(NamedTuple):
    """One evaluation: what the optimiser is told, and the noise-free value behind it."""

    observed: float
    true: float


@dataclass(frozen=True)
class Problem:
    """A minimisation problem with a search space and an evaluation budget.

    Attributes:
        name: registry key, e.g. ``"hartmann6"``.
        family: one of ``FAMILIES``.
        space: the search space.
        budget: number of evaluations each contender gets.
        fn: the noise-free objective ``f(params) -> float`` (to minimise).
        optimum: the known optimal value of ``fn``, or ``None`` (tuning tasks).
        noise_std: standard deviation of the Gaussian noise added to what the optimiser sees.
        eval_cost_s: rough seconds per evaluation on one core (for run-time estimates).
        bayesopt_ask_factor: how much slower a bayesopt ask is here than on a continuous
            space of the same dimension (measured; for run-time estimates only).
        description: one line for the README and the report.
    """

    name: str
    family: str
    space: bo.Space
    budget: int
    fn: Callable[[dict[str, Any]], float]
    optimum: float | None = None
    noise_std: float = 0.0
    eval_cost_s: float = 1e-3
    bayesopt_ask_factor: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family must be one of {FAMILIES}, got {self.family!r}")
        if self.budget < 1:
            raise ValueError(f"{self.name}: budget must be >= 1, got {self.budget}")

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return self.space.dim

    @property
    def noisy(self) -> bool:
        """Whether the optimiser sees noisy values."""
        return self.noise_std > 0

    def noise_seed(self, seed: int) -> int:
        """Seed of the noise stream of run ``seed``; the same for every contender."""
        return int(
            np.random.SeedSequence([seed, zlib.crc32(self.name.encode())]).generate_state(1)[0]
        )

    def evaluator(self, seed: int) -> Callable[[dict[str, Any]], Evaluation]:
        """The objective of run ``seed``: ``fn`` plus seeded Gaussian noise.

        Args:
            seed: the run's seed; noise draw ``k`` depends only on it and ``k``.

        Returns:
            A callable ``params -> Evaluation(observed, true)``. A non-finite ``fn`` gives
            ``nan`` for both (the optimiser is told a failure).
        """
        rng = np.random.default_rng(self.noise_seed(seed))

        def evaluate(params: dict[str, Any]) -> Evaluation:
            true = float(self.fn(params))
            noise = float(rng.standard_normal()) * self.noise_std if self.noisy else 0.0
            if not math.isfinite(true):
                return Evaluation(math.nan, math.nan)
            return Evaluation(true + noise, true)

        return evaluate
