"""Optimizer: the ask/tell life cycle, bad input, robustness and reproducibility."""

from __future__ import annotations

import copy
import math
import re
import warnings

import numpy as np
import pytest
import torch
from botorch.exceptions.errors import ModelFittingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linear_operator.utils.errors import NotPSDError

import bayesopt as bo
from bayesopt import acquisition, gp, propose
from bayesopt.optimizer import default_n_initial

FAST = bo.ProposeOptions(raw_samples=128, n_restarts=3, lbfgs_maxiter=30)


def quad(p):
    return (p["x"] - 0.3) ** 2 + (p["y"] + 0.2) ** 2


@pytest.fixture
def space2():
    return bo.Space({"x": bo.Real(-1.0, 1.0), "y": bo.Real(-1.0, 1.0)})


def _snapshot(opt):
    return (copy.deepcopy(opt.trials), list(opt._history.queue))


# --- construction ---------------------------------------------------------------------------


def test_constructor_validation(space2):
    with pytest.raises(ValueError, match=r"unknown acquisition 'ei'.*known acquisitions"):
        bo.Optimizer(space2, acquisition="ei")
    with pytest.raises(TypeError, match="`space` must be a bayesopt.Space"):
        bo.Optimizer({"x": bo.Real(0, 1)})
    with pytest.raises(TypeError, match="`seed`"):
        bo.Optimizer(space2, seed=1.5)
    with pytest.raises(TypeError, match="`maximize`"):
        bo.Optimizer(space2, maximize="yes")
    with pytest.raises(ValueError, match="n_initial >= 1"):
        bo.Optimizer(space2, n_initial=0)
    with pytest.raises(TypeError, match="propose_options"):
        bo.Optimizer(space2, propose_options={"raw_samples": 4})


def test_default_initial_design_size():
    assert default_n_initial(bo.Space({"x": bo.Real(0, 1)})) == 5
    assert default_n_initial(bo.Space({f"x{i}": bo.Real(0, 1) for i in range(6)})) == 13
    assert default_n_initial(bo.Space({f"x{i}": bo.Real(0, 1) for i in range(20)})) == 20
    assert default_n_initial(bo.Space({"k": bo.Integer(1, 5)})) == 2


# --- life cycle -----------------------------------------------------------------------------


def test_ask_tell_cycle(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=3, propose_options=FAST)
    t = opt.ask()
    assert isinstance(t, bo.Trial) and t.id == 0 and t.state == "pending"
    assert t.source == "initial"
    done = opt.tell(t, 0.5)
    assert done.state == "complete" and done.value == 0.5
    assert opt.trials[0] == done
    assert opt.tell(opt.ask().id, 0.25).value == 0.25  # tell by id
    batch = opt.ask(4)
    assert [b.id for b in batch] == [2, 3, 4, 5]
    assert [b.source for b in batch] == ["initial", "model", "model", "model"]
    assert len(opt.pending) == 4
    for b in batch:
        opt.tell(b, quad(b.params))
    assert not opt.pending
    assert opt.best.value == min(t.value for t in opt.trials)


def test_best_respects_maximize(space2):
    opt = bo.Optimizer(space2, seed=0, maximize=True)
    assert opt.best is None
    for v in (1.0, 3.0, 2.0):
        opt.tell(opt.ask(), v)
    assert opt.best.value == 3.0
    opt2 = bo.Optimizer(space2, seed=0)
    for v in (1.0, 3.0, -2.0):
        opt2.tell(opt2.ask(), v)
    assert opt2.best.value == -2.0


def test_failed_trials(space2):
    opt = bo.Optimizer(space2, seed=0)
    for bad in (float("nan"), float("inf"), -math.inf):
        t = opt.tell(opt.ask(), bad)
        assert t.state == "failed" and t.value is None
    t = opt.tell(opt.ask(), failed=True)
    assert t.state == "failed"
    assert opt.best is None


