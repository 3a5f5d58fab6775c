"""Intermediate reports and pruners: decisions on hand-made curves, journals, bad input."""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path

import pytest

import bayesopt as bo
from bayesopt.pruners import ASHA, Hyperband, MedianPruner, SuccessiveHalving

SPACE = bo.Space({"x": bo.Real(0.0, 1.0)})


def _run(opt: bo.AskTell, curve: list[float], steps: list[float] | None = None) -> bo.Trial:
    """Ask a trial, report ``curve`` step by step while the pruner lets it go on, then tell
    its last value."""
    t = opt.ask()
    for step, value in zip(steps or range(1, len(curve) + 1), curve, strict=True):
        opt.report(t, step, value)
        if opt.should_stop(t):
            return opt.trials[t.id]
    return opt.tell(t, curve[-1])


# --- MedianPruner -----------------------------------------------------------------------------
def test_the_median_pruner_stops_a_trial_worse_than_the_median_at_its_step():
    opt = bo.RandomSearch(SPACE, seed=0, pruner=MedianPruner(warmup_steps=2, min_trials=3))
    for level in (1.0, 2.0, 3.0):  # finished trials: best values 1, 2, 3 at every step
        _run(opt, [level + 1, level, level])
    bad = _run(opt, [5.0, 4.0, 3.5])  # step 1 is warm-up; at step 2: 4 > median 2
    assert bad.state is bo.TrialState.PRUNED and bad.intermediate == ((1, 5.0), (2, 4.0))
    assert bad.value == 4.0 and bad.error is None
    good = _run(opt, [5.0, 1.5, 1.2])  # 1.5 < median(2, 3, 4 ...) goes on
    assert good.state is bo.TrialState.COMPLETE


def test_the_median_pruner_waits_for_min_trials_and_compares_best_values_so_far():
    opt = bo.RandomSearch(SPACE, seed=0, pruner=MedianPruner(min_trials=2))
    _run(opt, [1.0, 1.0])
    t = opt.ask()
    opt.report(t, 1, 9.0)
    assert not opt.should_stop(t)  # one finished trial only
    _run(opt, [2.0, 2.0])
    assert opt.should_stop(t)  # 9 > median(1, 2)
    maxi = bo.RandomSearch(SPACE, seed=0, maximize=True, pruner=MedianPruner(min_trials=2))
    _run(maxi, [1.0, 3.0])
    _run(maxi, [2.0, 2.0])
    u = maxi.ask()
    maxi.report(u, 1, 0.5)
    maxi.report(u, 2, 2.6)  # best so far 2.6 (maximising) > median(3, 2) = 2.5
    assert not maxi.should_stop(u)


# --- successive halving -----------------------------------------------------------------------
def test_asha_promotes_the_top_third_of_those_that_reached_a_rung_before():
    opt = bo.RandomSearch(SPACE, seed=0, pruner=ASHA(min_resource=1, reduction_factor=3))
    trials = opt.ask(6)
    values = [0.5, 0.7, 0.2, 0.9, 0.1, 0.6]
    decisions = []
    for t, v in zip(trials, values, strict=True):
        opt.report(t, 1, v)
        decisions.append(opt.should_stop(t))
    # Rivals (incl. itself) and the top max(1, n // 3) of them:
    # 0.5 alone: goes on; 0.7 of (0.5, 0.7): top 1 is 0.5 -> stop; 0.2 of 3: best -> on;
    # 0.9 of 4: stop; 0.1 of 5: best -> on; 0.6 of 6: top 2 are 0.1, 0.2 -> stop.
    assert decisions == [False, True, False, True, False, True]
    # Asking again at the same rung never reverses a decision that let a trial go on.
    assert not opt.should_stop(trials[0])
    # The next rung is at 3: trials 0, 2 and 4 reach it in the order 4, 0, 2.
    for t, v in ((trials[4], 0.05), (trials[0], 0.3), (trials[2], 0.01)):
        opt.report(t, 3, v)
    assert [opt.should_stop(t) for t in (trials[4], trials[0], trials[2])] == [
        False,  # alone
        True,  # 0.3 behind 0.05
        False,  # 0.01 leads 3 rivals: top 1
    ]


