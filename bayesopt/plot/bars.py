"""Bar charts: parameter importances."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesopt.plot._axes import new_axes as _new_axes
from bayesopt.sensitivity import Importance

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["importance"]


def importance(imp: Importance, *, ax: Axes | None = None) -> Axes:
    """Each parameter's total and first-order Sobol index as horizontal bars, the most
    important on top (``bayesopt.importance``).

    Args:
        imp: what ``bayesopt.importance(opt)`` returned.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The axes.
    """
    ax = _new_axes(ax)
    names = imp.ranking()[::-1]
    y = np.arange(len(names))
    ax.barh(y + 0.2, [imp.total[n] for n in names], height=0.4, label="total",
            color="tab:blue")  # fmt: skip
    ax.barh(y - 0.2, [imp.first[n] for n in names], height=0.4, label="first-order",
            color="tab:orange")  # fmt: skip
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"Sobol index ({imp.surrogate} surrogate, {imp.n_trials} trials)")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, axis="x")
    return ax
