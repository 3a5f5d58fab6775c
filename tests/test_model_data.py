"""ModelData: the training tensors of an ask, from trials."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bayesopt as bo
from bayesopt import gp
from bayesopt.model_data import ModelData


def _opt(maximize: bool) -> bo.Optimizer:
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0, maximize=maximize)
    for x, v in ((0.1, 3.0), (0.5, 1.0), (0.9, 2.0)):
        opt.add({"x": x}, v)
    opt.add({"x": 0.7}, failed=True)
    opt.enqueue({"x": 0.3})
    opt.ask()  # one pending trial: not data
    return opt


@pytest.mark.parametrize("maximize", [False, True])
def test_failed_trials_are_imputed_with_the_worst_value(maximize):
    data = _opt(maximize).model_data()
    assert data.X.tolist() == [[0.1], [0.5], [0.9], [0.7]]
    assert data.X_failed.tolist() == [[0.7]]
    worst = 1.0 if maximize else 3.0
    assert data.values.tolist() == [3.0, 1.0, 2.0, worst]
    assert data.failed.tolist() == [False, False, False, True]
    better = -data.values if not maximize else data.values
    order = torch.argsort(better, stable=True)
    assert torch.equal(torch.argsort(data.y, stable=True), order)  # larger is better
    assert torch.equal(data.y, gp.transform_outputs(better, "yeo-johnson"))


@pytest.mark.parametrize("maximize", [False, True])
def test_to_values_inverts_the_output_transform(maximize):
    data = _opt(maximize).model_data()
    assert np.allclose(data.to_values(data.y.numpy()), data.values.numpy(), rtol=1e-10)


def test_needs_two_complete_trials():
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
    opt.add({"x": 0.5}, 1.0)
    opt.add({"x": 0.6}, failed=True)
    with pytest.raises(ValueError, match="at least 2 complete trials, but there are 1"):
        opt.model_data()
    with pytest.raises(ValueError, match="at least 2 complete trials"):
        ModelData.from_trials(opt.trials, opt.space)


def test_outcome_data_columns_thresholds_and_imputation():
    from bayesopt.model_data import OutcomeData

    opt = bo.Optimizer(
        bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0,
        objectives={"a": "min", "b": "max"}, constraints={"c": ("<=", 0.5)},
    )  # fmt: skip
    for x, c in ((0.1, 0.2), (0.5, 0.9), (0.9, float("nan"))):
        opt.add({"x": x}, {"a": x, "b": x, "c": c})
    opt.add({"x": 0.7}, failed=True)
    data = opt.outcome_data()
    assert isinstance(data, OutcomeData) and data.n_objectives == 2
    assert data.X[:, 0].tolist() == [0.1, 0.5, 0.9, 0.7]  # complete, then failed
    assert data.feasible.tolist() == [True, False, False, False]
    # Objective columns are gains: "a" is minimised (decreasing in x), "b" maximised.
    assert data.Y[0, 0] > data.Y[1, 0] > data.Y[2, 0]
    assert data.Y[0, 1] < data.Y[1, 1] < data.Y[2, 1]
    # The failed row is imputed with each column's worst value.
    assert data.Y[3, 0] == data.Y[:3, 0].min() and data.Y[3, 1] == data.Y[:3, 1].min()
    # A constraint holds where its column reaches the threshold; NaN is below everything.
    t = float(data.thresholds[0])
    assert (data.Y[:, 2] >= t).tolist() == [True, False, False, False]
    assert data.Y[2, 2] < data.Y[1, 2]
    with pytest.raises(ValueError, match="outcome_data"):
        opt.model_data()
    with pytest.raises(ValueError, match="objectives"):
        bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)})).outcome_data()


@pytest.mark.parametrize("warp", ["none", "yeo-johnson", "bilog", "copula"])
def test_constraint_warp_keeps_which_trials_are_feasible(warp):
    # Slacks spanning decades, as ratio constraints give: the warp reshapes the column
    # but the bound (a zero slack) maps to the threshold that splits it the same way.
    values = [-5000.0, -300.0, -20.0, -1.0, -0.2, 0.1, 0.3, 0.5, 0.9, 0.95]
    opt = bo.Optimizer(
        bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0, objectives={"a": "min"},
        constraints={"c": (">=", 0.0)}, model_options=bo.ModelOptions(constraint_warp=warp),
    )  # fmt: skip
    for i, c in enumerate(values):
        opt.add({"x": i / 10}, {"a": float(i), "c": c})
    data = opt.outcome_data()
    t = float(data.thresholds[0])
    assert (data.Y[:, 1] >= t).tolist() == [c >= 0 for c in values]
    assert torch.all(torch.diff(data.Y[:, 1]) > 0)  # monotone in the slack
    if warp == "none":
        assert data.Y[:, 1].tolist() == pytest.approx(gp.standardize_threshold(
            torch.tensor(values, dtype=torch.float64), 0.0)[0].tolist())  # fmt: skip
    if warp == "copula":  # ranks: the tail no longer squeezes the values near the bound
        z = data.Y[:, 1]
        assert float(z[-1] - z[5]) > 0.5


def test_constraint_warp_of_a_constant_column_keeps_the_order_of_the_bound():
    from bayesopt.model_data import _constraint_column

    for slack, expected in ((torch.full((4,), 2.0), -1.0), (torch.full((4,), -2.0), 1.0)):
        z, t = _constraint_column(slack.to(torch.float64), "yeo-johnson")
        assert z.tolist() == [0.0] * 4 and t == expected
    with pytest.raises(ValueError, match="`constraint_warp` must be one of"):
        bo.ModelOptions(constraint_warp="log")
