"""bayesopt.plot: every figure holds the artists it promises (Agg backend, no display)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import bayesopt as bo

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, PolyCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from bayesopt import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _forrester(p: dict) -> float:
    x = p["x"]
    return (6 * x - 2) ** 2 * math.sin(12 * x - 4)


@pytest.fixture(scope="module")
def opt_1d() -> bo.Optimizer:
    """Five complete trials, one failed, one pending (no model ask needed)."""
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
    for x in (0.05, 0.3, 0.5, 0.7, 0.9):
        opt.add({"x": x}, _forrester({"x": x}))
    opt.add({"x": 0.97}, float("nan"))
    opt.enqueue({"x": 0.62})
    opt.ask()
    return opt


@pytest.fixture(scope="module")
def opt_mixed() -> bo.Optimizer:
    space = bo.Space(
        {
            "lr": bo.Real(1e-4, 1e-1, log=True),
            "depth": bo.Integer(1, 8),
            "act": bo.Categorical(["relu", "tanh", "gelu"]),
        }
    )
    opt = bo.Optimizer(space, seed=1)
    for p in space.sample(10, seed=3):
        value = (math.log10(p["lr"]) + 2) ** 2 + 0.3 * abs(p["depth"] - 4) + (p["act"] == "tanh")
        opt.add(p, value)
    opt.add(space.sample(1, seed=9)[0], failed=True)
    opt.enqueue({"lr": 1e-2, "depth": 4, "act": "gelu"})
    opt.ask()
    return opt


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "the axes have no legend"
    return [t.get_text() for t in legend.get_texts()]


def _collections(ax, kind) -> list:
    return [c for c in ax.collections if isinstance(c, kind)]


# best_so_far and convergence ---------------------------------------------------------------
def test_best_so_far_minimises_skips_failures_and_groups_by_factor():
    v = [float("nan"), 3.0, 4.0, 1.0, float("inf"), 2.0]
    out = plot.best_so_far(v)
    assert np.isnan(out[0])
    np.testing.assert_array_equal(out[1:], [3.0, 3.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(plot.best_so_far(v, maximize=True)[1:], [3, 4, 4, 4, 4])
    np.testing.assert_array_equal(plot.best_so_far(v, factor=2), [3.0, 1.0, 1.0])
    assert len(plot.best_so_far([1.0, 2.0, 3.0], factor=2)) == 1
    with pytest.raises(ValueError, match="factor"):
        plot.best_so_far(v, factor=0)


def test_best_so_far_reads_an_optimiser(opt_1d):
    out = plot.best_so_far(opt_1d)
    assert len(out) == len(opt_1d.trials)
    assert out[-1] == opt_1d.best.value


def test_convergence_draws_median_and_quartile_band_per_group():
    rng = np.random.default_rng(0)
    runs = {
        "a": [rng.normal(size=12) for _ in range(5)],
        "b": [rng.normal(size=12) for _ in range(5)],
        "b2x": [rng.normal(size=24) for _ in range(5)],
    }
    ax = plot.convergence(runs, budget_factor={"b2x": 2})
    assert len(ax.lines) == 3
    assert len(_collections(ax, PolyCollection)) == 3
    texts = _legend_texts(ax)
    assert texts[0].startswith("a (median of 5") and "2x budget" in texts[2]
    assert all(len(line.get_xdata()) == 12 for line in ax.lines)
    # the median is the median of the best-so-far curves
    expected = np.median([plot.best_so_far(r) for r in runs["a"]], axis=0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    assert ax.get_xlabel() == "trial" and "best" in ax.get_ylabel()


def test_convergence_regret_is_log_scaled_and_runs_can_be_shown():
    runs = [[3.0, 2.0, 1.5], [2.5, 2.5, 1.0]]
    ax = plot.convergence(runs, optimum=1.0, show_runs=True)
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3  # two runs and the median
    assert "regret" in ax.get_ylabel()
    assert np.all(ax.lines[-1].get_ydata() > 0)  # zero regret is floored, not dropped


def test_convergence_takes_optimisers_and_their_orientation():
    space = bo.Space({"x": bo.Real(0.0, 1.0)})
    runs = []
    for seed in range(3):
        rs = bo.RandomSearch(space, seed=seed, maximize=True)
        for _ in range(6):
            t = rs.ask()
            rs.tell(t, t.params["x"])
        runs.append(rs)
    ax = plot.convergence({"random": runs})
    y = ax.lines[0].get_ydata()
    assert np.all(np.diff(y) >= 0)  # maximising: the best so far never decreases
    assert "higher is better" in ax.get_ylabel()


def test_convergence_validates_its_input():
    with pytest.raises(ValueError, match="unknown groups"):
        plot.convergence({"a": [[1.0]]}, budget_factor={"b": 2})
    with pytest.raises(ValueError, match="no runs"):
        plot.convergence({"a": []})


def test_convergence_draws_on_the_given_axes():
    fig, ax = plt.subplots()
    assert plot.convergence([[1.0, 0.5]], ax=ax) is ax
    assert len(fig.axes) == 1


# history and parallel coordinates ----------------------------------------------------------
def test_history_shows_trials_best_so_far_and_failures(opt_1d):
    ax = plot.history(opt_1d)
    assert len(_collections(ax, PathCollection)) == 2  # added trials, failed
    assert len(ax.lines) == 1  # best so far
    texts = _legend_texts(ax)
    assert "best so far" in texts and "failed" in texts
    assert ax.get_xlabel() and ax.get_ylabel()


def test_curves_draw_every_reported_trial_coloured_by_state():
    rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
                         pruner=bo.pruners.ASHA(reduction_factor=2))  # fmt: skip
    for i in range(4):
        t = rs.ask()
        for step in (1, 2, 4):
            rs.report(t, step, 1.0 / step + (i % 2))
            if rs.should_stop(t):
                break
        else:
            rs.tell(t, 1.0 / 4 + (i % 2))
    rs.ask()  # reported nothing: left out of the figure
    running = rs.ask()
    rs.report(running, 1, 0.5)
    ax = plot.curves(rs, log_x=True)
    states = [t.state.value for t in rs.trials if t.intermediate]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() != "None"]
    assert len(lines) == len(states) == 5
    labels = sorted(text.get_text() for text in ax.get_legend().get_texts())
    counts = {s: states.count(s) for s in set(states)}
    assert labels == sorted(f"{s} ({n})" for s, n in counts.items())
    assert "pruned" in counts and ax.get_xscale() == "log"
    dots = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert len(dots) == counts["pruned"]


def test_parallel_coordinates_has_a_line_per_trial_and_a_colour_bar(opt_mixed):
    ax = plot.parallel_coordinates(opt_mixed)
    (lines,) = _collections(ax, LineCollection)
    n_complete = sum(t.state == "complete" for t in opt_mixed.trials)
    assert len(lines.get_segments()) == n_complete
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lr", "depth", "act", "value"]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert set(_legend_texts(ax)) == {"best", "failed"}
    assert ax.get_ylabel()


# The surrogate -----------------------------------------------------------------------------
def test_fit_surrogate_predicts_in_objective_units(opt_1d):
    view = plot.fit_surrogate(opt_1d)
    assert view.units == "objective"
    complete = [t for t in opt_1d.trials if t.state == "complete"]
    X = torch.stack([opt_1d.space.to_unit(t.params) for t in complete])
    mean, sd = view.predict(X)
    values = np.array([t.value for t in complete])
    # a near-noiseless GP almost interpolates its data
    assert np.max(np.abs(mean - values)) < 0.1 * np.ptp(values)
    assert np.all(sd >= 0)
    assert view.failed.sum() == 1 and view.values[view.failed][0] == values.max()
    assert view.X_pending.shape == (1, 1)


def test_fit_surrogate_handles_maximisation():
    space = bo.Space({"x": bo.Real(0.0, 1.0)})
    opt = bo.Optimizer(space, seed=0, maximize=True)
    for x in (0.1, 0.4, 0.6, 0.9):
        opt.add({"x": x}, -((x - 0.5) ** 2))
    view = plot.fit_surrogate(opt)
    mean, _ = view.predict(torch.tensor([[0.4], [0.1]], dtype=torch.float64))
    assert mean[0] > mean[1]
    assert mean[1] == pytest.approx(-0.16, abs=0.02)


def test_fit_surrogate_leaves_global_state_alone(opt_1d):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    threads = torch.get_num_threads()
    view = plot.fit_surrogate(opt_1d, acquisition="ts")
    view.acquisition(torch.rand(5, 1, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_fit_surrogate_needs_two_complete_trials():
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
    opt.add({"x": 0.5}, 1.0)
    with pytest.raises(ValueError, match="2 complete trials"):
        plot.fit_surrogate(opt)


def test_plots_fit_exactly_the_tensors_the_ask_fits(monkeypatch):
    """One source of training data (``Optimizer.model_data``): the refit behind the plots
    and the ask's own fit see the same tensors, failed trial and output transform included."""
    from bayesopt import gp

    seen = []
    real_fit = gp.fit

    def spy(X, y, **kwargs):
        seen.append((X.clone(), y.clone(), tuple(kwargs["cat_dims"]), kwargs["options"]))
        return real_fit(X, y, **kwargs)

    monkeypatch.setattr(gp, "fit", spy)
    space = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical(["a", "b"])})
    options = bo.ModelOptions(output_warp="bilog")
    opt = bo.Optimizer(space, seed=0, n_initial=4, model_options=options)
    for x, c in ((0.1, "a"), (0.4, "b"), (0.6, "a"), (0.8, "b"), (0.3, "a")):
        opt.add({"x": x, "c": c}, _forrester({"x": x}) + (c == "b"))
    opt.add({"x": 0.95, "c": "a"}, float("nan"))
    plot.fit_surrogate(opt)
    assert opt.ask().source == "model"
    (X_plot, y_plot, cat_plot, opt_plot), (X_ask, y_ask, cat_ask, opt_ask) = seen
    assert torch.equal(X_plot, X_ask) and torch.equal(y_plot, y_ask)
    assert cat_plot == cat_ask == (1,) and opt_plot is opt_ask is options
    data = opt.model_data()
    assert torch.equal(data.X, X_ask) and torch.equal(data.y, y_ask)
    assert data.failed.tolist() == [False] * 5 + [True]


