"""propose: the mixed acquisition optimiser on functions with known maxima."""

from __future__ import annotations

import pytest
import torch
from botorch.acquisition import AcquisitionFunction

from bayesopt import gp, propose


class Quadratic(AcquisitionFunction):
    """-(x - target)^2 summed over coordinates; pending points get a penalty nearby."""

    def __init__(self, target):
        torch.nn.Module.__init__(self)
        self.target = torch.as_tensor(target, dtype=torch.float64)
        self.X_pending = None

    def set_X_pending(self, X_pending=None):
        self.X_pending = X_pending

    def forward(self, X):
        x = X.squeeze(-2)
        value = -((x - self.target) ** 2).sum(-1)
        if self.X_pending is not None and len(self.X_pending):
            dist = torch.cdist(x, self.X_pending).min(dim=-1).values
            value = value - torch.exp(-((dist / 0.05) ** 2))
        return value


def test_continuous_maximum():
    x = propose.maximize(Quadratic([0.3, 0.8, 0.55]), [None] * 3, seed=0)
    assert x.shape == (1, 3)
    assert torch.allclose(x[0], torch.tensor([0.3, 0.8, 0.55], dtype=torch.float64), atol=1e-4)


def test_maximum_on_a_boundary():
    x = propose.maximize(Quadratic([1.4, -0.2]), [None, None], seed=0)
    assert torch.allclose(x[0], torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-6)


def test_mixed_domain_lands_on_grids():
    small = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    large = (torch.arange(100, dtype=torch.float64) + 0.5) / 100  # relaxed, then snapped
    grids = [None, small, large]
    x = propose.maximize(Quadratic([0.42, 0.66, 0.123]), grids, seed=1)[0]
    assert abs(float(x[0]) - 0.42) < 1e-4
    assert float(x[1]) == 0.7  # nearest grid value to 0.66
    assert abs(float(x[2]) - 0.125) < 1e-12  # the bin centre nearest 0.123


def test_enumeration_skips_avoided_points():
    grid = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    acqf = Quadratic([0.5])
    avoid = torch.tensor([[0.5], [0.3]], dtype=torch.float64)
    x = propose.maximize(acqf, [grid], X_avoid=avoid, seed=0)
    assert float(x[0, 0]) == 0.7  # the best point not evaluated yet
    everything = grid.unsqueeze(1)
    x = propose.maximize(acqf, [grid], X_avoid=everything, seed=0)
    assert float(x[0, 0]) == 0.5  # nothing left: the best point again


def test_batch_points_are_distinct_and_keep_given_pending():
    acqf = Quadratic([0.5, 0.5])
    pending = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    acqf.set_X_pending(pending)
    X = propose.maximize(acqf, [None, None], q=4, seed=0, X_pending=pending)
    assert X.shape == (4, 2)
    assert torch.cdist(X, pending).min() > 0.02
    assert torch.pdist(X).min() > 0.02
    assert acqf.X_pending.shape == (4, 2)  # the given one plus the first three chosen


def test_incumbent_start_is_used():
    # A needle the raw Sobol samples miss, but the given start sits next to it.
    class Needle(Quadratic):
        def forward(self, X):
            x = X.squeeze(-2)
            return torch.exp(-(((x - 0.123456) / 1e-3) ** 2).sum(-1))

    acqf = Needle([0.0, 0.0])
    start = torch.tensor([[0.1238, 0.1232]], dtype=torch.float64)
    x = propose.maximize(acqf, [None, None], seed=0, X_starts=start)
    assert torch.allclose(x[0], torch.full((2,), 0.123456, dtype=torch.float64), atol=1e-5)


def test_thompson_is_seeded_and_diverse():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(10, 2, generator=g, dtype=torch.float64)
    model = gp.fit(X, gp.standardize(-((X - 0.5) ** 2).sum(-1)), seed=0)
    a = propose.thompson(model, [None, None], q=3, seed=4)
    b = propose.thompson(model, [None, None], q=3, seed=4)
    assert a.shape == (3, 2) and torch.equal(a, b)
    assert torch.pdist(a).min() > 0


def test_boltzmann_starts_are_distinct_include_the_best_and_are_seeded():
    values = torch.linspace(-3.0, 3.0, 200, dtype=torch.float64)
    idx = propose._boltzmann(values, 10, seed=4)
    assert len(set(idx.tolist())) == 10 and int(idx[0]) == 199
    assert torch.equal(idx, propose._boltzmann(values, 10, seed=4))
    # Drawn in proportion to exp(z): the upper half dominates.
    assert sum(int(i) >= 100 for i in idx) >= 7


