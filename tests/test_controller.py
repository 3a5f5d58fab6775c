"""ControllerSearch: the REINFORCE estimator, learning, replay, resume and bad input."""

from __future__ import annotations

import math

import _objectives as ob
import pytest
import torch

import bayesopt as bo
from bayesopt.controller import ControllerSearch, Head, Policy, heads_of, reinforce_loss

TINY = bo.Space({"a": bo.Categorical(["p", "q", "r"]), "b": bo.Integer(0, 2)})


def _tiny(p: dict) -> float:
    """Unique minimum 0 at a="q", b=2; every other point is at least 1."""
    return float(p["a"] != "q") + abs(p["b"] - 2) + 1.0 * (p["a"] != "q" or p["b"] != 2)


@pytest.fixture
def mixed(mixed_space: bo.Space) -> bo.Space:
    return mixed_space  # conftest's five-parameter mixed space


_mixed_value = ob.mixed_value


def _run(opt, f, n, every=1):
    """Ask ``every`` at a time and tell them, ``n`` trials in all; returns the params."""
    while len(opt.trials) < n:
        for t in opt.ask(every):
            opt.tell(t, f(t.params))
    return [t.params for t in opt.trials]


# The estimator ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lstm", "mlp"])
def test_reinforce_matches_the_exact_policy_gradient_on_a_two_armed_bandit(kind):
    policy = Policy([2], kind=kind, hidden=4, seed=3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # a non-uniform policy whose every weight matters
        for p in policy.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype, generator=g))
    means = torch.tensor([1.0, 0.2], dtype=torch.float64)  # arm rewards: mean + N(0, 0.5)
    params = list(policy.parameters())

    # Exact: grad of J = sum_a pi(a) mu(a).
    _, log_p, _ = policy.run(2, torch.tensor([[0.0], [1.0]], dtype=torch.float64))
    exact = torch.autograd.grad((log_p.exp() * means).sum(), params, materialize_grads=True)
    exact = torch.cat([e.reshape(-1) for e in exact])
    assert exact.abs().max() > 1e-3

    estimates = []
    for _ in range(600):
        actions, _, _ = policy.run(8, generator=g)
        arm = actions[:, 0].long()
        reward = means[arm] + 0.5 * torch.randn(8, dtype=torch.float64, generator=g)
        _, log_p, entropy = policy.run(8, actions)
        loss = reinforce_loss(log_p, reward - 0.4, entropy, 0.0)  # any fixed baseline
        grads = torch.autograd.grad(loss, params, materialize_grads=True)
        estimates.append(-torch.cat([gr.reshape(-1) for gr in grads]))
    est = torch.stack(estimates)
    mean, se = est.mean(0), est.std(0) / math.sqrt(len(est))
    used = se > 1e-12
    z = (mean[used] - exact[used]) / se[used]
    assert z.abs().max() < 4.5  # ~100 coordinates: a Gaussian max rarely passes 4
    assert torch.allclose(mean, exact, atol=5 * float(se.max()))
    assert torch.cosine_similarity(mean, exact, dim=0) > 0.95


def test_a_new_policy_is_uniform_and_gaussian_heads_are_normal_densities():
    policy = Policy([3, 0], kind="gru", hidden=5, seed=1)
    actions, log_p, entropy = policy.run(5, generator=torch.Generator().manual_seed(2))
    assert set(actions[:, 0].tolist()) <= {0.0, 1.0, 2.0}
    normal = torch.distributions.Normal(0.0, 1.5)
    expected = math.log(1 / 3) + normal.log_prob(actions[:, 1])
    assert torch.allclose(log_p, expected.to(torch.float64))
    assert torch.allclose(entropy, torch.full((5,), math.log(3) + float(normal.entropy())).double())


def test_heads_map_values_to_actions_and_back(mixed):
    heads = heads_of(mixed, bins=8, max_choices=10, real_head="bins")
    assert heads == [
        Head("lr", "bins", 8),
        Head("x", "bins", 8),
        Head("depth", "values", 8),
        Head("width", "bins", 8),
        Head("act", "values", 5),
    ]
    for params in mixed.sample(20, seed=0):
        for h in heads:
            p = mixed[h.name]
            a = h.action(p, params[h.name])
            u = h.unit(p, a, 0.5)
            if h.kind == "values":
                assert p._decode(u) == params[h.name] or params[h.name] is p._decode(u)
            else:  # the bin holds the value's coordinate
                assert math.floor(p._encode(params[h.name]) * 8) in (a, 8)
    gaussian = heads_of(mixed, real_head="gaussian")
    assert [h.kind for h in gaussian] == ["gaussian", "gaussian", "values", "bins", "values"]
    h, p = gaussian[1], mixed["x"]
    assert h.unit(p, h.action(p, 0.5), 0.0) == pytest.approx(p._encode(0.5))