def test_add_and_enqueue(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=2, propose_options=FAST)
    added = opt.add({"x": 0.1, "y": 0.2}, 1.0)
    assert added.id == 0 and added.source == "added" and added.state == "complete"
    opt.add({"x": 0.5, "y": -0.5}, float("nan"))
    assert opt.trials[1].state == "failed"
    warnings.simplefilter("ignore", bo.FallbackWarning)  # one complete trial only
    opt.enqueue({"x": 0.9, "y": 0.9})
    opt.enqueue({"x": -0.9, "y": 0.0})
    batch = opt.ask(3)
    assert batch[0].params == {"x": 0.9, "y": 0.9} and batch[0].source == "enqueued"
    assert batch[1].params == {"x": -0.9, "y": 0.0}
    assert batch[2].source in ("model", "fallback")
    assert opt.ask().source != "enqueued"


def test_records_and_dataframe(space2):
    opt = bo.Optimizer(space2, seed=0)
    opt.tell(opt.ask(), 1.5)
    opt.ask()
    records = opt.to_records()
    assert records[0]["state"] == "complete" and records[0]["value"] == 1.5
    assert set(records[1]) == {"id", "state", "value", "source", "params_x", "params_y"}
    pd = pytest.importorskip("pandas")
    df = opt.to_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df["state"]) == ["complete", "pending"]


# --- bad calls leave the state untouched ----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda o, t: o.tell(99, 1.0), ValueError, "unknown trial id 99"),
        (lambda o, t: o.tell(-1, 1.0), ValueError, "unknown trial id -1"),
        (lambda o, t: o.tell("0", 1.0), TypeError, "Trial or an int"),
        (lambda o, t: o.tell(t, "0.3"), TypeError, "`value` must be a real number"),
        (lambda o, t: o.tell(t, None), TypeError, "`value` must be a real number"),
        (lambda o, t: o.tell(t, True), TypeError, "`value` must be a real number"),
        (lambda o, t: o.tell(t, 1 + 2j), TypeError, "`value` must be a real number"),
        (lambda o, t: o.tell(t, [0.3]), TypeError, "`value` must be a real number"),
        (lambda o, t: o.tell(t, 0.3, failed=True), ValueError, "not both"),
        (lambda o, t: o.tell(t, failed="yes"), TypeError, "`failed` must be a bool"),
        (lambda o, t: o.ask(0), ValueError, "n >= 1"),
        (lambda o, t: o.ask(-2), ValueError, "n >= 1"),
        (lambda o, t: o.ask(1.0), TypeError, "`n` must be an int"),
        (lambda o, t: o.add({"x": 2.0, "y": 0.0}, 1.0), ValueError, "parameter 'x'"),
        (lambda o, t: o.add({"x": 0.0}, 1.0), ValueError, "missing parameter"),
        (lambda o, t: o.add({"x": 0.0, "y": 0.0}, "bad"), TypeError, "`value`"),
        (lambda o, t: o.enqueue({"x": 0.0, "y": 5}), ValueError, "parameter 'y'"),
        (lambda o, t: o.enqueue({"x": 0.0, "y": 0.0, "z": 1}), ValueError, "unknown param"),
        (
            lambda o, t: o.tell(bo.Trial(t.id, {"x": 0.0, "y": 0.0}), 1.0),
            ValueError,
            "does not belong",
        ),
    ],
)
def test_bad_calls_raise_and_change_nothing(space2, call, error, match):
    opt = bo.Optimizer(space2, seed=0)
    opt.tell(opt.ask(), 1.0)
    t = opt.ask()
    before = _snapshot(opt)
    with pytest.raises(error, match=match):
        call(opt, t)
    assert _snapshot(opt) == before


def test_telling_twice_raises_and_changes_nothing(space2):
    opt = bo.Optimizer(space2, seed=0)
    t = opt.ask()
    opt.tell(t, 1.0)
    before = _snapshot(opt)
    with pytest.raises(ValueError, match="already told"):
        opt.tell(t, 2.0)
    with pytest.raises(ValueError, match="already told"):
        opt.tell(t.id, failed=True)
    assert _snapshot(opt) == before


