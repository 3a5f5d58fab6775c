"""The tabular architecture benchmark: the table loader and the nas-digits problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.problems.nas import DATA, load_table, nas_problem

FIXTURE = Path(__file__).parent / "data" / "nas_digits_tiny.npz"


def test_the_fixture_loads_with_its_grid_and_shapes():
    table = load_table(FIXTURE)
    assert table.names == (
        "width1",
        "width2",
        "width3",
        "activation",
        "skip",
        "lr",
        "batch_size",
    )
    assert table.shape == (2, 2, 1, 2, 2, 1, 1) and table.n_configs == 16
    assert table.val_acc.shape == (16, 3, 2) and table.test_acc.shape == (16, 3)
    assert table.n_params.shape == (16,) and (table.n_params > 0).all()
    assert np.isfinite(table.val_acc).all() and ((table.val_acc >= 0) & (table.val_acc <= 1)).all()
    assert table.meta["epochs"] == 2 and table.meta["split"]["test"] == 389


def test_rows_and_params_are_inverse_and_errors_are_looked_up():
    table = load_table(FIXTURE)
    for row in range(table.n_configs):
        assert table.row(table.params(row)) == row
    p = table.params(5)
    assert table.val_error(p, 1) == pytest.approx(1 - table.val_acc[5, 1, -1])
    assert table.val_error(p) == pytest.approx(1 - table.val_acc[5, :, -1].mean())
    assert table.test_error(p) == pytest.approx(1 - table.test_acc[5].mean())
    # widths 16, 32 -> 16 -> 16 -> 10: (64*16+16) + (16*32+32) + (32*16+16) + (16*10+10)
    assert table.n_params[table.row({**table.params(0), "width2": 32})] == 2282
    with pytest.raises(ValueError, match="width1=48 is not in the table"):
        table.row({**p, "width1": 48})
    with pytest.raises(ValueError, match="missing parameter 'skip'"):
        table.row({k: v for k, v in p.items() if k != "skip"})


def test_the_problem_picks_one_seed_per_evaluation_reproducibly():
    problem = nas_problem(FIXTURE, budget=7)
    table = problem.table
    assert problem.name == "nas-digits" and problem.budget == 7 and problem.noisy
    assert problem.optimum == pytest.approx(table.mean_val_error().min())
    params = table.params(3)
    seen = set()
    run = problem.evaluator(seed=0)
    observed = [run(params) for _ in range(30)]
    for ev in observed:
        assert ev.true == pytest.approx(table.val_error(params))
        assert any(ev.observed == pytest.approx(table.val_error(params, s)) for s in range(3))
        seen.add(ev.observed)
    assert len(seen) > 1  # the seeds differ
    again = problem.evaluator(seed=0)
    assert [again(params) for _ in range(30)] == observed
    assert problem.test_error(params) == pytest.approx(table.test_error(params))
    assert problem.space.validate(params) == params


def test_a_missing_table_says_how_to_build_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_nas_digits.py"):
        load_table(tmp_path / "none.npz")


@pytest.mark.skipif(not DATA.is_file(), reason="the full table is not built")
def test_the_committed_table_is_complete_and_small():
    table = load_table()
    assert table.n_configs == 3072 and table.n_seeds == 3
    assert np.isfinite(table.val_acc).all() and np.isfinite(table.test_acc).all()
    assert DATA.stat().st_size < 20e6
    # a learnable benchmark: the best configurations are far better than the worst
    errors = table.mean_val_error()
    assert errors.min() < 0.05 and errors.max() > 0.2


def test_the_automl_experiment_runs_and_reports_on_the_fixture(tmp_path):
    pytest.importorskip("matplotlib")
    from benchmarks import automl

    problem = nas_problem(FIXTURE, budget=6)
    records = [
        automl.run_cell(problem, c, s, 6) | {"meta": {"commit": None}}
        for s in range(3)
        for c in ("random", "random-2x", "controller", "evolution")
    ]
    two_x = next(r for r in records if r["contender"] == "random-2x")
    one_x = next(r for r in records if r["contender"] == "random" and r["seed"] == 0)
    assert len(two_x["observed"]) == 12 and two_x["observed"][:6] == one_x["observed"]
    curves = automl.curves_of(records, "nas-digits", "random-2x")
    assert curves.test.shape == (3, 6) and curves.seeds == [0, 1, 2]
    # budget point k of random-2x is the best observed of its first 2k evaluations
    obs = np.array(two_x["observed"])
    assert curves.observed[0, 2] == obs[:6].min()
    assert curves.test[0, 2] == two_x["test"][int(np.argmin(obs[:6]))]
    ctl = next(r for r in records if r["contender"] == "controller")
    assert ctl["info"]["updates"] == []  # 6 trials < one batch of 8
    (tmp_path / "runs.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = automl.write_report(tmp_path, "python -m benchmarks.automl report")
    text = report.read_text()
    assert "## Answer" in text and "random-2x" in text and "nas-digits" in text
    assert (tmp_path / "curves.png").is_file() and (tmp_path / "manifest.json").is_file()
