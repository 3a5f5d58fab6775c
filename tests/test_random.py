"""RandomSearch: the same ask/tell interface, seeded draws."""

from __future__ import annotations

import pytest
import torch

import bayesopt as bo


def _run(opt, n=10):
    for _ in range(n):
        t = opt.ask()
        opt.tell(t, t.params["x"] ** 2 + t.params["k"])
    return [t.params for t in opt.trials]


@pytest.fixture
def space():
    return bo.Space({"x": bo.Real(-1, 1), "k": bo.Integer(0, 3), "c": bo.Categorical(["a", "b"])})


@pytest.mark.parametrize("sobol", [False, True])
def test_seeded_and_reproducible(space, sobol):
    a = _run(bo.RandomSearch(space, seed=5, sobol=sobol))
    b = _run(bo.RandomSearch(space, seed=5, sobol=sobol))
    c = _run(bo.RandomSearch(space, seed=6, sobol=sobol))
    assert a == b and a != c
    for p in a:
        space.validate(p)


def test_sobol_walks_one_sequence(space):
    one = bo.RandomSearch(space, seed=1, sobol=True)
    batch = [t.params for t in one.ask(8)]
    other = bo.RandomSearch(space, seed=1, sobol=True)
    singles = [other.ask().params for _ in range(8)]
    assert batch == singles
    assert all(t.source is bo.Source.SOBOL for t in one.trials)


def test_full_interface(space):
    rs = bo.RandomSearch(space, seed=0, maximize=True)
    rs.enqueue({"x": 0.5, "k": 1, "c": "b"})
    first = rs.ask()
    assert first.params == {"x": 0.5, "k": 1, "c": "b"} and first.source is bo.Source.ENQUEUED
    rs.tell(first, 2.0)
    added = rs.add({"x": 0.0, "k": 0, "c": "a"}, 5.0)
    assert added.source is bo.Source.ADDED and added.state == "complete"
    batch = rs.ask(3)
    assert len(batch) == 3 and len(rs.pending) == 3
    rs.tell(batch[0].id, float("nan"))
    assert rs.trials[batch[0].id].state == "failed"
    assert rs.best.value == 5.0  # maximize=True
    assert len(rs.to_records()) == 5


def test_global_rng_untouched(space):
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    _run(bo.RandomSearch(space, seed=None), n=5)
    assert torch.equal(torch.rand(2), expected)
