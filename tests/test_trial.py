"""Trial: states, immutability and export."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import bayesopt as bo
from bayesopt.trial import TrialState, check_value


def test_repr_matches_the_design_contract():
    t = bo.Trial(id=0, params={"lr": 0.1})
    assert repr(t) == "Trial(id=0, params={'lr': 0.1}, state=\"pending\")"
    done = bo.Trial(1, {"lr": 0.1}, 0.5, "complete")
    assert "value=0.5" in repr(done) and 'state="complete"' in repr(done)


def test_state_is_a_string_enum():
    t = bo.Trial(id=0, params={}, state="failed")
    assert t.state is TrialState.FAILED and t.state == "failed" and t.is_finished
    assert not bo.Trial(id=0, params={}).is_finished
    with pytest.raises(ValueError):
        bo.Trial(id=0, params={}, state="running")


def test_trials_are_frozen():
    t = bo.Trial(id=0, params={"x": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.value = 3.0


def test_to_record_is_flat():
    t = bo.Trial(3, {"x": 1.5, "act": None}, 0.25, "complete", source="model")
    assert t.to_record() == {
        "id": 3,
        "state": "complete",
        "value": 0.25,
        "source": "model",
        "params_x": 1.5,
        "params_act": None,
    }


def test_source_is_a_string_enum():
    t = bo.Trial(0, {}, source="sobol")
    assert t.source is bo.Source.SOBOL and t.source == "sobol" and f"{t.source}" == "sobol"
    assert bo.Trial(0, {}).source is bo.Source.MODEL
    assert t.to_record()["source"] == "sobol" and type(t.to_record()["source"]) is str
    with pytest.raises(ValueError, match="`source` must be one of"):
        bo.Trial(0, {}, source="grid")


def test_check_value():
    assert check_value(np.float32(0.25)) == (0.25, None)
    assert check_value(-math.inf) == (None, "value -inf is not finite")
    assert check_value(None, failed=True) == (None, None)
    with pytest.raises(ValueError, match="not both"):
        check_value(1.0, error="boom")
    with pytest.raises(TypeError, match="`failed` must be a bool"):
        check_value(None, failed="yes")


def test_values_and_feasible_are_copied_and_exported():
    t = bo.Trial(0, {"x": 1.0}, None, "complete", values={"a": 1.0, "c": 2.0}, feasible=False)
    c = t.copy()
    c.values["a"] = 5.0
    assert t.values == {"a": 1.0, "c": 2.0} and c.feasible is False
    assert "values={'a': 1.0, 'c': 2.0}, feasible=False" in repr(t)
    record = t.to_record()
    assert record["values_a"] == 1.0 and record["values_c"] == 2.0
    assert record["feasible"] is False and record["value"] is None
    assert "feasible" not in bo.Trial(1, {"x": 1.0}, 2.0, "complete").to_record()
