"""Figures of optimisation runs: convergence bands, trial histories, parallel coordinates."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesopt.asktell import AskTell
from bayesopt.plot._axes import new_axes as _new_axes
from bayesopt.plot._axes import pyplot as _pyplot
from bayesopt.space import Categorical, Integer, Real, Space
from bayesopt.trial import Trial, TrialState

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Run",
    "best_so_far",
    "convergence",
    "curves",
    "history",
    "parallel_coordinates",
    "single_outcome",
]

Run = AskTell | Sequence[float]
"""One optimisation run: an optimiser (its trials' values in ask order) or the values."""


def single_outcome(opt: AskTell, outcome: str | None = None) -> tuple[list[Trial], bool]:
    """``opt``'s trials with one number each, and whether larger is better.

    Without declared outcomes: the trials and ``opt.maximize``, and ``outcome`` must be
    ``None``. With ``objectives=`` or ``constraints=``: the outcome named (default: the
    first objective) as each trial's value (``bayesopt.outcomes.Outcomes.project``).

    Raises:
        ValueError: ``outcome`` is not one of the study's outcomes, or is given for a
            study that declares none.
    """
    outcomes = getattr(opt, "outcomes", None)
    if outcomes is None:
        if outcome is not None:
            raise ValueError(
                f"`outcome` names one of a study's declared outcomes, but this study declares "
                f"none (got {outcome!r}); leave it out."
            )
        return list(opt.trials), opt.maximize
    return outcomes.project(opt.trials, outcome)


# Runs and convergence ------------------------------------------------------------------------
def _run_values(run: Run) -> np.ndarray:
    """Values of a run in ask order; NaN for failed or pending trials."""
    if isinstance(run, AskTell):
        return np.array([math.nan if t.value is None else t.value for t in run.trials], dtype=float)
    return np.asarray(list(run), dtype=float).reshape(-1)


def best_so_far(values: Run, *, maximize: bool = False, factor: int = 1) -> np.ndarray:
    """The best value after each trial (or each group of ``factor`` trials).

    Args:
        values: values in evaluation order (NaN for failures), or an optimiser.
        maximize: larger is better.
        factor: trials per step: step ``k`` is the best of the first ``factor * k``
            values (``factor=2`` puts random search with twice the budget on the same
            axis as the others).

    Returns:
        ``len(values) // factor`` floats; NaN until the first finite value.

    Example:
        >>> best_so_far([3.0, float("nan"), 1.0, 2.0]).tolist()
        [3.0, 3.0, 1.0, 1.0]
    """
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise ValueError(f"`factor >= 1` must be an int, but got {factor!r}.")
    v = _run_values(values)
    v = -v if maximize else v
    v = np.where(np.isfinite(v), v, np.inf)
    best = np.minimum.accumulate(v) if len(v) else v
    best = best[factor - 1 :: factor][: len(v) // factor]
    best = np.where(np.isfinite(best), best, np.nan)
    return -best if maximize else best


def _groups(runs: Mapping[str, Sequence[Run]] | Sequence[Run]) -> dict[str, list[Run]]:
    if isinstance(runs, Mapping):
        groups = {str(k): list(v) for k, v in runs.items()}
    elif isinstance(runs, AskTell):
        groups = {"run": [runs]}
    else:
        groups = {"runs": list(runs)}
    for name, group in groups.items():
        if not group:
            raise ValueError(f"convergence: group {name!r} has no runs.")
    return groups


def _infer_maximize(groups: dict[str, list[Run]]) -> bool:
    flags = {r.maximize for g in groups.values() for r in g if isinstance(r, AskTell)}
    if len(flags) > 1:
        raise ValueError("convergence: the optimisers disagree on `maximize`; pass it.")
    return flags.pop() if flags else False


def convergence(
    runs: Mapping[str, Sequence[Run]] | Sequence[Run],
    *,
    maximize: bool | None = None,
    optimum: float | None = None,
    budget_factor: Mapping[str, int] | None = None,
    log: bool | None = None,
    show_runs: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Best-so-far curves: the median over runs and the 25-75 % band, one colour per group.

    Args:
        runs: ``{label: [run, ...]}`` (e.g. one run per seed), or a list of runs for a
            single group. A run is an optimiser or a sequence of values in evaluation
            order (NaN for failures). Runs of one group are cut to the shortest.
        maximize: larger is better; ``None`` takes it from the optimisers (else False).
        optimum: the known best value; the curves then show the simple regret
            ``|best so far - optimum|``.
        budget_factor: ``{label: k}`` for groups that had ``k`` times the budget: their
            step ``t`` is the best of their first ``k t`` values (random search 2x).
        log: log-scaled y axis; ``None`` means yes exactly when ``optimum`` is given.
        show_runs: also draw every run as a thin line.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes.

    Example:
        >>> from matplotlib.figure import Figure
        >>> ax = Figure().subplots()
        >>> ax = convergence({"A": [[3, 2, 1], [2, 2, 2]], "B": [[1, 1, 1]]}, ax=ax)
        >>> ax.get_xlabel()
        'trial'
    """
    from matplotlib.ticker import MaxNLocator

    groups = _groups(runs)
    if maximize is None:
        maximize = _infer_maximize(groups)
    factors = dict(budget_factor or {})
    unknown = set(factors) - set(groups)
    if unknown:
        raise ValueError(f"convergence: `budget_factor` names unknown groups {sorted(unknown)}.")
    log = optimum is not None if log is None else log
    ax = _new_axes(ax)
    colors = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, group) in enumerate(groups.items()):
        k = factors.get(label, 1)
        curves = [best_so_far(r, maximize=maximize, factor=k) for r in group]
        n = min(len(c) for c in curves)
        if n == 0:
            continue
        Y = np.stack([c[:n] for c in curves])
        if optimum is not None:
            Y = np.abs(Y - optimum)
            if log:
                Y = np.maximum(Y, 1e-12)
        x = np.arange(1, n + 1)
        color = colors[i % len(colors)]
        if show_runs:
            for y in Y:
                ax.plot(x, y, color=color, alpha=0.35, linewidth=0.7)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps before data
            q1, med, q3 = np.nanpercentile(Y, [25, 50, 75], axis=0)
        extra = f", {k}x budget" if k != 1 else ""
        ax.plot(x, med, color=color, linewidth=2, label=f"{label} (median of {len(Y)}{extra})")
        ax.fill_between(x, q1, q3, color=color, alpha=0.2, linewidth=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if optimum is not None:
        ax.set_ylabel("simple regret |best so far - optimum|")
    else:
        ax.set_ylabel("best value so far" + (" (higher is better)" if maximize else ""))
    ax.legend(title="median, 25-75 % band", fontsize="small", title_fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def history(
    opt: AskTell, *, ax: Axes | None = None, by: str | None = None, outcome: str | None = None
) -> Axes:
    """Every trial's value against its id, the best-so-far line and failed trials.

    Args:
        opt: an optimiser with trials.
        ax: where to draw; a new figure when ``None``.
        by: what colours the trials: ``None`` (default) their source (initial design,
            model, ...); ``"branch"`` the branch of a conditional space they are in (the
            values of their active parents, ``Space.branch``); or a parameter's name, its
            value (``"inactive"`` where it is not active).
        outcome: in a study with ``objectives=`` or ``constraints=``, the outcome drawn
            (default: the first objective); see ``single_outcome``.

    Returns:
        The axes.

    Example:
        >>> import bayesopt as bo
        >>> from matplotlib.figure import Figure
        >>> space = bo.Space({"m": bo.Categorical(["a", "b"]),
        ...                   "x": bo.Real(0, 1, when={"m": "a"})})
        >>> rs = bo.RandomSearch(space, seed=0)
        >>> for _ in range(6):
        ...     _ = rs.tell(rs.ask(), 1.0)
        >>> ax = history(rs, by="branch", ax=Figure().subplots())
        >>> sorted(t.get_text() for t in ax.get_legend().get_texts())[:2]
        ['best so far', 'm=a']
    """
    trials, maximize = single_outcome(opt, outcome)
    ax = _new_axes(ax)
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    for label, ts in _groups_by(opt.space, complete, by).items():
        ax.scatter([t.id for t in ts], [t.value for t in ts], s=22, label=label)
    shown = [math.nan if t.value is None else t.value for t in trials]
    best = best_so_far(shown, maximize=maximize)
    if len(best):
        ax.step(np.arange(len(best)), best, where="post", color="k", label="best so far")
    failed = [t.id for t in trials if t.state is TrialState.FAILED]
    if failed:
        values = [t.value for t in complete]
        top = (max(values) if not maximize else min(values)) if values else 0.0
        ax.scatter(failed, [top] * len(failed), marker="x", color="tab:red", label="failed")
    ax.set_xlabel("trial id (ask order)")
    outcomes = getattr(opt, "outcomes", None)
    ax.set_ylabel("objective value" if outcomes is None else outcome or outcomes.names[0])
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _groups_by(space: Space, trials: Sequence[Trial], by: str | None) -> dict[str, list[Trial]]:
    """Trials grouped for colouring: by source, by branch or by a parameter's value."""
    if by is not None and by != "branch" and by not in space:
        raise ValueError(
            f"history: `by` must be None, 'branch' or a parameter name; the space has "
            f"{space.names!r}, but got {by!r}."
        )
    groups: dict[str, list[Trial]] = {}
    if by is None:  # by source, in the sources' order
        for source in sorted({t.source for t in trials}):
            groups[f"{source} trials"] = [t for t in trials if t.source == source]
        return groups
    for t in trials:
        if by == "branch":
            label = ", ".join(f"{k}={v}" for k, v in space.branch(t.params)) or "all"
        else:
            label = f"{by}={t.params[by]}" if by in t.params else f"{by} inactive"
        groups.setdefault(label, []).append(t)
    return groups


_CURVE_STYLES: dict[TrialState, dict[str, Any]] = {
    TrialState.COMPLETE: {"color": "tab:blue", "alpha": 0.8, "lw": 1.2},
    TrialState.PRUNED: {"color": "tab:orange", "alpha": 0.6, "lw": 1.0},
    TrialState.PENDING: {"color": "tab:gray", "alpha": 0.6, "lw": 1.0, "ls": "--"},
    TrialState.FAILED: {"color": "tab:red", "alpha": 0.6, "lw": 1.0, "ls": ":"},
}


def curves(opt: AskTell, *, ax: Axes | None = None, log_x: bool = False) -> Axes:
    """Every trial's intermediate values against its steps, coloured by state: complete,
    pruned (a dot where it stopped), pending, failed. Trials that reported nothing are
    left out.

    Args:
        opt: an optimiser whose trials reported (``opt.report``).
        ax: where to draw; a new figure when ``None``.
        log_x: a logarithmic step axis (budgets that grow geometrically, as in Hyperband).

    Returns:
        The axes; its legend counts the trials of each state.
    """
    ax = _new_axes(ax)
    drawn = [t for t in opt.trials if t.intermediate]
    for state, style in _CURVE_STYLES.items():
        ts = [t for t in drawn if t.state is state]
        for i, t in enumerate(ts):
            steps, values = zip(*t.intermediate, strict=True)
            label = f"{state.value} ({len(ts)})" if i == 0 else None
            ax.plot(steps, values, label=label, **style)
            if state is TrialState.PRUNED:
                ax.plot(steps[-1], values[-1], "o", ms=3, color=style["color"])
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("step (budget)")
    ax.set_ylabel("intermediate value")
    if drawn:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def parallel_coordinates(
    opt: AskTell, *, ax: Axes | None = None, cmap: str | None = None, outcome: str | None = None
) -> Axes:
    """Each complete trial as a line through its parameters and its value.

    Every parameter gets a vertical axis on its unit-cube coordinate (log scale where the
    parameter is log-scaled; categories at their bin centres), labelled with the low and
    high values or the choices. The last axis is the objective, min-max scaled. Lines are
    coloured by value (the better, the darker with the default ``cmap``); the best trial is
    drawn thick and failed trials dashed. In a conditional space a line has a gap where a
    parameter is inactive, and each conditional parameter's label shows its condition.

    Args:
        opt: an optimiser with trials.
        ax: where to draw; a new figure when ``None``.
        cmap: a matplotlib colormap name; default ``"viridis"`` (``"viridis_r"`` when
            maximising).
        outcome: in a study with ``objectives=`` or ``constraints=``, the outcome on the
            last axis (default: the first objective); see ``single_outcome``.

    Returns:
        The axes.
    """
    plt = _pyplot()
    space = opt.space
    trials, maximize = single_outcome(opt, outcome)
    ax = _new_axes(ax, (max(6.0, 1.4 * (space.dim + 1)), 4.0))
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    values = np.array([t.value for t in complete], dtype=float)
    lo, hi = (values.min(), values.max()) if len(values) else (0.0, 1.0)
    cmap = cmap or ("viridis_r" if maximize else "viridis")
    sign = -1.0 if maximize else 1.0
    best = min(complete, key=lambda t: sign * t.value) if complete else None  # type: ignore[operator]
    _draw_trial_lines(ax, space, complete, failed, best, (lo, hi), cmap)
    _draw_coordinate_axes(ax, space, (lo, hi))
    d = space.dim
    ax.set_xticks(np.arange(d + 1), [*map(_axis_label(space), space.names), "value"])
    ax.set_xlim(-0.2, d + 0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("parameter")
    ax.set_ylabel("position in the search space (unit cube)")
    if complete or failed:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    plt.setp(ax.get_xticklabels(), rotation=20)
    return ax


def _draw_trial_lines(
    ax: Axes,
    space: Space,
    complete: Sequence[Trial],
    failed: Sequence[Trial],
    best: Trial | None,
    value_range: tuple[float, float],
    cmap: str,
) -> None:
    """Complete trials coloured by value (the best thick, with a colour bar), failed dashed.

    A trial's line joins its active coordinates: solid over neighbouring axes (one line
    per trial in a space without conditions), dotted and faint where it passes over the
    axes of inactive parameters (a gap there)."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    x = np.arange(space.dim + 1)
    lo, hi = value_range
    span = hi - lo if hi > lo else 1.0

    def row(params: dict[str, Any], value: float) -> np.ndarray:
        return np.append(_unit_with_gaps(space, params), (value - lo) / span)

    norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    if complete:
        solid, bridges = [], []
        for t in complete:
            s, b = _segments(x, row(t.params, t.value))
            solid += [(seg, t.value) for seg in s]
            bridges += [(seg, t.value) for seg in b]
        lines = LineCollection([s for s, _ in solid], cmap=cmap, norm=norm, linewidths=1.2)
        lines.set_alpha(0.8)
        lines.set_array(np.array([v for _, v in solid], dtype=float))
        ax.add_collection(lines)
        if bridges:
            over = LineCollection([s for s, _ in bridges], cmap=cmap, norm=norm, linewidths=0.8)
            over.set_linestyle(":")
            over.set_alpha(0.35)
            over.set_array(np.array([v for _, v in bridges], dtype=float))
            ax.add_collection(over)
        ax.figure.colorbar(lines, ax=ax, label="objective value")
        assert best is not None and best.value is not None
        y = row(best.params, best.value)
        drawn = np.isfinite(y)  # over inactive axes, not through them
        ax.plot(x[drawn], y[drawn], color="tab:red", linewidth=3, label="best")
    for j, t in enumerate(failed):
        u = np.append(_unit_with_gaps(space, t.params), np.nan)
        ax.plot(x, u, color="0.5", linestyle="--", label="failed" if j == 0 else None)


def _segments(x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The pieces of a line through its finite points: runs over neighbouring axes (the
    whole line when every ``y`` is finite), and two-point bridges over NaN stretches."""
    keep = np.flatnonzero(np.isfinite(y))
    runs: list[list[int]] = []
    bridges = []
    for i in keep:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            if runs:
                a = runs[-1][-1]
                bridges.append(np.array([[x[a], y[a]], [x[i], y[i]]]))
            runs.append([i])
    solid = [np.column_stack([x[r], y[r]]) for r in runs if len(r) > 1]
    return solid, bridges


def _unit_with_gaps(space: Space, params: dict[str, Any]) -> np.ndarray:
    """The unit point of ``params``, NaN at inactive coordinates (a gap in the line)."""
    u = space.to_unit(params)
    return np.where(space.active_mask(u).numpy(), u.numpy(), np.nan)


def _axis_label(space: Space) -> Any:
    def label(name: str) -> str:
        when = space[name].when
        if not when:
            return name
        cond = ", ".join(
            f"{k}={'|'.join(str(v) for v in allowed.values)}" for k, allowed in when.items()
        )
        return f"{name}\n({cond})"

    return label


def _draw_coordinate_axes(ax: Axes, space: Space, value_range: tuple[float, float]) -> None:
    """A vertical axis per parameter, labelled with its ticks, and the value axis."""
    for i, p in enumerate(space.values()):
        ax.axvline(i, color="0.3", linewidth=0.8)
        for u, text in _axis_ticks(p):
            _annotate_tick(ax, text, (i, u))
    d = space.dim
    ax.axvline(d, color="0.3", linewidth=0.8)
    _annotate_tick(ax, f"{value_range[0]:.3g}", (d, 0.0))
    _annotate_tick(ax, f"{value_range[1]:.3g}", (d, 1.0))


def _annotate_tick(ax: Axes, text: str, xy: tuple[float, float]) -> None:
    ax.annotate(
        text,
        xy,
        xytext=(3, 0),
        textcoords="offset points",
        fontsize="x-small",
        va="center",
    )


def _axis_ticks(p: Real | Integer | Categorical) -> list[tuple[float, str]]:
    if isinstance(p, Categorical):
        k = p.n_values
        return [((j + 0.5) / k, str(c)) for j, c in enumerate(p.choices)][:12]
    return [(p._encode(p.low), f"{p.low:.3g}"), (p._encode(p.high), f"{p.high:.3g}")]
