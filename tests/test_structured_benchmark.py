"""Tests of the structured benchmark: its problems, sessions, cells and report."""

from __future__ import annotations

import dataclasses
import math

import pytest

import bayesopt as bo
from benchmarks import store, structured
from benchmarks.problems.structured import (
    BRANIN_MIN,
    HARTMANN6_MIN,
    JENATTON_MIN,
    cash_space,
    cond_branin,
    cond_hartmann,
    jenatton,
    structured_problems,
)


def test_the_synthetic_trees_reach_their_stated_optima():
    assert jenatton({"x1": 0, "x2": 0, "x4": 0.0, "r8": 0.0}) == pytest.approx(JENATTON_MIN)
    assert jenatton({"x1": 1, "x3": 0, "x6": 0.0, "r9": 0.0}) == pytest.approx(0.3)
    at_pi = {"branch": "plain", "x1": math.pi, "x2": 2.275}
    assert cond_branin(at_pi) == pytest.approx(BRANIN_MIN, abs=1e-5)
    assert cond_branin({**at_pi, "branch": "lifted", "shift": 0.0}) > BRANIN_MIN + 0.29
    h6 = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    params = {"fn": "h6", **{f"b{i}": x for i, x in enumerate(h6)}}
    assert cond_hartmann(params) == pytest.approx(HARTMANN6_MIN, abs=1e-4)


def test_every_problem_draws_only_active_parameters():
    for problem in structured_problems():
        for params in problem.space.sample(5, seed=0):
            assert set(params) == set(problem.space.active_names(params))


def test_root_and_branch_spaces():
    space = cash_space()
    assert structured.root_parameter(space) == "learner"
    svm = structured.branch_space(space, "learner", "svm")
    assert svm is not None and "learner" not in svm.names
    assert {"svm_c", "svm_kernel", "scaler"} <= set(svm.names)
    assert not any(n.startswith("forest_") for n in svm.names)
    flat = bo.Space({"x": bo.Real(0, 1), "c": bo.Categorical(["a", "b"])})
    assert structured.root_parameter(flat) is None
    with pytest.raises(ValueError, match="no root choice"):
        structured.PerBranchSession(flat, seed=0)


def test_the_per_branch_session_tries_every_branch_then_follows_the_best():
    problem = next(p for p in structured_problems() if p.name == "cond-branin")
    session = structured.PerBranchSession(problem.space, seed=0)
    seen = []
    for _ in range(12):
        params = session.ask()
        assert set(params) == set(problem.space.active_names(params))
        seen.append(params["branch"])
        session.tell(problem.fn(params))
    assert seen[:3] == ["plain", "lifted", "cut"]
    counts = session.info()["branches"]
    assert sum(counts.values()) == 12 and counts["cut"] < counts["plain"]


@pytest.mark.parametrize("contender", ["random", "random-2x", "bayesopt", "bayesopt-flat"])
def test_a_cell_records_its_run(contender):
    problem = next(p for p in structured_problems() if p.name == "jenatton")
    problem = dataclasses.replace(problem, budget=8)
    record = structured.run_cell(problem, contender, seed=1)
    factor = 2 if contender == "random-2x" else 1
    assert len(record["values"]) == 8 * factor and len(record["trace"]) == 8
    assert record["final"] == min(record["values"])
    assert record["log10_regret"] == pytest.approx(math.log10(record["final"] - JENATTON_MIN))
    again = structured.run_cell(problem, contender, seed=1)
    assert again["values"] == record["values"]  # seeded


def test_the_report_compares_the_contenders(tmp_path):
    problem = next(p for p in structured_problems() if p.name == "jenatton")
    problem = dataclasses.replace(problem, budget=6)
    path = tmp_path / "runs.jsonl"
    for seed in range(3):
        for contender in ("bayesopt", "random", "random-2x"):
            store.append(path, structured.run_cell(problem, contender, seed), strict=False)
    out = structured.write_report(tmp_path, "python -m benchmarks.structured report")
    text = out.read_text()
    assert "## bayesopt against each contender" in text and "`jenatton`" in text
    assert "## Mean ranks" in text