# Learning --------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["lstm", "gru", "mlp", "independent"])
def test_the_controller_concentrates_on_the_best_child(policy):
    ctl = ControllerSearch(TINY, seed=0, policy=policy, batch=8, lr=0.1)
    _run(ctl, _tiny, 240)
    best = {"a": "q", "b": 2}
    assert ctl.probability(best) > 0.8
    last = [t.params for t in ctl.trials[-40:]]
    assert sum(p == best for p in last) >= 28
    updates = ctl.updates
    assert len(updates) == 30 and updates[-1]["trials"] == 240
    assert updates[-1]["entropy"] < 0.5 * updates[0]["entropy"]
    assert updates[0]["entropy"] == pytest.approx(math.log(9))  # uniform at first
    assert updates[-1]["mean_reward"] > updates[0]["mean_reward"]


@pytest.mark.parametrize("reward", ["value", "rank"])
def test_maximize_and_the_other_rewards_climb_towards_the_maximum(reward):
    ctl = ControllerSearch(TINY, seed=1, maximize=True, reward=reward, lr=0.1)
    _run(ctl, lambda p: -_tiny(p), 200)
    assert ctl.probability({"a": "q", "b": 2}) > 0.5
    assert ctl.best.params == {"a": "q", "b": 2} and ctl.best.value == 0.0
    assert ctl.updates[-1]["mean_reward"] > ctl.updates[0]["mean_reward"]  # rewards = values


def test_every_policy_and_head_proposes_inside_a_mixed_space(mixed):
    for policy in ("lstm", "gru", "mlp", "independent"):
        for real_head in ("bins", "gaussian"):
            ctl = ControllerSearch(mixed, seed=0, policy=policy, real_head=real_head, batch=4)
            for p in _run(ctl, _mixed_value, 12, every=3):
                assert mixed.validate(p) == p
            assert len(ctl.updates) == 3
            assert all(math.isfinite(u["entropy"]) for u in ctl.updates)


def test_failures_get_the_worst_reward_and_never_break_an_update():
    ctl = ControllerSearch(TINY, seed=2, batch=4)
    for t in ctl.ask(4):  # a whole batch of failures: no reward signal yet
        ctl.tell(t, failed=True)
    assert math.isnan(ctl.updates[0]["mean_reward"])
    for i, t in enumerate(ctl.ask(4)):
        ctl.tell(t, float("nan") if i == 0 else _tiny(t.params))
    worst = max(t.value for t in ctl.trials if t.state == "complete")
    values = [worst] + [t.value for t in ctl.trials[5:8]]
    assert ctl.updates[1]["mean_reward"] == pytest.approx(-sum(values) / 4)


# Pending trials ----------------------------------------------------------------------------
def test_no_child_repeats_a_pending_one_until_the_space_is_exhausted():
    space = bo.Space({"c": bo.Categorical(["a", "b"]), "k": bo.Integer(0, 1)})
    ctl = ControllerSearch(space, seed=0, batch=2, lr=0.5)
    _run(ctl, lambda p: float(p["c"] == "a") + p["k"], 40)  # a concentrated policy
    first = ctl.ask(3)
    assert len({tuple(t.params.items()) for t in first}) == 3
    more = ctl.ask(1)[0]  # the one point left
    assert {tuple(t.params.items()) for t in [*first, more]} == {
        (("c", c), ("k", k)) for c in "ab" for k in (0, 1)
    }
    again = ctl.ask(2)  # exhausted: repeats are allowed now
    assert len(again) == 2


# Replay and resume --------------------------------------------------------------------
def test_same_seed_same_asks_and_another_seed_differs(mixed):
    a = _run(ControllerSearch(mixed, seed=4, batch=4), _mixed_value, 20, every=2)
    b = _run(ControllerSearch(mixed, seed=4, batch=4), _mixed_value, 20, every=2)
    c = _run(ControllerSearch(mixed, seed=5, batch=4), _mixed_value, 20, every=2)
    assert a == b and a != c


def test_the_state_is_a_function_of_the_history_whatever_the_cache():
    ctl = ControllerSearch(TINY, seed=3, batch=3)
    trials = ctl.ask(7)
    for t in [trials[i] for i in (1, 2, 3, 0, 5, 6, 4)]:  # finished out of id order
        ctl.tell(t, _tiny(t.params))
        ctl.updates  # noqa: B018  (trains the cache on every intermediate history)
    fresh = ControllerSearch(TINY, seed=3, batch=3)
    fresh._history = ctl._history  # the same history, no cache
    assert fresh.updates == ctl.updates
    assert [t.params for t in fresh.ask(5)] == [t.params for t in ctl.ask(5)]