def test_numpy_and_tensor_values_are_accepted(space2):
    opt = bo.Optimizer(space2, seed=0)
    assert opt.tell(opt.ask(), np.float32(0.5)).value == 0.5
    assert opt.tell(opt.ask(), torch.tensor(0.25)).value == 0.25
    assert opt.tell(opt.ask(), np.int64(3)).value == 3.0
    assert isinstance(opt.trials[0].value, float)


# --- proposals --------------------------------------------------------------------------------


def test_batch_and_pending_points_are_distinct(space2):
    opt = bo.Optimizer(space2, seed=1, n_initial=4, propose_options=FAST)
    for t in opt.ask(4):
        opt.tell(t, quad(t.params))
    first = opt.ask(3)  # asynchronous: these stay pending
    second = opt.ask(2)
    points = torch.tensor([[t.params["x"], t.params["y"]] for t in first + second])
    assert torch.pdist(points).min() > 1e-3
    assert all(t.source == "model" for t in first + second)


def test_integer_space_never_repeats_while_values_remain():
    opt = bo.Optimizer(bo.Space({"k": bo.Integer(1, 5)}), seed=0)
    for _ in range(5):
        t = opt.ask()
        opt.tell(t, (t.params["k"] - 2) ** 2)
    assert sorted(t.params["k"] for t in opt.trials) == [1, 2, 3, 4, 5]
    extra = opt.ask()  # exhausted: a repeat is fine now, but still a proposal
    assert extra.params["k"] in range(1, 6)


def test_pending_integer_values_are_not_asked_again():
    opt = bo.Optimizer(bo.Space({"k": bo.Integer(1, 6)}), seed=3)
    batch = opt.ask(6)
    assert sorted(t.params["k"] for t in batch) == [1, 2, 3, 4, 5, 6]


def test_failures_steer_the_optimiser_away(space2):
    # Everything with x > 0 fails; the optimum of the rest is at x = 0 (boundary of failure).
    opt = bo.Optimizer(space2, seed=0, n_initial=6, propose_options=FAST)
    for _ in range(16):
        t = opt.ask()
        if t.params["x"] > 0:
            opt.tell(t, failed=True)
        else:
            opt.tell(t, (t.params["x"] - 0.5) ** 2 + t.params["y"] ** 2)
    model_trials = [t for t in opt.trials if t.source == "model"]
    failed = [t for t in model_trials if t.state == "failed"]
    assert len(failed) <= len(model_trials) // 2
    assert opt.best.params["x"] > -0.3  # it still closes in on the feasible optimum


@pytest.mark.parametrize(
    "objective",
    [
        lambda p: 1.0,  # constant
        lambda p: 1e-9 * quad(p),  # tiny scale
        lambda p: 1e9 * quad(p) + 1e12,  # huge scale and offset
        lambda p: float(round(p["x"])),  # plateaus
    ],
    ids=["constant", "tiny", "huge", "plateaus"],
)
def test_hard_objectives_give_proposals(space2, objective):
    opt = bo.Optimizer(space2, seed=0, n_initial=3, propose_options=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bo.FallbackWarning)  # the GP copes: no fallback
        for _ in range(6):
            t = opt.ask()
            space2.validate(t.params)
            opt.tell(t, objective(t.params))
    assert len({(t.params["x"], t.params["y"]) for t in opt.trials}) == 6


def test_standardisation_is_scale_and_offset_invariant():
    from bayesopt.gp import standardize

    y = torch.tensor([0.3, 1.7, -0.2, 5.0, 0.0], dtype=torch.float64)
    ref = standardize(y)
    assert float(ref.mean()) == pytest.approx(0.0, abs=1e-12)
    assert float(ref.std()) == pytest.approx(1.0)
    for scale, offset in ((1e-9, 0.0), (1e9, 1e12), (1e-300, 0.0), (1e300, 0.0)):
        assert torch.allclose(standardize(scale * y + offset), ref, atol=1e-6)
    assert torch.equal(standardize(torch.full((4,), 7.0, dtype=torch.float64)), torch.zeros(4))