def test_spread_starts_take_the_best_then_the_farthest_good_points():
    # 40 good points crowd at the origin, 40 worse ones sit apart: max-min over the best
    # 4 x 3 = 12 reaches the worse ones only if they are in the pool.
    gen = torch.Generator().manual_seed(0)
    crowd = 0.01 * torch.rand(40, 2, generator=gen, dtype=torch.float64)
    idx = propose._max_min(crowd, 5)
    assert int(idx[0]) == 0 and len(set(idx.tolist())) == 5
    spread = torch.pdist(crowd[idx]).min()
    assert spread > torch.pdist(crowd[:5]).min()  # farther apart than the first five
    with pytest.raises(ValueError, match="`boltzmann` and `spread` must not both be set"):
        propose.ProposeOptions(boltzmann=True, spread=True)
    with pytest.raises(TypeError, match="`spread` must be a bool"):
        propose.ProposeOptions(spread="yes")


def test_rescaled_and_boltzmann_searches_find_the_same_maximum():
    target = [0.3, 0.8]
    for options in (
        propose.ProposeOptions(rescale=True),
        propose.ProposeOptions(boltzmann=True),
        propose.ProposeOptions(spread=True),
        propose.ProposeOptions(n_incumbents=0),
    ):
        x = propose.maximize(
            Quadratic(target),
            [None, None],
            seed=1,
            options=options,
            scales=torch.tensor([0.05, 2.0], dtype=torch.float64),
        )
        assert torch.allclose(x[0], torch.tensor(target, dtype=torch.float64), atol=1e-4)


def test_new_propose_options_are_validated():
    import pytest

    with pytest.raises(ValueError, match="n_incumbents >= 0"):
        propose.ProposeOptions(n_incumbents=-1)
    with pytest.raises(TypeError, match="`rescale` must be a bool"):
        propose.ProposeOptions(rescale=1)


class _AutogradOnly(AcquisitionFunction):
    """Wraps an acquisition and hides its closed-form gradient."""

    def __init__(self, inner: AcquisitionFunction) -> None:
        super().__init__(inner.model)
        self.inner = inner

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.inner(X)


def test_closed_form_gradient_search_proposes_what_the_autograd_search_does():
    from bayesopt.acquisition import CachedLogEI

    g = torch.Generator().manual_seed(2)
    X = torch.rand(25, 3, generator=g, dtype=torch.float64)
    y = gp.standardize(-((X - 0.4) ** 2).sum(-1) + 0.3 * torch.sin(9 * X[:, 0]))
    acqf = CachedLogEI(gp.fit(X, y), float(y.max()))
    assert acqf.has_gradient
    grids = [None, None, None]
    fast = propose.maximize(acqf, grids, seed=3, X_avoid=X)
    slow = propose.maximize(_AutogradOnly(acqf), grids, seed=3, X_avoid=X)
    assert torch.allclose(fast, slow, atol=1e-6)
    with torch.no_grad():
        assert float(acqf(fast.unsqueeze(1))) >= float(acqf(slow.unsqueeze(1))) - 1e-9


BOTORCH = propose.ProposeOptions(method="botorch", raw_samples=128, n_restarts=4)


def test_botorch_method_lands_on_grids_in_bounds():
    small = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    cats = torch.tensor([0.125, 0.375, 0.625, 0.875], dtype=torch.float64)
    large = (torch.arange(100, dtype=torch.float64) + 0.5) / 100  # relaxed, then snapped
    grids = [None, small, cats, large]
    target = [0.42, 0.66, 0.6, 0.123]
    x = propose.maximize(Quadratic(target), grids, seed=1, options=BOTORCH, cat_dims=[2])[0]
    assert bool(((x >= 0) & (x <= 1)).all())
    assert abs(float(x[0]) - 0.42) < 1e-3
    assert float(x[1]) == 0.7  # nearest grid value to 0.66
    assert float(x[2]) == 0.625  # the category nearest 0.6
    assert abs(float(x[3]) - 0.125) < 1e-12  # the bin centre nearest 0.123
    x = propose.maximize(Quadratic([1.4, -0.2]), [None, None], seed=0, options=BOTORCH)
    assert torch.allclose(x[0], torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-6)


