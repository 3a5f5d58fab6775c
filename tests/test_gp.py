"""bayesopt.gp: pinned modelling choices, the lean MAP fit, subsets, noise detection."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from botorch.optim.fit import fit_gpytorch_mll_scipy
from botorch.optim.utils import get_parameters_and_bounds
from gpytorch.kernels import MaternKernel, RBFKernel, ScaleKernel
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior

from bayesopt import acquisition, gp, optimizer
from bayesopt.gp import BoundedLengthscalePrior, ModelOptions, fitting, mll, priors


def _data(n: int, d: int = 3, seed: int = 0, noise: float = 0.0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    f = torch.sin(5 * X[:, 0]) + (X[:, 1:] ** 2).sum(1)
    y = f + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return X, gp.standardize(y)


def test_default_model_is_matern52_with_output_scale_and_bounded_prior():
    X, y = _data(10)
    model = gp.build(X, y)
    assert isinstance(model.covar_module, ScaleKernel)
    base = model.covar_module.base_kernel
    assert isinstance(base, MaternKernel) and base.nu == 2.5
    assert base.lengthscale.shape[-1] == 3  # ARD
    priors = {name: prior for name, _, prior, _, _ in model.named_priors()}
    assert any(isinstance(p, BoundedLengthscalePrior) for p in priors.values())
    outputscale_prior = model.covar_module.outputscale_prior
    assert isinstance(outputscale_prior, GammaPrior)
    assert float(outputscale_prior.concentration) == 2.0 and float(outputscale_prior.rate) == 1.0
    # The MAP fit starts from an output scale and lengthscales of 1.
    assert float(model.covar_module.outputscale) == 1.0
    assert bool((base.lengthscale == 1.0).all())


def test_default_noise_floor_is_1e_9_with_gamma_prior():
    X, y = _data(10)
    likelihood = gp.build(X, y).likelihood
    assert likelihood.noise_covar.raw_noise_constraint.lower_bound.item() == pytest.approx(1e-9)
    prior = likelihood.noise_covar.noise_prior
    assert isinstance(prior, GammaPrior)
    assert (float(prior.concentration), float(prior.rate)) == (1.1, 30.0)


@pytest.mark.parametrize("noise", ["low", "botorch"])
def test_noise_floor_replaces_the_noise_models_floor_and_keeps_its_prior(noise):
    X, y = _data(10)
    own = gp.build(X, y, options=ModelOptions(noise=noise)).likelihood
    low = gp.build(X, y, options=ModelOptions(noise=noise, noise_floor=1e-7)).likelihood
    assert low.noise_covar.raw_noise_constraint.lower_bound.item() == pytest.approx(1e-7)
    assert own.noise_covar.raw_noise_constraint.lower_bound.item() == pytest.approx(
        1e-9 if noise == "low" else 1e-4
    )
    assert type(low.noise_covar.noise_prior) is type(own.noise_covar.noise_prior)
    assert float(low.noise.detach()) == pytest.approx(float(own.noise.detach()))  # same start


def test_a_lower_noise_floor_resolves_a_noiseless_minimum_more_finely():
    """On noiseless data whose values near the optimum are tiny against their spread (a
    sphere observed far out and close in), the fitted noise sits at the floor; with the
    old floor of 1e-6 the posterior mean misses the close-in values by a fifth of their
    range, with the default 1e-9 it follows them."""
    g = torch.Generator().manual_seed(0)
    far = torch.rand(30, 2, generator=g, dtype=torch.float64)
    near = 0.5 + 1e-2 * (torch.rand(10, 2, generator=g, dtype=torch.float64) - 0.5)
    X = torch.cat([far, near])
    y = gp.standardize(-((X - 0.5) ** 2).sum(-1) * 100)
    span = float(y[30:].max() - y[30:].min())
    errors = {}
    for floor in (1e-6, None):
        model = gp.fit(X, y, options=ModelOptions(noise_floor=floor))
        noise = float(model.likelihood.noise.detach())
        assert noise == pytest.approx(1e-9 if floor is None else 1e-6, rel=0.01)
        with torch.no_grad():
            mean = model.posterior(X[30:]).mean.reshape(-1)
        errors[floor] = float((mean - y[30:]).abs().max()) / span
    assert errors[1e-6] > 0.1
    assert errors[None] < 0.01


def test_default_output_transform_is_yeo_johnson_and_the_optimizer_uses_it():
    assert ModelOptions().output_warp == "yeo-johnson"
    assert ModelOptions.botorch().output_warp == "none"
    # A heavy tail of bad values (losses up to 1e4, most near 1) is pulled in: the
    # transformed outputs are far less skewed than the plain standardised ones.
    g = torch.Generator().manual_seed(0)
    loss = torch.exp(3 * torch.rand(40, generator=g, dtype=torch.float64) ** 2) ** 3
    plain = gp.transform_outputs(-loss, "none")
    warped = gp.transform_outputs(-loss, "yeo-johnson")

    def skew(v):
        return float(((v - v.mean()) ** 3).mean() / v.std() ** 3)

    assert abs(skew(warped)) < 0.5 * abs(skew(plain))
    assert torch.equal(torch.argsort(warped), torch.argsort(plain))  # order kept
    import bayesopt as bo

    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0, n_initial=3)
    for t in opt.ask(3):
        opt.tell(t, float(torch.exp(torch.tensor(9 * t.params["x"]))))
    y = opt.model_data().y
    losses = torch.tensor([-t.value for t in opt.trials], dtype=torch.float64)
    assert torch.allclose(y, gp.transform_outputs(losses, "yeo-johnson"))


def test_botorch_options_reproduce_botorch_defaults():
    X, y = _data(10)
    model = gp.build(X, y, options=ModelOptions.botorch())
    assert isinstance(model.covar_module, RBFKernel)  # no output scale
    floor = model.likelihood.noise_covar.raw_noise_constraint.lower_bound.item()
    assert floor == pytest.approx(1e-4)


def test_bounded_prior_peaks_at_one_and_penalises_extremes():
    prior = BoundedLengthscalePrior()
    values = prior.log_prob(torch.tensor([0.1, 0.2, 1.0, 5.0, 10.0], dtype=torch.float64))
    assert int(torch.argmax(values)) == 2
    assert float(values[2] - values[1]) == pytest.approx(2.5 - 0.2 + 0.004, abs=0.01)
    assert float(values[1]) == pytest.approx(float(values[3]))  # symmetric in log l


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("kernel", "linear", ValueError),
        ("lengthscale_prior", "flat", ValueError),
        ("noise", "none", ValueError),
        ("output_warp", "log", ValueError),
        ("outputscale", 1, TypeError),
        ("fit_points", 4, ValueError),
        ("max_exact", 2.5, TypeError),
        ("structure", "pairwise", ValueError),
        ("noise_floor", 0.0, ValueError),
        ("noise_floor", 0.1, ValueError),
        ("noise_floor", "1e-9", TypeError),
        ("noise_floor", True, TypeError),
    ],
)
def test_model_options_are_validated(field, value, error):
    with pytest.raises(error, match=f"`{field}"):
        ModelOptions(**{field: value})


@pytest.mark.parametrize("options", [ModelOptions(), ModelOptions.botorch()])
def test_map_fit_objective_is_gpytorchs_and_reaches_its_optimum(options):
    """The lean objective equals ExactMarginalLogLikelihood (plus priors) at any parameters,
    and the log-space fit ends at least as high as BoTorch's own scipy fit."""
    X, y = _data(40, seed=1)
    ours = gp.build(X, y, options=options)
    value = gp.map_fit(ours)
    ours.train()
    exact_mll = ExactMarginalLogLikelihood(ours.likelihood, ours)
    with gp.exact(), torch.no_grad():
        reference = -float(exact_mll(ours(*ours.train_inputs), ours.train_targets))
    assert mll.neg_log_posterior(ours)[0] == pytest.approx(reference, abs=1e-8)
    assert value == pytest.approx(reference, abs=1e-8)

    theirs = gp.build(X, y, options=options)
    exact_mll = ExactMarginalLogLikelihood(theirs.likelihood, theirs)
    exact_mll.train()
    with gp.exact():
        result = fit_gpytorch_mll_scipy(exact_mll, options={"maxiter": 500})
    assert value <= float(result.fval) + 1e-6