def test_a_large_first_batch_extends_the_initial_design(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bo.FallbackWarning)
        batch = opt.ask(8)
    assert all(t.source == "initial" for t in batch)
    points = torch.tensor([[t.params["x"], t.params["y"]] for t in batch])
    assert torch.pdist(points).min() > 0.05


def test_duplicate_points_are_fine(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=2, propose_options=FAST)
    for v in (1.0, 2.0, 3.0):
        opt.add({"x": 0.5, "y": 0.5}, v)
    opt.add({"x": -0.5, "y": 0.5}, 0.0)
    t = opt.ask()
    assert t.source == "model"


def test_all_failed_falls_back_with_one_warning(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=2)
    for _ in range(2):
        opt.tell(opt.ask(), failed=True)
    with pytest.warns(bo.FallbackWarning, match="space-filling") as record:
        t = opt.ask()
    assert len(record) == 1 and t.source == "fallback"
    space2.validate(t.params)


def _three_told(space) -> bo.Optimizer:
    opt = bo.Optimizer(space, seed=0, n_initial=3)
    for _ in range(3):
        t = opt.ask()
        opt.tell(t, quad(t.params))
    return opt


def _raiser(exc: BaseException):
    def broken(*args, **kwargs):
        raise exc

    return broken


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (torch.linalg.LinAlgError("not positive definite"), bo.FallbackReason.NOT_PSD),
        (NotPSDError("not positive definite"), bo.FallbackReason.NOT_PSD),
        (ModelFittingError("gave up"), bo.FallbackReason.FIT_FAILED),
        (gp.SurrogateError("non-finite training data"), bo.FallbackReason.NON_FINITE),
    ],
)
def test_numerical_failure_falls_back_with_its_reason(space2, monkeypatch, exc, reason):
    opt = _three_told(space2)
    monkeypatch.setattr(gp, "fit", _raiser(exc))
    with pytest.warns(bo.FallbackWarning, match=str(exc)) as record:
        batch = opt.ask(2)
    assert [w.message.reason for w in record] == [reason]
    assert [t.source for t in batch] == ["fallback", "fallback"]
    assert batch[0].params != batch[1].params


def test_a_failed_cholesky_in_the_search_falls_back(space2, monkeypatch):
    opt = _three_told(space2)
    monkeypatch.setattr(propose, "maximize", _raiser(NotPSDError("Matrix not positive definite")))
    with pytest.warns(bo.FallbackWarning) as record:
        assert opt.ask().source == "fallback"
    assert record[0].message.reason is bo.FallbackReason.NOT_PSD


def test_too_few_complete_trials_is_a_reason(space2):
    opt = bo.Optimizer(space2, seed=0, n_initial=2)
    for _ in range(2):
        opt.tell(opt.ask(), failed=True)
    with pytest.warns(bo.FallbackWarning) as record:
        opt.ask()
    assert record[0].message.reason is bo.FallbackReason.TOO_FEW_COMPLETE


@pytest.mark.parametrize(
    ("module", "name", "exc"),
    [
        (gp.fitting, "build", AttributeError("'NoneType' object has no attribute 'shape'")),
        (gp.fitting, "map_fit", TypeError("map_fit() got an unexpected keyword")),
        (gp, "fit", ValueError("a plain bug")),
        (acquisition, "make", TypeError("make() missing 1 required argument")),
        (propose, "maximize", AttributeError("no attribute 'grids'")),
        (propose, "maximize", RuntimeError("a plain bug in the search")),
    ],
)
def test_bugs_surface_instead_of_falling_back(space2, monkeypatch, module, name, exc):
    """Only numerical failures fall back: a bug in the GP path must not turn the optimiser
    into a space-filling design behind a warning."""
    opt = _three_told(space2)
    monkeypatch.setattr(module, name, _raiser(exc))
    with warnings.catch_warnings():
        warnings.simplefilter("error", bo.FallbackWarning)
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            opt.ask()
    assert len(opt.trials) == 3  # the failed ask changed nothing


