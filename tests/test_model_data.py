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
