"""Trust region: the replayed state, the box, the boxed acquisition, and the optimiser."""

from __future__ import annotations

import math

import pytest
import torch

import bayesopt as bo
from bayesopt import acquisition, gp
from bayesopt import trust_region as tr


def test_three_successes_double_and_d_failures_halve():
    # Two initial points (not counted), then three improving model trials.
    state = tr.replay([5.0, 4.0, 3.0, 2.0, 1.0], [False, False, True, True, True], d=10)
    assert state.length == pytest.approx(2 * tr.INITIAL_LENGTH)
    assert (state.successes, state.failures) == (0, 0)
    # Doubling stops at MAX_LENGTH.
    losses = [10.0 - i for i in range(10)]
    assert tr.replay(losses, [True] * 10, d=10).length == tr.MAX_LENGTH
    # max(4, d) = 12 failures in a row halve it, and an improvement resets the count.
    flat = [1.0] + [2.0] * 12
    assert tr.replay(flat, [False] + [True] * 12, d=12).length == tr.INITIAL_LENGTH / 2
    broken = [1.0] + [2.0] * 6 + [0.5] + [2.0] * 6
    state = tr.replay(broken, [False] + [True] * 13, d=12)
    assert state.length == tr.INITIAL_LENGTH and state.failures == 6


def test_tiny_improvements_and_failed_trials_are_failures():
    state = tr.replay([1.0, 1.0 - 1e-6, math.nan], [False, True, True], d=4)
    assert (state.successes, state.failures) == (0, 2)


def test_success_rules_and_their_invariance_to_an_offset():
    # A run converging towards 0 and the same run shifted by +500 (a BBOB-like f_opt).
    losses = [4.0, 3.0, 2.0, 1.0, 0.5, 0.25, 0.2495, 0.249, 0.2485]
    counts = [False, False] + [True] * 7
    shifted = [v + 500.0 for v in losses]
    for rule in ("strict", "spread"):
        assert tr.replay(losses, counts, d=4, success=rule) == tr.replay(
            shifted, counts, d=4, success=rule
        )
    # TuRBO's rule needs a gain above 1e-3 * |best|, about 0.5 at the offset: two
    # successes, then five failures (halved at the fourth); near zero all seven succeed.
    assert tr.replay(shifted, counts, d=4) == tr.TrustRegion(length=0.4, failures=1)
    assert tr.replay(losses, counts, d=4) == tr.TrustRegion(length=1.6, successes=1)
    # "spread": the last three gains (5e-4) are below 1e-3 of median - best (1.5 - 0.25).
    spread = tr.replay(losses, counts, d=4, success="spread")
    assert spread == tr.TrustRegion(length=1.6, failures=3)
    assert tr.replay(losses, counts, d=4, success="strict") == tr.TrustRegion(1.6, successes=1)
    # Scaling the losses leaves the spread rule unchanged, too.
    scaled = [1e3 * v for v in losses]
    assert tr.replay(scaled, counts, d=4, success="spread") == spread
    with pytest.raises(ValueError, match="`success` must be one of"):
        tr.replay(losses, counts, d=4, success="absolute")


def test_region_success_option_reaches_the_region_and_is_validated():
    space, _ = _sphere(10)
    told = [5.0 + i for i in range(11)] + [1.0, 1.0 - 1e-6, 1.0 - 2e-6, 1.0 - 3e-6]
    counts = [False] * 11 + [True] * 4  # the initial design, then model trials

    def region(rule):
        opts = bo.ProposeOptions(region_success=rule, raw_samples=64, n_restarts=2)
        opt = bo.Optimizer(space, seed=0, n_initial=11, propose_options=opts)
        for value in told:
            opt.tell(opt.ask(), value)
        return opt.region()

    assert region("strict") == tr.replay(told, counts, d=10, success="strict")
    assert region("strict") == tr.TrustRegion(length=1.6, successes=1)
    assert region("relative") == tr.TrustRegion(failures=3)
    with pytest.raises(ValueError, match="`region_success` must be one of"):
        bo.ProposeOptions(region_success="sometimes")
    with pytest.raises(TypeError, match="`region_success` must be a str"):
        bo.ProposeOptions(region_success=1)


