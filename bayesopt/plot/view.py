"""The optimiser's GP refitted for figures: ``fit_surrogate`` and ``SurrogateView``."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bayesopt import acquisition as _acquisition
from bayesopt import gp
from bayesopt._rng import seeded_torch
from bayesopt.asktell import AskTell
from bayesopt.model_data import ModelData
from bayesopt.optimizer import Optimizer
from bayesopt.plot.runs import single_outcome
from bayesopt.space import DTYPE, Space
from bayesopt.trial import TrialState

__all__ = ["SurrogateView", "fit_surrogate", "view_of"]

_ACQ_LABELS = {
    "qlognei": "log EI (qLogNEI)",
    "logei": "log EI",
    "pi": "log PI",
    "ucb": "UCB",
    "ts": "Thompson sample",
}


class SurrogateView:
    """The optimiser's GP refitted on its trials, with predictions in objective units.

    Build it with ``fit_surrogate``. Failed trials are imputed with the worst value, as the
    optimiser does.

    Attributes:
        space: the search space.
        model: the fitted BoTorch model (on transformed targets, larger is better).
        data: the tensors the model was fitted on (``Optimizer.model_data()``).
        X: ``n x d`` unit inputs of the complete trials, then the failed ones.
        y: ``n`` targets in the model's units.
        values: ``n`` objective values (failed trials: the worst complete value).
        failed: ``n`` booleans, True for failed trials.
        X_pending: ``m x d`` unit inputs of the pending trials.
        trials: the optimiser's trials.
        maximize: whether larger values are better.
        acquisition_name: the acquisition drawn by ``acquisition``.
        units: ``"objective"``: predictions are mapped back through the inverse of the
            optimiser's output transform (``ModelData.to_values``).
    """

    def __init__(
        self,
        *,
        space: Space,
        model: Any,
        data: ModelData,
        X_pending: Tensor,
        trials: list,
        acquisition_name: str,
        seed: int,
    ) -> None:
        self.space = space
        self.model = model
        self.data = data
        self.X = data.X
        self.y = data.y
        self.values = data.values.numpy()
        self.failed = data.failed.numpy()
        self.X_pending = X_pending
        self.trials = trials
        self.maximize = data.maximize
        self.acquisition_name = acquisition_name
        self.seed = seed
        self._acqf: Any = None
        self.units = "objective"
        self.display_values = self.values
        """``values``, in the units predictions are shown in."""

    def to_units(self, y: np.ndarray) -> np.ndarray:
        """Map model-space targets (transformed, larger is better) back to objective
        values, through the inverse of the optimiser's output transform."""
        return self.data.to_values(y)

    def predict(self, U: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function.

        Args:
            U: ``k x d`` unit points.

        Returns:
            Two ``k`` arrays in objective units: the mean (through a non-affine output
            transform, the posterior median) and the standard deviation (its
            first-order image there).
        """
        with torch.no_grad(), gp.exact(), _quiet():
            post = self.model.posterior(U.to(DTYPE))
            mean = post.mean.reshape(-1).numpy()
            sd = post.variance.clamp_min(0).sqrt().reshape(-1).numpy()
        # Through a monotone transform the mean maps to the posterior median in objective
        # units, and the s.d. to its first-order (delta-method) image there (both exact
        # for an affine transform, i.e. without a warp).
        h = 1e-5
        slope = np.abs(self.to_units(mean + h) - self.to_units(mean - h)) / (2 * h)
        return self.to_units(mean), sd * slope

    def _acquisition_function(self) -> Any:
        if self._acqf is None:
            self._acqf = _acquisition.make(
                self.acquisition_name,
                self.model,
                X_baseline=self.X,
                best_f=float(self.y.max()),
                X_pending=self.X_pending if len(self.X_pending) else None,
                q=1,
                seed=self.seed,
                noise_fraction=gp.noise_fraction(self.model),
            )
        return self._acqf

    def acquisition(self, U: Tensor) -> np.ndarray:
        """Acquisition values at ``k x d`` unit points (larger is better), as a ``k`` array.

        For ``"ts"`` this is one joint posterior sample (standardised, larger is better).
        """
        U = U.to(DTYPE)
        with torch.no_grad(), gp.exact(), _quiet(), seeded_torch(self.seed):
            if self.acquisition_name == "ts":
                out = self.model.posterior(U).rsample().reshape(-1)
            else:
                acqf = self._acquisition_function()
                out = torch.cat([acqf(c.unsqueeze(1)).reshape(-1) for c in U.split(512)])
        return out.numpy()

    @property
    def acquisition_label(self) -> str:
        """A readable name of the acquisition."""
        return _ACQ_LABELS.get(self.acquisition_name, self.acquisition_name)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence GPyTorch's and BoTorch's routine numerical notices while drawing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def fit_surrogate(
    opt: AskTell, *, acquisition: str | None = None, seed: int = 0, outcome: str | None = None
) -> SurrogateView:
    """Refit the optimiser's GP on its trials, as its next ask would.

    The data are ``opt.model_data()``, the tensors the next ask fits on (an optimiser
    without its own GP, such as ``RandomSearch``, gets the same tensors with the default
    ``bayesopt.ModelOptions``); the model is ``gp.fit`` with the optimiser's model options,
    and the acquisition ``acquisition.make``'s, with the pending trials as pending points.
    (With more than ``model_options.max_exact`` observations the optimiser fits a local
    model on a subset; this refit uses all of them.) In a study with declared outcomes
    the GP is the one of a single ``outcome`` (``plot.runs.single_outcome``), and the acquisition
    drawn is that outcome's single-objective one (``"qlognei"`` unless given).

    Args:
        opt: an ``Optimizer`` (or another optimiser: it gets the default GP) with at least
            two complete trials.
        acquisition: the acquisition to draw; default the optimiser's (``"qlognei"`` for
            optimisers without one).
        seed: seeds the fit and the acquisition's Monte-Carlo samples.
        outcome: in a study with ``objectives=`` or ``constraints=``, the objective or
            constraint to model (default: the first objective).

    Returns:
        A ``SurrogateView``.

    Raises:
        ValueError: fewer than two complete trials, or an unknown ``outcome``.
        bayesopt.gp.SurrogateError: the fit failed.
    """
    options = opt.model_options if isinstance(opt, Optimizer) else gp.ModelOptions()
    declared = getattr(opt, "outcomes", None) is not None
    trials, maximize = single_outcome(opt, outcome)
    try:
        if isinstance(opt, Optimizer) and not declared:
            data = opt.model_data()
        else:
            data = ModelData.from_trials(
                trials, opt.space, maximize=maximize, output_warp=options.output_warp
            )
    except ValueError as exc:
        raise ValueError(f"fit_surrogate: {exc}") from None
    default = "qlognei" if declared else getattr(opt, "acquisition", "qlognei")
    name = _acquisition.check_name(acquisition or default)
    space = opt.space
    with gp.exact():
        model = gp.fit(data.X, data.y, cat_dims=space.categorical_dims, seed=seed, options=options)
    pending = [space.to_unit(t.params) for t in trials if t.state is TrialState.PENDING]
    return SurrogateView(
        space=space,
        model=model,
        data=data,
        X_pending=torch.stack(pending) if pending else torch.empty(0, space.dim, dtype=DTYPE),
        trials=trials,
        acquisition_name=name,
        seed=seed,
    )


def view_of(source: AskTell | SurrogateView) -> SurrogateView:
    """``source`` itself if it is a view, else ``fit_surrogate(source)``."""
    if isinstance(source, SurrogateView):
        return source
    if isinstance(source, AskTell):
        return fit_surrogate(source)
    raise TypeError(f"expected an optimiser or a SurrogateView, but got {source!r}.")
