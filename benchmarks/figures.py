"""Matplotlib figures (Agg backend): best-so-far curves of every problem in one grid, and
the critical-difference diagram of mean ranks."""

from __future__ import annotations

import functools
import itertools
import math
import zlib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks import contenders

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from benchmarks.results_table import Results

__all__ = ["color_of", "curves_figure", "plot_cd", "plot_curves", "style_of", "styles_for"]

Style = tuple[str, str, str]
"""(colour, line style, marker) of a contender's curve."""

_STYLE: dict[str, Style] = {
    "bayesopt": ("tab:blue", "-", "o"),
    "bayesopt-logei": ("tab:cyan", "-", "s"),
    "bayesopt-ucb": ("tab:purple", "-", "^"),
    "random": ("0.45", "--", "v"),
    "random-2x": ("0.15", ":", "D"),
    "sobol": ("tab:olive", "--", "P"),
    "optuna-tpe": ("tab:orange", "-.", "X"),
    "optuna-gp": ("tab:red", "-.", "*"),
    "botorch-plain": ("tab:pink", "--", "h"),
    "skopt-gp": ("tab:green", "-.", "<"),
    "cma-es": ("teal", "-", "H"),
    "hyperopt-tpe": ("goldenrod", "-.", "d"),
    "bayesopt-v0": ("tab:brown", "--", "s"),
    "bayesopt-v1": ("tab:blue", "--", "^"),
    "optuna-gp+our-design": ("tab:red", ":", "p"),
    # The latency benchmark's own configurations.
    "bayesopt-cuda": ("tab:blue", ":", "d"),
    "bayesopt-1thread": ("tab:cyan", "--", "o"),
    "bayesopt-nolimit": ("tab:purple", "--", "o"),
    "botorch-plain-cuda": ("tab:pink", ":", "d"),
}
"""Hand-picked styles of the main contenders: the same in every figure."""

_COLOURS = ("tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan", "tab:purple",
            "tab:green", "tab:orange", "tab:red", "tab:blue")  # fmt: skip
_LINES = (":", "--", "-.", "-")
_MARKERS = ("s", "^", "v", "D", "P", "X", "*", "<", ">", "h", "p", "d", "8", "H")
_N_STYLES = len(_COLOURS) * len(_LINES) * len(_MARKERS)