def test_fit_surrogate_of_a_random_search_uses_the_default_gp():
    rs = bo.RandomSearch(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0)
    for _ in range(4):
        t = rs.ask()
        rs.tell(t, _forrester(t.params))
    view = plot.fit_surrogate(rs)
    assert view.X.shape == (4, 1) and view.acquisition_name == "qlognei"


# Slices ------------------------------------------------------------------------------------
def test_posterior_slice_draws_mean_band_data_pending_and_truth(opt_1d):
    ax = plot.posterior_slice(opt_1d, objective=_forrester)
    assert len(_collections(ax, PolyCollection)) == 1  # the band
    assert len(_collections(ax, PathCollection)) == 3  # observed, failed, best
    texts = _legend_texts(ax)
    for label in ("posterior mean", "objective", "observed", "best", "pending"):
        assert label in texts
    assert any("failed" in t for t in texts)
    assert any("s.d." in t for t in texts)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "objective"
    pending = [ln for ln in ax.lines if ln.get_label() == "pending"]
    assert pending and pending[0].get_xdata()[0] == pytest.approx(0.62)


def test_acquisition_slice_marks_its_maximum(opt_1d):
    ax = plot.acquisition_slice(opt_1d)
    curve = ax.lines[0]
    assert len(curve.get_xdata()) == 200
    labels = [ln.get_label() for ln in ax.lines]
    assert "maximum on this slice" in labels and "pending" in labels
    y = np.asarray(curve.get_ydata())
    top = next(ln for ln in ax.lines if ln.get_label() == "maximum on this slice")
    assert top.get_xdata()[0] == curve.get_xdata()[int(np.nanargmax(y))]
    assert ax.get_ylabel().startswith("acquisition")
    assert _legend_texts(ax)[0] == "log EI (qLogNEI)"


