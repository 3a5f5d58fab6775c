"""The factor study: variants of ``bayesopt.Optimizer``, one modelling choice each.

Each variant changes one setting against a reference (``bayesopt-v0``, the default before
the study, or ``bayesopt-v1``, the study's first new default) so that a paired Wilcoxon
test on the same problems and seeds isolates that one choice. ``bayesopt`` itself is v1
plus the one factor the study then adopted, Yeo-Johnson outputs
(``bayesopt-v1+yeojohnson`` has its settings, except the noise floor: 1e-6 there, 1e-9 in
the default since a later study, ``bayesopt+floor1e-6`` against ``bayesopt+floor1e-9``).
``python -m benchmarks ablation`` runs them and writes ``benchmarks/results/ablation/REPORT.md``.

``bayesopt-v0`` reproduces the pre-study default: BoTorch's ``SingleTaskGP`` defaults
(RBF without an output scale, the dimension-scaled LogNormal lengthscale prior, noise
floor 1e-4), ``2d + 1`` Sobol points, 512 raw samples, the best 10 of them plus the 3 best
observations as starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import bayesopt as bo
from bayesopt.gp import ModelOptions
from bayesopt.propose import ProposeOptions

__all__ = ["VARIANTS", "Variant", "make_optimizer"]


@dataclass(frozen=True)
class Variant:
    """One setting changed against a reference.

    Attributes:
        name: contender name (starts with ``bayesopt``).
        factor: the factor of the study it belongs to (a report section).
        reference: the contender it is compared with.
        description: what changes, in words.
        model: ``ModelOptions`` fields to set.
        propose: ``ProposeOptions`` fields to set.
        optimizer: other ``Optimizer`` keyword arguments.
        base_model: the ``ModelOptions`` the changes apply to.
        base_propose: the ``ProposeOptions`` the changes apply to.
    """

    name: str
    factor: str
    reference: str
    description: str
    model: dict[str, Any] = field(default_factory=dict)
    propose: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] = field(default_factory=dict)
    base_model: ModelOptions = field(default_factory=ModelOptions)
    base_propose: ProposeOptions = field(default_factory=ProposeOptions)

    def kwargs(self, space: bo.Space) -> dict[str, Any]:
        """Keyword arguments of ``bayesopt.Optimizer`` for this variant on ``space``."""
        out = {k: (v(space) if callable(v) else v) for k, v in self.optimizer.items()}
        out["model_options"] = replace(self.base_model, **self.model)
        out["propose_options"] = replace(self.base_propose, **self.propose)
        return out


def make_optimizer(variant: Variant, space: bo.Space, seed: int) -> bo.Optimizer:
    """The seeded optimiser of ``variant`` on ``space``."""
    return bo.Optimizer(space, seed=seed, **variant.kwargs(space))


_V0 = ModelOptions.botorch()
_JOINT = ProposeOptions(lbfgs="joint")
"""The acquisition search every v0 and v1 variant ran with: one L-BFGS-B run over all
starts together (the default until the independent runs were adopted)."""


def _v0(name: str, factor: str, description: str, **model: Any) -> Variant:
    return Variant(
        name, factor, "bayesopt-v0", description, model=model, base_model=_V0, base_propose=_JOINT
    )


_V1 = ModelOptions(output_warp="none", noise_floor=1e-6)


def _new(name: str, factor: str, description: str, **kw: Any) -> Variant:
    return Variant(
        name, factor, "bayesopt-v1", description, base_model=_V1, base_propose=_JOINT, **kw
    )


def _n_fixed(n: int) -> Callable[[bo.Space], int]:
    return lambda space: n


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "bayesopt-v0",
        "reference",
        "bayesopt-v0",
        "the default before the study: BoTorch SingleTaskGP defaults (RBF, no output "
        "scale, dim-scaled LogNormal lengthscale prior, noise floor 1e-4)",
        base_model=_V0,
        base_propose=_JOINT,
    ),
    Variant(
        "bayesopt-v1",
        "reference",
        "bayesopt-v1",
        "the study's first new default, before Yeo-Johnson outputs were adopted: Matérn 5/2 "
        "x learned output scale, bounded lengthscale prior, noise floor 1e-6 with "
        "Gamma(1.1, 30), lean MAP fit, no output transform",
        base_model=_V1,
        base_propose=_JOINT,
    ),
    # Model factors, each alone against the old default.
    _v0("bayesopt-v0+matern", "kernel", "v0 with Matérn 5/2 instead of RBF", kernel="matern52"),
    _v0("bayesopt-v0+scale", "kernel", "v0 with a learned output scale", outputscale=True),
    _v0(
        "bayesopt-v0+lsprior",
        "lengthscale prior",
        "v0 with the bounded lengthscale prior -0.1 (l^2 + 1/l^2)",
        lengthscale_prior="bounded",
    ),
    _v0(
        "bayesopt-v0+lownoise",
        "noise",
        "v0 with noise floor 1e-6 and a Gamma(1.1, 30) noise prior",
        noise="low",
        noise_floor=1e-6,
    ),
    # Everything else, changed one at a time on top of v1 (the default before Yeo-Johnson
    # outputs were adopted from this very study).
    _new(
        "bayesopt-v1+rbf",
        "kernel",
        "v1 with RBF instead of Matérn 5/2",
        model={"kernel": "rbf"},
    ),
    _new(
        "bayesopt-v1+init10",
        "initial design",
        "v1 with a fixed 10 initial points",
        optimizer={"n_initial": _n_fixed(10)},
    ),
    _new(
        "bayesopt-v1+init10u",
        "initial design",
        "v1 with 10 uniform random initial points (Optuna's GPSampler's design)",
        optimizer={"n_initial": _n_fixed(10), "initial_design": "random"},
    ),
    _new(
        "bayesopt-v1+init5d",
        "initial design",
        "v1 with 5 + d initial points",
        optimizer={"n_initial": lambda space: 5 + space.dim},
    ),
    _new(
        "bayesopt-v1+uniform",
        "initial design",
        "v1 with a uniform random initial design instead of Sobol",
        optimizer={"initial_design": "random"},
    ),
    _new(
        "bayesopt-v1+raw2048",
        "acquisition optimisation",
        "v1 with 2048 raw samples instead of 512",
        propose={"raw_samples": 2048},
    ),
    _new(
        "bayesopt-v1+boltzmann",
        "acquisition optimisation",
        "v1 with starts drawn in proportion to exp(standardised acquisition)",
        propose={"boltzmann": True},
    ),
    _new(
        "bayesopt-v1+noinc",
        "acquisition optimisation",
        "v1 without the best observed points as starts",
        propose={"n_incumbents": 0},
    ),
    _new(
        "bayesopt-v1+rescaled",
        "acquisition optimisation",
        "v1 with L-BFGS-B in lengthscale-rescaled coordinates",
        propose={"rescale": True},
    ),
    _new(
        "bayesopt-v1+exh4",
        "acquisition optimisation",
        "v1 searching discrete coordinates exhaustively only up to 4 values (instead of 32)",
        propose={"max_exhaustive": 4},
    ),
    Variant(
        "bayesopt+botorch-propose",
        "acquisition optimisation",
        "bayesopt",
        "the default with BoTorch's optimize_acqf_mixed_alternating as acquisition "
        "optimiser (ProposeOptions(method='botorch'); the same raw samples and restarts)",
        propose={"method": "botorch"},
    ),
    Variant(
        "bayesopt+indep-lbfgs",
        "acquisition optimisation",
        "bayesopt",
        "the default with one L-BFGS-B run per start, the runs in lock step "
        "(ProposeOptions(lbfgs='independent')), instead of one run over all starts together "
        "(adopted: the default since 2026-11-30; the bayesopt cells it is compared with ran "
        "the joint search)",
        propose={"lbfgs": "independent"},
    ),
    _new(
        "bayesopt-v1+local32",
        "large n",
        "v1 with max_exact=32: beyond 32 observations the GP is the local model on "
        "the 32 nearest the best (what max_exact=20,000 does beyond 20,000), so its regret "
        "cost shows at benchmark budgets",
        model={"max_exact": 32},
    ),
    _new(
        "bayesopt-v1+notr",
        "trust region (d >= 10)",
        "v1 without the trust region (trust_region='never'); the default uses one "
        "from 10 non-categorical dimensions",
        optimizer={"trust_region": "never"},
    ),
    _new(
        "bayesopt-v1+tr",
        "trust region (d >= 10)",
        "v1 with the trust region in every dimension (trust_region='always')",
        optimizer={"trust_region": "always"},
    ),
    _new(
        "bayesopt-v1+logei",
        "acquisition",
        "v1 with analytic LogEI (best observed value as incumbent) instead of qLogNEI",
        optimizer={"acquisition": "logei"},
    ),
    _new(
        "bayesopt-v1+warp",
        "input and output transforms",
        "v1 with Kumaraswamy input warping",
        model={"warp": True},
    ),
    _new(
        "bayesopt-v1+bilog",
        "input and output transforms",
        "v1 with a bilog output transform",
        model={"output_warp": "bilog"},
    ),
    _new(
        "bayesopt-v1+yeojohnson",
        "input and output transforms",
        "v1 with a Yeo-Johnson output transform",
        model={"output_warp": "yeo-johnson"},
    ),
    # The second study (multimodal and ill-conditioned landscapes), on the BBOB tuning
    # instances: each a change to the current default.
    Variant(
        "bayesopt+copula",
        "input and output transforms",
        "bayesopt",
        "the default with a Gaussian copula output transform (normal quantiles of the "
        "ranks, as in HEBO) instead of Yeo-Johnson",
        model={"output_warp": "copula"},
    ),
    Variant(
        "bayesopt+ts20",
        "exploration hedges",
        "bayesopt",
        "the default with a fifth of the model's asks drawn as Thompson samples "
        "(ProposeOptions(thompson_share=0.2))",
        propose={"thompson_share": 0.2},
    ),
    Variant(
        "bayesopt+stale5",
        "exploration hedges",
        "bayesopt",
        "the default taking a Thompson sample on every other ask once 5 trials in a row "
        "have not improved the best (ProposeOptions(thompson_after=5))",
        propose={"thompson_after": 5},
    ),
    Variant(
        "bayesopt+tr",
        "exploration hedges",
        "bayesopt",
        "the default with the trust region and its restarts after repeated failures in "
        "every dimension (trust_region='always'; the default uses it from 10 dimensions)",
        optimizer={"trust_region": "always"},
    ),
    Variant(
        "bayesopt+portfolio",
        "exploration hedges",
        "bayesopt",
        "the default drawing each ask's acquisition among qLogNEI, UCB (beta = 4) and a "
        "Thompson sample by Thompson sampling on each arm's record of improvements "
        "(ProposeOptions(portfolio=('qlognei', 'ucb', 'ts')))",
        propose={"portfolio": ("qlognei", "ucb", "ts")},
    ),
    Variant(
        "bayesopt+spread",
        "exploration hedges",
        "bayesopt",
        "the default starting its local searches from the best raw points spread by greedy "
        "max-min distance instead of the best ones (ProposeOptions(spread=True))",
        propose={"spread": True},
    ),
    Variant(
        "bayesopt+tr-stagnation",
        "exploration hedges",
        "bayesopt",
        "the default opening a trust region below 10 dimensions once max(4, d) model "
        "trials in a row have not improved the best, searching globally again when it "
        "collapses (trust_region='stagnation')",
        optimizer={"trust_region": "stagnation"},
    ),
    Variant(
        "bayesopt+tr-strict",
        "exploration hedges",
        "bayesopt",
        "the default's trust region counting any gain over the best loss as a success "
        "instead of a gain above 1e-3 of its magnitude, which depends on where zero lies "
        "(ProposeOptions(region_success='strict'); a tie, not adopted)",
        propose={"region_success": "strict"},
    ),
    Variant(
        "bayesopt+tr-spread",
        "exploration hedges",
        "bayesopt",
        "the default's trust region counting a gain over the best loss as a success when "
        "it exceeds 1e-3 of the gap between the median loss and the best, which no "
        "offset or scaling of the objective changes "
        "(ProposeOptions(region_success='spread'); a tie, not adopted)",
        propose={"region_success": "spread"},
    ),
    Variant(
        "bayesopt+warp",
        "input and output transforms",
        "bayesopt",
        "the default with Kumaraswamy input warping (ModelOptions(warp=True))",
        model={"warp": True},
    ),
    Variant(
        "bayesopt+additive",
        "kernel structure",
        "bayesopt",
        "the default with a sum of one-dimensional Matérn kernels, one per coordinate, "
        "each with its own output scale, instead of one ARD kernel "
        "(ModelOptions(structure='additive'))",
        model={"structure": "additive"},
    ),
    Variant(
        "bayesopt+ard-additive",
        "kernel structure",
        "bayesopt",
        "the default's ARD kernel plus one one-dimensional Matérn term per coordinate, "
        "each term with its own output scale (ModelOptions(structure='ard+additive'))",
        model={"structure": "ard+additive"},
    ),
    Variant(
        "bayesopt+rotated",
        "kernel structure",
        "bayesopt",
        "the default's Matérn kernel on learned linear combinations of the coordinates "
        "(a unit lower-triangular map with a Normal(0, 1) prior on its entries): a full "
        "Mahalanobis metric instead of axis-aligned lengthscales "
        "(ModelOptions(structure='rotated'))",
        model={"structure": "rotated"},
    ),
    Variant(
        "bayesopt+auto-structure",
        "kernel structure",
        "bayesopt",
        "at each ask, the default's ARD kernel or the rotated one, whichever has the "
        "better log posterior after BIC's penalty for the rotation's extra "
        "hyperparameters (ModelOptions(structure='auto'))",
        model={"structure": "auto"},
    ),
    Variant(
        "bayesopt+floor1e-9",
        "model uncertainty",
        "bayesopt",
        "the default with a noise variance floor of 1e-9 instead of 1e-6 "
        "(ModelOptions(noise_floor=1e-9)), so that a noiseless objective is resolved "
        "closer to its optimum (adopted: the default's floor since the study; the name "
        "stays for the study's records)",
        model={"noise_floor": 1e-9},
    ),
    Variant(
        "bayesopt+floor1e-6",
        "model uncertainty",
        "bayesopt",
        "the default with the noise variance floor it had before the noise-floor study, "
        "1e-6 (ModelOptions(noise_floor=1e-6))",
        model={"noise_floor": 1e-6},
    ),
    Variant(
        "bayesopt+restarts3",
        "model uncertainty",
        "bayesopt",
        "the default with the GP's MAP fit run from three initial lengthscales (the "
        "kernel's, 0.2 and 3.0), the best kept (ModelOptions(fit_restarts=3))",
        model={"fit_restarts": 3},
    ),
    Variant(
        "bayesopt+classifier",
        "failures",
        "bayesopt",
        "the default with failures also modelled as an unknown constraint: a GP on every "
        "finished trial's success, whose probability multiplies the improvement "
        "(failure_model='classifier')",
        optimizer={"failure_model": "classifier"},
    ),
    Variant(
        "bayesopt+closedform",
        "batches and noisy incumbents",
        "bayesopt",
        "the default with closed-form LogEI on every ask (ProposeOptions(closed_form='always')): "
        "the best posterior mean as incumbent and pending or already chosen points believed "
        "at the posterior mean, instead of Monte-Carlo qLogNEI where the model is noisy or "
        "points are pending",
        propose={"closed_form": "always"},
    ),
)
"""Every variant, in report order."""