def _candidate(i: int) -> Style:
    """Style number ``i`` of the ``colour x line style x marker`` product: consecutive
    numbers change the colour first, then the line style, then the marker."""
    i %= _N_STYLES
    n_c, n_l = len(_COLOURS), len(_LINES)
    return _COLOURS[i % n_c], _LINES[(i // n_c) % n_l], _MARKERS[(i // (n_c * n_l)) % len(_MARKERS)]


def _slot(name: str) -> int:
    """Where an unregistered name starts looking for a style: a CRC-32 of the name, so the
    same in every process (Python's ``hash`` of a string changes from run to run)."""
    return zlib.crc32(name.encode("utf-8")) % _N_STYLES


@functools.cache
def _styles() -> dict[str, Style]:
    """A distinct style for every registered contender: the table's, then generated ones."""
    out = dict(_STYLE)
    used = set(out.values())
    # Every colour x line style pair once first (the styles contenders have always had),
    # then the whole colour x line style x marker product, so that no registry outgrows it.
    candidates = itertools.chain(
        (
            (_COLOURS[i % len(_COLOURS)], _LINES[(i // len(_COLOURS)) % len(_LINES)],
             _MARKERS[i % len(_MARKERS)])
            for i in range(len(_COLOURS) * len(_LINES))
        ),
        (_candidate(i) for i in range(_N_STYLES)),
    )  # fmt: skip
    for name in contenders.names():
        if name in out:
            continue
        style = next(c for c in candidates if c not in used)
        out[name] = style
        used.add(style)
    return out


def _first_free(start: int, taken: Collection[Style], pairs: Collection[tuple[str, str]]) -> Style:
    """The first style from number ``start`` on that is not ``taken`` and, while one
    exists, whose colour and line style are not among ``pairs``."""
    for avoid_pairs in (True, False):
        for k in range(_N_STYLES):
            style = _candidate(start + k)
            if style not in taken and not (avoid_pairs and style[:2] in pairs):
                return style
    return _candidate(start)  # more curves than styles: repeat (never reached in practice)


def style_of(name: str) -> Style:
    """Colour, line style and marker of a contender.

    Registered contenders have fixed styles, distinct from each other. Any other name gets
    one from a CRC-32 of the name, different from every registered contender's: the same
    name always gets the same style. For the curves of one figure use ``styles_for``,
    which also keeps unregistered names apart from each other.

    Example:
        >>> style_of("bayesopt")
        ('tab:blue', '-', 'o')
        >>> style_of("my-variant") == style_of("my-variant") != style_of("bayesopt")
        True
    """
    known = _styles()
    if name in known:
        return known[name]
    return _first_free(_slot(name), set(known.values()), ())


def styles_for(names: Iterable[str]) -> dict[str, Style]:
    """Styles for the contenders of one figure, no two alike.

    The hand-picked contenders (``bayesopt``, ``random``, ``random-2x``, ...) keep their
    styles. Every other name keeps ``style_of(name)`` unless a curve already placed in the
    figure has that colour and line style; it then takes the next style in the
    ``colour x line style x marker`` product with a colour and line style not yet in the
    figure (while one is left; else a style not yet in the figure). Names are placed in a
    fixed order (the table's, then the registry's, then unregistered ones by name), so the
    result depends only on the set of names, never on their order.

    Args:
        names: the contenders drawn in the figure (repeats are ignored).

    Returns:
        ``{name: (colour, line style, marker)}``, the same keys as ``names``.

    Example:
        >>> styles = styles_for(["bayesopt", "bayesopt-exp1", "bayesopt-exp2"])
        >>> len(set(styles.values())), styles["bayesopt"]
        (3, ('tab:blue', '-', 'o'))
    """
    wanted = set(names)
    registry = {n: i for i, n in enumerate(contenders.names())}
    fixed = [n for n in _STYLE if n in wanted]
    rest = _order(wanted - set(fixed))
    out = {n: _STYLE[n] for n in fixed}
    taken = set(out.values())
    pairs = {s[:2] for s in taken}
    for name in rest:
        style = style_of(name)
        if style in taken or style[:2] in pairs:
            start = _slot(name) if name not in registry else registry[name]
            style = _first_free(start, taken, pairs)
        out[name] = style
        taken.add(style)
        pairs.add(style[:2])
    return out


def color_of(name: str) -> tuple[str, str]:
    """Colour and line style of a contender (the same in every figure)."""
    colour, line, _ = style_of(name)
    return colour, line


def _order(names: Iterable[str]) -> list[str]:
    """Registered contenders in registry order, then the others by name."""
    registry = {n: i for i, n in enumerate(contenders.names())}
    return sorted(names, key=lambda n: (registry.get(n, len(registry)), n))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(res: Results, path: Path, ncols: int = 4, tuning: Collection[str] = ()) -> Path:
    """Median and quartile band of the best-so-far metric per problem, one panel each.

    Every contender has one style (``styles_for``) in all panels, distinct from the others'.

    Args:
        res: the suite's results.
        path: the PNG to write.
        ncols: panels per row.
        tuning: labels of the problems to title with "(tuning)".

    Returns:
        ``path``.
    """
    plt = _pyplot()
    fig = curves_figure(res, ncols=ncols, tuning=tuning)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curves_figure(res: Results, ncols: int = 4, tuning: Collection[str] = ()) -> Figure:
    """The figure ``plot_curves`` writes (the caller closes it).

    Example:
        >>> from benchmarks.results_table import Results
        >>> fig = curves_figure(Results({}, [], []))
        >>> len(fig.axes)
        1
    """
    plt = _pyplot()
    prs = list(res.problems.values())
    ncols = max(1, min(ncols, len(prs)))
    nrows = max(1, math.ceil(len(prs) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.0 * ncols, 3.0 * nrows), squeeze=False, constrained_layout=True
    )
    styles = styles_for(name for pr in prs for name in pr.curves)
    for ax, pr in zip(axes.flat, prs, strict=False):
        floor = math.inf  # lowest median score after a quarter of the budget
        for name in _order(pr.curves):
            runs = np.array(list(pr.curves[name].values()), dtype=float)  # seeds x budget
            if runs.size == 0:
                continue
            with np.errstate(all="ignore"):
                lo, med, hi = np.nanpercentile(runs, [25, 50, 75], axis=0)
            x = np.arange(1, runs.shape[1] + 1)
            color, style, marker = styles[name]
            ax.plot(
                x, med, color=color, linestyle=style, linewidth=1.6, label=name, marker=marker,
                markevery=max(1, len(x) // 6), markersize=4,
            )  # fmt: skip
            ax.fill_between(x, lo, hi, color=color, alpha=0.12, linewidth=0)
            quarter = med[len(med) // 4 :]
            if np.isfinite(quarter).any():
                floor = min(floor, float(np.nanmin(quarter)))
        mark = " (tuning)" if pr.label in tuning else ""
        ax.set_title(f"{pr.label}{mark} (d={pr.problem.dim})", fontsize=10)
        ax.set_xlabel("evaluations", fontsize=8)
        ax.set_ylabel(pr.metric_name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if not pr.has_optimum:  # zoom on the informative part: scores crowd towards 1
            low = max(-0.5, floor if math.isfinite(floor) else -0.5)
            ax.set_ylim(low - 0.1 * (1.0 - low), 1.0 + 0.05 * (1.0 - low))
    for ax in list(axes.flat)[len(prs) :]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="outside lower center",
            ncols=min(len(handles), 9),
            fontsize=8,
        )
    return fig


def plot_cd(ranks: Mapping[str, float], cd: float, path: Path, title: str = "") -> Path:
    """Critical-difference diagram (Demšar 2006): mean ranks on an axis, 1 (best) at the
    left; a bar joins contenders whose mean ranks differ by no more than ``cd``.

    Args:
        ranks: ``{contender: mean rank}``.
        cd: the critical difference (``stats.nemenyi_cd``).
        path: the PNG to write.
        title: printed above the diagram.

    Returns:
        ``path``.
    """
    from benchmarks.stats import cd_groups

    plt = _pyplot()
    order = sorted(ranks, key=ranks.__getitem__)
    k = max(len(order), 2)
    half = math.ceil(len(order) / 2)
    rows = max(half, len(order) - half)
    fig, ax = plt.subplots(figsize=(8.0, 1.6 + 0.32 * rows), constrained_layout=True)
    ax.hlines(0, 1, k, color="black", linewidth=1.0)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.12, color="black", linewidth=1.0)
        ax.text(r, 0.18, str(r), ha="center", va="bottom", fontsize=9)
    ax.hlines(0.7, 1, 1 + cd, color="black", linewidth=1.5)  # the CD, at the top left
    ax.vlines([1, 1 + cd], 0.62, 0.78, color="black", linewidth=1.0)
    ax.text(1 + cd / 2, 0.82, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    styles = styles_for(ranks)
    groups = cd_groups(ranks, cd)
    for g, group in enumerate(groups):
        y = -0.25 - 0.18 * g
        ax.hlines(y, ranks[group[0]] - 0.03, ranks[group[-1]] + 0.03, linewidth=3, color="0.3")
    top = -0.25 - 0.18 * len(groups)
    for i, name in enumerate(order):
        left = i < half
        y = top - 0.35 * ((i if left else len(order) - 1 - i) + 1)
        x_end = 1 - 0.3 if left else k + 0.3
        color = styles[name][0]
        ax.vlines(ranks[name], y, 0, color=color, linewidth=1.2)
        ax.hlines(y, min(ranks[name], x_end), max(ranks[name], x_end), color=color, lw=1.2)
        ax.text(x_end + (-0.08 if left else 0.08), y, f"{name} ({ranks[name]:.2f})",
                ha="right" if left else "left", va="center", fontsize=9)  # fmt: skip
    ax.set_xlim(1 - 0.3 - 0.45 * k, k + 0.3 + 0.45 * k)
    ax.set_ylim(top - 0.35 * (rows + 1), 1.2)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
