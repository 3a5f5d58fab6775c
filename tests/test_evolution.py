"""EvolutionSearch: ageing, tournaments, mutation, replay, resume and bad input."""

from __future__ import annotations

import math

import _objectives as ob
import numpy as np
import pytest
import torch

import bayesopt as bo
from bayesopt.evolution import Distinct, EvolutionSearch, mutate, population_of, tournament


@pytest.fixture
def mixed(mixed_space: bo.Space) -> bo.Space:
    return mixed_space  # conftest's five-parameter mixed space


_value = ob.mixed_value


def _run(opt, n, every=1):
    while len(opt.trials) < n:
        for t in opt.ask(every):
            opt.tell(t, _value(t.params))
    return [t.params for t in opt.trials]


# Ageing and selection ---------------------------------------------------------------------
def test_the_population_is_the_youngest_finished_trials(mixed):
    evo = EvolutionSearch(mixed, seed=0, population=4, sample_size=2)
    trials = evo.ask(7)
    for i in (0, 1, 2, 5, 3):  # 4 and 6 stay pending
        evo.tell(trials[i], float(i))
    assert [t.id for t in evo.members()] == [1, 2, 3, 5]  # trial 0 aged out
    evo.tell(trials[6], failed=True)
    assert [t.id for t in evo.members()] == [2, 3, 5, 6]  # failures age like the others


def test_children_come_from_the_population_only(mixed):
    """An old excellent trial that aged out is never a parent again."""
    evo = EvolutionSearch(mixed, seed=1, population=5, sample_size=5, resample_prob=0.0)
    champion = {"lr": 1e-2, "x": 0.0, "depth": 3, "width": 64, "act": 3}
    evo.add(champion, -100.0)
    members = [dict(champion, depth=d, x=1.0) for d in (4, 5, 6, 7, 8)]
    for i, p in enumerate(members):
        evo.add(p, float(i))
    assert [t.id for t in evo.members()] == [1, 2, 3, 4, 5]
    for child in evo.ask(10):
        # sample_size == population: the parent is the best member (depth 4, value 0)
        changed = [k for k in mixed if child.params[k] != members[0][k]]
        assert len(changed) == 1
        assert child.source is bo.Source.PROPOSED


def test_tournament_picks_the_best_of_its_sample_and_failures_lose():
    rng = np.random.default_rng(0)
    fitness = [5.0, math.inf, 1.0, 3.0]
    assert tournament(fitness, 4, rng) == 2
    assert all(tournament(fitness, 1, rng) in range(4) for _ in range(20))
    wins = [tournament(fitness, 2, rng) for _ in range(2000)]
    assert 1 not in wins  # a failure beats nothing
    # P(best of 2 of 4 = index 2) = 1 - C(3,2)/C(4,2) = 1/2
    assert abs(wins.count(2) / 2000 - 0.5) < 0.05
    assert tournament([math.inf, math.inf], 2, rng) == 1  # ties: the youngest


def test_initial_population_is_random_then_children_are_mutants(mixed):
    evo = EvolutionSearch(mixed, seed=2, population=6, sample_size=3)
    _run(evo, 20)
    sources = [t.source for t in evo.trials]
    assert sources[:6] == [bo.Source.RANDOM] * 6
    assert sources[6:] == [bo.Source.PROPOSED] * 14


def test_evolution_improves_on_its_initial_population(mixed):
    evo = EvolutionSearch(mixed, seed=3, population=10, sample_size=4)
    _run(evo, 120)
    first = min(t.value for t in evo.trials[:10])
    assert evo.best.value < 0.3 * first


def test_maximize_selects_the_highest(mixed):
    evo = EvolutionSearch(mixed, seed=0, population=3, sample_size=3, maximize=True)
    for v, d in zip((1.0, 9.0, 5.0), (2, 6, 4), strict=True):
        evo.add({"lr": 1e-2, "x": 0.0, "depth": d, "width": 64, "act": "relu"}, v)
    for child in evo.ask(5):  # every child mutates the depth-6 parent (value 9)
        p = child.params
        same = sum(p[k] == v for k, v in {"lr": 1e-2, "x": 0.0, "width": 64}.items())
        assert (p["depth"] == 6) + same + (p["act"] == "relu") == 4


