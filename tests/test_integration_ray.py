"""bayesopt.integration.ray: BayesoptSearch, a Ray Tune searcher."""

from __future__ import annotations

import math
import re
import textwrap

import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is not installed: pip install 'bayesopt[ray]'")

from ray import tune

import bayesopt as bo
from bayesopt.integration.ray import BayesoptSearch, to_space


def _run(search, n, f, *, start=0):
    """Suggest and complete ``n`` trials one after the other; the configs."""
    configs = []
    for i in range(start, start + n):
        config = search.suggest(f"t{i}")
        search.on_trial_complete(f"t{i}", {"loss": f(config)})
        configs.append(config)
    return configs


# Search spaces ----------------------------------------------------------------------------------
def test_tune_domains_convert_to_bayesopt_parameters():
    space = to_space(
        {
            "u": tune.uniform(-1.0, 2.0),
            "lu": tune.loguniform(1e-4, 1e-1),
            "qu": tune.quniform(0.0, 1.0, 0.25),
            "qlu": tune.qloguniform(5.0, 100.0, 5.0),
            "ri": tune.randint(0, 10),
            "lri": tune.lograndint(1, 100),
            "qri": tune.qrandint(0, 20, 5),
            "qri1": tune.qrandint(3, 9, 1),
            "qlri": tune.qlograndint(2, 64, 2),
            "c": tune.choice(["a", None, [1, 2]]),
            "nested": {"lr": tune.uniform(0.0, 1.0), "fixed": 7},
            "constant": "kept by Tune",
        }
    )
    assert dict(space) == {
        "u": bo.Real(-1.0, 2.0),
        "lu": bo.Real(1e-4, 1e-1, log=True),
        "qu": bo.Integer(0, 4),  # multiples of 0.25
        "qlu": bo.Integer(1, 20, log=True),  # multiples of 5
        "ri": bo.Integer(0, 9),  # Tune excludes the upper bound
        "lri": bo.Integer(1, 99, log=True),
        "qri": bo.Integer(0, 4),  # multiples of 5, upper bound included
        "qri1": bo.Integer(3, 8),  # q = 1 excludes it, as randint does
        "qlri": bo.Integer(1, 32, log=True),
        "c": bo.Categorical([0, 1, 2]),
        "nested/lr": bo.Real(0.0, 1.0),
    }


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"x": tune.randn(0.0, 1.0)}, "'x'.*bounded"),
        ({"x": tune.sample_from(lambda spec: 1.0)}, "'x'.*no bayesopt counterpart"),
        ({"x": tune.grid_search([1, 2])}, "grid_search"),
        ({"x": [tune.uniform(0, 1)]}, "'x/0' sits inside a list"),
        ({"x": 1.0}, "no parameter to search"),
        ({"x": tune.randint(3, 4)}, "'x'.*low < high"),
    ],
)
def test_domains_without_a_bayesopt_counterpart_are_refused(config, match):
    with pytest.raises(ValueError, match=match):
        to_space(config)


def test_suggestions_respect_tune_semantics_and_keep_the_nesting():
    config = {
        "qu": tune.quniform(0.0, 1.0, 0.25),
        "ri": tune.randint(0, 3),
        "qri": tune.qrandint(0, 20, 5),
        "qlri": tune.qlograndint(2, 64, 2),
        "net": {"act": tune.choice(["relu", None, (1, 2)]), "lr": tune.loguniform(1e-3, 1.0)},
        "constant": 1,
    }
    search = BayesoptSearch(config, "loss", "min", seed=0, n_initial=3)
    configs = _run(search, 7, lambda c: c["qu"] + c["ri"] + c["net"]["lr"])
    for c in configs:
        assert set(c) == {"qu", "ri", "qri", "qlri", "net"}  # constants are Tune's
        assert c["qu"] in (0.0, 0.25, 0.5, 0.75, 1.0) and type(c["qu"]) is float
        assert c["ri"] in (0, 1, 2) and type(c["ri"]) is int
        assert c["qri"] in (0, 5, 10, 15, 20) and type(c["qri"]) is int
        assert c["qlri"] % 2 == 0 and 2 <= c["qlri"] <= 64 and type(c["qlri"]) is int
        assert any(c["net"]["act"] is a for a in config["net"]["act"].categories)
        assert 1e-3 <= c["net"]["lr"] <= 1.0


def test_a_bayesopt_space_gives_flat_configs():
    space = bo.Space({"x": bo.Real(0.0, 1.0), "a/b": bo.Integer(0, 3)})
    search = BayesoptSearch(space, "loss", "min", seed=0)
    config = search.suggest("t0")
    assert set(config) == {"x", "a/b"}
    assert search.space is space


