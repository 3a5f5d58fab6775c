"""Several outcomes: objectives, black-box constraints, Pareto fronts and hypervolumes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import bayesopt as bo
from bayesopt import gp, outcomes
from bayesopt.events import EventError, Told
from bayesopt.journal import decode_event, encode_event
from bayesopt.outcomes import Outcomes, hypervolume, pareto_mask, reference_point
from bayesopt.trial import Trial

BRANIN_BOUND = 4.0
"""Feasible iff x1 + x2 <= 4: every unconstrained minimum of Branin is infeasible."""
BRANIN_CONSTRAINED_MIN = 2.38596  # at (3.0817, 0.9183), on the boundary (SciPy SLSQP)


def branin(x1: float, x2: float) -> float:
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


BRANIN_SPACE = bo.Space({"x1": bo.Real(-5.0, 10.0), "x2": bo.Real(0.0, 15.0)})


def constrained_branin(p: dict) -> dict:
    return {"value": branin(p["x1"], p["x2"]), "sum": p["x1"] + p["x2"]}


def two_quadratics(p: dict) -> dict:
    """Two shifted quadratics on [0, 1]^2: the Pareto set is the segment from (0.2, 0.2)
    to (0.8, 0.8)."""
    x, y = p["x"], p["y"]
    return {
        "f1": (x - 0.2) ** 2 + (y - 0.2) ** 2,
        "f2": (x - 0.8) ** 2 + (y - 0.8) ** 2,
    }


SQUARE = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})


@pytest.fixture
def space():
    return bo.Space({"x": bo.Real(0.0, 1.0)})


def _mo(space, **kw):
    return bo.Optimizer(space, seed=0, objectives={"a": "min", "b": "max"}, **kw)


# Declarations ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("objectives", "constraints", "error", "match"),
    [
        ({"a": "minimise"}, None, ValueError, "direction"),
        ({}, None, ValueError, "empty"),
        (None, {}, ValueError, "empty"),
        (None, {"c": ("<", 1.0)}, ValueError, "operator"),
        (None, {"c": ("<=", math.inf)}, ValueError, "finite"),
        (None, {"c": ("<=", math.nan)}, ValueError, "finite"),
        (None, {"c": ("<=", "8")}, TypeError, "number"),
        (None, {"c": "<= 8"}, TypeError, "pair"),
        ({"a": "min"}, {"a": ("<=", 1.0)}, ValueError, "twice"),
        ({"a": "min", "value": "min"}, {"value": (">=", 0)}, ValueError, "twice"),
        ({1: "min"}, None, TypeError, "names"),
        ("a", None, TypeError, "dict"),
    ],
)
def test_bad_declarations_are_refused(space, objectives, constraints, error, match):
    for cls in (bo.Optimizer, bo.RandomSearch):
        with pytest.raises(error, match=match):
            cls(space, objectives=objectives, constraints=constraints)


def test_maximize_with_objectives_is_refused(space):
    with pytest.raises(ValueError, match="maximize"):
        bo.Optimizer(space, maximize=True, objectives={"a": "max"})
    opt = bo.Optimizer(space, maximize=True, constraints={"c": ("<=", 1)})
    assert opt.outcomes.objectives == (("value", "max"),)


def test_incompatible_options_are_refused(space):
    with pytest.raises(ValueError, match="pruner"):
        bo.Optimizer(space, objectives={"a": "min"}, pruner=bo.MedianPruner())
    with pytest.raises(ValueError, match="parego"):
        bo.Optimizer(space, objectives={"a": "min"}, acquisition="parego")
    with pytest.raises(ValueError, match="acquisition"):
        bo.Optimizer(space, objectives={"a": "min", "b": "min"}, acquisition="ucb")
    with pytest.raises(ValueError, match="acquisition"):
        bo.Optimizer(space, acquisition="parego")


# Telling -----------------------------------------------------------------------------------------
def test_values_feasible_and_value(space):
    opt = bo.Optimizer(space, seed=0, constraints={"mem": ("<=", 8.0), "acc": (">=", 0.9)})
    t = opt.ask()
    told = opt.tell(t, {"value": 1.5, "mem": 8, "acc": 0.95})
    assert told.values == {"value": 1.5, "mem": 8.0, "acc": 0.95}
    assert told.value == 1.5 and told.feasible is True and told.state == "complete"
    told = opt.tell(opt.ask(), {"value": 0.5, "mem": 9.0, "acc": 0.95})
    assert told.feasible is False and told.value == 0.5
    assert opt.best.id == 0  # the better value is infeasible
    rec = opt.trials[1].to_record()
    assert rec["values_mem"] == 9.0 and rec["feasible"] is False

    mo = _mo(space)
    told = mo.tell(mo.ask(), {"a": 1.0, "b": 2.0})
    assert told.value is None and told.values == {"a": 1.0, "b": 2.0} and told.feasible is None


def test_best_is_none_until_feasible_and_raises_with_several_objectives(space):
    opt = bo.RandomSearch(space, seed=0, constraints={"c": ("<=", 0.0)})
    opt.tell(opt.ask(), {"value": 1.0, "c": 1.0})
    assert opt.best is None
    opt.tell(opt.ask(), {"value": 3.0, "c": -1.0})
    assert opt.best.value == 3.0
    mo = _mo(space)
    with pytest.raises(RuntimeError, match="pareto_front"):
        _ = mo.best
    rs = bo.RandomSearch(space, seed=0, objectives={"acc": "max"})
    rs.tell(rs.ask(), {"acc": 0.5})
    rs.tell(rs.ask(), {"acc": 0.7})
    assert rs.best.value == 0.7  # the direction comes from `objectives`


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (1.0, TypeError, r"\['a', 'b', 'c'\]"),
        ({"a": 1.0, "c": 0.0}, ValueError, "objective value 'b' is missing"),
        ({"a": 1.0, "b": 1.0}, ValueError, "constraint value 'c' is missing"),
        ({"a": 1.0, "b": 1.0, "c": 0.0, "d": 1.0}, ValueError, "unknown"),
        ({"a": "1", "b": 1.0, "c": 0.0}, TypeError, "real number"),
        (None, TypeError, "mapping"),
    ],
)
def test_bad_tells_leave_the_study_unchanged(space, value, error, match):
    def study():
        opt = bo.Optimizer(
            space, seed=3, n_initial=2, objectives={"a": "min", "b": "max"},
            constraints={"c": ("<=", 0)},
        )  # fmt: skip
        for x in (0.1, 0.9):
            opt.add({"x": x}, {"a": x, "b": x**2, "c": x - 0.5})
        return opt

    opt, ref = study(), study()
    t, t_ref = opt.ask(), ref.ask()
    before = opt.trials
    with pytest.raises(error, match=match):
        opt.tell(t, value)
    with pytest.raises(error, match=match):
        opt.add({"x": 0.5}, value)
    assert opt.trials == before and [x.values for x in opt.trials] == [x.values for x in before]
    told = {"a": 0.3, "b": 0.1, "c": -0.1}
    opt.tell(t, told)
    ref.tell(t_ref, told)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert opt.ask().params == ref.ask().params


def test_a_mapping_in_a_plain_study_is_a_type_error(space):
    opt = bo.Optimizer(space, seed=0)
    t = opt.ask()
    with pytest.raises(TypeError, match="declares no outcomes"):
        opt.tell(t, {"value": 1.0})
    assert opt.tell(t, 1.0).value == 1.0


def test_nan_objective_fails_and_nan_constraint_is_infeasible(space):
    opt = bo.Optimizer(space, seed=0, constraints={"c": ("<=", 1.0)})
    failed = opt.tell(opt.ask(), {"value": math.nan, "c": 0.0})
    assert failed.state == "failed" and "'value'" in failed.error
    done = opt.tell(opt.ask(), {"value": 1.0, "c": math.nan})
    assert done.state == "complete" and done.feasible is False
    assert math.isnan(done.values["c"])
    assert opt.best is None
    assert opt.tell(opt.ask(), failed=True).state == "failed"


# Pareto fronts, reference points, hypervolumes ---------------------------------------------------
def _trials(rows, feasible=None):
    return [
        Trial(i, {}, None, "complete", values={"a": a, "b": b},
              feasible=None if feasible is None else feasible[i])
        for i, (a, b) in enumerate(rows)
    ]  # fmt: skip


def test_pareto_front_by_hand():
    out = Outcomes.declare({"a": "min", "b": "max"})
    rows = [(1, 1), (2, 3), (2, 3), (3, 2), (0, 0), (1, 0.5), (4, 3)]
    # (1, 1) and (0, 0) trade off; (2, 3) twice (a tie, both kept); (3, 2) is dominated by
    # (2, 3); (1, 0.5) by (1, 1); (4, 3) by (2, 3).
    front = outcomes.pareto_front(_trials(rows), out)
    assert [t.id for t in front] == [0, 1, 2, 4]
    # An infeasible trial is never on the front, and dominates nothing.
    # An infeasible trial is never on the front, and dominates nothing: without (2, 3),
    # (3, 2) and (4, 3) trade off with the others.
    feasible = [True, False, False, True, True, True, True]
    front = outcomes.pareto_front(_trials(rows, feasible), out)
    assert [t.id for t in front] == [0, 3, 4, 6]
    assert pareto_mask(torch.empty(0, 2)).shape == (0,)


def test_reference_point_and_hypervolume_by_hand():
    gains = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    assert reference_point(gains).tolist() == pytest.approx([-0.1, -0.1])
    single = reference_point(torch.tensor([[2.0, -4.0]], dtype=torch.float64))
    assert single.tolist() == pytest.approx([1.8, -4.4])
    # Only points strictly better than the reference count: here the middle one.
    assert hypervolume(gains, torch.zeros(2)) == pytest.approx(0.25)
    # A staircase from x = -1: heights 2, 1.5, 1 over widths 1, 0.5, 0.5.
    assert hypervolume(gains, -torch.ones(2)) == pytest.approx(2 + 0.75 + 0.5)
    assert hypervolume(gains, torch.tensor([2.0, 2.0])) == 0.0
    with pytest.raises(ValueError, match="feasible"):
        reference_point(torch.empty(0, 2))


def test_the_acquisition_s_reference_point_from_observations_or_the_front():
    from bayesopt.acquisition import infer_reference

    # Two trade-offs and one point far behind them (maximisation).
    gains = torch.tensor([[0.0, 1.0], [1.0, 0.0], [-4.0, -2.0]], dtype=torch.float64)
    assert infer_reference(gains).tolist() == pytest.approx([-4.5, -2.3])
    assert infer_reference(gains, "front").tolist() == pytest.approx([-0.1, -0.1])
    # A front of one point says nothing about the range: every observation is used.
    one = torch.tensor([[1.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
    assert infer_reference(one, "front").tolist() == infer_reference(one).tolist()
    with pytest.raises(ValueError, match="`reference_from` must be one of"):
        infer_reference(gains, "nadir")
    with pytest.raises(ValueError, match="`reference_from` must be one of"):
        bo.ProposeOptions(reference_from="nadir")
    with pytest.raises(TypeError, match="`reference_from` must be a str"):
        bo.ProposeOptions(reference_from=None)


def test_the_multi_objective_acquisition_uses_the_chosen_reference_point():
    from botorch.models import ModelListGP

    from bayesopt import acquisition

    X = torch.rand(8, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Y = torch.stack([gp.standardize(-X.sum(1)), gp.standardize(X.sum(1) - X[:, 0] ** 2)], 1)
    model = ModelListGP(*(gp.fit(X, Y[:, j], seed=0) for j in range(2)))
    kw = dict(n_objectives=2, thresholds=torch.empty(0), X_baseline=X, Y_baseline=Y,
              feasible=torch.ones(8, dtype=torch.bool), closed_form="pareto")  # fmt: skip
    for source in acquisition.REFERENCE_SOURCES:
        acqf = acquisition.make_outcomes("qlognei", model, reference_from=source, **kw)
        expected = acquisition.infer_reference(Y, source)
        assert acqf.inner.ref_point.tolist() == pytest.approx(expected.tolist())
    assert (
        acquisition.infer_reference(Y, "front").tolist() != acquisition.infer_reference(Y).tolist()
    )


def test_alternate_reference_rule_switches_source_with_the_number_of_finished_trials():
    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})

    def study(rule, n):
        opt = bo.Optimizer(
            space, seed=3, objectives={"a": "min", "b": "min"}, n_initial=4,
            propose_options=bo.ProposeOptions(reference_from=rule),
        )  # fmt: skip
        for p in space.sample(n, seed=1):
            opt.add(p, {"a": p["x"] + 0.1 * p["y"], "b": (1 - p["x"]) ** 2 + p["y"]})
        return opt.ask().params

    for n, source in ((7, "front"), (8, "observations")):
        assert study("alternate", n) == study(source, n)
    assert study("front", 7) != study("observations", 7)


def test_study_hypervolume_and_frozen_reference_point(space):
    rs = bo.RandomSearch(space, seed=0, objectives={"a": "min", "b": "max"},
                         constraints={"c": ("<=", 0.0)})  # fmt: skip
    assert rs.hypervolume() == 0.0
    rs.add({"x": 0.1}, {"a": 1.0, "b": 0.0, "c": 0.0})
    rs.add({"x": 0.2}, {"a": 0.0, "b": -1.0, "c": 0.0})
    rs.add({"x": 0.3}, {"a": -5.0, "b": 5.0, "c": 1.0})  # infeasible: ignored
    assert rs.reference_point() == pytest.approx({"a": 1.1, "b": -1.1})
    assert rs.hypervolume({"a": 2.0, "b": -2.0}) == pytest.approx(1 * 2 + 1 * 1)
    with pytest.raises(ValueError, match="objectives"):
        rs.hypervolume({"a": 2.0})
    with pytest.raises(ValueError, match="finite"):
        rs.hypervolume({"a": 2.0, "b": math.inf})
    # The reference point is fixed by the first REFERENCE_TRIALS feasible trials.
    for i in range(outcomes.REFERENCE_TRIALS):
        rs.add({"x": 0.5}, {"a": 0.5 + i / 100, "b": -0.5, "c": 0.0})
    ref = rs.reference_point()
    hv = rs.hypervolume()
    rs.add({"x": 0.5}, {"a": 100.0, "b": -100.0, "c": 0.0})  # a much worse point
    assert rs.reference_point() == ref and rs.hypervolume() == hv
    rs.add({"x": 0.5}, {"a": -1.0, "b": 2.0, "c": 0.0})  # a better one
    assert rs.hypervolume() > hv
    plain = bo.RandomSearch(space, seed=0)
    with pytest.raises(RuntimeError, match="objectives"):
        plain.pareto_front()


@pytest.mark.parametrize(
    ("objectives", "ref", "error", "match"),
    [
        ({"a": "min", "b": "max"}, [1.0, 0.0], TypeError, "dict"),
        ({"a": "min", "b": "max"}, {"a": 1.0}, ValueError, "exactly the objectives"),
        ({"a": "min", "b": "max"}, {"a": 1.0, "b": 0.0, "c": 2.0}, ValueError, "exactly"),
        ({"a": "min", "b": "max"}, {"a": 1.0, "b": math.nan}, ValueError, "finite"),
        ({"a": "min", "b": "max"}, {"a": 1.0, "b": "0"}, TypeError, "finite number"),
        ({"a": "min", "b": "max"}, {"a": True, "b": 0.0}, TypeError, "finite number"),
        ({"a": "min"}, {"a": 1.0}, ValueError, "two or more"),
        (None, {"value": 1.0}, ValueError, "two or more"),
    ],
)
def test_bad_reference_points_are_refused(space, objectives, ref, error, match):
    for cls in (bo.Optimizer, bo.RandomSearch):
        with pytest.raises(error, match=match):
            cls(space, objectives=objectives, reference_point=ref)
    with pytest.raises(ValueError, match="two or more"):
        bo.Optimizer(space, constraints={"c": ("<=", 1.0)}, reference_point={"value": 1.0})


def test_a_given_reference_point_is_the_study_s(space):
    rs = bo.RandomSearch(space, seed=0, objectives={"a": "min", "b": "max"},
                         reference_point={"b": -2, "a": 2})  # fmt: skip
    assert rs.reference_point() == {"a": 2.0, "b": -2.0}  # before any trial
    assert rs.hypervolume() == 0.0
    rs.add({"x": 0.1}, {"a": 1.0, "b": 0.0})
    rs.add({"x": 0.2}, {"a": 0.0, "b": -1.0})
    assert rs.hypervolume() == pytest.approx(1 * 2 + 1 * 1)  # at (2, -2), not inferred
    assert rs.hypervolume({"a": 1.5, "b": -1.5}) == pytest.approx(0.5 * 1.5 + 1 * 0.5)
    for i in range(outcomes.REFERENCE_TRIALS):  # the given point never moves
        rs.add({"x": 0.5}, {"a": 5.0 + i, "b": -5.0})
    assert rs.reference_point() == {"a": 2.0, "b": -2.0}


@pytest.mark.parametrize("warp", gp.OUTPUT_WARPS)
def test_a_value_maps_to_model_units_and_back(warp):
    y = torch.tensor([0.0, 0.1, 0.5, 2.0, 9.0, -3.0], dtype=torch.float64)
    z, inverse = gp.fit_output_transform(y, warp)
    for i in range(len(y)):  # an observed value lands on its own model value
        assert gp.to_model_units(inverse, float(y[i])) == pytest.approx(float(z[i]), abs=1e-6)
    for v in (-50.0, 1.0, 40.0):  # inside the range, and beyond it on either side
        assert float(inverse(np.array([gp.to_model_units(inverse, v)]))[0]) == pytest.approx(v)
    flat = gp.fit_output_transform(torch.ones(4, dtype=torch.float64), warp)[1]
    assert gp.to_model_units(flat, 3.0) == 0.0


def test_the_asks_maximise_the_hypervolume_above_the_given_reference_point():
    # Two quadratics: the objectives reach 1.28 while the front's useful middle lies
    # below (0.3, 0.3). The inferred reference point (nadir + 10 % of the range) rewards
    # the front's far ends; the given one only trade-offs that beat it in both.
    ref = {"f1": 0.3, "f2": 0.3}
    runs = {}
    for given in (None, ref):
        opt = bo.Optimizer(SQUARE, seed=0, objectives={"f1": "min", "f2": "min"},
                           reference_point=given)  # fmt: skip
        _drive(opt, two_quadratics, 14)
        model = [t for t in opt.trials if t.source == bo.Source.MODEL]
        inside = sum(t.values["f1"] < 0.3 and t.values["f2"] < 0.3 for t in model)
        runs[given is None] = inside, len(model), opt.hypervolume(ref)
    (inferred, n, hv_inferred), (given_inside, _, hv_given) = runs[True], runs[False]
    assert given_inside >= 0.75 * n and given_inside > inferred
    assert hv_given > hv_inferred
    data = bo.Optimizer(SQUARE, seed=0, objectives={"f1": "min", "f2": "min"},
                        reference_point=ref)  # fmt: skip
    _drive(data, two_quadratics, 4)
    assert data.outcome_data().reference.shape == (2,)


def test_a_reference_point_is_part_of_the_journal(tmp_path):
    path = tmp_path / "study.jsonl"
    kw = dict(seed=1, objectives={"f1": "min", "f2": "min"})
    opt = bo.Optimizer(SQUARE, storage=path, reference_point={"f1": 0.5, "f2": 0.6}, **kw)
    _drive(opt, two_quadratics, 3)
    opt.close()
    loaded = bo.load(path)
    assert loaded.reference_point() == {"f1": 0.5, "f2": 0.6}
    assert loaded.outcomes == opt.outcomes
    with pytest.raises(ValueError, match="reference_point"):
        bo.Optimizer(SQUARE, storage=path, **kw)
    with pytest.raises(ValueError, match="reference_point"):
        bo.Optimizer(SQUARE, storage=path, reference_point={"f1": 0.5, "f2": 0.7}, **kw)
    resumed = bo.Optimizer(SQUARE, storage=path, reference_point={"f2": 0.6, "f1": 0.5}, **kw)
    assert len(resumed.trials) == 3
    resumed.close()


# Journals ----------------------------------------------------------------------------------------
def _drive(opt, f, n):
    asks = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while len(opt.trials) < n:
            t = opt.ask()
            asks.append(t.params)
            opt.tell(t, f(t.params))
    return asks


def _outcomes(opt):
    """Every trial's outcomes, comparable with NaNs in them."""
    return [(repr(t.values), t.feasible, t.value, t.state) for t in opt.trials]