def test_collapse_restarts_the_region():
    # 7 halvings take 0.8 below 0.5**7; each needs max(4, d) = 4 failures.
    losses = [0.0] + [1.0] * 28
    state = tr.replay(losses, [False] + [True] * 28, d=2)
    assert state.restarts == 1 and state.length == tr.INITIAL_LENGTH
    with pytest.raises(ValueError, match="same length"):
        tr.replay([1.0], [], d=2)


def test_stagnation_opens_the_region_after_failures_and_collapse_returns_to_global():
    # Global until max(4, d) = 4 model trials in a row fail; an improvement resets the count.
    state = tr.replay([1.0, 2.0, 2.0, 2.0], [False, True, True, True], d=2, start_global=True)
    assert (state.active, state.failures) == (False, 3)
    state = tr.replay([1.0, 2.0, 2.0, 2.0, 0.5], [False] + [True] * 4, d=2, start_global=True)
    assert (state.active, state.failures) == (False, 0)
    opened = tr.replay([1.0] + [2.0] * 4, [False] + [True] * 4, d=2, start_global=True)
    assert opened == tr.TrustRegion()
    # In the region TuRBO's rules apply: 7 halvings of 4 failures collapse it, and the
    # search turns global with a restart counted.
    losses = [1.0] + [2.0] * (4 + 28)
    state = tr.replay(losses, [False] + [True] * 32, d=2, start_global=True)
    assert (state.active, state.restarts, state.failures) == (False, 1, 0)
    assert tr.replay(losses[:-1], [False] + [True] * 31, d=2, start_global=True).active


def test_stagnation_mode_searches_globally_then_inside_the_region():
    space, f = _sphere(2)
    opt = bo.Optimizer(space, seed=0, n_initial=5, trust_region="stagnation")
    assert not opt._uses_trust_region()
    assert opt.settings()["trust_region"] == "stagnation"
    opened = False
    for _ in range(40):
        trial = opt.ask()
        opt.tell(trial, f(trial.params))
        opened = opened or opt._uses_trust_region()
    assert opened  # a 2-D sphere stalls at the 1e-3 relative-improvement rule
    assert min(t.value for t in opt.trials) < 1e-3
    assert bo.Optimizer(_sphere(10)[0], trust_region="stagnation")._uses_trust_region()


def test_box_is_weighted_by_lengthscales_clipped_and_open_on_categoricals():
    centre = torch.tensor([0.5, 0.5, 0.95, 0.2], dtype=torch.float64)
    ls = torch.tensor([0.1, 0.4, 0.2, 7.0], dtype=torch.float64)
    lo, hi = tr.box(centre, 0.4, ls, categorical=[3])
    width = hi - lo
    # Weights are lengthscales over their geometric mean (over the ordinal coordinates).
    gm = (0.1 * 0.4 * 0.2) ** (1 / 3)
    assert width[0] == pytest.approx(0.4 * 0.1 / gm)
    assert width[1] == pytest.approx(0.4 * 0.4 / gm)
    assert hi[2] == 1.0 and lo[2] == pytest.approx(0.95 - 0.2 * 0.2 / gm)
    assert (lo[3], hi[3]) == (0.0, 1.0)
    assert bool(((lo <= centre) & (centre <= hi)).all())


def test_box_grid_keeps_the_values_inside_in_box_units():
    grid = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    inside = tr.box_grid(grid, 0.25, 0.75)
    assert torch.allclose(inside, (torch.tensor([0.3, 0.5, 0.7]) - 0.25).double() / 0.5)
    assert tr.box_grid(None, 0.0, 1.0) is None


def test_boxed_acquisition_values_pending_and_gradient():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(20, 2, generator=g, dtype=torch.float64)
    y = gp.standardize(torch.sin(5 * X[:, 0]) - X[:, 1])
    inner = acquisition.CachedLogEI(gp.fit(X, y), float(y.max()))
    lo = torch.tensor([0.2, 0.4], dtype=torch.float64)
    hi = torch.tensor([0.6, 0.5], dtype=torch.float64)
    boxed = tr.BoxAcquisition(inner, lo, hi)
    U = torch.rand(8, 2, generator=g, dtype=torch.float64)
    assert torch.allclose(boxed.to_box(boxed.to_cube(U)), U)
    assert torch.allclose(boxed(U.unsqueeze(1)), inner((lo + U * (hi - lo)).unsqueeze(1)))
    values, grads = boxed.value_and_gradient(U)
    leaf = U.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(boxed(leaf.unsqueeze(1)).sum(), leaf)
    assert torch.allclose(values, boxed(U.unsqueeze(1)))
    assert torch.allclose(grads, expected, rtol=1e-8, atol=1e-10)


