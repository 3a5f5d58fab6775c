"""bayesopt: Bayesian optimisation with an ask/tell interface, built on BoTorch.

Every name a user passes to a public function is here: spaces, their parameters,
conditions (``In``, ``Condition``) and constraints (``Linear``, ``Predicate``), the
proposers (``Optimizer``, ``RandomSearch``, ``EvolutionSearch``, ``ControllerSearch``, and
``AskTell`` to write one), their options (``ModelOptions``, ``ProposeOptions``,
``Storage``), the pruners (also in ``bayesopt.pruners``), trials and their enums,
``minimize`` and what it returns or hands to an objective, parameter importance, and
``outcomes`` (objectives and constraints of a study with several outcomes: Pareto fronts,
hypervolumes).

Example:
    >>> import bayesopt as bo
    >>> space = bo.Space({"x": bo.Real(-5.0, 5.0), "n": bo.Integer(1, 4)})
    >>> opt = bo.Optimizer(space, seed=0)
    >>> trial = opt.ask()
    >>> _ = opt.tell(trial, trial.params["x"] ** 2 + trial.params["n"])
"""

from bayesopt import outcomes, pruners
from bayesopt.asktell import AskTell, load
from bayesopt.controller import ControllerSearch
from bayesopt.evolution import EvolutionSearch
from bayesopt.gp import ModelOptions
from bayesopt.journal import JournalError, JournalWarning, Storage
from bayesopt.optimizer import FallbackReason, FallbackWarning, Optimizer
from bayesopt.propose import ProposeOptions
from bayesopt.pruners import ASHA, Hyperband, MedianPruner, Pruned, Pruner, SuccessiveHalving
from bayesopt.random import RandomSearch
from bayesopt.run import Result, TrialHandle, maximize, minimize
from bayesopt.sensitivity import Importance, importance
from bayesopt.space import Categorical, Condition, In, Integer, Linear, Predicate, Real, Space
from bayesopt.trial import Source, Trial, TrialState

__all__ = [
    "ASHA",
    "AskTell",
    "Categorical",
    "Condition",
    "ControllerSearch",
    "EvolutionSearch",
    "FallbackReason",
    "FallbackWarning",
    "Hyperband",
    "Importance",
    "In",
    "Integer",
    "JournalError",
    "JournalWarning",
    "Linear",
    "MedianPruner",
    "ModelOptions",
    "Optimizer",
    "Predicate",
    "ProposeOptions",
    "Pruned",
    "Pruner",
    "RandomSearch",
    "Real",
    "Result",
    "Source",
    "Space",
    "Storage",
    "SuccessiveHalving",
    "Trial",
    "TrialHandle",
    "TrialState",
    "importance",
    "load",
    "maximize",
    "minimize",
    "outcomes",
    "pruners",
]

__version__ = "0.1.0"
