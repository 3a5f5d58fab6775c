"""The curves figure of a batch suite: best-so-far metric against rounds, one panel per
problem and batch size (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks import contenders
from benchmarks.figures import style_of

if TYPE_CHECKING:
    from benchmarks.results_table import Results

__all__ = ["plot_rounds"]


def plot_rounds(res: Results, path: Path, ncols: int = 5, tuning: Collection[str] = ()) -> Path:
    """Median and 25-75 % band over seeds of the best-so-far metric after each round.

    Args:
        res: the suite's results (batch problems ``name@ROUNDSxQ``; a sequential problem
            is drawn against evaluations, which are its rounds of one).
        path: the PNG to write.
        ncols: panels per row.
        tuning: labels of the problems to title with "(tuning)".

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    labels = list(res.problems)
    prs = sorted(res.problems.values(), key=lambda pr: (pr.batch, labels.index(pr.label)))
    ncols = max(1, min(ncols, len(prs)))
    nrows = max(1, math.ceil(len(prs) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, constrained_layout=True
    )
    order = contenders.names()
    for ax, pr in zip(axes.flat, prs, strict=False):
        for name in sorted(pr.curves, key=lambda n: order.index(n) if n in order else len(order)):
            runs = np.array(list(pr.curves[name].values()), dtype=float)  # seeds x rounds
            if runs.size == 0:
                continue
            with np.errstate(all="ignore"):
                lo, med, hi = np.nanpercentile(runs, [25, 50, 75], axis=0)
            x = np.arange(1, runs.shape[1] + 1)
            color, style, marker = style_of(name)
            ax.plot(x, med, color=color, linestyle=style, linewidth=1.6, label=name,
                    marker=marker, markevery=max(1, len(x) // 6), markersize=4)  # fmt: skip
            ax.fill_between(x, lo, hi, color=color, alpha=0.12, linewidth=0)
        mark = " (tuning)" if pr.label in tuning else ""
        ax.set_title(f"{pr.problem.name}{mark}, q = {pr.batch} (d={pr.problem.dim})", fontsize=9)
        ax.set_xlabel("rounds" if pr.batch > 1 else "evaluations", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(pr.metric_name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if not pr.has_optimum:
            ax.set_ylim(-0.6, 1.05)
    for ax in list(axes.flat)[len(prs) :]:
        ax.axis("off")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center",
               ncols=min(len(handles), 8), fontsize=8)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