def test_asha_uses_the_first_report_at_or_beyond_a_rung_and_respects_max_resource():
    pruner = SuccessiveHalving(min_resource=2, reduction_factor=2, max_resource=8)
    opt = bo.RandomSearch(SPACE, seed=0, pruner=pruner)
    a, b = opt.ask(2)
    opt.report(a, 2.5, 1.0)  # rung 2's value of a: 1.0
    opt.report(b, 1, 0.0)  # below the first rung: no decision
    assert not opt.should_stop(b)
    opt.report(b, 3, 2.0)  # rung 2's value of b: 2.0, behind a
    assert opt.should_stop(b)
    opt.report(a, 8, 0.5)  # the full budget: judged at the last rung below it (4), alone
    assert not opt.should_stop(a)
    with pytest.raises(ValueError, match="beyond the pruner's max_resource=8"):
        opt.report(a.id, 9, 0.1)


def test_hyperband_brackets_are_deterministic_proportional_and_separate():
    hb = Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    assert hb.n_brackets == 4
    brackets = [hb.bracket(i, seed=5) for i in range(4000)]
    assert brackets == [hb.bracket(i, seed=5) for i in range(4000)]
    counts = collections.Counter(brackets)
    sizes = [4, 6, 12, 27]  # ceil(4 / (s + 1) * 3**s)
    for s, size in enumerate(sizes):
        assert abs(counts[s] / 4000 - size / sum(sizes)) < 0.03
    # Bracket 0 runs everything to the full budget; others compete only among themselves.
    opt = bo.RandomSearch(SPACE, seed=5, pruner=hb)
    trials = opt.ask(40)
    by_bracket = collections.defaultdict(list)
    for t in trials:
        by_bracket[hb.bracket(t.id, 5)].append(t)
    for t in trials:
        opt.report(t, 27, 1.0 + t.id)  # every trial reaches every rung, worse with its id
    for s, members in by_bracket.items():
        stops = [opt.should_stop(t) for t in members]
        if s == 0:
            assert not any(stops)
        else:  # the first member of a bracket leads it; a later one is always behind
            assert stops[0] is False and all(stops[1:])


# --- states, the journal and several writers -----------------------------------------------
def test_a_pruned_trial_keeps_its_curve_is_not_best_and_cannot_be_told(tmp_path):
    opt = bo.Optimizer(SPACE, seed=0, n_initial=3, pruner=ASHA(reduction_factor=2))
    _run(opt, [0.1, 0.1])
    t = _run(opt, [0.9, 0.9])
    assert t.state is bo.TrialState.PRUNED and t.is_finished
    assert opt.best.value == 0.1
    with pytest.raises(ValueError, match="already told"):
        opt.tell(t, 0.0)
    with pytest.raises(ValueError, match="already 'pruned'"):
        opt.report(t, 5, 0.0)
    assert opt.should_stop(t)  # still stopped
    for i in range(3):  # the GP, fitted at a rung (BOHB-style), still proposes
        _run(opt, [0.09 - 0.01 * i, 0.08 - 0.01 * i])
    assert opt.trials[-1].source is bo.Source.MODEL
    assert opt.to_records()[1]["state"] == "pruned" and opt.to_records()[1]["last_step"] == 1


def test_a_resumed_study_makes_the_same_pruning_decisions(tmp_path):
    path = tmp_path / "study.jsonl"
    curves = [[0.5, 0.4, 0.3], [0.9, 0.8, 0.7], [0.2, 0.1, 0.1], [0.6, 0.3, 0.2]] * 2

    def study(reopen: bool) -> list[bo.Trial]:
        pruner = Hyperband(min_resource=1, max_resource=3, reduction_factor=3)
        make = lambda: bo.RandomSearch(SPACE, seed=1, pruner=pruner, storage=path)  # noqa: E731
        opt = make() if reopen else bo.RandomSearch(SPACE, seed=1, pruner=pruner)
        for curve in curves:
            t = opt.ask()
            for step, value in enumerate(curve, start=1):
                if reopen:
                    opt.close()
                    opt = make()
                opt.report(t.id, step, value)
                if opt.should_stop(t.id):
                    break
            else:
                opt.tell(t.id, curve[-1])
        return opt.trials

    plain, resumed = study(reopen=False), study(reopen=True)
    key = lambda t: (t.id, t.params, t.state, t.value, t.intermediate)  # noqa: E731
    assert [key(t) for t in plain] == [key(t) for t in resumed]
    assert {t.state for t in plain} == {bo.TrialState.PRUNED, bo.TrialState.COMPLETE}
    loaded = bo.load(path)
    assert loaded.pruner == Hyperband(min_resource=1, max_resource=3, reduction_factor=3)
    assert [key(t) for t in loaded.trials] == [key(t) for t in plain]
    events = [json.loads(line)["event"] for line in path.read_text().splitlines()]
    assert "reported" in events and "pruned" in events


