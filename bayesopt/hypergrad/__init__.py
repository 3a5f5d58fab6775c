"""Gradient-based hyperparameter optimisation through unrolled training.

Exact hypergradients of a validation loss with respect to the continuous hyperparameters
of SGD with momentum (learning-rate and momentum schedules, weight decay, initial-weight
scale, and optionally the initial weights themselves), by autograd through the loop or by
running SGD backwards from checkpoints (Maclaurin, Duvenaud & Adams, 2015); a
meta-optimiser on top; and the online SGD-HD baseline (Baydin et al., 2018).

Example:
    >>> import torch
    >>> from bayesopt.hypergrad import HypergradientDescent, Hyperparameters, TrainingProblem
    >>> gen = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(60, 4, generator=gen), torch.arange(60) % 3
    >>> problem = TrainingProblem(torch.nn.Linear(4, 3), (X[:40], y[:40]), (X[40:], y[40:]),
    ...                           n_steps=20, batch_size=10, init_seed=0)
    >>> hd = HypergradientDescent(problem, Hyperparameters.create(lr=0.1, momentum=0.5))
    >>> best = hd.run(5)
    >>> len(hd.trials), best.value <= hd.trials[0].value
    (5, True)
"""

from bayesopt.hypergrad.grad import METHODS, Hypergradient, hypergradient
from bayesopt.hypergrad.hyper import FIELDS, OPTIONAL, Hyperparameters, block_index
from bayesopt.hypergrad.meta import HypergradientDescent, MetaStep
from bayesopt.hypergrad.online import SGDHDResult, sgd_hd
from bayesopt.hypergrad.problem import TrainingProblem, TrainResult

__all__ = [
    "FIELDS",
    "METHODS",
    "OPTIONAL",
    "Hypergradient",
    "HypergradientDescent",
    "Hyperparameters",
    "MetaStep",
    "SGDHDResult",
    "TrainResult",
    "TrainingProblem",
    "block_index",
    "hypergradient",
    "sgd_hd",
]
