"""Maximise an acquisition function over a mixed unit-cube domain.

The domain is the unit cube in which some coordinates are discrete: each has a sorted grid
of allowed unit values (``Space.grid``). The search alternates, from several starts at once:

1. a batched L-BFGS-B step over the continuous coordinates (and over discrete coordinates
   with more than ``max_exhaustive`` values, relaxed and then snapped), and
2. a discrete coordinate step that tries every value of each small discrete coordinate
   (and the nearest neighbours on the grid of large ones) and keeps the best move.

A fully discrete domain with at most ``max_enumerate`` points is enumerated instead.
``ProposeOptions(method="botorch")`` replaces steps 1 and 2 by BoTorch's
``optimize_acqf_mixed_alternating`` (``optimize_acqf`` on continuous domains); enumeration
and the filtering of avoided points are the same for both methods.
Everything random comes from the ``seed`` argument; the global RNGs are left as they were.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.optim.optimize_mixed import optimize_acqf_mixed_alternating
from scipy.optimize import minimize as scipy_minimize
from torch import Tensor

from bayesopt._rng import seeded_torch

__all__ = ["METHODS", "ProposeOptions", "maximize"]

METHODS = ("alternating", "botorch")
"""Acquisition optimisers ``ProposeOptions.method`` selects."""


@dataclass(frozen=True)
class ProposeOptions:
    """Settings of the acquisition optimiser.

    Attributes:
        raw_samples: Sobol points scored to pick the starts.
        n_restarts: local searches run from the best raw points (plus the incumbents).
        max_exhaustive: discrete coordinates with at most this many values are searched
            exhaustively in the discrete step; larger ones are relaxed.
        max_enumerate: fully discrete domains with at most this many points are enumerated.
        max_rounds: alternations of continuous and discrete steps.
        lbfgs_maxiter: L-BFGS-B iterations per continuous step.
        batch_size: points per acquisition call when scoring large candidate sets.
        n_incumbents: best observed points added as starts (0 for none).
        boltzmann: draw the starts from the raw samples with probability proportional to
            ``exp(standardised acquisition)`` (BoTorch's ``initialize_q_batch``) instead of
            taking the best ones.
        rescale: run L-BFGS-B in lengthscale-rescaled coordinates ``x / l`` (the model's
            lengthscales), so that one step means the same change in correlation along
            every axis.
        method: the search outside enumerated domains. ``"alternating"``: the one in this
            module's docstring. ``"botorch"``: BoTorch's ``optimize_acqf_mixed_alternating``
            (``optimize_acqf`` when every coordinate is continuous) with ``raw_samples``,
            ``n_restarts``, ``batch_size`` (its ``init_batch_limit``) and
            ``max_exhaustive`` (its ``max_discrete_values``) from these options and
            BoTorch's defaults otherwise; ``n_incumbents``, ``max_rounds``,
            ``lbfgs_maxiter``, ``boltzmann`` and ``rescale`` apply to ``"alternating"``
            only.
    """

    raw_samples: int = 512
    n_restarts: int = 10
    max_exhaustive: int = 32
    max_enumerate: int = 4096
    max_rounds: int = 3
    lbfgs_maxiter: int = 100
    batch_size: int = 512
    n_incumbents: int = 3
    boltzmann: bool = False
    rescale: bool = False
    method: str = "alternating"

    def __post_init__(self) -> None:
        for name in (
            "raw_samples",
            "n_restarts",
            "max_exhaustive",
            "max_enumerate",
            "max_rounds",
            "lbfgs_maxiter",
            "batch_size",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"ProposeOptions: `{name}` must be an int, but got {value!r}.")
            if value < 1:
                raise ValueError(f"ProposeOptions: `{name} >= 1` must hold, but got {value}.")
        if not isinstance(self.n_incumbents, int) or isinstance(self.n_incumbents, bool):
            raise TypeError(
                f"ProposeOptions: `n_incumbents` must be an int, but got {self.n_incumbents!r}."
            )
        if self.n_incumbents < 0:
            raise ValueError(
                f"ProposeOptions: `n_incumbents >= 0` must hold, but got {self.n_incumbents}."
            )
        for name in ("boltzmann", "rescale"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"ProposeOptions: `{name}` must be a bool, but got {getattr(self, name)!r}."
                )
        if not isinstance(self.method, str):
            raise TypeError(f"ProposeOptions: `method` must be a str, but got {self.method!r}.")
        if self.method not in METHODS:
            raise ValueError(
                f"ProposeOptions: `method` must be one of {METHODS}, but got {self.method!r}."
            )


def maximize(
    acqf: AcquisitionFunction,
    grids: Sequence[Tensor | None],
    *,
    q: int = 1,
    seed: int = 0,
    X_pending: Tensor | None = None,
    X_avoid: Tensor | None = None,
    X_starts: Tensor | None = None,
    options: ProposeOptions | None = None,
    scales: Tensor | None = None,
    cat_dims: Sequence[int] = (),
) -> Tensor:
    """Maximise ``acqf`` greedily for ``q`` points.

    After each point, ``acqf.set_X_pending`` receives ``X_pending`` plus the points chosen
    so far, so a batch is diverse; ``q > 1`` therefore needs an acquisition that supports
    pending points (BoTorch's MC acquisitions do). ``acqf`` is left with those points set.

    Args:
        acqf: a BoTorch acquisition function over ``b x 1 x d`` inputs.
        grids: for each of the ``d`` coordinates, ``None`` (continuous) or a sorted tensor
            of allowed unit values.
        q: number of points.
        seed: seed of the raw Sobol samples.
        X_pending: ``m x d`` points the acquisition was built with as pending.
        X_avoid: ``m x d`` points that must not be proposed (evaluated or pending ones),
            unless nothing else is left.
        X_starts: ``s x d`` extra starting points (e.g. the best observed points).
        options: optimiser settings.
        scales: ``d`` positive lengthscales for ``options.rescale`` (ignored otherwise).
        cat_dims: the discrete coordinates that are categorical (unordered). Only
            ``method="botorch"`` uses them: it steps ordinal coordinates to neighbouring
            grid values and categorical ones to any value.

    Returns:
        A ``q x d`` tensor of unit points with discrete coordinates on their grids.
    """
    options = options or ProposeOptions()
    d = len(grids)
    device = _device_of(acqf)
    dtype = torch.float64
    grids = [None if g is None else g.to(device) for g in grids]
    avoid = (
        torch.empty(0, d, dtype=dtype, device=device)
        if X_avoid is None
        else X_avoid.to(device, dtype)
    )
    if X_starts is not None:
        X_starts = X_starts.to(device, dtype)
    if scales is not None:
        scales = scales.to(device, dtype)
    base_pending = X_pending if X_pending is not None and len(X_pending) else None
    chosen: list[Tensor] = []
    for j in range(q):
        if j > 0:
            new = torch.stack(chosen)
            acqf.set_X_pending(new if base_pending is None else torch.cat([base_pending, new]))
        seed_j = seed + 7919 * j
        if options.method == "botorch" and not _enumerable(grids, options):
            x = _maximize_one_botorch(acqf, list(grids), set(cat_dims), seed_j, avoid, options)
        else:
            x = _maximize_one(acqf, list(grids), seed_j, avoid, X_starts, options, scales)
        chosen.append(x)
        avoid = torch.cat([avoid, x.unsqueeze(0)])
    return torch.stack(chosen)


def _device_of(acqf: AcquisitionFunction) -> torch.device:
    """Where the acquisition's model lives (the CPU for model-free acquisitions)."""
    model = getattr(acqf, "model", None)
    inputs = getattr(model, "train_inputs", None)
    return inputs[0].device if inputs else torch.device("cpu")


def _enumerable(grids: Sequence[Tensor | None], options: ProposeOptions) -> bool:
    """Whether the domain is finite with at most ``options.max_enumerate`` points."""
    if any(g is None for g in grids):
        return False
    return math.prod(len(g) for g in grids) <= options.max_enumerate


def _maximize_one_botorch(
    acqf: AcquisitionFunction,
    grids: list[Tensor | None],
    cat_dims: set[int],
    seed: int,
    avoid: Tensor,
    options: ProposeOptions,
) -> Tensor:
    """One point by BoTorch's ``optimize_acqf_mixed_alternating``, then filtered.

    Discrete coordinates span ``[grid[0], grid[-1]]`` and are passed with their grids
    (categorical ones as ``cat_dims``); one-value grids are fixed features. When BoTorch's
    point is in ``avoid``, the best allowed of it and ``raw_samples`` snapped Sobol points
    is taken instead, as ``_best_allowed`` does for the alternating search.
    """
    d = len(grids)
    bounds = torch.zeros(2, d, dtype=torch.float64, device=avoid.device)
    bounds[1] = 1.0
    discrete: dict[int, list[float]] = {}
    categorical: dict[int, list[float]] = {}
    fixed: dict[int, float] = {}
    for i, g in enumerate(grids):
        if g is None:
            continue
        values = g.to(bounds).tolist()
        bounds[0, i], bounds[1, i] = values[0], values[-1]
        if len(values) == 1:
            fixed[i] = values[0]
        else:
            (categorical if i in cat_dims else discrete)[i] = values
    bo_options: dict[str, int] = {"init_batch_limit": options.batch_size}
    if discrete or categorical:
        bo_options["max_discrete_values"] = options.max_exhaustive
    with seeded_torch(seed), _seeded_random(seed):
        X, _ = optimize_acqf_mixed_alternating(
            acqf,
            bounds,
            discrete_dims=discrete,
            cat_dims=categorical,
            options=bo_options,
            q=1,
            raw_samples=options.raw_samples,
            num_restarts=options.n_restarts,
            fixed_features=fixed or None,
            return_acq_values=False,
        )
    x = _snap(X.detach().reshape(1, d).to(bounds), grids)
    if not len(avoid) or float(torch.cdist(x, avoid.to(x)).min()) >= 1e-9:
        return x[0].clone()
    engine = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)
    raw = _snap(engine.draw(options.raw_samples, dtype=torch.float64).to(x), grids)
    return _best_allowed(acqf, torch.cat([x, raw]), avoid, options)


@contextlib.contextmanager
def _seeded_random(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` for the block (BoTorch samples large categorical
    neighbourhoods from it) and restore its state after."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _maximize_one(
    acqf: AcquisitionFunction,
    grids: list[Tensor | None],
    seed: int,
    avoid: Tensor,
    X_starts: Tensor | None,
    options: ProposeOptions,
    scales: Tensor | None = None,
) -> Tensor:
    d = len(grids)
    if _enumerable(grids, options):
        cands = torch.tensor(
            list(itertools.product(*[g.tolist() for g in grids])),
            dtype=torch.float64,
            device=avoid.device,
        )
        return _best_allowed(acqf, cands, avoid, options)

    engine = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)
    raw = _snap(engine.draw(options.raw_samples, dtype=torch.float64).to(avoid.device), grids)
    if X_starts is not None and len(X_starts):
        raw = torch.cat([_snap(X_starts.to(raw), grids), raw])
    values = _evaluate(acqf, raw, options.batch_size)
    order = torch.argsort(values, descending=True, stable=True)
    if options.boltzmann:
        starts = raw[_boltzmann(values, options.n_restarts, seed)]
    else:
        starts = raw[order[: options.n_restarts]]
    n_given = 0 if X_starts is None else len(X_starts)
    if n_given:  # the incumbents are always among the starts
        starts = torch.cat([raw[:n_given], starts]).unique(dim=0)

    cont = [i for i, g in enumerate(grids) if g is None or len(g) > options.max_exhaustive]
    small = [i for i, g in enumerate(grids) if g is not None and len(g) <= options.max_exhaustive]
    large = [i for i, g in enumerate(grids) if g is not None and len(g) > options.max_exhaustive]
    X = starts
    best_vals = _evaluate(acqf, X, options.batch_size)
    for _ in range(options.max_rounds):
        if cont:
            scale = scales if options.rescale else None
            X = _snap(_lbfgsb(acqf, X, cont, grids, options.lbfgs_maxiter, scale), grids)
        if small or large:
            X = _discrete_step(acqf, X, grids, small, large, options)
        vals = _evaluate(acqf, X, options.batch_size)
        improved = bool((vals > best_vals + 1e-9).any())
        best_vals = torch.maximum(vals, best_vals)
        if not (small or large) or not improved:
            break
    return _best_allowed(acqf, torch.cat([X, raw[order[: 4 * options.n_restarts]]]), avoid, options)


def _boltzmann(values: Tensor, k: int, seed: int) -> Tensor:
    """``k`` distinct indices drawn with probability ``∝ exp(standardised value)``; the
    best index is always included."""
    finite = torch.isfinite(values)
    if int(finite.sum()) <= k:
        return torch.argsort(values, descending=True, stable=True)[:k]
    v = values.masked_fill(~finite, values[finite].min())
    z = (v - v.mean()) / v.std().clamp_min(1e-12)
    weights = torch.exp(z.clamp(max=20.0))
    weights[int(torch.argmax(values))] = 0.0
    gen = torch.Generator().manual_seed(seed + 1)
    drawn = torch.multinomial(weights, k - 1, replacement=False, generator=gen)
    return torch.cat([torch.argmax(values).reshape(1), drawn])


def _best_allowed(
    acqf: AcquisitionFunction, cands: Tensor, avoid: Tensor, options: ProposeOptions
) -> Tensor:
    """The candidate with the highest value that is not in ``avoid`` (if any is left)."""
    values = _evaluate(acqf, cands, options.batch_size)
    if len(avoid):
        blocked = torch.cdist(cands, avoid.to(cands)).min(dim=1).values < 1e-9
        if not bool(blocked.all()):
            values = values.masked_fill(blocked, -math.inf)
    return cands[int(torch.argmax(values))].clone()


@torch.no_grad()
def _evaluate(acqf: AcquisitionFunction, X: Tensor, batch_size: int) -> Tensor:
    """Acquisition values of ``n x d`` points, as an ``n`` tensor (NaN mapped to -inf)."""
    out = [acqf(chunk.unsqueeze(1)) for chunk in X.split(batch_size)]
    values = torch.cat(out).reshape(-1).to(torch.float64)
    return torch.nan_to_num(values, nan=-math.inf)


def _snap(X: Tensor, grids: Sequence[Tensor | None]) -> Tensor:
    """Move discrete coordinates of ``n x d`` points to the nearest grid value."""
    X = X.clamp(0.0, 1.0).clone()
    for i, g in enumerate(grids):
        if g is not None:
            g = g.to(X)
            X[:, i] = g[torch.argmin((X[:, i : i + 1] - g).abs(), dim=1)]
    return X


def _lbfgsb(
    acqf: AcquisitionFunction,
    X: Tensor,
    free: list[int],
    grids: Sequence[Tensor | None],
    maxiter: int,
    scales: Tensor | None = None,
) -> Tensor:
    """Batched L-BFGS-B over coordinates ``free`` of ``n x d`` starts (others fixed).

    With ``scales``, the search variable is ``x / scale`` per coordinate."""
    n = len(X)
    base = X.detach().clone()
    s = (
        torch.ones(len(free), dtype=X.dtype, device=X.device)
        if scales is None
        else scales.to(X.dtype)[free].clamp_min(1e-3)
    )
    lo = [0.0 if grids[i] is None else float(grids[i][0]) for i in free]
    hi = [1.0 if grids[i] is None else float(grids[i][-1]) for i in free]
    bounds = [(a / float(c), b / float(c)) for a, b, c in zip(lo, hi, s, strict=True)] * n

    closed_form = getattr(acqf, "has_gradient", False)

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        zt = torch.tensor(z, dtype=X.dtype, device=X.device).reshape(n, len(free))
        zt.requires_grad_(not closed_form)
        full = base.clone()
        full[:, free] = zt * s
        if closed_form:  # e.g. CachedLogEI: the same gradient without autograd
            values, grad_x = acqf.value_and_gradient(full)
            loss = -values.sum()
            grad = -grad_x[:, free] * s
        else:
            loss = -acqf(full.unsqueeze(1)).sum()
            (grad,) = torch.autograd.grad(loss, zt)
        loss_f = float(loss.detach())
        if not math.isfinite(loss_f):
            return 1e10, np.zeros_like(z)
        return loss_f, np.nan_to_num(grad.reshape(-1).cpu().numpy(), nan=0.0)

    z0 = (base[:, free] / s).reshape(-1).cpu().numpy()
    res = scipy_minimize(
        f,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": maxiter, "ftol": 1e-6},
    )
    out = base.clone()
    z = torch.as_tensor(res.x, dtype=X.dtype, device=X.device).reshape(n, len(free)) * s
    out[:, free] = torch.minimum(
        torch.maximum(z, torch.tensor(lo, dtype=X.dtype, device=X.device)),
        torch.tensor(hi, dtype=X.dtype, device=X.device),
    )
    # Keep the start where the local search made things worse (e.g. failed line search).
    before = _evaluate(acqf, base, 4096)
    after = _evaluate(acqf, out, 4096)
    return torch.where((after >= before).unsqueeze(1), out, base)


def _discrete_step(
    acqf: AcquisitionFunction,
    X: Tensor,
    grids: Sequence[Tensor | None],
    small: list[int],
    large: list[int],
    options: ProposeOptions,
) -> Tensor:
    """One best-improvement move per point over the discrete coordinates (one batched call)."""
    owners, neighbours = [], []
    for p in range(len(X)):
        for i in small + large:
            g = grids[i].to(X)
            if i in small:
                values = g
            else:
                k = int(torch.argmin((g - X[p, i]).abs()))
                values = g[[j for j in (k - 2, k - 1, k + 1, k + 2) if 0 <= j < len(g)]]
            cand = X[p].repeat(len(values), 1)
            cand[:, i] = values
            neighbours.append(cand)
            owners += [p] * len(values)
    cands = torch.cat(neighbours)
    values = _evaluate(acqf, torch.cat([X, cands]), options.batch_size)
    current, values = values[: len(X)], values[len(X) :]
    owner = torch.tensor(owners, device=X.device)
    X = X.clone()
    for p in range(len(X)):
        mine = (owner == p).nonzero().squeeze(1)
        best = mine[int(torch.argmax(values[mine]))]
        if values[best] > current[p] + 1e-12:
            X[p] = cands[best]
    return X


def thompson(
    model: torch.nn.Module,
    grids: Sequence[Tensor | None],
    *,
    q: int = 1,
    seed: int = 0,
    X_avoid: Tensor | None = None,
    X_centers: Tensor | None = None,
    n_candidates: int = 1024,
) -> Tensor:
    """Thompson sampling on a candidate set: each point maximises one posterior sample.

    The candidates are ``n_candidates`` Sobol points plus Gaussian perturbations (s.d. 0.05
    in the unit cube) of ``X_centers``, discrete coordinates snapped to their grids. One joint
    posterior sample is drawn over them per point; the best candidate not yet chosen or
    avoided is taken.

    Args:
        model: a fitted BoTorch model (maximisation).
        grids: allowed unit values per coordinate, ``None`` for continuous ones.
        q: number of points.
        seed: seeds the candidates and the posterior samples.
        X_avoid: ``m x d`` points not to propose (unless nothing else is left).
        X_centers: ``s x d`` points to sample around, e.g. the best observed.
        n_candidates: Sobol candidates.

    Returns:
        A ``q x d`` tensor of unit points.
    """
    d = len(grids)
    device = model.train_inputs[0].device if hasattr(model, "train_inputs") else None
    grids = [None if g is None else g.cpu() for g in grids]
    X_centers = None if X_centers is None else X_centers.cpu()
    X_avoid = None if X_avoid is None else X_avoid.cpu()
    gen = torch.Generator().manual_seed(seed)
    cands = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed).draw(
        n_candidates, dtype=torch.float64
    )
    if X_centers is not None and len(X_centers):
        noise = 0.05 * torch.randn(len(X_centers), 64, d, generator=gen, dtype=torch.float64)
        cands = torch.cat([cands, (X_centers.unsqueeze(1) + noise).reshape(-1, d)])
    cands = _snap(cands, grids).unique(dim=0)
    with torch.no_grad(), seeded_torch(seed):
        posterior = model.posterior(cands.to(device))
        samples = posterior.rsample(torch.Size([q])).reshape(q, -1).cpu()
    blocked = torch.zeros(len(cands), dtype=torch.bool)
    if X_avoid is not None and len(X_avoid):
        blocked = torch.cdist(cands, X_avoid.to(cands)).min(dim=1).values < 1e-9
    chosen = []
    for j in range(q):
        values = samples[j] if bool(blocked.all()) else samples[j].masked_fill(blocked, -math.inf)
        k = int(torch.argmax(values))
        chosen.append(cands[k].clone())
        blocked[k] = True
    return torch.stack(chosen)
