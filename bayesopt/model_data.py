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
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Trial, TrialState

__all__ = ["ModelData"]


@dataclass(frozen=True, eq=False)
class ModelData:
    """What the GP of the next ask is fitted on.

    Failed trials are imputed with the worst value observed so far, so the model learns
    that their region is bad.

    Attributes:
        X: ``n x d`` unit-cube inputs: the complete trials in ask order, then the failed ones.
        y: ``n`` targets in the model's units: larger is better, after the output transform
            of ``ModelOptions.output_warp`` (``gp.transform_outputs``).
        X_failed: ``f x d`` unit-cube inputs of the failed trials (the last ``f`` rows of
            ``X``).
        values: ``n`` objective values in the user's units (failed trials: the worst one).
        maximize: whether larger objective values are better.
        untransform: maps an array of model-space values back to the targets before the
            transform (larger is better); monotone.
    """

    X: Tensor
    y: Tensor
    X_failed: Tensor
    values: Tensor
    maximize: bool
    untransform: Callable[[np.ndarray], np.ndarray]

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
        X = _encode(space, done)
        loss = torch.tensor([-t.value if maximize else t.value for t in done], dtype=DTYPE)
        X_failed = _encode(space, failed)
        if len(failed):
            X = torch.cat([X, X_failed])
            loss = torch.cat([loss, loss.max().expand(len(failed))])
        y, untransform = gp.fit_output_transform(-loss, output_warp)
        values = -loss if maximize else loss
        return cls(X, y, X_failed, values, maximize, untransform)


def _encode(space: Space, trials: list[Trial]) -> Tensor:
    if not trials:
        return torch.empty(0, space.dim, dtype=DTYPE)
    return torch.stack([space.to_unit(t.params) for t in trials])
