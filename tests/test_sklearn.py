"""BayesSearchCV: scikit-learn's search contract, fitted attributes, resuming, bad input."""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_regressor
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import bayesopt as bo
from bayesopt.sklearn import EXPECTED_FAILED_CHECKS, BayesSearchCV

X, Y = load_iris(return_X_y=True)
SPACE = {"C": bo.Real(1e-2, 1e2, log=True), "gamma": bo.Real(1e-3, 1e1, log=True)}


def search(**kw) -> BayesSearchCV:
    """A small SVC search: 2-D space, cv=3; n_iter=4 stays inside the initial design."""
    kw = {"n_iter": 4, "cv": 3, "random_state": 0, **kw}
    return BayesSearchCV(kw.pop("estimator", SVC()), kw.pop("search_spaces", SPACE), **kw)


class Flaky(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; ``fit`` raises when ``x > limit``."""

    def __init__(self, x: float = 0.0, limit: float = 0.5) -> None:
        self.x = x
        self.limit = limit

    def fit(self, X, y):
        if self.x > self.limit:
            raise ValueError(f"x={self.x} is too large")
        self.classes_ = np.unique(y)
        values, counts = np.unique(y, return_counts=True)
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)

    def score(self, X, y):  # the accuracy, plus x so that scores differ between candidates
        return float(np.mean(self.predict(X) == y)) + self.x


def _rows(results: dict, key: str = "mean_test_score") -> list[tuple[dict, float]]:
    return list(zip(results["params"], results[key], strict=True))


# The contract -------------------------------------------------------------------------------
def test_cv_results_has_the_keys_and_shapes_of_randomized_search():
    ours = search(n_iter=5, return_train_score=True).fit(X, Y)
    theirs = RandomizedSearchCV(
        SVC(),
        {"C": [0.1, 1.0, 10.0], "gamma": [0.01, 0.1, 1.0]},
        n_iter=5,
        cv=3,
        random_state=0,
        return_train_score=True,
    ).fit(X, Y)
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        mine = ours.cv_results_[key]
        assert type(mine) is type(value), key
        if isinstance(value, np.ndarray):
            assert mine.shape == value.shape, key
            assert mine.dtype.kind == value.dtype.kind, key
    assert isinstance(ours.cv_results_["param_C"], np.ma.MaskedArray)
    for name in ("best_estimator_", "best_params_", "best_score_", "best_index_", "scorer_"):
        assert hasattr(ours, name)
    assert ours.n_splits_ == 3 and ours.refit_time_ >= 0 and ours.multimetric_ is False


def test_the_optimizer_is_told_each_mean_test_score_and_maximises():
    s = search(n_iter=7).fit(X, Y)  # 5 initial points, then 2 from the GP
    trials = s.optimizer_.trials
    assert s.optimizer_.maximize is True and len(trials) == 7
    assert [t.params for t in trials] == s.cv_results_["params"]
    np.testing.assert_allclose([t.value for t in trials], s.cv_results_["mean_test_score"])
    assert {t.source for t in trials[5:]} <= {bo.Source.MODEL, bo.Source.FALLBACK}
    assert s.best_score_ == max(t.value for t in trials) == s.optimizer_.best.value
    assert s.best_params_ == s.optimizer_.best.params
    assert s.best_params_["C"] == s.best_estimator_.C
    assert s.score(X, Y) == s.best_estimator_.score(X, Y)
    assert s.optimizers_ == [s.optimizer_]


def test_seeded_search_is_reproducible():
    a = search(n_iter=6).fit(X, Y).cv_results_["params"]
    b = search(n_iter=6).fit(X, Y).cv_results_["params"]
    c = search(n_iter=6, random_state=1).fit(X, Y).cv_results_["params"]
    assert a == b
    assert a != c


def test_n_points_asks_batches_and_keeps_n_iter():
    s = search(n_iter=5, n_points=2).fit(X, Y)
    assert len(s.cv_results_["params"]) == 5
    assert len(s.optimizer_.trials) == 5
    assert all(t.state == "complete" for t in s.optimizer_.trials)


def test_multimetric_scoring_optimises_and_refits_the_refit_metric():
    s = search(
        scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1", return_train_score=True
    ).fit(X, Y)
    res = s.cv_results_
    assert s.multimetric_ is True and set(s.scorer_) == {"acc", "f1"}
    assert {"mean_test_acc", "rank_test_f1", "split2_train_f1"} <= set(res)
    np.testing.assert_allclose([t.value for t in s.optimizer_.trials], res["mean_test_f1"])
    assert s.best_index_ == int(np.argmin(res["rank_test_f1"]))
    assert s.best_score_ == res["mean_test_f1"][s.best_index_]


def test_multimetric_scoring_needs_refit_to_name_a_metric():
    with pytest.raises(ValueError, match="refit"):
        search(scoring=["accuracy", "f1_macro"], refit=False).fit(X, Y)


def test_callable_refit_picks_the_best_index():
    s = search(refit=lambda results: 0).fit(X, Y)
    assert s.best_index_ == 0 and s.best_params_ == s.cv_results_["params"][0]
    assert not hasattr(s, "best_score_")


def test_pipeline_search_with_step_names():
    pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())])
    space = {
        "svc__C": bo.Real(1e-2, 1e2, log=True),
        "svc__kernel": bo.Categorical(["rbf", "linear"]),
    }
    s = search(estimator=pipe, search_spaces=space).fit(X, Y)
    assert isinstance(s.best_estimator_, Pipeline)
    assert s.best_params_["svc__C"] == s.best_estimator_.named_steps["svc"].C
    assert set(s.cv_results_) >= {"param_svc__C", "param_svc__kernel"}
    assert s.predict(X[:3]).shape == (3,)


def test_a_searched_step_may_have_its_own_parameters_searched():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    space = {
        "clf": bo.Categorical([SVC(), LogisticRegression(max_iter=200)]),
        "clf__C": bo.Real(0.1, 10.0, log=True),
    }
    s = search(estimator=pipe, search_spaces=space, n_iter=3).fit(X, Y)
    assert type(s.best_estimator_.named_steps["clf"]) is type(s.best_params_["clf"])
    assert s.best_params_["clf__C"] == s.best_estimator_.named_steps["clf"].C


def test_sub_spaces_are_searched_in_turn_with_their_own_budgets():
    spaces = [
        {"kernel": bo.Categorical(["rbf"]), "gamma": bo.Real(1e-3, 1e1, log=True)},
        ({"kernel": bo.Categorical(["poly"]), "degree": bo.Integer(2, 4)}, 2),
    ]
    s = search(search_spaces=spaces, n_iter=3).fit(X, Y)
    res = s.cv_results_
    assert len(res["params"]) == 5 and len(s.optimizers_) == 2
    assert [len(o.trials) for o in s.optimizers_] == [3, 2]
    assert list(res["param_kernel"]) == ["rbf"] * 3 + ["poly"] * 2
    assert res["param_degree"].mask.tolist() == [True] * 3 + [False] * 2
    best = max(s.optimizers_, key=lambda o: o.best.value)
    assert s.optimizer_ is best


def test_clone_get_params_and_set_params():
    s = search(n_points=2, optimizer_kwargs={"n_initial": 3})
    params = s.get_params(deep=False)
    assert params["n_points"] == 2 and params["search_spaces"] == SPACE
    twin = clone(s)
    assert twin is not s and twin.get_params(deep=False).keys() == params.keys()
    assert twin.search_spaces == SPACE and twin.optimizer_kwargs == {"n_initial": 3}
    assert s.set_params(n_iter=3, estimator__C=2.0) is s
    assert s.n_iter == 3 and s.estimator.C == 2.0 and s.get_params()["estimator__C"] == 2.0


def test_optimizer_kwargs_reach_the_optimizer():
    s = search(n_iter=3, optimizer_kwargs={"n_initial": 2, "acquisition": "ucb"}).fit(X, Y)
    assert s.optimizer_.n_initial == 2 and s.optimizer_.acquisition == "ucb"
    assert s.optimizer_.trials[2].source in (bo.Source.MODEL, bo.Source.FALLBACK)


def test_pickle_round_trip_unfitted_and_fitted():
    s = search()
    back = pickle.loads(pickle.dumps(s))
    assert back.get_params(deep=False).keys() == s.get_params(deep=False).keys()
    s.fit(X, Y)
    back = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(back.predict(X), s.predict(X))
    assert back.best_params_ == s.best_params_
    assert [t.params for t in back.optimizer_.trials] == [t.params for t in s.optimizer_.trials]
    np.testing.assert_array_equal(
        back.cv_results_["mean_test_score"], s.cv_results_["mean_test_score"]
    )


@pytest.mark.slow
def test_n_jobs_2_gives_the_same_search_as_one_job():
    one = search(n_iter=4, n_points=2).fit(X, Y)
    two = search(n_iter=4, n_points=2, n_jobs=2).fit(X, Y)
    assert one.cv_results_["params"] == two.cv_results_["params"]
    np.testing.assert_allclose(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )


# Failures -----------------------------------------------------------------------------------
def test_failed_fits_are_told_as_failed_trials():
    space = {"x": bo.Real(0.0, 1.0)}  # fits fail for x > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about the failed fits
        s = search(estimator=Flaky(), search_spaces=space, n_iter=6).fit(X, Y)
    res, trials = s.cv_results_, s.optimizer_.trials
    assert len(res["params"]) == 6 == len(trials)
    bad = [t.params["x"] > 0.5 for t in trials]
    assert 0 < sum(bad) < 6
    assert [t.state == "failed" for t in trials] == bad
    assert np.isnan(res["mean_test_score"][bad]).all()
    assert np.isnan(res["mean_fit_time"][bad]).all()  # rounds whose every fit failed
    assert all(
        "fits failed" in t.error and "too large" in t.error for t in trials if t.state == "failed"
    )
    assert (
        s.best_params_["x"] <= 0.5
        and res["rank_test_score"][bad].min() > sum(not b for b in bad) - 1
    )


def test_a_partly_failed_candidate_is_a_failed_trial_with_nan_scores():
    space = {"x": bo.Real(0.0, 1.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = search(estimator=Flaky(), search_spaces=space, n_iter=6, n_points=6).fit(X, Y)
    trials = s.optimizer_.trials
    assert [t.state == "failed" for t in trials] == [t.params["x"] > 0.5 for t in trials]
    failed = np.array([t.state == "failed" for t in trials])
    assert np.isfinite(s.cv_results_["mean_fit_time"]).all()  # real times: one round
    assert np.isnan(s.cv_results_["mean_test_score"][failed]).all()


def test_a_numeric_error_score_is_told_as_that_score():
    space = {"x": bo.Real(0.0, 1.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = search(estimator=Flaky(), search_spaces=space, n_iter=6, error_score=-1.0).fit(X, Y)
    for t in s.optimizer_.trials:
        assert t.state == "complete"
        assert (t.value == -1.0) == (t.params["x"] > 0.5)


def test_every_fit_failing_raises_as_randomized_search_does():
    space = {"x": bo.Real(0.6, 1.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="fits failed"):
            search(estimator=Flaky(), search_spaces=space, n_iter=2).fit(X, Y)


def test_error_score_raise_propagates_the_fit_error():
    with pytest.raises(ValueError, match="too large"):
        search(
            estimator=Flaky(x=0.9), search_spaces={"limit": bo.Real(0.0, 0.5)}, error_score="raise"
        ).fit(X, Y)


# Bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"n_iter": 0}, ValueError, r"n_iter >= 1"),
        ({"n_iter": 2.5}, TypeError, r"`n_iter` must be an int"),
        ({"n_points": 0}, ValueError, r"n_points >= 1"),
        ({"search_spaces": "C"}, TypeError, r"search_spaces"),
        ({"search_spaces": {"C": [0.1, 1.0]}}, TypeError, r"bo\.Categorical"),
        ({"search_spaces": {}}, ValueError, r"at least one parameter"),
        ({"search_spaces": []}, ValueError, r"at least one sub-space"),
        (
            {"search_spaces": [({"C": bo.Real(1, 2)}, 0)]},
            ValueError,
            r"search_spaces\[0\]\[1\] >= 1",
        ),
        (
            {"search_spaces": {"gama": bo.Real(1, 2)}},
            ValueError,
            r"'gama' is not a parameter of SVC\. Did you mean 'gamma'",
        ),
        ({"random_state": -1}, ValueError, r"random_state >= 0"),
        ({"random_state": "zero"}, TypeError, r"random_state"),
        ({"optimizer_kwargs": {"seed": 3}}, ValueError, r"must not set \['seed'\]"),
        ({"optimizer_kwargs": {"acquisition": "nope"}}, ValueError, r"acquisition"),
        ({"storage": 3}, TypeError, r"storage"),
        ({"storage": ["a.jsonl", "b.jsonl"]}, ValueError, r"one path per sub-space"),
        (
            {"storage": "s.jsonl", "random_state": np.random.RandomState(0)},
            ValueError,
            r"int or None",
        ),
        ({"cv": "five"}, ValueError, r"cv"),
    ],
)
def test_bad_input_raises_a_clear_error_and_changes_nothing(
    kw, error, match, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fitted = search(n_iter=2).fit(X, Y)
    before = copy.deepcopy(fitted.cv_results_)
    fitted.set_params(**kw)
    with pytest.raises(error, match=match):
        fitted.fit(X, Y)
    assert fitted.cv_results_["params"] == before["params"]
    assert os.listdir(tmp_path) == []  # no journal was created


# Resuming -----------------------------------------------------------------------------------
def test_a_second_fit_with_the_same_storage_continues_the_study(tmp_path):
    path = tmp_path / "search.jsonl"
    first = search(n_iter=4, storage=path).fit(X, Y)
    second = search(n_iter=3, storage=path).fit(X, Y)
    res = second.cv_results_
    assert len(res["params"]) == 7 and len(second.optimizer_.trials) == 7
    assert res["params"][:4] == first.cv_results_["params"]
    for key in ("mean_test_score", "split0_test_score", "mean_fit_time", "std_score_time"):
        np.testing.assert_array_equal(res[key][:4], first.cv_results_[key])
    assert second.best_score_ == max(res["mean_test_score"])
    # Uninterrupted, the study would have asked the same 7 candidates.
    straight = search(n_iter=7).fit(X, Y)
    assert res["params"] == straight.cv_results_["params"]
    # The optimiser is closed after fit: a snapshot for reading.
    with pytest.raises(RuntimeError):
        second.optimizer_.ask()
    assert bo.load(path).trials[-1].value == res["mean_test_score"][-1]


def test_resuming_refuses_other_data_or_settings(tmp_path):
    path = tmp_path / "search.jsonl"
    s = search(n_iter=2, storage=path).fit(X, Y)
    results = s.cv_results_
    with pytest.raises(ValueError, match="data"):
        s.fit(X[:120], Y[:120])
    with pytest.raises(ValueError, match="number of CV splits"):
        s.set_params(cv=4).fit(X, Y)
    with pytest.raises(ValueError, match="scoring"):
        s.set_params(cv=3, scoring="f1_macro").fit(X, Y)
    with pytest.raises(ValueError, match="space"):  # from the journal
        s.set_params(scoring=None, search_spaces={"C": bo.Real(1e-2, 1e2, log=True)}).fit(X, Y)
    assert s.cv_results_ is results
    assert len(bo.load(path).trials) == 2


class _Interrupt(Exception):
    pass


def _scorer_that_stops_after(n_calls: int):
    calls = {"n": 0}

    def scorer(estimator, X, y):
        calls["n"] += 1
        if calls["n"] > n_calls:
            raise _Interrupt
        return float(estimator.score(X, y))

    return scorer


def test_an_interrupted_fit_resumes_with_its_pending_candidates(tmp_path):
    path = tmp_path / "search.jsonl"
    # 3 splits per candidate: the 3rd candidate fails mid-way, while pending.
    with pytest.raises(_Interrupt):
        search(
            n_iter=4, storage=path, scoring=_scorer_that_stops_after(7), error_score="raise"
        ).fit(X, Y)
    study = bo.load(path)
    assert [t.state for t in study.trials] == ["complete", "complete", "pending"]
    pending = study.trials[2].params
    s = search(n_iter=2, storage=path, scoring=_scorer_that_stops_after(10**6)).fit(X, Y)
    res = s.cv_results_
    assert len(res["params"]) == 4
    assert res["params"][2] == pending  # evaluated first
    assert [t.state for t in s.optimizer_.trials] == ["complete"] * 4
    # The same candidates as an uninterrupted search.
    assert res["params"] == search(n_iter=4).fit(X, Y).cv_results_["params"]


def test_sub_spaces_get_one_journal_each(tmp_path):
    spaces = [{"C": bo.Real(0.1, 10.0)}, {"gamma": bo.Real(0.01, 1.0)}]
    s = search(search_spaces=spaces, n_iter=2, storage=tmp_path / "s.jsonl").fit(X, Y)
    names = sorted(os.listdir(tmp_path))
    assert {"s-0.jsonl", "s-1.jsonl", "s-0.jsonl.cv.jsonl", "s-1.jsonl.cv.jsonl"} <= set(names)
    again = search(search_spaces=spaces, n_iter=1, storage=tmp_path / "s.jsonl").fit(X, Y)
    assert len(again.cv_results_["params"]) == 6
    assert again.cv_results_["params"][:4] == s.cv_results_["params"]


def test_a_journal_without_cv_results_informs_the_optimiser_only(tmp_path):
    path = tmp_path / "study.jsonl"
    opt = bo.Optimizer(bo.Space(SPACE), seed=0, maximize=True, storage=path)
    opt.tell(opt.ask(), 0.5)
    opt.close()
    with pytest.warns(UserWarning, match="1 finished trial"):
        s = search(n_iter=2, storage=path).fit(X, Y)
    assert len(s.cv_results_["params"]) == 2 and len(s.optimizer_.trials) == 3


def test_the_cv_log_holds_one_line_per_candidate(tmp_path):
    path = tmp_path / "search.jsonl"
    search(n_iter=3, storage=path, return_train_score=True).fit(X, Y)
    lines = [json.loads(x) for x in (tmp_path / "search.jsonl.cv.jsonl").read_text().splitlines()]
    assert lines[0]["format"] == "bayesopt.sklearn.cv" and lines[0]["n_splits"] == 3
    assert [row["id"] for row in lines[1:]] == [0, 1, 2]
    assert len(lines[1]["splits"]) == 3 and {"test_scores", "train_scores", "fit_time"} <= set(
        lines[1]["splits"][0]
    )


# Callbacks (scikit-learn >= 1.9) ------------------------------------------------------------
class _Recorder:
    """A fit callback that records task names and can stop the search after some rounds."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after
        self.ended: list[str] = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        if type(estimator).__name__ != "BayesSearchCV":
            return False
        self.ended.append(context.task_name)
        return self.stop_after is not None and self.ended.count("round") >= self.stop_after


def test_callbacks_see_one_task_per_round_and_may_stop_the_search():
    pytest.importorskip("sklearn.callback")
    rec = _Recorder()
    search(n_iter=5, n_points=2).set_callbacks(rec).fit(X, Y)
    assert rec.ended.count("round") == 3 and rec.ended.count("search") == 1
    stop = _Recorder(stop_after=1)
    s = search(n_iter=5, n_points=2).set_callbacks(stop).fit(X, Y)
    assert len(s.cv_results_["params"]) == 2


# scikit-learn's estimator checks ------------------------------------------------------------
def _checked(estimator, name: str) -> BayesSearchCV:
    """The instances scikit-learn checks RandomizedSearchCV on, with a bayesopt space."""
    return BayesSearchCV(
        estimator, {name: bo.Real(0.1, 1.0)}, n_iter=2, cv=2, error_score="raise", random_state=0
    )


def _expected_failures(search: BayesSearchCV) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS if is_regressor(search.estimator) else {}


@parametrize_with_checks([_checked(Ridge(), "alpha")], expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    [
        _checked(LogisticRegression(), "C"),
        _checked(Pipeline([("pca", PCA()), ("ridge", Ridge())]), "ridge__alpha"),
        _checked(
            Pipeline([("pca", PCA()), ("logisticregression", LogisticRegression())]),
            "logisticregression__C",
        ),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks_classifier_and_pipelines(estimator, check):
    check(estimator)


def test_nan_is_told_as_a_failure_not_a_crash():
    # A scorer returning NaN (no fit error) is a failed trial too.
    def nan_scorer(estimator, X, y):
        return math.nan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = search(n_iter=2, scoring=nan_scorer).fit(X, Y)
    assert [t.state for t in s.optimizer_.trials] == ["failed", "failed"]
    assert "nan" in s.optimizer_.trials[0].error


# The documentation page ---------------------------------------------------------------------
DOCS_PAGE = os.path.join(os.path.dirname(__file__), "..", "docs", "integrations", "sklearn.md")


def _docs_blocks() -> list[str]:
    with open(DOCS_PAGE, encoding="utf-8") as fh:
        return re.findall(r"```python\n(.*?)```", fh.read(), flags=re.S)


@pytest.mark.slow
def test_the_docs_page_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("pandas")
    blocks = [b for b in _docs_blocks() if "storage=" not in b and "check_estimator" not in b]
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, DOCS_PAGE, "exec"), namespace)
    first = namespace["opt"]
    assert len(first.trials) == 20 and first.best.value > 0.95
    assert isinstance(namespace["search"], BayesSearchCV)  # the sub-space example, unfitted


# The benchmark ------------------------------------------------------------------------------
def test_the_benchmark_report_counts_wins_and_losses(tmp_path):
    pytest.importorskip("matplotlib")
    from benchmarks import sklearn_search as bench
    from benchmarks import store

    rng = np.random.default_rng(0)
    for seed in range(8):
        score = 0.9 + 0.01 * rng.random()
        for method in bench.METHODS:
            # bayesopt is better than random search on every seed, equal to the others.
            bonus = 0.0 if method == "random" else 0.02
            store.append(
                tmp_path / bench.RUNS,
                {"dataset": "wine", "model": "svc", "seed": seed, "method": method,
                 "n_iter": 25, "cv": 3, "status": "ok", "cv_score": score + bonus,
                 "test_score": score + bonus, "wall_s": 1.0, "cpu_s": 1.0,
                 "versions": {"bayesopt": "0"}},
            )  # fmt: skip
    store.append(
        tmp_path / bench.RUNS,
        {"dataset": "wine", "model": "hgb", "seed": 0, "method": "skopt", "n_iter": 25,
         "status": "error", "error": "ValueError: broken"},
    )  # fmt: skip
    report = bench.write_report(tmp_path, "python -m benchmarks.sklearn_search --seeds 0-7")
    text = report.read_text()
    assert "| RandomizedSearchCV | test accuracy | 1/0/0 | 1/0/0 |" in text
    assert "| skopt BayesSearchCV | CV accuracy | 0/1/0 | 0/1/0 |" in text
    assert "wine hgb seed 0 skopt: ValueError: broken" in text
    assert "--seeds 0-7" in text and (tmp_path / "sklearn_search.png").exists()


def test_the_benchmark_cells_rotate_the_methods_and_draw_log_integers():
    from benchmarks import sklearn_search as bench

    cells = bench.cells(["wine"], ["svc"], list(bench.METHODS), [0, 1], 5)
    assert [c[3] for c in cells[:4]] == list(bench.METHODS)
    assert [c[3] for c in cells[4:]] == [*bench.METHODS[1:], bench.METHODS[0]]
    draws = [bench.LogUniformInt(1, 64).rvs(np.random.RandomState(s)) for s in range(400)]
    assert min(draws) == 1 and max(draws) <= 64 and np.median(draws) < 16


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*experimental", "ignore::FutureWarning")  # peers' notices
@pytest.mark.parametrize("method", ["bayesopt", "random", "skopt", "optuna"])
def test_a_benchmark_cell_runs_each_method(method):
    from benchmarks import sklearn_search as bench

    if method == "skopt":
        pytest.importorskip("skopt")
    if method == "optuna":
        pytest.importorskip("optuna_integration")
    record = bench.run_cell(("wine", "svc", 0, method, 3))
    assert record["status"] == "ok", record.get("traceback")
    assert record["n_candidates"] == 3 and 0 < record["test_score"] <= 1
