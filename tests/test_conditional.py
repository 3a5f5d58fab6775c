"""Conditional parameters and parameter constraints: definitions, encoding, the ask/tell
front, journals, and the optimiser on structured spaces."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import bayesopt as bo
from bayesopt.space import (
    IMPUTE_CATEGORICAL,
    IMPUTE_ORDINAL,
    Categorical,
    In,
    Integer,
    Linear,
    Predicate,
    Real,
    Space,
)
from benchmarks.problems.structured import jenatton_space as tree_space


def svm_space() -> Space:
    return Space(
        {
            "model": Categorical(["svm", "rf", "knn"]),
            "C": Real(1e-3, 1e3, log=True, when={"model": "svm"}),
            "kernel": Categorical(["rbf", "poly"], when={"model": "svm"}),
            "degree": Integer(2, 5, when={"kernel": "poly"}),
            "n_estimators": Integer(10, 500, log=True, when={"model": "rf"}),
            "k": Integer(1, 30, when={"model": In("knn", "rf")}),
            "weights": Categorical(["uniform", "distance"], when={"model": ["knn"]}),
        }
    )


def tree(p: dict) -> float:
    if p["x1"] == 0:
        return (p["x4"] ** 2 + 0.1 if p["x2"] == 0 else p["x5"] ** 2 + 0.2) + p["r8"]
    return (p["x6"] ** 2 + 0.3 if p["x3"] == 0 else p["x7"] ** 2 + 0.4) + p["r9"]


# --- definitions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"a": Categorical([1, 2]), "b": Real(0, 1, when={"c": 1})}, "'c', which is not a param"),
        ({"a": Categorical([1, 2], when={"a": 1})}, "condition on itself"),
        ({"a": Real(0, 1), "b": Real(0, 1, when={"a": 0.5})}, "Real parameter 'a'"),
        ({"a": Categorical(["x", "y"]), "b": Real(0, 1, when={"a": "z"})}, "never hold for 'z'"),
        ({"a": Categorical(["x", "y"]), "b": Real(0, 1, when={"a": ["x", "q"]})}, "'q'"),
        ({"a": Integer(0, 5), "b": Real(0, 1, when={"a": 7})}, "integers 0 to 5"),
        ({"a": Integer(0, 5), "b": Real(0, 1, when={"a": 2.5})}, "never hold for 2.5"),
        (
            {
                "a": Categorical(["x", "y"], when={"b": "u"}),
                "b": Categorical(["u", "v"], when={"a": "x"}),
            },
            r"cycle: a -> b -> a",
        ),
        (
            {
                "a": Categorical(["x", "y"]),
                "b": Categorical(["u", "v"], when={"a": "x"}),
                "c": Real(0, 1, when={"b": "u", "a": "y"}),
            },
            r"'c' can never be active.*'a' in \['x'\] and in \['y'\]",
        ),
    ],
)
def test_bad_conditions_are_named_errors(params, match):
    with pytest.raises(ValueError, match=match):
        Space(params)


def test_when_argument_rules():
    with pytest.raises(TypeError, match="`when` must be a mapping"):
        Real(0, 1, when=["a"])
    with pytest.raises(ValueError, match="at least one parent"):
        Real(0, 1, when={})
    with pytest.raises(TypeError, match="keys must be parameter names"):
        Real(0, 1, when={1: "a"})
    with pytest.raises(TypeError, match="hashable"):
        Integer(0, 1, when={"a": [["x"]]})
    with pytest.raises(ValueError, match="at least one value"):
        In()
    # Equality, membership and In are the same condition; order does not matter.
    assert Real(0, 1, when={"a": "x"}) == Real(0, 1, when={"a": ["x"]})
    a = Categorical([1, 2], when={"m": In("x", "y")})
    b = Categorical([1, 2], when={"m": {"y", "x"}})
    assert a == b and hash(a) == hash(b)
    assert Real(0, 1, when={"a": "x"}) != Real(0, 1)
    assert repr(Real(0, 1, when={"a": "x"})).endswith("when={'a': 'x'})")
    assert repr(Integer(1, 2)) == "Integer(low=1, high=2, log=False)"
    assert Real(0, 1, when={"a": "x"}).when["a"] == In("x")
    # A tuple choice is tested with In (a bare tuple is a membership test).
    space = Space({"t": Categorical([(1, 2), (3, 4)]), "x": Real(0, 1, when={"t": In((1, 2))})})
    assert space.active_names({"t": (1, 2)}) == ["t", "x"]


def test_active_names_follow_nested_conditions_and_membership():
    space = svm_space()
    assert space.active_names({"model": "svm", "kernel": "poly"}) == [
        "model",
        "C",
        "kernel",
        "degree",
    ]
    assert space.active_names({"model": "svm", "kernel": "rbf"}) == ["model", "C", "kernel"]
    # degree's parent is inactive for rf, whatever value `kernel` is given.
    assert space.active_names({"model": "rf", "kernel": "poly"}) == [
        "model",
        "n_estimators",
        "k",
    ]
    assert space.active_names({"model": "knn"}) == ["model", "k", "weights"]
    assert space.active_names({}) == ["model"]
    assert space.conditional and not Space({"x": Real(0, 1)}).conditional


def test_several_keys_mean_and_and_integer_parents_work():
    space = Space(
        {
            "layers": Integer(1, 4),
            "act": Categorical(["relu", "tanh"]),
            "w3": Integer(8, 64, when={"layers": [3, 4]}),
            "slope": Real(0.0, 1.0, when={"layers": [3, 4], "act": "relu"}),
        }
    )
    assert space.active_names({"layers": 3, "act": "relu"}) == ["layers", "act", "w3", "slope"]
    assert space.active_names({"layers": 3, "act": "tanh"}) == ["layers", "act", "w3"]
    assert space.active_names({"layers": 2, "act": "relu"}) == ["layers", "act"]
    # 4 * 2 points without the children, plus w3 (57 values) on 2 layer counts, times slope.
    assert space.n_points is None
    assert space.active_dim == 4 and space.active_ordinal_dim == 3


def test_counting_matches_brute_force_enumeration():
    space = Space(
        {
            "a": Categorical(["x", "y", "z"]),
            "b": Integer(1, 4, when={"a": ["x", "y"]}),
            "c": Categorical([True, False], when={"b": [2, 3], "a": "x"}),
            "d": Integer(0, 2, when={"c": True}),
            "e": Integer(5, 6),
        }
    )
    seen = set()
    for combo in itertools.product(*(range(space[k].n_values) for k in space.names)):
        u = torch.tensor(
            [(i + 0.5) / space[k].n_values for i, k in zip(combo, space.names, strict=True)],
            dtype=torch.float64,
        )
        seen.add(tuple(sorted(space.from_unit(u).items(), key=lambda kv: kv[0])))
    assert space.n_points == len(seen)
    assert space.active_dim == max(len(p) for p in seen)


# --- params in and out ------------------------------------------------------------------------


def test_validate_wants_exactly_the_active_parameters():
    space = svm_space()
    ok = space.validate({"model": "svm", "C": 1, "kernel": "poly", "degree": 3})
    assert ok == {"model": "svm", "C": 1.0, "kernel": "poly", "degree": 3}
    assert type(ok["C"]) is float
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['degree'\].*'kernel'"):
        space.validate({"model": "svm", "C": 1.0, "kernel": "poly"})
    with pytest.raises(ValueError, match=r"\['C'\] are inactive.*'model' in \['svm'\]"):
        space.validate({"model": "knn", "k": 3, "weights": "uniform", "C": 1.0})
    with pytest.raises(ValueError, match="unknown parameter"):
        space.validate({"model": "knn", "k": 3, "weights": "uniform", "gamma": 1.0})
    with pytest.raises(ValueError, match="must be one of"):
        space.validate({"model": "lasso"})


def _conditional_for_properties() -> Space:
    return Space(
        {
            "root": Categorical(["a", "b", "c"]),
            "x": Real(1e-3, 10.0, log=True, when={"root": ["a", "b"]}),
            "sub": Categorical([0, 1, 2], when={"root": "a"}),
            "k": Integer(-3, 40, when={"sub": [1, 2]}),
            "y": Real(-5.0, 5.0, when={"root": "c"}),
            "n": Integer(1, 1000, log=True),
        }
    )


SPACE_FOR_PROPERTIES = _conditional_for_properties()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=6, max_size=6),
    st.lists(st.floats(0, 1), min_size=6, max_size=6),
)
def test_encoding_round_trips_and_ignores_inactive_coordinates(u, noise):
    space = SPACE_FOR_PROPERTIES
    u = torch.tensor(u, dtype=torch.float64)
    params = space.from_unit(u)
    assert list(params) == space.active_names(params)
    assert space.validate(params) == params
    encoded = space.to_unit(params)
    # decode(encode(p)) == p: discrete values exactly, reals to rounding.
    back = space.from_unit(encoded)
    assert back.keys() == params.keys()
    for k, v in params.items():
        if isinstance(v, float):
            assert back[k] == pytest.approx(v, rel=1e-12)
        else:
            assert back[k] == v and type(back[k]) is type(v)
    # encode(decode(u)) is the canonical form of u, which snap computes.
    assert torch.allclose(encoded, space.snap(u), atol=1e-12)
    assert torch.equal(space.snap(space.snap(u)), space.snap(u))
    # Inactive coordinates sit at their imputation values ...
    active = space.active_mask(u)
    expected = torch.tensor([IMPUTE_ORDINAL, IMPUTE_CATEGORICAL, IMPUTE_ORDINAL])
    imputed = encoded[~active]
    assert all(float(x) in expected.tolist() for x in imputed)
    # ... so moving them changes nothing.
    moved = torch.where(active, u, torch.tensor(noise, dtype=torch.float64))
    assert space.from_unit(moved) == params
    assert torch.equal(space.snap(moved), space.snap(u))


def test_impute_is_differentiable_in_active_coordinates_only():
    space = svm_space()
    u = torch.full((2, space.dim), 0.3, dtype=torch.float64, requires_grad=True)
    out = space.impute(u)
    out.sum().backward()
    active = space.active_mask(u.detach())
    assert torch.equal(u.grad != 0, active)
    flat = Space({"x": Real(0, 1)})
    v = torch.rand(3, 1, dtype=torch.float64)
    assert flat.impute(v) is v and bool(flat.active_mask(v).all())


def test_branch_names_the_parents_values():
    space = svm_space()
    assert space.branch({"model": "svm", "C": 1.0, "kernel": "poly", "degree": 2}) == (
        ("model", "svm"),
        ("kernel", "poly"),
    )
    assert space.branch({"model": "knn", "k": 2, "weights": "uniform"}) == (("model", "knn"),)
    assert Space({"x": Real(0, 1)}).branch({"x": 0.5}) == ()


def test_samples_hold_the_active_parameters_only():
    space = svm_space()
    for sobol in (True, False):
        U = space.sample_unit(64, seed=1, sobol=sobol)
        assert torch.equal(space.snap(U), U)
        models = set()
        for p in map(space.from_unit, U):
            assert list(p) == space.active_names(p)
            models.add(p["model"])
        assert models == {"svm", "rf", "knn"}


def test_to_dict_from_dict_and_json_round_trip():
    space = svm_space()
    spec = space.to_dict()
    assert spec["k"]["when"] == {"model": ["knn", "rf"]}
    assert "when" not in spec["model"]
    again = Space.from_dict(json.loads(json.dumps(spec)))
    assert again == space and hash(again) == hash(space)
    assert again.active_names({"model": "rf"}) == ["model", "n_estimators", "k"]
    with pytest.raises(ValueError, match="`when` must map parent names to lists"):
        Space.from_dict({"a": {"type": "real", "low": 0, "high": 1, "log": False, "when": "x"}})
    with pytest.raises(ValueError, match=r"reserved"):
        Space({"$constraints": Real(0, 1)})


def test_structured_spaces_pickle_and_copy():
    import copy
    import pickle

    space = Space(
        {**svm_space(), "frac": Real(0, 1)},
        constraints=[Linear({"frac": 1.0}, "<=", 0.9), Predicate(len, name="len")],
    )
    for obj in (space, space["k"].when, In("a", 1), space.constraints[0], Predicate.unbound("q")):
        assert pickle.loads(pickle.dumps(obj)) == obj and copy.deepcopy(obj) == obj
    again = pickle.loads(pickle.dumps(space))
    assert again.constraints[1].fn is len
    assert again.active_names({"model": "knn"}) == ["model", "k", "weights", "frac"]


# --- the ask/tell front -----------------------------------------------------------------------


def test_tell_add_and_enqueue_check_the_active_parameters():
    opt = bo.RandomSearch(svm_space(), seed=0)
    before = opt.trials
    with pytest.raises(ValueError, match="inactive"):
        opt.add({"model": "knn", "k": 3, "weights": "uniform", "degree": 2}, 1.0)
    with pytest.raises(ValueError, match="missing"):
        opt.enqueue({"model": "svm", "C": 1.0})
    assert opt.trials == before
    opt.enqueue({"model": "rf", "n_estimators": 50, "k": 4})
    trial = opt.ask()
    assert trial.params == {"model": "rf", "n_estimators": 50, "k": 4}
    opt.tell(trial, 0.5)
    added = opt.add({"model": "svm", "C": 2.0, "kernel": "rbf"}, 0.25)
    assert opt.best.id == added.id


def test_random_search_trials_hold_only_active_parameters():
    for sobol in (False, True):
        opt = bo.RandomSearch(tree_space(), seed=3, sobol=sobol)
        for _ in range(12):
            t = opt.ask()
            assert list(t.params) == opt.space.active_names(t.params) and len(t.params) == 4
            opt.tell(t, tree(t.params))


def test_journal_round_trip_and_exact_resume(tmp_path):
    space = svm_space()
    path = tmp_path / "study.jsonl"
    whole = bo.RandomSearch(space, seed=5)
    first = bo.RandomSearch(space, seed=5, storage=path)
    for i in range(4):
        a, b = whole.ask(), first.ask()
        assert a.params == b.params
        whole.tell(a, float(i))
        first.tell(b, float(i))
    resumed = bo.RandomSearch(svm_space(), seed=5, storage=path)
    for i in range(3):
        a, b = whole.ask(), resumed.ask()
        assert a.params == b.params
        whole.tell(a, 1.0 + i)
        resumed.tell(b, 1.0 + i)
    loaded = bo.load(path)
    assert loaded.space == space
    assert [t.params for t in loaded.trials] == [t.params for t in whole.trials]
    with pytest.raises(ValueError, match="space"):
        bo.RandomSearch(tree_space(), seed=5, storage=path)


def test_conditions_on_choices_of_any_type_survive_the_journal(tmp_path):
    space = Space(
        {
            "shape": Categorical([(1, 2), (3, 4), None]),
            "x": Real(0, 1, when={"shape": In((1, 2), None)}),
        }
    )
    path = tmp_path / "tuples.jsonl"
    rs = bo.RandomSearch(space, seed=1, storage=path)
    for _ in range(6):
        t = rs.ask()
        rs.tell(t, t.params.get("x", 2.0))
    loaded = bo.load(path)
    assert loaded.space == space
    assert [t.params for t in loaded.trials] == [t.params for t in rs.trials]
    reference = bo.RandomSearch(space, seed=1)
    expected = [reference.ask() for _ in range(7)][-1].params
    assert bo.RandomSearch(space, seed=1, storage=path).ask().params == expected


# --- constraints ------------------------------------------------------------------------------


def test_linear_constraint_definitions():
    with pytest.raises(ValueError, match="`op` must be one of"):
        Linear({"a": 1.0}, "<", 1.0)
    with pytest.raises(TypeError, match="finite real"):
        Linear({"a": math.nan}, "<=", 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        Linear({"a": 0.0}, "<=", 1.0)
    base = {"a": Real(0, 1), "b": Integer(0, 10), "c": Categorical(["u", "v"])}
    with pytest.raises(ValueError, match="categorical 'c'"):
        Space(base, constraints=[Linear({"c": 1.0}, "<=", 1.0)])
    with pytest.raises(ValueError, match="log-scaled 'l'"):
        Space({**base, "l": Real(1, 10, log=True)}, [Linear({"l": 1.0}, "<=", 5.0)])
    with pytest.raises(ValueError, match="conditional 'd'"):
        Space({**base, "d": Real(0, 1, when={"c": "u"})}, [Linear({"d": 1.0}, "<=", 0.5)])
    with pytest.raises(ValueError, match="'z', which is not a parameter"):
        Space(base, constraints=[Linear({"z": 1.0}, "<=", 1.0)])
    with pytest.raises(TypeError, match="must be a Linear, a Predicate or a callable"):
        Space(base, constraints=["a <= 1"])
    with pytest.raises(TypeError, match="must be a list"):
        Space(base, constraints="a <= 1")


@pytest.mark.parametrize(
    ("constraints", "match"),
    [
        ([Linear({"a": 1.0, "b": 1.0}, "<=", -0.5)], "infeasible"),
        ([Linear({"a": 1.0}, ">=", 0.7), Linear({"a": 1.0, "b": -1.0}, "<=", -1.0)], "infeasible"),
        (
            [Linear({"a": 1.0, "b": 1.0}, "<=", 1.0), Linear({"a": 1.0, "b": 1.0}, ">=", 1.0)],
            "no interior",
        ),
    ],
)
def test_infeasible_constraint_sets_are_rejected(constraints, match):
    with pytest.raises(ValueError, match=match):
        Space({"a": Real(0, 1), "b": Real(0, 1)}, constraints=constraints)


def test_samples_and_sobol_points_satisfy_the_constraints():
    space = Space(
        {"a": Real(0, 1), "b": Real(-1, 1), "n": Integer(0, 10), "c": Categorical(["u", "v"])},
        constraints=[Linear({"a": 1.0, "b": 1.0}, "<=", 0.5), Linear({"n": 1, "a": 10}, ">=", 4)],
    )
    for U in (space.sample_unit(200, seed=0), space.sample_unit(200, seed=0, sobol=False)):
        assert len(U) == 200 and bool(space.feasible_mask(U).all())
        for p in map(space.from_unit, U):
            assert p["a"] + p["b"] <= 0.5 and p["n"] + 10 * p["a"] >= 4
    # The feasible Sobol stream is numbered in order: skipping is a suffix.
    assert torch.equal(space.sobol(10, 7)[4:], space.sobol(6, 7, skip=4))
    with pytest.raises(ValueError, match="violate the constraint"):
        space.validate({"a": 0.4, "b": 0.4, "n": 5, "c": "u"})
    # Rounding in the input is forgiven: 0.1 + 0.4 is 0.5 up to one ulp.
    assert space.validate({"a": 0.1, "b": 0.4, "n": 5, "c": "u"})["b"] == 0.4


def test_a_small_feasible_set_is_sampled_by_hit_and_run():
    names = [f"x{i}" for i in range(6)]
    space = Space(
        {k: Real(0, 1) for k in names}, constraints=[Linear(dict.fromkeys(names, 1.0), "<=", 0.2)]
    )
    U = space.sample_unit(40, seed=0)  # the simplex holds 1e-7 of the cube
    assert len(U) == 40 and bool(space.feasible_mask(U).all())
    assert torch.equal(U, space.sample_unit(40, seed=0))


def test_predicates_reject_and_are_stored_by_name(tmp_path):
    def ordered(p):
        return p["a"] < p["b"]

    space = Space({"a": Real(0, 1), "b": Real(0, 1)}, constraints=[ordered])
    U = space.sample_unit(50, seed=1)
    assert all(p["a"] < p["b"] for p in map(space.from_unit, U))
    with pytest.raises(ValueError, match="returned False"):
        space.validate({"a": 0.9, "b": 0.1})
    spec = space.to_dict()
    assert spec["$constraints"] == [{"type": "predicate", "name": ordered.__qualname__}]
    unbound = Space.from_dict(spec)
    assert unbound == space  # predicates compare by name
    assert unbound.validate({"a": 0.9, "b": 0.1})  # an unbound predicate is not checked
    with pytest.raises(ValueError, match="has no function"):
        unbound.sample_unit(2, seed=0)
    # A study resumes only with the predicate passed again; load() reads it without.
    path = tmp_path / "p.jsonl"
    rs = bo.RandomSearch(space, seed=0, storage=path)
    rs.tell(rs.ask(), 1.0)
    with pytest.raises(ValueError, match="space"):
        bo.RandomSearch(Space({"a": Real(0, 1), "b": Real(0, 1)}), seed=0, storage=path)
    again = bo.RandomSearch(space, seed=0, storage=path)
    assert again.ask().params["a"] < again.trials[-1].params["b"]
    assert bo.load(path).trials[0].params == rs.trials[0].params
    named = Predicate(lambda p: True, name="always")
    assert named.name == "always" and named == Predicate.unbound("always")


def test_constrained_space_journal_round_trip(tmp_path):
    space = Space(
        {"a": Real(0, 1), "b": Real(0, 1)},
        constraints=[Linear({"a": 1.0, "b": 2.0}, "<=", 1.0)],
    )
    path = tmp_path / "c.jsonl"
    rs = bo.RandomSearch(space, seed=0, sobol=True, storage=path)
    for _ in range(5):
        t = rs.ask()
        rs.tell(t, t.params["a"])
    assert bo.load(path).space == space
    resumed = bo.RandomSearch(space, seed=0, sobol=True, storage=path)
    reference = bo.RandomSearch(space, seed=0, sobol=True)
    assert resumed.ask().params == [reference.ask() for _ in range(6)][-1].params


# --- the optimiser ----------------------------------------------------------------------------


def test_optimizer_trials_hold_only_active_parameters():
    space = svm_space()
    opt = bo.Optimizer(space, seed=0, n_initial=4)
    for _ in range(7):
        t = opt.ask()
        assert list(t.params) == space.active_names(t.params)
        opt.tell(t, math.log(t.params.get("C", 1.0)) ** 2 + (t.params["model"] != "svm"))
    assert {t.source for t in opt.trials} == {bo.Source.INITIAL, bo.Source.MODEL}


def test_default_initial_design_counts_the_active_parameters():
    assert bo.optimizer.default_n_initial(tree_space()) == 9  # 2 * 4 + 1, not 2 * 9 + 1
    assert bo.optimizer.default_n_initial(Space({"x": Real(0, 1)})) == 5


def test_constraints_hold_for_initial_and_model_proposals():
    space = Space(
        {"a": Real(0, 1), "b": Real(0, 1), "n": Integer(1, 5)},
        constraints=[Linear({"a": 1, "b": 1}, "<=", 0.8), Linear({"a": 1.0, "n": 0.1}, ">=", 0.3)],
    )
    opt = bo.Optimizer(space, seed=1, n_initial=5)
    for _ in range(12):
        t = opt.ask()
        p = t.params
        assert p["a"] + p["b"] <= 0.8 and p["a"] + 0.1 * p["n"] >= 0.3, p
        opt.tell(t, -(p["a"] + 2 * p["b"]) + 0.01 * p["n"])
    assert sum(t.source is bo.Source.MODEL for t in opt.trials) == 7
    # The optimum is on the boundary: b = 0.8 - a, a + 0.1 n >= 0.3 with n = 3 or more.
    assert opt.best.value < -1.45


def test_constraints_hold_for_thompson_and_batches():
    space = Space(
        {"a": Real(0, 1), "b": Real(0, 1), "c": Categorical(["u", "v"])},
        constraints=[Linear({"a": 1, "b": -1}, ">=", 0.1), lambda p: p["c"] == "u" or p["a"] > 0.5],
    )
    for acquisition in ("ts", "qlognei"):
        opt = bo.Optimizer(space, seed=2, n_initial=4, acquisition=acquisition)
        for _ in range(3):
            for t in opt.ask(2):
                p = t.params
                assert p["a"] - p["b"] >= 0.1 and (p["c"] == "u" or p["a"] > 0.5), p
                opt.tell(t, (p["a"] - 0.7) ** 2 + p["b"])


@pytest.mark.slow
def test_seeded_run_finds_the_best_branch_of_the_tree_function():
    opt = bo.Optimizer(tree_space(), seed=0)
    for _ in range(30):
        t = opt.ask()
        opt.tell(t, tree(t.params))
    best = opt.best
    assert best.params["x1"] == 0 and best.params["x2"] == 0  # the leaf with the 0.1 minimum
    assert best.value < 0.15
    random = bo.RandomSearch(tree_space(), seed=0)
    for _ in range(30):
        t = random.ask()
        random.tell(t, tree(t.params))
    assert best.value < random.best.value


@pytest.mark.slow
def test_conditional_study_resumes_exactly_from_its_journal(tmp_path):
    path = tmp_path / "tree.jsonl"
    whole = bo.Optimizer(tree_space(), seed=4, n_initial=4)
    for _ in range(8):
        t = whole.ask()
        whole.tell(t, tree(t.params))
    for _ in range(8):
        opt = bo.Optimizer(tree_space(), seed=4, n_initial=4, storage=path)  # reopened each time
        t = opt.ask()
        opt.tell(t, tree(t.params))
    assert [t.params for t in bo.load(path).trials] == [t.params for t in whole.trials]


# --- figures ----------------------------------------------------------------------------------


def test_figures_leave_gaps_at_inactive_parameters_and_colour_by_branch():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    import bayesopt.plot as bp

    space = svm_space()
    rs = bo.RandomSearch(space, seed=0)
    for _ in range(16):
        t = rs.ask()
        rs.tell(t, math.log(t.params.get("C", 1.0)) ** 2 + (t.params["model"] != "svm"))
    ax = bp.parallel_coordinates(rs, ax=Figure().subplots())
    solid, bridges = ax.collections[:2]
    # Solid segments join neighbouring axes that are both active; bridges pass over
    # inactive axes; no line touches an inactive parameter's axis.
    assert all((np.diff(seg[:, 0]) == 1).all() for seg in solid.get_segments())
    assert bridges.get_segments() and all(
        seg[1, 0] - seg[0, 0] > 1 for seg in bridges.get_segments()
    )
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "model" and labels[3] == "degree\n(kernel=poly)"
    assert labels[5] == "k\n(model=knn|rf)"
    ax = bp.history(rs, by="branch", ax=Figure().subplots())
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"model=knn", "model=rf", "best so far"} <= legend
    assert any(label.startswith("model=svm, kernel=") for label in legend)
    ax = bp.history(rs, by="kernel", ax=Figure().subplots())
    assert "kernel inactive" in {t.get_text() for t in ax.get_legend().get_texts()}
    with pytest.raises(ValueError, match="`by` must be None, 'branch' or a parameter"):
        bp.history(rs, by="nope", ax=Figure().subplots())


def test_slices_of_a_conditional_study_take_their_branch_from_fixed():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    import bayesopt.plot as bp

    rs = bo.RandomSearch(tree_space(), seed=2)
    for _ in range(10):
        t = rs.ask()
        rs.tell(t, tree(t.params))
    opt = bo.Optimizer(tree_space(), seed=0)
    for t in rs.trials:
        opt.add(t.params, t.value)
    view = bp.fit_surrogate(opt)
    branch = {"x1": 1, "x3": 0, "x6": 0.2, "r9": 0.5}
    ax = bp.posterior_slice(view, "x6", fixed=branch, ax=Figure().subplots())
    observed = next(c for c in ax.collections if c.get_label().startswith("observed"))
    assert len(observed.get_offsets()) == sum("x6" in t.params for t in rs.trials)
    bp.slice_2d(view, params=("x6", "r9"), fixed=branch, ax=Figure().subplots())
    with pytest.raises(ValueError, match=r"\['x4'\] are inactive at the slice's base point"):
        bp.posterior_slice(view, "x4", fixed=branch, ax=Figure().subplots())
    with pytest.raises(ValueError, match="active under `fixed` but not in the best trial"):
        best = opt.best.params
        other = {"x1": 1 - best["x1"]}
        bp.posterior_slice(view, "x1", fixed=other, ax=Figure().subplots())
