"""Which parameters matter: Sobol indices of a fitted surrogate (``bayesopt.importance``).

``importance(opt)`` fits a surrogate of the objective on the study's trials and splits the
variance of its prediction over the space (the unit cube, discrete coordinates snapped)
into Sobol indices: a parameter's first-order index is the share of the variance its
value explains alone, its total index the share it takes part in, interactions included.
This is functional ANOVA (fANOVA) on the surrogate's prediction, estimated by Monte Carlo
on Sobol points (Saltelli et al., 2010: Jansen's estimator for the total index, Saltelli's
for the first order).

Surrogates: ``"gp"`` (default) is the optimiser's own GP (``bayesopt.plot.fit_surrogate``),
its posterior median in objective units; ``"forest"`` is a random forest on the same data
(scikit-learn), as Optuna's fANOVA uses. ``benchmarks/results/importance/IMPORTANCE.md``
compares both with the exact indices of the Ishigami and Sobol G functions.

Example:
    >>> import bayesopt as bo
    >>> opt = bo.RandomSearch(bo.Space({"a": bo.Real(0, 1), "b": bo.Real(0, 1)}), seed=0)
    >>> for _ in range(30):
    ...     t = opt.ask()
    ...     _ = opt.tell(t, 5 * t.params["a"] + 0.1 * t.params["b"])
    >>> imp = bo.importance(opt)
    >>> max(imp.first, key=imp.first.get)
    'a'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bayesopt import gp
from bayesopt._rng import derive_seed
from bayesopt.asktell import AskTell
from bayesopt.space import DTYPE, Space
from bayesopt.trial import TrialState

__all__ = ["SURROGATES", "Importance", "importance", "sobol_indices"]

SURROGATES = ("gp", "forest")


@dataclass(frozen=True)
class Importance:
    """Sobol indices of each parameter, on a study's surrogate.

    Attributes:
        first: first-order index per parameter (the share of the variance it explains
            alone), in space order.
        total: total index per parameter (its share with every interaction it is in).
        surrogate: ``"gp"`` or ``"forest"``.
        n_trials: complete trials the surrogate was fitted on.
    """

    first: dict[str, float]
    total: dict[str, float]
    surrogate: str
    n_trials: int

    def ranking(self) -> list[str]:
        """Parameter names, most important (largest total index) first."""
        return sorted(self.total, key=lambda k: -self.total[k])


def sobol_indices(
    f: object, space: Space, *, n: int = 4096, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total Sobol indices of ``f`` over ``space``'s unit cube.

    Args:
        f: maps a ``k x d`` float64 tensor of unit points to ``k`` values.
        space: the space (discrete coordinates are snapped to their bins).
        n: base sample size; ``f`` is called on ``n * (d + 2)`` points.
        seed: seeds the scrambled Sobol points.

    Returns:
        Two ``d`` arrays, clipped to ``[0, 1]``; zeros where ``f`` is constant.
    """
    d = space.dim
    engine = torch.quasirandom.SobolEngine(2 * d, scramble=True, seed=derive_seed(seed))
    AB = space.snap(engine.draw(n, dtype=DTYPE).reshape(n, 2, d).reshape(-1, d)).reshape(n, 2, d)
    A, B = AB[:, 0], AB[:, 1]
    mixed = A.repeat(d, 1, 1)  # d x n x d: A with column i from B
    for i in range(d):
        mixed[i, :, i] = B[:, i]
    values = np.asarray(f(torch.cat([A, B, mixed.reshape(-1, d)])), dtype=float)  # type: ignore[operator]
    fA, fB, fAB = values[:n], values[n : 2 * n], values[2 * n :].reshape(d, n)
    var = np.var(np.concatenate([fA, fB]))
    if not var > 0:
        return np.zeros(d), np.zeros(d)
    first = np.mean(fB * (fAB - fA), axis=1) / var
    total = 0.5 * np.mean((fA - fAB) ** 2, axis=1) / var
    return np.clip(first, 0.0, 1.0), np.clip(total, 0.0, 1.0)


def importance(
    opt: AskTell,
    *,
    surrogate: str = "gp",
    n: int = 4096,
    seed: int = 0,
    outcome: str | None = None,
) -> Importance:
    """Sobol indices of each parameter on a surrogate fitted to ``opt``'s trials.

    Args:
        opt: any optimiser with at least two complete trials (failed trials count as the
            worst value, as the GP sees them).
        surrogate: ``"gp"`` (the optimiser's GP) or ``"forest"`` (a random forest; needs
            scikit-learn).
        n: Monte-Carlo base sample size.
        seed: seeds the fit and the sample.
        outcome: in a study with ``objectives=`` or ``constraints=``, the objective or
            constraint whose importance is measured (default: the first objective).

    Raises:
        ValueError: an unknown ``surrogate`` or ``outcome``, or fewer than two complete
            trials.
        ImportError: ``"forest"`` without scikit-learn.
    """
    if surrogate not in SURROGATES:
        raise ValueError(f"`surrogate` must be one of {SURROGATES}, but got {surrogate!r}.")
    from bayesopt.plot.view import fit_surrogate  # the GP refit shared with the figures

    view = fit_surrogate(opt, seed=seed, outcome=outcome)
    if surrogate == "gp":

        def f(U: torch.Tensor) -> np.ndarray:
            with torch.no_grad(), gp.exact():  # one marginal posterior per point
                mean = view.model.posterior(U.to(DTYPE).unsqueeze(-2)).mean.reshape(-1)
            return view.to_units(mean.numpy())

    else:
        try:
            from sklearn.ensemble import RandomForestRegressor
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("surrogate='forest' needs scikit-learn") from exc
        forest = RandomForestRegressor(n_estimators=64, min_samples_leaf=2,
                                       random_state=derive_seed(seed, 1) % 2**31)  # fmt: skip
        forest.fit(view.X.numpy(), np.asarray(view.values, dtype=float))

        def f(U: torch.Tensor) -> np.ndarray:
            return forest.predict(U.numpy())

    first, total = sobol_indices(f, opt.space, n=n, seed=seed)
    names = opt.space.names
    return Importance(
        first=dict(zip(names, first.tolist(), strict=True)),
        total=dict(zip(names, total.tolist(), strict=True)),
        surrogate=surrogate,
        n_trials=sum(t.state is TrialState.COMPLETE for t in view.trials),
    )
