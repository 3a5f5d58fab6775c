"""Scores and comparisons: normalised score, paired Wilcoxon win/tie/loss with Holm's
correction, mean ranks, the Friedman test and the Nemenyi critical difference.

Every comparison works on a *loss*: lower is better. For problems with a known optimum the
loss is the final log10 simple regret; for tuning tasks it is minus the normalised score.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import stats

__all__ = [
    "Q_ALPHA_005",
    "Friedman",
    "Outcome",
    "Reference",
    "cd_groups",
    "compare",
    "friedman",
    "holm",
    "holm_outcomes",
    "mean_ranks",
    "median_iqr",
    "min_attainable_p",
    "nemenyi_cd",
    "normalised_score",
    "saturated",
    "wtl_cell",
]

ALPHA = 0.05

K = TypeVar("K", bound=Hashable)


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


def wtl_cell(raw: Comparison | None, holm: Outcome | None) -> str:
    """A table cell of one paired comparison: ``"W (0.031; Holm T)"`` (raw outcome, raw
    p-value, outcome after Holm's correction; ``"?"`` without one), ``"-"`` without a
    comparison.

    Example:
        >>> wtl_cell(Comparison(Outcome.WIN, 0.031, 6), Outcome.TIE)
        'W (0.031; Holm T)'
    """
    if raw is None:
        return "-"
    mark = {"win": "W", "tie": "T", "loss": "L"}
    h = mark[holm.value] if holm is not None else "?"
    return f"{mark[raw.outcome.value]} ({raw.p_value:.3f}; Holm {h})"


def median_iqr(values: Iterable[float | None], spec: str = ".3f", empty: str = "-") -> str:
    """``"median [q1, q3]"`` of the finite values (``None`` and NaN are left out), each
    written with the format ``spec``; ``empty`` when none is finite.

    Example:
        >>> median_iqr([1.0, 2.0, 3.0, None, float("nan")])
        '2.000 [1.500, 2.500]'
        >>> median_iqr([None], empty="n/a")
        'n/a'
    """
    xs = [float(x) for x in values if x is not None and math.isfinite(x)]
    if not xs:
        return empty
    q1, med, q3 = np.percentile(xs, [25, 50, 75])
    return f"{med:{spec}} [{q1:{spec}}, {q3:{spec}}]"


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


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down correction: which of the hypotheses are rejected at family-wise
    error rate ``alpha``.

    Example:
        >>> holm([0.01, 0.04, 0.03])
        [True, False, False]
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, i in enumerate(order):
        if not p_values[i] <= alpha / (len(p_values) - rank):
            break
        rejected[i] = True
    return rejected


def holm_outcomes(comparisons: Mapping[K, Comparison], alpha: float = ALPHA) -> dict[K, Outcome]:
    """Outcomes of a family of comparisons after Holm's correction.

    A comparison keeps its ``WIN`` or ``LOSS`` only if it is significant on its own
    (``p < alpha``) and Holm's step-down procedure over the whole family rejects it; every
    other comparison is a ``TIE``. Corrected verdicts are thus a subset of the raw ones.

    Args:
        comparisons: the family, e.g. ``{problem: a vs b}`` for one pair of contenders.
        alpha: family-wise error rate.
    """
    keys = list(comparisons)
    rejected = holm([comparisons[k].p_value for k in keys], alpha)
    return {
        k: comparisons[k].outcome if rej else Outcome.TIE
        for k, rej in zip(keys, rejected, strict=True)
    }


# Ranks over problems: Friedman test and Nemenyi critical difference ------------------------
Q_ALPHA_005: dict[int, float] = {
    2: 1.960,
    3: 2.343,
    4: 2.569,
    5: 2.728,
    6: 2.850,
    7: 2.949,
    8: 3.031,
    9: 3.102,
    10: 3.164,
    11: 3.219,
    12: 3.268,
}
"""Critical values q_0.05 of the two-tailed Nemenyi test for k contenders: the Studentized
range statistic at infinite degrees of freedom divided by sqrt(2). k = 2-10 from Demšar
(2006), "Statistical comparisons of classifiers over multiple data sets", JMLR 7:1-30,
Table 5(a); k = 11, 12 computed the same way,
``scipy.stats.studentized_range.ppf(0.95, k, inf) / sqrt(2)``."""


@dataclass(frozen=True)
class Friedman:
    """Friedman test of k contenders over N problems, on one loss per problem and contender.

    Attributes:
        mean_ranks: ``{contender: mean over problems of its rank}``, 1 the best.
        statistic: Friedman's chi-square (tie-corrected, ``scipy.stats.friedmanchisquare``).
        p_value: its p-value (chi-square approximation, k - 1 degrees of freedom).
        iman_davenport: Iman and Davenport's F statistic (less conservative).
        iman_davenport_p: its p-value (F with k - 1 and (k - 1)(N - 1) degrees of freedom).
        n_problems: N.
    """

    mean_ranks: dict[str, float]
    statistic: float
    p_value: float
    iman_davenport: float
    iman_davenport_p: float
    n_problems: int


def friedman(losses: Mapping[str, Mapping[str, float]]) -> Friedman:
    """Rank contenders per problem on one loss each (e.g. the median over seeds), then test.

    Args:
        losses: ``{problem: {contender: loss}}``; every problem must hold the same three or
            more contenders and finite losses. Ties share the average rank.

    Returns:
        Mean ranks (1 the best) and the Friedman and Iman-Davenport tests of "all
        contenders are equivalent".
    """
    names = list(next(iter(losses.values()), {}))
    if len(names) < 3 or len(losses) < 2:
        raise ValueError("the Friedman test needs at least 3 contenders and 2 problems")
    table = np.array([[by[n] for n in names] for by in losses.values()], dtype=float)
    if not np.isfinite(table).all():
        raise ValueError("every loss must be finite")
    n, k = table.shape
    ranks = np.apply_along_axis(stats.rankdata, 1, table)
    with np.errstate(invalid="ignore", divide="ignore"):  # every row tied: NaN, handled
        chi2, p = stats.friedmanchisquare(*table.T)
    chi2, p = (float(chi2), float(p)) if np.isfinite(chi2) else (0.0, 1.0)  # all tied
    denom = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denom if denom > 0 else math.inf
    f_p = float(stats.f.sf(f, k - 1, (k - 1) * (n - 1))) if math.isfinite(f) else 0.0
    mean = {name: float(r) for name, r in zip(names, ranks.mean(axis=0), strict=True)}
    return Friedman(mean, chi2, p, float(f), f_p, n)


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference of mean ranks, ``q_alpha * sqrt(k (k + 1) / (6 N))``.

    Two contenders whose mean ranks over ``n`` problems differ by more than this differ
    significantly at level ``alpha`` (all pairs at once).

    Raises:
        ValueError: ``alpha`` is not 0.05 or ``k`` is outside 2-12 (the table ``Q_ALPHA_005``).
    """
    if alpha != 0.05 or k not in Q_ALPHA_005:
        raise ValueError(f"q_alpha is tabulated for alpha = 0.05 and k = 2-12, not {alpha}, {k}")
    return Q_ALPHA_005[k] * math.sqrt(k * (k + 1) / (6.0 * n))


def cd_groups(ranks: Mapping[str, float], cd: float) -> list[list[str]]:
    """Maximal runs of contenders, by mean rank, that the critical difference cannot separate.

    Returns:
        Groups of two or more names, best first within a group and groups ordered by their
        best member: every pair inside a group differs by at most ``cd``; no group is
        contained in another. These are the bars of a critical-difference diagram.
    """
    order = sorted(ranks, key=lambda name: ranks[name])
    groups: list[list[str]] = []
    last_end = -1
    for i, name in enumerate(order):
        j = i
        while j + 1 < len(order) and ranks[order[j + 1]] - ranks[name] <= cd:
            j += 1
        if j > i and j > last_end:
            groups.append(order[i : j + 1])
            last_end = j
    return groups


# Saturated tuning tasks -------------------------------------------------------------------
def saturated(finals: Mapping[str, Sequence[float]], min_contenders: int = 3) -> bool:
    """Whether a task cannot separate its contenders: the spread of their median final
    values is within the task's own seed noise.

    The rule: with ``m_c`` the median over seeds of contender ``c``'s final value, ``s_c``
    its standard deviation over seeds, and ``delta`` the task's resolution (the smallest
    positive difference between two final values of any contenders and seeds: one
    misclassified row of a CV error rate, say), the task is saturated when
    ``max_c m_c - min_c m_c <= max(median_c s_c, delta)``: the best and the worst
    contender differ by no more than one typical seed-to-seed deviation, or by one step
    of a quantised metric.

    Args:
        finals: ``{contender: final value per seed}`` in the objective's units (NaN
            values are ignored).
        min_contenders: fewer contenders with two or more finite values never count as
            saturated.

    Example:
        >>> saturated({"a": [1.0, 1.2, 1.1], "b": [1.1, 1.0, 1.2], "c": [1.05, 1.1, 1.0]})
        True
        >>> saturated({"a": [1.0, 1.01, 1.02], "b": [2.0, 2.01, 2.02], "c": [3.0, 3.0, 3.0]})
        False
    """
    medians, sds, pooled = [], [], []
    for values in finals.values():
        v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
        if len(v) < 2:
            continue
        medians.append(float(np.median(v)))
        sds.append(float(np.std(v, ddof=1)))
        pooled.extend(v.tolist())
    if len(medians) < min_contenders:
        return False
    gaps = np.diff(np.unique(pooled))
    delta = float(gaps.min()) if len(gaps) else 0.0
    spread = max(medians) - min(medians)
    return spread <= max(float(np.median(sds)), delta) * (1 + 1e-9)
