"""Hyperparameter priors, and the log prior's gradient in closed form where it has one."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from botorch.models import SingleTaskGP
from gpytorch.priors import GammaPrior, Prior
from torch import Tensor
from torch.distributions import constraints

__all__ = [
    "BoundedLengthscalePrior",
    "PriorTerm",
    "closed_form_log_prior",
    "closed_form_prior_terms",
    "gamma_prior",
    "log_prior_of_terms",
    "prior_function",
]


class BoundedLengthscalePrior(Prior):
    """Log-density ``-a (ell**2 + 1/ell**2)`` (unnormalised) on a lengthscale ``ell``.

    In terms of the inverse squared lengthscale ``lam = 1/ell**2`` this is
    ``-a (1/lam + lam)``, the penalty Optuna's GP sampler uses: it peaks at ``ell = 1``
    and costs ``2.5`` nats at ``ell = 0.2`` or ``ell = 5``, ``10`` nats at ``ell = 0.1``
    or ``10``. It keeps the fit away from the degenerate lengthscales a handful of points
    allow.

    Example:
        >>> import torch
        >>> prior = BoundedLengthscalePrior()
        >>> prior.log_prob(torch.tensor([1.0], dtype=torch.float64)).item()
        -0.2
    """

    arg_constraints: dict = {}  # noqa: RUF012 - torch.distributions API
    support = constraints.positive

    def __init__(self, a: float = 0.1) -> None:
        torch.nn.Module.__init__(self)
        torch.distributions.Distribution.__init__(self, validate_args=False)
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float64))
        self._transform = None

    def log_prob(self, x: Tensor) -> Tensor:
        """The log-density at lengthscales ``x`` (any shape), elementwise."""
        return -self.a * (x**2 + x.pow(-2))

    def expand(self, batch_shape: torch.Size) -> BoundedLengthscalePrior:
        return BoundedLengthscalePrior(float(self.a))


def gamma_prior(concentration: float, rate: float) -> GammaPrior:
    """A Gamma prior with float64 parameters (GPyTorch's default would be float32)."""
    f64 = torch.float64
    return GammaPrior(torch.tensor(concentration, dtype=f64), torch.tensor(rate, dtype=f64))


def _parameter_name(prior_name: str) -> str:
    """The parameter a GPyTorch prior named ``<module>.<field>_prior`` acts on:
    ``<module>.raw_<field>``."""
    module, _, field = prior_name.rpartition(".")
    raw = f"raw_{field.removesuffix('_prior')}"
    return f"{module}.{raw}" if module else raw


PriorTerm = tuple[str, Prior, Tensor]
"""``(parameter name, prior, raw parameter)``: one registered prior of a model."""


def closed_form_prior_terms(
    model: SingleTaskGP, params: dict[str, Tensor]
) -> list[PriorTerm] | None:
    """The priors of ``model`` as ``closed_form_log_prior`` sums them, checked once.

    Each prior must act directly on its raw parameter, one of ``params`` (no constraint
    transform in between), and be a ``GammaPrior`` or a ``BoundedLengthscalePrior``. The
    terms hold the parameter tensors themselves, so they stay valid while the parameters
    are changed in place (as ``map_fit`` does).

    Returns:
        The terms in ``model.named_priors()`` order, or ``None`` when a prior is not
        covered.
    """
    terms: list[PriorTerm] = []
    for prior_name, module, prior, closure, _ in model.named_priors():
        x = closure(module)
        name = _parameter_name(prior_name)
        if params.get(name) is not x:  # absent, or behind a transform
            return None
        if not isinstance(prior, BoundedLengthscalePrior | GammaPrior):
            return None
        terms.append((name, prior, x))
    return terms


def _gamma_constants(prior: GammaPrior) -> tuple[float | Tensor, float | Tensor, float | Tensor]:
    """``(c - 1, r, c log r - lgamma(c))`` of a Gamma prior: python floats when the prior
    is a scalar one (the default model's), else tensors."""
    c, r = prior.concentration, prior.rate
    if c.numel() == 1 and r.numel() == 1:
        c, r = float(c), float(r)
        return c - 1.0, r, c * math.log(r) - math.lgamma(c)
    return c - 1.0, r, torch.xlogy(c, r) - torch.lgamma(c)


def prior_function(terms: list[PriorTerm]) -> Callable[[], tuple[float, dict[str, Tensor]]]:
    """The log prior of ``closed_form_prior_terms`` and its gradient by parameter name, as a
    function of no arguments evaluated at the parameters' current values.

    The gradient is ``(c - 1) / x - r`` for a ``GammaPrior`` and ``-a (2 x - 2 / x**3)`` for
    a ``BoundedLengthscalePrior``. Both densities are written out, with their constants
    worked out once, rather than asked of the prior objects: the ``torch.distributions``
    machinery behind ``log_prob`` costs more than the arithmetic at the few numbers a GP
    has, and ``map_fit`` evaluates this once per L-BFGS step.
    """
    compiled = []
    for name, prior, x in terms:
        if isinstance(prior, BoundedLengthscalePrior):
            compiled.append((name, x, True, (float(prior.a),)))
        else:
            compiled.append((name, x, False, _gamma_constants(prior)))

    @torch.no_grad()
    def evaluate() -> tuple[float, dict[str, Tensor]]:
        grads: dict[str, Tensor] = {}
        total = 0.0
        for name, x, bounded, constants in compiled:
            if bounded:
                (a,) = constants
                inv2 = x.pow(-2)
                value = -a * (x * x + inv2)
                grad = -a * (2.0 * x - 2.0 * inv2 / x)
            else:
                c1, r, const = constants
                value = c1 * torch.log(x) - r * x + const
                grad = c1 / x - r
            total += float(value.sum())
            grads[name] = grad if name not in grads else grads[name] + grad
        return total, grads

    return evaluate


def log_prior_of_terms(
    terms: list[PriorTerm], params: dict[str, Tensor]
) -> tuple[Tensor, dict[str, Tensor]]:
    """The log prior of ``closed_form_prior_terms`` (a scalar tensor) and its gradient by
    parameter name, once; see ``prior_function``."""
    total, grads = prior_function(terms)()
    first = next(iter(params.values()))
    return torch.tensor(total, dtype=first.dtype, device=first.device), grads


def closed_form_log_prior(
    model: SingleTaskGP, params: dict[str, Tensor]
) -> tuple[Tensor, dict[str, Tensor]] | None:
    """The log prior and its gradient without autograd, for the default model's priors.

    Each prior must act directly on its raw parameter, one of ``params`` (no constraint
    transform in between), and be a ``GammaPrior`` (gradient ``(c - 1) / x - r``) or a
    ``BoundedLengthscalePrior`` (``-a (2 x - 2 / x**3)``); see
    ``closed_form_prior_terms`` and ``log_prior_of_terms``.

    Args:
        model: the GP whose registered priors are summed.
        params: the parameters searched, by their ``named_parameters`` names.

    Returns:
        The log prior (a scalar tensor) and its gradient by parameter name (parameters
        without a prior are absent), or ``None`` when a prior is not covered (the caller
        then uses autograd).
    """
    terms = closed_form_prior_terms(model, params)
    return None if terms is None else log_prior_of_terms(terms, params)