def test_botorch_method_respects_avoided_and_pending_points():
    grid = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    acqf = Quadratic([1.4, 0.5])  # the maximum lies on the boundary, at (1.0, 0.5)
    best = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    assert torch.allclose(propose.maximize(acqf, [None, grid], options=BOTORCH), best)
    x = propose.maximize(acqf, [None, grid], X_avoid=best, options=BOTORCH)
    assert float(torch.cdist(x, best).min()) > 1e-9
    assert float(x[0, 1]) in grid.tolist()
    # Enumerated domains behave as in the alternating search.
    x = propose.maximize(Quadratic([0.5]), [grid], X_avoid=grid[2:4, None], options=BOTORCH)
    assert float(x[0, 0]) == 0.3  # 0.5 and 0.7 are avoided
    # A batch: distinct points, the given pending one kept.
    acqf = Quadratic([0.5, 0.5])
    pending = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    acqf.set_X_pending(pending)
    X = propose.maximize(acqf, [None, None], q=3, X_pending=pending, options=BOTORCH)
    assert torch.cdist(X, pending).min() > 0.02 and torch.pdist(X).min() > 0.02
    assert acqf.X_pending.shape == (3, 2)


def test_botorch_method_beats_the_best_raw_sample_and_leaves_global_rngs_alone():
    import random

    from bayesopt.acquisition import CachedLogEI

    g = torch.Generator().manual_seed(2)
    grid = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    X = torch.rand(20, 3, generator=g, dtype=torch.float64)
    X[:, 2] = grid[torch.randint(0, 5, (20,), generator=g)]
    y = gp.standardize(-((X - 0.4) ** 2).sum(-1) + 0.3 * torch.sin(9 * X[:, 0]))
    acqf = CachedLogEI(gp.fit(X, y), float(y.max()))
    grids = [None, None, grid]
    raw = propose._snap(
        torch.quasirandom.SobolEngine(3, scramble=True, seed=3).draw(512, dtype=torch.float64),
        grids,
    )
    best_raw = float(propose._evaluate(acqf, raw, 512).max())
    torch.manual_seed(11)
    random.seed(11)
    torch_state, py_state = torch.get_rng_state(), random.getstate()
    a = propose.maximize(acqf, grids, seed=3, X_avoid=X, options=BOTORCH)
    assert torch.equal(torch.get_rng_state(), torch_state) and random.getstate() == py_state
    assert torch.equal(a, propose.maximize(acqf, grids, seed=3, X_avoid=X, options=BOTORCH))
    with torch.no_grad():
        value = float(acqf(a.unsqueeze(1)))
    assert value >= best_raw - 1e-6
    assert float(a[0, 2]) in grid.tolist()


def test_optimizer_with_botorch_method_on_a_mixed_space(mixed_space):
    import bayesopt as bo

    options = bo.ProposeOptions(method="botorch", raw_samples=64, n_restarts=2)
    opt = bo.Optimizer(mixed_space, seed=0, propose_options=options)
    for _ in range(opt.n_initial + 2):
        trial = opt.ask()
        p = trial.params
        opt.tell(trial, (p["x"] - 1.0) ** 2 + abs(p["depth"] - 3) + (p["act"] == "relu"))
    keys = [tuple(sorted((k, repr(v)) for k, v in t.params.items())) for t in opt.trials]
    assert len(set(keys)) == len(keys)
    assert [t.source for t in opt.trials][-2:] == [bo.Source.MODEL, bo.Source.MODEL]


def test_method_is_validated():
    import pytest

    assert propose.ProposeOptions().method == "alternating"
    with pytest.raises(ValueError, match="`method` must be one of"):
        propose.ProposeOptions(method="lbfgs")
    with pytest.raises(TypeError, match="`method` must be a str"):
        propose.ProposeOptions(method=None)


# --- independent L-BFGS-B runs in lock step ----------------------------------------------------


def _rosenbrock_rows(z):
    """A function of each row alone (value and gradient), with a narrow curved valley."""
    import numpy as np

    a, b = z[:, 0], z[:, 1]
    f = (1 - a) ** 2 + 100 * (b - a**2) ** 2 + np.sin(3 * z[:, 2]) + z[:, 2] ** 2
    g = np.stack(
        [
            -2 * (1 - a) - 400 * a * (b - a**2),
            200 * (b - a**2),
            3 * np.cos(3 * z[:, 2]) + 2 * z[:, 2],
        ],
        axis=1,
    )
    return f, g


