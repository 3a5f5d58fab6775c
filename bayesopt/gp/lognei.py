"""Noisy LogEI of one point from the cached factor: the incumbent integrated over.

On a GP that fits noise the best observation is uncertain, and BoTorch's
``qLogNoisyExpectedImprovement`` (qLogNEI) integrates over it by Monte Carlo: for each
sample of the joint posterior at the candidate ``x`` and at the observed points that may
be best (the pruned baseline ``B``), the smoothed improvement of ``f(x)`` over
``max_j f(b_j)``, averaged in log space. For one candidate and nothing pending this module
computes the same estimator without GPyTorch's prediction machinery.

The baseline's samples do not depend on ``x``, so they are drawn once: with the
posterior covariance ``S_B = L_B L_B^T`` at ``B`` and base samples ``Z_B``,
``f(B) = mu_B + Z_B L_B^T`` and the incumbent of sample ``s`` is ``M_s = max_j f_s(b_j)``.
Given them, ``f(x)`` is Gaussian with the conditional form
``f_s(x) = mu(x) + Z_B[s] . w + sqrt(var(x) - |w|^2) z_s`` where
``w = L_B^-1 cov(B, x)``; each call costs the closed-form posterior at ``x``
(``CachedPosterior.moments``), the ``k`` cross-covariances to the baseline and a ``k x k``
triangular solve; ``log_nei_and_gradient`` adds the gradient in closed form for a
``Stationary`` kernel. BoTorch's ``cache_root`` path samples the same conditional (a low-rank
update of the baseline's root), but through a joint GPyTorch posterior at ``B`` and ``x``
at every call.

The baseline is pruned as BoTorch's ``prune_inferior_points`` does: the observed points
that are the maximum of at least one of ``PRUNE_SAMPLES`` joint posterior samples. Pending
points join the baseline after pruning, so that a greedy batch's next point is scored
against the samples of the points already chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from botorch.acquisition.logei import TAU_RELU
from botorch.utils.safe_math import log_fatplus, logmeanexp
from botorch.utils.sampling import draw_sobol_normal_samples
from torch import Tensor
from torch.quasirandom import SobolEngine

from bayesopt.gp.linalg import cholesky
from bayesopt.gp.posterior import CachedPosterior, kernel_gradient

__all__ = [
    "PRUNE_SAMPLES",
    "PRUNE_SIGMAS",
    "NoisyIncumbent",
    "log_nei",
    "log_nei_and_gradient",
    "prune",
]

PRUNE_SAMPLES = 2048
"""Joint posterior samples at the observed points that decide which may be the best
(BoTorch's ``prune_inferior_points`` default)."""
PRUNE_SIGMAS = 7.0
"""Rows whose ``mean + PRUNE_SIGMAS sd`` is below another row's ``mean - PRUNE_SIGMAS sd``
cannot be the best in any sample that matters, and are not sampled."""


@dataclass(frozen=True, eq=False)
class NoisyIncumbent:
    """The Monte-Carlo incumbent of noisy LogEI, drawn once per fitted model.

    Build it with ``draw``.

    Attributes:
        post: the cached posterior of the model.
        B: ``k x d`` points the incumbent is the maximum over: the observed points that
            may be the best (``prune``), then any pending points, whose unknown values
            are sampled jointly with them (as BoTorch's incremental qLogNEI does).
        vB: ``n x k`` solves ``L^-1 k(X_train, B)``.
        L_B: ``k x k`` lower Cholesky factor of the posterior covariance at ``B``.
        Z_B: ``S x k`` base samples of the baseline.
        z: ``S`` base samples of the candidate's independent part.
        best: ``S`` incumbents ``max_j f_s(b_j)``.
        A: ``n x k`` solves ``L^-T vB`` (for the closed-form gradient).
    """

    post: CachedPosterior
    B: Tensor
    vB: Tensor
    L_B: Tensor
    Z_B: Tensor
    z: Tensor
    best: Tensor
    A: Tensor

    @classmethod
    @torch.no_grad()
    def draw(cls, post: CachedPosterior, B: Tensor, *, samples: int, seed: int) -> NoisyIncumbent:
        """Draw the incumbent's ``samples`` samples over the points ``B``.

        Args:
            post: the cached posterior.
            B: ``k x d`` points (see the attribute).
            samples: the number of Monte-Carlo samples ``S``.
            seed: seeds the scrambled Sobol base samples.
        """
        mean, vB, cov = _joint(post, B)
        L_B = cholesky(lambda: cov.clone())
        base = _normal(len(B) + 1, samples, dtype=B.dtype, seed=seed).to(B.device)
        Z_B, z = base[:, :-1], base[:, -1]
        best = (mean + Z_B @ L_B.mT).amax(-1)
        A = torch.linalg.solve_triangular(post.L.mT, vB, upper=True)
        return cls(post=post, B=B, vB=vB, L_B=L_B, Z_B=Z_B, z=z, best=best, A=A)


def _joint(post: CachedPosterior, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Posterior mean (``m``), solves ``L^-1 k(X_train, X)`` (``n x m``) and covariance
    (``m x m``) at ``m x d`` points."""
    _, mean, v, _ = post.moments(X)
    return mean, v, post.covariance(X, X) - v.mT @ v


def prune(post: CachedPosterior, X: Tensor, *, seed: int) -> Tensor:
    """The rows of ``X`` that are the maximum of at least one of ``PRUNE_SAMPLES`` joint
    posterior samples (``X`` itself when it has one row).

    Only the rows whose marginal interval ``mean +- PRUNE_SIGMAS sd`` reaches the highest
    lower end are sampled (a row below it beats the row of that lower end with
    probability below 1e-11), so the joint sample is over a handful of rows however many there are.
    Rows keep their order in ``X``.
    """
    if len(X) <= 1:
        return X
    _, mean, _, var = post.moments(X)
    sd = var.clamp_min(0.0).sqrt()
    live = torch.nonzero(mean + PRUNE_SIGMAS * sd >= (mean - PRUNE_SIGMAS * sd).max()).reshape(-1)
    if len(live) == 1:
        return X[live]
    mean, _, cov = _joint(post, X[live])
    L = cholesky(lambda: cov.clone())
    base = _normal(len(live), PRUNE_SAMPLES, dtype=X.dtype, seed=seed).to(X.device)
    winners = torch.unique((mean + base @ L.mT).argmax(-1))  # sorted
    return X[live[winners]]


def _normal(dim: int, n: int, *, dtype: torch.dtype, seed: int) -> Tensor:
    """``n x dim`` scrambled Sobol normal samples (seeded i.i.d. ones beyond Sobol's
    largest dimension)."""
    if dim <= SobolEngine.MAXDIM:
        return draw_sobol_normal_samples(dim, n, dtype=dtype, seed=seed)
    return torch.randn(n, dim, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def log_nei(inc: NoisyIncumbent, X: Tensor) -> Tensor:
    """Noisy LogEI at ``b x d`` points, as a ``b`` tensor (differentiable in ``X``).

    The log of the mean over samples of the smoothed improvement
    ``log_fatplus(f_s(x) - M_s)`` at BoTorch's temperature ``TAU_RELU``: qLogNEI's value
    for ``q = 1`` with the incumbent drawn as ``NoisyIncumbent`` draws it.
    """
    _, mean, v, var = inc.post.moments(X)
    _, _, gap = _gaps(inc, mean, v, var, inc.post.covariance(inc.B, X))
    return logmeanexp(log_fatplus(gap, tau=TAU_RELU), dim=0)


def _gaps(
    inc: NoisyIncumbent, mean: Tensor, v: Tensor, var: Tensor, cross: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The candidates' samples given the baseline's, less the incumbents.

    Args:
        inc: the incumbent.
        mean, v, var: ``CachedPosterior.moments`` at ``b`` candidates.
        cross: ``k x b`` prior covariances ``k(B, X)``.

    Returns:
        ``(w, raw, gap)``: ``w = L_B^-1 (cross - vB^T v)`` (``k x b``), the conditional
        variances ``var - |w|^2`` (``b``, unclamped) and the ``S x b`` gaps
        ``f_s(x) - M_s``.
    """
    w = torch.linalg.solve_triangular(inc.L_B, cross - inc.vB.mT @ v, upper=False)
    raw = var - (w**2).sum(0)
    f = mean + inc.Z_B @ w + inc.z.unsqueeze(-1) * raw.clamp_min(1e-12).sqrt()
    return w, raw, f - inc.best.unsqueeze(-1)


@torch.no_grad()
def log_nei_and_gradient(inc: NoisyIncumbent, X: Tensor) -> tuple[Tensor, Tensor]:
    """``log_nei`` at ``b x d`` points and its gradient in ``X``, in closed form.

    Needs ``inc.post.has_gradient``. With ``g_s`` the derivative of the value in the
    sample ``f_s(x)`` (a softmax over samples times ``d log_fatplus``), ``G = sum_s g_s``,
    ``a = Z_B^T g``, ``h = z . g`` and ``sd = sqrt(var - |w|^2)``, the gradient is
    ``G dmu + (h / 2 sd) dvar + (a - h w / sd) . dw``; each term is a weighted sum of
    kernel gradients at the training points and at the baseline (``kernel_gradient``).

    Returns:
        ``(values, gradients)`` of shapes ``b`` and ``b x d``.
    """
    post, fast = inc.post, inc.post.fast
    r2, mean, v, var = post.moments(X)  # r2: b x n, v: n x b
    B_in = fast.inputs(inc.B)
    r2_B = fast.r2(X, inc.B)  # b x k
    w, raw, gap = _gaps(inc, mean, v, var, (fast.scale * fast.base_of_r2(r2_B)).mT)
    sd = raw.clamp_min(1e-12).sqrt()
    log_imp = log_fatplus(gap, tau=TAU_RELU)
    value = logmeanexp(log_imp, dim=0)
    # log_fatplus(x) = log(tau F(t)), t = x / tau, F(t) = softplus(t) + cauchy(t) / 10:
    # its slope is F'(t) / (tau F(t)) = F'(t) exp(-log_fatplus(x)).
    t = gap / TAU_RELU
    slope = torch.sigmoid(t) - 0.2 * t / (1.0 + t**2) ** 2
    g = torch.softmax(log_imp, dim=0) * slope * torch.exp(-log_imp)  # S x b
    G = g.sum(0)
    h = torch.where(raw > 1e-12, (inc.z.unsqueeze(-1) * g).sum(0) / sd, 0.0)  # b
    u = torch.linalg.solve_triangular(inc.L_B.mT, inc.Z_B.mT @ g - h * w, upper=True)  # k x b
    w_train = torch.linalg.solve_triangular(post.L.mT, v, upper=True)  # n x b
    train = G * post.alpha.unsqueeze(-1) - h * w_train - inc.A @ u  # n x b
    grad = kernel_gradient(fast, X, post.active, r2, train.mT)
    grad = grad + kernel_gradient(fast, X, B_in, r2_B, u.mT)
    return value, grad