def test_journal_round_trip_and_exact_resume(tmp_path):
    path = tmp_path / "study.jsonl"
    kw = dict(seed=1, n_initial=4, objectives={"f1": "min", "f2": "min"},
              constraints={"c": (">=", 0.1)})  # fmt: skip

    def f(p):
        return {**two_quadratics(p), "c": math.nan if p["x"] < 0.05 else p["x"]}

    whole = _drive(bo.Optimizer(SQUARE, **kw), f, 7)
    first = bo.Optimizer(SQUARE, storage=path, **kw)
    part = _drive(first, f, 5)
    first.close()
    resumed = bo.Optimizer(SQUARE, storage=path, **kw)
    assert _outcomes(resumed) == _outcomes(first)
    part += _drive(resumed, f, 7)
    assert part == whole
    loaded = bo.load(path)
    assert isinstance(loaded, bo.Optimizer)
    assert loaded.outcomes == resumed.outcomes
    assert _outcomes(loaded) == _outcomes(resumed)
    assert any(t.feasible is False for t in loaded.trials)  # the NaN constraint values
    assert [t.id for t in loaded.pareto_front()] == [t.id for t in resumed.pareto_front()]
    import json

    header = json.loads(path.read_text().splitlines()[0])
    assert header["version"] == 2 and "objectives" in header["settings"]
    resumed.close()
    with pytest.raises(ValueError, match="objectives"):
        bo.Optimizer(SQUARE, storage=path, seed=1, n_initial=4, constraints={"c": (">=", 0.1)})
    with pytest.raises(ValueError, match="constraints"):
        bo.Optimizer(SQUARE, storage=path, seed=1, n_initial=4,
                     objectives={"f1": "min", "f2": "min"})  # fmt: skip


