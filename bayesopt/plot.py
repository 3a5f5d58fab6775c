"""Figures for optimisation runs and their surrogates (matplotlib, imported lazily).

``import bayesopt`` does not import this module, and this module imports matplotlib only
inside its functions, so the library works without matplotlib installed.

=======================  ==========================================================
function                 draws
=======================  ==========================================================
``convergence``          best-so-far value over trials for several runs (seeds):
                         median line and 25-75 % band per group
``history``              every trial's value in ask order, best-so-far line, failures
``parallel_coordinates`` every trial across all parameters, coloured by its value
``posterior_slice``      1-D slice of the GP posterior: mean, band, data, pending trials
``acquisition_slice``    1-D slice of the acquisition function the optimiser maximises
``slice_1d``             both of the above, stacked, from one fit
``slice_2d``             2-D slice: posterior mean, s.d. or acquisition as contours
=======================  ==========================================================

Every function takes an optional ``ax=`` (a new figure is made without one) and returns
what it drew on. The slices refit the optimiser's surrogate from its trials with
``fit_surrogate`` (the same data, transforms and model settings the optimiser uses); pass
the returned ``SurrogateView`` instead of the optimiser to draw several slices from one fit.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from bayesopt import acquisition as _acquisition
from bayesopt import surrogate
from bayesopt._rng import seeded_torch
from bayesopt.asktell import AskTell
from bayesopt.space import DTYPE, Categorical, Integer, Real, Space
from bayesopt.trial import TrialState

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "SurrogateView",
    "acquisition_slice",
    "best_so_far",
    "convergence",
    "fit_surrogate",
    "history",
    "parallel_coordinates",
    "posterior_slice",
    "slice_1d",
    "slice_2d",
]

Run = AskTell | Sequence[float]
"""One optimisation run: an optimiser (its trials' values in ask order) or the values."""

_ACQ_LABELS = {
    "qlognei": "log EI (qLogNEI)",
    "logei": "log EI",
    "pi": "log PI",
    "ucb": "UCB",
    "ts": "Thompson sample",
}
_LOG_ACQUISITIONS = ("qlognei", "logei", "pi")
_LOG_RANGE = 30.0
"""A log acquisition's panel shows at most this many nats below its maximum."""


def _pyplot() -> Any:
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


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


def history(opt: AskTell, *, ax: Axes | None = None) -> Axes:
    """Every trial's value against its id, the best-so-far line and failed trials.

    Args:
        opt: an optimiser with trials.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes.
    """
    ax = _new_axes(ax)
    trials = opt.trials
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    sources = sorted({t.source for t in complete})
    for source in sources:
        ts = [t for t in complete if t.source == source]
        ax.scatter([t.id for t in ts], [t.value for t in ts], s=22, label=f"{source} trials")
    best = best_so_far(opt, maximize=opt.maximize)
    if len(best):
        ax.step(np.arange(len(best)), best, where="post", color="k", label="best so far")
    failed = [t.id for t in trials if t.state is TrialState.FAILED]
    if failed:
        values = [t.value for t in complete]
        top = (max(values) if not opt.maximize else min(values)) if values else 0.0
        ax.scatter(failed, [top] * len(failed), marker="x", color="tab:red", label="failed")
    ax.set_xlabel("trial id (ask order)")
    ax.set_ylabel("objective value")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def parallel_coordinates(opt: AskTell, *, ax: Axes | None = None, cmap: str | None = None) -> Axes:
    """Each complete trial as a line through its parameters and its value.

    Every parameter gets a vertical axis on its unit-cube coordinate (log scale where the
    parameter is log-scaled; categories at their bin centres), labelled with the low and
    high values or the choices. The last axis is the objective, min-max scaled. Lines are
    coloured by value (the better, the darker with the default ``cmap``); the best trial is
    drawn thick and failed trials dashed.

    Args:
        opt: an optimiser with trials.
        ax: where to draw; a new figure when ``None``.
        cmap: a matplotlib colormap name; default ``"viridis"`` (``"viridis_r"`` when
            maximising).

    Returns:
        The axes.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    plt = _pyplot()
    space = opt.space
    ax = _new_axes(ax, (max(6.0, 1.4 * (space.dim + 1)), 4.0))
    trials = opt.trials
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    d = space.dim
    x = np.arange(d + 1)
    values = np.array([t.value for t in complete], dtype=float)
    lo, hi = (values.min(), values.max()) if len(values) else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0

    def row(params: dict[str, Any], value: float) -> np.ndarray:
        return np.append(space.to_unit(params).numpy(), (value - lo) / span)

    norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    cmap = cmap or ("viridis_r" if opt.maximize else "viridis")
    if complete:
        segs = [np.column_stack([x, row(t.params, t.value)]) for t in complete]
        lines = LineCollection(segs, cmap=cmap, norm=norm, linewidths=1.2, alpha=0.8)
        lines.set_array(values)
        ax.add_collection(lines)
        ax.figure.colorbar(lines, ax=ax, label="objective value")
        best = opt.best
        ax.plot(x, row(best.params, best.value), color="tab:red", linewidth=3, label="best")
    for j, t in enumerate(failed):
        u = np.append(space.to_unit(t.params).numpy(), np.nan)
        ax.plot(x, u, color="0.5", linestyle="--", label="failed" if j == 0 else None)
    for i, p in enumerate(space.values()):
        ax.axvline(i, color="0.3", linewidth=0.8)
        for u, text in _axis_ticks(p):
            ax.annotate(
                text,
                (i, u),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize="x-small",
                va="center",
            )
    ax.axvline(d, color="0.3", linewidth=0.8)
    ax.annotate(
        f"{lo:.3g}",
        (d, 0.0),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize="x-small",
        va="center",
    )
    ax.annotate(
        f"{hi:.3g}",
        (d, 1.0),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize="x-small",
        va="center",
    )
    ax.set_xticks(x, [*space.names, "value"])
    ax.set_xlim(-0.2, d + 0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("parameter")
    ax.set_ylabel("position in the search space (unit cube)")
    if complete or failed:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    plt.setp(ax.get_xticklabels(), rotation=20)
    return ax


def _axis_ticks(p: Real | Integer | Categorical) -> list[tuple[float, str]]:
    if isinstance(p, Categorical):
        k = p.n_values
        return [((j + 0.5) / k, str(c)) for j, c in enumerate(p.choices)][:12]
    return [(p._encode(p.low), f"{p.low:.3g}"), (p._encode(p.high), f"{p.high:.3g}")]


# The surrogate -------------------------------------------------------------------------------
class SurrogateView:
    """The optimiser's GP refitted on its trials, with predictions in objective units.

    Build it with ``fit_surrogate``. Failed trials are imputed with the worst value, as the
    optimiser does.

    Attributes:
        space: the search space.
        model: the fitted BoTorch model (on standardised targets, larger is better).
        X: ``n x d`` unit inputs of the complete trials, then the failed ones.
        values: ``n`` objective values (failed trials: the worst complete value).
        failed: ``n`` booleans, True for failed trials.
        X_pending: ``m x d`` unit inputs of the pending trials.
        trials: the optimiser's trials.
        maximize: whether larger values are better.
        acquisition_name: the acquisition drawn by ``acquisition``.
        units: ``"objective"``: predictions are mapped back through the inverse of the
            optimiser's output transform (``surrogate.fit_output_transform``).
    """

    def __init__(
        self,
        *,
        space: Space,
        model: Any,
        X: Tensor,
        y: Tensor,
        values: np.ndarray,
        failed: np.ndarray,
        X_pending: Tensor,
        trials: list,
        maximize: bool,
        acquisition_name: str,
        seed: int,
        inverse: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.space = space
        self.model = model
        self.X = X
        self.y = y
        self.values = values
        self.failed = failed
        self.X_pending = X_pending
        self.trials = trials
        self.maximize = maximize
        self.acquisition_name = acquisition_name
        self.seed = seed
        self._acqf: Any = None
        self._sign = 1.0 if maximize else -1.0
        self._inverse = inverse
        self.units = "objective"
        self.display_values = values
        """``values``, in the units predictions are shown in."""

    def to_units(self, y: np.ndarray) -> np.ndarray:
        """Map model-space targets (standardised, transformed, larger is better) back to
        objective values, through the inverse of the optimiser's output transform."""
        return self._sign * self._inverse(np.asarray(y, dtype=float))

    def predict(self, U: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function.

        Args:
            U: ``k x d`` unit points.

        Returns:
            Two ``k`` arrays in objective units: the mean (through a non-affine output
            transform, the posterior median) and the standard deviation (its
            first-order image there).
        """
        with torch.no_grad(), surrogate.exact(), _quiet():
            post = self.model.posterior(U.to(DTYPE))
            mean = post.mean.reshape(-1).numpy()
            sd = post.variance.clamp_min(0).sqrt().reshape(-1).numpy()
        # Through a monotone transform the mean maps to the posterior median in objective
        # units, and the s.d. to its first-order (delta-method) image there (both exact
        # for an affine transform, i.e. without a warp).
        h = 1e-5
        slope = np.abs(self.to_units(mean + h) - self.to_units(mean - h)) / (2 * h)
        return self.to_units(mean), sd * slope

    def _acquisition_function(self) -> Any:
        if self._acqf is None:
            self._acqf = _acquisition.make(
                self.acquisition_name,
                self.model,
                X_baseline=self.X,
                best_f=float(self.y.max()),
                X_pending=self.X_pending if len(self.X_pending) else None,
                q=1,
                seed=self.seed,
                noise_fraction=surrogate.noise_fraction(self.model),
            )
        return self._acqf

    def acquisition(self, U: Tensor) -> np.ndarray:
        """Acquisition values at ``k x d`` unit points (larger is better), as a ``k`` array.

        For ``"ts"`` this is one joint posterior sample (standardised, larger is better).
        """
        U = U.to(DTYPE)
        with torch.no_grad(), surrogate.exact(), _quiet(), seeded_torch(self.seed):
            if self.acquisition_name == "ts":
                out = self.model.posterior(U).rsample().reshape(-1)
            else:
                acqf = self._acquisition_function()
                out = torch.cat([acqf(c.unsqueeze(1)).reshape(-1) for c in U.split(512)])
        return out.numpy()

    @property
    def acquisition_label(self) -> str:
        """A readable name of the acquisition."""
        return _ACQ_LABELS.get(self.acquisition_name, self.acquisition_name)


@contextlib.contextmanager
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def fit_surrogate(opt: AskTell, *, acquisition: str | None = None, seed: int = 0) -> SurrogateView:
    """Refit the optimiser's GP on its trials, as its next ask would.

    Uses the public pieces the optimiser is built from: ``Space.to_unit``, the output
    standardisation of ``bayesopt.surrogate``, ``surrogate.fit`` with the optimiser's
    model options, and ``acquisition.make``. Complete trials are the data; failed ones are
    imputed with the worst value; pending ones are pending points of the acquisition. (With
    more than ``model_options.max_exact`` observations the optimiser fits a local model on
    a subset; this refit uses all of them.)

    Args:
        opt: an ``Optimizer`` (or ``RandomSearch``: it gets the default GP) with at least
            two complete trials.
        acquisition: the acquisition to draw; default the optimiser's (``"qlognei"`` for
            optimisers without one).
        seed: seeds the fit and the acquisition's Monte-Carlo samples.

    Returns:
        A ``SurrogateView``.

    Raises:
        ValueError: fewer than two complete trials.
        bayesopt.surrogate.SurrogateError: the fit failed.
    """
    trials = opt.trials
    space = opt.space
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    bad = [t for t in trials if t.state is TrialState.FAILED]
    if len(done) < 2:
        raise ValueError(
            f"fit_surrogate: needs 2 complete trials, but the optimiser has {len(done)}."
        )
    name = acquisition or getattr(opt, "acquisition", "qlognei")
    name = _acquisition.check_name(name)

    def encode(ts: list) -> Tensor:
        if not ts:
            return torch.empty(0, space.dim, dtype=DTYPE)
        return torch.stack([space.to_unit(t.params) for t in ts])

    values = np.array([t.value for t in done], dtype=float)
    worst = values.min() if opt.maximize else values.max()
    values = np.concatenate([values, np.full(len(bad), worst)])
    X = torch.cat([encode(done), encode(bad)])
    target = torch.as_tensor(values if opt.maximize else -values, dtype=DTYPE)
    # An Optimizer's own model settings; other optimisers (RandomSearch) get the defaults.
    options = getattr(opt, "model_options", None) or surrogate.ModelOptions()
    y, inverse = surrogate.fit_output_transform(target, options.output_warp)
    with surrogate.exact():
        model = surrogate.fit(X, y, cat_dims=space.categorical_dims, seed=seed, options=options)
    pending = [t for t in trials if t.state is TrialState.PENDING]
    return SurrogateView(
        space=space,
        model=model,
        X=X,
        y=y,
        values=values,
        failed=np.array([False] * len(done) + [True] * len(bad)),
        X_pending=encode(pending),
        trials=trials,
        maximize=opt.maximize,
        acquisition_name=name,
        seed=seed,
        inverse=inverse,
    )


def _view(source: AskTell | SurrogateView) -> SurrogateView:
    if isinstance(source, SurrogateView):
        return source
    if isinstance(source, AskTell):
        return fit_surrogate(source)
    raise TypeError(f"expected an optimiser or a SurrogateView, but got {source!r}.")


# Slices --------------------------------------------------------------------------------------
def _base_params(view: SurrogateView, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
    """``fixed`` completed with the best complete trial's params."""
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    sign = -1.0 if view.maximize else 1.0
    best = min(done, key=lambda t: sign * t.value).params
    base = {**best, **dict(fixed or {})}
    return view.space.validate(base)


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
    u = _coordinate_grid(view.space, i, n)
    U = view.space.to_unit(base).repeat(len(u), 1)
    U[:, i] = u
    return U, _display(view.space, i, u), base


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
    view = _view(source)
    space = view.space
    i = _param_index(space, param)
    name = space.names[i]
    U, x, base = _slice_points(view, i, fixed, n_grid)
    mean, sd = view.predict(U)
    ax = _new_axes(ax)
    categorical = isinstance(space[name], Categorical)
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
    if objective is not None:
        truth = []
        for u in U:
            params = space.from_unit(u)
            truth.append(float(objective(params)))
        ax.plot(x, truth, color="k", linestyle=":", label="objective")
    projected = " (projected)" if space.dim > 1 else ""
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    shown = view.display_values
    xs = _display_params(space, name, [t.params[name] for t in done])
    ax.scatter(xs, shown[~view.failed], color="k", s=20, zorder=3, label=f"observed{projected}")
    failed = [t for t in view.trials if t.state is TrialState.FAILED]
    if failed:
        xf = _display_params(space, name, [t.params[name] for t in failed])
        ax.scatter(
            xf,
            shown[view.failed],
            marker="x",
            color="tab:red",
            s=40,
            zorder=3,
            label="failed (imputed worst)",
        )
    k = _best_index(view)
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
    pending = [t for t in view.trials if t.state is TrialState.PENDING]
    for j, t in enumerate(pending):
        ax.axvline(
            float(_display_params(space, name, [t.params[name]])[0]),
            color="tab:orange",
            linestyle="--",
            linewidth=1.2,
            label="pending" if j == 0 else None,
        )
    _label_axis(ax, space, name, "x")
    ax.set_ylabel("objective")
    if space.dim > 1:
        others = ", ".join(f"{k}={_short(v)}" for k, v in base.items() if k != name)
        ax.set_title(f"slice at {others}", fontsize="small")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


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
    view = _view(source)
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
    pending = [t for t in view.trials if t.state is TrialState.PENDING]
    for j, t in enumerate(pending):
        ax.axvline(
            float(_display_params(space, name, [t.params[name]])[0]),
            color="tab:orange",
            linestyle="--",
            linewidth=1.2,
            label="pending" if j == 0 else None,
        )
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
    view = _view(source)
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
    view = _view(source)
    space = view.space
    if space.dim < 2:
        raise ValueError("slice_2d: the space has a single parameter; use posterior_slice.")
    names = tuple(params) if params is not None else tuple(space.names[:2])
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"slice_2d: `params` must be two different names, but got {params!r}.")
    idx = [_param_index(space, n) for n in names]
    for n in names:
        if isinstance(space[n], Categorical):
            raise ValueError(f"slice_2d: {n!r} is categorical; use posterior_slice for it.")
    base = _base_params(view, fixed)
    u0, u1 = (_coordinate_grid(space, i, n_grid) for i in idx)
    G0, G1 = torch.meshgrid(u0, u1, indexing="xy")
    U = space.to_unit(base).repeat(G0.numel(), 1)
    U[:, idx[0]] = G0.reshape(-1)
    U[:, idx[1]] = G1.reshape(-1)
    if what == "acquisition":
        Z = view.acquisition(U)
        label = view.acquisition_label
        if view.acquisition_name in _LOG_ACQUISITIONS and np.isfinite(Z).any():
            Z = np.maximum(Z, np.nanmax(Z) - _LOG_RANGE)
    else:
        mean, sd = view.predict(U)
        Z = mean if what == "mean" else sd
        label = f"posterior {'mean' if what == 'mean' else 's.d.'}"
    Z = Z.reshape(G0.shape)
    x0, x1 = _display(space, idx[0], u0), _display(space, idx[1], u1)
    ax = _new_axes(ax, (6.5, 5.0))
    cs = ax.contourf(x0, x1, Z, levels=20, cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label=label)
    done = [t for t in view.trials if t.state is TrialState.COMPLETE]
    ax.scatter(
        [t.params[names[0]] for t in done],
        [t.params[names[1]] for t in done],
        c="white",
        edgecolors="k",
        s=24,
        label="observed",
    )
    failed = [t for t in view.trials if t.state is TrialState.FAILED]
    if failed:
        ax.scatter(
            [t.params[names[0]] for t in failed],
            [t.params[names[1]] for t in failed],
            marker="x",
            color="tab:red",
            s=40,
            label="failed",
        )
    pending = [t for t in view.trials if t.state is TrialState.PENDING]
    if pending:
        ax.scatter(
            [t.params[names[0]] for t in pending],
            [t.params[names[1]] for t in pending],
            marker="P",
            color="tab:orange",
            edgecolors="k",
            s=60,
            label="pending",
        )
    best = done[_best_index(view)]
    ax.scatter(
        [best.params[names[0]]],
        [best.params[names[1]]],
        marker="*",
        s=200,
        color="gold",
        edgecolors="k",
        label="best",
    )
    _label_axis(ax, space, names[0], "x")
    _label_axis(ax, space, names[1], "y")
    if space.dim > 2:
        others = ", ".join(f"{k}={_short(v)}" for k, v in base.items() if k not in names)
        ax.set_title(f"slice at {others}", fontsize="small")
    ax.legend(fontsize="small", loc="best")
    return ax