def test_lockstep_runs_are_scipys_lbfgsb_from_each_start_exactly(monkeypatch):
    import numpy as np
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    z0 = rng.uniform(-2.5, 2.5, (7, 3))  # some starts outside the bounds: clipped
    bounds = np.array([[-2.0, 2.0], [-1.5, 2.0], [-2.0, 1.0]])
    batches: list[int] = []

    def scores(rows, Z):
        batches.append(len(rows))
        return _rosenbrock_rows(Z)

    def one(z):
        f, g = _rosenbrock_rows(z.reshape(1, -1))
        return float(f[0]), g[0]

    for maxiter in (1, 4, 100):
        options = {"maxiter": maxiter, "ftol": 1e-6}
        expected = np.stack(
            [
                minimize(one, z, jac=True, method="L-BFGS-B", bounds=bounds, options=options).x
                for z in z0
            ]
        )
        batches.clear()
        got = propose._lbfgsb_lockstep(scores, z0, bounds, maxiter=maxiter, ftol=1e-6)
        assert np.array_equal(got, expected)  # bit for bit
        assert batches[0] == 7 and batches == sorted(batches, reverse=True)  # runs drop out
        with monkeypatch.context() as m:  # without SciPy's step function: one run at a time
            m.setattr(propose, "_setulb", lambda: None)
            assert np.array_equal(
                propose._lbfgsb_lockstep(scores, z0, bounds, maxiter=maxiter, ftol=1e-6),
                expected,
            )
    assert propose._setulb() is not None  # the SciPy this suite runs on has it


def test_independent_starts_find_the_maxima_and_are_seeded():
    options = propose.ProposeOptions(lbfgs="independent")
    target = [0.3, 0.8, 0.55]
    x = propose.maximize(Quadratic(target), [None] * 3, seed=0, options=options)
    assert torch.allclose(x[0], torch.tensor(target, dtype=torch.float64), atol=1e-4)
    x = propose.maximize(Quadratic([1.4, -0.2]), [None, None], seed=0, options=options)
    assert torch.allclose(x[0], torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-6)

    g = torch.Generator().manual_seed(2)
    X = torch.rand(25, 3, generator=g, dtype=torch.float64)
    y = gp.standardize(-((X - 0.4) ** 2).sum(-1) + 0.3 * torch.sin(9 * X[:, 0]))
    from bayesopt.acquisition import CachedLogEI

    acqf = CachedLogEI(gp.fit(X, y), float(y.max()))
    grids = [None, None, None]
    joint = propose.maximize(acqf, grids, seed=3, X_avoid=X)
    runs = [propose.maximize(acqf, grids, seed=3, X_avoid=X, options=options) for _ in range(2)]
    assert torch.equal(runs[0], runs[1])
    slow = propose.maximize(_AutogradOnly(acqf), grids, seed=3, X_avoid=X, options=options)
    assert torch.allclose(runs[0], slow, atol=1e-6)
    with torch.no_grad():  # at least as high as the joint search's point
        assert float(acqf(runs[0].unsqueeze(1))) >= float(acqf(joint.unsqueeze(1))) - 1e-6


def test_lbfgs_mode_is_validated():
    import pytest

    assert propose.ProposeOptions().lbfgs in propose.LBFGS_MODES
    with pytest.raises(ValueError, match="`lbfgs` must be one of"):
        propose.ProposeOptions(lbfgs="together")
    with pytest.raises(TypeError, match="`lbfgs` must be a str"):
        propose.ProposeOptions(lbfgs=1)


# --- structured domains: conditional coordinates and constraints --------------------------


def _tree_space():
    from bayesopt.space import Categorical, Real, Space

    return Space(
        {
            "branch": Categorical(["a", "b", "c"]),
            "xa": Real(0.0, 1.0, when={"branch": "a"}),
            "xb": Real(0.0, 1.0, when={"branch": "b"}),
            "free": Real(0.0, 1.0),
        }
    )


class Recorder(Quadratic):
    """Quadratic, remembering every point it scored."""

    def __init__(self, target):
        super().__init__(target)
        self.seen = []

    def forward(self, X):
        self.seen.append(X.detach().reshape(-1, X.shape[-1]).clone())
        return super().forward(X)


def test_structured_search_scores_and_returns_canonical_points():
    space = _tree_space()
    structure = space.unit_structure()
    grids = [space.grid(i) for i in range(space.dim)]
    # The target (branch coordinate 0.5, xa = 0.95, xb = 0.3, free = 0.9) is no canonical
    # point: in branch "b" (bin centre 0.5) xa is inactive, at its imputation value 0.5,
    # which costs 0.2025; branch "a" (centre 1/6) costs 0.111 + 0.04 (xb inactive) less.
    acqf = Recorder([0.5, 0.95, 0.3, 0.9])
    x = propose.maximize(acqf, grids, seed=0, structure=structure)[0]
    assert torch.equal(space.snap(x[None])[0], x)
    assert space.from_unit(x)["branch"] == "a"
    assert abs(float(x[1]) - 0.95) < 1e-4 and abs(float(x[3]) - 0.9) < 1e-4
    assert float(x[2]) == 0.5  # xb is inactive: at its imputation value, not 0.3
    seen = torch.cat(acqf.seen)
    assert torch.equal(space.impute(seen), seen)  # never scored at an inactive value
    plain = propose.maximize(Quadratic([0.5, 0.95, 0.3, 0.9]), grids, seed=0)[0]
    assert abs(float(plain[2]) - 0.3) < 1e-4  # without the structure, xb is optimised too


