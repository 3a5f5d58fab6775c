"""The hidden-failure benchmark: its problems and its report."""

from __future__ import annotations

import math

import pytest

from benchmarks import failure_report, problems, store
from benchmarks.cell import Cell, run_cell
from benchmarks.problems.failures import MEMORY_LIMIT


def test_failure_problems_fail_in_their_region_only_and_are_kept_apart():
    assert problems.names("failures") == ["branin-crash", "hartmann6-crash", "mlp1-digits-crash"]
    assert not set(problems.names("failures")) & set(problems.names())
    branin = problems.get("branin-crash").evaluator(0)
    assert math.isnan(branin({"x0": 9.42478, "x1": 2.475}).observed)  # the lost minimum
    assert branin({"x0": math.pi, "x1": 2.275}).true == pytest.approx(0.397887, abs=1e-5)
    hartmann = problems.get("hartmann6-crash")
    inside = {"x0": 0.2, "x1": 0.7, "x2": 0.5, "x3": 0.3, "x4": 0.3, "x5": 0.6}
    assert math.isnan(hartmann.fn(inside))
    assert math.isfinite(hartmann.fn(inside | {"x1": 0.15}))
    mlp = problems.get("mlp1-digits-crash")
    params = mlp.space.sample(1, seed=0)[0] | {"batch_size": 64, "width0": 128}
    assert MEMORY_LIMIT < 64 * 128 and math.isnan(mlp.fn(params))
    loss = mlp.fn(params | {"width0": 32, "lr0": 0.01, "lr_out": 0.01, "init_scale": 1.0})
    assert 0.0 < loss < 3.0  # a sane validation log loss (chance: ln 10 = 2.3)


def test_failed_share_counts_after_the_initial_design():
    assert failure_report.initial_design("branin-crash") == 5
    assert failure_report.initial_design("mlp1-digits-crash") == 20
    assert failure_report.failed_share([None] * 5 + [1.0, None, float("nan"), 2.0], 5) == 0.5
    assert math.isnan(failure_report.failed_share([1.0], 5))


@pytest.mark.slow
def test_failure_report_compares_the_classifier_with_imputation(tmp_path):
    suite = tmp_path / "failures"
    suite.mkdir()
    for contender in ("bayesopt", "bayesopt+classifier", "random"):
        for seed in (0, 1):
            record = run_cell(Cell("branin-crash", contender, seed, 12))
            assert record["status"] == "ok", record["error"]
            store.append(suite / store.RUNS, record)
    path = failure_report.write_report(suite, "python -m benchmarks.failure_report", "today")
    text = path.read_text()
    assert "## Failed share after the initial design" in text
    assert "### `bayesopt+classifier` against `bayesopt`" in text
    assert "| branin-crash | 2 | 12 | 5 |" in text  # the cells' budget and n0
    assert (suite / "failures.png").stat().st_size > 10_000
