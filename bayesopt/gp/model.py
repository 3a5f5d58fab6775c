"""The GP model: its settings (``ModelOptions``), construction, and what it tells.

The model is BoTorch's ``SingleTaskGP`` on unit-cube inputs ``X`` and transformed outputs
``y``, with a kernel, priors and noise model chosen by ``ModelOptions``; every choice there
was measured in the benchmark suite's factor study (``benchmarks/results/ablation/REPORT.md``).

Categorical coordinates get BoTorch's ``CategoricalKernel`` (Hamming distance, which
ignores the meaningless order of the categories), multiplied with the kernel over the
ordinal coordinates: one product, rather than ``MixedSingleTaskGP``'s sum of a scaled sum
and a scaled product of the two, which fits every lengthscale twice and three output scales.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import gpytorch
import torch
from botorch.models import SingleTaskGP
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.input import Warp
from botorch.models.utils.gpytorch_modules import (
    get_covar_module_with_dim_scaled_prior,
    get_gaussian_likelihood_with_lognormal_prior,
)
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import (
    AdditiveKernel,
    Kernel,
    MaternKernel,
    ProductKernel,
    RBFKernel,
    ScaleKernel,
)
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean, ZeroMean
from torch import Tensor

from bayesopt.gp.kernels import LinearMapKernel
from bayesopt.gp.priors import BoundedLengthscalePrior, gamma_prior
from bayesopt.gp.transforms import OUTPUT_WARPS

__all__ = [
    "EXACT_CHOLESKY_LIMIT",
    "KERNELS",
    "LENGTHSCALE_PRIORS",
    "MEANS",
    "NOISE_MODELS",
    "STRUCTURES",
    "ModelOptions",
    "build",
    "exact",
    "lengthscales",
    "noise_fraction",
]

KERNELS = ("matern52", "rbf")
LENGTHSCALE_PRIORS = ("bounded", "dim-scaled")
NOISE_MODELS = ("low", "botorch")
MEANS = ("constant", "zero")
STRUCTURES = ("ard", "additive", "ard+additive", "rotated", "auto")

EXACT_CHOLESKY_LIMIT = 10**6
"""GPyTorch switches from Cholesky to conjugate gradients above 800 points by default,
which is approximate. We always factorise exactly (up to this size)."""

LOW_NOISE_FLOOR = 1e-9
"""The noise variance floor of ``ModelOptions(noise="low")``: 1e-9 since a factor study on
BBOB's tuning instances (1e-6 before; ``benchmarks/results/ablation/noise_floor/NOTES.md``)."""


