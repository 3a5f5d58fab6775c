"""Fit the GP's hyperparameters: the lean MAP fit, and ``fit`` from tensors to a model.

Hyperparameters are the maximum a posteriori estimate, found by one L-BFGS-B run from fixed
starting values (``map_fit``). The model, kernels, priors and constraints are BoTorch's and
GPyTorch's; only the objective is computed here (``gp.mll``), from one plain Cholesky
factorisation, in place of GPyTorch's generic marginal-likelihood path: one evaluation
with its gradient took 27.5 ms against 39.9 ms at 512 points and 1.7 ms against 6.7 ms at
200 (one thread, ``benchmarks/scripts/gp_mll_speed.py``; the output is in
``benchmarks/results/latency/loop_fit_speed/gp_mll_speed.txt``).

With more than ``ModelOptions.fit_points`` observations the hyperparameters are fitted on
a deterministic subset (the best half and a seeded random half) and the GP is then
conditioned on all the data; see ``fit``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from botorch.models import SingleTaskGP
from botorch.models.gpytorch import GPyTorchModel
from botorch.optim.utils import get_parameters_and_bounds
from gpytorch.kernels import MaternKernel, RBFKernel
from scipy.optimize import minimize as scipy_minimize
from torch import Tensor

from bayesopt._rng import seeded_torch
from bayesopt.gp.mll import objective_function
from bayesopt.gp.model import ModelOptions, build, exact

__all__ = ["SurrogateError", "fit", "map_fit"]


class SurrogateError(RuntimeError):
    """Non-finite training data, or a fit that produced non-finite hyperparameters."""


def _fit_subset(y: Tensor, m: int, seed: int) -> Tensor:
    """Indices of ``m`` of the ``n`` points: the best ``m // 2`` and a seeded random rest."""
    order = torch.argsort(y, descending=True, stable=True)
    top, rest = order[: m // 2], order[m // 2 :]
    gen = torch.Generator().manual_seed(seed)
    pick = rest[torch.randperm(len(rest), generator=gen).to(rest.device)[: m - len(top)]]
    return torch.sort(torch.cat([top, pick])).values


def map_fit(model: SingleTaskGP, *, maxiter: int = 200, ftol: float = 1e-9) -> float:
    """Set ``model``'s hyperparameters to their MAP estimate, in place (L-BFGS-B).

    The parameters and their bounds are BoTorch's (``get_parameters_and_bounds``).
    Parameters with a positive lower bound (lengthscales, scales, noise) are searched in
    log space, where a step means the same relative change at any scale. The objective
    (``gp.mll.objective_function``) is the exact negative log marginal likelihood plus the log
    priors of every registered GPyTorch prior, per observation, as
    ``ExactMarginalLogLikelihood`` defines it. The model is left in eval mode.

    Args:
        model: an exact GP with one output, in the parameter state to start from.
        maxiter: L-BFGS-B iterations.
        ftol: L-BFGS-B's relative tolerance on the objective.

    Returns:
        The final objective value.
    """
    params, bounds = get_parameters_and_bounds(model, requires_grad=True)
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]

    def bound(k: str, side: int, default: float) -> float:
        value = bounds.get(k, (None, None))[side]
        return default if value is None else float(value)

    pairs = list(zip(names, sizes, strict=True))
    lo = np.concatenate([np.full(sz, bound(k, 0, -np.inf)) for k, sz in pairs])
    hi = np.concatenate([np.full(sz, bound(k, 1, np.inf)) for k, sz in pairs])
    logged = lo > 0  # positive parameters: optimise their logarithm
    z_lo = np.where(logged, np.log(np.where(logged, lo, 1.0)), lo)
    z_hi = np.where(logged & np.isfinite(hi), np.log(np.where(logged, hi, 1.0)), hi)
    z_hi = np.where(logged & ~np.isfinite(hi), np.inf, z_hi)

    def natural(z: np.ndarray) -> np.ndarray:
        return np.where(logged, np.exp(np.where(logged, z, 0.0)), z)

    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()

    def assign(x: np.ndarray) -> None:
        flat = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
        with torch.no_grad():
            for k, start, stop, shape in zip(names, offsets[:-1], offsets[1:], shapes, strict=True):
                params[k].copy_(flat[start:stop].view(shape))

    evaluate = objective_function(model, params)

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        x = natural(z)
        assign(x)
        value, grads = evaluate()
        grad = np.zeros(len(z))
        for k, start, stop in zip(names, offsets[:-1], offsets[1:], strict=True):
            if grads[k] is not None:
                grad[start:stop] = grads[k].detach().reshape(-1).cpu().numpy()
        grad = np.where(logged, grad * x, grad)
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            return 1e10, np.zeros_like(z)
        return value, grad

    x0 = np.concatenate([params[k].detach().reshape(-1).cpu().numpy() for k in names])
    x0 = np.clip(x0, lo, hi)
    z0 = np.where(logged, np.log(np.where(logged, x0, 1.0)), x0)
    model.train()
    res = scipy_minimize(
        objective,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(z_lo, z_hi, strict=True)),
        options={"maxiter": maxiter, "ftol": ftol},
    )
    assign(natural(res.x))
    model.eval()
    return float(res.fun)