def test_writers_sharing_a_journal_share_the_rungs(tmp_path):
    path = tmp_path / "shared.jsonl"
    a = bo.RandomSearch(SPACE, seed=0, pruner=ASHA(reduction_factor=2), storage=path)
    b = bo.RandomSearch(SPACE, pruner=ASHA(reduction_factor=2), storage=path)
    ta = a.ask()
    a.report(ta, 1, 0.1)
    assert not a.should_stop(ta)
    tb = b.ask()
    b.report(tb, 1, 0.5)
    assert b.should_stop(tb)  # b saw a's report at the rung
    assert len(a.trials) == 1  # a has not read b's trial yet...
    a.tell(ta, 0.1)
    assert a.trials[tb.id].state is bo.TrialState.PRUNED  # ...and has now


def test_resuming_with_another_pruner_is_a_clear_error(tmp_path):
    path = tmp_path / "study.jsonl"
    bo.RandomSearch(SPACE, seed=0, pruner=ASHA(), storage=path).close()
    with pytest.raises(ValueError, match="pruner"):
        bo.RandomSearch(SPACE, seed=0, pruner=MedianPruner(), storage=path)
    with pytest.raises(ValueError, match="pruner"):
        bo.RandomSearch(SPACE, seed=0, storage=path)
    bo.RandomSearch(SPACE, seed=0, pruner=ASHA(), storage=path).close()