def test_journal_resume_equals_the_uninterrupted_run(tmp_path, mixed):
    path = tmp_path / "ctl.jsonl"
    kw = {"seed": 11, "batch": 4, "policy": "gru", "reward": "rank"}
    straight = ControllerSearch(mixed, **kw)
    script = [("ask", 3), ("tell", 1), ("fail", 0), ("ask", 2), ("tell", 0), ("tell", 0)]
    script += [("ask", 4), ("tell", 2), ("tell", 0), ("tell", 0), ("ask", 1), ("tell", 0)] * 3

    def step(opt, op, arg, log):
        if op == "ask":
            log += [(t.id, t.params) for t in opt.ask(arg)]
        elif op == "tell":
            t = opt.pending[arg]
            opt.tell(t, _mixed_value(t.params))
        else:
            opt.tell(opt.pending[arg], failed=True)

    expected: list = []
    for op, arg in script:
        step(straight, op, arg, expected)
    resumed: list = []
    for op, arg in script:  # a new process on the journal for every call
        opt = ControllerSearch(mixed, **kw, storage=path)
        step(opt, op, arg, resumed)
        opt.close()
    assert resumed == expected
    loaded = bo.load(path)
    assert type(loaded) is ControllerSearch and loaded.settings() == straight.settings()
    assert loaded.updates == straight.updates
    with pytest.raises(ValueError, match="batch=4 in the journal but 5 here"):
        ControllerSearch(mixed, **{**kw, "batch": 5}, storage=path)


def test_global_rng_untouched(mixed):
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    _run(ControllerSearch(mixed, seed=None, batch=2), _mixed_value, 6)
    assert torch.equal(torch.rand(2), expected)


# Bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"policy": "rnn"}, ValueError, "`policy` must be one of"),
        ({"policy": 1}, TypeError, "`policy` must be a str"),
        ({"hidden": 0}, ValueError, "`hidden >= 1`"),
        ({"batch": 0}, ValueError, "`batch >= 1`"),
        ({"batch": 2.0}, TypeError, "`batch` must be an int"),
        ({"batch": True}, TypeError, "`batch` must be an int"),
        ({"lr": 0.0}, ValueError, "`0 < lr < inf`"),
        ({"lr": float("nan")}, ValueError, "`0 < lr < inf`"),
        ({"lr": "0.1"}, TypeError, "`lr` must be a float"),
        ({"entropy_weight": -1.0}, ValueError, "`0 <= entropy_weight < inf`"),
        ({"baseline_decay": 1.0}, ValueError, "`0 <= baseline_decay < 1`"),
        ({"reward": "accuracy"}, ValueError, "`reward` must be one of"),
        ({"bins": 1}, ValueError, "`bins >= 2`"),
        ({"max_choices": 0}, ValueError, "`max_choices >= 1`"),
        ({"real_head": "beta"}, ValueError, "`real_head` must be one of"),
        ({"seed": -1}, ValueError, "`seed >= 0`"),
    ],
)
def test_bad_settings_are_named(kwargs, error, match, tmp_path):
    path = tmp_path / "bad.jsonl"
    with pytest.raises(error, match=match):
        ControllerSearch(TINY, **kwargs, storage=path)
    assert not path.exists()  # no journal was created


def test_bad_calls_leave_the_study_unchanged():
    ctl = ControllerSearch(TINY, seed=0, batch=2)
    t = ctl.ask()
    before = (ctl.trials, ctl.updates)
    with pytest.raises(TypeError, match="`value` must be a real number"):
        ctl.tell(t, "1.0")
    with pytest.raises(ValueError, match="unknown trial id 5"):
        ctl.tell(5, 1.0)
    with pytest.raises(ValueError, match=r"`n >= 1`"):
        ctl.ask(0)
    with pytest.raises(ValueError, match="value must be one of"):
        ctl.probability({"a": "z", "b": 0})
    with pytest.raises(TypeError, match="`space` must be a bayesopt.Space"):
        ControllerSearch({"a": bo.Integer(0, 1)})
    assert (ctl.trials, ctl.updates) == before


def _structured_space() -> bo.Space:
    """A conditional, constrained space, where ``Space`` supports them."""
    try:
        return bo.Space(
            {
                "model": bo.Categorical(["svm", "rf"]),
                "C": bo.Real(1e-3, 1e3, log=True, when={"model": "svm"}),
                "depth": bo.Integer(1, 10, when={"model": "rf"}),
                "x": bo.Real(0, 1),
                "y": bo.Real(0, 1),
            },
            constraints=[lambda p: p["x"] + p["y"] <= 1.0],
        )
    except TypeError:
        pytest.skip("this Space has no conditions or constraints")


def test_conditional_and_constrained_spaces_get_valid_children():
    space = _structured_space()
    ctl = ControllerSearch(space, seed=0, batch=4)
    for _ in range(10):
        for t in ctl.ask(2):
            assert space.validate(t.params) == t.params
            assert t.params["x"] + t.params["y"] <= 1.0
            ctl.tell(t, t.params["x"] + (t.params["model"] == "svm"))
    assert len(ctl.updates) == 5
    # an inactive parameter's head is left out of the probability
    p_rf = ctl.probability({"model": "rf", "depth": 3, "x": 0.1, "y": 0.1})
    assert 0.0 < p_rf < math.inf
