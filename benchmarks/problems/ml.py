"""Hyperparameter tuning of scikit-learn models on its bundled data sets (no download).

The objective is a cross-validated loss with fixed folds and fixed model seeds, so it is
deterministic: the same params always give the same value, whichever run asks. Data sets
are subsampled and folds are few so one evaluation takes well under a second on one core.
These tasks have no known optimum; the report scores them against the best value any
contender ever found and the median of one random evaluation (see ``benchmarks.scores``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import bayesopt as bo
from benchmarks.problems.base import Problem

__all__ = ["TuningTask", "load_data", "ml_problems"]

DATASETS = {
    "digits": ("load_digits", 600),
    "breast": ("load_breast_cancer", 569),
    "wine": ("load_wine", 178),
    "diabetes": ("load_diabetes", 442),
    "iris": ("load_iris", 150),
}
"""``{name: (sklearn.datasets loader, rows kept)}``; rows are a fixed random subsample."""

METRICS = {
    "error": ("accuracy", lambda s: 1.0 - s),
    "log_loss": ("neg_log_loss", lambda s: -s),
    "mse": ("neg_mean_squared_error", lambda s: -s),
}
"""``{loss name: (sklearn scorer, scorer value -> loss)}``."""


@functools.cache
def load_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of a bundled data set, subsampled with a fixed seed."""
    import sklearn.datasets

    loader, rows = DATASETS[name]
    X, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    if rows < len(y):
        keep = np.random.default_rng(0).permutation(len(y))[:rows]
        X, y = X[keep], y[keep]
    return X, y


@dataclass(frozen=True)
class TuningTask:
    """``params -> mean cross-validated loss`` of the model ``build(params)``.

    Attributes:
        dataset: key of ``DATASETS``.
        build: ``params -> unfitted estimator``.
        metric: key of ``METRICS``.
        folds: number of (stratified, for classifiers) folds, shuffled with seed 0.
    """

    dataset: str
    build: Callable[[dict[str, Any]], Any]
    metric: str
    folds: int = 3

    def __call__(self, params: dict[str, Any]) -> float:
        from sklearn.base import is_classifier
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

        X, y = load_data(self.dataset)
        model = self.build(params)
        split = StratifiedKFold if is_classifier(model) else KFold
        cv = split(n_splits=self.folds, shuffle=True, random_state=0)
        scorer, to_loss = METRICS[self.metric]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            scores = cross_val_score(
                model, X, y, cv=cv, scoring=scorer, n_jobs=1, error_score=np.nan
            )
        return float(to_loss(np.mean(scores)))


# Model builders -------------------------------------------------------------------------
def _scaled(model: Any) -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), model)


def _svc(p: dict[str, Any]) -> Any:
    from sklearn.svm import SVC

    return _scaled(SVC(C=p["C"], gamma=p["gamma"]))


def _svr(p: dict[str, Any]) -> Any:
    from sklearn.svm import SVR

    return _scaled(SVR(C=p["C"], gamma=p["gamma"], epsilon=p["epsilon"]))


def _forest(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=p["n_estimators"],
        max_depth=p["max_depth"],
        criterion=p["criterion"],
        max_features=p["max_features"],
        random_state=0,
        n_jobs=1,
    )