@pytest.mark.parametrize("acq", ["qlognei", "logei", "ucb", "pi", "ts"])
def test_every_acquisition_proposes_in_a_mixed_space(mixed_space, acq):
    opt = bo.Optimizer(mixed_space, seed=0, acquisition=acq, n_initial=4, propose_options=FAST)
    for t in opt.ask(4):
        opt.tell(t, t.params["x"] ** 2 + t.params["depth"] + (t.params["act"] == "relu"))
    batch = opt.ask(2)
    assert [t.source for t in batch] == ["model", "model"]
    for t in batch:
        mixed_space.validate(t.params)
    assert batch[0].params != batch[1].params


# --- reproducibility -------------------------------------------------------------------------


def _trace(space, seed, acq="qlognei"):
    opt = bo.Optimizer(space, seed=seed, acquisition=acq, n_initial=3, propose_options=FAST)
    for i in range(5):
        batch = opt.ask(2) if i == 3 else [opt.ask()]
        for t in batch:
            opt.tell(t, quad(t.params))
    return [t.params for t in opt.trials]


def test_same_seed_same_asks_byte_for_byte(space2):
    torch.manual_seed(0)
    a = _trace(space2, seed=11)
    torch.manual_seed(999)  # the global RNG state must not matter
    np.random.seed(5)
    b = _trace(space2, seed=11)
    assert repr(a) == repr(b)
    assert a != _trace(space2, seed=12)


def test_global_rng_state_is_untouched(space2):
    torch.manual_seed(42)
    np.random.seed(42)
    expected = (torch.rand(3), np.random.rand(3))
    torch.manual_seed(42)
    np.random.seed(42)
    _trace(space2, seed=None)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])


def test_thread_settings_untouched(space2):
    before = torch.get_num_threads()
    _trace(space2, seed=0)
    assert torch.get_num_threads() == before


# --- property test: random sequences of calls ------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(1, 3)),
        st.tuples(st.just("tell"), st.floats(allow_nan=True, allow_infinity=True)),
        st.tuples(st.just("fail"), st.none()),
        st.tuples(st.just("bad"), st.integers(-5, 50)),
    ),
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_random_call_sequences_keep_invariants(mixed_space, ops):
    opt = bo.Optimizer(mixed_space, seed=0, n_initial=3, propose_options=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bo.FallbackWarning)
        for op, arg in ops:
            pending = opt.pending
            if op == "ask":
                out = opt.ask(arg)
                assert len(out) == arg and all(t.state == "pending" for t in out)
                for t in out:
                    mixed_space.validate(t.params)
            elif op in ("tell", "fail") and pending:
                t = opt.tell(pending[0], arg) if op == "tell" else opt.tell(pending[0], failed=True)
                expect_ok = op == "tell" and math.isfinite(arg)
                assert t.state == ("complete" if expect_ok else "failed")
            elif op == "bad":
                before = _snapshot(opt)
                with pytest.raises((ValueError, TypeError)):
                    unknown = not 0 <= arg < len(opt.trials)
                    if unknown or opt.trials[arg].is_finished:
                        opt.tell(arg, 1.0)
                    else:
                        opt.tell(arg, "nope")
                assert _snapshot(opt) == before
    trials = opt.trials
    assert [t.id for t in trials] == list(range(len(trials)))
    complete = [t for t in trials if t.state == "complete"]
    assert (opt.best is None) == (not complete)
    if complete:
        assert opt.best.value == min(t.value for t in complete)


# --- edge cases found in review ---------------------------------------------------------------


