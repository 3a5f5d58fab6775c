"""Build and fit the Gaussian-process surrogate from tensors.

Inputs live in the unit cube; outputs are standardised here (robustly, so that objectives
of scale 1e-9 or 1e9 look alike to the GP). Purely continuous and integer spaces get
BoTorch's ``SingleTaskGP``; spaces with categorical coordinates get ``MixedSingleTaskGP``,
whose Hamming-distance kernel ignores the (meaningless) order of the categories.
Hyperparameters are fitted by maximising the marginal likelihood with BoTorch's
``fit_gpytorch_mll`` under BoTorch's default priors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP, SingleTaskGP
from botorch.models.gpytorch import GPyTorchModel
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from bayesopt._rng import seeded_torch

__all__ = ["SurrogateError", "fit", "noise_fraction", "standardize"]


class SurrogateError(RuntimeError):
    """The GP could not be built or fitted on this data."""


def standardize(y: Tensor) -> Tensor:
    """Centre and scale ``n`` values to mean 0 and s.d. 1 without overflow.

    A constant vector maps to zeros.

    Args:
        y: ``n`` finite values.

    Returns:
        ``n`` standardised values.
    """
    y = y.to(torch.float64)
    y = y - y.median()
    scale = y.abs().max()
    if not bool(scale > 0):
        return torch.zeros_like(y)
    y = y / scale
    y = y - y.mean()
    sd = y.std() if len(y) > 1 else torch.ones(())
    return y / sd if bool(sd > 0) else torch.zeros_like(y)


def fit(
    X: Tensor,
    y: Tensor,
    *,
    cat_dims: Sequence[int] = (),
    seed: int = 0,
) -> GPyTorchModel:
    """Fit a GP to maximise: ``y`` should already be standardised.

    Args:
        X: ``n x d`` unit-cube inputs.
        y: ``n`` standardised outputs, larger is better.
        cat_dims: indices of categorical coordinates.
        seed: seeds the fit's random restarts (the global RNG is left as it was).

    Returns:
        A fitted BoTorch model in eval mode.

    Raises:
        SurrogateError: the data or the fit is numerically unusable.
    """
    X = X.to(torch.float64)
    Y = y.to(torch.float64).reshape(-1, 1)
    if not (bool(torch.isfinite(X).all()) and bool(torch.isfinite(Y).all())):
        raise SurrogateError("non-finite training data")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if cat_dims:
                model = MixedSingleTaskGP(X, Y, cat_dims=list(cat_dims), outcome_transform=None)
            else:
                model = SingleTaskGP(X, Y, outcome_transform=None)
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            with seeded_torch(seed):
                fit_gpytorch_mll(mll)
    except Exception as exc:  # numerical failures of any kind: the caller falls back
        raise SurrogateError(f"GP fit failed: {type(exc).__name__}: {exc}") from exc
    model.eval()
    if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise SurrogateError("GP fit produced non-finite hyperparameters")
    return model


def noise_fraction(model: GPyTorchModel) -> float:
    """Fitted noise variance as a fraction of the (standardised, unit) output variance."""
    return float(model.likelihood.noise.detach().max())
