"""Multi-fidelity problems: a trial trains step by step and reports a value at each step.

Three kinds, each a ``CurveProblem``:

* ``digits-mlp`` (tabular): learning curves of a torch MLP on ``load_digits``, looked up in
  ``benchmarks/data/digits_mlp_curves.npz`` (made once by
  ``benchmarks/scripts/make_learning_curves.py``: 512 Sobol configurations, 50 epochs, 3
  seeds). A configuration is mapped to the nearest tabulated one (unit cube, the space's
  own encoding); each evaluation draws one of the 3 training seeds, so repeated
  evaluations are noisy as real training is. Training seconds are the tabulated ones.
* live tasks: scikit-learn models trained epoch by epoch on bundled data
  (``SGDClassifier`` and ``MLPClassifier`` with ``partial_fit`` on ``load_breast_cancer``
  and ``load_wine``; ``HistGradientBoostingClassifier`` grown by ``warm_start``, 4
  boosting iterations a step). The value is the validation log-loss; seconds are measured.
* synthetic: BoTorch's ``AugmentedHartmann`` and ``AugmentedBranin``, whose last input is
  the fidelity ``s`` in ``[0, 1]``; step ``k`` of ``max_step`` evaluates ``s = k / max_step``
  (target ``s = 1``). A step costs one unit.

The cost of a trial is the number of steps it trained (continuing a run costs only the new
steps; a run started afresh pays again from step 1).
"""

from __future__ import annotations

import functools
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

import bayesopt as bo

__all__ = ["CurveProblem", "CurveTable", "Job", "curve_problems", "load_table"]

TABLE = Path(__file__).resolve().parents[1] / "data" / "digits_mlp_curves.npz"


class Job(Protocol):
    """One training run of one configuration."""

    step: int
    seconds: float

    def advance(self, step: int) -> float:
        """Train on to ``step`` (> the current one); the validation value there."""
        ...

    def test_score(self) -> float:
        """The test score (accuracy; for synthetic functions minus the noise-free value)
        of the model as trained so far."""
        ...


@dataclass(frozen=True)
class CurveProblem:
    """A multi-fidelity minimisation problem.

    Attributes:
        name: registry key.
        kind: ``"tabular"``, ``"live"`` or ``"synthetic"``.
        space: the search space.
        min_step: the smallest budget (steps) a trial is judged at.
        max_step: the full budget.
        max_cost: the cost each run gets, in full trainings (``max_step`` steps each).
        start: ``(params, rng) -> Job``, a fresh training run.
        true_value: the noise-free value of a configuration at the full budget (tabular:
            the mean over the training seeds; synthetic: ``f(x, 1)``), or ``None`` when
            only the observed value is known (live tasks).
        optimum: the lowest ``true_value`` (tabular: over the table), or ``None``.
        description: one line for the report.
    """

    name: str
    kind: str
    space: bo.Space
    min_step: int
    max_step: int
    max_cost: float
    start: Callable[[dict[str, Any], np.random.Generator], Job]
    true_value: Callable[[dict[str, Any]], float] | None = None
    optimum: float | None = None
    description: str = ""
    seeds: int = field(default=50, compare=False)


# The tabular MLP benchmark ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CurveTable:
    """The tabulated learning curves (see ``benchmarks/scripts/make_learning_curves.py``).

    Attributes:
        space: the search space the configurations were drawn from.
        U: ``n x d`` unit-cube coordinates of the tabulated configurations (the space's
            encoding of their params).
        val_loss: ``n x seeds x epochs`` validation cross-entropy.
        test_loss: ``n x seeds`` test cross-entropy after the last epoch.
        test_acc: ``n x seeds`` test accuracy after the last epoch.
        epoch_seconds: ``n x epochs`` CPU seconds of one epoch of one seed.
        meta: what the generating script recorded (its settings, total CPU time).
    """

    space: bo.Space
    U: np.ndarray
    val_loss: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    epoch_seconds: np.ndarray
    meta: dict[str, Any]

    @property
    def epochs(self) -> int:
        """Epochs per curve."""
        return int(self.val_loss.shape[2])

    def nearest(self, params: dict[str, Any]) -> int:
        """The row of the tabulated configuration nearest to ``params`` (unit cube)."""
        u = self.space.to_unit(params).numpy()
        return int(np.argmin(((self.U - u) ** 2).sum(axis=1)))

    def true_value(self, params: dict[str, Any]) -> float:
        """Mean over the seeds of the last epoch's validation loss of the nearest row."""
        return float(self.val_loss[self.nearest(params), :, -1].mean())


def _table_space(spec: dict[str, list]) -> bo.Space:
    params: dict[str, bo.Real | bo.Integer] = {}
    for name, (lo, hi, log, integer) in spec.items():
        params[name] = (
            bo.Integer(int(lo), int(hi), log=log) if integer else bo.Real(lo, hi, log=log)
        )
    return bo.Space(params)


