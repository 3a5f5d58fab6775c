"""The training tensors of a GP ask, from a study's trials.

``Optimizer.model_data()`` is the one public source of these tensors: the optimiser's ask
fits its GP on them, and ``bayesopt.plot`` refits the same GP from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bayesopt import gp
from bayesopt.multifidelity import choose_rung
from bayesopt.outcomes import Outcomes
from bayesopt.pruners import Pruner
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Trial, TrialState

__all__ = ["ModelData", "OutcomeData"]


@dataclass(frozen=True, eq=False)
class ModelData:
    """What the GP of the next ask is fitted on.

    Failed trials are imputed with the worst value observed so far, so the model learns
    that their region is bad.

    Attributes:
        X: ``n x d`` unit-cube inputs: the complete trials (or those with a value at the
            rung) in ask order, then the failed ones.
        y: ``n`` targets in the model's units: larger is better, after the output transform
            of ``ModelOptions.output_warp`` (``gp.transform_outputs``).
        X_failed: ``f x d`` unit-cube inputs of the failed trials (the last ``f`` rows of
            ``X``).
        values: ``n`` objective values in the user's units (failed trials: the worst one).
        maximize: whether larger objective values are better.
        untransform: maps an array of model-space values back to the targets before the
            transform (larger is better); monotone.
        budget: the rung the values were read at, for a study with a pruner (see
            ``bayesopt.multifidelity.choose_rung``; ``math.inf``: the complete trials), or
            ``None`` (the complete trials, without a pruner).
    """

    X: Tensor
    y: Tensor
    X_failed: Tensor
    values: Tensor
    maximize: bool
    untransform: Callable[[np.ndarray], np.ndarray]
    budget: float | None = None

    @property
    def failed(self) -> Tensor:
        """``n`` booleans, true for the imputed rows of the failed trials."""
        failed = torch.zeros(len(self.X), dtype=torch.bool)
        failed[len(self.X) - len(self.X_failed) :] = True
        return failed

    def to_values(self, y: np.ndarray) -> np.ndarray:
        """Model-space values (like ``y``) as objective values, in the user's units."""
        sign = 1.0 if self.maximize else -1.0
        return sign * self.untransform(np.asarray(y, dtype=float))

    @classmethod
    def from_trials(
        cls,
        trials: Sequence[Trial],
        space: Space,
        *,
        maximize: bool = False,
        output_warp: str = "yeo-johnson",
    ) -> ModelData:
        """The training tensors of ``trials``' complete and failed trials.

        Args:
            trials: a study's trials, in ask order (pending ones are ignored).
            space: the space their params belong to.
            maximize: whether larger objective values are better.
            output_warp: one of ``gp.OUTPUT_WARPS``.

        Raises:
            ValueError: fewer than two trials are complete.
        """
        done = [t for t in trials if t.state is TrialState.COMPLETE]
        failed = [t for t in trials if t.state is TrialState.FAILED]
        if len(done) < 2:
            raise ValueError(f"the GP needs at least 2 complete trials, but there are {len(done)}.")
        loss = [-t.value if maximize else t.value for t in done]  # type: ignore[operator]
        return cls._build(space, done, loss, failed, maximize, output_warp, None)

    @classmethod
    def from_rung(
        cls,
        trials: Sequence[Trial],
        space: Space,
        pruner: Pruner | None,
        *,
        maximize: bool = False,
        output_warp: str = "yeo-johnson",
    ) -> ModelData:
        """The training tensors of a study with a pruner: the values at the largest rung
        that at least ``d + 2`` trials reached (``multifidelity.choose_rung``), with the
        failed trials (and those pruned for a non-finite report) imputed.

        Raises:
            ValueError: no budget holds 2 values.

        Example:
            >>> from bayesopt.space import Real
            >>> space = Space({"x": Real(0.0, 1.0)})
            >>> trials = [Trial(i, {"x": x}, intermediate=((1, x), (3, x / 2)))
            ...           for i, x in enumerate((0.2, 0.5, 0.9))]
            >>> data = ModelData.from_rung(trials, space, None)
            >>> data.budget, data.values.tolist()
            (3, [0.1, 0.25, 0.45])
        """
        n_min = space.dim + 2
        rung = choose_rung(trials, pruner, n_min, maximize=maximize)
        if rung is None:
            raise ValueError("the GP needs at least 2 trials with a value at one budget.")
        return cls._build(
            space, list(rung.trials), list(rung.losses), list(rung.failed), maximize,
            output_warp, rung.budget,
        )  # fmt: skip

    @classmethod
    def _build(
        cls,
        space: Space,
        done: list[Trial],
        losses: list[float],
        failed: list[Trial],
        maximize: bool,
        output_warp: str,
        budget: float | None,
    ) -> ModelData:
        X = _encode(space, done)
        loss = torch.tensor(losses, dtype=DTYPE)
        X_failed = _encode(space, failed)
        if len(failed):
            X = torch.cat([X, X_failed])
            loss = torch.cat([loss, loss.max().expand(len(failed))])
        y, untransform = gp.fit_output_transform(-loss, output_warp)
        values = -loss if maximize else loss
        return cls(X, y, X_failed, values, maximize, untransform, budget)


def _constraint_column(slack: Tensor, warp: str) -> tuple[Tensor, float]:
    """A constraint's slacks in model units and the image of a zero slack: standardised
    (``warp="none"``, or too few distinct values to fit a warp), else transformed as an
    objective is (``gp.fit_output_transform``) with zero mapped through the transform."""
    if warp == "none" or len(slack) < 3 or not bool(slack.max() > slack.min()):
        return gp.standardize_threshold(slack, 0.0)
    z, inverse = gp.fit_output_transform(slack, warp)
    return z, gp.to_model_units(inverse, 0.0)