@pytest.mark.parametrize("name", ["ucb", "ts", "pi"])
def test_acquisition_slice_for_other_acquisitions(opt_1d, name):
    view = plot.fit_surrogate(opt_1d, acquisition=name)
    ax = plot.acquisition_slice(view, n_grid=50)
    assert np.isfinite(ax.lines[0].get_ydata()).all()


def test_slice_1d_stacks_posterior_and_acquisition(opt_1d):
    fig = plot.slice_1d(opt_1d, objective=_forrester)
    top, bottom = fig.axes
    assert _collections(top, PolyCollection) and bottom.lines
    assert top.get_legend() is not None and bottom.get_legend() is not None


def test_slices_of_a_mixed_space(opt_mixed):
    view = plot.fit_surrogate(opt_mixed)
    ax = plot.posterior_slice(view, "lr")
    assert ax.get_xscale() == "log" and "lr" in ax.get_xlabel()
    assert "slice at" in ax.get_title()
    ax = plot.posterior_slice(view, "act")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["relu", "tanh", "gelu"]
    assert ax.containers  # error bars instead of a band
    ax = plot.posterior_slice(view, "depth", fixed={"act": "relu"})
    assert "act=relu" in ax.get_title()
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 9))
    with pytest.raises(ValueError, match="unknown parameter"):
        plot.posterior_slice(view, "nope")


