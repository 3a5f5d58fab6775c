"""Structured (conditional) search spaces: tree-shaped synthetic functions and CASH.

Every problem here has parameters that matter only in some branches (``when=``), so a
params dict holds the active parameters only.

* ``jenatton``: the tree function of Jenatton et al. (2017), "Bayesian optimization with
  tree-structured dependencies" (ICML): two binary levels choose one of four quadratics,
  each with its own variable, plus a shared offset per top-level branch; the minimum 0.1 is
  at ``x1 = 0, x2 = 0, x4 = 0, r8 = 0``.
* ``cond-branin``: Branin with a root choice among three branches that share ``x1``: the
  plain function, a copy lifted by ``0.3 + shift`` (``shift`` active in that branch only),
  and a one-dimensional cut at ``x2 = 12.275`` lifted by 1. The global minimum is Branin's,
  0.397887, in the first branch.
* ``cond-hartmann``: a choice between Hartmann-3 lifted by 0.6 (minimum -3.26278) and
  Hartmann-6 (minimum -3.32237, the global one), each on its own coordinates. The
  three-dimensional branch is easier to search, so it looks better early: a trap for
  optimisers that commit to a branch too soon.
* ``cash-<data>``: combined algorithm selection and hyperparameter optimisation on a
  bundled scikit-learn data set: a scaler (none, standard, quantile with its output
  distribution) and a learner among six (logistic or ridge regression, SVM with an RBF or
  polynomial kernel and the polynomial's degree, random forest, histogram gradient
  boosting, k-NN, MLP), each with its own two to four hyperparameters: 23 parameters, at
  most 7 active at once. The loss is the 3-fold cross-validated error (1 - accuracy;
  1 - R^2 on ``diabetes``) on a training split; ``test_loss`` scores a configuration,
  refitted on the training split, on the held-out quarter.

CASH is kept cheap on a CPU: digits is subsampled to 400 rows, forests have at most 100
trees, boosting at most 100 rounds, the MLP at most 100 epochs, the SVM at most 20,000
iterations, and every model runs on one thread with a fixed seed (so the loss is
deterministic).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.test_functions import Branin, Hartmann

from bayesopt.space import Categorical, Integer, Real, Space
from benchmarks.problems.base import Problem

__all__ = [
    "CASH_DATASETS",
    "CashTask",
    "cash_space",
    "cond_branin",
    "cond_hartmann",
    "jenatton",
    "structured_problems",
]

JENATTON_MIN = 0.1
BRANIN_MIN = 0.397887357729738
HARTMANN6_MIN = -3.32237
HARTMANN3_LIFT = 0.6


# Synthetic trees ------------------------------------------------------------------------------
def jenatton_space() -> Space:
    """The space of the Jenatton et al. (2017) tree function (9 parameters, 4 active)."""
    return Space(
        {
            "x1": Categorical([0, 1]),
            "x2": Categorical([0, 1], when={"x1": 0}),
            "x3": Categorical([0, 1], when={"x1": 1}),
            "x4": Real(-1.0, 1.0, when={"x2": 0}),
            "x5": Real(-1.0, 1.0, when={"x2": 1}),
            "x6": Real(-1.0, 1.0, when={"x3": 0}),
            "x7": Real(-1.0, 1.0, when={"x3": 1}),
            "r8": Real(0.0, 1.0, when={"x1": 0}),
            "r9": Real(0.0, 1.0, when={"x1": 1}),
        }
    )


def jenatton(p: dict[str, Any]) -> float:
    """The tree function (minimum 0.1)."""
    if p["x1"] == 0:
        leaf = p["x4"] ** 2 + 0.1 if p["x2"] == 0 else p["x5"] ** 2 + 0.2
        return leaf + p["r8"]
    leaf = p["x6"] ** 2 + 0.3 if p["x3"] == 0 else p["x7"] ** 2 + 0.4
    return leaf + p["r9"]


def cond_branin_space() -> Space:
    """Three branches sharing ``x1``; ``x2`` shared by two of them (membership)."""
    return Space(
        {
            "branch": Categorical(["plain", "lifted", "cut"]),
            "x1": Real(-5.0, 10.0),
            "x2": Real(0.0, 15.0, when={"branch": ["plain", "lifted"]}),
            "shift": Real(0.0, 1.0, when={"branch": "lifted"}),
        }
    )


@functools.cache
def _branin() -> Branin:
    return Branin()


def _branin_at(x1: float, x2: float) -> float:
    return float(_branin().evaluate_true(torch.tensor([[x1, x2]], dtype=torch.float64)))


def cond_branin(p: dict[str, Any]) -> float:
    """Branin, a lifted copy, or a lifted one-dimensional cut (minimum 0.397887)."""
    if p["branch"] == "plain":
        return _branin_at(p["x1"], p["x2"])
    if p["branch"] == "lifted":
        return _branin_at(p["x1"], p["x2"]) + 0.3 + p["shift"]
    return _branin_at(p["x1"], 12.275) + 1.0


def cond_hartmann_space() -> Space:
    """Hartmann-3 or Hartmann-6, each on its own coordinates (10 parameters, 7 active)."""
    params: dict[str, Any] = {"fn": Categorical(["h3", "h6"])}
    params |= {f"a{i}": Real(0.0, 1.0, when={"fn": "h3"}) for i in range(3)}
    params |= {f"b{i}": Real(0.0, 1.0, when={"fn": "h6"}) for i in range(6)}
    return Space(params)


@functools.cache
def _hartmann(dim: int) -> Hartmann:
    return Hartmann(dim=dim)


def cond_hartmann(p: dict[str, Any]) -> float:
    """Hartmann-3 + 0.6 or Hartmann-6 (minimum -3.32237, in the Hartmann-6 branch)."""
    if p["fn"] == "h3":
        x = torch.tensor([[p[f"a{i}"] for i in range(3)]], dtype=torch.float64)
        return float(_hartmann(3).evaluate_true(x)) + HARTMANN3_LIFT
    x = torch.tensor([[p[f"b{i}"] for i in range(6)]], dtype=torch.float64)
    return float(_hartmann(6).evaluate_true(x))


# CASH -----------------------------------------------------------------------------------------
CASH_DATASETS = {
    "digits": ("load_digits", 400, "classification"),
    "breast": ("load_breast_cancer", 569, "classification"),
    "wine": ("load_wine", 178, "classification"),
    "diabetes": ("load_diabetes", 442, "regression"),
}
"""``{name: (sklearn.datasets loader, rows kept, task)}``."""

LEARNERS = ("linear", "svm", "forest", "boosting", "knn", "mlp")
SCALERS = ("none", "standard", "quantile")


def cash_space() -> Space:
    """The CASH pipeline: scaler and learner, 23 conditional parameters in all."""
    return Space(
        {
            "scaler": Categorical(list(SCALERS)),
            "quantile_output": Categorical(["uniform", "normal"], when={"scaler": "quantile"}),
            "learner": Categorical(list(LEARNERS)),
            # linear: logistic regression (classification) or ridge (regression)
            "linear_c": Real(1e-4, 1e4, log=True, when={"learner": "linear"}),
            "linear_balanced": Categorical([False, True], when={"learner": "linear"}),
            # SVM
            "svm_c": Real(1e-3, 1e3, log=True, when={"learner": "svm"}),
            "svm_gamma": Real(1e-5, 1e1, log=True, when={"learner": "svm"}),
            "svm_kernel": Categorical(["rbf", "poly"], when={"learner": "svm"}),
            "svm_degree": Integer(2, 4, when={"svm_kernel": "poly"}),
            # random forest
            "forest_trees": Integer(10, 100, log=True, when={"learner": "forest"}),
            "forest_depth": Integer(2, 16, when={"learner": "forest"}),
            "forest_features": Real(0.1, 1.0, when={"learner": "forest"}),
            "forest_leaf": Integer(1, 10, when={"learner": "forest"}),
            # histogram gradient boosting
            "boost_lr": Real(0.01, 0.5, log=True, when={"learner": "boosting"}),
            "boost_rounds": Integer(10, 100, log=True, when={"learner": "boosting"}),
            "boost_leaves": Integer(4, 32, log=True, when={"learner": "boosting"}),
            "boost_l2": Real(1e-6, 1.0, log=True, when={"learner": "boosting"}),
            # k nearest neighbours
            "knn_k": Integer(1, 30, when={"learner": "knn"}),
            "knn_weights": Categorical(["uniform", "distance"], when={"learner": "knn"}),
            "knn_p": Categorical([1, 2], when={"learner": "knn"}),
            # MLP
            "mlp_width": Integer(16, 128, log=True, when={"learner": "mlp"}),
            "mlp_alpha": Real(1e-6, 1e-1, log=True, when={"learner": "mlp"}),
            "mlp_lr": Real(1e-4, 1e-1, log=True, when={"learner": "mlp"}),
        }
    )


@functools.cache
def cash_data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_test, y_test`` of a bundled data set (a quarter held out)."""
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    loader, rows, task = CASH_DATASETS[name]
    X, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    if rows < len(y):
        keep = np.random.default_rng(0).permutation(len(y))[:rows]
        X, y = X[keep], y[keep]
    stratify = y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify
    )
    return X_tr, y_tr, X_te, y_te


