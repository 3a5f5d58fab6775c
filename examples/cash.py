"""Model selection and tuning at once (CASH): a scaler, a learner and its hyperparameters.

Each learner's hyperparameters exist only when it is chosen (``when=``), so a trial holds
just the active ones. ``BAYESOPT_CASH_TRIALS`` (default 40) sets the budget.
"""

import os
import warnings

from sklearn import ensemble, linear_model, neighbors, neural_network, preprocessing
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

import bayesopt as bo

LEARNERS = {  # name -> params -> estimator
    "logreg": lambda p: linear_model.LogisticRegression(C=p["C"], max_iter=300),
    "svm": lambda p: SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"], degree=p.get("degree", 3)),
    "forest": lambda p: ensemble.RandomForestClassifier(p["trees"], max_depth=p["depth"]),
    "boosting": lambda p: ensemble.HistGradientBoostingClassifier(learning_rate=p["lr"]),
    "knn": lambda p: neighbors.KNeighborsClassifier(p["k"], weights=p["weights"]),
    "mlp": lambda p: neural_network.MLPClassifier((p["width"],), alpha=p["alpha"], max_iter=200),
}  # fmt: skip
space = bo.Space({
    "scaler": bo.Categorical(["none", "standard", "quantile"]),
    "learner": bo.Categorical(list(LEARNERS)),
    "C": bo.Real(1e-3, 1e3, log=True, when={"learner": ["logreg", "svm"]}),
    "gamma": bo.Real(1e-5, 1e0, log=True, when={"learner": "svm"}),
    "kernel": bo.Categorical(["rbf", "poly"], when={"learner": "svm"}),
    "degree": bo.Integer(2, 4, when={"kernel": "poly"}),
    "trees": bo.Integer(10, 200, log=True, when={"learner": "forest"}),
    "depth": bo.Integer(2, 16, when={"learner": "forest"}),
    "lr": bo.Real(0.01, 0.5, log=True, when={"learner": "boosting"}),
    "k": bo.Integer(1, 30, when={"learner": "knn"}),
    "weights": bo.Categorical(["uniform", "distance"], when={"learner": "knn"}),
    "width": bo.Integer(16, 256, log=True, when={"learner": "mlp"}),
    "alpha": bo.Real(1e-6, 1e-1, log=True, when={"learner": "mlp"}),
})  # fmt: skip
X, y = load_digits(return_X_y=True)
X, y = X[::3], y[::3]  # 599 images keep each fit quick
SCALERS = {"none": [], "standard": [preprocessing.StandardScaler()],
           "quantile": [preprocessing.QuantileTransformer(n_quantiles=100)]}  # fmt: skip


def error(p: dict) -> float:
    model = make_pipeline(*SCALERS[p["scaler"]], LEARNERS[p["learner"]](p))
    with warnings.catch_warnings(), threadpool_limits(1):  # one thread: quick on a busy CPU
        warnings.simplefilter("ignore")  # an MLP or a solver that stops before converging
        return 1.0 - cross_val_score(model, X, y, cv=3).mean()


opt = bo.Optimizer(space, seed=0)
for _ in range(int(os.environ.get("BAYESOPT_CASH_TRIALS", "40"))):
    trial = opt.ask()
    opt.tell(trial, error(trial.params))
print("rank  error  params")
done = sorted((t for t in opt.trials if t.value is not None), key=lambda t: t.value)
for rank, t in enumerate(done[:5], 1):
    print(f"{rank:>4}  {t.value:.3f}  {t.params}")
