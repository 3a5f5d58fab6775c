"""Dense GP linear algebra with bounded memory: kernel matrices and the jittered Cholesky.

An exact GP on ``n`` points needs the ``n x n`` kernel matrix ``K`` (3.2 GB in float64 at
``n = 20,000``). GPyTorch's kernels build it with several full-size temporaries, and a
Cholesky factorisation normally allocates a second matrix. Here the matrix is filled in
row blocks (temporaries stay ``block x n``) and factorised in place, so an ask needs about
one kernel matrix of memory plus small change.

``cholesky`` is the one factorisation of the package: the marginal likelihood
(``gp.mll``) and the cached posterior (``gp.posterior``) both go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from gpytorch.kernels import Kernel, MaternKernel, RBFKernel, ScaleKernel
from torch import Tensor

__all__ = [
    "BLOCK_ROWS",
    "JITTERS",
    "Stationary",
    "cholesky",
    "kernel_cholesky",
    "kernel_matrix",
    "stationary",
]

BLOCK_ROWS = 256
JITTERS = (0.0, 1e-8, 1e-6, 1e-4)
"""Relative diagonal jitters tried in turn when a factorisation fails."""


@torch.no_grad()
def cholesky(matrix: Callable[[], Tensor], noise: float = 0.0) -> Tensor:
    """The lower Cholesky factor ``L`` of ``K + noise I``, retrying with diagonal jitter.

    Each attempt asks ``matrix`` for a fresh ``K``, adds ``noise`` plus a jitter from
    ``JITTERS`` (relative to the mean of ``K``'s diagonal) to its diagonal, and factorises
    it in place: with no copy when ``K`` is column-major, as the transposed view of a
    row-major symmetric matrix is. The factor reads ``K``'s lower triangle.

    Args:
        matrix: returns a fresh ``n x n`` symmetric ``K`` on each call (overwritten).
        noise: added to the diagonal before the jitter.

    Returns:
        The ``n x n`` lower factor (it may share ``K``'s memory).

    Raises:
        torch.linalg.LinAlgError: no jitter in ``JITTERS`` made the matrix factorisable.
    """
    for jitter in JITTERS:
        K = matrix()
        if jitter or noise:
            scale = float(K.diagonal().mean()) if len(K) else 1.0
            K.diagonal().add_(noise + jitter * scale)
        info = torch.empty((), dtype=torch.int32, device=K.device)
        torch.linalg.cholesky_ex(K, out=(K, info))
        if int(info) == 0:
            return K.tril_()
        del K
    raise torch.linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


@torch.no_grad()
def kernel_matrix(kernel: Kernel, X: Tensor, *, block: int = BLOCK_ROWS) -> Tensor:
    """``K = kernel(X, X)`` as a dense ``n x n`` tensor, filled ``block`` rows at a time.

    Args:
        kernel: a GPyTorch kernel.
        X: ``n x d`` inputs.
        block: rows computed at once.
    """
    fast = stationary(kernel)
    rows = fast.matrix if fast is not None else (lambda A, B: kernel(A, B).to_dense())
    n = len(X)
    if n <= block:
        return rows(X, X)
    K = torch.empty(n, n, dtype=X.dtype, device=X.device)
    for start in range(0, n, block):
        K[start : start + block] = rows(X[start : start + block], X)
    return K


def kernel_cholesky(kernel: Kernel, X: Tensor, noise: float) -> Tensor:
    """The lower factor ``L`` of ``kernel(X, X) + noise I``, built and factorised in place.

    ``K`` is symmetric, so its transposed view is the same matrix in column-major order,
    the layout LAPACK factorises in place (a row-major input would be copied first).

    Args:
        kernel: a GPyTorch kernel.
        X: ``n x d`` inputs.
        noise: the noise variance.

    Raises:
        torch.linalg.LinAlgError: no jitter made the matrix factorisable.
    """
    return cholesky(lambda: kernel_matrix(kernel, X).mT, noise)


@dataclass(frozen=True)
class Stationary:
    """An ARD Matérn-5/2 or RBF kernel over all inputs, optionally times an output scale.

    For these kernels (the default model's, without categoricals or warping) the kernel
    matrix, and the marginal likelihood's gradient with respect to the lengthscales, have
    closed forms that cost a few ``n x n`` array operations instead of GPyTorch's generic
    autograd graph.

    Attributes:
        kind: ``"matern52"`` or ``"rbf"``.
        lengthscale: the kernel's lengthscale ``ell`` (``1 x d``), untransformed.
        outputscale: the output scale parameter (scalar), or ``None`` when fixed at 1.
        active: the input columns the kernel reads (``None`` for all).
        lengthscale_name: the lengthscale's name in the kernel's ``named_parameters``.
        outputscale_name: the output scale's name there, or ``None``.
    """

    kind: str
    lengthscale: Tensor
    outputscale: Tensor | None
    active: Tensor | None = None
    lengthscale_name: str = "raw_lengthscale"
    outputscale_name: str | None = None

    def inputs(self, X: Tensor) -> Tensor:
        """The columns of ``X`` (``... x d``) the kernel reads."""
        return X if self.active is None else X[..., self.active.to(X.device)]

    @property
    def scale(self) -> Tensor:
        """The output scale as a tensor (1 when fixed)."""
        if self.outputscale is None:
            return torch.ones((), dtype=self.lengthscale.dtype, device=self.lengthscale.device)
        return self.outputscale

    def base_of_r2(self, r2: Tensor) -> Tensor:
        """The unscaled kernel as a function of the squared scaled distance ``r2``."""
        if self.kind == "rbf":
            return torch.exp(-0.5 * r2)
        r5 = torch.sqrt(5.0 * r2.clamp_min(1e-36))
        return (1.0 + r5 + r5**2 / 3.0) * torch.exp(-r5)

    def slope_of_r2(self, r2: Tensor) -> Tensor:
        """``-2 d base / d r2``, the weight of the lengthscale gradient."""
        if self.kind == "rbf":
            return torch.exp(-0.5 * r2)
        r5 = torch.sqrt(5.0 * r2.clamp_min(0.0))
        return (5.0 / 3.0) * (1.0 + r5) * torch.exp(-r5)

    def base_and_slope(self, r2: Tensor) -> tuple[Tensor, Tensor]:
        """``base_of_r2(r2)`` and ``slope_of_r2(r2)`` at once, sharing their exponential
        (no autograd through it: for the marginal likelihood's closed-form gradient)."""
        if self.kind == "rbf":
            e = torch.exp(-0.5 * r2)
            return e, e
        r5 = torch.sqrt(5.0 * r2.clamp_min(0.0))
        e = torch.exp(-r5)
        slope = (5.0 / 3.0) * (1.0 + r5) * e
        return (1.0 + r5 + r5**2 / 3.0) * e, slope

    def r2(self, X1: Tensor, X2: Tensor) -> Tensor:
        """Squared distances of the lengthscale-scaled inputs (``n1 x n2``, clamped >= 0)."""
        ls = self.lengthscale.reshape(-1)
        Z1 = self.inputs(X1) / ls
        Z2 = Z1 if X2 is X1 else self.inputs(X2) / ls
        return self.r2_scaled(Z1, Z2, (Z2**2).sum(-1))

    def scaled(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """``Z = inputs(X) / ell`` and its squared row norms ``(Z**2).sum(-1)``: what
        ``r2_scaled`` needs of a fixed second argument, computed once."""
        Z = self.inputs(X) / self.lengthscale.reshape(-1)
        return Z, (Z**2).sum(-1)

    def r2_scaled(self, Z1: Tensor, Z2: Tensor, Z2_sq: Tensor) -> Tensor:
        """``r2`` from scaled inputs: ``Z1`` (``n1 x k``) and ``Z2, Z2_sq`` of ``scaled``."""
        r2 = (Z1**2).sum(-1, keepdim=True) + Z2_sq - 2.0 * Z1 @ Z2.transpose(-1, -2)
        return r2.clamp_min(0.0)

    def matrix(self, X1: Tensor, X2: Tensor) -> Tensor:
        """``k(X1, X2)``, ``n1 x n2`` (differentiable in the inputs and the parameters)."""
        return self.scale * self.base_of_r2(self.r2(X1, X2))


def stationary(kernel: Kernel) -> Stationary | None:
    """``kernel`` as a ``Stationary`` if it is one (unconstrained-transform parameters, all
    input dimensions active), else ``None``."""
    outputscale, prefix = None, ""
    if isinstance(kernel, ScaleKernel):
        if kernel.raw_outputscale_constraint.enforced:
            return None
        outer = kernel.active_dims
        outputscale, kernel, prefix = kernel.raw_outputscale, kernel.base_kernel, "base_kernel."
        if outer is not None and not torch.equal(outer.cpu(), _as_index(kernel.active_dims)):
            return None
    if isinstance(kernel, MaternKernel) and kernel.nu == 2.5:
        kind = "matern52"
    elif type(kernel) is RBFKernel:
        kind = "rbf"
    else:
        return None
    if kernel.raw_lengthscale_constraint.enforced:
        return None
    if kernel.raw_lengthscale.dim() != 2 or kernel.raw_lengthscale.shape[0] != 1:
        return None
    active = kernel.active_dims
    if active is not None and len(active) != kernel.raw_lengthscale.shape[-1]:
        return None
    return Stationary(
        kind,
        kernel.raw_lengthscale,
        outputscale,
        active,
        lengthscale_name=f"{prefix}raw_lengthscale",
        outputscale_name=None if outputscale is None else "raw_outputscale",
    )


def _as_index(active: Tensor | None) -> Tensor:
    return torch.empty(0, dtype=torch.long) if active is None else active.cpu()