def test_a_plain_study_still_writes_version_1(tmp_path):
    import json

    path = tmp_path / "plain.jsonl"
    rs = bo.RandomSearch(SQUARE, seed=0, storage=path)
    rs.tell(rs.ask(), 1.0)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["version"] == 1 and "values" not in lines[2]
    assert bo.load(path).trials[0].value == 1.0


@pytest.mark.parametrize(
    "record",
    [
        {"event": "told", "id": 0, "value": None, "values": {"f1": "x"}, "feasible": None},
        {"event": "told", "id": 0, "value": None, "values": {"f1": 1}, "feasible": None},
        {"event": "told", "id": 0, "value": None, "values": {"f1": 1.0}, "feasible": 1},
        {"event": "told", "id": 0, "value": None, "values": [1.0], "feasible": None},
    ],
)
def test_bad_outcome_records_are_refused(record):
    with pytest.raises(EventError):
        decode_event(record, SQUARE)


def test_outcome_records_round_trip():
    event = Told(3, None, {"f1": 1.5, "c": math.nan}, False)
    back = decode_event(encode_event(event), SQUARE)
    assert (back.id, back.value, back.feasible) == (3, None, False)
    assert back.values["f1"] == 1.5 and math.isnan(back.values["c"])
    old = decode_event({"event": "told", "id": 2, "value": 0.5}, SQUARE)
    assert old == Told(2, 0.5) and old.values is None