# Mutation ------------------------------------------------------------------------------
def test_mutation_changes_exactly_one_parameter_within_its_type(mixed):
    rng = np.random.default_rng(0)
    parent = {"lr": 1e-3, "x": 2.9, "depth": 8, "width": 8, "act": None}
    changed_names = set()
    for _ in range(500):
        child = mutate(mixed, parent, rng, scale=0.1, resample_prob=0.0)
        assert mixed.validate(child) == child
        changed = [
            k for k in mixed if child[k] != parent[k] or type(child[k]) is not type(parent[k])
        ]
        assert len(changed) == 1
        name = changed[0]
        changed_names.add(name)
        if name == "depth":  # 8 values, scale 0.1: a step of 1, reflected at the top
            assert child["depth"] == 7
        elif name == "width":  # 249 values: steps of 1..25, reflected at the bottom
            assert 9 <= child["width"] <= 8 + 25
        elif name == "x":  # a Gaussian step in the unit coordinate, reflected below 1
            assert abs(child["x"] - 2.9) < 5 * 0.1 * 5 and child["x"] <= 3.0
    assert changed_names == set(mixed)


def test_mutation_resamples_and_categoricals_take_another_choice():
    space = bo.Space({"c": bo.Categorical(["a", "b", "c"]), "k": bo.Integer(0, 99)})
    rng = np.random.default_rng(1)
    seen_c, far = set(), 0
    for _ in range(400):
        child = mutate(space, {"c": "a", "k": 50}, rng, scale=0.01, resample_prob=1.0)
        if child["c"] != "a":
            seen_c.add(child["c"])
        else:
            assert child["k"] != 50
            far += abs(child["k"] - 50) > 1  # scale 0.01 alone steps by 1
    assert seen_c == {"b", "c"} and far > 100


def test_a_space_of_one_point_gives_the_parent_back():
    space = bo.Space({"c": bo.Categorical(["only"])})
    assert mutate(space, {"c": "only"}, np.random.default_rng(0)) == {"c": "only"}


# Pending trials ---------------------------------------------------------------------------
def test_no_child_repeats_a_pending_one_until_the_space_is_exhausted():
    space = bo.Space({"c": bo.Categorical(["a", "b"]), "k": bo.Integer(0, 2)})
    evo = EvolutionSearch(space, seed=0, population=2, sample_size=2)
    for t in evo.ask(2):
        evo.tell(t, float(t.params["k"]))
    batch = evo.ask(6)
    assert len({tuple(t.params.items()) for t in batch}) == 6  # all six points
    assert len(evo.ask(2)) == 2  # exhausted: repeats now


def test_distinct_enumerates_when_draws_keep_repeating():
    space = bo.Space({"k": bo.Integer(0, 3)})
    taken = [{"k": 0}, {"k": 1}, {"k": 3}]
    d = Distinct(space, taken)
    assert d.draw(lambda: {"k": 0}, np.random.default_rng(0)) == {"k": 2}
    assert d.draw(lambda: {"k": 0}, np.random.default_rng(0)) == {"k": 0}  # exhausted
    assert d.draw(lambda: {"k": 9}, np.random.default_rng(0)) in [{"k": i} for i in range(4)]


# Replay and resume -----------------------------------------------------------------------
def test_same_seed_same_asks_and_another_seed_differs(mixed):
    a = _run(EvolutionSearch(mixed, seed=4, population=5), 25, every=2)
    b = _run(EvolutionSearch(mixed, seed=4, population=5), 25, every=2)
    c = _run(EvolutionSearch(mixed, seed=5, population=5), 25, every=2)
    assert a == b and a != c


