"""SGD-HD: online hypergradient descent on the learning rate (Baydin et al., 2018).

A cheap baseline with a one-step horizon: during a single training run, the learning rate
follows the derivative of the current minibatch loss with respect to the previous step's
rate. With the update ``w_t = w_{t-1} + lr_{t-1} v_t`` (see ``TrainingProblem``) that
derivative is ``h_t = g_t . v_t`` (summed per group), where ``g_t`` is the gradient at
``w_t`` including weight decay. The rate is updated before each step:

* multiplicative (default, scale-free): ``lr_t = lr_{t-1} (1 - beta cos(g_t, v_t))``
  (Baydin et al.'s normalised rule, ``0 < beta < 1``);
* additive: ``lr_t = max(0, lr_{t-1} - beta h_t)``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
from torch import Tensor

from bayesopt.hypergrad.hyper import Hyperparameters
from bayesopt.hypergrad.problem import TrainingProblem

__all__ = ["SGDHDResult", "sgd_hd"]


@dataclass(frozen=True)
class SGDHDResult:
    """One SGD-HD training run.

    Attributes:
        value: validation loss after training (``inf`` if training diverged).
        weights: ``P`` final weights, ``None`` if training diverged.
        lr: ``T' x G_lr`` learning rate used at each step.
        train_losses: ``T'`` minibatch losses.
        diverged, diverged_at, reason: as in ``TrainResult``.
    """

    value: float
    weights: Tensor | None
    lr: Tensor
    train_losses: Tensor
    diverged: bool = False
    diverged_at: int | None = None
    reason: str | None = None

    @property
    def params(self) -> dict[str, float | list]:
        """The learning-rate schedule it used, JSON-friendly (``lr``: ``T x G`` lists)."""
        return {"lr": self.lr.tolist()}


def sgd_hd(
    problem: TrainingProblem,
    hypers: Hyperparameters,
    *,
    beta: float = 0.02,
    multiplicative: bool = True,
) -> SGDHDResult:
    """Train once, adapting the learning rate online by its one-step hypergradient.

    Args:
        problem: the training problem.
        hypers: the starting point: the first row of ``hypers.lr`` is the initial rate (one
            per group, or shared); momentum, weight decay and init scale are used as given.
        beta: hypergradient step: dimensionless in ``(0, 1)`` when ``multiplicative``,
            in units of ``lr / (g . v)`` otherwise.
        multiplicative: use the normalised multiplicative rule (see the module docstring).

    Returns:
        An ``SGDHDResult`` with the learning rate of every step.

    Example:
        >>> import torch
        >>> from bayesopt.hypergrad import TrainingProblem
        >>> gen = torch.Generator().manual_seed(0)
        >>> X, y = torch.randn(50, 2, generator=gen), torch.arange(50) % 2
        >>> problem = TrainingProblem(torch.nn.Linear(2, 2), (X, y), (X, y), n_steps=30,
        ...                           init_seed=0)
        >>> out = sgd_hd(problem, Hyperparameters.create(lr=0.01, momentum=0.5), beta=0.05)
        >>> bool(out.lr[-1, 0] > out.lr[0, 0])   # the rate grows from a too-small start
        True
    """
    if not isinstance(problem, TrainingProblem):
        raise TypeError(f"`problem` must be a TrainingProblem, but got {type(problem)}.")
    problem.check(hypers)
    if not isinstance(multiplicative, bool):
        raise TypeError(f"`multiplicative` must be a bool, but got {multiplicative!r}.")
    if not isinstance(beta, numbers.Real) or isinstance(beta, bool):
        raise TypeError(f"`beta` must be a number, but got {beta!r}.")
    if multiplicative and not 0 <= beta < 1:
        raise ValueError(f"`0 <= beta < 1` must hold for the multiplicative rule, got {beta!r}.")
    if not multiplicative and not 0 <= beta < math.inf:
        raise ValueError(f"`0 <= beta < inf` must hold, but got beta={beta!r}.")
    with torch.no_grad():
        sched = problem.schedule(hypers.raw)
        lr = sched.lr[0].clone()
        cols = lr.shape[0]
        lam = problem.per_element(sched.weight_decay)
        w, v = problem.initial_state(sched)
        lrs: list[Tensor] = []
        losses: list[float] = []
        watch = problem.watch()
        for t in range(problem.n_steps):
            g, loss = problem.grad_and_loss(w, t)
            losses.append(float(loss))
            why = watch(t, losses[-1])
            if why is not None:
                return _diverged(lrs, losses, t, why, cols)
            g = g + lam * w
            if t > 0:
                h = problem.per_group(g * v, cols)
                if multiplicative:
                    lr = lr * (1 - beta * h / _norm_product(g, v, problem, cols))
                else:
                    lr = (lr - beta * h).clamp_min(0.0)
            lrs.append(lr)
            m = problem.per_element(sched.momentum[t])
            v = m * v - (1 - m) * g
            w = w + problem.per_element(lr) * v
        value = float(problem.validation_loss(w))
        if not math.isfinite(value) or not bool(torch.isfinite(w).all()):
            return _diverged(lrs, losses, problem.n_steps, "validation loss not finite", cols)
        return SGDHDResult(value, w, torch.stack(lrs), torch.tensor(losses))


def _norm_product(g: Tensor, v: Tensor, problem: TrainingProblem, cols: int) -> Tensor:
    """``|g|_group |v|_group``, with zeros replaced by 1 (then the cosine is 0)."""
    denom = problem.per_group(g * g, cols).sqrt() * problem.per_group(v * v, cols).sqrt()
    return torch.where(denom > 0, denom, torch.ones_like(denom))


def _diverged(
    lrs: list[Tensor], losses: list[float], step: int, why: str, cols: int
) -> SGDHDResult:
    lr = torch.stack(lrs) if lrs else torch.zeros(0, cols)
    return SGDHDResult(math.inf, None, lr, torch.tensor(losses), True, step, why)