def test_batch_after_pending_keeps_away_from_every_pending_point():
    space = bo.Space({"x": bo.Real(0.0, 1.0)})
    opt = bo.Optimizer(space, seed=0, n_initial=4, propose_options=FAST)
    for t in opt.ask(4):
        opt.tell(t, (t.params["x"] - 0.4) ** 2)
    held = opt.ask(2)  # stays pending
    batch = opt.ask(4)
    xs = torch.tensor([t.params["x"] for t in held + batch])
    assert torch.pdist(xs.unsqueeze(1)).min() > 0.005


def test_returned_trials_are_copies(space2):
    opt = bo.Optimizer(space2, seed=0)
    t = opt.ask()
    t.params["x"] = 5.0
    assert opt.trials[0].params["x"] != 5.0
    opt.trials[0].params["y"] = 9.0
    assert opt.pending[0].params["y"] != 9.0
    with pytest.raises(ValueError, match="does not belong"):
        opt.tell(t, 1.0)
    opt.tell(t.id, 1.0)
    opt.ask()  # still works


def test_seed_rules_and_full_width(space2):
    a = [t.params for t in bo.Optimizer(space2, seed=5).ask(3)]
    b = [t.params for t in bo.Optimizer(space2, seed=5 + 2**32).ask(3)]
    assert a != b
    assert len(bo.Optimizer(space2, seed=2**70).ask(2)) == 2
    with pytest.raises(ValueError, match="seed >= 0"):
        bo.Optimizer(space2, seed=-1)


def test_propose_options_are_validated():
    with pytest.raises(ValueError, match="raw_samples >= 1"):
        bo.ProposeOptions(raw_samples=0)
    with pytest.raises(TypeError, match="batch_size"):
        bo.ProposeOptions(batch_size="many")


def test_thompson_hedges_are_validated():
    with pytest.raises(ValueError, match="0 <= thompson_share <= 1"):
        bo.ProposeOptions(thompson_share=1.5)
    with pytest.raises(TypeError, match="`thompson_share` must be a float"):
        bo.ProposeOptions(thompson_share="some")
    with pytest.raises(ValueError, match="thompson_after >= 0"):
        bo.ProposeOptions(thompson_after=-1)


def _thompson_calls(monkeypatch, options: bo.ProposeOptions, values: list[float]) -> list[int]:
    """Tell ``values`` one ask at a time; the asks (0-based) that took a Thompson sample."""
    from bayesopt import propose

    calls: list[int] = []
    original = propose.thompson

    def counted(*args, **kwargs):
        calls.append(sum(t.state != "pending" for t in opt.trials))  # the ask's position
        return original(*args, **kwargs)

    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})
    opt = bo.Optimizer(space, seed=3, n_initial=4, propose_options=options)
    with monkeypatch.context() as patch:
        patch.setattr(propose, "thompson", counted)
        for v in values:
            opt.tell(opt.ask(), v)
    return calls


def test_thompson_after_stagnation_takes_every_other_ask(monkeypatch):
    # Trials 0-3 are the design; the best (1.0) comes at trial 1, then nothing improves.
    values = [5.0, 1.0, 4.0, 3.0, 2.0, 2.5, 6.0, 7.0, 8.0, 9.0, 9.5]
    calls = _thompson_calls(monkeypatch, bo.ProposeOptions(thompson_after=4), values)
    # Before ask k, k - 2 trials have failed to improve: a sample at k = 6, 8, 10.
    assert calls == [6, 8, 10]
    assert _thompson_calls(monkeypatch, FAST, values) == []


def test_thompson_share_is_drawn_from_the_seed(monkeypatch):
    values = [float(v) for v in range(12, 0, -1)]
    every = _thompson_calls(monkeypatch, bo.ProposeOptions(thompson_share=1.0), values)
    assert every == list(range(4, 12))  # every model ask
    some = _thompson_calls(monkeypatch, bo.ProposeOptions(thompson_share=0.5), values)
    assert 0 < len(some) < 8
    assert some == _thompson_calls(monkeypatch, bo.ProposeOptions(thompson_share=0.5), values)


