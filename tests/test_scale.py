"""Fast paths for large n and other devices, each checked against the slow exact path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from botorch.optim.utils import get_parameters_and_bounds

import bayesopt as bo
from bayesopt import _device, acquisition, gp
from bayesopt.gp import ModelOptions, mll


def _data(n: int, d: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    return X, gp.standardize(torch.sin(4 * X).sum(1) + X[:, 0] ** 2)


def test_resolve_device():
    assert _device.resolve_device(None) == torch.device("cpu")
    assert _device.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert _device.resolve_device("auto").type == expected
    with pytest.raises(TypeError, match="`device` must be"):
        _device.resolve_device(3)
    with pytest.raises(ValueError, match="`device`"):
        _device.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs a CUDA GPU"):
            bo.Optimizer(bo.Space({"x": bo.Real(0, 1)}), device="cuda")


def test_cpu_device_gives_the_same_asks_as_the_default(branin_space, branin):
    def run(**kw):
        opt = bo.Optimizer(branin_space, seed=4, **kw)
        for _ in range(8):
            t = opt.ask()
            opt.tell(t, branin(t.params))
        return [t.params for t in opt.trials]

    assert run() == run(device="cpu") == run(device=torch.device("cpu"))


@pytest.mark.parametrize("options", [ModelOptions(), ModelOptions.botorch()])
def test_stationary_kernel_matrix_equals_gpytorchs(options):
    X, y = _data(30)
    model = gp.build(X, y, options=options)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.7)
    fast = gp.stationary(model.covar_module)
    assert fast is not None
    Z = torch.rand(7, 4, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(fast.matrix(Z, X), model.covar_module(Z, X).to_dense(), atol=1e-12)
        full = model.covar_module(X).to_dense()
        assert torch.allclose(gp.kernel_matrix(model.covar_module, X), full, atol=1e-12)
        assert torch.allclose(gp.kernel_matrix(model.covar_module, X, block=7), full, atol=1e-12)


def test_categorical_kernels_take_the_generic_path():
    X, y = _data(20)
    X[:, 3] = (X[:, 3] * 3).floor() / 3 + 1 / 6
    model = gp.build(X, y, cat_dims=[3])
    assert gp.stationary(model.covar_module) is None
    with torch.no_grad():
        blocked = gp.kernel_matrix(model.covar_module, X, block=6)
        assert torch.allclose(blocked, model.covar_module(X).to_dense(), atol=1e-12)


@pytest.mark.parametrize("options", [ModelOptions(), ModelOptions.botorch()])
def test_closed_form_gradient_equals_autograd(options):
    X, y = _data(40)
    model = gp.build(X, y, options=options)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.3)
    model.train()
    params = get_parameters_and_bounds(model, requires_grad=True)[0]
    value, grads = mll.objective(model, params)
    ref_value, ref_proxy = mll.neg_log_posterior(model)
    ref_grads = torch.autograd.grad(ref_proxy, list(params.values()), allow_unused=True)
    assert value == pytest.approx(ref_value, abs=1e-10)
    for name, r in zip(params, ref_grads, strict=True):
        assert torch.allclose(grads[name], r, atol=1e-9, rtol=1e-7)


def test_kernel_cholesky_equals_the_plain_factor_and_survives_duplicates():
    X, y = _data(50)
    model = gp.fit(X, y)
    with torch.no_grad():
        K = model.covar_module(X).to_dense() + model.likelihood.noise * torch.eye(50)
        L = gp.kernel_cholesky(model.covar_module, X, float(model.likelihood.noise))
    assert torch.allclose(L, torch.linalg.cholesky(K), atol=1e-10)
    # Exact duplicates with a tiny noise are singular: jitter makes them factorisable.
    X2 = torch.cat([X, X])
    L2 = gp.kernel_cholesky(model.covar_module, X2, 0.0)
    assert torch.isfinite(L2).all() and L2.shape == (100, 100)


def test_cached_posterior_mean_at_training_points_is_the_gp_mean():
    X, y = _data(60)
    model = gp.fit(X, y)
    cached = acquisition.CachedLogEI(model, 0.0)
    with torch.no_grad():
        expected = model.posterior(X).mean.squeeze(-1)
        assert torch.allclose(cached.mean_at_training_points(), expected, atol=1e-7)
        mean, sigma = cached.mean_and_sigma(X[:5] + 0.01)
        post = model.posterior(X[:5] + 0.01)
        assert torch.allclose(mean, post.mean.squeeze(-1), atol=1e-8)
        assert torch.allclose(sigma, post.variance.sqrt().squeeze(-1), atol=1e-8)


def test_subset_fit_and_exact_conditioning_beyond_fit_points():
    """Above fit_points the posterior still interpolates every observation."""
    X, y = _data(300, d=3)
    model = gp.fit(X, y, options=ModelOptions(fit_points=64))
    assert model.train_inputs[0].shape[0] == 300
    with torch.no_grad():
        assert float((model.posterior(X).mean.squeeze(-1) - y).abs().max()) < 0.05


def test_ask_memory_stays_within_three_kernel_matrices():
    """Peak memory of one ask at n = 4000 (d = 6), in a fresh process: at most about three
    times the n x n float64 kernel matrix (128 MB), beyond what loading the data used."""
    code = textwrap.dedent(
        """
        import json, resource, torch, warnings
        warnings.simplefilter("ignore")
        torch.set_num_threads(1)
        import bayesopt as bo
        space = bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(6)})
        opt = bo.Optimizer(space, seed=0)
        g = torch.Generator().manual_seed(0)
        for row in torch.rand(4000, 6, generator=g, dtype=torch.float64).tolist():
            opt.add(dict(zip(space.names, row)), sum((v - 0.5) ** 2 for v in row))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        opt.ask()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"growth": after - before}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    growth = json.loads(out.stdout.strip().splitlines()[-1])["growth"]
    assert growth <= 3 * 8 * 4000**2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_asks_match_cpu_asks(branin_space, branin):
    def run(device):
        opt = bo.Optimizer(branin_space, seed=5, device=device)
        for _ in range(10):
            t = opt.ask()
            opt.tell(t, branin(t.params))
        return torch.tensor([[t.params["x0"], t.params["x1"]] for t in opt.trials])

    cpu, gpu = run("cpu"), run("cuda")
    assert torch.equal(cpu[:5], gpu[:5])  # the Sobol design
    assert torch.allclose(cpu, gpu, atol=1e-3)  # the model's asks, up to float rounding


def test_device_is_not_part_of_a_stored_study(tmp_path, branin_space, branin):
    path = tmp_path / "study.jsonl"
    opt = bo.Optimizer(branin_space, seed=1, storage=path, device="cpu")
    t = opt.ask()
    opt.tell(t, branin(t.params))
    resumed = bo.Optimizer(branin_space, seed=1, storage=path, device="auto")
    assert [x.params for x in resumed.trials] == [t.params]
    assert bo.load(path).device == torch.device("cpu")
