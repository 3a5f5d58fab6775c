"""The Gaussian-process numerics: tensors in, tensors out.

Notation (used in every module of this package):

============  ===========================================================================
``U``         points in the unit cube ``[0, 1]^d``, the space every parameter is encoded
              into (``bayesopt.Space.to_unit``); candidates of the acquisition search
``X``         ``n x d`` unit-cube training inputs (``b x d`` for points being scored)
``y``         ``n`` training targets after the output transform: standardised, larger is
              better (the optimiser negates losses)
``n``, ``d``  the number of observations and of coordinates; ``b`` a batch of points
``K``         the ``n x n`` kernel matrix ``k(X, X)``; ``k`` a cross-covariance ``b x n``
``noise``     the Gaussian noise variance added to ``K``'s diagonal
``L``         the lower Cholesky factor of ``K + noise I`` (``linalg.cholesky``)
``m(X)``      the prior mean (a learned constant, or zero)
``alpha``     ``(K + noise I)^-1 (y - m(X))``: the posterior mean is ``m(x) + k alpha``
``W``         ``K^-1 - alpha alpha^T`` (``K`` with noise): the likelihood's gradient
              with respect to ``K`` is ``W / 2``
``ell``       an ARD lengthscale, one per ordinal coordinate; ``r2`` the squared distance
              of lengthscale-scaled inputs, ``sum_k (x_k - x'_k)^2 / ell_k^2``
``s``         ``outputscale``: the kernel's variance factor (1 when not learned)
``best_f``    the incumbent of an improvement-based acquisition, in ``y``'s units
============  ===========================================================================

Modules, one concern each:

- ``transforms``: standardisation, output warps (bilog, Yeo-Johnson) and their inverses;
- ``priors``: hyperparameter priors and their closed-form gradients;
- ``model``: ``ModelOptions``, building the BoTorch model, what a fitted one tells;
- ``kernels``: the learned linear map of ``structure="rotated"``;
- ``linalg``: kernel matrices in bounded memory, the one jittered Cholesky;
- ``mll``: the MAP objective (marginal likelihood plus priors) and its gradient;
- ``fitting``: the MAP fit (``map_fit``) and ``fit``, from tensors to a fitted model;
- ``posterior``: the posterior from one cached factor, LogEI and its gradient;
- ``lognei``: noisy LogEI (Monte Carlo over the incumbent) from the cached factor.

Example:
    >>> import torch
    >>> from bayesopt import gp
    >>> X = torch.rand(10, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> y = gp.transform_outputs(-((X - 0.5) ** 2).sum(1), "yeo-johnson")
    >>> model = gp.fit(X, y, seed=0)
    >>> post = gp.CachedPosterior.from_model(model)
    >>> mean, sigma = post.mean_and_sigma(X[:3])
    >>> mean.shape, bool((sigma > 0).all())
    (torch.Size([3]), True)
"""

from bayesopt.gp.fidelity import FIDELITY_KERNELS, fit_fidelity
from bayesopt.gp.fitting import SurrogateError, fit, map_fit
from bayesopt.gp.kernels import LinearMapKernel
from bayesopt.gp.linalg import Stationary, cholesky, kernel_cholesky, kernel_matrix, stationary
from bayesopt.gp.model import (
    EXACT_CHOLESKY_LIMIT,
    KERNELS,
    LENGTHSCALE_PRIORS,
    MEANS,
    NOISE_MODELS,
    STRUCTURES,
    ModelOptions,
    build,
    exact,
    lengthscales,
    noise_fraction,
)
from bayesopt.gp.posterior import CachedPosterior, log_ei, log_ei_and_gradient
from bayesopt.gp.priors import BoundedLengthscalePrior
from bayesopt.gp.transforms import (
    OUTPUT_WARPS,
    fit_output_transform,
    standardize,
    standardize_threshold,
    to_model_units,
    transform_outputs,
)

__all__ = [
    "EXACT_CHOLESKY_LIMIT",
    "FIDELITY_KERNELS",
    "KERNELS",
    "LENGTHSCALE_PRIORS",
    "MEANS",
    "NOISE_MODELS",
    "OUTPUT_WARPS",
    "STRUCTURES",
    "BoundedLengthscalePrior",
    "CachedPosterior",
    "LinearMapKernel",
    "ModelOptions",
    "Stationary",
    "SurrogateError",
    "build",
    "cholesky",
    "exact",
    "fit",
    "fit_fidelity",
    "fit_output_transform",
    "kernel_cholesky",
    "kernel_matrix",
    "lengthscales",
    "log_ei",
    "log_ei_and_gradient",
    "map_fit",
    "noise_fraction",
    "standardize",
    "standardize_threshold",
    "stationary",
    "to_model_units",
    "transform_outputs",
]