def test_fit_on_a_subset_conditions_on_all_points():
    X, y = _data(60, seed=2)
    options = ModelOptions(fit_points=24)
    model = gp.fit(X, y, seed=5, options=options)
    assert model.train_inputs[0].shape == (60, 3)
    idx = fitting._fit_subset(y, 24, 5)
    assert len(idx) == 24 and len(set(idx.tolist())) == 24
    assert set(torch.argsort(y, descending=True)[:12].tolist()) <= set(idx.tolist())
    sub = gp.build(X[idx], y[idx], options=options)
    gp.map_fit(sub, maxiter=options.fit_maxiter)
    assert torch.allclose(
        model.covar_module.base_kernel.lengthscale, sub.covar_module.base_kernel.lengthscale
    )
    # Same seed, same subset, same model; the posterior interpolates all 60 points.
    again = gp.fit(X, y, seed=5, options=options)
    with torch.no_grad():
        mean = model.posterior(X).mean.squeeze(-1)
        assert torch.equal(mean, again.posterior(X).mean.squeeze(-1))
    assert float((mean - y).abs().max()) < 0.05


def test_noise_detection_on_noiseless_and_noisy_data():
    """The documented rule: noiseless data fit below NOISELESS_FRACTION, noisy above
    NOISY_FRACTION (so qLogNEI and re-evaluation switch on only for real noise)."""
    X, y = _data(40, seed=3)
    clean = gp.noise_fraction(gp.fit(X, y))
    X, y = _data(40, seed=3, noise=0.3)
    noisy = gp.noise_fraction(gp.fit(X, y))
    assert clean < acquisition.NOISELESS_FRACTION
    assert noisy > optimizer.NOISY_FRACTION


