"""Figures for studies with several outcomes: Pareto fronts, hypervolume, feasibility."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayesopt import outcomes as outcomes_module
from bayesopt.asktell import AskTell
from bayesopt.plot._axes import new_axes as _new_axes
from bayesopt.plot._axes import pyplot as _pyplot
from bayesopt.trial import TrialState

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["feasibility", "hypervolume_history", "pareto_front"]


def _declared(study: AskTell, what: str) -> outcomes_module.Outcomes:
    if not isinstance(study, AskTell):
        raise TypeError(f"`study` must be an optimiser (bayesopt.AskTell), but got {study!r}.")
    if study.outcomes is None:
        raise ValueError(f"{what} needs a study with `objectives=` or `constraints=`.")
    return study.outcomes


def pareto_front(study: AskTell, *, ax: Axes | None = None) -> Axes | np.ndarray:
    """Every complete trial in objective space, the Pareto front highlighted.

    Feasible trials are grey dots, the front's trials red dots joined by the attainment
    staircase, infeasible trials grey crosses. With two objectives one scatter; with three
    or more a pairs plot (one scatter per pair of objectives, the names on the diagonal).

    Args:
        study: an optimiser with at least two ``objectives``.
        ax: where to draw two objectives; a new figure when ``None`` (ignored for a pairs
            plot, which makes its own figure).

    Returns:
        The axes, or for three or more objectives the ``m x m`` array of axes.

    Raises:
        ValueError: the study declares fewer than two objectives.

    Example:
        >>> import bayesopt as bo, matplotlib
        >>> matplotlib.use("Agg")
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
        ...                      objectives={"a": "min", "b": "min"})
        >>> for x in (0.2, 0.5, 0.8):
        ...     _ = rs.add({"x": x}, {"a": x, "b": (1 - x) ** 2})
        >>> ax = bo.plot.pareto_front(rs)
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('a (min)', 'b (min)')
    """
    out = _declared(study, "pareto_front()")
    if not out.multi:
        raise ValueError(
            f"pareto_front() needs at least two objectives, but the study has "
            f"{list(out.objective_names)}."
        )
    trials = study.trials
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.values is not None]
    front_ids = {t.id for t in study.pareto_front()}
    names = out.objective_names

    def column(ts: list, k: str) -> np.ndarray:
        return np.array([t.values[k] for t in ts], dtype=float)

    groups = {
        "feasible": [t for t in done if t.feasible is not False and t.id not in front_ids],
        "infeasible": [t for t in done if t.feasible is False],
        "Pareto front": [t for t in done if t.id in front_ids],
    }
    labels = [f"{k} ({d})" for k, d in out.objectives]

    def draw(a: Axes, i: int, j: int, legend: bool) -> None:
        x, y = names[i], names[j]
        style = {
            "feasible": dict(color="0.6", marker="o", s=16),
            "infeasible": dict(color="0.6", marker="x", s=20),
            "Pareto front": dict(color="tab:red", marker="o", s=26, zorder=3),
        }
        for name, ts in groups.items():
            if ts:
                a.scatter(column(ts, x), column(ts, y), label=name, **style[name])
        front = groups["Pareto front"]
        if len(front) > 1 and len(names) == 2:
            order = np.argsort(column(front, x), kind="stable")
            a.step(column(front, x)[order], column(front, y)[order], where="post",
                   color="tab:red", alpha=0.5, lw=1)  # fmt: skip
        a.set_xlabel(labels[i])
        a.set_ylabel(labels[j])
        a.grid(alpha=0.3)
        if legend:
            a.legend(fontsize="small")

    if len(names) == 2:
        ax = _new_axes(ax)
        draw(ax, 0, 1, True)
        ax.set_title(f"{len(front_ids)} Pareto-optimal of {len(done)} complete trials")
        return ax
    m = len(names)
    fig, axes = _pyplot().subplots(m, m, figsize=(2.6 * m, 2.6 * m), layout="constrained")
    for i in range(m):
        for j in range(m):
            if i == j:
                axes[j, i].text(0.5, 0.5, labels[i], ha="center", va="center",
                                transform=axes[j, i].transAxes)  # fmt: skip
                axes[j, i].set_xticks([])
                axes[j, i].set_yticks([])
            else:
                draw(axes[j, i], i, j, legend=(i, j) == (0, 1))
    fig.suptitle(f"{len(front_ids)} Pareto-optimal of {len(done)} complete trials")
    return axes


def _hypervolumes(study: AskTell, ref: Any) -> np.ndarray:
    """The hypervolume of the feasible complete trials among the first ``k``, for each
    ``k``."""
    out = study.outcomes
    assert out is not None
    trials = study.trials
    hv = np.zeros(len(trials))
    usable_ids = [t.id for t in out.usable(trials)]
    gains = out.gains(out.usable(trials))
    for k in range(len(trials)):
        n = int(np.searchsorted(usable_ids, k, side="right"))
        hv[k] = outcomes_module.hypervolume(gains[:n], ref) if n else 0.0
    return hv


def hypervolume_history(
    study: AskTell, *, ref_point: dict[str, float] | None = None, ax: Axes | None = None
) -> Axes:
    """The hypervolume of the first ``k`` trials against ``k``, with one reference point
    throughout (``ref_point``, or the study's ``reference_point()``).

    Args:
        study: an optimiser with declared outcomes and at least one feasible trial.
        ref_point: ``{objective: value}``; ``None`` for ``study.reference_point()``.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes; the line's y data are the hypervolumes.

    Example:
        >>> import bayesopt as bo, matplotlib
        >>> matplotlib.use("Agg")
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
        ...                      objectives={"a": "min", "b": "min"})
        >>> for a, b in [(2, 2), (1, 2), (2, 1)]:
        ...     _ = rs.add({"x": 0.5}, {"a": a, "b": b})
        >>> ax = bo.plot.hypervolume_history(rs, ref_point={"a": 3, "b": 3})
        >>> ax.lines[0].get_ydata().tolist()
        [1.0, 2.0, 3.0]
    """
    out = _declared(study, "hypervolume_history()")
    point = study.reference_point() if ref_point is None else ref_point
    ref = out.to_gains(point)
    hv = _hypervolumes(study, ref)
    ax = _new_axes(ax)
    ax.plot(np.arange(1, len(hv) + 1), hv, color="tab:blue", drawstyle="steps-post")
    ax.set_xlabel("trials")
    ax.set_ylabel("hypervolume")
    shown = ", ".join(f"{k}={v:.3g}" for k, v in point.items())
    ax.set_title(f"reference point {shown}", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def feasibility(study: AskTell, *, ax: Axes | None = None) -> Axes:
    """Each finished trial's feasibility in ask order, and the running share feasible.

    Feasible trials are green dots at 1, infeasible ones red crosses at 0 (failed trials
    count as infeasible, crosses in grey); the line is the share of feasible trials among
    the first ``k``.

    Args:
        study: an optimiser with ``constraints``.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes; its one line is the running share.

    Example:
        >>> import bayesopt as bo, matplotlib
        >>> matplotlib.use("Agg")
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
        ...                      constraints={"c": ("<=", 0.5)})
        >>> for x in (0.2, 0.9, 0.4, 0.3):
        ...     _ = rs.add({"x": x}, {"value": x, "c": x})
        >>> bo.plot.feasibility(rs).lines[0].get_ydata().tolist()
        [1.0, 0.5, 0.6666666666666666, 0.75]
    """
    out = _declared(study, "feasibility()")
    if not out.constraints:
        raise ValueError("feasibility() needs a study with `constraints=`.")
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.FAILED)]
    ok = np.array([t.feasible is True for t in finished], dtype=float)
    ids = np.array([t.id for t in finished])
    failed = np.array([t.state is TrialState.FAILED for t in finished], dtype=bool)
    ax = _new_axes(ax)
    share = np.cumsum(ok) / np.arange(1, len(ok) + 1) if len(ok) else ok
    ax.plot(ids, share, color="tab:blue", label="share feasible")
    good = ok == 1
    ax.scatter(ids[good], ok[good], color="tab:green", marker="o", s=16, label="feasible")
    bad = ~good & ~failed
    ax.scatter(ids[bad], ok[bad], color="tab:red", marker="x", s=20, label="infeasible")
    if failed.any():
        ax.scatter(ids[failed], ok[failed], color="0.5", marker="x", s=20, label="failed")
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel("trial")
    ax.set_ylabel("feasible")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax
