"""Build and fit the Gaussian-process surrogate from tensors.

Inputs live in the unit cube; outputs are standardised here (robustly, so that objectives
of scale 1e-9 or 1e9 look alike to the GP), optionally after a bilog or Yeo-Johnson warp
for heavy-tailed objectives. The model is BoTorch's ``SingleTaskGP`` with a kernel, priors
and noise model chosen by ``ModelOptions``; every choice there was measured in the
benchmark suite's factor study (``benchmarks/results/ablation/REPORT.md``).

Categorical coordinates get BoTorch's ``CategoricalKernel`` (Hamming distance, which
ignores the meaningless order of the categories), multiplied with the kernel over the
ordinal coordinates. We measured ``MixedSingleTaskGP``'s sum-plus-product kernel at about
6 s per fit on a 3-parameter mixed space, against a fraction of that for one product.

Hyperparameters are the maximum a posteriori estimate, found by one L-BFGS-B run from fixed
starting values (``map_fit``). The model, kernels, priors and constraints are BoTorch's and
GPyTorch's; only the objective is computed here, with one plain Cholesky factorisation,
because GPyTorch's generic marginal-likelihood path cost 3 to 7 times as much per
iteration in our profiles (70 ms against 15 ms at 512 points). With more than
``ModelOptions.fit_points`` observations they are fitted on a deterministic subset (the
best half and a seeded random half) and the GP is then conditioned on all the data; see
``fit``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import gpytorch
import numpy as np
import scipy.stats
import torch
from botorch.models import SingleTaskGP
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.input import Warp
from botorch.models.utils.gpytorch_modules import (
    get_covar_module_with_dim_scaled_prior,
    get_gaussian_likelihood_with_lognormal_prior,
)
from botorch.optim.utils import get_parameters_and_bounds
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import Kernel, MaternKernel, RBFKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean, ZeroMean
from gpytorch.priors import GammaPrior, Prior
from scipy.optimize import minimize as scipy_minimize
from torch import Tensor
from torch.distributions import constraints

from bayesopt._linalg import JITTERS, Stationary, stationary
from bayesopt._rng import seeded_torch

__all__ = [
    "EXACT_CHOLESKY_LIMIT",
    "KERNELS",
    "LENGTHSCALE_PRIORS",
    "MEANS",
    "NOISE_MODELS",
    "OUTPUT_WARPS",
    "ModelOptions",
    "SurrogateError",
    "build",
    "exact",
    "fit",
    "lengthscales",
    "map_fit",
    "noise_fraction",
    "standardize",
    "transform_outputs",
]

KERNELS = ("matern52", "rbf")
LENGTHSCALE_PRIORS = ("bounded", "dim-scaled")
NOISE_MODELS = ("low", "botorch")
OUTPUT_WARPS = ("none", "bilog", "yeo-johnson")
MEANS = ("constant", "zero")

EXACT_CHOLESKY_LIMIT = 10**6
"""GPyTorch switches from Cholesky to conjugate gradients above 800 points by default,
which is slower and approximate. We always factorise exactly (up to this size)."""

LOW_NOISE_FLOOR = 1e-6
BOTORCH_NOISE_FLOOR = 1e-4


class SurrogateError(RuntimeError):
    """Non-finite training data, or a fit that produced non-finite hyperparameters."""


@dataclass(frozen=True)
class ModelOptions:
    """How the GP surrogate is built and fitted.

    Attributes:
        kernel: ``"matern52"`` (Matérn 5/2) or ``"rbf"``, with one lengthscale per
            ordinal coordinate (ARD).
        outputscale: learn an output scale (``ScaleKernel`` with a Gamma(2, 1) prior);
            ``False`` fixes it at 1, BoTorch's default.
        lengthscale_prior: ``"bounded"``: log-density ``-0.1 (l**2 + 1/l**2)``, which keeps
            lengthscales of unit-cube inputs within about 0.2 to 5; ``"dim-scaled"``:
            BoTorch's LogNormal prior scaled with the dimension (nearly flat from 0.025
            to 10).
        noise: ``"low"``: noise variance floor 1e-6 with a Gamma(1.1, 30) prior, nearly
            flat below 1e-2, so that the GP can interpolate noiseless objectives but still
            learns real noise; ``"botorch"``: BoTorch's floor of 1e-4 and LogNormal(-4, 1)
            prior.
        warp: learn a Kumaraswamy input warping of the continuous coordinates (BoTorch's
            ``Warp``).
        output_warp: ``"yeo-johnson"`` (the default: a power transform fitted by
            maximum likelihood to the standardised outputs, then standardised again),
            ``"bilog"`` (``sign(y) log(1 + |y|)``) or ``"none"``. Yeo-Johnson won the factor
            study on Hartmann-6, Rosenbrock-4 and RF-wine and tied everywhere else: it
            pulls in the long tail of bad values, so the GP spends its flexibility near
            the good ones.
        fit_points: hyperparameters are fitted on at most this many observations.
        max_exact: the GP conditions on at most this many observations; beyond, on the
            ``max_exact`` nearest to the best ones (a local model; see ``Optimizer``).
        fit_maxiter: L-BFGS-B iterations of the hyperparameter fit.
        mean: ``"constant"`` (a learned constant, BoTorch's default) or ``"zero"`` (the
            standardised outputs' mean, as Optuna's GP sampler has it).
    """

    kernel: str = "matern52"
    outputscale: bool = True
    lengthscale_prior: str = "bounded"
    noise: str = "low"
    warp: bool = False
    output_warp: str = "yeo-johnson"
    fit_points: int = 512
    max_exact: int = 20_000
    fit_maxiter: int = 200
    mean: str = "constant"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kernel", KERNELS),
            ("lengthscale_prior", LENGTHSCALE_PRIORS),
            ("noise", NOISE_MODELS),
            ("output_warp", OUTPUT_WARPS),
            ("mean", MEANS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(
                    f"ModelOptions: `{name}` must be one of {allowed}, but got {value!r}."
                )
        for name in ("outputscale", "warp"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"ModelOptions: `{name}` must be a bool, but got {getattr(self, name)!r}."
                )
        for name, least in (("fit_points", 8), ("max_exact", 8), ("fit_maxiter", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"ModelOptions: `{name}` must be an int, but got {value!r}.")
            if value < least:
                raise ValueError(f"ModelOptions: `{name} >= {least}` must hold, but got {value}.")

    @classmethod
    def botorch(cls) -> ModelOptions:
        """BoTorch's ``SingleTaskGP`` defaults: RBF, no output scale, dim-scaled prior,
        noise floor 1e-4, no output transform (bayesopt's default before the factor
        study)."""
        return cls(
            kernel="rbf",
            outputscale=False,
            lengthscale_prior="dim-scaled",
            noise="botorch",
            output_warp="none",
        )


def exact() -> gpytorch.settings.max_cholesky_size:
    """A context in which GPyTorch factorises exactly instead of running CG."""
    return gpytorch.settings.max_cholesky_size(EXACT_CHOLESKY_LIMIT)


def _standardizer(y: Tensor) -> tuple[float, float, float, float]:
    """``(median, spread, mean, sd)`` with ``standardize(y)`` equal to
    ``((y - median) / spread - mean) / sd``; ``spread`` or ``sd`` is 0 for a constant."""
    y = y.to(torch.float64)
    median = float(y.median())
    spread = float((y - median).abs().max())
    if not spread > 0:
        return median, 0.0, 0.0, 0.0
    u = (y - median) / spread
    mean = float(u.mean())
    sd = float((u - mean).std()) if len(u) > 1 else 1.0
    return median, spread, mean, sd


def standardize(y: Tensor) -> Tensor:
    """Centre and scale ``n`` values to mean 0 and s.d. 1 without overflow.

    A constant vector maps to zeros.

    Args:
        y: ``n`` finite values.

    Returns:
        ``n`` standardised values.
    """
    median, spread, mean, sd = _standardizer(y)
    if not (spread > 0 and sd > 0):
        return torch.zeros_like(y, dtype=torch.float64)
    return ((y.to(torch.float64) - median) / spread - mean) / sd


def _unstandardize(params: tuple[float, float, float, float], v: np.ndarray) -> np.ndarray:
    """The inverse of ``standardize`` with ``_standardizer``'s parameters (a constant input
    maps everything back to its value)."""
    median, spread, mean, sd = params
    return median + spread * (mean + sd * np.asarray(v, dtype=float))


def _yeo_johnson_inverse(x: np.ndarray, lam: float) -> np.ndarray:
    """The inverse of the Yeo-Johnson transform with parameter ``lam``."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    with np.errstate(all="ignore"):
        if abs(lam) < 1e-12:
            out[pos] = np.expm1(x[pos])
        else:
            out[pos] = np.power(np.maximum(lam * x[pos] + 1.0, 0.0), 1.0 / lam) - 1.0
        if abs(lam - 2.0) < 1e-12:
            out[~pos] = -np.expm1(-x[~pos])
        else:
            base = np.maximum(1.0 - (2.0 - lam) * x[~pos], 0.0)
            out[~pos] = 1.0 - np.power(base, 1.0 / (2.0 - lam))
    return out