# Suggest and complete ---------------------------------------------------------------------
def test_finds_the_minimum_of_a_quadratic():
    search = BayesoptSearch({"x": tune.uniform(-2.0, 2.0)}, "loss", "min", seed=0)
    _run(search, 10, lambda c: (c["x"] - 0.5) ** 2)
    assert abs(search.optimizer.best.params["x"] - 0.5) < 0.1


def test_mode_max_maximises():
    search = BayesoptSearch({"x": tune.uniform(-2.0, 2.0)}, "score", "max", seed=0)
    for i in range(10):
        config = search.suggest(f"t{i}")
        search.on_trial_complete(f"t{i}", {"score": -((config["x"] - 0.5) ** 2)})
    opt = search.optimizer
    assert opt.maximize
    assert opt.best.value == max(t.value for t in opt.trials)
    assert abs(opt.best.params["x"] - 0.5) < 0.1


def test_running_trials_are_pending_points():
    search = BayesoptSearch(
        {"a": tune.choice([0, 1]), "b": tune.choice(["x", "y"])}, "loss", "min", seed=0
    )
    configs = [search.suggest(f"t{i}") for i in range(4)]
    assert {(c["a"], c["b"]) for c in configs} == {(0, "x"), (0, "y"), (1, "x"), (1, "y")}
    assert len(search.optimizer.pending) == 4


@pytest.mark.parametrize(
    ("result", "error", "why"),
    [
        (None, True, "the trial raised an error"),
        ({"other": 1.0}, False, "the trial reported no 'loss'"),
        ({"loss": float("nan")}, False, "'loss' = nan"),
        ({"loss": "bad"}, False, "not a real number"),
        (None, False, "the trial reported no 'loss'"),
    ],
)
def test_errors_and_unusable_results_are_failures(result, error, why):
    search = BayesoptSearch({"x": tune.uniform(0.0, 1.0)}, "loss", "min", seed=0)
    search.suggest("t0")
    search.on_trial_complete("t0", result, error=error)
    (trial,) = search.optimizer.trials
    assert trial.state.value == "failed"
    assert why in trial.error


def test_results_of_unknown_or_already_told_trials_are_ignored():
    search = BayesoptSearch({"x": tune.uniform(0.0, 1.0)}, "loss", "min", seed=0)
    search.suggest("t0")
    search.on_trial_complete("t0", {"loss": 1.0})
    search.on_trial_complete("t0", {"loss": 2.0})
    search.on_trial_complete("elsewhere", {"loss": 3.0})
    search.on_trial_result("t0", {"loss": 4.0})
    assert [t.value for t in search.optimizer.trials] == [1.0]


def test_points_to_evaluate_come_first_and_evaluated_points_are_added():
    config = {"x": tune.uniform(0.0, 1.0), "n": {"k": tune.qrandint(0, 10, 2)}}
    points = [{"x": 0.25, "n": {"k": 4}}, {"x": 0.75, "n": {"k": 8}}]
    search = BayesoptSearch(config, "loss", "min", points_to_evaluate=points, seed=0)
    search.add_evaluated_point({"x": 0.5, "n": {"k": 6}}, 3.0)
    search.add_evaluated_point({"x": 0.1, "n": {"k": 0}}, None, error=True)
    assert [search.suggest("a"), search.suggest("b")] == points
    trials = search.optimizer.trials
    assert [(t.source.value, t.state.value, t.value) for t in trials[:2]] == [
        ("added", "complete", 3.0),
        ("added", "failed", None),
    ]
    assert trials[2].params == {"x": 0.25, "n/k": 2}  # the grid index of 4


def test_same_seed_same_configs():
    def configs(seed):
        search = BayesoptSearch({"x": tune.uniform(-2.0, 2.0)}, "loss", "min", seed=seed)
        return _run(search, 7, lambda c: (c["x"] - 0.5) ** 2)

    assert configs(3) == configs(3)
    assert configs(3) != configs(4)


# Tune's protocol ------------------------------------------------------------------------------
def test_set_search_properties_takes_the_tuner_space_metric_and_mode():
    search = BayesoptSearch(seed=0)
    with pytest.raises(RuntimeError, match="no search space"):
        search.suggest("t0")
    assert search.set_search_properties("acc", "max", {"x": tune.uniform(0, 1), "c": 2})
    assert search.space == bo.Space({"x": bo.Real(0.0, 1.0)})
    assert search.metric == "acc" and search.mode == "max"
    assert search.optimizer.maximize
    # A space of its own is kept (Tune then refuses a param_space with domains).
    assert not search.set_search_properties("other", "min", {"y": tune.uniform(0, 1)})
    assert search.metric == "acc" and "y" not in search.space


