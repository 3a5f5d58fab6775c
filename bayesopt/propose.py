"""Maximise an acquisition function over a mixed unit-cube domain.

The domain is the unit cube in which some coordinates are discrete: each has a sorted grid
of allowed unit values (``Space.grid``). The search alternates, from several starts at once:

1. a batched L-BFGS-B step over the continuous coordinates (and over discrete coordinates
   with more than ``max_exhaustive`` values, relaxed and then snapped), and
2. a discrete coordinate step that tries every value of each small discrete coordinate
   (and the nearest neighbours on the grid of large ones) and keeps the best move.

A fully discrete domain with at most ``max_enumerate`` points is enumerated instead.
Everything random comes from the ``seed`` argument; the global RNG is never used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from scipy.optimize import minimize as scipy_minimize
from torch import Tensor

from bayesopt._rng import seeded_torch

__all__ = ["ProposeOptions", "maximize"]


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
        x = _maximize_one(acqf, list(grids), seed + 7919 * j, avoid, X_starts, options, scales)
        chosen.append(x)
        avoid = torch.cat([avoid, x.unsqueeze(0)])
    return torch.stack(chosen)


def _device_of(acqf: AcquisitionFunction) -> torch.device:
    """Where the acquisition's model lives (the CPU for model-free acquisitions)."""
    model = getattr(acqf, "model", None)
    inputs = getattr(model, "train_inputs", None)
    return inputs[0].device if inputs else torch.device("cpu")


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
    n_points = math.prod(len(g) for g in grids) if all(g is not None for g in grids) else None
    if n_points is not None and n_points <= options.max_enumerate:
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