def build_pipeline(params: dict[str, Any], task: str) -> Any:
    """The scikit-learn pipeline ``params`` describes (one thread, fixed seeds)."""
    from sklearn import ensemble, linear_model, neighbors, neural_network, preprocessing, svm
    from sklearn.pipeline import make_pipeline

    classify = task == "classification"
    steps: list[Any] = []
    if params["scaler"] == "standard":
        steps.append(preprocessing.StandardScaler())
    elif params["scaler"] == "quantile":
        steps.append(
            preprocessing.QuantileTransformer(
                n_quantiles=100, output_distribution=params["quantile_output"], random_state=0
            )
        )
    learner = params["learner"]
    if learner == "linear":
        if classify:
            weight = "balanced" if params["linear_balanced"] else None
            model = linear_model.LogisticRegression(
                C=params["linear_c"], class_weight=weight, max_iter=300
            )
        else:
            model = linear_model.Ridge(
                alpha=1.0 / params["linear_c"], fit_intercept=not params["linear_balanced"]
            )
    elif learner == "svm":
        kwargs = {
            "C": params["svm_c"],
            "gamma": params["svm_gamma"],
            "kernel": params["svm_kernel"],
            "degree": params.get("svm_degree", 3),
            "max_iter": 20_000,
        }
        model = svm.SVC(**kwargs) if classify else svm.SVR(**kwargs)
    elif learner == "forest":
        kwargs = {
            "n_estimators": params["forest_trees"],
            "max_depth": params["forest_depth"],
            "max_features": params["forest_features"],
            "min_samples_leaf": params["forest_leaf"],
            "n_jobs": 1,
            "random_state": 0,
        }
        cls = ensemble.RandomForestClassifier if classify else ensemble.RandomForestRegressor
        model = cls(**kwargs)
    elif learner == "boosting":
        kwargs = {
            "learning_rate": params["boost_lr"],
            "max_iter": params["boost_rounds"],
            "max_leaf_nodes": params["boost_leaves"],
            "l2_regularization": params["boost_l2"],
            "early_stopping": False,
            "random_state": 0,
        }
        cls = (
            ensemble.HistGradientBoostingClassifier
            if classify
            else ensemble.HistGradientBoostingRegressor
        )
        model = cls(**kwargs)
    elif learner == "knn":
        kwargs = {"n_neighbors": params["knn_k"], "weights": params["knn_weights"]}
        kwargs["p"] = params["knn_p"]
        cls = neighbors.KNeighborsClassifier if classify else neighbors.KNeighborsRegressor
        model = cls(**kwargs)
    else:
        kwargs = {
            "hidden_layer_sizes": (params["mlp_width"],),
            "alpha": params["mlp_alpha"],
            "learning_rate_init": params["mlp_lr"],
            "max_iter": 100,
            "random_state": 0,
        }
        cls = neural_network.MLPClassifier if classify else neural_network.MLPRegressor
        model = cls(**kwargs)
    return make_pipeline(*steps, model)


