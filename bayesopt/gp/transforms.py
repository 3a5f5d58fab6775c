"""Output transforms: robust standardisation, the bilog, Yeo-Johnson and copula warps,
inverses.

The GP sees outputs ``y`` standardised robustly (so that objectives of scale 1e-9 or 1e9
look alike), optionally warped to pull in a heavy tail of bad values, and standardised
again. Every transform keeps the order of the values; the inverses map model units back
for plots.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.optimize
import scipy.stats
import torch
from torch import Tensor

__all__ = [
    "OUTPUT_WARPS",
    "fit_output_transform",
    "standardize",
    "standardize_threshold",
    "to_model_units",
    "transform_outputs",
    "yeo_johnson_lambda",
]

OUTPUT_WARPS = ("none", "bilog", "yeo-johnson", "copula")


def _standardizer(y: Tensor) -> tuple[float, float, float, float]:
    """``(median, spread, mean, sd)`` with ``standardize(y)`` equal to
    ``((y - median) / spread - mean) / sd``; ``spread`` or ``sd`` is 0 for a constant."""
    y = y.to(torch.float64)
    median = float(y.median())
    spread = float((y - median).abs().max())
    if not spread > 0:
        return median, 0.0, 0.0, 0.0
    u = (y - median) / spread
    mean = float(u.mean())
    sd = float((u - mean).std()) if len(u) > 1 else 1.0
    return median, spread, mean, sd


def standardize(y: Tensor) -> Tensor:
    """Centre and scale ``n`` values to mean 0 and s.d. 1 without overflow.

    A constant vector maps to zeros.

    Args:
        y: ``n`` finite values.

    Returns:
        ``n`` standardised values.

    Example:
        >>> import torch
        >>> standardize(torch.tensor([1.0, 2.0, 3.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    median, spread, mean, sd = _standardizer(y)
    if not (spread > 0 and sd > 0):
        return torch.zeros_like(y, dtype=torch.float64)
    return ((y.to(torch.float64) - median) / spread - mean) / sd


def standardize_threshold(y: Tensor, threshold: float) -> tuple[Tensor, float]:
    """``standardize(y)`` and the image of ``threshold`` under the same affine map.

    For a constant ``y`` (which maps to zeros) the threshold maps to ``-1`` when the
    constant is at or above it and to ``+1`` when below, so that the order of the data and
    the threshold is kept.

    Example:
        >>> import torch
        >>> z, t = standardize_threshold(torch.tensor([1.0, 2.0, 3.0]), 2.5)
        >>> z.tolist(), t
        ([-1.0, 0.0, 1.0], 0.5)
    """
    median, spread, mean, sd = _standardizer(y)
    if not (spread > 0 and sd > 0):
        above = bool((y.to(torch.float64) >= threshold).all())
        return torch.zeros_like(y, dtype=torch.float64), -1.0 if above else 1.0
    z = ((y.to(torch.float64) - median) / spread - mean) / sd
    return z, ((threshold - median) / spread - mean) / sd


def _unstandardize(params: tuple[float, float, float, float], v: np.ndarray) -> np.ndarray:
    """The inverse of ``standardize`` with ``_standardizer``'s parameters (a constant input
    maps everything back to its value)."""
    median, spread, mean, sd = params
    return median + spread * (mean + sd * np.asarray(v, dtype=float))


def _yeo_johnson_inverse(x: np.ndarray, lam: float) -> np.ndarray:
    """The inverse of the Yeo-Johnson transform with parameter ``lam``."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    with np.errstate(all="ignore"):
        if abs(lam) < 1e-12:
            out[pos] = np.expm1(x[pos])
        else:
            out[pos] = np.power(np.maximum(lam * x[pos] + 1.0, 0.0), 1.0 / lam) - 1.0
        if abs(lam - 2.0) < 1e-12:
            out[~pos] = -np.expm1(-x[~pos])
        else:
            base = np.maximum(1.0 - (2.0 - lam) * x[~pos], 0.0)
            out[~pos] = 1.0 - np.power(base, 1.0 / (2.0 - lam))
    return out


def _yeo_johnson(x: np.ndarray, lam: float) -> np.ndarray:
    """The Yeo-Johnson transform of ``x`` with parameter ``lam``: SciPy's
    ``stats.yeojohnson(x, lam)``, operation for operation."""
    eps = np.finfo(np.float64).eps
    out = np.zeros_like(x, dtype=np.float64)
    pos = x >= 0
    if abs(lam) < eps:
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = np.expm1(lam * np.log1p(x[pos])) / lam
    if abs(lam - 2) > eps:
        out[~pos] = -np.expm1((2 - lam) * np.log1p(-x[~pos])) / (2 - lam)
    else:
        out[~pos] = -np.log1p(-x[~pos])
    return out


def yeo_johnson_lambda(x: np.ndarray) -> float:
    """The maximum-likelihood Yeo-Johnson parameter of ``n`` finite values.

    The same objective, bounds and bounded Brent search (``optimize.fminbound``, tolerance
    1.48e-8) as SciPy's ``stats.yeojohnson_normmax``, with the same floating-point
    operations, so the result is SciPy's to the last bit (tested); it skips the input
    checks and array-API dispatch SciPy's log-likelihood runs at each of the ~20
    evaluations, which made up most of its cost: a tenth of the time (5.8 ms of a Branin
    ask before).

    Args:
        x: ``n`` finite float64 values.

    Returns:
        The parameter ``lambda``; 1 when every value is 0.
    """
    x = np.asarray(x, dtype=np.float64)
    if np.all(x == 0):
        return 1.0
    n = x.shape[0]
    log_terms = np.sum(np.sign(x) * np.log1p(np.abs(x)), axis=0)
    tiny = np.finfo(np.float64).smallest_normal

    def neg_llf(lam: float) -> float:
        y = _yeo_johnson(x, lam)
        sigma = np.var(y, axis=0)
        log_sigma = np.log(sigma) if sigma >= tiny else -np.inf
        llf = -n / 2 * log_sigma + (lam - 1) * log_terms
        return np.inf if np.isinf(llf) else -llf  # as SciPy rejects infinite ones

    log1p_max_x = np.log1p(20 * np.max(np.abs(x)))
    log_eps = np.log(np.finfo(np.float64).eps)
    lb = (np.log(np.finfo(np.float64).tiny) - log_eps) / 2 / log1p_max_x
    ub = (np.log(np.finfo(np.float64).max) + log_eps) / 2 / log1p_max_x
    if np.all(x < 0):
        lb, ub = 2 - ub, 2 - lb
    elif np.any(x < 0):
        lb, ub = max(2 - ub, lb), min(2 - lb, ub)
    return float(scipy.optimize.fminbound(neg_llf, lb, ub, xtol=1.48e-08))


def _copula(z: Tensor) -> tuple[Tensor, Callable[[np.ndarray], np.ndarray]]:
    """Gaussian copula warp: each value becomes the normal quantile of its rank.

    With ``n`` values, rank ``r`` (1-based, ties averaged) maps to ``Phi^-1((r - 1/2) / n)``,
    as in HEBO and Salinas et al. (2020): only the order of the values is kept, so a
    heavy tail or a huge range (an ill-conditioned objective) costs the GP nothing. The
    inverse interpolates linearly between the sorted pairs.
    """
    z_np = z.numpy()
    ranks = scipy.stats.rankdata(z_np)
    u = scipy.stats.norm.ppf((ranks - 0.5) / len(z_np))
    order = np.argsort(u, kind="stable")
    u_sorted, z_sorted = u[order], z_np[order]

    def unwarp(v: np.ndarray) -> np.ndarray:
        return np.interp(v, u_sorted, z_sorted)

    return torch.as_tensor(u, dtype=z.dtype), unwarp


def fit_output_transform(
    y: Tensor, warp: str = "none"
) -> tuple[Tensor, Callable[[np.ndarray], np.ndarray]]:
    """``transform_outputs`` together with its inverse (model units back to ``y``'s).

    Args:
        y: ``n`` finite values (larger is better).
        warp: one of ``OUTPUT_WARPS``.

    Returns:
        The transformed values and a function mapping an array of model-space values back
        to ``y``'s units: exact (up to rounding) within the range of the transformed
        values, continued linearly beyond it, monotone everywhere.
    """
    if warp not in OUTPUT_WARPS:
        raise ValueError(f"`warp` must be one of {OUTPUT_WARPS}, but got {warp!r}.")
    y = y.to(torch.float64)
    first = _standardizer(y)
    z = standardize(y)
    if warp == "none" or len(z) < 3 or not bool(z.abs().max() > 0):
        return z, lambda v: _unstandardize(first, v)
    if warp == "bilog":
        warped = torch.sign(z) * torch.log1p(z.abs())

        def unwarp(u: np.ndarray) -> np.ndarray:
            return np.sign(u) * np.expm1(np.abs(u))

    elif warp == "copula":
        warped, unwarp = _copula(z)
    else:  # yeo-johnson
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            z_np = z.numpy()
            lam = yeo_johnson_lambda(z_np)
            out = _yeo_johnson(z_np, lam)
        warped = torch.as_tensor(out)
        if not bool(torch.isfinite(warped).all()):
            return z, lambda v: _unstandardize(first, v)

        def unwarp(u: np.ndarray) -> np.ndarray:
            return _yeo_johnson_inverse(u, float(lam))

    values = standardize(warped)
    lo, hi = float(values.min()), float(values.max())
    second = _standardizer(warped)
    slopes: list[float] = []  # at the ends of the range, computed at the first call

    def exact(v: np.ndarray) -> np.ndarray:
        return _unstandardize(first, unwarp(_unstandardize(second, v)))

    def inverse(v: np.ndarray) -> np.ndarray:
        # A power transform can have a bounded range (Yeo-Johnson with lambda > 2 or
        # < 0): exact within the data's range, continued linearly beyond it. The end
        # slopes are computed once, at the first call (plots, a reference point or a
        # constraint's bound in model units: ``to_model_units`` calls it ~100 times).
        if not slopes:
            step = 1e-6 * max(hi - lo, 1e-12)
            f = exact(np.array([lo, lo + step, hi - step, hi]))
            slopes.extend(((f[1] - f[0]) / step, (f[3] - f[2]) / step))
        slope_lo, slope_hi = slopes
        v = np.asarray(v, dtype=float)
        inside = exact(np.clip(v, lo, hi))
        return inside + slope_lo * np.minimum(v - lo, 0.0) + slope_hi * np.maximum(v - hi, 0.0)

    return values, inverse


def to_model_units(inverse: Callable[[np.ndarray], np.ndarray], y: float) -> float:
    """The model-space value that ``inverse`` maps to ``y``.

    ``inverse`` is the second result of ``fit_output_transform``: increasing, exact within
    the data's range and linear beyond it, so a bisection finds the value whichever warp
    made it. A constant output (``inverse`` flat) maps everything to 0.

    Example:
        >>> y = torch.tensor([0.0, 1.0, 4.0, 9.0], dtype=torch.float64)
        >>> z, inverse = fit_output_transform(y, "yeo-johnson")
        >>> abs(to_model_units(inverse, 4.0) - float(z[2])) < 1e-9
        True
    """

    def at(v: float) -> float:
        return float(inverse(np.array([v]))[0])

    if not at(1.0) > at(-1.0):
        return 0.0
    lo, hi = -1.0, 1.0
    while at(lo) > y and lo > -1e12:
        lo *= 2.0
    while at(hi) < y and hi < 1e12:
        hi *= 2.0
    for _ in range(80):  # the bracket shrinks below float64's resolution
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if at(mid) < y else (lo, mid)
    return 0.5 * (lo + hi)


def transform_outputs(y: Tensor, warp: str = "none") -> Tensor:
    """Standardise ``y``, optionally warp it, and standardise again.

    Args:
        y: ``n`` finite values (larger is better).
        warp: one of ``OUTPUT_WARPS``.

    Returns:
        ``n`` values with mean 0 and s.d. 1 (zeros for a constant input), order preserved.
    """
    return fit_output_transform(y, warp)[0]
