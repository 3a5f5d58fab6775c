"""``bayesopt.importance``: Sobol indices, exact on known functions, and of a study's GP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import bayesopt as bo
from bayesopt.sensitivity import sobol_indices

ISHIGAMI = bo.Space({f"x{i}": bo.Real(-math.pi, math.pi) for i in (1, 2, 3)})
EXACT_FIRST = (0.3139, 0.4424, 0.0)
EXACT_TOTAL = (0.5576, 0.4424, 0.2437)


def _ishigami(U: torch.Tensor) -> np.ndarray:
    x = (U.numpy() * 2 - 1) * math.pi
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_the_estimator_recovers_the_exact_indices_of_ishigami():
    first, total = sobol_indices(_ishigami, ISHIGAMI, n=8192, seed=0)
    assert np.allclose(first, EXACT_FIRST, atol=0.01)
    assert np.allclose(total, EXACT_TOTAL, atol=0.01)


def test_a_constant_function_has_no_important_parameter():
    first, total = sobol_indices(lambda U: np.ones(len(U)), ISHIGAMI, n=256)
    assert not first.any() and not total.any()


def test_the_gp_of_a_study_finds_the_indices_of_ishigami():
    rs = bo.RandomSearch(ISHIGAMI, seed=0)
    for _ in range(100):
        t = rs.ask()
        rs.tell(t, float(_ishigami(ISHIGAMI.to_unit(t.params)[None])[0]))
    imp = bo.importance(rs, n=2048)
    assert imp.surrogate == "gp" and imp.n_trials == 100
    assert set(imp.ranking()[:2]) == {"x1", "x2"}  # their totals are close: 0.56, 0.44
    assert np.mean(np.abs(np.array(list(imp.first.values())) - EXACT_FIRST)) < 0.1
    assert np.mean(np.abs(np.array(list(imp.total.values())) - EXACT_TOTAL)) < 0.1


def test_the_forest_surrogate_and_bad_input():
    pytest.importorskip("sklearn")
    opt = bo.RandomSearch(bo.Space({"a": bo.Real(0, 1), "c": bo.Categorical(["u", "v"])}), seed=1)
    for _ in range(40):
        t = opt.ask()
        opt.tell(t, 3 * t.params["a"] + (0.05 if t.params["c"] == "u" else 0.0))
    imp = bo.importance(opt, surrogate="forest", n=512)
    assert imp.ranking() == ["a", "c"] and imp.first["a"] > 0.8
    with pytest.raises(ValueError, match="`surrogate` must be one of"):
        bo.importance(opt, surrogate="fanova")
    with pytest.raises(ValueError, match="2 complete"):
        bo.importance(bo.RandomSearch(opt.space, seed=0))
