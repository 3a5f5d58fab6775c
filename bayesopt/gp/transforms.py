"""Output transforms: robust standardisation, the bilog and Yeo-Johnson warps, inverses.

The GP sees outputs ``y`` standardised robustly (so that objectives of scale 1e-9 or 1e9
look alike), optionally warped to pull in a heavy tail of bad values, and standardised
again. Every transform keeps the order of the values; the inverses map model units back
for plots.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.stats
import torch
from torch import Tensor

__all__ = ["OUTPUT_WARPS", "fit_output_transform", "standardize", "transform_outputs"]

OUTPUT_WARPS = ("none", "bilog", "yeo-johnson")


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

    else:  # yeo-johnson
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, lam = scipy.stats.yeojohnson(z.numpy())
        warped = torch.as_tensor(np.asarray(out, dtype=np.float64))
        if not bool(torch.isfinite(warped).all()):
            return z, lambda v: _unstandardize(first, v)

        def unwarp(u: np.ndarray) -> np.ndarray:
            return _yeo_johnson_inverse(u, float(lam))

    values = standardize(warped)
    lo, hi = float(values.min()), float(values.max())

    def exact(v: np.ndarray) -> np.ndarray:
        return _unstandardize(first, unwarp(_unstandardize(_standardizer(warped), v)))

    def inverse(v: np.ndarray) -> np.ndarray:
        # A power transform can have a bounded range (Yeo-Johnson with lambda > 2 or
        # < 0): exact within the data's range, continued linearly beyond it. Computed
        # only when called (by plots), so the ask path pays nothing for it.
        step = 1e-6 * max(hi - lo, 1e-12)
        f = exact(np.array([lo, lo + step, hi - step, hi]))
        slope_lo, slope_hi = (f[1] - f[0]) / step, (f[3] - f[2]) / step
        v = np.asarray(v, dtype=float)
        inside = exact(np.clip(v, lo, hi))
        return inside + slope_lo * np.minimum(v - lo, 0.0) + slope_hi * np.maximum(v - hi, 0.0)

    return values, inverse


def transform_outputs(y: Tensor, warp: str = "none") -> Tensor:
    """Standardise ``y``, optionally warp it, and standardise again.

    Args:
        y: ``n`` finite values (larger is better).
        warp: one of ``OUTPUT_WARPS``.

    Returns:
        ``n`` values with mean 0 and s.d. 1 (zeros for a constant input), order preserved.
    """
    return fit_output_transform(y, warp)[0]