# Reproducibility and minimize --------------------------------------------------------------------
def test_same_seed_same_tells_same_asks():
    kw = dict(seed=7, n_initial=4, objectives={"f1": "min", "f2": "min"},
              constraints={"c": ("<=", 0.6)})  # fmt: skip

    def f(p):
        return {**two_quadratics(p), "c": p["y"]}

    assert _drive(bo.Optimizer(SQUARE, **kw), f, 6) == _drive(bo.Optimizer(SQUARE, **kw), f, 6)


def test_batches_with_several_outcomes_are_distinct():
    opt = bo.Optimizer(SQUARE, seed=0, n_initial=4, objectives={"f1": "min", "f2": "min"})
    _drive(opt, two_quadratics, 4)
    batch = opt.ask(3)
    assert all(t.source == "model" for t in batch)
    points = {tuple(t.params.values()) for t in batch}
    assert len(points) == 3


def test_closed_form_several_objectives_uses_one_decomposition_of_the_mean_front():
    from botorch.acquisition.multi_objective.logei import qLogExpectedHypervolumeImprovement
    from botorch.models import ModelListGP

    from bayesopt import acquisition, gp

    g = torch.Generator().manual_seed(0)
    X = torch.rand(10, 2, generator=g, dtype=torch.float64)
    Y = torch.stack([gp.standardize(-X.sum(1)), gp.standardize(X.sum(1) - X[:, 0] ** 2)], 1)
    model = ModelListGP(*(gp.fit(X, Y[:, j], seed=0) for j in range(2)))
    feasible = torch.ones(10, dtype=torch.bool)
    acqf = acquisition.make_outcomes("qlognei", model, n_objectives=2, thresholds=torch.empty(0),
                                     X_baseline=X, Y_baseline=Y, feasible=feasible,
                                     closed_form="always")  # fmt: skip
    assert isinstance(acqf.inner, acquisition.LogEHVI)
    assert isinstance(acqf.inner.fallback, qLogExpectedHypervolumeImprovement)
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.sampling import SobolQMCNormalSampler
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        FastNondominatedPartitioning,
    )
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    with torch.no_grad():
        means = model.posterior(X).mean
    ref = infer_reference_point(Y)
    expected = qLogExpectedHypervolumeImprovement(
        model, ref_point=ref.tolist(),
        partitioning=FastNondominatedPartitioning(ref_point=ref, Y=means),
        sampler=SobolQMCNormalSampler(torch.Size([acquisition.MC_SAMPLES]), seed=0),
        objective=IdentityMCMultiOutputObjective(outcomes=[0, 1]),
    )  # fmt: skip
    T = torch.rand(8, 1, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        # Batches: the Monte-Carlo estimator; one point: its exact value, which the
        # 128-sample estimate approximates.
        assert torch.allclose(acqf(T.reshape(4, 2, 2)), expected(T.reshape(4, 2, 2)))
        exact, estimate = acqf(T), expected(T)
        assert torch.allclose(exact.exp(), estimate.exp(), rtol=0.01, atol=1e-6)
    opts = bo.ProposeOptions(closed_form="always")
    opt = bo.Optimizer(SQUARE, seed=0, n_initial=4, objectives={"f1": "min", "f2": "min"},
                       propose_options=opts)  # fmt: skip
    _drive(opt, two_quadratics, 5)
    batch = opt.ask(2)
    assert [t.source for t in batch] == ["model", "model"]
    assert batch[0].params != batch[1].params


def test_parego_asks_from_the_model():
    opt = bo.Optimizer(SQUARE, seed=0, n_initial=4, acquisition="parego",
                       objectives={"f1": "min", "f2": "min"})  # fmt: skip
    _drive(opt, two_quadratics, 6)
    assert [t.source for t in opt.trials[4:]] == ["model", "model"]


def test_minimize_with_a_mapping_objective():
    result = bo.minimize(
        constrained_branin, BRANIN_SPACE, 8, seed=0, progress=False, n_initial=5,
        constraints={"sum": ("<=", BRANIN_BOUND)},
    )  # fmt: skip
    assert len(result.trials) == 8
    assert all(t.values is not None for t in result.trials)
    feasible = [t for t in result.trials if t.feasible]
    assert result.best == min(feasible, key=lambda t: t.value)

    with pytest.warns(RuntimeWarning) as record:
        bad = bo.minimize(lambda p: {"f1": 1.0}, SQUARE, 2, seed=0, progress=False,
                          objectives={"f1": "min", "f2": "min"})  # fmt: skip
    assert any("mapping of every outcome" in str(w.message) for w in record)
    assert bad.best is None
    assert all(t.state == "failed" and "missing" in t.error for t in bad.trials)


def test_minimize_with_several_objectives_on_an_executor():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        result = bo.minimize(
            two_quadratics, SQUARE, 8, seed=0, progress=False, n_initial=6, executor=pool,
            n_workers=2, objectives={"f1": "min", "f2": "min"},
        )  # fmt: skip
    assert result.best is None  # several objectives: see the Pareto front
    assert [t.state for t in result.trials] == ["complete"] * 8
    front = result.optimizer.pareto_front()
    assert front and all(t.values is not None for t in front)


def test_random_search_is_a_baseline_with_the_same_interface():
    rs = bo.RandomSearch(SQUARE, seed=0, objectives={"f1": "min", "f2": "min"})
    _drive(rs, two_quadratics, 20)
    assert rs.pareto_front() and rs.hypervolume() > 0


# End to end ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_constrained_branin_finds_the_feasible_minimum():
    opt = bo.Optimizer(BRANIN_SPACE, seed=0, constraints={"sum": ("<=", BRANIN_BOUND)})
    _drive(opt, constrained_branin, 30)
    model = [t for t in opt.trials if t.source == "model"]
    assert len(model) >= 20
    assert sum(bool(t.feasible) for t in model) >= 0.8 * len(model)  # 23 of 25
    assert opt.best.feasible
    assert opt.best.value - BRANIN_CONSTRAINED_MIN < 0.01  # 0.0020; 0.019 with a margin of 0.002


@pytest.mark.slow
def test_constrained_search_finds_a_feasible_point_first():
    # Feasible only in a small corner: the initial design misses it, and the probability
    # of feasibility leads the asks there.
    opt = bo.Optimizer(SQUARE, seed=0, n_initial=5,
                       constraints={"r": ("<=", 0.15)})  # fmt: skip

    def f(p):
        return {"value": p["x"] + p["y"], "r": math.hypot(p["x"] - 0.1, p["y"] - 0.9)}

    _drive(opt, f, 5)
    assert opt.best is None
    _drive(opt, f, 15)
    assert opt.best is not None and opt.best.feasible


@pytest.mark.slow
def test_hypervolume_grows_to_near_the_true_front():
    opt = bo.Optimizer(SQUARE, seed=0, n_initial=5, objectives={"f1": "min", "f2": "min"})
    _drive(opt, two_quadratics, 5)
    hv_initial = opt.hypervolume()
    _drive(opt, two_quadratics, 25)
    ref = opt.reference_point()
    s = torch.linspace(0.0, 1.0, 2001, dtype=torch.float64)
    x = 0.2 + 0.6 * s
    true = torch.stack([-2 * (x - 0.2) ** 2, -2 * (x - 0.8) ** 2], 1)  # gains on the front
    hv_true = hypervolume(true, -torch.tensor([ref["f1"], ref["f2"]], dtype=torch.float64))
    hv = opt.hypervolume()
    assert hv > hv_initial
    assert hv >= 0.95 * hv_true


# Failures as an unknown constraint ---------------------------------------------------------------
def test_failure_model_is_checked(space):
    with pytest.raises(ValueError, match="failure_model"):
        bo.Optimizer(space, failure_model="gp")
    with pytest.raises(ValueError, match="classifier"):
        bo.Optimizer(space, failure_model="classifier", constraints={"c": ("<=", 1)})
    assert "failure_model" not in bo.Optimizer(space).settings()
    assert bo.Optimizer(space, failure_model="classifier").settings()["failure_model"] == (
        "classifier"
    )


def _failing_branin(opt: bo.Optimizer, n: int) -> int:
    """Run ``n`` trials of Branin failing where x1 > 5; the failing asks after the design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while len(opt.trials) < n:
            t = opt.ask()
            x1, x2 = t.params["x1"], t.params["x2"]
            if x1 > 5:
                opt.tell(t, failed=True)
            else:
                opt.tell(t, branin(x1, x2))
    return sum(t.state == "failed" for t in opt.trials if t.source != "initial")


def test_failure_classifier_asks_like_the_default_until_a_failure():
    a = bo.Optimizer(BRANIN_SPACE, seed=0, n_initial=3)
    b = bo.Optimizer(BRANIN_SPACE, seed=0, n_initial=3, failure_model="classifier")
    for opt in (a, b):
        for x1 in (-4.0, 0.0, 4.0):
            opt.add({"x1": x1, "x2": 5.0}, branin(x1, 5.0))
    assert a.ask().params == b.ask().params
    b.add({"x1": 8.0, "x2": 5.0}, failed=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the classifier path works: no fallback
        assert b.ask().source == "model"


@pytest.mark.slow
def test_failure_classifier_asks_fewer_failing_points_than_imputation():
    # Seeds 0-2, 30 trials each: 7 failing model asks of 75 with imputation, 4 with the
    # classifier.
    impute = sum(_failing_branin(bo.Optimizer(BRANIN_SPACE, seed=s), 30) for s in range(3))
    classifier = sum(
        _failing_branin(bo.Optimizer(BRANIN_SPACE, seed=s, failure_model="classifier"), 30)
        for s in range(3)
    )
    assert classifier < impute


def test_failure_model_is_part_of_the_journal(tmp_path):
    path = tmp_path / "plain.jsonl"
    opt = bo.Optimizer(SQUARE, seed=0, storage=path)
    opt.tell(opt.ask(), 1.0)
    opt.close()
    with pytest.raises(ValueError, match="failure_model"):
        bo.Optimizer(SQUARE, seed=0, storage=path, failure_model="classifier")
    path = tmp_path / "classifier.jsonl"
    opt = bo.Optimizer(SQUARE, seed=0, storage=path, failure_model="classifier")
    opt.tell(opt.ask(), 1.0)
    opt.close()
    assert bo.load(path).failure_model == "classifier"
    with pytest.raises(ValueError, match="failure_model"):
        bo.Optimizer(SQUARE, seed=0, storage=path)


# The closed-form expected hypervolume improvement -------------------------------------------------
def _ehvi_setup(m, c=0):
    from botorch.models import ModelListGP
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        FastNondominatedPartitioning,
    )

    from bayesopt import acquisition

    g = torch.Generator().manual_seed(0)
    X = torch.rand(12, 3, generator=g, dtype=torch.float64)
    cols = [-X.sum(1), X.sum(1) - X[:, 0] ** 2, X[:, 1] - X[:, 2] ** 2, X[:, 0] - 0.5]
    Y = torch.stack([gp.standardize(col) for col in cols[: m + c]], 1)
    models = [gp.fit(X, Y[:, j], seed=0) for j in range(m + c)]
    with torch.no_grad():
        means = ModelListGP(*models).posterior(X).mean[..., :m]
    ref = acquisition.infer_reference(Y[:, :m])
    partitioning = FastNondominatedPartitioning(ref_point=ref, Y=means) if m > 1 else None
    X_test = torch.rand(6, 1, 3, generator=g, dtype=torch.float64)
    return models, ref, partitioning, X_test


def _cells(partitioning):
    lower, upper = partitioning.get_hypercell_bounds()
    return lower, upper


@pytest.mark.parametrize("m", [2, 3])
def test_log_ehvi_is_the_log_of_botorch_s_analytic_ehvi(m):
    from botorch.acquisition.multi_objective.analytic import ExpectedHypervolumeImprovement
    from botorch.models import ModelListGP

    from bayesopt.acquisition import LogEHVI

    models, ref, partitioning, X = _ehvi_setup(m)
    ours = LogEHVI(models, m, _cells(partitioning), torch.empty(0, dtype=torch.float64), None)
    theirs = ExpectedHypervolumeImprovement(ModelListGP(*models), ref.tolist(), partitioning)
    with torch.no_grad():
        expected = theirs(X)
        value = ours(X)
    assert value.shape == (6,)
    # Where BoTorch's value (not in log space) keeps its precision, the logs agree.
    sure = expected > 1e-8
    assert int(sure.sum()) >= 3
    assert value[sure].tolist() == pytest.approx(expected[sure].log().tolist(), rel=1e-7)
    # Gradients exist wherever the value is finite, even far from any improvement.
    far = torch.full((1, 1, 3), 5.0, dtype=torch.float64, requires_grad=True)
    ours(far).sum().backward()
    assert torch.isfinite(far.grad).all()


def test_log_ehvi_multiplies_in_the_probability_of_feasibility():
    from bayesopt.acquisition import LogEHVI

    models, _, partitioning, X = _ehvi_setup(2, c=1)
    threshold = torch.tensor([0.3], dtype=torch.float64)
    plain = LogEHVI(models[:2], 2, _cells(partitioning), torch.empty(0, dtype=torch.float64), None)
    constrained = LogEHVI(models, 2, _cells(partitioning), threshold, None)
    with torch.no_grad():
        post = models[2].posterior(X)
        z = (post.mean.reshape(-1) - 0.3) / post.variance.sqrt().reshape(-1)
        expected = plain(X) + torch.special.log_ndtr(z)
        assert constrained(X).tolist() == pytest.approx(expected.tolist(), rel=1e-8)


def test_both_reference_points_sum_the_relative_improvements():
    from botorch.models import ModelListGP
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        FastNondominatedPartitioning,
    )

    from bayesopt import acquisition

    models, _, _, X = _ehvi_setup(2)
    X_base = models[0].train_inputs[0]
    model = ModelListGP(*models)
    Y = torch.stack([m.train_targets for m in models], 1)
    acqf = acquisition.make_outcomes(
        "qlognei", model, n_objectives=2, thresholds=torch.empty(0), X_baseline=X_base,
        Y_baseline=Y, feasible=torch.ones(12, dtype=torch.bool), closed_form="pareto",
        reference_from="both",
    )  # fmt: skip
    with torch.no_grad():
        means = model.posterior(X_base).mean
        expected = torch.zeros(len(X), dtype=torch.float64)
        for source in acquisition.REFERENCE_SOURCES:
            ref = acquisition.infer_reference(Y, source)
            part = FastNondominatedPartitioning(ref_point=ref, Y=means)
            one = acquisition.LogEHVI(models, 2, _cells(part), torch.empty(0), None)
            expected += (one(X) - math.log(float(part.compute_hypervolume()))).exp()
        value = acqf(X)
    front, observed = (
        acquisition.infer_reference(Y, s) for s in acquisition.REFERENCE_SOURCES[::-1]
    )
    assert front.tolist() != observed.tolist()
    assert value.tolist() == pytest.approx(expected.log().tolist(), rel=1e-6)
    # The Monte-Carlo fallback (batches, pending points) keeps the observations' point.
    ref = acquisition.infer_reference(Y).tolist()
    assert acqf.inner.fallback.ref_point.tolist() == pytest.approx(ref)
    assert "both" in bo.propose.REFERENCE_RULES
    assert bo.ProposeOptions().reference_from == "both"  # the default since its study


def test_log_ehvi_hands_batches_and_pending_points_to_its_fallback():
    from bayesopt.acquisition import LogEHVI

    class Fallback(torch.nn.Module):
        pending = None

        def forward(self, X):
            return torch.full(X.shape[:-2], -7.0, dtype=X.dtype)

        def set_X_pending(self, X_pending=None):
            self.pending = X_pending

    models, _, partitioning, X = _ehvi_setup(2)
    fallback = Fallback()
    acqf = LogEHVI(models, 2, _cells(partitioning), torch.empty(0, dtype=torch.float64), fallback)
    with torch.no_grad():
        assert (acqf(X) != -7.0).all()
        assert (acqf(X.reshape(3, 2, 3)) == -7.0).all()  # q = 2
        acqf.set_X_pending(X[0])
        assert fallback.pending is not None and (acqf(X) == -7.0).all()
        acqf.set_X_pending(None)
        assert (acqf(X) != -7.0).all()


def test_the_default_multi_objective_ask_uses_the_closed_form():
    from botorch.models import ModelListGP

    from bayesopt import acquisition

    models, _, _, _ = _ehvi_setup(2)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(12, 3, generator=g, dtype=torch.float64)
    Y = torch.stack([m.train_targets for m in models], 1)
    kw = dict(n_objectives=2, thresholds=torch.empty(0), X_baseline=X, Y_baseline=Y,
              feasible=torch.ones(12, dtype=torch.bool))  # fmt: skip
    acqf = acquisition.make_outcomes("qlognei", ModelListGP(*models), closed_form="pareto", **kw)
    assert isinstance(acqf.inner, acquisition.LogEHVI)
    pending = acquisition.make_outcomes(
        "qlognei", ModelListGP(*models), closed_form="pareto", X_pending=X[:1], **kw
    )
    assert type(pending.inner).__name__ == "qLogExpectedHypervolumeImprovement"
    never = acquisition.make_outcomes("qlognei", ModelListGP(*models), closed_form="never", **kw)
    assert type(never.inner).__name__ == "qLogNoisyExpectedHypervolumeImprovement"


@pytest.mark.parametrize("margin", [None, 0.0, 0.05])
def test_a_constrained_single_objective_ask_is_logei_times_the_probability_of_feasibility(margin):
    from botorch.acquisition import LogExpectedImprovement
    from botorch.models import ModelListGP

    from bayesopt import acquisition

    models, _, _, X = _ehvi_setup(1, c=1)
    X_base = models[0].train_inputs[0]
    feasible = torch.arange(12) % 3 != 0
    kw = dict(n_objectives=1, thresholds=torch.tensor([0.2], dtype=torch.float64),
              X_baseline=X_base, Y_baseline=torch.stack([m.train_targets for m in models], 1),
              feasible=feasible)  # fmt: skip
    extra = {} if margin is None else {"margin": margin}
    acqf = acquisition.make_outcomes("qlognei", ModelListGP(*models), **kw, **extra)
    assert isinstance(acqf.inner, acquisition.LogEHVI)
    with torch.no_grad():
        best = float(models[0].posterior(X_base[feasible]).mean.max())
        post = models[1].posterior(X)
        mean, sd = post.mean.reshape(-1), post.variance.sqrt().reshape(-1)
        z = (mean - 0.2 - (acquisition.CONSTRAINT_MARGIN if margin is None else margin)) / sd
        expected = LogExpectedImprovement(models[0], best_f=best)(X) + torch.special.log_ndtr(z)
        assert acqf(X).tolist() == pytest.approx(expected.tolist(), rel=1e-7)
    if margin is not None:
        return
    # Pending points (and "never" on a noisy model) keep the Monte-Carlo qLogNEI.
    pending = acquisition.make_outcomes("qlognei", ModelListGP(*models), X_pending=X[0], **kw)
    assert type(pending.inner).__name__ == "qLogNoisyExpectedImprovement"


def test_the_constraint_margin_option_reaches_the_acquisition_and_is_validated(monkeypatch):
    from bayesopt import acquisition

    seen = []
    real = acquisition.make_outcomes

    def spy(*args, **kw):
        seen.append(kw["margin"])
        return real(*args, **kw)

    monkeypatch.setattr(acquisition, "make_outcomes", spy)
    options = bo.ProposeOptions(constraint_margin=0.0, raw_samples=64, n_restarts=2)
    opt = bo.Optimizer(BRANIN_SPACE, seed=0, n_initial=4, propose_options=options,
                       constraints={"sum": ("<=", BRANIN_BOUND)})  # fmt: skip
    _drive(opt, constrained_branin, 5)
    assert seen == [0.0]
    assert bo.ProposeOptions().constraint_margin == acquisition.CONSTRAINT_MARGIN == 2e-4
    with pytest.raises(ValueError, match="`constraint_margin` must be finite and >= 0"):
        bo.ProposeOptions(constraint_margin=-0.1)
    with pytest.raises(ValueError, match="`constraint_margin` must be finite and >= 0"):
        bo.ProposeOptions(constraint_margin=math.inf)
    with pytest.raises(TypeError, match="`constraint_margin` must be a float"):
        bo.ProposeOptions(constraint_margin="0")


def test_several_objectives_search_the_acquisition_wider(monkeypatch):
    from bayesopt import propose

    seen = []
    real = propose.maximize

    def spy(acqf, grids, **kw):
        seen.append(kw["options"])
        return real(acqf, grids, **kw)

    monkeypatch.setattr(propose, "maximize", spy)
    options = bo.ProposeOptions(raw_samples=64, n_restarts=3)
    assert options.for_pareto() == bo.ProposeOptions(raw_samples=256, n_restarts=6)
    mo = bo.Optimizer(SQUARE, seed=0, n_initial=4, objectives={"f1": "min", "f2": "min"},
                      propose_options=options)  # fmt: skip
    _drive(mo, two_quadratics, 5)
    assert seen and all(o == options.for_pareto() for o in seen)
    seen.clear()
    mo.ask(2)  # a batch, on the Monte-Carlo estimate: the plain search
    assert seen and all(o == options for o in seen)
    seen.clear()
    one = bo.Optimizer(SQUARE, seed=0, n_initial=4, constraints={"c": ("<=", 0.6)},
                       propose_options=options)  # fmt: skip
    _drive(one, lambda p: {"value": two_quadratics(p)["f1"], "c": p["y"]}, 5)
    assert seen and all(o == options for o in seen)