def _sphere(d: int):
    space = bo.Space({f"x{i}": bo.Real(-1.0, 1.0) for i in range(d)})
    return space, lambda p: sum((v - 0.3) ** 2 for v in p.values())


def test_auto_uses_the_region_from_ten_dimensions_and_proposes_inside_it():
    space, f = _sphere(10)
    opt = bo.Optimizer(space, seed=0, n_initial=12)
    assert opt._uses_trust_region()
    assert not bo.Optimizer(_sphere(9)[0], seed=0)._uses_trust_region()
    assert not bo.Optimizer(space, seed=0, trust_region="never")._uses_trust_region()
    assert not bo.Optimizer(space, seed=0, acquisition="ts")._uses_trust_region()
    assert bo.Optimizer(_sphere(2)[0], seed=0, trust_region="always")._uses_trust_region()
    for _ in range(14):
        trial = opt.ask()
        opt.tell(trial, f(trial.params))
    # The next proposal lies in the box around the best point. The GP fit does not depend
    # on the seed below 512 observations, so the box can be rebuilt here exactly.
    data = opt.model_data()
    X, y = data.X, data.y
    model = gp.fit(X, y, options=opt.model_options)
    centre = X[int(torch.argmax(y))]
    lo, hi = tr.box(centre, opt.region().length, gp.lengthscales(model, 10))
    assert float((hi - lo).min()) < 0.5  # a real restriction, not the whole cube
    u = space.to_unit(opt.ask().params)
    assert bool(((u >= lo - 1e-9) & (u <= hi + 1e-9)).all())


def test_trust_region_runs_are_reproducible_and_resume_exactly(tmp_path):
    space, f = _sphere(10)

    def run(opt, n):
        for _ in range(n):
            trial = opt.ask()
            opt.tell(trial, f(trial.params))
        return [t.params for t in opt.trials]

    a = run(bo.Optimizer(space, seed=3, n_initial=11), 15)
    b = run(bo.Optimizer(space, seed=3, n_initial=11), 15)
    assert a == b
    path = tmp_path / "study.jsonl"
    first = bo.Optimizer(space, seed=3, n_initial=11, storage=path)
    run(first, 13)
    resumed = bo.Optimizer(space, seed=3, n_initial=11, storage=path)
    assert resumed.region() == first.region()
    assert run(resumed, 2) == a


def test_bad_trust_region_mode_is_rejected():
    space, _ = _sphere(2)
    with pytest.raises(ValueError, match=r"`trust_region` must be one of .*'auto'"):
        bo.Optimizer(space, trust_region="sometimes")


def test_trust_region_finds_the_optimum_of_a_10d_sphere():
    space, f = _sphere(10)
    opt = bo.Optimizer(space, seed=0)
    for _ in range(45):
        trial = opt.ask()
        opt.tell(trial, f(trial.params))
    assert opt.best.value < 0.05


def test_mixed_space_batches_inside_the_region_are_valid_and_distinct():
    params = {f"x{i}": bo.Real(-1.0, 1.0) for i in range(8)}
    params["n"] = bo.Integer(1, 50)
    params["k"] = bo.Integer(0, 3)
    params["c"] = bo.Categorical(["a", "b", "c"])
    space = bo.Space(params)

    def f(p):
        return (
            sum((p[f"x{i}"] - 0.2) ** 2 for i in range(8))
            + (p["n"] - 20) ** 2 / 400
            + (0.0 if p["c"] == "b" else 0.5)
        )

    opt = bo.Optimizer(space, seed=1)
    assert opt._uses_trust_region()  # 10 non-categorical coordinates
    for _ in range(opt.n_initial + 2):
        trial = opt.ask()
        opt.tell(trial, f(trial.params))
    batch = opt.ask(3)
    keys = {tuple(sorted(t.params.items())) for t in batch}
    assert len(keys) == 3
    for t in batch:
        assert isinstance(t.params["n"], int) and 1 <= t.params["n"] <= 50
        assert t.params["k"] in range(4) and t.params["c"] in ("a", "b", "c")
        assert t.source == "model"
