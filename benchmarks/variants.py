"""The factor study: variants of ``bayesopt.Optimizer``, one modelling choice each.

Each variant changes one setting against a reference (``bayesopt-v0``, the default before
the study, or ``bayesopt``, the current default) so that a paired Wilcoxon test on the
same problems and seeds isolates that one choice. ``python -m benchmarks ablation`` runs
them and writes ``benchmarks/results/ablation/REPORT.md``.

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
from bayesopt.propose import ProposeOptions
from bayesopt.surrogate import ModelOptions

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
    """

    name: str
    factor: str
    reference: str
    description: str
    model: dict[str, Any] = field(default_factory=dict)
    propose: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] = field(default_factory=dict)
    base_model: ModelOptions = field(default_factory=ModelOptions)

    def kwargs(self, space: bo.Space) -> dict[str, Any]:
        """Keyword arguments of ``bayesopt.Optimizer`` for this variant on ``space``."""
        out = {k: (v(space) if callable(v) else v) for k, v in self.optimizer.items()}
        out["model_options"] = replace(self.base_model, **self.model)
        out["propose_options"] = replace(ProposeOptions(), **self.propose)
        return out


def make_optimizer(variant: Variant, space: bo.Space, seed: int) -> bo.Optimizer:
    """The seeded optimiser of ``variant`` on ``space``."""
    return bo.Optimizer(space, seed=seed, **variant.kwargs(space))


_V0 = ModelOptions.botorch()


def _v0(name: str, factor: str, description: str, **model: Any) -> Variant:
    return Variant(name, factor, "bayesopt-v0", description, model=model, base_model=_V0)


def _new(name: str, factor: str, description: str, **kw: Any) -> Variant:
    return Variant(name, factor, "bayesopt", description, **kw)


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
    ),
    # Everything else, changed one at a time on top of the new default.
    _new(
        "bayesopt+rbf",
        "kernel",
        "new default with RBF instead of Matérn 5/2",
        model={"kernel": "rbf"},
    ),
    _new(
        "bayesopt+init10",
        "initial design",
        "new default with a fixed 10 initial points",
        optimizer={"n_initial": _n_fixed(10)},
    ),
    _new(
        "bayesopt+init10u",
        "initial design",
        "new default with 10 uniform random initial points (Optuna's GPSampler's design)",
        optimizer={"n_initial": _n_fixed(10), "initial_design": "random"},
    ),
    _new(
        "bayesopt+init5d",
        "initial design",
        "new default with 5 + d initial points",
        optimizer={"n_initial": lambda space: 5 + space.dim},
    ),
    _new(
        "bayesopt+uniform",
        "initial design",
        "new default with a uniform random initial design instead of Sobol",
        optimizer={"initial_design": "random"},
    ),
    _new(
        "bayesopt+raw2048",
        "acquisition optimisation",
        "new default with 2048 raw samples instead of 512",
        propose={"raw_samples": 2048},
    ),
    _new(
        "bayesopt+boltzmann",
        "acquisition optimisation",
        "new default with starts drawn in proportion to exp(standardised acquisition)",
        propose={"boltzmann": True},
    ),
    _new(
        "bayesopt+noinc",
        "acquisition optimisation",
        "new default without the best observed points as starts",
        propose={"n_incumbents": 0},
    ),
    _new(
        "bayesopt+rescaled",
        "acquisition optimisation",
        "new default with L-BFGS-B in lengthscale-rescaled coordinates",
        propose={"rescale": True},
    ),
    _new(
        "bayesopt+exh4",
        "acquisition optimisation",
        "new default searching discrete coordinates exhaustively only up to 4 values "
        "(instead of 32)",
        propose={"max_exhaustive": 4},
    ),
    _new(
        "bayesopt+local32",
        "large n",
        "new default with max_exact=32: beyond 32 observations the GP is the local model on "
        "the 32 nearest the best (what max_exact=20,000 does beyond 20,000), so its regret "
        "cost shows at benchmark budgets",
        model={"max_exact": 32},
    ),
    _new(
        "bayesopt+notr",
        "trust region (d >= 10)",
        "new default without the trust region (trust_region='never'); the default uses one "
        "from 10 non-categorical dimensions",
        optimizer={"trust_region": "never"},
    ),
    _new(
        "bayesopt+tr",
        "trust region (d >= 10)",
        "new default with the trust region in every dimension (trust_region='always')",
        optimizer={"trust_region": "always"},
    ),
    _new(
        "bayesopt+logei",
        "acquisition",
        "new default with analytic LogEI (best observed value as incumbent) instead of "
        "qLogNEI",
        optimizer={"acquisition": "logei"},
    ),
    _new(
        "bayesopt+warp",
        "input and output transforms",
        "new default with Kumaraswamy input warping",
        model={"warp": True},
    ),
    _new(
        "bayesopt+bilog",
        "input and output transforms",
        "new default with a bilog output transform",
        model={"output_warp": "bilog"},
    ),
    _new(
        "bayesopt+yeojohnson",
        "input and output transforms",
        "new default with a Yeo-Johnson output transform",
        model={"output_warp": "yeo-johnson"},
    ),
)
"""Every variant, in report order."""