@pytest.mark.parametrize("what", ["mean", "sd", "acquisition"])
def test_slice_2d_contours_with_colour_bar_and_points(opt_mixed, what):
    view = plot.fit_surrogate(opt_mixed)
    ax = plot.slice_2d(view, ("lr", "depth"), what=what, n_grid=20)
    assert _collections(ax, ContourSet)
    assert len(ax.figure.axes) == 2  # the colour bar
    texts = _legend_texts(ax)
    assert {"observed", "failed", "pending", "best"} <= set(texts)
    assert ax.get_xlabel().startswith("lr") and ax.get_ylabel() == "depth"


def test_slice_2d_validates(opt_mixed, opt_1d):
    view = plot.fit_surrogate(opt_mixed)
    with pytest.raises(ValueError, match="categorical"):
        plot.slice_2d(view, ("lr", "act"))
    with pytest.raises(ValueError, match="what"):
        plot.slice_2d(view, what="variance")
    with pytest.raises(ValueError, match="single parameter"):
        plot.slice_2d(opt_1d)


def test_importing_bayesopt_does_not_import_matplotlib():
    code = (
        "import sys, bayesopt, bayesopt.plot; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importance_bars_put_the_most_important_parameter_on_top(opt_mixed):
    imp = bo.importance(opt_mixed, n=256)
    ax = plot.importance(imp)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[::-1] == imp.ranking()
    assert len(ax.patches) == 2 * len(labels)


# Several outcomes ------------------------------------------------------------------------
def _mo_study(m: int = 2) -> bo.RandomSearch:
    names = ["a", "b", "c"][:m]
    rs = bo.RandomSearch(
        bo.Space({"x": bo.Real(0.0, 1.0)}),
        seed=0,
        objectives={k: "min" for k in names},
        constraints={"g": ("<=", 0.8)},
    )
    for x in (0.1, 0.3, 0.5, 0.7, 0.9):
        values = {"a": x, "b": (1 - x) ** 2, "c": abs(x - 0.5)}
        rs.add({"x": x}, {**{k: values[k] for k in names}, "g": x})
    rs.add({"x": 0.6}, {**{k: 2.0 for k in names}, "g": 0.0})  # feasible, dominated
    return rs


def test_pareto_front_marks_front_dominated_and_infeasible_trials():
    rs = _mo_study()
    ax = plot.pareto_front(rs)
    labels = [c.get_label() for c in ax.collections]
    assert labels == ["feasible", "infeasible", "Pareto front"]
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [1, 1, 4]  # x = 0.6 dominated; x = 0.9 infeasible
    front = ax.collections[2].get_offsets()
    assert sorted(np.asarray(front)[:, 0].tolist()) == pytest.approx([0.1, 0.3, 0.5, 0.7])
    assert len(ax.lines) == 1  # the attainment staircase


def test_pareto_front_draws_a_pairs_plot_for_three_objectives():
    axes = plot.pareto_front(_mo_study(3))
    assert axes.shape == (3, 3)
    assert axes[1, 0].get_xlabel() == "a (min)" and axes[1, 0].get_ylabel() == "b (min)"
    assert axes[0, 0].texts[0].get_text() == "a (min)"


def test_pareto_front_needs_two_objectives():
    rs = bo.RandomSearch(bo.Space({"x": bo.Real(0.0, 1.0)}), seed=0,
                         constraints={"g": ("<=", 1.0)})  # fmt: skip
    with pytest.raises(ValueError, match="two objectives"):
        plot.pareto_front(rs)
    with pytest.raises(ValueError, match="objectives"):
        plot.hypervolume_history(bo.RandomSearch(bo.Space({"x": bo.Real(0.0, 1.0)})))


def test_hypervolume_history_is_the_study_hypervolume_and_never_decreases():
    rs = _mo_study()
    ax = plot.hypervolume_history(rs)
    y = ax.lines[0].get_ydata()
    assert len(y) == len(rs.trials)
    assert np.all(np.diff(y) >= 0)
    assert y[-1] == pytest.approx(rs.hypervolume())


def test_feasibility_draws_the_running_share():
    rs = _mo_study()
    ax = plot.feasibility(rs)
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([1, 1, 1, 1, 0.8, 5 / 6])
    labels = [c.get_label() for c in ax.collections]
    assert labels == ["feasible", "infeasible"]
    assert len(ax.collections[1].get_offsets()) == 1


def _two_inputs_study() -> bo.RandomSearch:
    """Objective ``a`` follows x, objective ``b`` (maximised) follows y, constraint ``c``
    (``>=``) is x + y; one trial's ``c`` is NaN."""
    space = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})
    rs = bo.RandomSearch(space, seed=0, objectives={"a": "min", "b": "max"},
                         constraints={"c": (">=", 0.5)})  # fmt: skip
    for i in range(12):
        t = rs.ask()
        x, y = t.params["x"], t.params["y"]
        rs.tell(t, {"a": x, "b": y, "c": math.nan if i == 4 else x + y})
    return rs


