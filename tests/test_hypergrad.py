"""Tests of bayesopt.hypergrad: exact hypergradients, checkpointing, memory, meta-optimiser."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest
import torch

from bayesopt.hypergrad import (
    FIELDS,
    HypergradientDescent,
    Hyperparameters,
    TrainingProblem,
    block_index,
    hypergradient,
    sgd_hd,
)
from bayesopt.trial import TrialState

F64 = torch.float64


def _data(n: int, d: int, k: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    W = torch.randn(d, k, generator=gen, dtype=F64)
    y = (X @ W + 0.5 * torch.randn(n, k, generator=gen, dtype=F64)).argmax(1)
    return X, y


def _tiny_mlp(**kw) -> TrainingProblem:
    """4-5-3 tanh MLP, 30 training points, minibatches of 6, two layer groups."""
    X, y = _data(42, 4, 3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    opts = dict(n_steps=15, batch_size=6, groups="layer", init_seed=1, seed=3)
    opts.update(kw)
    return TrainingProblem(model, (X[:30], y[:30]), (X[30:], y[30:]), **opts)


def _tiny_logreg(**kw) -> TrainingProblem:
    """Full-batch multinomial logistic regression with per-tensor groups."""
    X, y = _data(40, 3, 4, seed=1)
    opts = dict(n_steps=12, batch_size=None, groups="tensor", init_seed=2)
    opts.update(kw)
    return TrainingProblem(torch.nn.Linear(3, 4), (X[:25], y[:25]), (X[25:], y[25:]), **opts)


def _schedule_hypers() -> Hyperparameters:
    """Every kind of hyperparameter, per block and per group (2 groups)."""
    return Hyperparameters.create(
        lr=[[0.5, 0.3], [0.8, 0.2], [0.4, 0.6]],
        momentum=[[0.5, 0.7], [0.9, 0.3]],
        weight_decay=[1e-2, 3e-2],
        init_scale=[0.9, 1.3],
    )


def _logreg_hypers() -> Hyperparameters:
    """Per-step learning rates (B = T = 12), per-tensor momentum, global decay and scale."""
    lr = torch.linspace(0.3, 0.9, 12, dtype=F64)
    return Hyperparameters.create(lr=lr, momentum=[[0.6, 0.8]], weight_decay=0.05, init_scale=1.5)


CASES = {
    "mlp-schedules": (_tiny_mlp, _schedule_hypers),
    "logreg-per-step": (_tiny_logreg, _logreg_hypers),
}


def _central_differences(problem: TrainingProblem, hypers: Hyperparameters, name: str, h=1e-5):
    raw = hypers.raw[name]
    out = torch.zeros_like(raw)
    for i in range(raw.numel()):
        values = []
        for sign in (1, -1):
            r = raw.clone().reshape(-1)
            r[i] += sign * h
            values.append(problem.train(hypers.replace(**{name: r.reshape(raw.shape)})).value)
        out.reshape(-1)[i] = (values[0] - values[1]) / (2 * h)
    return out


# -- exactness ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("method", ["reverse", "unroll"])
def test_hypergradient_matches_central_differences(case, method):
    """Every raw hyperparameter (log lr, logit momentum, log decay, log scale), float64."""
    make_problem, make_hypers = CASES[case]
    problem, hypers = make_problem(), make_hypers()
    hg = hypergradient(problem, hypers, method=method)
    assert not hg.diverged and math.isfinite(hg.value)
    assert hg.value == problem.train(hypers).value
    for name in FIELDS:
        assert hg.grad[name].shape == hypers.raw[name].shape
        fd = _central_differences(problem, hypers, name)
        # FD truncation error is O(h^2) = 1e-10 relative; round-off 1e-16 / 1e-5 = 1e-11.
        scale = float(fd.abs().max())
        assert scale > 1e-6, f"{name}: degenerate test, gradient is ~0"
        torch.testing.assert_close(hg.grad[name], fd, rtol=1e-6, atol=1e-8 * scale)


@pytest.mark.parametrize("case", sorted(CASES))
def test_reverse_checkpointed_equals_stored_equals_unroll(case):
    make_problem, make_hypers = CASES[case]
    problem, hypers = make_problem(), make_hypers()
    unroll = hypergradient(problem, hypers, method="unroll")
    stored = hypergradient(problem, hypers, method="reverse", checkpoint_every=1)
    assert stored.peak_states == problem.n_steps
    for k in (None, 2, 4, 7, problem.n_steps, 10 * problem.n_steps):
        ckpt = hypergradient(problem, hypers, method="reverse", checkpoint_every=k)
        assert ckpt.value == stored.value == unroll.value
        # Recomputation from checkpoints replays the same float operations as the stored run.
        torch.testing.assert_close(ckpt.flat(), stored.flat(), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(stored.flat(), unroll.flat(), rtol=1e-9, atol=1e-12)


def test_batchnorm_model_in_train_mode_is_exact_and_keeps_its_buffers():
    X, y = _data(40, 4, 3)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(), torch.nn.Linear(6, 3)
    )
    problem = TrainingProblem(model, (X[:30], y[:30]), (X[30:], y[30:]), n_steps=6,
                              batch_size=10, init_seed=0)  # fmt: skip
    hypers = Hyperparameters.create(lr=0.3, momentum=0.5, weight_decay=0.01, init_scale=0.8)
    rev, unroll = hypergradient(problem, hypers), hypergradient(problem, hypers, method="unroll")
    torch.testing.assert_close(rev.flat(), unroll.flat(), rtol=1e-9, atol=1e-12)
    for name in ("lr", "init_scale"):
        fd = _central_differences(problem, hypers, name)
        torch.testing.assert_close(rev.grad[name], fd, rtol=1e-6, atol=1e-9)
    assert int(model[1].num_batches_tracked) == 0
    assert torch.equal(model[1].running_mean, torch.zeros(6))


def test_float32_problem_agrees_with_float64():
    hypers = _schedule_hypers()
    h64 = hypergradient(_tiny_mlp(), hypers)
    h32 = hypergradient(_tiny_mlp(dtype=torch.float32), hypers)
    assert h32.grad["lr"].dtype == F64  # raw hyperparameters keep their dtype
    torch.testing.assert_close(h32.flat().double(), h64.flat(), rtol=1e-3, atol=1e-5)


# -- memory ---------------------------------------------------------------------------------


def _mlp_problem(n_steps: int, dtype=F64) -> TrainingProblem:
    X, y = _data(600, 64, 10, seed=4)
    X, y = X.to(dtype), y
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(), torch.nn.Linear(128, 10))
    return TrainingProblem(
        model, (X[:500], y[:500]), (X[500:], y[500:]), n_steps=n_steps, batch_size=50,
        groups="layer", init_seed=0, dtype=dtype,
    )  # fmt: skip


def test_checkpointed_reverse_memory_is_far_below_unroll_at_T200_on_the_mlp():
    """64-128-10 MLP, T = 200: bytes held for the backward pass, counted."""
    T = 200
    problem = _mlp_problem(T)
    hypers = Hyperparameters.create(lr=0.5, momentum=0.9, weight_decay=1e-3)
    unroll = hypergradient(problem, hypers, method="unroll")
    stored = hypergradient(problem, hypers, method="reverse", checkpoint_every=1)
    ckpt = hypergradient(problem, hypers, method="reverse")
    k = math.ceil(math.sqrt(T))
    assert ckpt.checkpoint_every == k == 15
    # Checkpoints at 0, 15, ..., 195; reversing segment [180, 195) holds the 13 checkpoints
    # up to 180 plus the 14 states recomputed from it: O(sqrt T) states.
    assert ckpt.peak_states == 27 <= math.ceil(T / k) + k - 1
    state = 2 * problem.n_params * 8  # (w, v) in float64
    assert ckpt.stored_bytes == 27 * state
    assert stored.stored_bytes == T * state
    # Autograd keeps every step's weights, gradient, velocities, activations and minibatch:
    # more than twice the whole stored trajectory (75 MB against 4 MB checkpointed).
    assert unroll.stored_bytes > 2 * T * state
    assert ckpt.stored_bytes < unroll.stored_bytes / 15
    torch.testing.assert_close(ckpt.flat(), unroll.flat(), rtol=1e-9, atol=1e-12)


def test_memory_grows_linearly_for_unroll_and_like_sqrt_T_for_reverse():
    hypers = Hyperparameters.create(lr=0.5, momentum=0.9)
    small = {m: hypergradient(_mlp_problem(25), hypers, method=m) for m in ("unroll", "reverse")}
    large = {m: hypergradient(_mlp_problem(100), hypers, method=m) for m in ("unroll", "reverse")}
    assert 3.8 < large["unroll"].stored_bytes / small["unroll"].stored_bytes < 4.2
    assert 1.5 < large["reverse"].stored_bytes / small["reverse"].stored_bytes < 2.2


_RSS_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from test_hypergrad import _mlp_problem
    from bayesopt.hypergrad import Hyperparameters, hypergradient

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key))

    hypers = Hyperparameters.create(lr=0.5, momentum=0.9)
    hypergradient(_mlp_problem(5), hypers, method={method!r})  # warm up
    problem = _mlp_problem({T})
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = status("VmRSS:")
    hypergradient(problem, hypers, method={method!r})
    print(status("VmHWM:") - before)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_measured_peak_rss_of_reverse_is_below_unroll():
    """Real process memory: peak RSS growth during one call, MLP at T = 400, fresh processes."""
    tests = str(__import__("pathlib").Path(__file__).parent)
    growth = {}
    for method in ("unroll", "reverse"):
        script = _RSS_SCRIPT.format(tests=tests, method=method, T=400)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        if "clear_refs" in out.stderr:
            pytest.skip("cannot reset the peak RSS here")
        assert out.returncode == 0, out.stderr
        growth[method] = int(out.stdout.split()[-1])  # KiB
    assert growth["unroll"] > 100_000  # > 100 MiB: the graph of 400 steps (about 200 MiB)
    assert growth["reverse"] < growth["unroll"] / 10  # about 9 MiB


# -- divergence ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["reverse", "unroll"])
def test_divergence_is_reported_not_propagated(method):
    problem = _tiny_mlp()
    hypers = Hyperparameters.create(lr=1e4, momentum=0.5)
    hg = hypergradient(problem, hypers, method=method)
    assert hg.diverged and hg.grad is None and hg.value == math.inf
    assert hg.diverged_at is not None and hg.diverged_at < problem.n_steps
    assert "loss" in hg.reason
    assert not torch.isnan(hg.train_losses).any()
    with pytest.raises(ValueError, match="diverged"):
        hg.flat()
    result = problem.train(hypers)
    assert result.diverged and result.value == math.inf and result.weights is None
    assert sgd_hd(problem, hypers).diverged


def test_non_finite_validation_loss_and_hypergradient_are_divergence():
    X, y = _data(20, 3, 2)

    def nan_loss(out, target):
        return torch.nn.functional.cross_entropy(out, target) * float("nan")

    def kinked(out, target):  # finite value, infinite gradient: d sqrt(u)/du at u = 0
        return (out - out.detach()).abs().sqrt().sum() + 1.0

    for val_loss, reason in ((nan_loss, "validation loss"), (kinked, "hypergradient")):
        problem = TrainingProblem(
            torch.nn.Linear(3, 2), (X, y), (X, y), n_steps=3, val_loss=val_loss, init_seed=0
        )
        for method in ("reverse", "unroll"):
            hg = hypergradient(problem, Hyperparameters.create(), method=method)
            assert hg.diverged and hg.grad is None and reason in hg.reason


def test_meta_optimiser_backtracks_after_divergence_then_stops():
    problem = _tiny_mlp()
    # An aggressive meta step from a high rate pushes training over the edge.
    hd = HypergradientDescent(
        problem, Hyperparameters.create(lr=5.0, momentum=0.5), optimise=["lr"],
        meta_lr=4.0, clip_norm=None, max_divergences=2,
    )  # fmt: skip
    hd.run(40)
    failed = [t for t in hd.trials if t.state is TrialState.FAILED]
    assert failed, "expected at least one diverged meta-iteration"
    first = failed[0].id
    assert hd.history[first].diverged and hd.history[first].value == math.inf
    assert hd.history[first].meta_lr == pytest.approx(hd.history[first - 1].meta_lr * 0.5)
    # After a divergence the next point lies between the last good one and the failed one.
    lr_good = hd.trials[first - 1].params["lr"]
    lr_bad, lr_next = failed[0].params["lr"], hd.trials[first + 1].params["lr"]
    assert min(lr_good, lr_bad) < lr_next < max(lr_good, lr_bad)
    for t in hd.trials:
        assert (t.value is None) == (t.state is TrialState.FAILED)
        assert t.value is None or math.isfinite(t.value)
    if hd.stop_reason == "diverged":
        assert [s.diverged for s in hd.history[-2:]] == [True, True]

    start_diverged = HypergradientDescent(problem, Hyperparameters.create(lr=1e4))
    assert start_diverged.run(10) is None
    assert start_diverged.stop_reason == "diverged" and len(start_diverged.trials) == 1


# -- meta-optimiser -------------------------------------------------------------------------


def test_meta_optimiser_lowers_validation_loss_and_records_trials():
    problem = _tiny_mlp(n_steps=20)
    init = Hyperparameters.create(lr=[0.05] * 4, momentum=0.5, weight_decay=1e-3)
    hd = HypergradientDescent(
        problem, init, optimise=["lr", "momentum", "weight_decay"], meta_lr=0.2,
        bounds={"lr": (1e-3, 10.0), "momentum": (0.0, 0.95), "weight_decay": (1e-6, 1.0)},
    )  # fmt: skip
    best = hd.run(15)
    assert hd.stop_reason == "n_meta_steps" and len(hd.trials) == 15
    assert best.value < hd.trials[0].value - 0.05
    assert hd.best_hypers.to_params() == best.params
    assert [t.id for t in hd.trials] == list(range(15))
    assert all(t.source == "hypergrad" for t in hd.trials)
    json.dumps([t.params for t in hd.trials])  # JSON-friendly
    assert len(best.params["lr"]) == 4 and best.params["init_scale"] == 1.0  # not optimised
    for t in hd.trials:
        assert all(1e-3 - 1e-12 <= row[0] <= 10 + 1e-9 for row in t.params["lr"])
        assert 0 <= t.params["momentum"] <= 0.95 + 1e-12
    records = hd.to_records()
    assert records[0]["params_lr"] == hd.trials[0].params["lr"]
    times = [s.seconds for s in hd.history]
    assert times == sorted(times)


def test_meta_optimiser_is_deterministic_and_methods_agree():
    def run(method):
        hd = HypergradientDescent(
            _tiny_mlp(), Hyperparameters.create(lr=0.1, momentum=0.5), meta_lr=0.1, method=method
        )
        hd.run(5)
        return [t.value for t in hd.trials]

    a, b, c = run("reverse"), run("reverse"), run("unroll")
    assert a == b
    assert c == pytest.approx(a, rel=1e-9)


def test_meta_gradient_clipping_and_stop_conditions():
    problem = _tiny_mlp()
    hd = HypergradientDescent(problem, Hyperparameters.create(lr=0.1), clip_norm=1e-6)
    hd.run(2)
    assert all(s.clipped and s.grad_norm > 1e-6 for s in hd.history)
    hd = HypergradientDescent(problem, Hyperparameters.create(lr=0.1), clip_norm=None, tol=1e9)
    hd.run(10)
    assert hd.stop_reason == "converged" and len(hd.trials) == 1
    hd = HypergradientDescent(problem, Hyperparameters.create(lr=0.1))
    hd.run(time_budget=1e-9)
    assert hd.stop_reason == "time_budget" and len(hd.trials) == 0
    hd.run(100, callback=lambda step: step.iteration >= 2)
    assert hd.stop_reason == "callback" and len(hd.trials) == 3
    with pytest.raises(ValueError, match="n_meta_steps"):
        hd.run()


def test_only_the_optimised_hyperparameters_move():
    problem = _tiny_mlp()
    init = Hyperparameters.create(lr=0.2, momentum=0.6, weight_decay=1e-2, init_scale=1.1)
    hd = HypergradientDescent(problem, init, optimise=["momentum"], meta_lr=0.3)
    hd.run(3)
    for t in hd.trials:
        assert t.params["lr"] == pytest.approx(0.2)
        assert t.params["weight_decay"] == pytest.approx(1e-2)
        assert t.params["init_scale"] == pytest.approx(1.1)
    assert len({t.params["momentum"] for t in hd.trials}) == 3


# -- SGD-HD ---------------------------------------------------------------------------------


def test_sgd_hd_additive_step_uses_the_one_step_hypergradient():
    """lr_1 - lr_0 = -beta * d loss_1(w_1) / d lr_0, with the derivative from hypergradient."""
    X, y = _data(30, 3, 3)
    problem = TrainingProblem(torch.nn.Linear(3, 3), (X, y), (X, y), n_steps=3, init_seed=0)
    hypers = Hyperparameters.create(lr=0.4, momentum=0.3)
    beta = 0.5
    out = sgd_hd(problem, hypers, beta=beta, multiplicative=False)
    one_step = hypergradient(problem.replace(n_steps=1), hypers)
    d_lr0 = float(one_step.grad["lr"][0, 0]) / 0.4  # d/d log lr -> d/d lr
    assert float(out.lr[1, 0]) == pytest.approx(0.4 - beta * d_lr0, rel=1e-10)
    # beta = 0 is plain training.
    plain = sgd_hd(problem, hypers, beta=0.0)
    assert plain.value == problem.train(hypers).value
    assert torch.all(plain.lr == 0.4)


def test_sgd_hd_multiplicative_rule_moves_a_bad_rate_towards_a_good_one():
    problem = _tiny_mlp(n_steps=60)
    up = sgd_hd(problem, Hyperparameters.create(lr=0.01, momentum=0.5), beta=0.05)
    assert up.lr.shape == (60, 1) and up.lr[-1, 0] > 0.02
    assert up.value < problem.train(Hyperparameters.create(lr=0.01, momentum=0.5)).value
    per_group = sgd_hd(problem, Hyperparameters.create(lr=[[0.01, 0.01]]), beta=0.05)
    assert per_group.lr.shape == (60, 2)
    json.dumps(up.params)


# -- problems, hyperparameters, validation --------------------------------------------------


def test_problem_groups_batches_and_initial_weights():
    problem = _tiny_mlp()
    assert problem.group_names == ["0", "2"] and problem.n_params == 4 * 5 + 5 + 5 * 3 + 3
    assert problem.group_of.tolist() == [0] * 25 + [1] * 18
    assert _tiny_mlp(groups="tensor").n_groups == 4 and _tiny_mlp(groups=None).n_groups == 1
    explicit = _tiny_mlp(
        groups={"weights": ["0.weight", "2.weight"], "biases": ["0.bias", "2.bias"]}
    )
    assert explicit.group_names == ["weights", "biases"]
    X, y = _data(10, 3, 2)
    root = TrainingProblem(torch.nn.Linear(3, 2), (X, y), (X, y), n_steps=2, groups="layer")
    assert root.group_names == ["<root>"]
    # Minibatches: fixed by seed, every example once per epoch.
    again = _tiny_mlp()
    assert torch.equal(problem._batches, again._batches)
    assert not torch.equal(problem._batches, _tiny_mlp(seed=4)._batches)
    assert sorted(problem._batches[:5].reshape(-1).tolist()) == list(range(30))
    # Base weights: LeCun normal, zero biases; or the model's own parameters.
    assert problem.w_base[25:28].abs().sum() > 0 and problem.w_base[20:25].abs().sum() == 0
    model = torch.nn.Linear(3, 2)
    X, y = _data(10, 3, 2)
    own = TrainingProblem(model, (X, y), (X, y), n_steps=2)
    flat = torch.cat([model.weight.detach().reshape(-1), model.bias.detach()]).double()
    assert torch.equal(own.w_base, flat)


def test_block_index_and_hyperparameter_round_trip():
    assert block_index(1, 5).tolist() == [0] * 5
    assert block_index(5, 5).tolist() == list(range(5))
    assert block_index(2, 5).tolist() == [0, 0, 0, 1, 1]
    h = _schedule_hypers()
    params = h.to_params()
    again = Hyperparameters.from_params(json.loads(json.dumps(params)))
    for name in FIELDS:
        torch.testing.assert_close(again.raw[name], h.raw[name], rtol=1e-12, atol=1e-12)
    assert h.n_values == 6 + 4 + 2 + 2
    off = Hyperparameters.create(momentum=0.0, weight_decay=0.0)
    assert off.raw["momentum"].item() == -math.inf and off.to_params()["weight_decay"] == 0.0
    hg = hypergradient(_tiny_mlp(), off)
    assert hg.grad["momentum"].item() == 0.0 and hg.grad["weight_decay"].item() == 0.0
    assert "lr=0.1" in repr(Hyperparameters.create())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": -0.1}, ValueError, "0 < lr < inf"),
        ({"lr": 0.0}, ValueError, "0 < lr < inf"),
        ({"momentum": 1.0}, ValueError, "0 <= momentum < 1"),
        ({"weight_decay": -1.0}, ValueError, "0 <= weight_decay"),
        ({"init_scale": float("nan")}, ValueError, "init_scale"),
        ({"lr": [[[0.1]]]}, ValueError, "at most 2 dimensions"),
        ({"weight_decay": [[0.1]]}, ValueError, "at most 1 dimensions"),
        ({"lr": []}, ValueError, "at least one value"),
        ({"lr": "fast"}, TypeError, "`lr`"),
    ],
)
def test_hyperparameters_reject_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        Hyperparameters.create(**kwargs)


def test_shape_and_argument_errors_name_the_rule():
    problem = _tiny_mlp()
    with pytest.raises(ValueError, match="n_groups=2"):
        problem.check(Hyperparameters.create(lr=[[0.1, 0.1, 0.1]]))
    with pytest.raises(ValueError, match="blocks <= n_steps=15"):
        problem.check(Hyperparameters.create(lr=[0.1] * 16))
    with pytest.raises(TypeError, match="Hyperparameters"):
        hypergradient(problem, {"lr": 0.1})
    with pytest.raises(ValueError, match="`method`"):
        hypergradient(problem, Hyperparameters.create(), method="forward")
    with pytest.raises(ValueError, match="checkpoint_every >= 1"):
        hypergradient(problem, Hyperparameters.create(), checkpoint_every=0)
    with pytest.raises(ValueError, match="method='reverse' only"):
        hypergradient(problem, Hyperparameters.create(), method="unroll", checkpoint_every=2)
    X, y = _data(10, 3, 2)
    lin = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="batch_size <= n_train"):
        TrainingProblem(lin, (X, y), (X, y), n_steps=2, batch_size=11)
    with pytest.raises(ValueError, match="n_steps >= 1"):
        TrainingProblem(lin, (X, y), (X, y), n_steps=0)
    with pytest.raises(ValueError, match="same length"):
        TrainingProblem(lin, (X, y[:5]), (X, y), n_steps=2)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TrainingProblem(lambda x: x, (X, y), (X, y), n_steps=2)
    with pytest.raises(ValueError, match="exactly one group"):
        TrainingProblem(lin, (X, y), (X, y), n_steps=2, groups={"a": ["weight"], "b": ["weight"]})
    with pytest.raises(ValueError, match="in none"):
        TrainingProblem(lin, (X, y), (X, y), n_steps=2, groups={"a": ["weight"]})
    with pytest.raises(ValueError, match="not a parameter"):
        TrainingProblem(lin, (X, y), (X, y), n_steps=2, groups={"a": ["weight", "bias", "x"]})
    init = Hyperparameters.create(lr=0.1)
    with pytest.raises(ValueError, match="subset"):
        HypergradientDescent(problem, init, optimise=["depth"])
    with pytest.raises(TypeError, match="list of names"):
        HypergradientDescent(problem, init, optimise="lr")
    with pytest.raises(ValueError, match="low < high"):
        HypergradientDescent(problem, init, bounds={"lr": (1.0, 0.1)})
    with pytest.raises(ValueError, match="within bounds"):
        HypergradientDescent(problem, init, bounds={"lr": (0.5, 1.0)})
    with pytest.raises(ValueError, match="0 < meta_lr"):
        HypergradientDescent(problem, init, meta_lr=0.0)
    with pytest.raises(ValueError, match="0 <= beta < 1"):
        sgd_hd(problem, init, beta=1.5)


def test_global_rng_and_threads_are_left_alone():
    problem = _tiny_mlp()  # building the nn.Module draws from the global RNG; that is torch
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    hypergradient(problem, _schedule_hypers())
    hypergradient(problem, _schedule_hypers(), method="unroll")
    HypergradientDescent(problem, Hyperparameters.create()).run(2)
    sgd_hd(problem, Hyperparameters.create())
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == threads


# -- the benchmark and the README ------------------------------------------------------------


def test_benchmark_cells_and_report_run_end_to_end(tmp_path, monkeypatch):
    """``python -m benchmarks hypergrad`` machinery on a shrunken problem (20 SGD steps)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from benchmarks import cli
    from benchmarks import hypergrad as bench
    from benchmarks.hypergrad_experiments import N_BLOCKS
    from benchmarks.hypergrad_report import write_report

    monkeypatch.setattr(bench, "N_STEPS", 20)
    monkeypatch.setattr(bench, "FRESH_SEEDS", 2)
    monkeypatch.setattr(bench, "SGD_HD_BETAS", (0.01, 0.1))
    args = cli._parser().parse_args(
        ["hypergrad", "run", "--experiments", "A,B", "--models", "logreg", "--seeds", "0",
         "--budgets", "0.3,0.6", "--out", str(tmp_path)]
    )  # fmt: skip
    assert args.seeds == [0] and args.budgets == [0.3, 0.6] and args.action == "run"
    assert bench.run_cells(tmp_path, ["A", "B"], ["logreg"], [0], [0.3, 0.6]) == 8
    records = bench.read_runs(tmp_path / bench.RUNS)
    assert {r["method"] for r in records} == set(bench.METHODS)
    assert all(r.get("status") != "error" for r in records), records
    for r in records:
        for chosen in r["chosen"].values():
            if chosen is not None:
                assert len(chosen["test_errors"]) == 2
                assert all(0 <= e <= 1 for e in chosen["test_errors"])
    hg_b = next(r for r in records if r["method"] == "hypergrad" and r["experiment"] == "B")
    lr = hg_b["chosen"]["0.6"]["params"]["lr"]
    assert len(lr) == N_BLOCKS and len(lr[0]) == 1  # logreg: one layer
    # Resuming skips finished cells; the report and figures are written.
    assert bench.run_cells(tmp_path, ["A", "B"], ["logreg"], [0], [0.3, 0.6]) == 0
    report = write_report(tmp_path, "test").read_text()
    assert "(A) logreg" in report and "(B) logreg" in report and "random-2x" in report
    assert (tmp_path / "curves_A_logreg.png").exists()
    assert (tmp_path / "schedule_B_logreg.png").exists()