def _boosting(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(
        n_estimators=p["n_estimators"],
        max_depth=p["max_depth"],
        learning_rate=p["learning_rate"],
        subsample=p["subsample"],
        loss=p["loss"],
        random_state=0,
    )


def _mlp(p: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier

    return _scaled(
        MLPClassifier(
            hidden_layer_sizes=(p["width"],),
            activation=p["activation"],
            learning_rate_init=p["lr"],
            alpha=p["alpha"],
            max_iter=40,
            random_state=0,
        )
    )


def _knn(p: dict[str, Any]) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return _scaled(
        KNeighborsClassifier(n_neighbors=p["k"], weights=p["weights"], metric=p["metric"])
    )


def _enet(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import ElasticNet

    return _scaled(ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=2000))


def _logreg(p: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    weight = None if p["class_weight"] == "none" else p["class_weight"]
    return _scaled(
        LogisticRegression(C=p["C"], class_weight=weight, fit_intercept=p["intercept"] == "yes")
    )


# Spaces -----------------------------------------------------------------------------------
SVC_SPACE = bo.Space({"C": bo.Real(1e-2, 1e3, log=True), "gamma": bo.Real(1e-5, 1e0, log=True)})
SVR_SPACE = bo.Space(
    {
        "C": bo.Real(1e-1, 1e4, log=True),
        "gamma": bo.Real(1e-4, 1e1, log=True),
        "epsilon": bo.Real(1e-2, 1e2, log=True),
    }
)
FOREST_SPACE = bo.Space(
    {
        "n_estimators": bo.Integer(8, 128, log=True),
        "max_depth": bo.Integer(1, 12),
        "criterion": bo.Categorical(["gini", "entropy", "log_loss"]),
        "max_features": bo.Real(0.1, 1.0),
    }
)
BOOSTING_SPACE = bo.Space(
    {
        "n_estimators": bo.Integer(10, 200, log=True),
        "max_depth": bo.Integer(1, 6),
        "learning_rate": bo.Real(1e-3, 1.0, log=True),
        "subsample": bo.Real(0.5, 1.0),
        "loss": bo.Categorical(["squared_error", "absolute_error", "huber"]),
    }
)
MLP_SPACE = bo.Space(
    {
        "lr": bo.Real(1e-4, 1e-1, log=True),
        "alpha": bo.Real(1e-6, 1e-1, log=True),
        "width": bo.Integer(8, 128, log=True),
        "activation": bo.Categorical(["relu", "tanh", "logistic"]),
    }
)
KNN_SPACE = bo.Space(
    {
        "k": bo.Integer(1, 50, log=True),
        "weights": bo.Categorical(["uniform", "distance"]),
        "metric": bo.Categorical(["euclidean", "manhattan", "cosine"]),
    }
)
ENET_SPACE = bo.Space({"alpha": bo.Real(1e-4, 1e1, log=True), "l1_ratio": bo.Real(0.01, 1.0)})
LOGREG_SPACE = bo.Space(
    {
        "C": bo.Real(1e-4, 1e4, log=True),
        "class_weight": bo.Categorical(["none", "balanced"]),
        "intercept": bo.Categorical(["yes", "no"]),
    }
)


def _task(
    model: str,
    dataset: str,
    space: bo.Space,
    build: Callable[[dict[str, Any]], Any],
    metric: str,
    *,
    budget: int = 40,
    eval_cost_s: float = 0.05,
) -> Problem:
    return Problem(
        name=f"{model}-{dataset}",
        family="ml",
        space=space,
        budget=budget,
        fn=TuningTask(dataset, build, metric),
        eval_cost_s=eval_cost_s,
        description=f"{model} on {dataset} ({DATASETS[dataset][1]} rows), 3-fold CV {metric}",
    )


def ml_problems() -> list[Problem]:
    """The model x data set tuning tasks (40 evaluations each)."""
    return [
        _task("svm", "digits", SVC_SPACE, _svc, "error", eval_cost_s=0.05),
        _task("svr", "diabetes", SVR_SPACE, _svr, "mse", eval_cost_s=0.02),
        _task("rf", "wine", FOREST_SPACE, _forest, "log_loss", eval_cost_s=0.15),
        _task("gb", "diabetes", BOOSTING_SPACE, _boosting, "mse", eval_cost_s=0.12),
        _task("mlp", "digits", MLP_SPACE, _mlp, "log_loss", eval_cost_s=0.1),
        _task("mlp", "breast", MLP_SPACE, _mlp, "log_loss", eval_cost_s=0.08),
        _task("knn", "digits", KNN_SPACE, _knn, "error", eval_cost_s=0.025),
        _task("enet", "diabetes", ENET_SPACE, _enet, "mse", eval_cost_s=0.01),
        _task("logreg", "breast", LOGREG_SPACE, _logreg, "log_loss", eval_cost_s=0.02),
        _task("rf", "iris", FOREST_SPACE, _forest, "log_loss", eval_cost_s=0.12),
    ]