def fit_output_transform(
    y: Tensor, warp: str = "none"
) -> tuple[Tensor, Callable[[np.ndarray], np.ndarray]]:
    """``transform_outputs`` together with its inverse (model units back to ``y``'s).

    Args:
        y: ``n`` finite values (larger is better).
        warp: one of ``OUTPUT_WARPS``.

    Returns:
        The transformed values and a function mapping an array of model-space values back
        to ``y``'s units: exact (up to rounding) within the range of the transformed
        values, continued linearly beyond it, monotone everywhere.
    """
    if warp not in OUTPUT_WARPS:
        raise ValueError(f"`warp` must be one of {OUTPUT_WARPS}, but got {warp!r}.")
    y = y.to(torch.float64)
    first = _standardizer(y)
    z = standardize(y)
    if warp == "none" or len(z) < 3 or not bool(z.abs().max() > 0):
        return z, lambda v: _unstandardize(first, v)
    if warp == "bilog":
        warped = torch.sign(z) * torch.log1p(z.abs())

        def unwarp(u: np.ndarray) -> np.ndarray:
            return np.sign(u) * np.expm1(np.abs(u))

    else:  # yeo-johnson
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, lam = scipy.stats.yeojohnson(z.numpy())
        warped = torch.as_tensor(np.asarray(out, dtype=np.float64))
        if not bool(torch.isfinite(warped).all()):
            return z, lambda v: _unstandardize(first, v)

        def unwarp(u: np.ndarray) -> np.ndarray:
            return _yeo_johnson_inverse(u, float(lam))

    values = standardize(warped)
    lo, hi = float(values.min()), float(values.max())

    def exact(v: np.ndarray) -> np.ndarray:
        return _unstandardize(first, unwarp(_unstandardize(_standardizer(warped), v)))

    def inverse(v: np.ndarray) -> np.ndarray:
        # A power transform can have a bounded range (Yeo-Johnson with lambda > 2 or
        # < 0): exact within the data's range, continued linearly beyond it. Computed
        # only when called (by plots), so the ask path pays nothing for it.
        step = 1e-6 * max(hi - lo, 1e-12)
        f = exact(np.array([lo, lo + step, hi - step, hi]))
        slope_lo, slope_hi = (f[1] - f[0]) / step, (f[3] - f[2]) / step
        v = np.asarray(v, dtype=float)
        inside = exact(np.clip(v, lo, hi))
        return inside + slope_lo * np.minimum(v - lo, 0.0) + slope_hi * np.maximum(v - hi, 0.0)

    return values, inverse


