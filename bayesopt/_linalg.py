"""Dense GP linear algebra with bounded memory: blockwise kernel matrices, in-place Cholesky.

An exact GP on ``n`` points needs the ``n x n`` kernel matrix (3.2 GB in float64 at
``n = 20,000``). GPyTorch's kernels build it with several full-size temporaries, and a
Cholesky factorisation normally allocates a second matrix. Here the matrix is filled in
row blocks (temporaries stay ``block x n``) and factorised in place, so an ask needs about
one kernel matrix of memory plus small change.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from gpytorch.kernels import Kernel, MaternKernel, RBFKernel, ScaleKernel
from torch import Tensor

__all__ = [
    "BLOCK_ROWS",
    "Stationary",
    "cholesky_of_kernel",
    "kernel_matrix",
    "resolve_device",
    "stationary",
]

BLOCK_ROWS = 256
JITTERS = (0.0, 1e-8, 1e-6, 1e-4)
"""Relative diagonal jitters tried in turn when a factorisation fails."""


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"`` (a GPU when one is present), ``None`` (the CPU) or a torch device.

    Raises:
        TypeError: ``device`` is not a str, torch.device or None.
        ValueError: the string names no device, or a CUDA device without a usable GPU.
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise TypeError(f"`device` must be a str, torch.device or None, but got {device!r}.")
    try:
        out = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"`device`: {exc}") from None
    if out.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device={device!r}` needs a CUDA GPU, and none is available.")
    if out.type not in ("cpu", "cuda"):
        raise ValueError(f"`device` must be 'cpu', 'cuda', 'cuda:<i>' or 'auto', not {device!r}.")
    return out


@torch.no_grad()
def kernel_matrix(kernel: Kernel, X: Tensor, *, block: int = BLOCK_ROWS) -> Tensor:
    """``kernel(X, X)`` as a dense ``n x n`` tensor, filled ``block`` rows at a time."""
    fast = stationary(kernel)
    rows = fast.matrix if fast is not None else (lambda A, B: kernel(A, B).to_dense())
    n = len(X)
    if n <= block:
        return rows(X, X)
    K = torch.empty(n, n, dtype=X.dtype, device=X.device)
    for start in range(0, n, block):
        K[start : start + block] = rows(X[start : start + block], X)
    return K


@torch.no_grad()
def cholesky_of_kernel(kernel: Kernel, X: Tensor, noise: float) -> Tensor:
    """The lower Cholesky factor of ``kernel(X, X) + noise I``, built and factorised in place.

    A failed factorisation is retried with growing diagonal jitter (relative to the mean
    diagonal), rebuilding the matrix each time.

    Raises:
        torch.linalg.LinAlgError: no jitter in ``JITTERS`` made the matrix factorisable.
    """
    for jitter in JITTERS:
        K = kernel_matrix(kernel, X)
        scale = float(K.diagonal().mean()) if len(K) else 1.0
        K.diagonal().add_(noise + jitter * scale)
        # K is symmetric, so its transpose view is the same matrix in column-major order,
        # the layout LAPACK factorises in place (a row-major input would be copied first).
        factor = K.mT
        info = torch.empty((), dtype=torch.int32, device=K.device)
        torch.linalg.cholesky_ex(factor, out=(factor, info))
        if int(info) == 0:
            return factor.tril_()
        del K, factor
    raise torch.linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


@dataclass(frozen=True)
class Stationary:
    """An ARD Matérn-5/2 or RBF kernel over all inputs, optionally times an output scale.

    For these kernels (the default model's, without categoricals or warping) the kernel
    matrix, and the marginal likelihood's gradient with respect to the lengthscales, have
    closed forms that cost a few ``n x n`` array operations instead of GPyTorch's generic
    autograd graph (3 to 4 times as much at 200 points).

    Attributes:
        kind: ``"matern52"`` or ``"rbf"``.
        lengthscale: the kernel's lengthscale parameter (``1 x d``), untransformed.
        outputscale: the output scale parameter (scalar), or ``None`` when fixed at 1.
        active: the input columns the kernel reads (``None`` for all).
    """

    kind: str
    lengthscale: Tensor
    outputscale: Tensor | None
    active: Tensor | None = None

    def inputs(self, X: Tensor) -> Tensor:
        """The columns of ``X`` the kernel reads."""
        return X if self.active is None else X[..., self.active.to(X.device)]

    @property
    def scale(self) -> Tensor:
        """The output scale as a tensor (1 when fixed)."""
        if self.outputscale is None:
            return torch.ones((), dtype=self.lengthscale.dtype, device=self.lengthscale.device)
        return self.outputscale

    def base_of_r2(self, r2: Tensor) -> Tensor:
        """The unscaled kernel as a function of the squared scaled distance."""
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

    def r2(self, X1: Tensor, X2: Tensor) -> Tensor:
        """Squared distances of the lengthscale-scaled inputs (``n1 x n2``, clamped >= 0)."""
        ls = self.lengthscale.reshape(-1)
        Z1, Z2 = self.inputs(X1) / ls, self.inputs(X2) / ls
        r2 = (Z1**2).sum(-1, keepdim=True) + (Z2**2).sum(-1) - 2.0 * Z1 @ Z2.transpose(-1, -2)
        return r2.clamp_min(0.0)

    def matrix(self, X1: Tensor, X2: Tensor) -> Tensor:
        """``k(X1, X2)`` (differentiable in the inputs and the parameters)."""
        return self.scale * self.base_of_r2(self.r2(X1, X2))


def stationary(kernel: Kernel) -> Stationary | None:
    """``kernel`` as a ``Stationary`` if it is one (unconstrained-transform parameters, all
    input dimensions active), else ``None``."""
    outputscale = None
    if isinstance(kernel, ScaleKernel):
        if kernel.raw_outputscale_constraint.enforced:
            return None
        outer = kernel.active_dims
        outputscale, kernel = kernel.raw_outputscale, kernel.base_kernel
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
    return Stationary(kind, kernel.raw_lengthscale, outputscale, active)


def _as_index(active: Tensor | None) -> Tensor:
    return torch.empty(0, dtype=torch.long) if active is None else active.cpu()
