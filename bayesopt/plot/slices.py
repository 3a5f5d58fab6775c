"""Slices of the refitted GP: posterior and acquisition along one or two parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from bayesopt.asktell import AskTell
from bayesopt.plot._axes import new_axes as _new_axes
from bayesopt.plot._axes import pyplot as _pyplot
from bayesopt.plot.view import SurrogateView, view_of
from bayesopt.space import DTYPE, Categorical, Space
from bayesopt.trial import TrialState

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["acquisition_slice", "posterior_slice", "slice_1d", "slice_2d"]

_LOG_ACQUISITIONS = ("qlognei", "logei", "pi")
_LOG_RANGE = 30.0
"""A log acquisition's panel shows at most this many nats below its maximum."""


def _base_params(view: SurrogateView, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
    """``fixed`` completed with the best complete trial's params."""
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    sign = -1.0 if view.maximize else 1.0
    best = min(done, key=lambda t: sign * t.value).params
    base = {**best, **dict(fixed or {})}
    if view.space.conditional:  # keep the parameters active under ``fixed``
        active = view.space.active_names(base)
        missing = [k for k in active if k not in base]
        if missing:
            raise ValueError(
                f"the slice's other parameters need values for {missing!r}, which are "
                "active under `fixed` but not in the best trial; pass them in `fixed`."
            )
        base = {k: base[k] for k in active}
    return view.space.validate(base)


def _check_active(space: Space, base: Mapping[str, Any], names: Sequence[str]) -> None:
    """A slice along a parameter that is inactive at the base point would be flat."""
    inactive = [n for n in names if n not in base]
    if inactive:
        raise ValueError(
            f"parameter(s) {inactive!r} are inactive at the slice's base point {dict(base)!r}; "
            "pass `fixed=` values of their parents that activate them."
        )


def _param_index(space: Space, name: str | None) -> int:
    if name is None:
        return 0
    if name not in space:
        raise ValueError(f"unknown parameter {name!r}; the space has {space.names!r}.")
    return space.names.index(name)


def _coordinate_grid(space: Space, i: int, n: int) -> Tensor:
    """Unit values of coordinate ``i`` to evaluate a slice on (bin centres if discrete)."""
    g = space.grid(i)
    if g is not None and len(g) <= max(n, 64):
        return g
    u = torch.linspace(0.0, 1.0, n, dtype=DTYPE)
    if g is not None:  # a large integer range: snap and deduplicate
        full = torch.zeros(n, space.dim, dtype=DTYPE)
        full[:, i] = u
        u = torch.unique(space.snap(full)[:, i])
    return u


def _display(space: Space, i: int, u: Tensor) -> np.ndarray:
    """Axis positions of unit values of coordinate ``i`` (a category's index)."""
    p = space[space.names[i]]
    if isinstance(p, Categorical):
        return np.floor(u.numpy() * p.n_values).clip(0, p.n_values - 1)
    return np.array([p._decode(float(x)) for x in u], dtype=float)


def _display_params(space: Space, name: str, values: list[Any]) -> np.ndarray:
    p = space[name]
    if isinstance(p, Categorical):
        return np.array([p.index(v) for v in values], dtype=float)
    return np.array(values, dtype=float)


def _label_axis(ax: Axes, space: Space, name: str, axis: str) -> None:
    p = space[name]
    set_label = ax.set_xlabel if axis == "x" else ax.set_ylabel
    set_label(name + (" (log scale)" if getattr(p, "log", False) else ""))
    if getattr(p, "log", False):
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if isinstance(p, Categorical):
        ticks = list(range(p.n_values))
        labels = [str(c) for c in p.choices]
        if axis == "x":
            ax.set_xticks(ticks, labels)
        else:
            ax.set_yticks(ticks, labels)


def _slice_points(
    view: SurrogateView, i: int, fixed: Mapping[str, Any] | None, n: int
) -> tuple[Tensor, np.ndarray, dict[str, Any]]:
    base = _base_params(view, fixed)
    _check_active(view.space, base, [view.space.names[i]])
    u = _coordinate_grid(view.space, i, n)
    U = view.space.to_unit(base).repeat(len(u), 1)
    U[:, i] = u
    return view.space.snap(U), _display(view.space, i, u), base


def posterior_slice(
    source: AskTell | SurrogateView,
    param: str | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    objective: Callable[[dict[str, Any]], float] | None = None,
    n_sd: float = 2.0,
    n_grid: int = 200,
    ax: Axes | None = None,
) -> Axes:
    """The GP posterior along one parameter, the others held fixed.

    Draws the posterior mean, a band of ``n_sd`` standard deviations, the complete trials
    (projected onto the slice when the space has more than one parameter), failed trials
    at their imputed value, pending trials as dashed vertical lines and the best trial.

    Args:
        source: an optimiser (refitted with ``fit_surrogate``) or a ``SurrogateView``.
        param: the parameter along the slice; default the first.
        fixed: values of the other parameters; default those of the best trial.
        objective: the true objective ``f(params) -> float``, drawn along the slice.
        n_sd: half-width of the band in posterior standard deviations.
        n_grid: points along a continuous slice.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes.
    """
    view = view_of(source)
    space = view.space
    i = _param_index(space, param)
    name = space.names[i]
    U, x, base = _slice_points(view, i, fixed, n_grid)
    mean, sd = view.predict(U)
    ax = _new_axes(ax)
    _draw_band(ax, x, mean, sd, n_sd, categorical=isinstance(space[name], Categorical))
    if objective is not None:
        truth = []
        for u in U:
            params = space.from_unit(u)
            truth.append(float(objective(params)))
        ax.plot(x, truth, color="k", linestyle=":", label="objective")
    _draw_trials_1d(ax, view, name)
    _draw_pending_1d(ax, view, name)
    _label_axis(ax, space, name, "x")
    ax.set_ylabel("objective")
    if space.dim > 1:
        others = ", ".join(f"{k}={_short(v)}" for k, v in base.items() if k != name)
        ax.set_title(f"slice at {others}", fontsize="small")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _draw_band(
    ax: Axes, x: np.ndarray, mean: np.ndarray, sd: np.ndarray, n_sd: float, *, categorical: bool
) -> None:
    """The posterior mean and a band of ``n_sd`` s.d. (error bars for a categorical)."""
    band = f"mean ± {n_sd:g} s.d."
    if categorical:
        ax.errorbar(x, mean, yerr=n_sd * sd, fmt="o", capsize=4, label=f"posterior {band}")
    else:
        ax.plot(x, mean, color="tab:blue", label="posterior mean")
        ax.fill_between(
            x,
            mean - n_sd * sd,
            mean + n_sd * sd,
            color="tab:blue",
            alpha=0.2,
            label=f"posterior {band}",
        )


def _draw_trials_1d(ax: Axes, view: SurrogateView, name: str) -> None:
    """Complete trials (projected), failed ones at their imputed value, and the best."""
    space = view.space
    projected = " (projected)" if space.dim > 1 else ""
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    shown = view.display_values
    on = np.array([name in t.params for t in done], dtype=bool)  # where it is active
    xs = _display_params(space, name, [t.params[name] for t in done if name in t.params])
    ys = shown[~view.failed][on]
    ax.scatter(xs, ys, color="k", s=20, zorder=3, label=f"observed{projected}")
    failed = [t for t in view.trials if t.state is TrialState.FAILED]
    on_failed = np.array([name in t.params for t in failed], dtype=bool)
    if on_failed.any():
        xf = _display_params(space, name, [t.params[name] for t in failed if name in t.params])
        ax.scatter(
            xf,
            shown[view.failed][on_failed],
            marker="x",
            color="tab:red",
            s=40,
            zorder=3,
            label="failed (imputed worst)",
        )
    k = _best_index(view)
    if name not in done[k].params:
        return
    ax.scatter(
        _display_params(space, name, [done[k].params[name]]),
        [shown[k]],
        marker="*",
        s=160,
        color="gold",
        edgecolors="k",
        zorder=4,
        label="best",
    )


def _draw_pending_1d(ax: Axes, view: SurrogateView, name: str) -> None:
    """A dashed vertical line at each pending trial."""
    pending = [t for t in view.trials if t.state is TrialState.PENDING and name in t.params]
    for j, t in enumerate(pending):
        ax.axvline(
            float(_display_params(view.space, name, [t.params[name]])[0]),
            color="tab:orange",
            linestyle="--",
            linewidth=1.2,
            label="pending" if j == 0 else None,
        )


def _best_index(view: SurrogateView) -> int:
    """Index of the best complete trial among the complete ones."""
    values = view.values[~view.failed]
    return int(np.argmax(values) if view.maximize else np.argmin(values))


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def acquisition_slice(
    source: AskTell | SurrogateView,
    param: str | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    n_grid: int = 200,
    ax: Axes | None = None,
) -> Axes:
    """The acquisition function along one parameter, the others held fixed.

    It is the function the optimiser's next ask maximises (pending trials included), up
    to the randomness of the fit. Log acquisitions show at most 30 nats below their
    maximum, so that regions where they are astronomically small do not flatten the rest.

    Args:
        source: an optimiser (refitted with ``fit_surrogate``) or a ``SurrogateView``.
        param: the parameter along the slice; default the first.
        fixed: values of the other parameters; default those of the best trial.
        n_grid: points along a continuous slice.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes.
    """
    view = view_of(source)
    space = view.space
    i = _param_index(space, param)
    name = space.names[i]
    U, x, _ = _slice_points(view, i, fixed, n_grid)
    a = view.acquisition(U)
    a = np.where(np.isfinite(a), a, np.nan)
    ax = _new_axes(ax)
    style = "o" if isinstance(space[name], Categorical) else "-"
    ax.plot(x, a, style, color="tab:green", label=view.acquisition_label)
    if np.isfinite(a).any():
        k = int(np.nanargmax(a))
        ax.axvline(x[k], color="tab:red", linestyle=":", label="maximum on this slice")
        if view.acquisition_name in _LOG_ACQUISITIONS:
            top = float(np.nanmax(a))
            bottom = max(float(np.nanmin(a)), top - _LOG_RANGE)
            pad = 0.05 * max(top - bottom, 1e-9)
            ax.set_ylim(bottom - pad, top + pad)
    _draw_pending_1d(ax, view, name)
    _label_axis(ax, space, name, "x")
    kind = "standardised, larger is better" if view.acquisition_name in ("ucb", "ts") else ""
    ax.set_ylabel("acquisition" + (f" ({kind})" if kind else ""))
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def slice_1d(
    source: AskTell | SurrogateView,
    param: str | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    objective: Callable[[dict[str, Any]], float] | None = None,
    n_grid: int = 200,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Posterior (top) and acquisition (bottom) along one parameter, from one fit.

    Args:
        source: an optimiser (refitted with ``fit_surrogate``) or a ``SurrogateView``.
        param: the parameter along the slice; default the first.
        fixed: values of the other parameters; default those of the best trial.
        objective: the true objective, drawn on the posterior panel.
        n_grid: points along a continuous slice.
        axes: two axes to draw on; a new figure when ``None``.

    Returns:
        The figure.
    """
    view = view_of(source)
    if axes is None:
        _, axes = _pyplot().subplots(
            2,
            1,
            figsize=(7.0, 5.5),
            sharex=True,
            layout="constrained",
            gridspec_kw={"height_ratios": [2, 1]},
        )
    if len(axes) != 2:
        raise ValueError(f"slice_1d: `axes` must hold two axes, but got {len(axes)}.")
    posterior_slice(view, param, fixed=fixed, objective=objective, n_grid=n_grid, ax=axes[0])
    acquisition_slice(view, param, fixed=fixed, n_grid=n_grid, ax=axes[1])
    return axes[0].figure


def slice_2d(
    source: AskTell | SurrogateView,
    params: tuple[str, str] | None = None,
    *,
    what: str = "mean",
    fixed: Mapping[str, Any] | None = None,
    n_grid: int = 60,
    ax: Axes | None = None,
) -> Axes:
    """Filled contours of the posterior mean, s.d. or acquisition over two parameters.

    Args:
        source: an optimiser (refitted with ``fit_surrogate``) or a ``SurrogateView``.
        params: two non-categorical parameters; default the first two.
        what: ``"mean"``, ``"sd"`` or ``"acquisition"``.
        fixed: values of the other parameters; default those of the best trial.
        n_grid: points per axis.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes (with a colour bar beside it).
    """
    if what not in ("mean", "sd", "acquisition"):
        raise ValueError(f"`what` must be 'mean', 'sd' or 'acquisition', but got {what!r}.")
    view = view_of(source)
    space = view.space
    names, idx = _pair(space, params)
    base = _base_params(view, fixed)
    _check_active(space, base, names)
    u0, u1 = (_coordinate_grid(space, i, n_grid) for i in idx)
    G0, G1 = torch.meshgrid(u0, u1, indexing="xy")
    U = space.to_unit(base).repeat(G0.numel(), 1)
    U[:, idx[0]] = G0.reshape(-1)
    U[:, idx[1]] = G1.reshape(-1)
    U = space.snap(U)
    Z, label = _surface(view, U, what)
    Z = Z.reshape(G0.shape)
    x0, x1 = _display(space, idx[0], u0), _display(space, idx[1], u1)
    ax = _new_axes(ax, (6.5, 5.0))
    cs = ax.contourf(x0, x1, Z, levels=20, cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label=label)
    _draw_trials_2d(ax, view, names)
    _label_axis(ax, space, names[0], "x")
    _label_axis(ax, space, names[1], "y")
    if space.dim > 2:
        others = ", ".join(f"{k}={_short(v)}" for k, v in base.items() if k not in names)
        ax.set_title(f"slice at {others}", fontsize="small")
    ax.legend(fontsize="small", loc="best")
    return ax


def _pair(space: Space, params: tuple[str, str] | None) -> tuple[tuple[str, str], list[int]]:
    """The two parameters of a 2-D slice, checked (different, not categorical), and their
    indices."""
    if space.dim < 2:
        raise ValueError("slice_2d: the space has a single parameter; use posterior_slice.")
    names = tuple(params) if params is not None else tuple(space.names[:2])
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"slice_2d: `params` must be two different names, but got {params!r}.")
    idx = [_param_index(space, n) for n in names]
    for n in names:
        if isinstance(space[n], Categorical):
            raise ValueError(f"slice_2d: {n!r} is categorical; use posterior_slice for it.")
    return (names[0], names[1]), idx


def _surface(view: SurrogateView, U: Tensor, what: str) -> tuple[np.ndarray, str]:
    """The values of ``what`` at the unit points ``U``, and the colour bar's label."""
    if what == "acquisition":
        Z = view.acquisition(U)
        label = view.acquisition_label
        if view.acquisition_name in _LOG_ACQUISITIONS and np.isfinite(Z).any():
            Z = np.maximum(Z, np.nanmax(Z) - _LOG_RANGE)
        return Z, label
    mean, sd = view.predict(U)
    Z = mean if what == "mean" else sd
    return Z, f"posterior {'mean' if what == 'mean' else 's.d.'}"


_TRIAL_STYLES = (
    (TrialState.COMPLETE, {"c": "white", "edgecolors": "k", "s": 24, "label": "observed"}),
    (TrialState.FAILED, {"marker": "x", "color": "tab:red", "s": 40, "label": "failed"}),
    (
        TrialState.PENDING,
        {"marker": "P", "color": "tab:orange", "edgecolors": "k", "s": 60, "label": "pending"},
    ),
)
"""How each state's trials are drawn on a 2-D slice, in drawing order."""


def _draw_trials_2d(ax: Axes, view: SurrogateView, names: tuple[str, str]) -> None:
    """Complete, failed and pending trials, and the best, at their two coordinates."""
    for state, style in _TRIAL_STYLES:
        trials = [
            t
            for t in view.trials
            if t.state is state and names[0] in t.params and names[1] in t.params
        ]
        if trials or state is TrialState.COMPLETE:
            ax.scatter(
                [t.params[names[0]] for t in trials],
                [t.params[names[1]] for t in trials],
                **style,
            )
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    best = done[_best_index(view)]
    if names[0] not in best.params or names[1] not in best.params:
        return
    ax.scatter(
        [best.params[names[0]]],
        [best.params[names[1]]],
        marker="*",
        s=200,
        color="gold",
        edgecolors="k",
        label="best",
    )
