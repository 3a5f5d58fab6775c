"""Multi-fidelity optimisation: budgets, the multi-fidelity GP, its asks, journals, bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch

import bayesopt as bo
from bayesopt import gp
from bayesopt.multifidelity import (
    Fidelity,
    choose_budget,
    curve_data,
    initial_budgets,
    promotion,
)

SPACE = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})


def _curve(params: dict, step: float) -> float:
    """A learning curve: the loss falls with the steps towards a bowl at (0.3, 0.6)."""
    return (params["x"] - 0.3) ** 2 + (params["y"] - 0.6) ** 2 + 0.5 / step


def _train(opt: bo.Optimizer, n: int, reopen=None) -> bo.Optimizer:
    """``n`` trials: each reports every step up to its budget; stopped ones end pruned,
    full-budget ones are told. ``reopen(opt)`` (if given) runs between every two calls."""
    top = opt.fidelity.max_step
    for _ in range(n):
        opt = reopen(opt) if reopen else opt
        t = opt.ask()
        for step in range(1, top + 1):
            opt = reopen(opt) if reopen else opt
            opt.report(t.id, step, _curve(t.params, step))
            opt = reopen(opt) if reopen else opt
            if opt.should_stop(t.id):
                break
        else:
            opt.tell(t.id, _curve(t.params, top))
    return opt


# --- Fidelity ------------------------------------------------------------------------------------
def test_fidelity_grid_units_costs_and_initial_budgets():
    fid = Fidelity(1, 50)
    assert fid.model == "gp" and fid.kernel == "matern"  # the measured defaults
    assert fid.integer and fid.budgets == (2, 6, 17, 50)
    assert fid.to_unit(1) == 0.0 and fid.to_unit(50) == 1.0
    assert fid.to_unit(math.sqrt(50)) == pytest.approx(0.5)
    assert Fidelity(0.1, 1.0, reduction_factor=2).budgets == pytest.approx((0.125, 0.25, 0.5, 1.0))
    assert Fidelity(1, 9, fixed_cost=2.5).cost(3) == 5.5
    assert initial_budgets(fid, 13) == [50, 17, 6, 6, 6] + [2] * 8
    assert initial_budgets(fid, 1) == [2]
    assert fid.schedule() == bo.pruners.Hyperband(1, 50, 3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"min_step": 5, "max_step": 5}, ValueError, "min_step < max_step"),
        ({"min_step": 0, "max_step": 5}, ValueError, "0 < min_step"),
        ({"min_step": 1, "max_step": math.inf}, ValueError, "`max_step` must be finite"),
        ({"min_step": "1", "max_step": 5}, TypeError, "`min_step` must be a number"),
        ({"min_step": 1, "max_step": 5, "model": "kg"}, ValueError, "`model` must be one of"),
        ({"min_step": 1, "max_step": 5, "reduction_factor": 1}, ValueError, "reduction_factor"),
        ({"min_step": 1, "max_step": 5, "fixed_cost": -1}, ValueError, "fixed_cost"),
        ({"min_step": 1, "max_step": 5, "kernel": "rbf"}, ValueError, "`kernel` must be one of"),
        ({"min_step": 1, "max_step": 5, "promote": 1}, TypeError, "`promote` must be a bool"),
        ({"min_step": 1, "max_step": 5, "random_fraction": 1.5}, ValueError, "random_fraction"),
    ],
)
def test_fidelity_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        Fidelity(**kwargs)


def test_the_optimizer_checks_its_fidelity_argument():
    with pytest.raises(TypeError, match="`fidelity` must be"):
        bo.Optimizer(SPACE, fidelity=(1, 9))
    opt = bo.Optimizer(SPACE, seed=0, fidelity=Fidelity(1, 9, model="gp"))
    assert opt.pruner is None  # the GP chooses budgets; no schedule is implied
    assert bo.Optimizer(SPACE, seed=0, fidelity=Fidelity(1, 9)).pruner is None  # "gp"
    rungs = bo.Optimizer(SPACE, seed=0, fidelity=Fidelity(1, 9, model="rungs"))
    assert rungs.pruner == bo.pruners.Hyperband(1, 9, 3)
    own = bo.pruners.ASHA(1, 3, max_resource=9)
    with_own = bo.Optimizer(SPACE, seed=0, pruner=own, fidelity=Fidelity(1, 9, model="rungs"))
    assert with_own.pruner == own


# --- the multi-fidelity GP ------------------------------------------------------------------------
def _toy_data() -> tuple[torch.Tensor, torch.Tensor]:
    """``f(x, s) = sin(6 x) + 0.8 (1 - s)``: 9 configurations at the low budget, every other
    one also at the middle one, and 3 at the full one."""
    rows = []
    for i in range(9):
        x = (i + 0.5) / 9
        rows.append((x, 0.0))
        if i % 2 == 0:
            rows.append((x, 0.5))
        if i in (1, 4, 7):
            rows.append((x, 1.0))
    X = torch.tensor(rows, dtype=torch.float64)
    y = torch.sin(6 * X[:, 0]) + 0.8 * (1 - X[:, 1])
    return X, y


@pytest.mark.parametrize(
    ("kernel", "structure"), [("matern", "ard"), ("exp-decay", "ard"), ("exp-decay", "additive")]
)
def test_the_fidelity_gp_predicts_the_target_fidelity_from_cheap_observations(kernel, structure):
    X, y = _toy_data()
    mu, sd = float(y.mean()), float(y.std())
    options = gp.ModelOptions(structure=structure)
    model = gp.fit_fidelity(X, (y - mu) / sd, kernel=kernel, seed=0, options=options)
    # Configurations seen at the low budgets only, predicted at the full one.
    xs = torch.tensor([(i + 0.5) / 9 for i in (0, 2, 3, 5, 6, 8)], dtype=torch.float64)
    at_target = torch.stack([xs, torch.ones_like(xs)], dim=1)
    with torch.no_grad():
        post = model.posterior(at_target)
    mean = post.mean.reshape(-1) * sd + mu
    assert torch.allclose(mean, torch.sin(6 * xs), atol=0.15)
    # Observed at the full budget: more confident than where only cheap budgets were seen.
    seen = torch.tensor([[(4 + 0.5) / 9, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        var_seen = float(model.posterior(seen).variance)
    assert var_seen < 0.05 and var_seen < float(post.variance.min())


@pytest.mark.filterwarnings("ignore::linear_operator.utils.warnings.NumericalWarning")
def test_the_linear_truncated_kernel_fits_and_predicts_finite_values():
    X, y = _toy_data()
    model = gp.fit_fidelity(X, (y - y.mean()) / y.std(), kernel="linear-trunc", seed=0)
    with torch.no_grad():
        post = model.posterior(torch.rand(5, 2, dtype=torch.float64))
    assert post.mean.shape == (5, 1) and bool(torch.isfinite(post.variance).all())
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        gp.fit_fidelity(X, y, kernel="rbf")


def _fixed_model(fidelity_lengthscale: float) -> torch.nn.Module:
    """A GP over ``(x, s)`` with set hyperparameters: one observation at (0.5, 1)."""
    X = torch.tensor([[0.2, 1.0], [0.8, 1.0]], dtype=torch.float64)
    model = gp.build(X, torch.tensor([0.0, 0.1], dtype=torch.float64))
    kernel = model.covar_module.base_kernel
    kernel.lengthscale = torch.tensor([[0.2, fidelity_lengthscale]], dtype=torch.float64)
    model.covar_module.outputscale = torch.tensor(1.0, dtype=torch.float64)
    model.likelihood.noise = torch.tensor([1e-4], dtype=torch.float64)
    return model.eval()


def test_choose_budget_trades_information_for_cost():
    fid = Fidelity(1, 27)
    x = torch.tensor([0.5], dtype=torch.float64)
    configs = torch.tensor([[0.2], [0.8]], dtype=torch.float64)
    # Budgets that barely change the function: the cheapest tells as much as the full one.
    cheap, scores = choose_budget(_fixed_model(100.0), x, configs, fid)
    assert cheap == 1 and scores.shape == (len(fid.budgets),)
    assert bool((scores[:-1] > scores[-1]).all())
    # Nearly independent budgets: only the full one says anything about the target.
    assert choose_budget(_fixed_model(0.01), x, configs, fid)[0] == 27
    # A fixed cost per trial makes the cheap budgets relatively dearer.
    costly = Fidelity(1, 27, fixed_cost=1000.0)
    assert choose_budget(_fixed_model(0.3), x, configs, costly)[0] == 27


def test_augmented_ei_budgets_weigh_correlation_against_cost():
    fid = Fidelity(1, 27, budget_rule="aei")
    x = torch.tensor([0.5], dtype=torch.float64)
    configs = torch.tensor([[0.2], [0.8]], dtype=torch.float64)
    cheap, scores = choose_budget(_fixed_model(100.0), x, configs, fid)
    assert cheap == 1 and scores.shape == (len(fid.budgets),)
    # The full budget's factor: correlation 1, its signal share, cost ratio 1.
    assert 0.9 < float(scores[-1]) <= 1.0
    assert choose_budget(_fixed_model(0.01), x, configs, fid)[0] == 27
    assert (
        choose_budget(
            _fixed_model(0.3), x, configs, Fidelity(1, 27, fixed_cost=1e3, budget_rule="aei")
        )[0]
        == 27
    )
    with pytest.raises(ValueError, match="`budget_rule` must be one of"):
        Fidelity(1, 27, budget_rule="cheapest")


def test_promotion_trains_the_predicted_best_to_the_full_budget():
    X = torch.tensor([[0.2, 1.0], [0.5, 0.0], [0.8, 0.0]], dtype=torch.float64)
    model = gp.build(X, torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64))
    model.covar_module.base_kernel.lengthscale = torch.tensor([[0.1, 100.0]])
    model.likelihood.noise = torch.tensor([1e-4])
    model.eval()
    configs, none = X[:, :1], torch.empty(0, 1, dtype=torch.float64)
    # 0.5 was seen cheaply only and is predicted to beat 0.2, trained to the full budget.
    assert promotion(model, configs, X[:1, :1], none).tolist() == [0.5]
    assert promotion(model, configs, none, none).tolist() == [0.5]
    # Pending, or already trained to the full budget: 0.8 is left, and predicted worse.
    assert promotion(model, configs, X[:1, :1], X[1:2, :1]) is None
    assert promotion(model, configs, X[:2, :1], none) is None


def test_curve_data_reads_reports_tells_and_failures():
    fid = Fidelity(1, 27)
    trials = [
        bo.Trial(0, {"x": 0.1, "y": 0.2}, state="pruned", value=0.6,
                 intermediate=tuple((s, 1.0 / s) for s in range(1, 8))),
        bo.Trial(1, {"x": 0.5, "y": 0.5}, state="complete", value=0.04, budget=27),
        bo.Trial(2, {"x": 0.9, "y": 0.9}, state="failed", budget=3),
        bo.Trial(3, {"x": 0.7, "y": 0.7}, state="pruned", error="not finite",
                 intermediate=((1, 2.0),)),
        bo.Trial(4, {"x": 0.3, "y": 0.3}, intermediate=((1, 5.0), (2, 4.0))),
    ]  # fmt: skip
    X, loss, X_failed = curve_data(trials, SPACE, fid)
    # Trial 0: its first reports at or beyond budgets 1 and 3, and its last (7); trial 1:
    # its told value at the full budget; trial 4 (pending): steps 1 and 2.
    steps = [round(27 ** float(u)) for u in X[:, -1]]
    assert steps == [1, 3, 7, 27, 1, 2]
    assert loss.tolist() == pytest.approx([1.0, 1 / 3, 1 / 7, 0.04, 5.0, 4.0])
    assert X_failed.shape == (2, 3) and [round(27 ** float(u)) for u in X_failed[:, -1]] == [3, 1]
    _, loss_max, _ = curve_data(trials[:2], SPACE, fid, maximize=True)
    assert loss_max.tolist() == pytest.approx([-1.0, -1 / 3, -1 / 7, -0.04])


# --- asks, stops and the journal -----------------------------------------------------------------
def test_asks_carry_budgets_and_should_stop_ends_a_trial_at_its_budget():
    opt = _train(bo.Optimizer(SPACE, seed=0, n_initial=5, fidelity=Fidelity(1, 27)), 9)
    trials = opt.trials
    assert all(t.budget in Fidelity(1, 27).budgets for t in trials)
    assert [t.budget for t in trials[:5]] == initial_budgets(Fidelity(1, 27), 5)
    for t in trials:
        assert t.intermediate[-1][0] == t.budget  # trained exactly to its budget
        assert t.state is (bo.TrialState.COMPLETE if t.budget == 27 else bo.TrialState.PRUNED)
        assert t.value == pytest.approx(_curve(t.params, t.budget))
    assert {t.source for t in trials[5:]} == {bo.Source.MODEL}
    X, y, X_failed = opt.fidelity_data()
    assert X.shape[1] == 3 and len(X) == len(y) and len(X_failed) == 0
    assert opt.best.state is bo.TrialState.COMPLETE and opt.best.budget == 27
    assert opt.to_records()[0]["budget"] == trials[0].budget


def test_a_promotion_continues_the_earlier_run_of_its_configuration():
    opt = _train(bo.Optimizer(SPACE, seed=0, n_initial=5, fidelity=Fidelity(1, 27)), 14)
    resumed = [(t, opt.continues(t)) for t in opt.trials]
    resumed = [(t, e) for t, e in resumed if e is not None]
    assert resumed  # the predicted best, seen at a low budget, went on to the full one
    for trial, earlier in resumed:
        assert trial.budget == 27 and earlier.id < trial.id
        assert earlier.params == trial.params and earlier.state is bo.TrialState.PRUNED
        assert earlier.intermediate[-1][0] == earlier.budget < trial.budget


def test_minimize_objectives_resume_promoted_runs_from_their_checkpoints():
    checkpoints: dict[int, int] = {}  # trial id -> the last step trained
    started: list[int] = []

    def f(params: dict, trial: bo.TrialHandle) -> float:
        earlier = trial.continues()
        step = checkpoints.pop(earlier) if earlier is not None else 0
        started.append(step)
        loss = math.inf
        while step < 27:
            step += 1
            loss = _curve(params, step)
            trial.report(step, loss)
            checkpoints[trial.id] = step
            if trial.should_stop():
                break
        return loss

    result = bo.minimize(f, SPACE, 14, seed=0, progress=False, n_initial=5,
                         fidelity=Fidelity(1, 27))  # fmt: skip
    resumed = [t for t, s in zip(result.trials, started, strict=True) if s > 0]
    assert resumed and all(t.state is bo.TrialState.COMPLETE for t in resumed)
    for t, s in zip(result.trials, started, strict=True):
        assert t.intermediate[0][0] == s + 1  # reports start after the checkpoint


def test_continues_picks_the_run_that_went_furthest():
    rs = bo.RandomSearch(SPACE, seed=0)
    first = rs.ask()
    for step in (1, 2):
        rs.report(first, step, 1.0 / step)
    rs.prune(first)
    other = rs.ask()  # another configuration
    rs.report(other, 5, 0.1)
    rs.prune(other)
    rs.enqueue(first.params)
    second = rs.ask()
    for step in (1, 2, 3, 4):
        rs.report(second, step, 1.0 / step)
    rs.prune(second)
    rs.enqueue(first.params)
    third = rs.ask()
    assert rs.continues(third).id == second.id  # 4 steps beat 2
    assert rs.continues(second).id == first.id
    assert rs.continues(first) is None and rs.continues(other) is None
    rs.tell(third, 0.2)
    rs.enqueue(first.params)
    assert rs.continues(rs.ask()).id == second.id  # a complete run is not a checkpoint
    with pytest.raises(ValueError, match="unknown trial id"):
        rs.continues(99)
    with pytest.raises(TypeError, match="`trial` must be"):
        rs.continues("0")


def test_the_rung_model_asks_full_budgets_and_prunes_by_hyperband():
    fid = Fidelity(1, 27, model="rungs")
    opt = _train(bo.Optimizer(SPACE, seed=1, n_initial=4, fidelity=fid), 14)
    trials = opt.trials
    assert {t.budget for t in trials} == {27}
    assert any(t.state is bo.TrialState.PRUNED for t in trials)
    assert {t.source for t in trials[4:]} == {bo.Source.MODEL, bo.Source.RANDOM}
    data = opt.model_data()
    assert data.budget in (*bo.pruners.Hyperband(1, 27, 3).rungs(27), math.inf)


@pytest.mark.parametrize(("fraction", "sources"), [(0.0, {"model"}), (1.0, {"random"})])
def test_the_random_fraction_of_the_rung_model(fraction, sources):
    fid = Fidelity(1, 9, model="rungs", random_fraction=fraction)
    opt = _train(bo.Optimizer(SPACE, seed=1, n_initial=3, fidelity=fid), 7)
    assert {t.source.value for t in opt.trials[3:]} == sources


@pytest.mark.parametrize("model", ["gp", "rungs"])
def test_a_resumed_multifidelity_study_asks_what_the_uninterrupted_one_does(tmp_path, model):
    path = tmp_path / "study.jsonl"
    fid = Fidelity(1, 9, model=model)

    def make() -> bo.Optimizer:
        return bo.Optimizer(SPACE, seed=3, n_initial=3, fidelity=fid, storage=path)

    def reopen(opt: bo.Optimizer) -> bo.Optimizer:
        opt.close()
        return make()

    plain = _train(bo.Optimizer(SPACE, seed=3, n_initial=3, fidelity=fid), 7)
    resumed = _train(make(), 7, reopen=reopen)
    key = lambda t: (t.id, t.params, t.budget, t.state, t.value, t.intermediate, t.source)  # noqa: E731
    assert [key(t) for t in resumed.trials] == [key(t) for t in plain.trials]
    assert {t.source for t in plain.trials} >= {bo.Source.INITIAL, bo.Source.MODEL}
    loaded = bo.load(path)
    assert loaded.fidelity == fid
    assert [key(t) for t in loaded.trials] == [key(t) for t in plain.trials]
    asked = [json.loads(line) for line in path.read_text().splitlines()]
    budgets = [t["budget"] for r in asked if r["event"] == "asked" for t in r["trials"]]
    assert budgets == [t.budget for t in plain.trials]


# --- bad input -----------------------------------------------------------------------------------
def test_bad_reports_on_a_multifidelity_study_are_clear_errors_that_change_nothing(tmp_path):
    path = tmp_path / "study.jsonl"
    opt = bo.Optimizer(SPACE, seed=0, fidelity=Fidelity(2, 27, model="gp"), storage=path)
    t = opt.ask()
    opt.report(t, 3, 0.5)
    done = opt.ask()
    opt.tell(done, 1.0)
    other = bo.Optimizer(SPACE, seed=99).ask()
    lines = path.read_text()
    bad = [
        ((t, 28, 0.4), ValueError, r"outside the fidelity range \[2, 27\]"),
        ((t, 2.5, 0.4), ValueError, "must increase"),  # below the last step
        ((t, 3, 0.4), ValueError, "must increase"),
        ((t, float("nan"), 0.4), ValueError, "finite and >= 0"),
        ((t, 4, "0.4"), TypeError, "`value` must be a real number"),
        ((t, None, 0.4), TypeError, "`step` must be a number"),
        ((99, 4, 0.4), ValueError, "unknown trial id 99"),
        ((done, 4, 0.4), ValueError, "already 'complete'"),
        ((other, 4, 0.4), ValueError, "does not belong"),
    ]
    for args, error, match in bad:
        with pytest.raises(error, match=match):
            opt.report(*args)
    u = opt.ask()
    with pytest.raises(ValueError, match="outside the fidelity range"):
        opt.report(u, 1, 0.4)  # below min_step
    assert path.read_text().count("\n") == lines.count("\n") + 1  # only the ask
    assert opt.trials[t.id].intermediate == ((3, 0.5),)
    # A non-finite value is a failure of that step: the trial is pruned, with the reason.
    pruned = opt.report(t, 4, float("inf"))
    assert pruned.state is bo.TrialState.PRUNED and pruned.error.endswith("is not finite")
    assert opt.should_stop(t)
    with pytest.raises(ValueError, match="already 'pruned'"):
        opt.report(t, 5, 0.1)
    with pytest.raises(ValueError, match="already told or pruned"):
        opt.tell(t, 0.1)
    # The failure is imputed with the worst value in the GP's data.
    opt.report(u, 2, 0.7)
    _, y, X_failed = opt.fidelity_data()
    assert len(X_failed) == 1 and float(y[-1]) == float(y.min())


def test_fidelity_data_needs_a_fidelity_and_two_observations():
    with pytest.raises(ValueError, match="needs an Optimizer with `fidelity=`"):
        bo.Optimizer(SPACE, seed=0).fidelity_data()
    opt = bo.Optimizer(SPACE, seed=0, fidelity=Fidelity(1, 9, model="gp"))
    opt.report(opt.ask(), 1, 0.5)
    with pytest.raises(ValueError, match="at least 2 observations"):
        opt.fidelity_data()


# --- end to end on the tabular learning curves --------------------------------------------------
@pytest.mark.slow
def test_on_the_tabular_benchmark_pruning_saves_40_percent_of_the_cost_at_equal_regret():
    """Random search with and without ASHA draw the same configurations (same seeds); with
    ASHA, reaching a top-5% configuration (a fixed regret) costs at least 40% less, on
    average over 20 seeds (a run that never reaches it counts twice its budget)."""
    import numpy as np

    from benchmarks.multifidelity import run_one
    from benchmarks.problems.learning_curves import curve_problems, load_table

    problem = curve_problems()["digits-mlp"]()
    table = load_table()
    target = float(np.quantile(table.val_loss[:, :, -1].mean(axis=1), 0.05))

    def cost_to_target(contender: str, seed: int) -> float:
        record = run_one(problem, contender, seed)
        assert record["error"] is None and record["cost"] <= problem.max_cost + 1e-9
        hits = [cost for cost, _, true, _, _ in record["trajectory"] if true <= target]
        return hits[0] if hits else 2 * problem.max_cost

    seeds = range(20)
    pruned = [cost_to_target("asha", s) for s in seeds]
    full = [cost_to_target("random", s) for s in seeds]
    assert sum(pruned) <= 0.6 * sum(full)


def test_a_tabular_run_counts_the_table_rows_its_trials_looked_up():
    from benchmarks.multifidelity import run_one
    from benchmarks.problems.learning_curves import curve_problems, load_table

    problem = curve_problems()["digits-mlp"]()
    table = load_table()
    record = run_one(problem, "random", 0)
    rs, rows = bo.RandomSearch(problem.space, seed=0), set()
    for _ in range(record["n_trials"]):  # the same draws, told anything
        trial = rs.ask()
        rows.add(table.nearest(trial.params))
        rs.tell(trial, 0.0)
    assert record["distinct_rows"] == len(rows) <= record["n_trials"]
    synthetic = run_one(curve_problems()["branin-mf"](), "random", 0)
    assert synthetic["distinct_rows"] is None


def test_a_resumed_tabular_run_pays_only_for_its_new_steps():
    import numpy as np

    from benchmarks.multifidelity import Tracker
    from benchmarks.problems.learning_curves import curve_problems

    problem = curve_problems()["digits-mlp"]()
    tr = Tracker(problem, problem.max_cost * problem.max_step)
    params = bo.RandomSearch(problem.space, seed=0).ask().params
    job = tr.start(params, np.random.default_rng(0))
    early = [tr.train(job, step) for step in range(1, 7)]
    tr.stopped(job)
    assert (tr.cost, tr.early_cost, tr.n_trials) == (6, 6, 1)
    job = tr.resume(job)
    late = [tr.train(job, step) for step in range(7, problem.max_step + 1)]
    tr.finished(job, params, late[-1])
    assert (tr.cost, tr.early_cost, tr.n_trials, tr.n_full) == (problem.max_step, 0, 2, 1)
    fresh = problem.start(params, np.random.default_rng(0))  # the same seed, afresh
    assert [fresh.advance(s) for s in range(1, problem.max_step + 1)] == early + late


@pytest.mark.parametrize(("contender", "module"), [("dehb", "dehb"), ("smac-hyperband", "smac")])
def test_the_multifidelity_peers_spend_their_budget_and_find_an_incumbent(contender, module):
    pytest.importorskip(module)
    from benchmarks.multifidelity import run_one
    from benchmarks.problems.learning_curves import curve_problems

    problem = curve_problems()["branin-mf"]()
    record = run_one(problem, contender, 0)
    assert record["error"] is None
    assert problem.max_cost - 1 <= record["cost"] <= problem.max_cost + 1e-9
    assert record["trajectory"] and record["n_trials"] > record["n_full"] >= 1


@pytest.mark.parametrize("acquisition", ["mes", pytest.param("kg", marks=pytest.mark.slow)])
def test_cost_aware_acquisitions_choose_configuration_and_budget_together(
    acquisition, tmp_path, monkeypatch
):
    from bayesopt import multifidelity

    # a smaller knowledge-gradient search (same code path), and fewer of its asks: with the
    # defaults one costs ~8 s on 2 cores
    monkeypatch.setattr(multifidelity, "KG_FANTASIES", 8)
    monkeypatch.setattr(multifidelity, "KG_RESTARTS", 2)
    monkeypatch.setattr(multifidelity, "KG_RAW_SAMPLES", 32)
    n = 5 if acquisition == "kg" else 8
    fid = Fidelity(1, 9, acquisition=acquisition)
    assert float(fid.from_unit(torch.tensor(fid.to_unit(3)))) == pytest.approx(3.0)
    path = tmp_path / "study.jsonl"
    state = torch.get_rng_state()
    opt = _train(bo.Optimizer(SPACE, seed=2, n_initial=3, fidelity=fid, storage=path), n)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone
    model_trials = [t for t in opt.trials if t.source == bo.Source.MODEL]
    assert model_trials and all(t.budget in fid.budgets for t in model_trials)
    assert all(0.0 <= v <= 1.0 for t in model_trials for v in t.params.values())
    assert bo.load(path).fidelity.acquisition == acquisition
    again = _train(bo.Optimizer(SPACE, seed=2, n_initial=3, fidelity=fid), n)
    assert [(t.params, t.budget) for t in again.trials] == [
        (t.params, t.budget) for t in opt.trials
    ]
    with pytest.raises(ValueError, match="`acquisition` must be one of"):
        Fidelity(1, 9, acquisition="ei")


@pytest.mark.parametrize("command", ["run", "report"])
def test_the_multifidelity_benchmark_commands_print_their_help(command, capsys):
    from benchmarks import multifidelity as bench

    with pytest.raises(SystemExit) as exc:
        bench.main([command, "--help"])
    assert exc.value.code == 0 and "--results" in capsys.readouterr().out
    assert {"bayesopt-mfgp-aei", "bayesopt-mfgp-mes", "bayesopt-mfgp-kg"} <= set(bench.ABLATION)