FIT_STARTS: tuple[float | None, ...] = (None, 0.2, 3.0, 0.05, 1.0, 10.0)
"""Initial lengthscales of the MAP restarts (``ModelOptions.fit_restarts``), in unit-cube
units: the kernel's own initial values first (``None``), then short and long ones."""


def _set_lengthscales(model: GPyTorchModel, value: float) -> None:
    """Set every ordinal lengthscale of ``model``'s kernel to ``value``."""
    for module in model.covar_module.modules():
        if isinstance(module, MaternKernel | RBFKernel):
            module.lengthscale = torch.full_like(module.lengthscale, value)


def _map_fits(
    X: Tensor, y: Tensor, cat_dims: Sequence[int], seed: int, options: ModelOptions
) -> tuple[GPyTorchModel, float]:
    """The MAP fit from each of ``options.fit_restarts`` starts; the best model and its
    objective (per observation; ties keep the first, default start)."""
    best = math.inf
    for lengthscale in FIT_STARTS[: options.fit_restarts]:
        candidate = build(X, y, cat_dims=cat_dims, options=options)
        if lengthscale is not None:
            _set_lengthscales(candidate, lengthscale)
        with seeded_torch(seed):
            loss = map_fit(candidate, maxiter=options.fit_maxiter)
        if loss < best or lengthscale is None:
            model, best = candidate, loss
    return model, best


def fit(
    X: Tensor,
    y: Tensor,
    *,
    cat_dims: Sequence[int] = (),
    seed: int = 0,
    options: ModelOptions | None = None,
) -> GPyTorchModel:
    """Fit a GP to maximise: ``y`` should already be standardised.

    With ``options.fit_restarts > 1`` the MAP fit is run from that many initial
    lengthscales (``FIT_STARTS``) and the fit with the best objective is kept. With
    ``options.structure == "auto"`` the ARD and the rotated kernel are both fitted, and
    the rotated one is kept only if its log posterior beats the ARD one's by more than
    BIC's penalty for its extra hyperparameters (half a ``log n`` each).

    With ``n > options.fit_points`` observations, the hyperparameters are fitted on
    ``fit_points`` of them (the best half and a seeded random half) and the returned GP
    conditions on all ``n`` with those hyperparameters. The marginal likelihood's cost is
    cubic in the points it sees, and hyperparameters estimated from a few hundred points
    barely move with more; the posterior itself stays exact.

    Args:
        X: ``n x d`` unit-cube inputs.
        y: ``n`` standardised outputs, larger is better.
        cat_dims: indices of categorical coordinates.
        seed: seeds the subset choice and anything random in the fit (the global RNG is
            left as it was).
        options: the model's settings.

    Returns:
        A fitted BoTorch model in eval mode.

    Raises:
        SurrogateError: non-finite training data or fitted hyperparameters.
        linear_operator.utils.errors.NotPSDError, torch.linalg.LinAlgError: a kernel matrix
            could not be factorised.
    """
    options = options or ModelOptions()
    X = X.to(torch.float64)
    y = y.to(torch.float64).reshape(-1)
    if not (bool(torch.isfinite(X).all()) and bool(torch.isfinite(y).all())):
        raise SurrogateError("non-finite training data")
    subset = len(y) > options.fit_points
    idx = _fit_subset(y, options.fit_points, seed) if subset else None
    # Numerical failures (NotPSDError, LinAlgError, ModelFittingError) propagate with their
    # own types, for the caller to handle; so does every other error, which is a bug.
    X_fit, y_fit = (X[idx], y[idx]) if subset else (X, y)
    with warnings.catch_warnings(), exact():
        warnings.simplefilter("ignore")
        model, loss = _map_fits(X_fit, y_fit, cat_dims, seed, options)
        k = X.shape[-1] - len(set(cat_dims))
        if options.structure == "auto" and k >= 2:
            rotated = replace(options, structure="rotated")
            other, other_loss = _map_fits(X_fit, y_fit, cat_dims, seed, rotated)
            # BIC: the map's k (k - 1) / 2 entries must buy half a log(n) nats each.
            n = len(y_fit)
            if n * (loss - other_loss) > 0.25 * k * (k - 1) * math.log(n):
                model, options = other, rotated
        if subset:
            fitted = model
            model = build(X, y, cat_dims=cat_dims, options=options)
            model.load_state_dict(fitted.state_dict(), strict=True)
    model.eval()
    if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise SurrogateError("GP fit produced non-finite hyperparameters")
    return model
