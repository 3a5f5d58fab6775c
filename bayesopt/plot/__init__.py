"""Figures for optimisation runs and their surrogates (matplotlib, imported lazily).

``import bayesopt`` does not import this package, and this package imports matplotlib only
inside its functions, so the library works without matplotlib installed.

=======================  ==========================================================
function                 draws
=======================  ==========================================================
``convergence``          best-so-far value over trials for several runs (seeds):
                         median line and 25-75 % band per group
``history``              every trial's value in ask order, best-so-far line, failures
``curves``               every trial's intermediate values against its steps, by state
                         (complete, pruned, pending, failed)
``parallel_coordinates`` every trial across all parameters, coloured by its value
``importance``           total and first-order Sobol indices (``bayesopt.importance``)
``posterior_slice``      1-D slice of the GP posterior: mean, band, data, pending trials
``acquisition_slice``    1-D slice of the acquisition function the optimiser maximises
``slice_1d``             both of the above, stacked, from one fit
``slice_2d``             2-D slice: posterior mean, s.d. or acquisition as contours
``pareto_front``         trials in objective space, Pareto front highlighted,
                         infeasible marked (a pairs plot for three objectives)
``hypervolume_history``  hypervolume of the first ``k`` trials against ``k``
``feasibility``          each trial's feasibility and the running share feasible
=======================  ==========================================================

Every function takes an optional ``ax=`` (a new figure is made without one) and returns
what it drew on. The slices refit the optimiser's GP with ``fit_surrogate``, on the
tensors its next ask fits (``Optimizer.model_data()``) with its model settings; pass the
returned ``SurrogateView`` instead of the optimiser to draw several slices from one fit.

Modules: ``runs`` (convergence, history, curves, parallel coordinates), ``bars``
(importances), ``view`` (the refitted GP), ``slices`` (posterior and acquisition
slices) and ``pareto`` (several outcomes).
"""

from bayesopt.plot.bars import importance
from bayesopt.plot.pareto import feasibility, hypervolume_history, pareto_front
from bayesopt.plot.runs import (
    Run,
    best_so_far,
    convergence,
    curves,
    history,
    parallel_coordinates,
)
from bayesopt.plot.slices import acquisition_slice, posterior_slice, slice_1d, slice_2d
from bayesopt.plot.view import SurrogateView, fit_surrogate

__all__ = [
    "Run",
    "SurrogateView",
    "acquisition_slice",
    "best_so_far",
    "convergence",
    "curves",
    "feasibility",
    "fit_surrogate",
    "history",
    "hypervolume_history",
    "importance",
    "parallel_coordinates",
    "pareto_front",
    "posterior_slice",
    "slice_1d",
    "slice_2d",
]