@dataclass(frozen=True, eq=False)
class OutcomeData:
    """What the GPs of the next ask of a study with several outcomes are fitted on: one
    column per outcome, one GP per column.

    Objectives are gains (larger is better), each transformed as a single objective is
    (``ModelOptions.output_warp``). Constraints are slacks (``bound - v`` for ``<=``,
    ``v - bound`` for ``>=``), each transformed as an objective is
    (``ModelOptions.constraint_warp``); constraint ``j`` holds where its column is at
    least ``thresholds[j]``, the image of a zero slack. Failed trials are imputed with each
    column's worst value, and a NaN constraint value with a value below both the worst
    slack observed and zero (violated), so that the model learns that those regions are
    bad or infeasible.

    Attributes:
        X: ``n x d`` unit-cube inputs: the complete trials in ask order, then the failed ones.
        Y: ``n x (m + c)`` targets in the model's units: ``m`` objectives, then ``c``
            constraints.
        thresholds: ``c`` model-unit thresholds of the constraint columns.
        reference: the study's ``reference_point`` as ``m`` model-unit gains (each
            objective's value mapped through its column's transform), or ``None``.
        X_failed: ``f x d`` unit-cube inputs of the failed trials (the last ``f`` rows of
            ``X``).
        feasible: ``n`` booleans: complete trials that satisfied every constraint
            (failed rows are false).
        n_objectives: ``m``.
    """

    X: Tensor
    Y: Tensor
    thresholds: Tensor
    X_failed: Tensor
    feasible: Tensor
    n_objectives: int
    reference: Tensor | None = None

    @classmethod
    def from_trials(
        cls,
        trials: Sequence[Trial],
        space: Space,
        outcomes: Outcomes,
        *,
        output_warp: str = "yeo-johnson",
        constraint_warp: str = "yeo-johnson",
    ) -> OutcomeData:
        """The training tensors of ``trials``' complete and failed trials.

        Raises:
            ValueError: fewer than two trials are complete.

        Example:
            >>> from bayesopt.space import Real
            >>> out = Outcomes.declare({"a": "min"}, {"c": ("<=", 1.0)})
            >>> ts = [Trial(i, {"x": x}, x, "complete", values={"a": x, "c": 2 * x},
            ...             feasible=2 * x <= 1) for i, x in enumerate((0.2, 0.5, 0.9))]
            >>> data = OutcomeData.from_trials(ts, Space({"x": Real(0.0, 1.0)}), out)
            >>> data.Y.shape, data.feasible.tolist()
            (torch.Size([3, 2]), [True, True, False])
        """
        done = [t for t in trials if t.state is TrialState.COMPLETE and t.values is not None]
        failed = [t for t in trials if t.state is TrialState.FAILED]
        if len(done) < 2:
            raise ValueError(f"the GP needs at least 2 complete trials, but there are {len(done)}.")
        gains, slacks = outcomes.gains(done), outcomes.slacks(done)
        slacks = (
            torch.stack([_impute_violated(col) for col in slacks.T], 1)
            if len(outcomes.constraints)
            else slacks
        )
        feasible = (slacks >= 0).all(1) if slacks.shape[1] else torch.ones(len(done), dtype=bool)
        feasible = feasible & torch.tensor([t.feasible is not False for t in done])
        X = _encode(space, done)
        X_failed = _encode(space, failed)
        if failed:
            X = torch.cat([X, X_failed])
            gains = torch.cat([gains, gains.min(0).values.expand(len(failed), -1)])
            slacks = torch.cat([slacks, slacks.min(0).values.expand(len(failed), -1)])
            feasible = torch.cat([feasible, torch.zeros(len(failed), dtype=torch.bool)])
        cols, inverses = [], []
        for g in gains.T:
            z, inverse = gp.fit_output_transform(g, output_warp)
            cols.append(z)
            inverses.append(inverse)
        ref = outcomes.reference_gains()
        reference = None
        if ref is not None:
            units = [gp.to_model_units(f, r) for f, r in zip(inverses, ref.tolist(), strict=True)]
            reference = torch.tensor(units, dtype=DTYPE)
        thresholds = []
        for col in slacks.T:
            z, t = _constraint_column(col, constraint_warp)
            cols.append(z)
            thresholds.append(t)
        Y = torch.stack(cols, 1)
        return cls(
            X, Y, torch.tensor(thresholds, dtype=DTYPE), X_failed, feasible, gains.shape[1],
            reference,
        )  # fmt: skip


def _impute_violated(slack: Tensor) -> Tensor:
    """NaN slacks replaced by a violated value below every observed one."""
    nan = torch.isnan(slack)
    if not bool(nan.any()):
        return slack
    finite = slack[~nan]
    if len(finite):
        lo, hi = float(finite.min()), float(finite.max())
        worst = min(lo, 0.0)
        margin = max(0.1 * (hi - lo), 1e-3 * abs(worst), 1e-6)
    else:
        worst, margin = 0.0, 1.0
    return torch.where(nan, torch.full_like(slack, worst - margin), slack)


def _encode(space: Space, trials: list[Trial]) -> Tensor:
    if not trials:
        return torch.empty(0, space.dim, dtype=DTYPE)
    return torch.stack([space.to_unit(t.params) for t in trials])