def transform_outputs(y: Tensor, warp: str = "none") -> Tensor:
    """Standardise ``y``, optionally warp it, and standardise again.

    Args:
        y: ``n`` finite values (larger is better).
        warp: one of ``OUTPUT_WARPS``.

    Returns:
        ``n`` values with mean 0 and s.d. 1 (zeros for a constant input), order preserved.
    """
    return fit_output_transform(y, warp)[0]


class BoundedLengthscalePrior(Prior):
    """Log-density ``-a (l**2 + 1/l**2)`` (unnormalised) on a lengthscale ``l``.

    In terms of the inverse squared lengthscale ``lam = 1/l**2`` this is
    ``-a (1/lam + lam)``, the penalty Optuna's GP sampler uses: it peaks at ``l = 1`` and
    costs ``2.5`` nats at ``l = 0.2`` or ``l = 5``, ``10`` nats at ``l = 0.1`` or ``10``.
    It keeps the fit away from the degenerate lengthscales a handful of points allow.
    """

    arg_constraints: dict = {}  # noqa: RUF012 - torch.distributions API
    support = constraints.positive

    def __init__(self, a: float = 0.1) -> None:
        torch.nn.Module.__init__(self)
        torch.distributions.Distribution.__init__(self, validate_args=False)
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float64))
        self._transform = None

    def log_prob(self, x: Tensor) -> Tensor:
        return -self.a * (x**2 + x.pow(-2))

    def expand(self, batch_shape: torch.Size) -> BoundedLengthscalePrior:
        return BoundedLengthscalePrior(float(self.a))