@dataclass(frozen=True)
class ModelOptions:
    """How the GP surrogate is built and fitted.

    Attributes:
        kernel: ``"matern52"`` (Matérn 5/2) or ``"rbf"``, with one lengthscale per
            ordinal coordinate (ARD).
        outputscale: learn an output scale (``ScaleKernel`` with a Gamma(2, 1) prior);
            ``False`` fixes it at 1, BoTorch's default.
        lengthscale_prior: ``"bounded"``: log-density ``-0.1 (ell**2 + 1/ell**2)``, which keeps
            lengthscales of unit-cube inputs within about 0.2 to 5; ``"dim-scaled"``:
            BoTorch's LogNormal prior scaled with the dimension (nearly flat from 0.025
            to 10).
        noise: ``"low"``: noise variance floor 1e-9 with a Gamma(1.1, 30) prior, nearly
            flat below 1e-2, so that the GP can interpolate noiseless objectives but still
            learns real noise; ``"botorch"``: BoTorch's floor of 1e-4 and LogNormal(-4, 1)
            prior.
        noise_floor: the noise variance floor (of the twice-standardised outputs) in
            place of the noise model's own, 1e-9 for ``"low"`` and 1e-4 for
            ``"botorch"``; ``None`` keeps it. The floor bounds how finely the GP can
            resolve values near the optimum of a noiseless objective: close to it,
            differences below about the floor's square root times the spread of all the
            observations look like noise. The default's floor was 1e-6 until a factor
            study found 1e-9 better on BBOB's smooth functions at d = 10 (the sphere,
            ellipsoids, bent cigar, Rosenbrock) and on Hartmann-6, and the same on
            rugged ones, where the fitted noise stays above either floor.
        warp: learn a Kumaraswamy input warping of the continuous coordinates (BoTorch's
            ``Warp``).
        output_warp: ``"yeo-johnson"`` (the default: a power transform fitted by
            maximum likelihood to the standardised outputs, then standardised again),
            ``"bilog"`` (``sign(y) log(1 + |y|)``), ``"copula"`` (the normal quantile of
            each value's rank, as in HEBO) or ``"none"``. Yeo-Johnson won the factor
            study on Hartmann-6, Rosenbrock-4 and RF-wine and tied everywhere else: it
            pulls in the long tail of bad values, so the GP spends its flexibility near
            the good ones.
        constraint_warp: the transform of a declared constraint's slacks before its GP
            (one of the ``output_warp`` values; its bound, a zero slack, is mapped through
            the same transform). ``"yeo-johnson"`` (the default) transforms them as
            objectives are; ``"none"`` only standardises them, the default before
            2026-12-02. Constraints whose values span decades (ratios, powers) otherwise
            leave the GP its flexibility for the tail instead of the bound: on the tuning
            seeds the transform found the tension-compression spring's feasible sliver in
            9 of 10 runs against 1 of 10, a win after Holm's correction with no loss on the
            seven other problems with constraints; ranks (``"copula"``) found it too but
            lost the pressure vessel and the speed reducer
            (``benchmarks/results/ablation/constraint_warp/NOTES.md``).
        fit_points: hyperparameters are fitted on at most this many observations.
        max_exact: the GP conditions on at most this many observations; beyond, on the
            ``max_exact`` nearest to the best ones (a local model; see ``Optimizer``).
        fit_maxiter: L-BFGS-B iterations of the hyperparameter fit.
        fit_restarts: MAP fits from this many initial lengthscales (1 to 6; see
            ``gp.fitting.FIT_STARTS``), the best objective kept: a guard against a fit
            trapped at lengthscales that make the model over-confident.
        mean: ``"constant"`` (a learned constant, BoTorch's default) or ``"zero"`` (the
            standardised outputs' mean, as Optuna's GP sampler has it).
        structure: how the kernel combines the ordinal coordinates. ``"ard"`` (the
            default): one kernel of all of them, a lengthscale each. ``"additive"``: a sum
            of one-dimensional kernels, one per coordinate, each with its own output scale
            (first-order additive, Duvenaud et al. 2011): it learns a separable function
            from few points and extrapolates along each axis, but cannot represent
            interactions. ``"ard+additive"``: the ARD kernel plus those one-dimensional
            terms, so interactions stay possible while separable trends are learned
            cheaply. With either sum every term has its own learned output scale, whatever
            ``outputscale`` says. ``"rotated"``: the ARD kernel of learned linear
            combinations of the coordinates, a full Mahalanobis metric that follows
            diagonal valleys (``gp.kernels.LinearMapKernel``; ``k (k - 1) / 2`` more
            hyperparameters, starting at the ARD kernel); the lengthscales it reports
            (for the trust region and the search's scaling) are those of the combined
            axes. ``"auto"``: ``gp.fit`` fits both ``"ard"`` and ``"rotated"`` and keeps
            the rotated kernel only where its log posterior beats the ARD one's by more
            than BIC's penalty for the extra hyperparameters (``build`` alone gives the
            ARD kernel). The closed-form fast paths (fit gradients, cached posterior,
            acquisition gradients) apply to ``"ard"`` only, so the others cost more per
            ask. On BBOB's tuning instances ``"auto"`` beat the default across functions
            at d = 5 after Holm (tied at d = 2), most on rotated, ill-conditioned ones, at
            about four times the run time (2.4 times at d = 2); it is the choice when an
            evaluation costs far more than an ask
            (``benchmarks/results/ablation/bbob_rotated/NOTES.md``).

    Example:
        >>> import bayesopt as bo
        >>> options = bo.ModelOptions(kernel="rbf", output_warp="none")
        >>> opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), model_options=options)
    """

    kernel: str = "matern52"
    outputscale: bool = True
    lengthscale_prior: str = "bounded"
    noise: str = "low"
    noise_floor: float | None = None
    warp: bool = False
    output_warp: str = "yeo-johnson"
    constraint_warp: str = "yeo-johnson"
    fit_points: int = 512
    max_exact: int = 20_000
    fit_maxiter: int = 200
    mean: str = "constant"
    fit_restarts: int = 1
    structure: str = "ard"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kernel", KERNELS),
            ("lengthscale_prior", LENGTHSCALE_PRIORS),
            ("noise", NOISE_MODELS),
            ("output_warp", OUTPUT_WARPS),
            ("constraint_warp", OUTPUT_WARPS),
            ("mean", MEANS),
            ("structure", STRUCTURES),
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
        for name, least in (
            ("fit_points", 8),
            ("max_exact", 8),
            ("fit_maxiter", 1),
            ("fit_restarts", 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"ModelOptions: `{name}` must be an int, but got {value!r}.")
            if value < least:
                raise ValueError(f"ModelOptions: `{name} >= {least}` must hold, but got {value}.")
        if self.noise_floor is not None:
            if not isinstance(self.noise_floor, float | int) or isinstance(self.noise_floor, bool):
                raise TypeError(
                    "ModelOptions: `noise_floor` must be a float or None, "
                    f"but got {self.noise_floor!r}."
                )
            if not 1e-12 <= self.noise_floor <= 1e-2:
                raise ValueError(
                    "ModelOptions: `noise_floor` must lie in [1e-12, 1e-2], "
                    f"but got {self.noise_floor!r}."
                )
        if self.fit_restarts > 6:
            raise ValueError(
                f"ModelOptions: `fit_restarts <= 6` must hold, but got {self.fit_restarts}."
            )

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
    """A context in which GPyTorch factorises exactly instead of running CG.

    Example:
        >>> with exact():
        ...     pass
    """
    return gpytorch.settings.max_cholesky_size(EXACT_CHOLESKY_LIMIT)


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


def _scaled(kernel: Kernel, rate: float) -> ScaleKernel:
    """``kernel`` times a learned output scale with a Gamma(2, ``rate``) prior, starting
    at ``1 / rate`` (1 for the single scale of ``structure="ard"``)."""
    return ScaleKernel(
        kernel,
        outputscale_prior=gamma_prior(2.0, rate),
        outputscale_constraint=GreaterThan(1e-4, transform=None, initial_value=1.0 / rate),
    )


def ordinal_kernel(ordinal: list[int], options: ModelOptions) -> tuple[Kernel, bool]:
    """The kernel over the ``ordinal`` input columns, shaped by ``options.structure``.

    Returns:
        The kernel, and whether it already carries its own output scales (the sums do:
        one per term, with Gamma priors whose means add up to the single scale's, 2).
    """
    k = len(ordinal)
    if options.structure in ("ard", "auto") or (options.structure == "rotated" and k < 2):
        return _base_kernel(k, ordinal, options), False
    if options.structure == "rotated":
        return LinearMapKernel(_base_kernel(k, None, options), ordinal), False
    # Each term's prior mean scale is 2 / k alone, 1 / k beside the ARD term's 1: the sum's
    # prior mean (2) and starting value (1) are the single scale's either way.
    alone = options.structure == "additive"
    terms = [_scaled(_base_kernel(1, [i], options), (1.0 if alone else 2.0) * k) for i in ordinal]
    if not alone:
        terms.insert(0, _scaled(_base_kernel(k, ordinal, options), 2.0))
    return AdditiveKernel(*terms), True


def _kernel(d: int, cat_dims: Sequence[int], options: ModelOptions) -> Kernel:
    """The kernel over ordinal coordinates times a Hamming kernel over categorical ones,
    scaled by a learned output scale when ``options.outputscale`` (the sums of
    ``options.structure`` carry their own)."""
    cat = sorted(cat_dims)
    ordinal = [i for i in range(d) if i not in cat]
    parts: list[Kernel] = []
    self_scaled = False
    if ordinal:
        kernel, self_scaled = ordinal_kernel(ordinal, options)
        parts.append(kernel)
    if cat:
        parts.append(
            CategoricalKernel(
                ard_num_dims=len(cat), active_dims=cat, lengthscale_constraint=GreaterThan(1e-6)
            )
        )
    kernel = parts[0] if len(parts) == 1 else parts[0] * parts[1]
    if options.outputscale and not self_scaled:
        kernel = _scaled(kernel, 1.0)
    return kernel


def _likelihood(options: ModelOptions) -> GaussianLikelihood:
    if options.noise == "botorch":
        likelihood = get_gaussian_likelihood_with_lognormal_prior()
        if options.noise_floor is not None:
            prior = likelihood.noise_covar.noise_prior
            likelihood = GaussianLikelihood(
                noise_prior=prior,
                noise_constraint=GreaterThan(
                    float(options.noise_floor), transform=None, initial_value=prior.mode
                ),
            )
        return likelihood
    floor = LOW_NOISE_FLOOR if options.noise_floor is None else float(options.noise_floor)
    return GaussianLikelihood(
        noise_prior=gamma_prior(1.1, 30.0),
        noise_constraint=GreaterThan(floor, transform=None, initial_value=1e-2),
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
            concentration1_prior=gamma_prior(3.0, 6.0),
            concentration0_prior=gamma_prior(3.0, 6.0),
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


def lengthscales(model: GPyTorchModel, d: int, cat_dims: Sequence[int] = ()) -> Tensor:
    """The fitted lengthscale ``ell`` of each of the ``d`` coordinates, as a ``d`` tensor on
    the CPU (1 for categorical ones).

    With ``structure="ard+additive"`` these are the ARD term's; with ``"additive"``, each
    coordinate's one-dimensional term's.
    """
    out = torch.ones(d, dtype=torch.float64)
    ordinal = [i for i in range(d) if i not in set(cat_dims)]
    if not ordinal:
        return out
    for module in model.covar_module.modules():
        if not isinstance(module, MaternKernel | RBFKernel):
            continue
        values = module.lengthscale.detach().reshape(-1).to("cpu", torch.float64)
        if len(values) == len(ordinal):  # the kernel of all ordinal coordinates
            out[ordinal] = values
            return out
        out[module.active_dims.cpu()] = values  # a one-dimensional term of a sum
    return out


def _signal_variance(kernel: Kernel) -> float:
    """The prior variance of ``kernel`` at a point (output scales; 1 without one)."""
    if isinstance(kernel, ScaleKernel):
        return float(kernel.outputscale.detach().max()) * _signal_variance(kernel.base_kernel)
    if isinstance(kernel, AdditiveKernel):
        return sum(_signal_variance(k) for k in kernel.kernels)
    if isinstance(kernel, ProductKernel):
        return math.prod(_signal_variance(k) for k in kernel.kernels)
    return 1.0


def noise_fraction(model: GPyTorchModel) -> float:
    """Fitted noise variance as a fraction of the fitted signal variance plus noise.

    Outputs are standardised, so without an output scale this is the noise variance
    itself; with one it is ``noise / (outputscale + noise)``, and with a sum of scaled
    terms the scales add up.
    """
    noise = float(model.likelihood.noise.detach().max())
    signal = _signal_variance(model.covar_module)
    if not math.isfinite(signal) or signal <= 0:
        return 1.0
    return noise / (signal + noise)