# --- bad input ----------------------------------------------------------------------------------
def test_bad_reports_are_clear_errors_that_change_nothing(tmp_path):
    path = tmp_path / "study.jsonl"
    opt = bo.RandomSearch(SPACE, seed=0, pruner=ASHA(max_resource=9), storage=path)
    t = opt.ask()
    opt.report(t, 2, 0.5)
    done = opt.ask()
    opt.tell(done, 1.0)
    lines = path.read_text()
    bad = [
        ((t, 2, 0.4), ValueError, "must increase"),
        ((t, 1.5, 0.4), ValueError, "must increase"),
        ((t, -1, 0.4), ValueError, "finite and >= 0"),
        ((t, float("inf"), 0.4), ValueError, "finite and >= 0"),
        ((t, 10, 0.4), ValueError, "max_resource=9"),
        ((t, "3", 0.4), TypeError, "`step` must be a number"),
        ((t, True, 0.4), TypeError, "`step` must be a number"),
        ((t, 3, "0.4"), TypeError, "`value` must be a real number"),
        ((99, 3, 0.4), ValueError, "unknown trial id 99"),
        ((done, 3, 0.4), ValueError, "already 'complete'"),
        ((bo.Trial(0, {"x": 2.0}), 3, 0.4), ValueError, "does not belong"),
    ]
    for args, error, match in bad:
        with pytest.raises(error, match=match):
            opt.report(*args)
    with pytest.raises(ValueError, match="already 'complete'"):
        opt.should_stop(done)
    with pytest.raises(ValueError, match="already 'complete'"):
        opt.prune(done)
    assert path.read_text() == lines
    assert opt.trials[t.id].intermediate == ((2, 0.5),)
    with pytest.raises(TypeError, match="`pruner` must be"):
        bo.Optimizer(SPACE, pruner="asha")
    for make, match in [
        (lambda: ASHA(reduction_factor=1), "reduction_factor"),
        (lambda: ASHA(min_resource=0), "min_resource"),
        (lambda: ASHA(min_resource=5, max_resource=2), "max_resource"),
        (lambda: Hyperband(max_resource=float("inf")), "max_resource"),
        (lambda: MedianPruner(warmup_steps=-1), "warmup_steps"),
        (lambda: MedianPruner(min_trials=0), "min_trials"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()


def test_a_non_finite_report_prunes_the_trial_with_the_reason():
    opt = bo.RandomSearch(SPACE, seed=0)
    t = opt.ask()
    opt.report(t, 1, 0.5)
    pruned = opt.report(t, 2, float("nan"))
    assert pruned.state is bo.TrialState.PRUNED and pruned.value is None
    assert pruned.error == "intermediate value at step 2: value nan is not finite"
    assert opt.should_stop(t)


def test_without_a_pruner_nothing_stops_but_prune_does():
    opt = bo.RandomSearch(SPACE, seed=0)
    t = opt.ask()
    for step in range(1, 20):
        opt.report(t, step, 100.0 * step)
        assert not opt.should_stop(t)
    assert opt.prune(t).value == 1900.0
    assert opt.trials[t.id].state is bo.TrialState.PRUNED


def test_a_pruned_study_journal_reads_back_exactly(tmp_path):
    path = Path(tmp_path) / "s.jsonl"
    opt = bo.RandomSearch(SPACE, seed=0, pruner=MedianPruner(min_trials=1), storage=path)
    _run(opt, [1.0, 0.5])
    t = _run(opt, [2.0, 1.9])
    assert t.state is bo.TrialState.PRUNED
    again = bo.load(path).trials
    assert again[t.id].intermediate == ((1, 2.0),) and again[t.id].value == 2.0


# --- minimize -------------------------------------------------------------------------------
def _curve_objective(params: dict, trial: bo.TrialHandle) -> float:
    """A learning curve per configuration: the loss falls with the epochs towards
    ``(x - 0.3)**2``; bad configurations are visible from the first epochs."""
    loss = math.inf
    for epoch in range(1, 10):
        loss = (params["x"] - 0.3) ** 2 + 0.5 / epoch
        trial.report(epoch, loss)
        if trial.should_stop():
            return loss  # ignored: the trial is pruned already
    return loss


def test_minimize_prunes_through_the_trial_handle_and_saves_epochs():
    epochs = []
    result = bo.minimize(
        _curve_objective, SPACE, 20, seed=0, progress=False, n_initial=4,
        pruner=ASHA(min_resource=1, reduction_factor=3),
        callbacks=[lambda opt, t: epochs.append(len(t.intermediate))],
    )  # fmt: skip
    states = collections.Counter(t.state for t in result.trials)
    assert states[bo.TrialState.PRUNED] >= 5 and states[bo.TrialState.COMPLETE] >= 3
    assert sum(epochs) < 0.75 * 9 * 20  # pruning saved at least a quarter of the epochs
    assert abs(result.best.params["x"] - 0.3) < 0.1
    assert all(t.value is not None for t in result.trials)


def test_an_objective_raising_pruned_is_pruned_and_threads_work():
    import concurrent.futures as cf

    def f(params: dict, trial: bo.TrialHandle) -> float:
        trial.report(1, params["x"])
        if params["x"] > 0.5:
            raise bo.Pruned
        return params["x"]

    with cf.ThreadPoolExecutor(2) as pool:
        result = bo.minimize(f, SPACE, 8, seed=1, progress=False, executor=pool, n_workers=2)
    for t in result.trials:
        assert t.state is (bo.TrialState.PRUNED if t.params["x"] > 0.5 else bo.TrialState.COMPLETE)
        assert t.intermediate == ((1, t.params["x"]),)


def test_a_handle_objective_in_worker_processes_is_a_clear_error():
    with pytest.raises(TypeError, match=r"f\(params, trial\).*n_workers=1"):
        bo.minimize(_curve_objective, SPACE, 4, n_workers=2, progress=False)


def test_an_optional_second_argument_gets_no_handle():
    def f(params: dict, scale: float = 2.0) -> float:
        return scale * params["x"]

    result = bo.minimize(f, SPACE, 3, seed=0, progress=False)
    assert all(t.value == 2.0 * t.params["x"] for t in result.trials)


# --- BOHB-style: the GP at the largest rung with enough trials ---------------------------------
def test_the_pruners_name_their_rungs():
    assert ASHA(1, 3, max_resource=27).rungs(100) == (1, 3, 9, 27)
    assert ASHA(1, 3, max_resource=10).rungs(100) == (1, 3, 9, 10)
    assert SuccessiveHalving(2, 2).rungs(10) == (2, 4, 8)  # no max: up to the top step
    assert Hyperband(1, 27, 3).rungs(5) == (1, 3, 9, 27)
    assert Hyperband(1, 50, 3).rungs(50) == pytest.approx((50 / 27, 50 / 9, 50 / 3, 50))
    assert MedianPruner().rungs(5) is None


def test_bohb_fits_the_gp_at_the_largest_rung_that_enough_trials_reached():
    # One dimension: a rung needs d + 2 = 3 values.
    opt = bo.Optimizer(SPACE, seed=0, n_initial=20, pruner=ASHA(1, 3, max_resource=9))
    trials = [opt.ask() for _ in range(6)]
    for t, level in zip(trials, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], strict=True):
        opt.report(t, 1, level)  # six values at rung 1
    assert opt.model_data().budget == 1 and len(opt.model_data().X) == 6
    for t in trials[:3]:
        opt.report(t, 2, 0.4)
        opt.report(t, 4, t.id / 10)  # first report at or beyond rung 3: step 4
    data = opt.model_data()
    assert data.budget == 3 and data.values.tolist() == [0.0, 0.1, 0.2]
    assert data.X[:, 0].tolist() == [t.params["x"] for t in trials[:3]]
    # Complete trials count at every rung at or beyond their last report; three of them
    # fill the top level (the complete trials).
    for t, value in zip(trials[:3], (0.3, 0.2, 0.1), strict=True):
        opt.tell(t, value)
    data = opt.model_data()
    assert data.budget == math.inf and data.values.tolist() == [0.3, 0.2, 0.1]
    # Failed trials, and those pruned for a non-finite report, are imputed with the worst.
    opt.tell(trials[3], failed=True)
    opt.report(trials[4], 2, float("nan"))
    data = opt.model_data()
    assert len(data.X_failed) == 2 and data.values.tolist() == [0.3, 0.2, 0.1, 0.3, 0.3]


def test_bohb_imputes_the_trials_stopped_below_its_rung_as_losers():
    opt = bo.Optimizer(SPACE, seed=0, pruner=ASHA(1, 3, max_resource=9))
    trials = opt.ask(5)
    for t in trials:
        opt.report(t, 1, t.id / 10)
    for t in trials[:3]:
        opt.report(t, 3, t.id / 20)
    opt.prune(trials[3])  # stopped at rung 1: lost against those that went on
    data = opt.model_data()  # rung 3: trials 0-2; trial 3 imputed with the worst value
    assert data.budget == 3 and len(data.X_failed) == 1
    assert data.X_failed[0, 0] == trials[3].params["x"]
    assert data.values.tolist() == [0.0, 0.05, 0.1, 0.1]
    assert data.failed.tolist() == [False, False, False, True]


def test_bohb_without_enough_values_anywhere_takes_the_fullest_rung():
    opt = bo.Optimizer(SPACE, seed=0, pruner=Hyperband(1, 9, 3))
    a, b, c = opt.ask(3)
    for t, v in ((a, 0.5), (b, 0.7)):
        opt.report(t, 1, v)
        opt.report(t, 3, v / 2)
    opt.report(c, 1, 0.9)
    data = opt.model_data()  # rung 1 holds 3 values (= d + 2): chosen over rung 3's two
    assert data.budget == 1 and data.values.tolist() == [0.5, 0.7, 0.9]
    only = bo.Optimizer(SPACE, seed=0, pruner=Hyperband(1, 9, 3))
    t = only.ask()
    only.report(t, 1, 0.5)
    with pytest.raises(ValueError, match="at least 2 trials with a value"):
        only.model_data()


def test_bohb_proposes_from_pruned_trials_before_any_is_complete():
    opt = bo.Optimizer(SPACE, seed=0, n_initial=4, pruner=ASHA(1, 3, max_resource=27))
    for _ in range(8):
        t = opt.ask()
        opt.report(t, 1, (t.params["x"] - 0.3) ** 2)
        opt.prune(t)
    assert not any(t.state is bo.TrialState.COMPLETE for t in opt.trials)
    assert [t.source for t in opt.trials[4:]] == [bo.Source.MODEL] * 4
    assert abs(opt.trials[-1].params["x"] - 0.3) < 0.15
