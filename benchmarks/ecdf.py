"""Empirical cumulative distributions of runtimes, the COCO way, from the run records.

A BBOB record's ``trace`` is its best-so-far precision ``Delta f = f - f_opt`` at each budget
point (``benchmarks/problems/bbob.py`` stores ``f - f_opt`` as the value). For every target
``Delta f_t`` of ``TARGETS`` (``10^2, 10^1.8, ..., 10^-8``: COCO's 51 bbob targets), the
*runtime* of a run is the first budget point at which its trace is ``<= Delta f_t`` (never:
infinite). The ECDF at budget point ``k`` is the fraction of (function, instance, target)
triples whose runtime is ``<= k``; COCO plots it against ``k / d`` on a log axis,
aggregated over the functions of one dimension or of one function group.

COCO's bootstrapped restarts only add runtimes beyond a run's budget; every run here has
the same budget, so up to it the plain fractions are COCO's ECDF.

For ``random-2x`` a budget point is two evaluations (its trace is the best of the first
``2 k``), as in the regret tables. The computation reads the records only; it does not
need ``cocopp``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TARGETS", "EcdfCurve", "ecdf", "ecdf_by_contender", "plot_ecdfs", "runtimes"]

TARGETS: tuple[float, ...] = tuple(10.0 ** (2.0 - 0.2 * i) for i in range(51))
"""COCO's bbob precision targets ``10^2 .. 10^-8``, five per decade (51)."""


def runtimes(trace: Sequence[float], targets: Sequence[float] = TARGETS) -> list[float]:
    """The first budget point (1-based) at which ``trace`` reaches each target.

    Args:
        trace: best-so-far precision ``f - f_opt`` per budget point (NaN: nothing finite
            yet; ``None`` is read as NaN).
        targets: precision targets.

    Returns:
        One runtime per target; ``inf`` where the trace never reaches it.
    """
    out = []
    for target in targets:
        hit = next(
            (
                k + 1
                for k, v in enumerate(trace)
                if v is not None and math.isfinite(v) and v <= target
            ),
            None,
        )
        out.append(math.inf if hit is None else float(hit))
    return out


def ecdf(
    traces: Iterable[Sequence[float]], budget: int, targets: Sequence[float] = TARGETS
) -> np.ndarray:
    """Fraction of (trace, target) pairs reached by each budget point ``1 .. budget``.

    Args:
        traces: best-so-far precision traces, one per (function, instance) run.
        budget: the last budget point.
        targets: precision targets.

    Returns:
        ``budget`` fractions (non-decreasing); empty input gives zeros.
    """
    times = np.array([runtimes(t, targets) for t in traces], dtype=float).ravel()
    points = np.arange(1, budget + 1)
    if times.size == 0:
        return np.zeros(budget)
    return (times[None, :] <= points[:, None]).mean(axis=1)


@dataclass(frozen=True)
class EcdfCurve:
    """One contender's ECDF over a set of runs.

    Attributes:
        contender: its name.
        x: budget points divided by the dimension.
        y: fraction of (function, instance, target) triples reached.
        n_runs: runs aggregated.
        n_functions: distinct functions among them.
    """

    contender: str
    x: np.ndarray
    y: np.ndarray
    n_runs: int
    n_functions: int

    @property
    def final(self) -> float:
        """The fraction reached at the last budget point."""
        return float(self.y[-1]) if self.y.size else math.nan


def ecdf_by_contender(
    records: Iterable[Mapping[str, Any]],
    dim: int,
    functions: Iterable[int],
    function_of: Mapping[str, tuple[int, int]],
    targets: Sequence[float] = TARGETS,
) -> dict[str, EcdfCurve]:
    """ECDFs of every contender on the runs of ``functions`` at dimension ``dim``.

    Args:
        records: finished records (``status == "ok"``) with ``problem``, ``contender``,
            ``budget`` and ``trace``.
        dim: the dimension.
        functions: BBOB function numbers to aggregate.
        function_of: ``{problem name: (function, dim)}`` of the BBOB problems.
        targets: precision targets.

    Returns:
        ``{contender: EcdfCurve}`` in the order contenders first appear.
    """
    wanted = set(functions)
    traces: dict[str, list[Sequence[float]]] = {}
    funcs: dict[str, set[int]] = {}
    budgets: dict[str, int] = {}
    for r in records:
        key = function_of.get(r["problem"])
        if r.get("status") != "ok" or key is None or key[1] != dim or key[0] not in wanted:
            continue
        name = r["contender"]
        traces.setdefault(name, []).append(r["trace"])
        funcs.setdefault(name, set()).add(key[0])
        budgets[name] = max(budgets.get(name, 0), int(r["budget"]))
    out = {}
    for name, ts in traces.items():
        y = ecdf(ts, budgets[name], targets)
        x = np.arange(1, budgets[name] + 1) / dim
        out[name] = EcdfCurve(name, x, y, len(ts), len(funcs[name]))
    return out


def plot_ecdfs(
    panels: Mapping[str, Mapping[str, EcdfCurve]], path: Path, title: str = "", ncols: int = 3
) -> Path:
    """ECDF panels (one per function set) in one PNG, log x axis (evaluations / d).

    Args:
        panels: ``{panel title: {contender: curve}}``.
        path: the PNG to write.
        title: the figure's title.
        ncols: panels per row.

    Returns:
        ``path``.
    """
    from benchmarks.figures import _pyplot, styles_for

    plt = _pyplot()
    n = max(len(panels), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False, constrained_layout=True
    )
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    styles = styles_for(c.contender for curves in panels.values() for c in curves.values())
    for ax, (name, curves) in zip(axes.ravel(), panels.items(), strict=False):
        for curve in curves.values():
            colour, line, marker = styles[curve.contender]
            ax.step(curve.x, curve.y, where="post", color=colour, linestyle=line, lw=1.5,
                    marker=marker, markevery=max(len(curve.x) // 5, 1), markersize=4,
                    label=f"{curve.contender} ({curve.final:.2f})")  # fmt: skip
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("evaluations / d")
        ax.set_ylabel("fraction of targets reached")
        ax.grid(True, which="both", alpha=0.3)
        if curves:
            ax.legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
