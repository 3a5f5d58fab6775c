"""Acquisition registry: closed forms on a known posterior, shapes, gradients, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from bayesopt import acquisition, gp


@pytest.fixture(scope="module")
def model():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(12, 2, generator=g, dtype=torch.float64)
    y = gp.standardize(torch.sin(6 * X[:, 0]) + X[:, 1] ** 2)
    return gp.fit(X, y, seed=0), X, y


def _posterior(m, x):
    with torch.no_grad():
        post = m.posterior(x.unsqueeze(0))
    return float(post.mean), float(post.variance.sqrt())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown acquisition 'ei'.*'logei'.*'qlognei'.*'ts'"):
        acquisition.check_name("ei")
    with pytest.raises(TypeError, match="must be a str"):
        acquisition.check_name(3)


def test_logei_matches_closed_form(model):
    m, X, y = model
    x = torch.tensor([0.3, 0.7], dtype=torch.float64)
    mu, sd = _posterior(m, x)
    best = float(y.max())
    z = (mu - best) / sd
    n = Normal(0.0, 1.0)
    ei = sd * (z * float(n.cdf(torch.tensor(z))) + math.exp(float(n.log_prob(torch.tensor(z)))))
    acqf = acquisition.make("logei", m, X_baseline=X, best_f=best)
    with torch.no_grad():
        value = float(acqf(x.view(1, 1, 2)))
    assert value == pytest.approx(math.log(ei), rel=1e-6)


def test_ucb_and_pi_match_closed_form(model):
    m, X, y = model
    x = torch.tensor([0.9, 0.1], dtype=torch.float64)
    mu, sd = _posterior(m, x)
    ucb = acquisition.make("ucb", m, X_baseline=X, best_f=0.0)
    assert float(ucb(x.view(1, 1, 2))) == pytest.approx(mu + math.sqrt(acquisition.UCB_BETA) * sd)
    best = float(y.max())
    pi = acquisition.make("pi", m, X_baseline=X, best_f=best)
    expected = float(torch.special.log_ndtr(torch.tensor((mu - best) / sd)))
    assert float(pi(x.view(1, 1, 2))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["qlognei", "logei", "ucb", "pi"])
def test_shapes_gradients_and_pending(model, name):
    m, X, y = model
    pending = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    acqf = acquisition.make(name, m, X_baseline=X, best_f=float(y.max()), X_pending=pending)
    Z = torch.rand(7, 1, 2, dtype=torch.float64, requires_grad=True)
    values = acqf(Z)
    assert values.shape == (7,)
    (grad,) = torch.autograd.grad(values.sum(), Z)
    assert bool(torch.isfinite(grad).all())
    # Pending points force the MC version (incremental qLogNEI folds them into its baseline).
    held = acqf.X_baseline if name == "qlognei" else acqf.X_pending
    assert bool((held == pending).all(dim=-1).any())


def test_pending_point_is_penalised(model):
    m, X, y = model
    x = torch.tensor([[0.35, 0.9]], dtype=torch.float64)
    free = acquisition.make("qlognei", m, X_baseline=X, best_f=float(y.max()), seed=1)
    busy = acquisition.make("qlognei", m, X_baseline=X, best_f=float(y.max()), X_pending=x, seed=1)
    assert float(busy(x.unsqueeze(0))) < float(free(x.unsqueeze(0)))


def test_seeded_mc_acquisition_is_deterministic(model):
    m, X, _ = model
    Z = torch.rand(5, 1, 2, dtype=torch.float64)
    a = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, seed=3, q=2)(Z)
    b = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, seed=3, q=2)(Z)
    assert torch.equal(a, b)


def test_ts_is_not_built_by_make(model):
    m, X, _ = model
    with pytest.raises(ValueError, match="propose.thompson"):
        acquisition.make("ts", m, X_baseline=X, best_f=0.0)


@pytest.mark.parametrize("cat_dims", [(), (1,)])
def test_cached_logei_equals_botorchs_logei(cat_dims):
    from botorch.acquisition import LogExpectedImprovement

    g = torch.Generator().manual_seed(3)
    X = torch.rand(30, 2, generator=g, dtype=torch.float64)
    if cat_dims:
        X[:, 1] = (X[:, 1] * 3).floor() / 3 + 1 / 6
    y = gp.standardize(torch.sin(6 * X[:, 0]) + X[:, 1])
    m = gp.fit(X, y, cat_dims=cat_dims)
    assert acquisition.CachedLogEI.supports(m)
    ours, theirs = acquisition.CachedLogEI(m, 0.3), LogExpectedImprovement(m, best_f=0.3)
    T = torch.rand(64, 1, 2, generator=g, dtype=torch.float64, requires_grad=True)
    a, b = ours(T), theirs(T)
    assert torch.allclose(a, b, atol=1e-6)
    (ga,) = torch.autograd.grad(a.sum(), T)
    (gb,) = torch.autograd.grad(b.sum(), T)
    assert torch.allclose(ga, gb, atol=1e-5)


def _closed_form_and_autograd(acqf, T):
    """``acqf.value_and_gradient(T)``, then the values and gradients by autograd."""
    values, grads = acqf.value_and_gradient(T)
    leaf = T.clone().requires_grad_(True)
    expected = acqf(leaf.unsqueeze(1))
    (expected_grads,) = torch.autograd.grad(expected.sum(), leaf)
    return values, grads, expected, expected_grads


@pytest.mark.parametrize(
    ("options", "cat_dims"),
    [
        (gp.ModelOptions(), ()),
        (gp.ModelOptions(kernel="rbf"), ()),
        (gp.ModelOptions(outputscale=False), ()),
        (gp.ModelOptions(), (1,)),
    ],
)
def test_cached_logei_closed_form_gradient_equals_autograd(options, cat_dims):
    g = torch.Generator().manual_seed(4)
    X = torch.rand(40, 3, generator=g, dtype=torch.float64)
    if cat_dims:
        X[:, 1] = (X[:, 1] * 3).floor() / 3 + 1 / 6
    y = gp.standardize(torch.sin(6 * X[:, 0]) + X[:, 1] - X[:, 2] ** 2)
    m = gp.fit(X, y, cat_dims=cat_dims, options=options)
    acqf = acquisition.CachedLogEI(m, float(y.max()))
    assert acqf.has_gradient is (not cat_dims)  # the Hamming product has no closed form
    if cat_dims:
        with pytest.raises(RuntimeError, match="Stationary"):
            acqf.value_and_gradient(X[:2])
        return
    # Random points and points far in the tail (LogEI ~ -100), where the gradient is small.
    T = torch.cat([torch.rand(32, 3, generator=g, dtype=torch.float64), X[y.argmin()][None]])
    values, grads, expected, expected_grads = _closed_form_and_autograd(acqf, T)
    assert values.shape == (33,) and grads.shape == (33, 3)
    assert torch.allclose(values, expected.detach(), rtol=1e-12, atol=1e-12)
    # Relative agreement: far in the tail (LogEI down to -7e6 with short RBF lengthscales)
    # both gradients are huge, and rounding leaves them about 1e-8 apart relatively.
    assert torch.allclose(grads, expected_grads, rtol=1e-6, atol=1e-10)


def test_qlognei_closed_form_uses_the_cache(model):
    m, X, y = model
    acqf = acquisition.make("qlognei", m, X_baseline=X, best_f=float(y.max()), noise_fraction=0.0)
    assert isinstance(acqf, acquisition.CachedLogEI)
    with torch.no_grad():
        assert acqf.best_f == pytest.approx(float(m.posterior(X).mean.max()))


def test_many_observations_use_the_closed_form_even_when_noisy():
    g = torch.Generator().manual_seed(5)
    X = torch.rand(acquisition.MC_BASELINE_LIMIT + 1, 2, generator=g, dtype=torch.float64)
    y = gp.standardize(torch.sin(6 * X[:, 0]) + 0.3 * torch.randn(len(X), generator=g))
    m = gp.fit(X, y)
    noisy = dict(X_baseline=X, best_f=float(y.max()), noise_fraction=0.2)
    assert isinstance(acquisition.make("qlognei", m, **noisy), acquisition.CachedLogEI)
    few = dict(X_baseline=X[:20], best_f=float(y.max()), noise_fraction=0.2)
    assert not isinstance(acquisition.make("qlognei", m, **few), acquisition.CachedLogEI)


def test_believer_logei_is_logei_on_the_gp_conditioned_on_its_own_mean(model):
    import copy

    from botorch.acquisition import LogExpectedImprovement

    m, X, _ = model
    g = torch.Generator().manual_seed(5)
    pending = torch.rand(2, 2, generator=g, dtype=torch.float64)
    acqf = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, X_pending=pending,
                            closed_form="always")  # fmt: skip
    assert isinstance(acqf, acquisition.BelieverLogEI)
    with torch.no_grad():
        incumbent = float(m.posterior(X).mean.max())
        believed = m.posterior(pending).mean.reshape(-1)
    assert acqf.best_f == pytest.approx(incumbent)
    fantasy = copy.deepcopy(m)
    fantasy.set_train_data(torch.cat([X, pending]), torch.cat([m.train_targets, believed]),
                           strict=False)  # fmt: skip
    T = torch.rand(16, 1, 2, generator=g, dtype=torch.float64)
    best = max(incumbent, float(believed.max()))  # the believed values count as data
    expected = LogExpectedImprovement(fantasy, best_f=best)(T)
    assert torch.allclose(acqf(T), expected, atol=1e-6)
    # The variance collapses at a believed point: LogEI there is far below elsewhere.
    with torch.no_grad():
        assert float(acqf(pending[:1].unsqueeze(0))) < float(acqf(T).max()) - 5
    acqf.set_X_pending(None)  # nothing believed: plain cached LogEI at the incumbent
    plain = acquisition.CachedLogEI(m, incumbent)
    assert torch.allclose(acqf(T), plain(T))
    values, grads = acqf.value_and_gradient(T.squeeze(1))
    assert values.shape == (16,) and grads.shape == (16, 2)


def test_closed_form_applies_to_qlognei_only(model):
    m, X, _ = model
    ucb = acquisition.make("ucb", m, X_baseline=X, best_f=0.0, q=2, closed_form="always")
    assert not isinstance(ucb, acquisition.BelieverLogEI)  # Monte-Carlo qUCB
    noisy = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, noise_fraction=0.5,
                             closed_form="always")  # fmt: skip
    assert isinstance(noisy, acquisition.BelieverLogEI)  # a noisy model, still closed form
    with torch.no_grad():
        assert noisy.best_f == pytest.approx(float(m.posterior(X).mean.max()))
    default = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, noise_fraction=0.5)
    assert not isinstance(default, acquisition.CachedLogEI | acquisition.BelieverLogEI)


def test_closed_form_batches_believes_batches_and_pending_points_only(model):
    m, X, _ = model
    with pytest.raises(ValueError, match="`closed_form` must be one of"):
        acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, closed_form="yes")
    kw = dict(X_baseline=X, best_f=0.0, noise_fraction=0.5, closed_form="batches")
    single = acquisition.make("qlognei", m, **kw)
    assert not isinstance(single, acquisition.CachedLogEI | acquisition.BelieverLogEI)
    assert isinstance(acquisition.make("qlognei", m, q=3, **kw), acquisition.BelieverLogEI)
    pending = acquisition.make("qlognei", m, X_pending=X[:1], **kw)
    assert isinstance(pending, acquisition.BelieverLogEI)
    kw["closed_form"] = "pareto"  # the default: several objectives only
    assert not isinstance(acquisition.make("qlognei", m, q=3, **kw), acquisition.BelieverLogEI)


@pytest.fixture(scope="module")
def noisy_model():
    g = torch.Generator().manual_seed(6)
    X = torch.rand(50, 3, generator=g, dtype=torch.float64)
    y = torch.cos(3 * X).sum(1) - ((X - 0.5) ** 2).sum(1)
    y = gp.standardize(y + torch.randn(len(X), generator=g, dtype=torch.float64))
    m = gp.fit(X, y, seed=0)
    assert gp.noise_fraction(m) > acquisition.NOISELESS_FRACTION
    return m, X


def test_cached_lognei_is_botorchs_qlognei_estimator(noisy_model):
    from botorch.acquisition import qLogNoisyExpectedImprovement
    from botorch.acquisition.utils import prune_inferior_points
    from botorch.sampling import SobolQMCNormalSampler

    m, X = noisy_model
    acqf = acquisition.make("qlognei", m, X_baseline=X, best_f=0.0, noise_fraction=0.2)
    assert isinstance(acqf, acquisition.CachedLogNEI)
    ours = {tuple(r) for r in acqf.X_baseline.tolist()}
    theirs_sets = []
    with torch.random.fork_rng():
        for seed in range(3):
            torch.manual_seed(seed)
            theirs_sets.append({tuple(r) for r in prune_inferior_points(m, X).tolist()})
    # Each draws its own samples: the points every BoTorch draw keeps are kept, and the
    # baseline has about as many points (the rarely best ones vary from draw to draw).
    assert set.intersection(*theirs_sets) <= ours
    assert 0.5 <= len(ours) / (sum(map(len, theirs_sets)) / 3) <= 2.0
    # With many samples both estimate the same expectation.
    many = acquisition.CachedLogNEI(m, X, seed=1, samples=8192)
    sampler = SobolQMCNormalSampler(torch.Size([8192]), seed=1)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = qLogNoisyExpectedImprovement(m, X_baseline=X, sampler=sampler)
    T = torch.rand(16, 1, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        a, b = many(T), theirs(T)
    # Far in the tail a few samples dominate both estimates (at LogEI ~ -7 they vary by
    # about 0.15 from seed to seed even with 8,192 samples): compare where they do not.
    close = b > -5
    assert int(close.sum()) >= 3
    assert torch.allclose(a[close], b[close], atol=0.05)


def test_cached_lognei_closed_form_gradient_equals_autograd(noisy_model):
    m, X = noisy_model
    acqf = acquisition.CachedLogNEI(m, X, seed=0)
    assert acqf.has_gradient
    g = torch.Generator().manual_seed(2)
    T = torch.cat([torch.rand(16, 3, generator=g, dtype=torch.float64), X[:3]])
    values, grads, expected, expected_grads = _closed_form_and_autograd(acqf, T)
    assert values.shape == (19,) and grads.shape == (19, 3)
    assert torch.allclose(values, expected.detach(), rtol=1e-10, atol=1e-10)
    assert torch.allclose(grads, expected_grads, rtol=1e-6, atol=1e-8)
    again = acquisition.CachedLogNEI(m, X, seed=0)(T.unsqueeze(1))
    assert torch.equal(again.detach(), expected.detach())  # seeded: the same estimate


def test_cached_lognei_samples_pending_points_with_the_baseline(noisy_model):
    from botorch.acquisition import qLogNoisyExpectedImprovement
    from botorch.sampling import SobolQMCNormalSampler

    m, X = noisy_model
    g = torch.Generator().manual_seed(3)
    pending = torch.rand(2, 3, generator=g, dtype=torch.float64)
    kw = dict(X_baseline=X, best_f=0.0, noise_fraction=0.2, seed=1)
    busy = acquisition.make("qlognei", m, X_pending=pending, **kw)
    assert isinstance(busy, acquisition.CachedLogNEI)
    assert torch.equal(busy.X_baseline[-2:], pending)  # after the pruned observed points
    assert isinstance(acquisition.make("qlognei", m, q=3, **kw), acquisition.CachedLogNEI)
    # The same estimate as BoTorch's incremental qLogNEI with the same pending points.
    many = acquisition.CachedLogNEI(m, X, pending, seed=1, samples=8192)
    sampler = SobolQMCNormalSampler(torch.Size([8192]), seed=1)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = qLogNoisyExpectedImprovement(m, X_baseline=X, sampler=sampler, X_pending=pending)
    T = torch.rand(64, 1, 3, generator=g, dtype=torch.float64)
    with torch.no_grad():
        a, b = many(T), theirs(T)
    close = b > -5
    assert int(close.sum()) >= 3
    assert torch.allclose(a[close], b[close], atol=0.05)
    # Near a pending point the value drops; clearing the pending points restores it.
    near = pending[:1].unsqueeze(0) + 1e-3
    free = acquisition.make("qlognei", m, **kw)
    with torch.no_grad():
        assert float(busy(near)) < float(free(near)) - 1.0
        busy.set_X_pending(None)
        assert torch.allclose(busy(T), free(T))


def test_cached_lognei_takes_a_pending_point_that_repeats_an_observation(noisy_model):
    # On a noisy objective an evaluated point may be proposed again: the baseline then
    # holds one point twice, and the joint covariance needs its jitter.
    m, X = noisy_model
    acqf = acquisition.CachedLogNEI(m, X, seed=0)
    acqf.set_X_pending(acqf.X_baseline[:1].clone())
    T = torch.rand(8, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    values, grads = acqf.value_and_gradient(T)
    assert torch.isfinite(values).all() and torch.isfinite(grads).all()