def test_branch_starts_find_a_peak_in_a_branch_the_raw_samples_rank_low():
    space = _tree_space()
    structure = space.unit_structure()
    grids = [space.grid(i) for i in range(space.dim)]

    class Peaks(Quadratic):
        # Branch a: a broad hill of height 1. Branch b: a gentle slope up to 0.5 at
        # xb = 0.8123 with a narrow peak of height 2.5 there, which few raw samples hit.
        def forward(self, X):
            x = X.squeeze(-2)
            branch = (x[..., 0] * 3).floor()
            hill = 1.0 - (x[..., 1] - 0.5) ** 2
            d = x[..., 2] - 0.8123
            peak = 2.0 * torch.exp(-((d / 0.004) ** 2)) + 0.5 * (1.0 - d**2)
            return torch.where(branch == 0, hill, torch.where(branch == 1, peak, 0.0 * hill))

    found = []
    for seed in range(3):
        for branch_starts in (0, 1):
            options = propose.ProposeOptions(
                raw_samples=64, n_restarts=2, branch_starts=branch_starts
            )
            x = propose.maximize(
                Peaks([0.0] * 4), grids, seed=seed, options=options, structure=structure
            )[0]
            found.append(
                (
                    branch_starts,
                    space.from_unit(x)["branch"] == "b" and abs(float(x[2]) - 0.8123) < 1e-3,
                )
            )
    assert found == [(0, False), (1, True)] * 3  # the best raw samples are all in branch a


def test_linear_constraints_bound_every_search_method():
    from bayesopt.space import Integer, Linear, Real, Space

    space = Space(
        {"a": Real(0, 1), "b": Real(0, 1), "n": Integer(0, 4)},
        constraints=[Linear({"a": 1.0, "b": 1.0}, "<=", 0.6), Linear({"a": 1, "n": -0.1}, ">=", 0)],
    )
    structure = space.unit_structure()
    grids = [space.grid(i) for i in range(space.dim)]
    acqf = Quadratic([1.0, 1.0, 1.0])  # wants everything at 1: infeasible
    for method in ("alternating", "botorch"):
        options = propose.ProposeOptions(method=method, raw_samples=128, n_restarts=4)
        X = propose.maximize(acqf, grids, q=2, seed=0, options=options, structure=structure)
        assert bool(space.feasible_mask(X).all()), (method, X)
        p = space.from_unit(X[0])
        assert p["a"] + p["b"] == pytest.approx(0.6, abs=1e-3)  # on the boundary
        assert p["a"] >= 0.1 * p["n"]


def test_thompson_candidates_respect_the_structure():
    from bayesopt.space import Linear, Real, Space

    space = Space(
        {"a": Real(0, 1), "b": Real(0, 1)}, constraints=[Linear({"a": 1, "b": 1}, "<=", 0.5)]
    )
    U = space.sample_unit(10, seed=0)
    model = gp.fit(U, gp.standardize(U.sum(-1)), seed=0)
    X = propose.thompson(
        model, [None, None], q=3, seed=1, X_centers=U[:2], structure=space.unit_structure()
    )
    assert bool(space.feasible_mask(X).all())


def test_boxed_structure_is_the_structure_in_box_coordinates():
    space = _tree_space()
    structure = space.unit_structure()
    lo = torch.tensor([0.0, 0.2, 0.2, 0.4], dtype=torch.float64)
    hi = torch.tensor([1.0, 0.6, 0.6, 0.8], dtype=torch.float64)
    box = propose.boxed(structure, lo, hi)
    V = box.sample(32, 0)
    U = lo + V * (hi - lo)
    assert torch.allclose(space.snap(U), U, atol=1e-12)
    assert bool(((lo - 1e-12 <= U) | ~space.active_mask(U)).all())
    assert torch.equal(box.active(V), space.active_mask(U))
    assert torch.allclose(lo + box.snap(V) * (hi - lo), space.snap(U), atol=1e-12)


def test_branch_starts_option_is_validated():
    with pytest.raises(ValueError, match="branch_starts >= 0"):
        propose.ProposeOptions(branch_starts=-1)
    with pytest.raises(TypeError, match="branch_starts"):
        propose.ProposeOptions(branch_starts=1.5)