def test_the_user_guides_hypergradient_example_runs():
    from pathlib import Path

    pytest.importorskip("sklearn")
    guide = Path(__file__).resolve().parents[1] / "docs" / "guide" / "hypergradients.md"
    block = guide.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, str(guide), "exec"), namespace)
    hd = namespace["hd"]
    assert len(hd.trials) == 10 and hd.best.value < hd.trials[0].value
    assert hd.best_hypers.lr.shape == (5, 2)


# -- the initial weights as a hyperparameter --------------------------------------------------


def _init_hypers(problem: TrainingProblem) -> Hyperparameters:
    """Per-group scales and initial weights away from the base (so that every entry matters)."""
    gen = torch.Generator().manual_seed(7)
    init = problem.w_base + 0.3 * torch.randn(problem.n_params, generator=gen, dtype=F64)
    return Hyperparameters.create(
        lr=[[0.5, 0.3], [0.8, 0.2]], momentum=0.6, weight_decay=1e-2, init_scale=[0.9, 1.2],
        init=init,
    )  # fmt: skip


@pytest.mark.parametrize("method", ["reverse", "unroll"])
def test_initial_weight_hypergradient_matches_central_differences(method):
    problem = _tiny_mlp()
    hypers = _init_hypers(problem)
    hg = hypergradient(problem, hypers, method=method)
    assert not hg.diverged and hg.grad["init"].shape == (problem.n_params,)
    assert hg.flat().numel() == hypers.n_values == 4 + 1 + 1 + 2 + problem.n_params
    for name in ("init", "init_scale", "lr"):
        fd = _central_differences(problem, hypers, name)
        scale = float(fd.abs().max())
        assert scale > 1e-6
        torch.testing.assert_close(hg.grad[name], fd, rtol=1e-6, atol=1e-8 * scale)


