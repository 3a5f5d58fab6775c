"""``recommend()``: the trial to deploy, which on a noisy objective is not the luckiest one."""

from __future__ import annotations

import numpy as np
import pytest

import bayesopt as bo

SPACE = bo.Space({"x": bo.Real(0.0, 1.0)})
FAST = bo.ProposeOptions(raw_samples=64, n_restarts=2, lbfgs_maxiter=20)


def _true(x: float) -> float:
    return (x - 0.3) ** 2


def _noisy_study(seed: int, n: int = 25) -> bo.Optimizer:
    rng = np.random.default_rng(seed)
    opt = bo.Optimizer(SPACE, seed=seed, propose_options=FAST)
    for _ in range(n):
        t = opt.ask()
        opt.tell(t, _true(t.params["x"]) + 0.05 * rng.standard_normal())
    return opt


@pytest.mark.slow  # five seeded studies of 25 asks
def test_on_a_noisy_objective_the_recommendation_beats_the_best_observation():
    studies = [_noisy_study(seed) for seed in range(5)]
    best = [_true(s.best.params["x"]) for s in studies]
    recommended = [_true(s.recommend().params["x"]) for s in studies]
    assert sum(recommended) < 0.75 * sum(best)
    assert sum(r > b for r, b in zip(recommended, best, strict=True)) <= 1
    for s in studies:
        r = s.recommend()
        assert r.state is bo.TrialState.COMPLETE and s.trials[r.id].params == r.params


def test_on_a_deterministic_objective_the_recommendation_is_the_best_trial():
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)}), seed=0)
    for _ in range(15):
        t = opt.ask()
        opt.tell(t, _true(t.params["x"]) + t.params["y"])
    assert opt.recommend().id == opt.best.id


def test_the_recommendation_is_deterministic_and_changes_nothing():
    a, b = _noisy_study(1, n=15), _noisy_study(1, n=15)
    assert a.recommend().id == a.recommend().id == b.recommend().id
    assert a.ask().params == b.ask().params  # recommend() left no trace on the asks


@pytest.mark.parametrize("cls", [bo.Optimizer, bo.RandomSearch])
def test_before_any_complete_trial_there_is_nothing_to_recommend(cls):
    opt = cls(SPACE, seed=0)
    assert opt.recommend() is None
    opt.ask()
    assert opt.recommend() is None
    opt.tell(opt.ask(), 1.0)
    assert opt.recommend().value == 1.0


def test_random_search_recommends_its_best_trial():
    rs = bo.RandomSearch(SPACE, seed=0)
    for _ in range(12):
        t = rs.ask()
        rs.tell(t, _true(t.params["x"]))
    assert rs.recommend().id == rs.best.id
