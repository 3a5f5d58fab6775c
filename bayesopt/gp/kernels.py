"""A kernel on learned linear combinations of the inputs (``ModelOptions(structure="rotated")``).

An ARD kernel measures distance along the coordinate axes only, so a valley that runs
diagonally (a rotated ellipsoid, correlated hyperparameters such as a learning rate and a
batch size) needs short lengthscales on every axis and many points. ``LinearMapKernel``
applies the base kernel to ``A x`` with ``A`` unit lower triangular: with the base kernel's
lengthscales ``ell`` the squared distance is ``delta^T A^T diag(ell)^-2 A delta``, any
positive definite metric (the ``L D L^T`` form of a Mahalanobis distance; Vivarelli and
Williams, 1998). ``A`` starts at the identity, where the kernel is the ARD one, and a
Normal(0, ``SHEAR_PRIOR_SD``) prior on its off-diagonal entries keeps it there unless the
data pull it away. It adds ``k (k - 1) / 2`` hyperparameters for ``k`` coordinates.
"""

from __future__ import annotations

import torch
from gpytorch.kernels import Kernel
from gpytorch.priors import NormalPrior
from torch import Tensor

__all__ = ["SHEAR_PRIOR_SD", "LinearMapKernel"]

SHEAR_PRIOR_SD = 1.0
"""The prior s.d. of each off-diagonal entry of the linear map: an entry of 1 turns the
axes by 45 degrees in the plane of the two coordinates."""


class LinearMapKernel(Kernel):
    """``base(A x, A x')`` with ``A = I + S``, ``S`` strictly lower triangular and learned.

    Args:
        base: a kernel over ``k`` inputs (ARD lengthscales, no ``active_dims``).
        active_dims: the ``k`` input columns the kernel reads.
    """

    def __init__(self, base: Kernel, active_dims: list[int]) -> None:
        super().__init__(active_dims=torch.as_tensor(active_dims, dtype=torch.long))
        k = len(active_dims)
        self.base_kernel = base
        rows, cols = torch.tril_indices(k, k, offset=-1)
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)
        self.register_parameter(
            "raw_shear", torch.nn.Parameter(torch.zeros(len(rows), dtype=torch.float64))
        )
        f64 = torch.float64
        prior = NormalPrior(torch.tensor(0.0, dtype=f64), torch.tensor(SHEAR_PRIOR_SD, dtype=f64))
        self.register_prior("shear_prior", prior, lambda m: m.raw_shear)

    @property
    def matrix(self) -> Tensor:
        """The ``k x k`` map ``A``."""
        k = len(self.active_dims)
        A = torch.eye(k, dtype=self.raw_shear.dtype, device=self.raw_shear.device)
        return A.index_put((self.rows, self.cols), self.raw_shear)

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, **params) -> Tensor:
        A = self.matrix.mT
        return self.base_kernel.forward(x1 @ A, x2 @ A, diag=diag, **params)
