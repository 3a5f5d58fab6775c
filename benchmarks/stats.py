"""Scores and comparisons: normalised score, paired Wilcoxon win/tie/loss, mean ranks.

Every comparison works on a *loss*: lower is better. For problems with a known optimum the
loss is the final log10 simple regret; for tuning tasks it is minus the normalised score.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Outcome",
    "Reference",
    "compare",
    "mean_ranks",
    "min_attainable_p",
    "normalised_score",
]

ALPHA = 0.05


class Outcome(enum.StrEnum):
    """Result of a paired comparison, from the first contender's side."""

    WIN = "win"
    TIE = "tie"
    LOSS = "loss"


@dataclass(frozen=True)
class Comparison:
    """A paired comparison across seeds: outcome, p-value and number of pairs."""

    outcome: Outcome
    p_value: float
    n_pairs: int


def compare(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Comparison:
    """Paired two-sided Wilcoxon signed-rank test of losses ``a`` against ``b``.

    Args:
        a: the contender's loss per seed (lower is better).
        b: the baseline's loss for the same seeds, in the same order.
        alpha: significance level.

    Returns:
        ``WIN`` when ``a`` is significantly lower, ``LOSS`` when significantly higher, else
        ``TIE``. Pairs where both are equal (all-tie inputs included) carry no information
        and are dropped ("wilcox" zero method); NaN pairs are dropped too.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.shape} vs {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    d = x[keep] - y[keep]
    nonzero = d[d != 0]
    if len(nonzero) == 0:
        return Comparison(Outcome.TIE, 1.0, int(keep.sum()))
    p = float(stats.wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided").pvalue)
    if not p < alpha:
        return Comparison(Outcome.TIE, p, int(keep.sum()))
    signed = np.sign(nonzero) * stats.rankdata(np.abs(nonzero))
    outcome = Outcome.WIN if signed.sum() < 0 else Outcome.LOSS
    return Comparison(outcome, p, int(keep.sum()))


def min_attainable_p(n_pairs: int) -> float:
    """Smallest two-sided p of the exact Wilcoxon test with ``n_pairs`` non-tied pairs."""
    return min(1.0, 2.0 / 2**n_pairs) if n_pairs > 0 else 1.0


@dataclass(frozen=True)
class Reference:
    """Anchors of the normalised score of a tuning task (Bayesmark's construction).

    Attributes:
        best: the lowest value any contender found, over all seeds (score 1).
        median_random: the median value of a single uniformly random evaluation (score 0).
        n_random: number of random evaluations behind ``median_random``.
    """

    best: float
    median_random: float
    n_random: int


def normalised_score(value: float, ref: Reference) -> float:
    """``(median_random - value) / (median_random - best)``: 0 random, 1 the best seen.

    Negative when worse than a typical random point; NaN when the two anchors coincide or
    ``value`` is NaN.
    """
    span = ref.median_random - ref.best
    if not math.isfinite(value) or not span > 0:
        return math.nan
    return (ref.median_random - value) / span


def mean_ranks(losses: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, float]:
    """Mean rank of each contender, 1 the best: ranked per problem and seed, then averaged.

    Args:
        losses: ``{problem: {contender: loss per seed}}``; seeds aligned across contenders
            of one problem. Ties share the average rank. A seed where some contender has
            NaN is left out of that problem.

    Returns:
        ``{contender: mean over problems of its mean rank over seeds}`` over the problems
        the contender appears in.
    """
    per_contender: dict[str, list[float]] = {}
    for by_contender in losses.values():
        names = list(by_contender)
        table = np.array([by_contender[n] for n in names], dtype=float)  # contenders x seeds
        table = table[:, np.isfinite(table).all(axis=0)]
        if table.shape[1] == 0 or len(names) < 2:
            continue
        ranks = np.apply_along_axis(stats.rankdata, 0, table)
        for name, r in zip(names, ranks.mean(axis=1), strict=True):
            per_contender.setdefault(name, []).append(float(r))
    return {name: float(np.mean(r)) for name, r in per_contender.items()}