@pytest.mark.parametrize("warp", gp.OUTPUT_WARPS)
def test_output_transforms_keep_order_and_standardise(warp):
    y = torch.tensor([1.0, 2.0, 3.0, 1000.0, -5.0, 1e6], dtype=torch.float64)
    z = gp.transform_outputs(y, warp)
    assert torch.equal(torch.argsort(z), torch.argsort(y))
    assert float(z.mean()) == pytest.approx(0.0, abs=1e-9)
    assert float(z.std()) == pytest.approx(1.0)
    if warp != "none":  # heavy tail compressed: the outlier is less extreme
        assert float(z.max()) < float(gp.standardize(y).max())


def test_copula_transform_is_normal_quantiles_of_ranks_with_ties_shared():
    from scipy.stats import norm

    y = torch.tensor([3.0, -1e9, 3.0, 7.0, 1e12], dtype=torch.float64)
    z = gp.transform_outputs(y, "copula")
    u = torch.as_tensor(norm.ppf((np.array([2.5, 1.0, 2.5, 4.0, 5.0]) - 0.5) / 5))
    assert torch.allclose(z, (u - u.mean()) / u.std())  # only the order matters
    assert float(z[0]) == float(z[2])


def test_warped_model_fits_and_predicts():
    X, y = _data(20, seed=4)
    model = gp.fit(X, y, options=ModelOptions(warp=True))
    with torch.no_grad():
        mean = model.posterior(X).mean.squeeze(-1)
    assert torch.isfinite(mean).all() and float((mean - y).abs().max()) < 0.2


def test_lengthscales_map_to_coordinates():
    X, y = _data(20, seed=5)
    X[:, 1] = (X[:, 1] * 3).floor() / 3 + 1 / 6
    model = gp.fit(X, y, cat_dims=[1])
    ls = gp.lengthscales(model, 3, [1])
    assert ls[1] == 1.0
    base = model.covar_module.base_kernel.kernels[0]
    assert torch.allclose(ls[[0, 2]], base.lengthscale.detach().reshape(-1))
    assert all(math.isfinite(v) and v > 0 for v in ls.tolist())


def test_zero_mean_option_has_no_mean_parameter_and_keeps_the_fast_objective():
    from gpytorch.means import ZeroMean

    X, y = _data(30, seed=6)
    model = gp.build(X, y, options=ModelOptions(mean="zero"))
    assert isinstance(model.mean_module, ZeroMean)
    assert not any("mean_module" in name for name, _ in model.named_parameters())
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    model.train()
    value, grads = mll.objective(model, params)
    ref_value, ref = mll.neg_log_posterior(model)
    ref_grads = torch.autograd.grad(ref, list(params.values()), allow_unused=True)
    assert value == pytest.approx(ref_value, abs=1e-10)
    for name, r in zip(params, ref_grads, strict=True):
        assert torch.allclose(grads[name], r, atol=1e-9)
    with pytest.raises(ValueError, match="`mean` must be one of"):
        ModelOptions(mean="linear")


