"""Trust regions for high-dimensional spaces, after TuRBO-1 (Eriksson et al., 2019).

In ten or more dimensions a global acquisition search spends its budget on the corners of
a huge cube, where the GP knows nothing. A trust region keeps the search in a box around
the best observation and resizes the box by results:

* the box is centred on the best observed point; its side along coordinate ``i`` is
  ``length * w_i``, with ``w`` the GP's lengthscales divided by their geometric mean, so
  that the box is long where the objective varies slowly (clipped to the unit cube;
  categorical coordinates are never restricted);
* ``length`` starts at ``INITIAL_LENGTH`` (0.8); after ``SUCCESS_TOLERANCE`` (3)
  consecutive model trials that improve the best value (see ``SUCCESS_RULES``)
  it doubles (at most ``MAX_LENGTH``), after ``failure_tolerance(d)`` (``max(4, d)``)
  consecutive ones that do not it halves;
* below ``MIN_LENGTH`` (0.5**7) the region restarts at ``INITIAL_LENGTH``. TuRBO-1 also
  discards its data there; we keep every observation, so a restart widens the search
  around the same incumbent with a GP that knows everything seen so far.

``trust_region="stagnation"`` (``Optimizer``) keeps the search global below ``MIN_DIMS``
until ``failure_tolerance(d)`` consecutive model trials have failed (as above), then opens
a region at ``INITIAL_LENGTH`` around the best point, which follows the rules above until
it collapses; the search turns global again, until the next stagnation
(``replay(..., start_global=True)``). ``d`` counts every coordinate, as for the region.

The state is a pure function of the trial history (``replay``), never stored: the same
tells give the same box, and a study resumed from its journal continues exactly.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from botorch.acquisition import AcquisitionFunction
from torch import Tensor

__all__ = [
    "MIN_DIMS",
    "MODES",
    "SUCCESS_RULES",
    "BoxAcquisition",
    "TrustRegion",
    "box",
    "box_grid",
    "failure_tolerance",
    "replay",
]

MODES = ("auto", "always", "never", "stagnation")
MIN_DIMS = 10
"""``trust_region="auto"`` uses a trust region when the space has at least this many
non-categorical coordinates."""
INITIAL_LENGTH = 0.8
MIN_LENGTH = 0.5**7
MAX_LENGTH = 1.6
SUCCESS_TOLERANCE = 3
IMPROVEMENT = 1e-3
"""The fraction of a scale (``SUCCESS_RULES``) by which a trial must beat the best loss."""
SUCCESS_RULES = ("relative", "strict", "spread")
"""When a trial counts as an improvement of the best loss ``b``. ``"relative"`` (TuRBO's
rule): by more than ``IMPROVEMENT * |b|``; it depends on where zero lies, so an objective
offset by a constant (BBOB's ``f_opt`` reaches +-1000) demands an absolute gain of up to
1 near its optimum. ``"strict"``: any decrease. ``"spread"``: by more than
``IMPROVEMENT * (median - b)``, the median of the finite losses seen so far; unchanged by
adding a constant to, or scaling, the objective. On BBOB's tuning instances at d = 10 the
choice decided a median of one trial in a run, and neither alternative differed from the
default (``benchmarks/results/ablation/tr_success``)."""


def failure_tolerance(d: int) -> int:
    """Consecutive failures that halve the region: ``max(4, d)`` (TuRBO's rule for q = 1)."""
    return max(4, d)


@dataclass(frozen=True)
class TrustRegion:
    """The state of the region after some trials.

    Attributes:
        length: side length before the lengthscale weighting, in unit-cube units.
        successes: consecutive successes since the last resize.
        failures: consecutive failures since the last resize.
        restarts: how often the region collapsed and restarted.
        active: whether the next ask searches in the region (``False``: a global search
            that has not stagnated yet; only with ``replay(..., start_global=True)``).
    """

    length: float = INITIAL_LENGTH
    successes: int = 0
    failures: int = 0
    restarts: int = 0
    active: bool = True


def replay(
    losses: Sequence[float],
    counts: Sequence[bool],
    d: int,
    *,
    start_global: bool = False,
    success: str = "relative",
) -> TrustRegion:
    """The region after a history of losses (smaller is better), in trial order.

    Args:
        losses: each finished trial's loss; ``nan`` for a failed trial.
        counts: for each, whether it was proposed by the model (the region or the global
            search) and so moves the counters; the others (initial design, added trials)
            only set the incumbent.
        d: the space's dimension (for the failure tolerance).
        start_global: begin with a global search that opens the region after
            ``failure_tolerance(d)`` consecutive failures, and return to it when the
            region collapses (``trust_region="stagnation"``).
        success: which gain counts as an improvement, one of ``SUCCESS_RULES``.

    Returns:
        The state after the last trial.

    Example:
        >>> replay([3.0, 2.0, 2.5, 2.5, 2.5, 2.5], [False] + [True] * 5, 2, start_global=True)
        TrustRegion(length=0.8, successes=0, failures=0, restarts=0, active=True)
    """
    if len(losses) != len(counts):
        raise ValueError("replay: `losses` and `counts` must have the same length.")
    if success not in SUCCESS_RULES:
        raise ValueError(f"replay: `success` must be one of {SUCCESS_RULES}, but got {success!r}.")
    state = TrustRegion(active=not start_global)
    best = math.inf
    seen: list[float] = []  # the finite losses so far, sorted (for "spread")
    tolerance = failure_tolerance(d)
    for loss, counted in zip(losses, counts, strict=True):
        improved = math.isfinite(loss) and (
            not math.isfinite(best) or loss < best - _margin(success, best, seen)
        )
        if math.isfinite(loss):
            best = min(best, loss)
            if success == "spread":
                bisect.insort(seen, loss)
        if not counted:
            continue
        if not state.active:
            failures = 0 if improved else state.failures + 1
            if failures == tolerance:  # the global search stagnated: open a region
                state = TrustRegion(restarts=state.restarts)
            else:
                state = TrustRegion(failures=failures, restarts=state.restarts, active=False)
            continue
        successes = state.successes + 1 if improved else 0
        failures = 0 if improved else state.failures + 1
        length, restarts = state.length, state.restarts
        if successes == SUCCESS_TOLERANCE:
            length, successes = min(2.0 * length, MAX_LENGTH), 0
        if failures == tolerance:
            length, failures = length / 2.0, 0
        if length < MIN_LENGTH:
            length, restarts = INITIAL_LENGTH, restarts + 1
            if start_global:  # collapsed: back to the global search
                state = TrustRegion(restarts=restarts, active=False)
                continue
        state = TrustRegion(length, successes, failures, restarts)
    return state


def _margin(success: str, best: float, seen: Sequence[float]) -> float:
    """How much a loss must beat ``best`` by to count as an improvement."""
    if success == "strict":
        return 0.0
    if success == "relative":
        return IMPROVEMENT * abs(best)
    n = len(seen)
    median = 0.5 * (seen[(n - 1) // 2] + seen[n // 2])
    return IMPROVEMENT * (median - best)


def box(
    centre: Tensor, length: float, lengthscales: Tensor, categorical: Sequence[int] = ()
) -> tuple[Tensor, Tensor]:
    """The region's lower and upper corners in the unit cube.

    Args:
        centre: ``d`` unit coordinates of the best observation.
        length: the region's side length before weighting.
        lengthscales: ``d`` positive GP lengthscales (unit-cube units).
        categorical: coordinates left unrestricted.

    Returns:
        ``(lo, hi)``, each of shape ``d``, with ``0 <= lo <= centre <= hi <= 1``.
    """
    ls = lengthscales.to(centre).clamp_min(1e-6)
    ordinal = [i for i in range(len(centre)) if i not in set(categorical)]
    weights = torch.ones_like(centre)
    if ordinal:
        logs = ls[ordinal].log()
        weights[ordinal] = torch.exp(logs - logs.mean())
    half = 0.5 * length * weights
    lo = (centre - half).clamp(0.0, 1.0)
    hi = (centre + half).clamp(0.0, 1.0)
    for i in categorical:
        lo[i], hi[i] = 0.0, 1.0
    return lo, hi


class BoxAcquisition(AcquisitionFunction):
    """An acquisition seen through the affine map of the unit cube onto a box.

    ``propose.maximize`` searches the unit cube; wrapping the acquisition makes it search
    ``[lo, hi]`` instead. Values are the wrapped acquisition's at ``lo + u (hi - lo)``;
    pending points given in box coordinates are passed on in cube coordinates, and the
    closed-form gradient (when the wrapped acquisition has one) follows the chain rule.

    Args:
        inner: the acquisition over the unit cube.
        lo: ``d`` lower corner.
        hi: ``d`` upper corner (``hi > lo`` where the box is not degenerate).
    """

    def __init__(self, inner: AcquisitionFunction, lo: Tensor, hi: Tensor) -> None:
        super().__init__(inner.model)
        self.inner = inner
        self.lo = lo
        self.width = hi - lo

    def to_cube(self, U: Tensor) -> Tensor:
        """Box coordinates to unit-cube coordinates."""
        return self.lo + U * self.width

    def to_box(self, X: Tensor) -> Tensor:
        """Unit-cube coordinates to box coordinates (outside points land outside [0, 1])."""
        safe = torch.where(self.width > 0, self.width, torch.ones_like(self.width))
        return torch.where(self.width > 0, (X - self.lo) / safe, torch.zeros_like(X))

    def forward(self, X: Tensor) -> Tensor:
        return self.inner(self.to_cube(X))

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        self.inner.set_X_pending(None if X_pending is None else self.to_cube(X_pending))

    @property
    def has_gradient(self) -> bool:
        """Whether the wrapped acquisition has a closed-form gradient."""
        return bool(getattr(self.inner, "has_gradient", False))

    def value_and_gradient(self, U: Tensor) -> tuple[Tensor, Tensor]:
        """Values and gradients in box coordinates (``b x d`` points)."""
        values, grads = self.inner.value_and_gradient(self.to_cube(U))
        return values, grads * self.width


def box_grid(grid: Tensor | None, lo: float, hi: float) -> Tensor | None:
    """A coordinate's grid in box coordinates: the values inside ``[lo, hi]``, mapped."""
    if grid is None:
        return None
    width = hi - lo
    if width <= 0:
        return torch.zeros(1, dtype=grid.dtype, device=grid.device)
    inside = grid[(grid >= lo - 1e-12) & (grid <= hi + 1e-12)]
    if not len(inside):  # cannot happen when the centre is on the grid; be safe anyway
        inside = grid[torch.argmin((grid - 0.5 * (lo + hi)).abs())].reshape(1)
    return ((inside - lo) / width).clamp(0.0, 1.0)