@functools.cache
def load_table(path: str = str(TABLE)) -> CurveTable:
    """The tabulated curves at ``path`` (read once per process)."""
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        space = _table_space(meta["params"])
        names = list(meta["params"])
        configs = [
            {n: (round(float(z[n][i])) if meta["params"][n][3] else float(z[n][i])) for n in names}
            for i in range(len(z["unit"]))
        ]
        U = np.stack([space.to_unit(space.validate(c)).numpy() for c in configs])
        return CurveTable(
            space=space,
            U=U,
            val_loss=z["val_loss"].astype(np.float64),
            test_loss=z["test_loss"].astype(np.float64),
            test_acc=z["test_acc"].astype(np.float64),
            epoch_seconds=z["epoch_seconds"].astype(np.float64),
            meta=meta,
        )


class TableJob:
    """A looked-up training run: one of the tabulated seeds, drawn at the start."""

    def __init__(self, table: CurveTable, params: dict[str, Any], rng: np.random.Generator):
        self.table = table
        self.row = table.nearest(params)
        self.seed = int(rng.integers(table.val_loss.shape[1]))
        self.step = 0
        self.seconds = 0.0

    def advance(self, step: int) -> float:
        self.seconds += float(self.table.epoch_seconds[self.row, self.step : step].sum())
        self.step = step
        return float(self.table.val_loss[self.row, self.seed, step - 1])

    def test_score(self) -> float:
        """Test accuracy of the configuration (mean over the seeds, after the last epoch)."""
        return float(self.table.test_acc[self.row].mean())


def _tabular(path: str = str(TABLE)) -> CurveProblem:
    table = load_table(path)
    full = table.val_loss[:, :, -1].mean(axis=1)
    return CurveProblem(
        name="digits-mlp",
        kind="tabular",
        space=table.space,
        min_step=1,
        max_step=table.epochs,
        max_cost=20.0,
        start=lambda params, rng: TableJob(table, params, rng),
        true_value=table.true_value,
        optimum=float(full.min()),
        description=(
            f"MLP on load_digits, {len(table.U)} tabulated configurations x "
            f"{table.val_loss.shape[1]} seeds x {table.epochs} epochs (validation "
            "cross-entropy; nearest-neighbour lookup, a random seed per evaluation)"
        ),
        seeds=50,
    )