def test_portfolio_is_validated():
    for bad in (("qlognei",), ("qlognei", "qlognei"), ("qlognei", "nope")):
        with pytest.raises(ValueError, match="`portfolio` must be empty or hold at least two"):
            bo.ProposeOptions(portfolio=bad)
    with pytest.raises(TypeError, match="`portfolio` must be a tuple of str"):
        bo.ProposeOptions(portfolio=["qlognei", "ucb"])


def test_portfolio_draws_arms_by_their_record_and_resumes_exactly(monkeypatch, tmp_path):
    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})
    options = bo.ProposeOptions(portfolio=("qlognei", "ucb", "ts"))
    drawn: dict[int, str] = {}
    original = bo.Optimizer._portfolio_arm

    def recorded(self, position):
        drawn[position] = original(self, position)
        return drawn[position]

    def f(p):
        return (p["x"] - 0.3) ** 2 + (p["y"] - 0.7) ** 2

    def run(opt, rounds, parallel):
        for _ in range(rounds):  # with parallel asks, each ask sees the other pending
            trials = [opt.ask() for _ in range(parallel)]
            for trial in reversed(trials):
                opt.tell(trial, f(trial.params))
        return opt

    for parallel in (1, 2):
        drawn.clear()
        path = tmp_path / f"study{parallel}.jsonl"
        with monkeypatch.context() as patch:
            patch.setattr(bo.Optimizer, "_portfolio_arm", recorded)
            opt = bo.Optimizer(space, seed=1, n_initial=4, propose_options=options, storage=path)
            run(opt, 16 // parallel, parallel)
        arms, wins, losses = opt._portfolio_replay()
        assert arms == drawn  # the replay credits each trial to the arm its ask drew
        assert len(set(drawn.values())) >= 2
        assert sum(wins) + sum(losses) == 12  # every finished model trial counts once
        assert min(t.value for t in opt.trials) < 0.01
        resumed = bo.Optimizer(space, seed=1, n_initial=4, propose_options=options, storage=path)
        assert resumed._portfolio_replay() == (arms, wins, losses)
        if parallel == 1:
            again = run(bo.Optimizer(space, seed=1, n_initial=4, propose_options=options), 16, 1)
            assert resumed.ask().params == again.ask().params
    assert bo.load(path).propose_options.portfolio == ("qlognei", "ucb", "ts")
    with pytest.raises(ValueError, match="portfolio=.*one objective told as floats"):
        bo.Optimizer(space, propose_options=options, failure_model="classifier")
    with pytest.raises(ValueError, match="portfolio"):
        bo.Optimizer(space, propose_options=options, objectives={"a": "min", "b": "min"})


def test_numpy_bool_failed_flag(space2):
    opt = bo.Optimizer(space2, seed=0)
    assert opt.tell(opt.ask(), failed=np.True_).state == "failed"


def test_huge_integer_space_uses_the_model():
    space = bo.Space({"n": bo.Integer(0, 10**9), "x": bo.Real(0, 1)})
    opt = bo.Optimizer(space, seed=0, n_initial=4, propose_options=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bo.FallbackWarning)
        for _ in range(6):
            t = opt.ask()
            opt.tell(t, abs(t.params["n"] - 123_456_789) / 1e9 + t.params["x"])
    assert opt.trials[-1].source == "model"


def test_initial_design_kind_and_model_options_are_validated(space2):
    with pytest.raises(ValueError, match="`initial_design` must be one of"):
        bo.Optimizer(space2, initial_design="lhs")
    with pytest.raises(TypeError, match="`model_options` must be a bayesopt.ModelOptions"):
        bo.Optimizer(space2, model_options={"kernel": "rbf"})


def test_uniform_initial_design_differs_from_sobol_and_is_seeded(space2):
    def first(kind, seed):
        opt = bo.Optimizer(space2, seed=seed, initial_design=kind, n_initial=4)
        return [t.params for t in opt.ask(4)]

    assert first("random", 3) == first("random", 3)
    assert first("random", 3) != first("sobol", 3)


def test_local_model_beyond_max_exact_keeps_the_nearest_to_the_best():
    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})
    opt = bo.Optimizer(space, seed=0, model_options=bo.ModelOptions(max_exact=12))
    g = torch.Generator().manual_seed(0)
    for x, y in torch.rand(40, 2, generator=g, dtype=torch.float64).tolist():
        opt.add({"x": x, "y": y}, (x - 0.2) ** 2 + (y - 0.7) ** 2)
    data = opt.model_data()
    X, y = data.X, data.y
    X_local, y_local = opt._local_data(X, y)
    assert len(X_local) == 12
    centre = X[int(torch.argmax(y))]
    radius = torch.linalg.vector_norm(X_local - centre, dim=1).max()
    outside = torch.linalg.vector_norm(X - centre, dim=1) > radius
    assert int(outside.sum()) == 40 - 12
    assert float(y_local.mean()) == pytest.approx(0.0, abs=1e-9)
    trial = opt.ask()  # the local model proposes a fresh point near the best region
    assert trial.source == "model"
    assert (trial.params["x"] - 0.2) ** 2 + (trial.params["y"] - 0.7) ** 2 < 0.1


