"""bayesopt: Bayesian optimisation with an ask/tell interface, built on BoTorch.

Example:
    >>> import bayesopt as bo
    >>> space = bo.Space({"x": bo.Real(-5.0, 5.0), "n": bo.Integer(1, 4)})
    >>> opt = bo.Optimizer(space, seed=0)
    >>> trial = opt.ask()
    >>> _ = opt.tell(trial, trial.params["x"] ** 2 + trial.params["n"])
"""

from bayesopt import pruners
from bayesopt.asktell import AskTell, load
from bayesopt.gp import ModelOptions
from bayesopt.journal import JournalError, JournalWarning, Storage
from bayesopt.optimizer import FallbackReason, FallbackWarning, Optimizer
from bayesopt.propose import ProposeOptions
from bayesopt.pruners import Pruned
from bayesopt.random import RandomSearch
from bayesopt.run import Result, TrialHandle, maximize, minimize
from bayesopt.sensitivity import Importance, importance
from bayesopt.space import Categorical, Integer, Real, Space
from bayesopt.trial import Source, Trial, TrialState

__all__ = [
    "AskTell",
    "Categorical",
    "FallbackReason",
    "FallbackWarning",
    "Importance",
    "Integer",
    "JournalError",
    "JournalWarning",
    "ModelOptions",
    "Optimizer",
    "ProposeOptions",
    "Pruned",
    "RandomSearch",
    "Real",
    "Result",
    "Source",
    "Space",
    "Storage",
    "Trial",
    "TrialHandle",
    "TrialState",
    "importance",
    "load",
    "maximize",
    "minimize",
    "pruners",
]

__version__ = "0.1.0"
