"""Hyperparameter priors, and the log prior's gradient in closed form where it has one."""

from __future__ import annotations

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


@torch.no_grad()
def log_prior_of_terms(
    terms: list[PriorTerm], params: dict[str, Tensor]
) -> tuple[Tensor, dict[str, Tensor]]:
    """The log prior of ``closed_form_prior_terms`` and its gradient by parameter name:
    ``(c - 1) / x - r`` for a ``GammaPrior``, ``-a (2 x - 2 / x**3)`` for a
    ``BoundedLengthscalePrior``."""
    grads: dict[str, Tensor] = {}
    first = next(iter(params.values()))
    total = torch.zeros((), dtype=first.dtype, device=first.device)
    for name, prior, x in terms:
        if isinstance(prior, BoundedLengthscalePrior):
            grad = -prior.a * (2.0 * x - 2.0 * x.pow(-3))
        else:
            grad = (prior.concentration - 1.0) / x - prior.rate
        total = total + prior.log_prob(x).sum()
        grads[name] = grad if name not in grads else grads[name] + grad
    return total, grads


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
