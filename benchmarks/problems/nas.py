"""A tabular architecture benchmark: small MLPs on ``load_digits``, looked up, not trained.

``benchmarks/data/nas_digits.npz`` (built by ``benchmarks/scripts/make_nas_digits.py``, which
documents the space and the training) holds, for each of 3,072 configurations of a
3-hidden-layer MLP (three widths, the activation, residual shortcuts, Adam's learning rate
and the batch size) trained with 3 seeds, the validation accuracy after every epoch, the
test accuracy, the parameter count and the training seconds.

The problem ``nas-digits`` evaluates a configuration by picking one of its 3 seeds at
random (so the objective is noisy, as retraining would be) and returning that seed's
validation error after the last epoch; the noise-free value behind it is the mean over the
seeds. The test error (mean over seeds) is extra information: it is never shown to the
optimiser, and the report uses it to score the configuration chosen by validation.
Every parameter is a ``Categorical`` over the table's values (the benchmark is a lookup
table, as in NAS-Bench-101 and -201).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bayesopt as bo
from benchmarks.problems.base import Evaluation, Problem

__all__ = ["DATA", "NasProblem", "NasTable", "load_table", "nas_problem", "nas_problems"]

DATA = Path(__file__).resolve().parents[1] / "data" / "nas_digits.npz"


@dataclass(frozen=True, eq=False)
class NasTable:
    """The results table: one row per configuration, in ``np.ravel_multi_index`` order of
    the grid's axes.

    Attributes:
        names: the parameters, in axis order.
        grid: ``{name: choices}``.
        val_acc: ``n x seeds x epochs`` validation accuracy after each epoch.
        test_acc: ``n x seeds`` test accuracy after the last epoch.
        n_params: ``n`` parameter counts.
        train_seconds: ``n`` CPU seconds to train a configuration with all seeds.
        meta: the build's metadata (epochs, split, wall and CPU time, platform).
    """

    names: tuple[str, ...]
    grid: Mapping[str, tuple[Any, ...]]
    val_acc: np.ndarray
    test_acc: np.ndarray
    n_params: np.ndarray
    train_seconds: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of choices per parameter."""
        return tuple(len(self.grid[k]) for k in self.names)

    @property
    def n_configs(self) -> int:
        """Number of configurations (rows)."""
        return int(np.prod(self.shape))

    @property
    def n_seeds(self) -> int:
        """Training seeds per configuration."""
        return int(self.val_acc.shape[1])

    def space(self) -> bo.Space:
        """The search space: a ``Categorical`` per parameter."""
        return bo.Space({k: bo.Categorical(list(self.grid[k])) for k in self.names})

    def row(self, params: Mapping[str, Any]) -> int:
        """The row of a configuration.

        Raises:
            ValueError: a parameter is missing or takes a value outside the table.
        """
        index = []
        for k in self.names:
            if k not in params:
                raise ValueError(f"nas: missing parameter {k!r}; the table has {self.names}.")
            try:
                index.append(self.grid[k].index(params[k]))
            except ValueError:
                raise ValueError(
                    f"nas: {k}={params[k]!r} is not in the table; choices: {self.grid[k]}."
                ) from None
        return int(np.ravel_multi_index(tuple(index), self.shape))

    def params(self, row: int) -> dict[str, Any]:
        """The configuration of a row (the inverse of ``row``)."""
        index = np.unravel_index(int(row), self.shape)
        return {k: self.grid[k][int(i)] for k, i in zip(self.names, index, strict=True)}

    def val_error(self, params: Mapping[str, Any], seed: int | None = None) -> float:
        """Validation error after the last epoch: of one seed, or the mean over seeds."""
        acc = self.val_acc[self.row(params), :, -1]
        return float(1.0 - (acc.mean() if seed is None else acc[seed]))

    def test_error(self, params: Mapping[str, Any], seed: int | None = None) -> float:
        """Test error: of one seed, or the mean over seeds."""
        acc = self.test_acc[self.row(params)]
        return float(1.0 - (acc.mean() if seed is None else acc[seed]))

    def mean_val_error(self) -> np.ndarray:
        """``n`` mean validation errors after the last epoch."""
        return 1.0 - self.val_acc[:, :, -1].mean(axis=1)

    def mean_test_error(self) -> np.ndarray:
        """``n`` mean test errors."""
        return 1.0 - self.test_acc.mean(axis=1)


@functools.cache
def _load(path: str) -> NasTable:
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        names = tuple(meta["names"])
        return NasTable(
            names=names,
            grid={k: tuple(meta["grid"][k]) for k in names},
            val_acc=z["val_acc"].astype(np.float64),
            test_acc=z["test_acc"].astype(np.float64),
            n_params=z["n_params"].astype(np.int64),
            train_seconds=z["train_seconds"].astype(np.float64),
            meta=meta,
        )


def load_table(path: str | Path = DATA) -> NasTable:
    """The table stored at ``path`` (read once per process).

    Raises:
        FileNotFoundError: there is no such file (build it with
            ``benchmarks/scripts/make_nas_digits.py``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no table; build it with python benchmarks/scripts/make_nas_digits.py"
        )
    return _load(str(path.resolve()))


@dataclass(frozen=True)
class NasProblem(Problem):
    """A ``Problem`` whose evaluations look up one random seed of a ``NasTable``.

    Attributes:
        table: the results table.
    """

    table: NasTable | None = None

    @property
    def noisy(self) -> bool:
        """Always: each evaluation is one seed's result."""
        return True

    def evaluator(self, seed: int):  # type: ignore[no-untyped-def]
        """The objective of run ``seed``: evaluation ``k`` picks the table seed drawn by a
        stream that depends only on ``seed`` (the same for every contender).

        Returns:
            ``params -> Evaluation(observed, true)``: one seed's validation error and the
            mean over seeds.
        """
        assert self.table is not None
        table = self.table
        rng = np.random.default_rng(self.noise_seed(seed))

        def evaluate(params: dict[str, Any]) -> Evaluation:
            pick = int(rng.integers(table.n_seeds))
            return Evaluation(table.val_error(params, pick), table.val_error(params))

        return evaluate

    def test_error(self, params: Mapping[str, Any]) -> float:
        """The test error of a configuration (mean over seeds); never shown to optimisers."""
        assert self.table is not None
        return self.table.test_error(params)


def nas_problem(path: str | Path = DATA, *, budget: int = 100) -> NasProblem:
    """The ``nas-digits`` problem on the table at ``path``.

    Example:
        >>> from pathlib import Path
        >>> fixture = Path(__file__).resolve().parents[2] / "tests/data/nas_digits_tiny.npz"
        >>> p = nas_problem(fixture, budget=5)
        >>> p.space.dim, p.optimum < 1.0
        (7, True)
    """
    table = load_table(path)
    errors = table.mean_val_error()
    return NasProblem(
        name="nas-digits",
        family="ml",
        space=table.space(),
        budget=budget,
        fn=table.val_error,
        optimum=float(errors.min()),
        eval_cost_s=1e-5,
        description=(
            f"tabular NAS: {table.n_configs} MLPs on digits, {table.n_seeds} seeds, "
            "validation error of a random seed"
        ),
        table=table,
    )


def nas_problems() -> list[Problem]:
    """``[nas-digits]`` when its table is present, else ``[]``."""
    return [nas_problem()] if DATA.is_file() else []
