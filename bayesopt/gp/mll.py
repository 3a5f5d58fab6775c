"""The MAP objective: negative log marginal likelihood plus negative log priors.

Everything here is per observation, as GPyTorch's ``ExactMarginalLogLikelihood`` defines
it, and starts from ``neg_log_likelihood``: one Cholesky factor ``L`` of
``K + noise I`` gives the value and ``W = K^-1 - alpha alpha^T``, against which the
gradient with respect to any kernel parameter ``theta`` is ``tr(W dK/dtheta) / 2``.

Two ways to that gradient, the same numbers (tested):

- ``neg_log_posterior``: autograd through the kernel only (not through the
  factorisation), for any model;
- the closed form for a ``Stationary`` kernel (``objective`` picks it when it applies):
  ``n x n`` array operations without an autograd graph.

``benchmarks/scripts/gp_mll_speed.py`` times both against GPyTorch's marginal likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from botorch.models import SingleTaskGP
from gpytorch.means import ZeroMean
from torch import Tensor

from bayesopt.gp.linalg import Stationary, cholesky, stationary
from bayesopt.gp.priors import closed_form_prior_terms, prior_function

__all__ = ["neg_log_likelihood", "neg_log_posterior", "objective", "objective_function"]

NOISE = "likelihood.noise_covar.raw_noise"
CONSTANT = "mean_module.raw_constant"
KERNEL = "covar_module."


def neg_log_likelihood(matrix: Callable[[], Tensor], r: Tensor) -> tuple[float, Tensor, Tensor]:
    """``-log N(r; 0, K)`` from one Cholesky factor, and the pieces of its gradient.

    Args:
        matrix: returns a fresh ``n x n`` ``K`` (noise included) on each call; it is
            factorised in place by ``linalg.cholesky``.
        r: ``n x 1`` residuals ``y - m(X)``.

    Returns:
        ``(value, alpha, W)``: the negative log marginal likelihood (not divided by
        ``n``), ``alpha = K^-1 r`` (``n x 1``) and ``W = K^-1 - alpha alpha^T``
        (``n x n``); the value's gradient with respect to ``K`` is ``W / 2``.
    """
    with torch.no_grad():
        L = cholesky(matrix)
        alpha = torch.cholesky_solve(r, L)
        W = torch.cholesky_inverse(L)
        W -= alpha @ alpha.T
        value = 0.5 * float((r * alpha).sum()) + float(L.diagonal().log().sum())
        value += 0.5 * len(r) * math.log(2 * math.pi)
    return value, alpha, W


def neg_log_posterior(model: SingleTaskGP) -> tuple[float, Tensor]:
    """Negative log marginal likelihood plus negative log priors, per observation.

    Autograd runs through the kernel, not through the factorisation: the value's gradient
    with respect to ``K`` (``W / 2``) is formed once from the factor, and a proxy tensor
    carries it to the parameters.

    Args:
        model: an exact GP with one output.

    Returns:
        The value, and a proxy tensor whose gradient is the value's gradient.
    """
    X = model.train_inputs[0]
    y = model.train_targets
    n = len(y)
    if getattr(model, "input_transform", None) is not None:
        X = model.input_transform(X)
    K = model.covar_module(X).to_dense()
    eye = torch.eye(n, dtype=K.dtype, device=K.device)
    K = K + model.likelihood.noise.reshape(()) * eye
    mean = model.mean_module(X)
    with torch.no_grad():
        r = (y - mean).unsqueeze(-1)
    value, alpha, W = neg_log_likelihood(lambda: K.detach().clone(), r)
    proxy = 0.5 * (W * K).sum() - (alpha.squeeze(-1) * mean).sum()
    for _, module, prior, closure, _ in model.named_priors():
        log_p = prior.log_prob(closure(module)).sum()
        value -= float(log_p.detach())
        proxy = proxy - log_p
    return value / n, proxy / n


def _stationary_parameters(model: SingleTaskGP, fast: Stationary) -> dict[str, Tensor] | None:
    """The parameters the closed form covers, by name, or ``None`` when the likelihood or
    the mean is of a kind it does not cover."""
    mean = model.mean_module
    zero_mean = isinstance(mean, ZeroMean)
    constant = None if zero_mean else getattr(mean, "raw_constant", None)
    if (
        model.likelihood.noise_covar.raw_noise_constraint.enforced
        or (constant is None and not zero_mean)
        or getattr(mean, "raw_constant_constraint", None) is not None
    ):
        return None
    known = {KERNEL + fast.lengthscale_name: fast.lengthscale}
    known[NOISE] = model.likelihood.noise_covar.raw_noise
    if constant is not None:
        known[CONSTANT] = constant
    if fast.outputscale is not None:
        known[KERNEL + fast.outputscale_name] = fast.outputscale
    return known


def _stationary_objective(
    model: SingleTaskGP, fast: Stationary, params: dict[str, Tensor]
) -> Callable[[], tuple[float, dict[str, Tensor]]] | None:
    """The MAP objective and its gradient in closed form for a ``Stationary`` kernel.

    Same value and gradient as ``neg_log_posterior`` (tested), from ``n x n`` array
    operations only: the gradient is ``tr(W dK) / 2`` per parameter, and for a
    lengthscale ``ell_k`` the sum ``sum_ij W_ij k'_ij (x_ik - x_jk)^2`` reduces to two
    matrix-vector products. Returns a function of no arguments that evaluates it at the
    parameters' current values, or ``None`` when ``model`` has parameters this form does
    not cover (the caller then uses autograd).
    """
    known = _stationary_parameters(model, fast)
    if known is None or any(known.get(name) is not p for name, p in params.items()):
        return None
    X, y = model.train_inputs[0], model.train_targets
    n = len(y)
    noise = known[NOISE]
    constant = known.get(CONSTANT)
    Xa = fast.inputs(X)
    Xa2 = Xa**2
    log_prior = _log_prior_function(model, params)

    def evaluate() -> tuple[float, dict[str, Tensor]]:
        with torch.no_grad():
            ls = fast.lengthscale.reshape(-1)
            scale = fast.scale
            r2 = fast.r2(X, X)
            base, slope = fast.base_and_slope(r2)

            def matrix() -> Tensor:
                K = scale * base
                K.diagonal().add_(noise.reshape(()))
                return K

            r = (y if constant is None else y - constant).unsqueeze(-1)
            value, alpha, W = neg_log_likelihood(matrix, r)
            M = W * slope
            m, S = M.sum(1), M @ Xa
            quad = 2.0 * ((m.unsqueeze(1) * Xa2).sum(0) - (Xa * S).sum(0))
            grads = {
                KERNEL + fast.lengthscale_name: (0.5 * scale * quad / ls**3).reshape(
                    fast.lengthscale.shape
                ),
                NOISE: (0.5 * W.diagonal().sum()).reshape(noise.shape),
            }
            if constant is not None:
                grads[CONSTANT] = (-alpha.sum()).reshape(constant.shape)
            if fast.outputscale is not None:
                grads[KERNEL + fast.outputscale_name] = (0.5 * (W * base).sum()).reshape(())
        log_p, prior_grads = log_prior()
        value -= log_p
        out = {}
        for name in params:
            g = prior_grads.get(name)
            out[name] = grads[name] / n - (0 if g is None else g / n)
        return value / n, out

    return evaluate


def _log_prior_function(
    model: SingleTaskGP, params: dict[str, Tensor]
) -> Callable[[], tuple[float, dict[str, Tensor | None]]]:
    """A function of no arguments giving the log prior (a float) and its gradient by
    parameter name at the parameters' current values: in closed form where
    ``closed_form_prior_terms`` covers the priors (checked once, here), else by autograd."""
    terms = closed_form_prior_terms(model, params)
    if terms is not None:
        return prior_function(terms)

    def by_autograd() -> tuple[float, dict[str, Tensor | None]]:
        first = next(iter(params.values()))
        log_prior = sum(
            (
                prior.log_prob(closure(module)).sum()
                for _, module, prior, closure, _ in model.named_priors()
            ),
            torch.zeros((), dtype=first.dtype, device=first.device),
        )
        if not log_prior.requires_grad:
            return float(log_prior), {}
        grads = torch.autograd.grad(log_prior, list(params.values()), allow_unused=True)
        return float(log_prior.detach()), dict(zip(params, grads, strict=True))

    return by_autograd


def objective_function(
    model: SingleTaskGP, params: dict[str, Tensor]
) -> Callable[[], tuple[float, dict[str, Tensor | None]]]:
    """``objective`` as a function of no arguments, for repeated evaluation.

    What does not change while the parameters' values do (which form applies, the priors,
    the inputs the kernel reads) is worked out once, here; each call evaluates the
    objective at the parameters' current values. ``map_fit`` changes them in place between
    calls. Parameters must not be replaced, nor the model's training data changed.

    Args:
        model: an exact GP with one output, in train mode.
        params: the parameters to differentiate, by their ``named_parameters`` names.

    Returns:
        A function returning what ``objective`` returns.
    """
    if getattr(model, "input_transform", None) is None:
        fast = stationary(model.covar_module)
        closed = None if fast is None else _stationary_objective(model, fast, params)
        if closed is not None:
            return closed

    def by_autograd() -> tuple[float, dict[str, Tensor | None]]:
        value, proxy = neg_log_posterior(model)
        grads = torch.autograd.grad(proxy, list(params.values()), allow_unused=True)
        return value, dict(zip(params, grads, strict=True))

    return by_autograd


def objective(
    model: SingleTaskGP, params: dict[str, Tensor]
) -> tuple[float, dict[str, Tensor | None]]:
    """The MAP objective per observation and its gradient with respect to ``params``.

    Args:
        model: an exact GP with one output, in train mode.
        params: the parameters to differentiate, by their ``named_parameters`` names.

    Returns:
        The value, and the gradient by name (``None`` for a parameter the objective does
        not depend on).
    """
    return objective_function(model, params)()
