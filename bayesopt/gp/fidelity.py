"""A GP over configurations and their budget: the surrogate of multi-fidelity asks.

Inputs are ``n x (d + 1)``: the ``d`` unit-cube coordinates of a configuration, then its
budget ``s`` in ``[0, 1]`` (``bayesopt.multifidelity.Fidelity.to_unit``: the log of the
step between the smallest budget, 0, and the full one, 1, the target fidelity). Targets
are standardised and larger is better, as for ``gp.fit``.

Kernels (``FIDELITY_KERNELS``), each scaled by a learned output scale:

================  ==========================================================================
``matern``        one ARD Matérn 5/2 over all ``d + 1`` coordinates: the budget is one more
                  input, with its own lengthscale (the model of ``gp.fit``)
``exp-decay``     Matérn 5/2 over the configuration (shaped by ``ModelOptions.structure``)
                  times BoTorch's ``ExponentialDecayKernel`` over the budget, the
                  learning-curve kernel of Wu et al. (2019)
``linear-trunc``  BoTorch's ``LinearTruncatedFidelityKernel`` (Matérn 5/2 over the
                  configuration, a polynomial in the budget)
================  ==========================================================================

``benchmarks/results/multifidelity/REPORT.md`` measures them against each other.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from botorch.models import SingleTaskGP
from botorch.models.kernels import ExponentialDecayKernel, LinearTruncatedFidelityKernel
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import Kernel, ScaleKernel
from gpytorch.means import ConstantMean
from gpytorch.priors import GammaPrior
from torch import Tensor

from bayesopt._rng import seeded_torch
from bayesopt.gp.fitting import SurrogateError, fit, map_fit
from bayesopt.gp.model import ModelOptions, _likelihood, exact, ordinal_kernel
from bayesopt.gp.priors import gamma_prior

__all__ = ["FIDELITY_KERNELS", "fit_fidelity"]

FIDELITY_KERNELS = ("matern", "exp-decay", "linear-trunc")


def _kernel(d: int, kernel: str, options: ModelOptions) -> Kernel:
    """The covariance over ``d`` configuration coordinates and the budget (column ``d``)."""
    if kernel == "linear-trunc":
        base: Kernel = LinearTruncatedFidelityKernel(
            fidelity_dims=[d], dimension=d + 1, nu=2.5, power_prior=GammaPrior(3.0, 3.0)
        )
    else:
        decay = ExponentialDecayKernel(
            lengthscale_prior=GammaPrior(3.0, 6.0),
            offset_prior=GammaPrior(3.0, 6.0),
            power_prior=GammaPrior(3.0, 6.0),
            active_dims=[d],
        )
        base = ordinal_kernel(list(range(d)), options)[0] * decay
    return ScaleKernel(
        base,
        outputscale_prior=gamma_prior(2.0, 1.0),
        outputscale_constraint=GreaterThan(1e-4, transform=None, initial_value=1.0),
    )


def fit_fidelity(
    X: Tensor,
    y: Tensor,
    *,
    kernel: str = "matern",
    cat_dims: Sequence[int] = (),
    seed: int = 0,
    options: ModelOptions | None = None,
) -> SingleTaskGP:
    """Fit a GP on configurations and budgets (the MAP fit of ``gp.fit``).

    Args:
        X: ``n x (d + 1)`` inputs: unit-cube configurations, then the budget in ``[0, 1]``.
        y: ``n`` standardised outputs, larger is better.
        kernel: one of ``FIDELITY_KERNELS``.
        cat_dims: indices of categorical configuration coordinates (``"matern"`` only;
            the others treat every configuration coordinate as ordinal).
        seed: seeds anything random in the fit (the global RNG is left as it was).
        options: the model's settings (kernel family, priors, noise); ``kernel="matern"``
            uses them all, the others their lengthscale prior and noise model.

    Returns:
        A fitted ``SingleTaskGP`` in eval mode.

    Raises:
        ValueError: ``kernel`` is unknown.
        SurrogateError: non-finite data or fitted hyperparameters.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> X = torch.rand(12, 3, generator=g, dtype=torch.float64)
        >>> y = -(X[:, 0] - 0.5) ** 2 + 0.3 * X[:, -1]
        >>> model = fit_fidelity(X, (y - y.mean()) / y.std(), kernel="exp-decay")
        >>> model.posterior(X[:2]).mean.shape
        torch.Size([2, 1])
    """
    if kernel not in FIDELITY_KERNELS:
        raise ValueError(f"`kernel` must be one of {FIDELITY_KERNELS}, but got {kernel!r}.")
    options = options or ModelOptions()
    if kernel == "matern":
        return fit(X, y, cat_dims=cat_dims, seed=seed, options=options)
    X = X.to(torch.float64)
    y = y.to(torch.float64).reshape(-1)
    if not (bool(torch.isfinite(X).all()) and bool(torch.isfinite(y).all())):
        raise SurrogateError("non-finite training data")
    d = X.shape[-1] - 1
    with warnings.catch_warnings(), exact():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(
            X,
            y.reshape(-1, 1),
            likelihood=_likelihood(options),
            covar_module=_kernel(d, kernel, options),
            mean_module=ConstantMean(),
            outcome_transform=None,
        ).to(X.device)
        with seeded_torch(seed):
            map_fit(model, maxiter=options.fit_maxiter)
    model.eval()
    if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise SurrogateError("GP fit produced non-finite hyperparameters")
    return model