def test_metric_and_mode_of_a_searcher_with_its_own_space():
    search = BayesoptSearch({"x": tune.uniform(0, 1)}, seed=0)
    with pytest.raises(RuntimeError, match="needs a `metric` and a `mode`"):
        search.suggest("t0")
    assert not search.set_search_properties("loss", "min", {"c": 1})
    assert "x" in search.suggest("t0")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "best"}, ValueError, "`mode` must be"),
        ({"metric": 3}, TypeError, "`metric` must be"),
        ({"maximize": True}, TypeError, "`maximize` is not an option"),
        ({"points_to_evaluate": {"x": 0.5}}, TypeError, "list of config dicts"),
        (
            {"space": {"x": tune.uniform(0, 1)}, "points_to_evaluate": [{"x": 2.0}]},
            ValueError,
            "'x'",
        ),
        ({"space": [1, 2]}, TypeError, "`space` must be"),
        ({"n_initial": 0}, ValueError, "n_initial >= 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        BayesoptSearch(**kwargs)


def test_save_and_restore_continue_the_search(tmp_path):
    def f(c):
        return (c["x"] - 0.5) ** 2

    config = {"x": tune.uniform(-2.0, 2.0)}
    search = BayesoptSearch(config, "loss", "min", seed=0, n_initial=3)
    _run(search, 5, f)
    search.suggest("running")  # live at the checkpoint
    path = tmp_path / "searcher.pkl"
    search.save(str(path))

    restored = BayesoptSearch()
    restored.restore(str(path))
    assert restored.metric == "loss" and restored.mode == "min"
    assert [t.params for t in restored.optimizer.trials] == [
        t.params for t in search.optimizer.trials
    ]
    for s in (search, restored):
        s.on_trial_complete("running", {"loss": 0.3})
    assert _run(restored, 3, f, start=10) == _run(search, 3, f, start=10)
    assert len(restored.optimizer.trials) == 9
    with pytest.raises(ValueError, match="not a state"):
        restored.set_state({"version": 0})


@pytest.mark.parametrize("obj", [to_space, BayesoptSearch], ids=lambda o: o.__name__)
def test_the_docstring_examples_run(obj):
    (code,) = re.findall(r"```python\n(.*?)```", obj.__doc__, flags=re.DOTALL)
    exec(compile(textwrap.dedent(code), f"<{obj.__name__} example>", "exec"), {"bo": bo})


# End to end with a local Ray instance ----------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    import ray

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local instance needs no token
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
        try:
            yield ray
        finally:
            ray.shutdown()


SPACE = {"x": tune.uniform(-2.0, 2.0), "y": tune.uniform(-2.0, 2.0), "tag": "a"}


def _tuner(search, n, path, param_space):
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import ConcurrencyLimiter

    def trainable(config):  # local, so that Ray ships it by value to its workers
        for step in range(1, 4):
            loss = (config["x"] - 0.5) ** 2 + (config["y"] + 0.25) ** 2 + 1.0 / step
            tune.report({"loss": loss})

    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            search_alg=ConcurrencyLimiter(search, max_concurrent=2),
            scheduler=ASHAScheduler(max_t=3, grace_period=1, reduction_factor=2),
            metric="loss",
            mode="min",
            num_samples=n,
        ),
        run_config=tune.RunConfig(storage_path=str(path), name="exp", verbose=0),
    )


@pytest.mark.slow
def test_a_tuner_with_asha_finds_the_good_region_and_resumes_from_its_checkpoint(
    local_ray, tmp_path
):
    search = BayesoptSearch(seed=0, n_initial=4)
    results = _tuner(search, 10, tmp_path / "first", SPACE).fit()
    assert not results.errors
    best = results.get_best_result()
    assert best.config["tag"] == "a"
    assert math.hypot(best.config["x"] - 0.5, best.config["y"] + 0.25) < 0.5
    assert len(search.optimizer.trials) == 10
    assert all(t.state.value == "complete" for t in search.optimizer.trials)

    # Tune checkpointed the searcher in the experiment folder: a new one picks it up.
    resumed = BayesoptSearch()
    resumed.restore_from_dir(str(tmp_path / "first" / "exp"))
    assert len(resumed.optimizer.trials) == 10
    # The restored searcher has its space: the Tuner gets only the constants.
    results = _tuner(resumed, 3, tmp_path / "second", {"tag": "a"}).fit()
    assert not results.errors
    trials = resumed.optimizer.trials
    assert len(trials) == 13 and all(t.state.value == "complete" for t in trials)
    assert all(r.config["tag"] == "a" and -2.0 <= r.config["x"] <= 2.0 for r in results)