def test_history_and_parallel_coordinates_draw_one_outcome_of_a_study():
    rs = _two_inputs_study()
    ax = plot.history(rs, outcome="b")
    assert ax.get_ylabel() == "b"
    best = ax.lines[0].get_ydata()
    assert best[-1] == pytest.approx(max(t.values["b"] for t in rs.trials))  # maximised
    assert plot.history(rs).get_ylabel() == "a"  # the first objective by default
    ax = plot.history(rs, outcome="c")
    assert len(ax.collections[-1].get_offsets()) == 1  # the NaN constraint drawn as failed
    ax = plot.parallel_coordinates(rs, outcome="a")
    thick = next(line for line in ax.lines if line.get_linewidth() == 3)
    best_x = min(rs.trials, key=lambda t: t.values["a"]).params["x"]
    assert thick.get_ydata()[0] == pytest.approx(best_x)
    with pytest.raises(ValueError, match="one of this study's outcomes"):
        plot.history(rs, outcome="d")
    with pytest.raises(ValueError, match="declares none"):
        plot.history(bo.RandomSearch(rs.space), outcome="a")


def test_fit_surrogate_models_one_outcome_of_a_study():
    rs = _two_inputs_study()
    view = plot.fit_surrogate(rs, outcome="b")
    assert view.maximize and view.acquisition_name == "qlognei"
    assert sorted(view.values.tolist())[-1] == pytest.approx(max(t.values["b"] for t in rs.trials))
    assert int(plot.fit_surrogate(rs, outcome="c").failed.sum()) == 1
    assert bo.importance(rs, outcome="b", n=512).ranking()[0] == "y"
    assert bo.importance(rs, n=512).ranking()[0] == "x"
