"""Matplotlib figures (Agg backend): best-so-far curves of every problem in one grid."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks import contenders

if TYPE_CHECKING:
    from benchmarks.results_table import Results

__all__ = ["color_of", "plot_curves"]

_STYLE = {
    "bayesopt": ("tab:blue", "-"),
    "bayesopt-logei": ("tab:cyan", "-"),
    "bayesopt-ucb": ("tab:purple", "-"),
    "random": ("0.45", "--"),
    "random-2x": ("0.15", ":"),
    "sobol": ("tab:olive", "--"),
    "optuna-tpe": ("tab:orange", "-."),
    "optuna-gp": ("tab:red", "-."),
    "skopt-gp": ("tab:green", "-."),
}


def color_of(name: str) -> tuple[str, str]:
    """Colour and line style of a contender (the same in every figure)."""
    return _STYLE.get(name, ("tab:brown", "-"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(res: Results, path: Path, ncols: int = 4) -> Path:
    """Median and quartile band of the best-so-far metric per problem, one panel each.

    Args:
        res: the suite's results.
        path: the PNG to write.
        ncols: panels per row.

    Returns:
        ``path``.
    """
    plt = _pyplot()
    prs = list(res.problems.values())
    ncols = max(1, min(ncols, len(prs)))
    nrows = max(1, math.ceil(len(prs) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.0 * ncols, 3.0 * nrows), squeeze=False, constrained_layout=True
    )
    order = contenders.names()
    for ax, pr in zip(axes.flat, prs, strict=False):
        floor = math.inf  # lowest median score after a quarter of the budget
        for name in sorted(pr.curves, key=order.index):
            runs = np.array(list(pr.curves[name].values()), dtype=float)  # seeds x budget
            if runs.size == 0:
                continue
            with np.errstate(all="ignore"):
                lo, med, hi = np.nanpercentile(runs, [25, 50, 75], axis=0)
            x = np.arange(1, runs.shape[1] + 1)
            color, style = color_of(name)
            ax.plot(x, med, color=color, linestyle=style, linewidth=1.6, label=name)
            ax.fill_between(x, lo, hi, color=color, alpha=0.12, linewidth=0)
            quarter = med[len(med) // 4 :]
            if np.isfinite(quarter).any():
                floor = min(floor, float(np.nanmin(quarter)))
        ax.set_title(f"{pr.label} (d={pr.problem.dim})", fontsize=10)
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
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 9),
        fontsize=8,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