def test_journal_resume_equals_the_uninterrupted_run(tmp_path, mixed):
    path = tmp_path / "evo.jsonl"
    kw = {"seed": 9, "population": 4, "sample_size": 2, "mutation_scale": 0.2}
    script = [("ask", 3), ("tell", 1), ("fail", 0), ("ask", 2), ("tell", 0), ("tell", 0)]
    script += [("ask", 3), ("tell", 2), ("tell", 0), ("ask", 1), ("tell", 0), ("tell", 0)] * 3

    def step(opt, op, arg, log):
        if op == "ask":
            log += [(t.id, t.params, t.source) for t in opt.ask(arg)]
        elif op == "tell":
            t = opt.pending[arg]
            opt.tell(t, _value(t.params))
        else:
            opt.tell(opt.pending[arg], failed=True)

    straight = EvolutionSearch(mixed, **kw)
    expected: list = []
    for op, arg in script:
        step(straight, op, arg, expected)
    resumed: list = []
    for op, arg in script:
        opt = EvolutionSearch(mixed, **kw, storage=path)
        step(opt, op, arg, resumed)
        opt.close()
    assert resumed == expected
    loaded = bo.load(path)
    assert type(loaded) is EvolutionSearch and loaded.settings() == straight.settings()
    assert [t.id for t in loaded.members()] == [t.id for t in straight.members()]
    with pytest.raises(ValueError, match="population=4 in the journal but 5 here"):
        EvolutionSearch(mixed, **{**kw, "population": 5}, storage=path)


def test_population_of_an_empty_history():
    assert population_of(bo.AskTell(bo.Space({"x": bo.Real(0, 1)}))._history, 3) == []


def test_global_rng_untouched(mixed):
    torch.manual_seed(0)
    np.random.seed(0)
    expected = (torch.rand(2), np.random.rand(2))
    torch.manual_seed(0)
    np.random.seed(0)
    _run(EvolutionSearch(mixed, seed=None, population=3), 8)
    assert torch.equal(torch.rand(2), expected[0])
    assert np.array_equal(np.random.rand(2), expected[1])


# Bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"population": 0}, ValueError, "`population >= 1`"),
        ({"population": 2.5}, TypeError, "`population` must be an int"),
        ({"sample_size": 0}, ValueError, "`sample_size >= 1`"),
        ({"population": 3, "sample_size": 4}, ValueError, "`sample_size <= population`"),
        ({"mutation_scale": 0.0}, ValueError, "`0 < mutation_scale <= 1`"),
        ({"mutation_scale": "big"}, TypeError, "`mutation_scale` must be a float"),
        ({"resample_prob": 1.5}, ValueError, "`0 <= resample_prob <= 1`"),
        ({"resample_prob": float("nan")}, ValueError, "`0 <= resample_prob <= 1`"),
        ({"maximize": 1}, TypeError, "`maximize` must be a bool"),
    ],
)
def test_bad_settings_are_named(kwargs, error, match, tmp_path, mixed):
    path = tmp_path / "bad.jsonl"
    with pytest.raises(error, match=match):
        EvolutionSearch(mixed, **kwargs, storage=path)
    assert not path.exists()


def test_bad_calls_leave_the_study_unchanged(mixed):
    evo = EvolutionSearch(mixed, seed=0, population=2)
    t = evo.ask()
    before = evo.trials
    with pytest.raises(TypeError, match="`value` must be a real number"):
        evo.tell(t, [1.0])
    with pytest.raises(ValueError, match="unknown parameter"):
        evo.add({"nope": 1}, 1.0)
    with pytest.raises(TypeError, match="`n` must be an int"):
        evo.ask(2.0)
    assert evo.trials == before


def test_conditional_and_constrained_spaces_get_valid_children():
    try:
        space = bo.Space(
            {
                "model": bo.Categorical(["svm", "rf"]),
                "C": bo.Real(1e-3, 1e3, log=True, when={"model": "svm"}),
                "depth": bo.Integer(1, 10, when={"model": "rf"}),
                "x": bo.Real(0, 1),
                "y": bo.Real(0, 1),
            },
            constraints=[lambda p: p["x"] + p["y"] <= 1.0],
        )
    except TypeError:
        pytest.skip("this Space has no conditions or constraints")
    rng = np.random.default_rng(0)
    models = set()
    for _ in range(200):  # switching the model activates the other branch's parameter
        child = mutate(space, {"model": "svm", "C": 1.0, "x": 0.2, "y": 0.3}, rng)
        assert space.active_names(child) == list(child)
        models.add(child["model"])
    assert models == {"svm", "rf"}
    evo = EvolutionSearch(space, seed=0, population=4)
    for _ in range(12):
        for t in evo.ask(2):
            assert space.validate(t.params) == t.params
            evo.tell(t, t.params["x"] + (t.params["model"] == "svm"))