def test_init_equal_to_the_base_weights_changes_nothing():
    problem = _tiny_mlp()
    plain = Hyperparameters.create(lr=0.4, momentum=0.5, init_scale=[0.9, 1.2])
    with_init = Hyperparameters.create(lr=0.4, momentum=0.5, init_scale=[0.9, 1.2],
                                       init=problem.w_base)  # fmt: skip
    a, b = hypergradient(problem, plain), hypergradient(problem, with_init)
    assert a.value == b.value
    for name in FIELDS:
        torch.testing.assert_close(a.grad[name], b.grad[name], rtol=1e-12, atol=1e-15)
    # d value / d init is the adjoint of w_0 times the scale; the scale's is its dot with init
    scale = torch.tensor([0.9, 1.2], dtype=F64)
    adjoint = b.grad["init"] / problem.per_element(scale)
    d_log_scale = problem.per_group(adjoint * problem.w_base, 2) * scale
    torch.testing.assert_close(d_log_scale, b.grad["init_scale"])
    assert "init=<43 weights>" in repr(with_init) and with_init.names[-1] == "init"
    again = Hyperparameters.from_params(json.loads(json.dumps(with_init.to_params())))
    torch.testing.assert_close(again.init, with_init.init)
    assert "init" not in with_init.to_params(include_init=False)
    assert with_init.replace(init=None).init is None