def test_independent_lbfgs_runs_are_reproducible_and_leave_global_rngs_alone(space2):
    options = propose.ProposeOptions(raw_samples=128, n_restarts=3, lbfgs="independent")

    def trace(seed):
        opt = bo.Optimizer(space2, seed=seed, n_initial=3, propose_options=options)
        for _ in range(6):
            t = opt.ask()
            opt.tell(t, quad(t.params))
        assert [t.source for t in opt.trials].count("model") == 3
        return [t.params for t in opt.trials]

    torch.manual_seed(42)
    np.random.seed(42)
    expected = (torch.rand(3), np.random.rand(3))
    torch.manual_seed(42)
    np.random.seed(42)
    a = trace(5)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    torch.manual_seed(7)
    assert repr(trace(5)) == repr(a)


def test_closed_form_batches_are_distinct_reproducible_and_validated():
    with pytest.raises(ValueError, match="`closed_form` must be one of"):
        bo.ProposeOptions(closed_form="yes")
    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})

    def batches(seed: int) -> list[list[dict]]:
        opt = bo.Optimizer(
            space, seed=seed, propose_options=bo.ProposeOptions(closed_form="batches")
        )
        out = []
        for _ in range(3):
            trials = opt.ask(4)
            out.append([t.params for t in trials])
            for t in trials:
                opt.tell(t, (t.params["x"] - 0.3) ** 2 + (t.params["y"] - 0.7) ** 2)
        return out

    first = batches(2)
    assert first == batches(2)
    last = first[-1]
    assert len({(p["x"], p["y"]) for p in last}) == 4
    assert min(math.dist((p["x"], p["y"]), (q["x"], q["y"]))
               for i, p in enumerate(last) for q in last[i + 1:]) > 1e-3  # fmt: skip


@pytest.mark.parametrize("structure", ["additive", "ard+additive"])
def test_summed_kernels_optimise_a_separable_function_reproducibly(structure):
    space = bo.Space({f"x{i}": bo.Real(0.0, 1.0) for i in range(4)})

    def loss(params: dict[str, float]) -> float:
        return sum((params[f"x{i}"] - 0.3) ** 2 for i in range(4))

    def run() -> list[dict[str, float]]:
        options = bo.ModelOptions(structure=structure)
        opt = bo.Optimizer(space, seed=3, model_options=options)
        for _ in range(25):
            trial = opt.ask()
            opt.tell(trial, loss(trial.params))
        assert opt.best.value < 0.01  # the optimum is 0 at x = 0.3 in every coordinate
        return [t.params for t in opt.trials]

    assert run() == run()