def test_warped_fit_keeps_concentrations_positive_on_a_hard_function():
    """Regression: an extra Interval constraint on the Kumaraswamy concentrations let them
    go negative in the fit (NaN inputs, a failed Cholesky and a fallback every ask)."""
    from botorch.test_functions import Hartmann

    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 6, generator=g, dtype=torch.float64)
    y = gp.standardize(-Hartmann(dim=6)(X))
    model = gp.fit(X, y, options=ModelOptions(warp=True))
    for name in ("concentration0", "concentration1"):
        assert bool((getattr(model.input_transform, name) > 0).all())


@pytest.mark.parametrize(
    ("options", "closed"),
    [
        (ModelOptions(), True),
        (ModelOptions(kernel="rbf", outputscale=False), True),
        (ModelOptions.botorch(), False),  # LogNormal priors: autograd
    ],
)
def test_closed_form_objective_and_prior_gradients_equal_autograd(options, closed):
    X, y = _data(30, seed=8)
    model = gp.build(X, y, options=options)
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    assert (priors.closed_form_log_prior(model, params) is not None) is closed
    model.train()
    for step in range(2):  # at the initial values and after moving every parameter
        value, grads = mll.objective(model, params)
        ref_value, ref = mll.neg_log_posterior(model)
        ref_grads = torch.autograd.grad(ref, list(params.values()), allow_unused=True)
        assert value == pytest.approx(ref_value, abs=1e-10)
        for name, r in zip(params, ref_grads, strict=True):
            g = grads[name]
            assert (g is None) == (r is None) or float(g.abs().max()) == 0.0
            if r is not None:
                assert torch.allclose(g, r, atol=1e-9)
        with torch.no_grad():
            for p in params.values():
                p.mul_(1.3).add_(0.01 * step)


@pytest.mark.parametrize("warp", ["none", "bilog", "yeo-johnson", "copula"])
def test_output_transform_inverse_round_trips_and_is_monotone(warp):
    g = torch.Generator().manual_seed(1)
    y = -(torch.exp(3 * torch.rand(40, generator=g, dtype=torch.float64)) ** 3)
    values, inverse = gp.fit_output_transform(y, warp)
    assert torch.equal(values, gp.transform_outputs(y, warp))
    back = inverse(values.numpy())
    assert np.allclose(back, y.numpy(), rtol=1e-10, atol=1e-10 * float(y.abs().max()))
    grid = np.linspace(float(values.min()) - 1, float(values.max()) + 1, 200)
    assert np.all(np.diff(inverse(grid)) > 0)  # monotone, also beyond the data
    with pytest.raises(ValueError, match="`warp` must be one of"):
        gp.fit_output_transform(y, "log")


def test_closed_form_prior_gradient_is_keyed_by_parameter_name():
    X, y = _data(10)
    model = gp.build(X, y)
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    _, grads = priors.closed_form_log_prior(model, params)
    assert set(grads) == {
        "likelihood.noise_covar.raw_noise",
        "covar_module.raw_outputscale",
        "covar_module.base_kernel.raw_lengthscale",
    }
    for name, grad in grads.items():
        assert grad.shape == params[name].shape


def test_written_out_log_prior_equals_the_priors_own_log_prob():
    X, y = _data(10)
    model = gp.build(X, y)
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    with torch.no_grad():
        for p in params.values():
            p.mul_(1.7)  # away from the initial values
        expected = sum(
            float(prior.log_prob(closure(module)).sum())
            for _, module, prior, closure, _ in model.named_priors()
        )
    total, _ = priors.closed_form_log_prior(model, params)
    assert float(total) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    value, _ = priors.prior_function(priors.closed_form_prior_terms(model, params))()
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kind", ["matern52", "rbf"])
def test_base_and_slope_equal_the_separate_functions(kind):
    model = gp.build(*_data(8), options=ModelOptions(kernel=kind))
    fast = gp.stationary(model.covar_module)
    r2 = torch.tensor([[0.0, 1e-40, 0.3], [2.0, 7.5, 40.0]], dtype=torch.float64)
    base, slope = fast.base_and_slope(r2)
    assert torch.allclose(base, fast.base_of_r2(r2), rtol=1e-15, atol=0)
    assert torch.allclose(slope, fast.slope_of_r2(r2), rtol=1e-15, atol=0)