def _gamma(concentration: float, rate: float) -> GammaPrior:
    """A Gamma prior with float64 parameters (GPyTorch's default would be float32)."""
    f64 = torch.float64
    return GammaPrior(torch.tensor(concentration, dtype=f64), torch.tensor(rate, dtype=f64))


def _base_kernel(n_dims: int, active: list[int], options: ModelOptions) -> Kernel:
    if options.lengthscale_prior == "dim-scaled":
        return get_covar_module_with_dim_scaled_prior(
            n_dims, use_rbf_kernel=options.kernel == "rbf", active_dims=active
        )
    kwargs = {
        "ard_num_dims": n_dims,
        "active_dims": active,
        "lengthscale_prior": BoundedLengthscalePrior(),
        "lengthscale_constraint": GreaterThan(1e-3, transform=None, initial_value=1.0),
    }
    if options.kernel == "rbf":
        return RBFKernel(**kwargs)
    return MaternKernel(nu=2.5, **kwargs)


def _kernel(d: int, cat_dims: Sequence[int], options: ModelOptions) -> Kernel:
    """The kernel over ordinal coordinates times a Hamming kernel over categorical ones,
    scaled by a learned output scale when ``options.outputscale``."""
    cat = sorted(cat_dims)
    ordinal = [i for i in range(d) if i not in cat]
    parts: list[Kernel] = []
    if ordinal:
        parts.append(_base_kernel(len(ordinal), ordinal, options))
    if cat:
        parts.append(
            CategoricalKernel(
                ard_num_dims=len(cat), active_dims=cat, lengthscale_constraint=GreaterThan(1e-6)
            )
        )
    kernel = parts[0] if len(parts) == 1 else parts[0] * parts[1]
    if options.outputscale:
        kernel = ScaleKernel(
            kernel,
            outputscale_prior=_gamma(2.0, 1.0),
            outputscale_constraint=GreaterThan(1e-4, transform=None, initial_value=1.0),
        )
    return kernel


def _likelihood(options: ModelOptions) -> GaussianLikelihood:
    if options.noise == "botorch":
        return get_gaussian_likelihood_with_lognormal_prior()
    return GaussianLikelihood(
        noise_prior=_gamma(1.1, 30.0),
        noise_constraint=GreaterThan(LOW_NOISE_FLOOR, transform=None, initial_value=1e-2),
    )