def test_meta_optimiser_tunes_the_initial_weights_only():
    problem = _tiny_mlp(n_steps=8)
    start = Hyperparameters.create(lr=0.3, momentum=0.5, weight_decay=1e-3)
    hd = HypergradientDescent(problem, start, optimise=["init"], meta_lr=0.05)
    assert hd.optimise == ("init",) and torch.equal(hd.hypers.init, problem.w_base)
    best = hd.run(15)
    assert best.value < hd.trials[0].value
    assert all("init" not in t.params for t in hd.trials)  # the weights stay out of params
    tuned = hd.best_hypers
    assert tuned.init.shape == (problem.n_params,) and not torch.equal(tuned.init, problem.w_base)
    for name in FIELDS:
        assert torch.equal(tuned.raw[name], start.raw[name])
    both = HypergradientDescent(problem, start, optimise=["lr", "init"], method="unroll")
    both.run(2)
    assert both.optimise == ("lr", "init")
    assert not torch.equal(both.hypers.raw["lr"], start.raw["lr"])


def test_initial_weights_are_checked():
    problem = _tiny_mlp()
    with pytest.raises(ValueError, match="n_params=43 initial weights, but has 5"):
        problem.check(Hyperparameters.create(init=[0.1] * 5))
    with pytest.raises(ValueError, match="1-D vector of initial weights"):
        Hyperparameters.create(init=[[0.1, 0.2]])
    with pytest.raises(ValueError, match="`init` must be finite"):
        Hyperparameters.create(init=[0.1, float("nan")])
    with pytest.raises(TypeError, match="`init` must be a 1-D sequence"):
        Hyperparameters.create(init="weights")
    with pytest.raises(ValueError, match="known:"):
        Hyperparameters.create().replace(init_weights=torch.zeros(3))
    with pytest.raises(ValueError, match="non-empty subset"):
        HypergradientDescent(problem, Hyperparameters.create(), optimise=["weights"])
