"""Space: validation of definitions, the unit-cube encoding and sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import bayesopt as bo

# --- definitions --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [bo.Real, bo.Integer])
def test_low_must_be_below_high(cls):
    with pytest.raises(ValueError, match=r"low < high"):
        cls(3, 3)
    with pytest.raises(ValueError, match=r"low < high"):
        cls(5, 1)


@pytest.mark.parametrize("cls", [bo.Real, bo.Integer])
def test_log_needs_positive_low(cls):
    with pytest.raises(ValueError, match=r"low > 0.*log=True"):
        cls(0, 10, log=True)
    with pytest.raises(ValueError, match=r"low > 0"):
        cls(-1, 10, log=True)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_real_bounds_must_be_finite(bad):
    with pytest.raises(ValueError, match="finite"):
        bo.Real(bad, 1.0) if bad != math.inf else bo.Real(0.0, bad)


def test_bound_types():
    with pytest.raises(TypeError, match="`low` must be a real number"):
        bo.Real("0", 1)
    with pytest.raises(TypeError, match="`high` must be an int"):
        bo.Integer(0, 1.5)
    with pytest.raises(TypeError, match="`low` must be an int"):
        bo.Integer(True, 4)
    with pytest.raises(TypeError, match="`log` must be a bool"):
        bo.Real(1, 2, log="yes")


def test_parameters_are_frozen_and_canonical():
    p = bo.Real(np.float32(1), 2)
    assert type(p.low) is float
    assert type(bo.Integer(np.int64(1), 3).low) is int
    with pytest.raises(AttributeError):
        p.low = 0.0


def test_categorical_choices_rules():
    with pytest.raises(ValueError, match="must not be empty"):
        bo.Categorical([])
    with pytest.raises(ValueError, match="unique.*'a'"):
        bo.Categorical(["a", "b", "a"])
    with pytest.raises(TypeError, match="hashable"):
        bo.Categorical([[1], [2]])
    with pytest.raises(TypeError, match="sequence"):
        bo.Categorical("abc")
    with pytest.raises(ValueError, match="NaN"):
        bo.Categorical([1.0, math.nan])
    # 1, 1.0 and True are different choices.
    c = bo.Categorical([1, 1.0, True, None, "1"])
    assert c.n_values == 5


def test_space_rules():
    with pytest.raises(ValueError, match="at least one parameter"):
        bo.Space({})
    with pytest.raises(TypeError, match="names must be str"):
        bo.Space({1: bo.Real(0, 1)})
    with pytest.raises(TypeError, match="'x' must be a Real, Integer or Categorical"):
        bo.Space({"x": (0, 1)})
    with pytest.raises(TypeError, match="mapping"):
        bo.Space([("x", bo.Real(0, 1))])


def test_space_geometry(mixed_space):
    assert mixed_space.dim == 5
    assert mixed_space.names == ["lr", "x", "depth", "width", "act"]
    assert mixed_space.categorical_dims == [4]
    assert mixed_space.n_points is None
    assert bo.Space({"a": bo.Integer(1, 3), "b": bo.Categorical(["x", "y"])}).n_points == 6
    assert mixed_space.grid(0) is None
    assert torch.equal(mixed_space.grid(2), torch.sort(mixed_space.grid(2)).values)
    assert len(mixed_space.grid(4)) == 5


# --- encoding -----------------------------------------------------------------------------


def test_encoding_values(mixed_space):
    params = {"lr": 1e-4, "x": 3.0, "depth": 1, "width": 256, "act": None}
    u = mixed_space.to_unit(params)
    assert u.shape == (5,) and u.dtype == torch.float64
    assert u[0] == pytest.approx(0.0) and u[1] == pytest.approx(1.0)
    assert u[4] == pytest.approx(2.5 / 5)  # third choice: centre of bin 2
    back = mixed_space.from_unit(u)
    assert back["depth"] == 1 and type(back["depth"]) is int
    assert back["act"] is None
    assert back["width"] == 256


def test_log_real_is_uniform_in_log_space():
    p = bo.Space({"lr": bo.Real(1e-4, 1.0, log=True)})
    assert p.to_unit({"lr": 1e-2})[0] == pytest.approx(0.5)
    assert p.from_unit([0.25])["lr"] == pytest.approx(1e-3)


def test_from_unit_decodes_any_point_inside_bounds(mixed_space):
    for u in ([0.0] * 5, [1.0] * 5, [-3.0, 7.0, 0.5, 0.999999, 1e-12]):
        p = mixed_space.from_unit(torch.tensor(u))
        assert 1e-4 <= p["lr"] <= 1e-1 and -2.0 <= p["x"] <= 3.0
        assert 1 <= p["depth"] <= 8 and 8 <= p["width"] <= 256
        assert p["act"] in ["relu", "tanh", None, True, 3]
    with pytest.raises(ValueError, match="expected 5 coordinates"):
        mixed_space.from_unit([0.5])
    with pytest.raises(ValueError, match="finite"):
        mixed_space.from_unit([math.nan] * 5)


def test_integer_bins_are_equal_width():
    space = bo.Space({"k": bo.Integer(1, 4)})
    decoded = [space.from_unit([u])["k"] for u in np.linspace(0, 1, 4001)]
    counts = np.bincount(decoded)[1:]
    assert counts.min() >= 990 and counts.max() <= 1010


def test_to_unit_rejects_bad_params(mixed_space):
    good = {"lr": 1e-3, "x": 0.0, "depth": 2, "width": 16, "act": "relu"}
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['nope'\]"):
        mixed_space.to_unit({**good, "nope": 1})
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['act'\]"):
        mixed_space.to_unit({k: v for k, v in good.items() if k != "act"})
    with pytest.raises(ValueError, match="parameter 'x'.*<= value <="):
        mixed_space.to_unit({**good, "x": 3.5})
    with pytest.raises(ValueError, match="parameter 'depth'"):
        mixed_space.to_unit({**good, "depth": 9})
    with pytest.raises(TypeError, match="parameter 'depth': expected an int"):
        mixed_space.to_unit({**good, "depth": 2.0})
    with pytest.raises(TypeError, match="parameter 'lr': expected a real number"):
        mixed_space.to_unit({**good, "lr": "0.1"})
    with pytest.raises(TypeError, match="parameter 'x'"):
        mixed_space.to_unit({**good, "x": True})
    with pytest.raises(ValueError, match="parameter 'act': value must be one of"):
        mixed_space.to_unit({**good, "act": "gelu"})
    with pytest.raises(ValueError, match="parameter 'act'"):
        mixed_space.to_unit({**good, "act": 1})  # True is a choice, 1 is not
    with pytest.raises(TypeError, match="dict"):
        mixed_space.to_unit([1, 2])


def test_numpy_values_are_accepted_and_canonicalised(mixed_space):
    params = {
        "lr": np.float32(1e-3),
        "x": np.float64(0.5),
        "depth": np.int64(3),
        "width": np.int32(16),
        "act": np.str_("tanh"),
    }
    clean = mixed_space.validate(params)
    assert type(clean["depth"]) is int and type(clean["x"]) is float
    assert clean["act"] == "tanh" and type(clean["act"]) is str


def _params_strategy(space: bo.Space):
    parts = {}
    for name, p in space.items():
        if isinstance(p, bo.Real):
            parts[name] = st.floats(p.low, p.high, allow_nan=False)
        elif isinstance(p, bo.Integer):
            parts[name] = st.integers(p.low, p.high)
        else:
            parts[name] = st.sampled_from(p.choices)
    return st.fixed_dictionaries(parts)


SPACE_FOR_PROPERTIES = bo.Space(
    {
        "lr": bo.Real(1e-7, 10.0, log=True),
        "x": bo.Real(-1e6, 1e6),
        "k": bo.Integer(-50, 50),
        "w": bo.Integer(1, 4096, log=True),
        "c": bo.Categorical(["a", 1, 1.0, True, False, None, (1, 2)]),
    }
)


@settings(max_examples=300, deadline=None)
@given(_params_strategy(SPACE_FOR_PROPERTIES))
def test_round_trip_property(params):
    space = SPACE_FOR_PROPERTIES
    u = space.to_unit(params)
    assert bool(((u >= 0) & (u <= 1)).all())
    back = space.from_unit(u)
    # Integers and categoricals round-trip exactly (same type, same value).
    for name in ("k", "w", "c"):
        assert back[name] == params[name] and type(back[name]) is type(params[name])
    # Reals round-trip to floating-point accuracy and stay inside their bounds.
    assert back["lr"] == pytest.approx(params["lr"], rel=1e-12)
    assert back["x"] == pytest.approx(params["x"], rel=1e-12, abs=1e-9)
    assert space.validate(back) == back
    # Encoding a decoded point is a fixed point.
    assert torch.allclose(space.to_unit(back), u, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_decode_then_encode_snaps_to_bin_centres(u):
    space = SPACE_FOR_PROPERTIES
    u = torch.tensor(u, dtype=torch.float64)
    assert torch.allclose(space.to_unit(space.from_unit(u))[2:], space.snap(u)[2:], atol=1e-12)


# --- sampling -----------------------------------------------------------------------------


def test_sample_is_seeded_and_inside(mixed_space):
    a = mixed_space.sample(16, seed=3)
    b = mixed_space.sample(16, seed=3)
    c = mixed_space.sample(16, seed=4)
    assert a == b and a != c and len(a) == 16
    for p in a:
        mixed_space.validate(p)
    u = mixed_space.sample_unit(8, seed=0, sobol=False)
    assert u.shape == (8, 5)
    with pytest.raises(ValueError, match="n >= 0"):
        mixed_space.sample(-1)


def test_sobol_sample_is_balanced():
    space = bo.Space({"x": bo.Real(0, 1), "y": bo.Real(0, 1)})
    u = space.sample_unit(64, seed=0)
    # A scrambled Sobol net puts exactly 16 points in each quadrant.
    quadrant = (u[:, 0] > 0.5).long() * 2 + (u[:, 1] > 0.5).long()
    assert torch.bincount(quadrant).tolist() == [16, 16, 16, 16]


def test_sampling_leaves_global_rng_alone(mixed_space):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    mixed_space.sample(10, seed=1)
    mixed_space.sample(10)
    assert torch.equal(torch.rand(3), expected)


def test_space_equality_and_to_dict(mixed_space):
    again = bo.Space(dict(mixed_space.items()))
    assert again == mixed_space and hash(again) == hash(mixed_space)
    d = mixed_space.to_dict()
    assert d["width"] == {"type": "integer", "low": 8, "high": 256, "log": True}
    assert d["act"]["choices"] == ["relu", "tanh", None, True, 3]
    assert "Space({" in repr(mixed_space)


# --- edge cases found in review ---------------------------------------------------------------


def test_huge_integer_ranges_are_relaxed_not_enumerated():
    space = bo.Space({"n": bo.Integer(0, 10**9), "k": bo.Integer(1, 10**12, log=True)})
    assert space.grid(0) is None and space.grid(1) is None
    for p in space.sample(5, seed=0):
        assert space.from_unit(space.to_unit(p)) == p
    u = space.snap(torch.rand(4, 2, dtype=torch.float64))
    assert all(space.to_unit(space.from_unit(row)).allclose(row, atol=1e-15) for row in u)


def test_integer_bounds_must_be_exact_in_float64():
    with pytest.raises(ValueError, match=r"\|high\| <= 2\*\*53"):
        bo.Integer(0, 2**60)
    with pytest.raises(ValueError, match=r"high - low <= 2\*\*50"):
        bo.Integer(-(2**50), 2**50)
    with pytest.raises(ValueError, match=r"high <= 2\*\*40"):
        bo.Integer(1, 2**41, log=True)
    space = bo.Space({"n": bo.Integer(2**53 - 2**50, 2**53), "m": bo.Integer(1, 2**40, log=True)})
    for v in (2**53 - 3, 2**53, 2**53 - 2**50 + 1, 2**53 - 12345):
        for w in (1, 2, 3, 2**40 - 1, 2**40, 999_999_999_999):
            p = {"n": v, "m": w}
            assert space.from_unit(space.to_unit(p)) == p


def test_overflowing_bounds_and_values_are_clear_errors():
    with pytest.raises(ValueError, match="`high` must be finite"):
        bo.Real(0, 10**400)
    with pytest.raises(ValueError, match="high - low"):
        bo.Real(-1e308, 1e308)
    space = bo.Space({"x": bo.Real(0, 1)})
    with pytest.raises(ValueError, match="parameter 'x'"):
        space.to_unit({"x": 10**400})


def test_categorical_identity_and_numpy_matching():
    assert bo.Categorical([0, 1]) != bo.Categorical([False, True])
    assert hash(bo.Categorical(["a", 1])) == hash(bo.Categorical(["a", 1]))
    c = bo.Categorical([0, False, 0.0])
    assert c.index(np.float64(0.0)) == 2 and c.index(np.int64(0)) == 0
    assert c.index(np.bool_(False)) == 1
    with pytest.raises(ValueError, match="NaN"):
        bo.Categorical([np.float32("nan")])
    assert bo.Categorical(np.array(["a", "b"])).choices == ("a", "b")


# --- conditions and constraints (more in test_conditional.py) -----------------------------


def test_sobol_is_the_snapped_sobol_sequence_and_skips_in_order(mixed_space):
    engine = torch.quasirandom.SobolEngine(mixed_space.dim, scramble=True, seed=11)
    expected = mixed_space.snap(engine.draw(12, dtype=torch.float64))
    assert torch.equal(mixed_space.sobol(12, 11), expected)
    assert torch.equal(mixed_space.sobol(5, 11, skip=7), expected[7:])


def test_a_plain_space_has_no_structure(mixed_space):
    assert mixed_space.unit_structure() is None
    assert not mixed_space.conditional and mixed_space.constraints == ()
    assert mixed_space.active_dim == mixed_space.dim == 5
    assert mixed_space.active_ordinal_dim == 4
    u = mixed_space.sample_unit(4, seed=0)
    assert bool(mixed_space.active_mask(u).all()) and bool(mixed_space.feasible_mask(u).all())
    assert mixed_space.imputation.tolist() == [0.5, 0.5, 0.5, 0.5, 0.0]


def test_conditional_parameters_compare_by_their_conditions():
    a = bo.Space({"m": bo.Categorical(["x", "y"]), "p": bo.Real(0, 1, when={"m": "x"})})
    b = bo.Space({"m": bo.Categorical(["x", "y"]), "p": bo.Real(0, 1, when={"m": "y"})})
    c = bo.Space({"m": bo.Categorical(["x", "y"]), "p": bo.Real(0, 1)})
    assert a != b and a != c and a == bo.Space.from_dict(a.to_dict())
    assert len({a, b, c, bo.Space.from_dict(a.to_dict())}) == 3
    assert a.n_points is None and a.active_dim == 2


def test_constraints_are_part_of_the_space():
    from bayesopt.space import Linear, Predicate

    params = {"a": bo.Real(0, 1), "b": bo.Integer(0, 3)}
    lin = Linear({"a": 2.0, "b": 1.0}, ">=", 1.0)
    s = bo.Space(params, constraints=[lin])
    assert s == bo.Space(params, [Linear({"a": 2.0, "b": 1.0}, ">=", 1.0)])
    assert s != bo.Space(params) and s != bo.Space(params, [Linear({"a": 2.0}, ">=", 1.0)])
    assert hash(s) == hash(bo.Space.from_dict(s.to_dict()))
    assert "constraints=[Linear({'a': 2.0, 'b': 1.0}, '>=', 1.0)]" in repr(s)
    # A finite constrained space counts its feasible points: 2 a + b >= 1 drops b = 0, a < 0.5.
    finite = bo.Space({"a": bo.Integer(0, 1), "b": bo.Integer(0, 3)}, [lin])
    assert finite.n_points == 7
    assert s.unit_constraints()[0][0].tolist() == [0, 1]
    with pytest.raises(ValueError, match="a constraint must be"):
        bo.Space.from_dict({**s.to_dict(), "$constraints": [{"type": "quadratic"}]})
    with pytest.raises(AttributeError):
        lin.bound = 2.0
    assert Predicate(len).name == "len"
    with pytest.raises(TypeError, match="must be callable"):
        Predicate(3)
