"""Seeded end-to-end runs that must actually find the optimum they claim to find."""

from __future__ import annotations

import pytest

import bayesopt as bo

pytestmark = pytest.mark.slow


def _minimise(opt, f, n):
    for _ in range(n):
        t = opt.ask()
        opt.tell(t, f(t.params))
    return opt.best


def test_branin_regret_below_005_in_40_evaluations(branin_space, branin, branin_min):
    best = _minimise(bo.Optimizer(branin_space, seed=1), branin, 40)
    assert best.value - branin_min < 0.05
    baseline = _minimise(bo.RandomSearch(branin_space, seed=1), branin, 40)
    assert baseline.value - branin_min >= 0.05


def test_mixed_space_finds_best_category_and_integer():
    # Each category is a shifted copy; only "b" reaches 0, at n = 6 and x = 0.25.
    offsets = {"a": 1.0, "b": 0.0, "c": 0.6, "d": 2.0}
    space = bo.Space(
        {"x": bo.Real(-1.0, 1.0), "n": bo.Integer(0, 10), "cat": bo.Categorical(list(offsets))}
    )

    def f(p):
        return (p["x"] - 0.25) ** 2 + 0.1 * (p["n"] - 6) ** 2 + offsets[p["cat"]]

    best = _minimise(bo.Optimizer(space, seed=0), f, 30)
    assert best.params["cat"] == "b" and best.params["n"] == 6
    assert abs(best.params["x"] - 0.25) < 0.05


def test_maximisation_with_three_evaluations_in_flight(branin_space, branin, branin_min):
    opt = bo.Optimizer(branin_space, seed=2, maximize=True)
    in_flight = opt.ask(3)
    while len(opt.trials) < 30:
        done = in_flight.pop(0)  # the oldest finishes first; the others stay pending
        opt.tell(done, -branin(done.params))
        in_flight.append(opt.ask())
    for t in in_flight:
        opt.tell(t, -branin(t.params))
    asked = [(t.params["x0"], t.params["x1"]) for t in opt.trials]
    assert len(set(asked)) == len(asked)
    assert -opt.best.value - branin_min < 0.1


def test_hartmann6_regret_below_1e_2_in_80_evaluations():
    """Seed 1 reaches the global minimum (regret about 1e-5). Not every seed does: in the
    factor study about a third to a half of the seeds converge to Hartmann-6's second-best
    basin (f = -3.20, regret 0.12); see benchmarks/results/ablation/REPORT.md."""
    import torch
    from botorch.test_functions import Hartmann

    h6 = Hartmann(dim=6)
    space = bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(6)})

    def f(p):
        x = torch.tensor([[p[f"x{i}"] for i in range(6)]], dtype=torch.float64)
        return float(h6(x))

    best = _minimise(bo.Optimizer(space, seed=1), f, 80)
    assert best.value - h6.optimal_value < 1e-2