def build(
    X: Tensor, y: Tensor, *, cat_dims: Sequence[int] = (), options: ModelOptions | None = None
) -> SingleTaskGP:
    """An unfitted GP on ``X, y`` (``y`` already standardised), with its initial values.

    Args:
        X: ``n x d`` unit-cube inputs.
        y: ``n`` outputs.
        cat_dims: indices of categorical coordinates.
        options: the model's settings.

    Returns:
        A ``SingleTaskGP`` in train mode.
    """
    options = options or ModelOptions()
    d = X.shape[-1]
    warp_dims = [i for i in range(d) if i not in set(cat_dims)]
    input_transform = None
    if options.warp and warp_dims:
        input_transform = Warp(
            d,
            indices=warp_dims,
            bounds=torch.stack([torch.zeros(d), torch.ones(d)]).to(X),  # on X's device
            concentration1_prior=_gamma(3.0, 6.0),
            concentration0_prior=_gamma(3.0, 6.0),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(
            X.to(torch.float64),
            y.to(torch.float64).reshape(-1, 1),
            likelihood=_likelihood(options),
            covar_module=_kernel(d, cat_dims, options),
            mean_module=ZeroMean() if options.mean == "zero" else ConstantMean(),
            input_transform=input_transform,
            outcome_transform=None,
        )
    return model.to(X.device)


def _fit_subset(y: Tensor, m: int, seed: int) -> Tensor:
    """Indices of ``m`` of the ``n`` points: the best ``m // 2`` and a seeded random rest."""
    order = torch.argsort(y, descending=True, stable=True)
    top, rest = order[: m // 2], order[m // 2 :]
    gen = torch.Generator().manual_seed(seed)
    pick = rest[torch.randperm(len(rest), generator=gen).to(rest.device)[: m - len(top)]]
    return torch.sort(torch.cat([top, pick])).values


def _neg_log_posterior(model: SingleTaskGP) -> tuple[float, Tensor]:
    """Negative log marginal likelihood plus negative log priors, per observation.

    Returns the value, and a surrogate tensor whose gradient is the value's gradient. The
    marginal likelihood's gradient with respect to the kernel matrix is
    ``(K^-1 - a a^T) / 2`` with ``a = K^-1 r``; it is formed once from the Cholesky factor,
    so autograd only runs through the kernel, not through the factorisation (whose
    backward pass costs 6 to 10 times the factorisation itself).
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
        L = _robust_cholesky(K)
        r = (y - mean).unsqueeze(-1)
        a = torch.cholesky_solve(r, L)
        W = torch.cholesky_inverse(L) - a @ a.T
        value = 0.5 * float((r * a).sum()) + float(L.diagonal().log().sum())
        value += 0.5 * n * math.log(2 * math.pi)
    surrogate = 0.5 * (W * K).sum() - (a.squeeze(-1) * mean).sum()
    for _, module, prior, closure, _ in model.named_priors():
        log_p = prior.log_prob(closure(module)).sum()
        value -= float(log_p.detach())
        surrogate = surrogate - log_p
    return value / n, surrogate / n


def _robust_cholesky(K: Tensor) -> Tensor:
    """The Cholesky factor of ``K``, with growing diagonal jitter (``JITTERS``, relative to
    the mean diagonal) when it is numerically singular, e.g. warped inputs that collapse."""
    scale = float(K.diagonal().mean())
    for jitter in JITTERS:
        eye = torch.eye(len(K), dtype=K.dtype, device=K.device)
        L, info = torch.linalg.cholesky_ex(K + jitter * scale * eye if jitter else K)
        if int(info) == 0:
            return L
    raise torch.linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


def _closed_form_log_prior(
    model: SingleTaskGP, params: list[Tensor]
) -> tuple[Tensor, list[Tensor | None]] | None:
    """The log prior and its gradient without autograd, for the default model's priors.

    Each prior must act directly on one of ``params`` (no transform in between) and be a
    ``GammaPrior`` (gradient ``(c - 1) / x - r``) or a ``BoundedLengthscalePrior``
    (``-a (2 x - 2 / x**3)``). Returns ``None`` otherwise (the caller uses autograd).
    At 200 points autograd's pass through GPyTorch's prior closures was a quarter of
    the fit's time.
    """
    index = {id(p): i for i, p in enumerate(params)}
    grads: list[Tensor | None] = [None] * len(params)
    total = torch.zeros((), dtype=params[0].dtype, device=params[0].device)
    with torch.no_grad():
        for _, module, prior, closure, _ in model.named_priors():
            x = closure(module)
            i = index.get(id(x))
            if i is None:
                return None
            if isinstance(prior, BoundedLengthscalePrior):
                grad = -prior.a * (2.0 * x - 2.0 * x.pow(-3))
            elif isinstance(prior, GammaPrior):
                grad = (prior.concentration - 1.0) / x - prior.rate
            else:
                return None
            total = total + prior.log_prob(x).sum()
            grads[i] = grad if grads[i] is None else grads[i] + grad
    return total, grads


def _stationary_objective(
    model: SingleTaskGP, fast: Stationary, params: list[Tensor]
) -> tuple[float, list[Tensor]] | None:
    """The MAP objective and its gradient in closed form for a ``Stationary`` kernel.

    Same value and gradient as ``_neg_log_posterior`` (tested), from ``n x n`` array
    operations only: with ``W = K^-1 - a a^T`` the gradient is ``tr(W dK) / 2`` per
    parameter, and for a lengthscale ``l_k`` the sum ``sum_ij W_ij k'_ij (x_ik - x_jk)^2``
    reduces to two matrix-vector products. Returns ``None`` when ``model`` has parameters
    this form does not cover (the caller then uses autograd).
    """
    noise_param = model.likelihood.noise_covar.raw_noise
    mean = model.mean_module
    zero_mean = isinstance(mean, ZeroMean)
    constant = None if zero_mean else getattr(mean, "raw_constant", None)
    if (
        model.likelihood.noise_covar.raw_noise_constraint.enforced
        or (constant is None and not zero_mean)
        or getattr(mean, "raw_constant_constraint", None) is not None
    ):
        return None
    known = {id(fast.lengthscale), id(noise_param), id(constant)}
    if fast.outputscale is not None:
        known.add(id(fast.outputscale))
    if any(id(p) not in known for p in params):
        return None
    X, y = model.train_inputs[0], model.train_targets
    n = len(y)
    with torch.no_grad():
        ls = fast.lengthscale.reshape(-1)
        scale = fast.scale
        r2 = fast.r2(X, X)
        base = fast.base_of_r2(r2)
        K = scale * base
        K.diagonal().add_(noise_param.reshape(()))
        L = _robust_cholesky(K)
        r = (y if constant is None else y - constant).unsqueeze(-1)
        a = torch.cholesky_solve(r, L)
        W = torch.cholesky_inverse(L)
        W -= a @ a.T
        value = 0.5 * float((r * a).sum()) + float(L.diagonal().log().sum())
        value += 0.5 * n * math.log(2 * math.pi)
        M = W * fast.slope_of_r2(r2)
        Xa = fast.inputs(X)
        m, S = M.sum(1), M @ Xa
        quad = 2.0 * ((m.unsqueeze(1) * Xa**2).sum(0) - (Xa * S).sum(0))
        grads = {
            id(fast.lengthscale): (0.5 * scale * quad / ls**3).reshape(fast.lengthscale.shape),
            id(noise_param): (0.5 * W.diagonal().sum()).reshape(noise_param.shape),
        }
        if constant is not None:
            grads[id(constant)] = (-a.sum()).reshape(constant.shape)
        if fast.outputscale is not None:
            grads[id(fast.outputscale)] = (0.5 * (W * base).sum()).reshape(())
    closed = _closed_form_log_prior(model, params)
    if closed is not None:
        log_prior, prior_grads = closed
    else:
        log_prior = sum(
            (
                prior.log_prob(closure(module)).sum()
                for _, module, prior, closure, _ in model.named_priors()
            ),
            torch.zeros((), dtype=X.dtype, device=X.device),
        )
        prior_grads = (
            torch.autograd.grad(log_prior, params, allow_unused=True)
            if log_prior.requires_grad
            else [None] * len(params)
        )
    value -= float(log_prior.detach())
    out = [
        grads[id(p)] / n - (0 if g is None else g / n)
        for p, g in zip(params, prior_grads, strict=True)
    ]
    return value / n, out


def _objective(model: SingleTaskGP, params: list[Tensor]) -> tuple[float, list[Tensor | None]]:
    """The MAP objective per observation and its gradient with respect to ``params``."""
    if getattr(model, "input_transform", None) is None:
        fast = stationary(model.covar_module)
        out = None if fast is None else _stationary_objective(model, fast, params)
        if out is not None:
            return out
    value, surrogate = _neg_log_posterior(model)
    return value, list(torch.autograd.grad(surrogate, params, allow_unused=True))


def map_fit(model: SingleTaskGP, *, maxiter: int = 200, ftol: float = 1e-9) -> float:
    """Set ``model``'s hyperparameters to their MAP estimate, in place (L-BFGS-B).

    The parameters and their bounds are BoTorch's (``get_parameters_and_bounds``).
    Parameters with a positive lower bound (lengthscales, scales, noise) are searched in
    log space, which conditions the problem far better than their natural scale and
    halves the iterations in our measurements. The objective is the exact negative log
    marginal likelihood plus the log priors of every registered GPyTorch prior, per
    observation, as ``ExactMarginalLogLikelihood`` defines it. The model is left in eval
    mode.

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

    def assign(x: np.ndarray) -> None:
        with torch.no_grad():
            chunks = np.split(x, np.cumsum(sizes)[:-1])
            for k, chunk, shape in zip(names, chunks, shapes, strict=True):
                params[k].copy_(torch.as_tensor(chunk).reshape(shape))

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        x = natural(z)
        assign(x)
        value, grads = _objective(model, [params[k] for k in names])
        grad = np.concatenate(
            [
                np.zeros(sz) if g is None else g.detach().reshape(-1).cpu().numpy()
                for g, sz in zip(grads, sizes, strict=True)
            ]
        )
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


def fit(
    X: Tensor,
    y: Tensor,
    *,
    cat_dims: Sequence[int] = (),
    seed: int = 0,
    options: ModelOptions | None = None,
) -> GPyTorchModel:
    """Fit a GP to maximise: ``y`` should already be standardised.

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
    with warnings.catch_warnings(), exact():
        warnings.simplefilter("ignore")
        model = build(
            X[idx] if subset else X,
            y[idx] if subset else y,
            cat_dims=cat_dims,
            options=options,
        )
        with seeded_torch(seed):
            map_fit(model, maxiter=options.fit_maxiter)
        if subset:
            fitted = model
            model = build(X, y, cat_dims=cat_dims, options=options)
            model.load_state_dict(fitted.state_dict(), strict=True)
    model.eval()
    if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise SurrogateError("GP fit produced non-finite hyperparameters")
    return model


def lengthscales(model: GPyTorchModel, d: int, cat_dims: Sequence[int] = ()) -> Tensor:
    """The fitted lengthscale of each of the ``d`` coordinates (1 for categorical ones)."""
    out = torch.ones(d, dtype=torch.float64)
    ordinal = [i for i in range(d) if i not in set(cat_dims)]
    for module in model.covar_module.modules():
        if isinstance(module, MaternKernel | RBFKernel) and ordinal:
            out[ordinal] = module.lengthscale.detach().reshape(-1).to("cpu", torch.float64)
            break
    return out


def noise_fraction(model: GPyTorchModel) -> float:
    """Fitted noise variance as a fraction of the fitted signal variance plus noise.

    Outputs are standardised, so without an output scale this is the noise variance
    itself; with one it is ``noise / (outputscale + noise)``.
    """
    noise = float(model.likelihood.noise.detach().max())
    covar = model.covar_module
    signal = float(covar.outputscale.detach().max()) if isinstance(covar, ScaleKernel) else 1.0
    if not math.isfinite(signal) or signal <= 0:
        return 1.0
    return noise / (signal + noise)