# Live scikit-learn tasks -------------------------------------------------------------------------
@functools.cache
def _split(dataset: str) -> tuple[np.ndarray, ...]:
    """Standardised ``(X_train, y_train, X_val, y_val, X_test, y_test)``: 60/20/20, seed 0."""
    import sklearn.datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(sklearn.datasets, f"load_{dataset}")(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    X_va, X_te, y_va, y_te = train_test_split(
        X_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest
    )
    scaler = StandardScaler().fit(X_tr)
    return (
        scaler.transform(X_tr),
        y_tr,
        scaler.transform(X_va),
        y_va,
        scaler.transform(X_te),
        y_te,
    )


class SklearnJob:
    """A live scikit-learn training run, one ``partial_fit`` epoch (or one warm-started
    growth of 4 boosting iterations) per step."""

    def __init__(self, kind: str, dataset: str, params: dict[str, Any], seed: int) -> None:
        self.kind, self.data = kind, _split(dataset)
        self.classes = np.unique(self.data[1])
        self.model = _build(kind, params, seed)
        self.rng = np.random.default_rng(seed)
        self.step = 0
        self.seconds = 0.0

    def advance(self, step: int) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import log_loss

        X_tr, y_tr, X_va, y_va = self.data[:4]
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.kind == "hgb":
                self.model.set_params(max_iter=4 * step)
                self.model.fit(X_tr, y_tr)
            else:
                for _ in range(self.step, step):
                    order = self.rng.permutation(len(y_tr))
                    self.model.partial_fit(X_tr[order], y_tr[order], classes=self.classes)
            proba = self.model.predict_proba(X_va)
        self.seconds += time.process_time() - start
        self.step = step
        if not np.isfinite(proba).all():
            return math.nan
        return float(log_loss(y_va, np.clip(proba, 1e-12, 1.0), labels=self.classes))

    def test_score(self) -> float:
        """Test accuracy of the model as trained so far."""
        X_te, y_te = self.data[4:]
        return float((self.model.predict(X_te) == y_te).mean())


def _build(kind: str, params: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier

    if kind == "sgd":
        return SGDClassifier(
            loss="log_loss", penalty="elasticnet", alpha=params["alpha"],
            l1_ratio=params["l1_ratio"], learning_rate="invscaling", eta0=params["eta0"],
            power_t=params["power_t"], random_state=seed,
        )  # fmt: skip
    if kind == "mlp":
        return MLPClassifier(
            hidden_layer_sizes=(params["width"],), alpha=params["alpha"],
            learning_rate_init=params["lr"], batch_size=params["batch_size"],
            random_state=seed,
        )  # fmt: skip
    return HistGradientBoostingClassifier(
        learning_rate=params["lr"], max_leaf_nodes=params["max_leaf_nodes"],
        min_samples_leaf=params["min_samples_leaf"], l2_regularization=params["l2"],
        warm_start=True, early_stopping=False, max_iter=4, random_state=seed,
    )  # fmt: skip


LIVE_SPACES = {
    "sgd": {
        "alpha": bo.Real(1e-6, 1e-1, log=True),
        "l1_ratio": bo.Real(0.0, 1.0),
        "eta0": bo.Real(1e-4, 1.0, log=True),
        "power_t": bo.Real(0.05, 1.0),
    },
    "mlp": {
        "width": bo.Integer(4, 128, log=True),
        "alpha": bo.Real(1e-6, 1e-1, log=True),
        "lr": bo.Real(1e-4, 1e-1, log=True),
        "batch_size": bo.Integer(8, 128, log=True),
    },
    "hgb": {
        "lr": bo.Real(0.01, 1.0, log=True),
        "max_leaf_nodes": bo.Integer(2, 64, log=True),
        "min_samples_leaf": bo.Integer(1, 64, log=True),
        "l2": bo.Real(1e-6, 10.0, log=True),
    },
}

LIVE = {
    "sgd-breast": ("sgd", "breast_cancer"),
    "sgd-wine": ("sgd", "wine"),
    "mlp-breast": ("mlp", "breast_cancer"),
    "mlp-wine": ("mlp", "wine"),
    "hgb-breast": ("hgb", "breast_cancer"),
}


def _live(name: str) -> CurveProblem:
    kind, dataset = LIVE[name]
    what = {"sgd": "SGDClassifier (log-loss, elastic net)", "mlp": "MLPClassifier, one layer",
            "hgb": "HistGradientBoostingClassifier, 4 iterations a step"}[kind]  # fmt: skip

    def start(params: dict[str, Any], rng: np.random.Generator) -> Job:
        return SklearnJob(kind, dataset, params, int(rng.integers(2**31)))

    return CurveProblem(
        name=name,
        kind="live",
        space=bo.Space(LIVE_SPACES[kind]),
        min_step=1,
        max_step=27,
        max_cost=10.0,
        start=start,
        description=f"{what} on load_{dataset} (validation log-loss per step, run live)",
        seeds=5,
    )


# Synthetic multi-fidelity functions --------------------------------------------------------------
class FunctionJob:
    """A deterministic function of the configuration and the fidelity ``step / max_step``."""

    def __init__(self, fn: Callable[[np.ndarray], float], x: np.ndarray, max_step: int):
        self.fn, self.x, self.max_step = fn, x, max_step
        self.step = 0
        self.seconds = 0.0

    def advance(self, step: int) -> float:
        self.step = step
        return self.fn(np.append(self.x, step / self.max_step))

    def test_score(self) -> float:
        """Minus the target-fidelity value (higher is better, like an accuracy)."""
        return -self.fn(np.append(self.x, 1.0))


def _synthetic(name: str) -> CurveProblem:
    import torch
    from botorch.test_functions.multi_fidelity import AugmentedBranin, AugmentedHartmann

    function = {"hartmann-mf": AugmentedHartmann, "branin-mf": AugmentedBranin}[name]()
    lo, hi = function.bounds[:, :-1].tolist()
    names = [f"x{i}" for i in range(len(lo))]
    space = bo.Space({n: bo.Real(a, b) for n, a, b in zip(names, lo, hi, strict=True)})

    def fn(z: np.ndarray) -> float:
        return float(function.evaluate_true(torch.tensor(z, dtype=torch.float64)[None]).item())

    def vector(params: dict[str, Any]) -> np.ndarray:
        return np.array([float(params[n]) for n in names])

    max_step = 27
    optimum = float(function.optimal_value)
    return CurveProblem(
        name=name,
        kind="synthetic",
        space=space,
        min_step=1,
        max_step=max_step,
        max_cost=20.0,
        start=lambda params, rng: FunctionJob(fn, vector(params), max_step),
        true_value=lambda params: fn(np.append(vector(params), 1.0)),
        optimum=optimum,
        description=(
            f"BoTorch's {type(function).__name__} (d = {len(names)}), fidelity "
            f"s = step / {max_step}, one cost unit a step"
        ),
        seeds=10,
    )


def curve_problems() -> dict[str, Callable[[], CurveProblem]]:
    """``{name: factory}`` of every multi-fidelity problem, the tabular one first."""
    out: dict[str, Callable[[], CurveProblem]] = {"digits-mlp": _tabular}
    out.update({n: functools.partial(_synthetic, n) for n in ("hartmann-mf", "branin-mf")})
    out.update({n: functools.partial(_live, n) for n in LIVE})
    return out
