"""SMAC3's hyperparameter-optimisation facade (random forest) and its black-box facade
(Gaussian process) behind the benchmark ``Session`` interface."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import bayesopt as bo
from benchmarks.peers.common import WorstImputer, category_labels, plain

__all__ = ["SmacSession", "configspace", "make_bb", "make_hpo"]


def configspace(space: bo.Space, seed: int) -> Any:
    """``space`` as a ``ConfigSpace.ConfigurationSpace``: ``Float`` / ``Integer`` with
    ``log`` as in bayesopt, ``Categorical`` of the choices' labels.

    Example:
        >>> cs = configspace(bo.Space({"k": bo.Integer(1, 64, log=True)}), seed=0)
        >>> cs["k"].log, cs["k"].lower, cs["k"].upper
        (True, 1, 64)
    """
    from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

    cs = ConfigurationSpace(seed=seed)
    for name, p in space.items():
        if isinstance(p, bo.Categorical):
            cs.add(Categorical(name, category_labels(p)))
        elif isinstance(p, bo.Integer):
            cs.add(Integer(name, (int(p.low), int(p.high)), log=bool(p.log)))
        else:
            cs.add(Float(name, (float(p.low), float(p.high)), log=bool(p.log)))
    return cs


def _never_called(config: Any, seed: int = 0) -> float:
    raise RuntimeError("the benchmark evaluates SMAC's trials itself (ask/tell)")


class SmacSession:
    """A SMAC3 facade driven by ``ask`` / ``tell``, one evaluation per configuration.

    The scenario is deterministic (every contender evaluates each point once, noisy
    problems included), has the run's budget as ``n_trials`` and the run's seed; its
    intensifier is the facade's own with ``max_config_calls=1``. SMAC writes its output into
    a temporary folder, removed by ``close``. A failed evaluation is told as a ``CRASHED``
    trial whose cost is the worst value seen (1.0 before any): SMAC's default crash cost
    (infinity) makes its models fail. ``recommend`` is the incumbent.
    """

    def __init__(self, space: bo.Space, seed: int, budget: int, facade: str) -> None:
        import smac

        cls = {"hpo": smac.HyperparameterOptimizationFacade, "bb": smac.BlackBoxFacade}[facade]
        self.space = space
        self._folder = Path(tempfile.mkdtemp(prefix="smac-"))
        scenario = smac.Scenario(
            configspace(space, seed),
            deterministic=True,
            n_trials=budget,
            seed=seed,
            output_directory=self._folder / "out",
        )
        self.smac = cls(
            scenario,
            _never_called,
            intensifier=cls.get_intensifier(scenario, max_config_calls=1),
            overwrite=True,
            logging_level=40,
        )
        self._info: Any = None
        self._imputer = WorstImputer()

    def _params(self, config: Any) -> dict[str, Any]:
        values = dict(config)
        return {name: plain(values[name], p) for name, p in self.space.items()}

    def ask(self) -> dict[str, Any]:
        self._info = self.smac.ask()
        return self._params(self._info.config)

    def tell(self, value: float) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        assert self._info is not None, "tell() before ask()"
        status = StatusType.SUCCESS if math.isfinite(value) else StatusType.CRASHED
        trial_value = TrialValue(cost=self._imputer.finite(value), status=status)
        self.smac.tell(self._info, trial_value, save=False)
        self._info = None

    def recommend(self) -> dict[str, Any] | None:
        """SMAC's incumbent."""
        incumbent = self.smac.intensifier.get_incumbent()
        return None if incumbent is None else self._params(incumbent)

    def close(self) -> None:
        """Remove SMAC's output folder."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def info(self) -> dict[str, Any]:
        return {"failed_imputed": self._imputer.failed} if self._imputer.failed else {}


def make_hpo(space: bo.Space, seed: int, budget: int) -> SmacSession:
    """``HyperparameterOptimizationFacade``: random forest, log-scaled costs, local and
    random search of expected improvement."""
    return SmacSession(space, seed, budget, "hpo")


def make_bb(space: bo.Space, seed: int, budget: int) -> SmacSession:
    """``BlackBoxFacade``: Gaussian process (Matérn, Hamming kernel on categories), EI."""
    return SmacSession(space, seed, budget, "bb")