def test_neg_log_likelihood_is_the_gaussian_log_density():
    g = torch.Generator().manual_seed(9)
    A = torch.rand(6, 6, generator=g, dtype=torch.float64)
    K = A @ A.T + 0.5 * torch.eye(6, dtype=torch.float64)
    r = torch.randn(6, 1, generator=g, dtype=torch.float64)
    value, alpha, W = mll.neg_log_likelihood(lambda: K.clone(), r)
    normal = torch.distributions.MultivariateNormal(torch.zeros(6, dtype=torch.float64), K)
    assert value == pytest.approx(-float(normal.log_prob(r.squeeze(-1))), abs=1e-12)
    assert torch.allclose(alpha, torch.linalg.solve(K, r), atol=1e-12)
    assert torch.allclose(W, torch.linalg.inv(K) - alpha @ alpha.T, atol=1e-10)


def test_cholesky_adds_jitter_only_when_needed():
    X = torch.rand(5, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    K = torch.exp(-(torch.cdist(X, X) ** 2))
    L = gp.cholesky(lambda: K.clone())
    assert torch.equal(L, torch.linalg.cholesky(K))  # the same factor, bit for bit
    singular = torch.ones(4, 4, dtype=torch.float64)  # rank one: needs jitter
    L = gp.cholesky(lambda: singular.clone())
    assert torch.isfinite(L).all() and torch.allclose(L @ L.T, singular, atol=1e-3)
    with pytest.raises(torch.linalg.LinAlgError, match="even with jitter"):
        gp.cholesky(lambda: -torch.eye(3, dtype=torch.float64))


@pytest.mark.parametrize("structure", ["ard", "additive", "rotated"])
def test_cached_posterior_equals_botorchs_posterior(structure):
    X, y = _data(25, seed=10)
    model = gp.fit(X, y, options=ModelOptions(structure=structure))
    post = gp.CachedPosterior.from_model(model)
    # The closed forms are for one stationary kernel; a sum goes through GPyTorch.
    assert post.has_gradient == (structure == "ard")
    T = torch.rand(7, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        mean, sigma = post.mean_and_sigma(T)
        ref = model.posterior(T)
    assert torch.allclose(mean, ref.mean.squeeze(-1), atol=1e-8)
    assert torch.allclose(sigma, ref.variance.sqrt().squeeze(-1), atol=1e-8)
    if not post.has_gradient:
        return
    values, grads = gp.log_ei_and_gradient(post, T, 0.5)
    assert torch.equal(values, gp.log_ei(post, T, 0.5))
    assert grads.shape == T.shape and torch.isfinite(grads).all()


@pytest.mark.parametrize("kind", ["normal", "lognormal", "negative", "cauchy", "ties", "zeros"])
def test_yeo_johnson_lambda_and_transform_are_scipys_bit_for_bit(kind):
    import scipy.stats

    from bayesopt.gp import transforms

    rng = np.random.default_rng(3)
    draws = {
        "normal": lambda n: rng.normal(size=n),
        "lognormal": lambda n: rng.lognormal(0.0, 2.0, n),
        "negative": lambda n: -rng.lognormal(0.0, 3.0, n),
        "cauchy": lambda n: rng.standard_cauchy(n),
        "ties": lambda n: np.round(rng.normal(size=n), 1),
        "zeros": lambda n: rng.exponential(size=n) * (rng.random(n) > 0.5),
    }
    for n in (3, 7, 40, 150):
        x = draws[kind](n)
        z = gp.standardize(torch.as_tensor(x)).numpy()
        with np.errstate(all="ignore"):
            expected, lam = scipy.stats.yeojohnson(z)
            got = transforms.yeo_johnson_lambda(z)
            assert got == lam
            assert np.array_equal(transforms._yeo_johnson(z, got), expected)
    assert transforms.yeo_johnson_lambda(np.zeros(5)) == 1.0


def test_objective_function_follows_parameters_changed_in_place():
    X, y = _data(30, seed=8)
    model = gp.build(X, y)
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    model.train()
    evaluate = mll.objective_function(model, params)
    for step in range(3):
        value, grads = evaluate()
        ref_value, ref_grads = mll.objective(model, params)
        assert value == ref_value
        assert all(torch.equal(grads[k], ref_grads[k]) for k in params)
        with torch.no_grad():
            for p in params.values():
                p.mul_(1.2).add_(0.01 * step)


def test_fit_restarts_keep_the_best_map_fit(monkeypatch):
    from bayesopt.gp import fitting

    fits = []
    original = fitting.map_fit

    def recorded(model, **kwargs):
        start = model.covar_module.base_kernel.lengthscale.detach().clone()
        loss = original(model, **kwargs)
        fits.append((loss, start, model.covar_module.base_kernel.lengthscale.detach().clone()))
        return loss

    monkeypatch.setattr(fitting, "map_fit", recorded)
    X, y = _data(20, seed=7)
    model = gp.fit(X, y, options=gp.ModelOptions(fit_restarts=3))
    assert len(fits) == 3
    assert [float(s.reshape(-1)[0]) for _, s, _ in fits[1:]] == pytest.approx([0.2, 3.0])
    best = min(fits, key=lambda f: f[0])
    assert torch.equal(model.covar_module.base_kernel.lengthscale.detach(), best[2])
    with pytest.raises(ValueError, match="fit_restarts <= 6"):
        gp.ModelOptions(fit_restarts=7)
    with pytest.raises(ValueError, match="fit_restarts >= 1"):
        gp.ModelOptions(fit_restarts=0)


def _separable(n: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    return X, torch.sin(6 * X).sum(-1)


def test_additive_kernel_is_a_sum_of_one_dimensional_scaled_terms():
    X, y = _separable(12, 3, seed=0)
    model = gp.build(X, gp.standardize(y), options=ModelOptions(structure="additive"))
    terms = model.covar_module.kernels
    assert len(terms) == 3 and all(isinstance(t, ScaleKernel) for t in terms)
    assert [t.base_kernel.active_dims.tolist() for t in terms] == [[0], [1], [2]]
    with torch.no_grad():
        K = model.covar_module(X).to_dense()
        by_hand = sum(t.outputscale * t.base_kernel(X, X).to_dense() for t in terms)
    assert torch.allclose(K, by_hand, atol=1e-12)
    # The terms start at 1 / 3 each: the sum starts where the single scale does, at 1.
    assert sum(float(t.outputscale) for t in terms) == pytest.approx(1.0)
    # The closed-form fast paths are for one stationary kernel only.
    assert gp.stationary(model.covar_module) is None


def test_ard_plus_additive_keeps_the_ard_term_first_and_its_lengthscales():
    X, y = _separable(15, 3, seed=1)
    model = gp.fit(X, gp.standardize(y), options=ModelOptions(structure="ard+additive"))
    ard = model.covar_module.kernels[0].base_kernel
    assert len(model.covar_module.kernels) == 4 and ard.lengthscale.shape == (1, 3)
    assert torch.equal(gp.lengthscales(model, 3), ard.lengthscale.detach().reshape(-1))


def test_additive_lengthscales_map_to_coordinates_around_a_categorical():
    X, y = _data(20, seed=5)
    X[:, 1] = (X[:, 1] * 3).floor() / 3 + 1 / 6
    model = gp.fit(X, y, cat_dims=[1], options=ModelOptions(structure="additive"))
    ls = gp.lengthscales(model, 3, [1])
    terms = model.covar_module.kernels[0].kernels  # (sum of 1-D terms) x categorical
    assert ls[1] == 1.0
    assert ls[0] == terms[0].base_kernel.lengthscale.item()
    assert ls[2] == terms[1].base_kernel.lengthscale.item()


@pytest.mark.parametrize("structure", ["additive", "ard+additive"])
def test_summed_kernels_predict_held_out_separable_values_better_than_ard(structure):
    # Eight dimensions, 50 points: too few for one ARD kernel to see that the function is
    # a sum of one-dimensional bumps; the additive terms learn each from all 50 points.
    X, y = _separable(50, 8, seed=2)
    T, truth = _separable(200, 8, seed=3)
    mu, sd = float(y.mean()), float(y.std())
    errors = {}
    for s in ("ard", structure):
        model = gp.fit(X, (y - mu) / sd, options=ModelOptions(structure=s))
        with torch.no_grad():
            pred = model.posterior(T).mean.reshape(-1) * sd + mu
        errors[s] = float(((pred - truth) ** 2).mean().sqrt())
    assert errors[structure] < 0.25 * errors["ard"], errors


@pytest.mark.parametrize("structure", ["additive", "ard+additive"])
def test_noise_fraction_adds_up_the_scales_of_a_sum(structure):
    X, y = _separable(40, 2, seed=4)
    clean = gp.fit(X, gp.standardize(y), options=ModelOptions(structure=structure))
    assert gp.noise_fraction(clean) < 0.01
    noisy_y = y + 2.0 * torch.randn(40, generator=torch.Generator().manual_seed(5)).double()
    noisy = gp.fit(X, gp.standardize(noisy_y), options=ModelOptions(structure=structure))
    signal = sum(float(t.outputscale) for t in noisy.covar_module.kernels)
    noise = float(noisy.likelihood.noise)
    assert gp.noise_fraction(noisy) == pytest.approx(noise / (signal + noise))
    assert gp.noise_fraction(noisy) > 0.2


def _rotated_valley(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A narrow valley along the diagonal of the unit square (condition number 100)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    along, across = (X[:, 0] + X[:, 1] - 1) / 2**0.5, (X[:, 0] - X[:, 1]) / 2**0.5
    return X, -(along**2) - 100 * across**2


def test_rotated_kernel_starts_at_ard_and_learns_a_diagonal_valley():
    X, y = _rotated_valley(30, seed=0)
    options = ModelOptions(structure="rotated")
    built = gp.build(X, gp.standardize(y), options=options)
    ard = gp.build(X, gp.standardize(y))
    with torch.no_grad():  # the map starts at the identity: the default kernel's values
        assert torch.allclose(built.covar_module(X).to_dense(), ard.covar_module(X).to_dense())
    model = gp.fit(X, gp.standardize(y), options=options)
    kernel = model.covar_module.base_kernel
    assert isinstance(kernel, gp.LinearMapKernel)
    shear = float(kernel.raw_shear.detach())
    # A = [[1, 0], [s, 1]]: with s near -1 the second combined coordinate is x1 - x0,
    # across the valley, and gets the short lengthscale.
    assert shear < -0.5
    ls = gp.lengthscales(model, 2)
    assert float(ls.max() / ls.min()) > 2.0  # one long axis (along) and one short
    T, truth = _rotated_valley(200, seed=1)
    errors = {}
    for s in ("ard", "rotated"):
        fitted = model if s == "rotated" else gp.fit(X, gp.standardize(y))
        with torch.no_grad():
            pred = fitted.posterior(T).mean.reshape(-1)
        errors[s] = float(1 - torch.corrcoef(torch.stack([pred, truth]))[0, 1])
    assert errors["rotated"] < errors["ard"], errors


def test_rotated_kernel_stays_axis_aligned_on_a_separable_function():
    X, y = _separable(30, 2, seed=6)
    model = gp.fit(X, gp.standardize(y), options=ModelOptions(structure="rotated"))
    assert abs(float(model.covar_module.base_kernel.raw_shear.detach())) < 0.3


def test_rotated_structure_of_one_coordinate_is_the_ard_kernel():
    X, y = _data(12, seed=7)
    X[:, 1:] = (X[:, 1:] * 3).floor() / 3 + 1 / 6
    model = gp.build(X, y, cat_dims=[1, 2], options=ModelOptions(structure="rotated"))
    assert not any(isinstance(m, gp.LinearMapKernel) for m in model.modules())


@pytest.mark.parametrize("fit_points", [512, 16])
def test_auto_structure_keeps_the_rotation_only_where_it_pays(fit_points):
    options = ModelOptions(structure="auto", fit_points=fit_points)
    X, y = _rotated_valley(30, seed=0)
    valley = gp.fit(X, gp.standardize(y), options=options)
    assert isinstance(valley.covar_module.base_kernel, gp.LinearMapKernel)
    assert len(valley.train_targets) == 30  # conditioned on every point, also after a subset fit
    X, y = _separable(30, 2, seed=6)
    separable = gp.fit(X, gp.standardize(y), options=options)
    assert isinstance(separable.covar_module.base_kernel, MaternKernel)
    ard = gp.fit(X, gp.standardize(y), options=ModelOptions(fit_points=fit_points))
    assert torch.equal(separable.covar_module.base_kernel.lengthscale,
                       ard.covar_module.base_kernel.lengthscale)  # fmt: skip
