"""Training hyperparameters of SGD with momentum, stored in unconstrained ("raw") form.

Learning rates and weight decay are kept as logarithms, the momentum through the logistic
function (its logit is stored), and the initial-weight scale as a logarithm, as in Maclaurin,
Duvenaud & Adams (2015). Gradient steps on the raw values can never leave the valid range.

Optionally the initial weights themselves are a hyperparameter (``init``: ``P`` values,
stored as they are), as in the paper's learned initialisations: training starts from
``init_scale * init`` instead of ``init_scale * w_base``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = ["FIELDS", "OPTIONAL", "Hyperparameters", "block_index"]

FIELDS = ("lr", "momentum", "weight_decay", "init_scale")
"""The hyperparameter names every ``Hyperparameters`` holds, in a fixed order."""

OPTIONAL = ("init",)
"""Hyperparameters a ``Hyperparameters`` may hold: ``init``, the ``P`` initial weights."""


@dataclass(frozen=True)
class _Transform:
    """How one hyperparameter maps between its raw and natural values."""

    forward: Callable[[Tensor], Tensor]  # raw -> natural
    inverse: Callable[[Tensor], Tensor]  # natural -> raw
    ndim: int  # 2: a `blocks x groups` schedule; 1: one value per group
    rule: str  # the valid natural range, for error messages
    valid: Callable[[float], bool]


_TRANSFORMS: dict[str, _Transform] = {
    "lr": _Transform(torch.exp, torch.log, 2, "0 < lr < inf", lambda x: 0 < x < math.inf),
    "momentum": _Transform(
        torch.sigmoid, torch.logit, 2, "0 <= momentum < 1", lambda x: 0 <= x < 1
    ),
    "weight_decay": _Transform(
        torch.exp, torch.log, 1, "0 <= weight_decay < inf", lambda x: 0 <= x < math.inf
    ),
    "init_scale": _Transform(
        torch.exp, torch.log, 1, "0 < init_scale < inf", lambda x: 0 < x < math.inf
    ),
}


def block_index(n_blocks: int, n_steps: int) -> Tensor:
    """Which block each training step belongs to: ``n_steps`` ints in ``[0, n_blocks)``.

    Step ``t`` belongs to block ``t * n_blocks // n_steps``, so blocks are as equal as possible.

    Example:
        >>> block_index(3, 7).tolist()
        [0, 0, 0, 1, 1, 2, 2]
    """
    return torch.arange(n_steps) * n_blocks // n_steps


def _as_natural(name: str, value: Any, dtype: torch.dtype) -> Tensor:
    """A natural value (number, nested list, array or tensor) as a tensor of the right rank."""
    spec = _TRANSFORMS[name]
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Tensor | list | tuple):
        try:
            value = torch.as_tensor(value)
        except Exception as exc:
            raise TypeError(
                f"`{name}` must be a number, a nested list or a tensor, but got {value!r}."
            ) from exc
    t = torch.as_tensor(value, dtype=dtype).detach().clone()
    if t.ndim > spec.ndim:
        shape = "`blocks x groups`" if spec.ndim == 2 else "`groups`"
        raise ValueError(
            f"`{name}` must have at most {spec.ndim} dimensions ({shape}), "
            f"but got shape {tuple(t.shape)}."
        )
    if t.numel() == 0:
        raise ValueError(f"`{name}` must hold at least one value, but it is empty.")
    while t.ndim < spec.ndim:
        t = t.unsqueeze(-1)  # a 1-D lr is a schedule shared by every group
    bad = [x for x in t.reshape(-1).tolist() if not spec.valid(x)]
    if bad:
        raise ValueError(f"`{spec.rule}` must hold, but got {name}={bad[0]!r}.")
    return t


class Hyperparameters:
    """The continuous training hyperparameters of SGD with momentum.

    Each is held as a raw (unconstrained) tensor in ``raw``; the properties give natural values.

    * ``lr``: ``B_lr x G_lr`` learning rates, stored as ``log lr``. Row ``b`` applies to the
      ``b``-th of ``B_lr`` equal blocks of training steps (``B_lr = n_steps``: per-step rates;
      ``B_lr = 1``: constant); column ``g`` to parameter group ``g`` (``G_lr = 1``: shared).
    * ``momentum``: ``B_m x G_m`` momenta in ``[0, 1)``, stored as ``logit momentum``.
    * ``weight_decay``: ``G_wd`` L2 strengths ``>= 0``, stored as ``log weight_decay``.
    * ``init_scale``: ``G_s`` scales ``> 0`` of the initial weights, stored as a logarithm.
    * ``init`` (optional): the ``P`` initial weights, stored as they are (raw = natural).
      Training then starts from ``init_scale * init`` instead of the problem's
      ``init_scale * w_base``. Without it (``None``) the problem's base weights are used.

    A natural value of exactly 0 (momentum or weight decay) has raw value ``-inf`` and a zero
    gradient: it stays switched off.

    Args:
        raw: ``{name: raw tensor}`` for every name in ``FIELDS``, and optionally ``init``
            (a finite 1-D tensor).

    Example:
        >>> h = Hyperparameters.create(lr=[0.5, 0.25], momentum=0.9, weight_decay=1e-3)
        >>> h.lr.shape, round(float(h.momentum), 3)
        (torch.Size([2, 1]), 0.9)
        >>> h.to_params()["lr"]
        [[0.5], [0.25]]
    """

    def __init__(self, raw: Mapping[str, Tensor]) -> None:
        if not isinstance(raw, Mapping):
            raise TypeError(f"`raw` must be a mapping of tensors, but got {raw!r}.")
        if not set(FIELDS) <= set(raw) or not set(raw) <= set(FIELDS + OPTIONAL):
            raise ValueError(
                f"`raw` must have the keys {FIELDS} (and optionally {OPTIONAL}), but got "
                f"{tuple(raw)}."
            )
        out: dict[str, Tensor] = {}
        for name in FIELDS:
            t = raw[name]
            if not isinstance(t, Tensor) or not t.is_floating_point():
                raise TypeError(f"`raw[{name!r}]` must be a floating-point tensor, but got {t!r}.")
            if t.ndim != _TRANSFORMS[name].ndim or t.numel() == 0:
                raise ValueError(
                    f"`raw[{name!r}]` must be a non-empty {_TRANSFORMS[name].ndim}-D tensor, "
                    f"but got shape {tuple(t.shape)}."
                )
            if torch.isnan(t).any() or (t == math.inf).any():
                raise ValueError(f"`raw[{name!r}]` must be finite or -inf, but got {t.tolist()}.")
            out[name] = t.detach().clone()
        if raw.get("init") is not None:
            t = raw["init"]
            if not isinstance(t, Tensor) or not t.is_floating_point():
                raise TypeError(f"`raw['init']` must be a floating-point tensor, but got {t!r}.")
            if t.ndim != 1 or t.numel() == 0:
                raise ValueError(
                    f"`raw['init']` must be a non-empty 1-D tensor (P initial weights), but got "
                    f"shape {tuple(t.shape)}."
                )
            if not bool(torch.isfinite(t).all()):
                raise ValueError("`raw['init']` must be finite.")
            out["init"] = t.detach().clone()
        self.raw: dict[str, Tensor] = out

    @classmethod
    def create(
        cls,
        lr: Any = 0.1,
        momentum: Any = 0.9,
        weight_decay: Any = 0.0,
        init_scale: Any = 1.0,
        init: Any = None,
        *,
        dtype: torch.dtype = torch.float64,
    ) -> Hyperparameters:
        """Build from natural values.

        Args:
            lr: a number, a length-``B`` schedule, or a ``B x G`` tensor (per group).
            momentum: the same shapes as ``lr``, values in ``[0, 1)``.
            weight_decay: a number or a length-``G`` tensor, values ``>= 0``.
            init_scale: a number or a length-``G`` tensor, values ``> 0``.
            init: ``None`` (the problem's base weights), or the ``P`` initial weights (a
                sequence, array or tensor; e.g. ``problem.w_base``).
            dtype: floating dtype of the raw tensors.
        """
        values = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        values["init_scale"] = init_scale
        raw = {n: _TRANSFORMS[n].inverse(_as_natural(n, v, dtype)) for n, v in values.items()}
        if init is not None:
            try:
                raw["init"] = torch.as_tensor(init, dtype=dtype).detach().clone()
            except Exception as exc:
                raise TypeError(
                    f"`init` must be a 1-D sequence or tensor of numbers, but got {init!r}."
                ) from exc
            if raw["init"].ndim != 1 or raw["init"].numel() == 0:
                raise ValueError(
                    f"`init` must be a non-empty 1-D vector of initial weights, but got shape "
                    f"{tuple(raw['init'].shape)}."
                )
            if not bool(torch.isfinite(raw["init"]).all()):
                raise ValueError("`init` must be finite.")
        return cls(raw)

    # Natural values ------------------------------------------------------------------------
    @staticmethod
    def natural_of(name: str, raw: Tensor) -> Tensor:
        """Map a raw tensor of hyperparameter ``name`` to natural values (differentiable)."""
        return raw if name == "init" else _TRANSFORMS[name].forward(raw)

    def natural(self, name: str) -> Tensor:
        """The natural value of ``name`` (see ``FIELDS`` and ``OPTIONAL``)."""
        return self.natural_of(name, self.raw[name])

    @property
    def names(self) -> tuple[str, ...]:
        """The hyperparameters held: ``FIELDS``, then ``init`` when present."""
        return tuple(self.raw)

    @property
    def init(self) -> Tensor | None:
        """The ``P`` initial weights, or ``None`` (the problem's base weights)."""
        return self.raw.get("init")

    @property
    def lr(self) -> Tensor:
        """``B_lr x G_lr`` learning rates."""
        return self.natural("lr")

    @property
    def momentum(self) -> Tensor:
        """``B_m x G_m`` momenta."""
        return self.natural("momentum")

    @property
    def weight_decay(self) -> Tensor:
        """``G_wd`` weight-decay strengths."""
        return self.natural("weight_decay")

    @property
    def init_scale(self) -> Tensor:
        """``G_s`` initial-weight scales."""
        return self.natural("init_scale")

    @property
    def n_values(self) -> int:
        """Total number of scalar hyperparameters."""
        return sum(t.numel() for t in self.raw.values())

    # Conversions ---------------------------------------------------------------------------
    def replace(self, **raw: Tensor) -> Hyperparameters:
        """A copy with some raw tensors replaced (``init`` may be added, or removed with
        ``init=None``)."""
        unknown = set(raw) - set(FIELDS + OPTIONAL)
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {sorted(unknown)}; known: {FIELDS + OPTIONAL}."
            )
        merged = {**self.raw, **raw}
        if merged.get("init") is None:
            merged.pop("init", None)
        return Hyperparameters(merged)

    def to_params(self, *, include_init: bool = True) -> dict[str, float | list]:
        """Natural values as plain Python: a float for a single value, else nested lists.

        Args:
            include_init: keep ``init`` (``P`` floats) when present.
        """
        out: dict[str, float | list] = {}
        for name in self.names:
            if name == "init" and not include_init:
                continue
            t = self.natural(name).detach().double()
            out[name] = float(t.reshape(())) if t.numel() == 1 and name != "init" else t.tolist()
        return out

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, dtype: torch.dtype = torch.float64
    ) -> Hyperparameters:
        """The inverse of ``to_params`` (missing names take ``create``'s defaults)."""
        unknown = set(params) - set(FIELDS + OPTIONAL)
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {sorted(unknown)}; known: {FIELDS + OPTIONAL}."
            )
        return cls.create(**dict(params), dtype=dtype)

    def __repr__(self) -> str:
        parts = []
        for name, value in self.to_params().items():
            if name == "init":
                parts.append(f"init=<{self.raw['init'].numel()} weights>")
            elif isinstance(value, float):
                parts.append(f"{name}={value:.4g}")
            else:
                parts.append(f"{name}=<{'x'.join(map(str, self.raw[name].shape))}>")
        return f"Hyperparameters({', '.join(parts)})"