@dataclass(frozen=True)
class CashTask:
    """``params -> 3-fold cross-validated error`` of the pipeline on one data set.

    Attributes:
        dataset: key of ``CASH_DATASETS``.
    """

    dataset: str

    @property
    def task(self) -> str:
        return CASH_DATASETS[self.dataset][2]

    def _loss(self, params: dict[str, Any], test: bool) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
        from threadpoolctl import threadpool_limits

        X_tr, y_tr, X_te, y_te = cash_data(self.dataset)
        model = build_pipeline(params, self.task)
        classify = self.task == "classification"
        with warnings.catch_warnings(), threadpool_limits(1), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            try:
                if test:
                    score = float(model.fit(X_tr, y_tr).score(X_te, y_te))
                else:
                    split = StratifiedKFold if classify else KFold
                    cv = split(n_splits=3, shuffle=True, random_state=0)
                    score = float(np.mean(cross_val_score(model, X_tr, y_tr, cv=cv)))
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                return math.nan  # a failed fit (e.g. a diverging MLP): a failed trial
        return 1.0 - score if math.isfinite(score) else math.nan

    def __call__(self, params: dict[str, Any]) -> float:
        """Cross-validated error on the training split (what the optimisers see)."""
        return self._loss(params, test=False)

    def test_loss(self, params: dict[str, Any]) -> float:
        """Error on the held-out split of the pipeline refitted on the training split."""
        return self._loss(params, test=True)


# Registry -------------------------------------------------------------------------------------
def structured_problems() -> list[Problem]:
    """The synthetic trees, then CASH on each data set."""
    out = [
        Problem(
            "jenatton",
            "mixed",
            jenatton_space(),
            30,
            jenatton,
            optimum=JENATTON_MIN,
            description="Jenatton et al. (2017) tree function: 9 parameters, 4 active",
        ),
        Problem(
            "cond-branin",
            "mixed",
            cond_branin_space(),
            30,
            cond_branin,
            optimum=BRANIN_MIN,
            description="Branin in three branches sharing x1: 4 parameters, 3 active",
        ),
        Problem(
            "cond-hartmann",
            "mixed",
            cond_hartmann_space(),
            40,
            cond_hartmann,
            optimum=HARTMANN6_MIN,
            description="Hartmann-3 + 0.6 or Hartmann-6: 10 parameters, 7 active",
        ),
    ]
    for name in CASH_DATASETS:
        out.append(
            Problem(
                f"cash-{name}",
                "ml",
                cash_space(),
                30,
                CashTask(name),
                eval_cost_s=0.3,
                description=f"CASH on {name}: scaler and learner, 23 parameters, 7 active",
            )
        )
    return out


def tuning_set() -> tuple[str, ...]:
    """The problems the default model and search were chosen on (the synthetic trees)."""
    return ("jenatton", "cond-branin", "cond-hartmann")
