"""A supervised training problem: model, data, minibatch order, and plain SGD with momentum.

The weights of every parameter tensor of the model live in one flat vector ``w`` (``P``
values); ``torch.func.functional_call`` runs the model on views of it. Training is

    g_t     = grad L_batch(t)(w_t) + weight_decay * w_t
    v_{t+1} = momentum_t * v_t - (1 - momentum_t) * g_t
    w_{t+1} = w_t + lr_t * v_{t+1},          v_0 = 0,  w_0 = init_scale * w_base
                                                       (or init_scale * init, see below)

(Maclaurin et al., 2015, Algorithm 1; with constant momentum m it is heavy-ball SGD with
step ``lr * (1 - m)``). Each hyperparameter may differ per parameter group; learning rate
and momentum may also change per block of steps. The initial weights may be a
hyperparameter too (``Hyperparameters.init``: ``P`` values replacing ``w_base``). Minibatches
are drawn once, from ``seed``, so every run of the same problem sees the same batches in
the same order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value

from bayesopt._rng import derive_seed
from bayesopt.hypergrad.hyper import FIELDS, Hyperparameters, block_index

__all__ = ["TrainResult", "TrainingProblem"]

LossFn = Callable[[Tensor, Tensor], Tensor]


class Schedule(NamedTuple):
    """Natural hyperparameter values expanded over the ``T`` training steps.

    Attributes:
        lr: ``T x G_lr``; momentum: ``T x G_m``; weight_decay: ``G_wd``; init_scale: ``G_s``;
        init: ``P`` initial weights, or ``None`` for the problem's ``w_base``.
    """

    lr: Tensor
    momentum: Tensor
    weight_decay: Tensor
    init_scale: Tensor
    init: Tensor | None = None


@dataclass(frozen=True)
class TrainResult:
    """The outcome of one training run.

    Attributes:
        value: validation loss of the final weights; ``inf`` when training diverged.
        weights: ``P`` final weights (``None`` when training diverged).
        train_losses: ``T'`` minibatch training losses (without weight decay), up to divergence.
        diverged: whether training diverged.
        diverged_at: the step at which divergence was detected (``None`` if it did not).
        reason: why training was declared diverged (``None`` if it did not).
    """

    value: float
    weights: Tensor | None
    train_losses: Tensor
    diverged: bool = False
    diverged_at: int | None = None
    reason: str | None = None


class Divergence(NamedTuple):
    step: int
    reason: str


def _as_data(name: str, data: Any, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"`{name}` must be a pair (inputs, targets), but got {type(data)}.")
    X, y = (torch.as_tensor(np.asarray(d) if not isinstance(d, Tensor) else d) for d in data)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"`{name}` inputs and targets must have the same length, but got shapes "
            f"{tuple(X.shape)} and {tuple(y.shape)}."
        )
    if len(X) == 0:
        raise ValueError(f"`{name}` must hold at least one example.")
    X = X.to(dtype) if X.is_floating_point() else X
    y = y.to(dtype) if y.is_floating_point() else y
    return X.detach(), y.detach()


def _resolve_groups(
    names: list[str], groups: str | Mapping[str, Sequence[str]] | None
) -> tuple[list[str], list[int]]:
    """Group names, and the group of each parameter tensor."""
    if groups is None:
        return ["all"], [0] * len(names)
    if groups in ("layer", "tensor"):
        keys = (
            [n.rpartition(".")[0] or "<root>" for n in names] if groups == "layer" else list(names)
        )
        order = list(dict.fromkeys(keys))
        return order, [order.index(k) for k in keys]
    if not isinstance(groups, Mapping):
        raise TypeError(
            "`groups` must be None, 'layer', 'tensor' or a mapping {group: [parameter names]}, "
            f"but got {groups!r}."
        )
    owner: dict[str, int] = {}
    for gi, (gname, members) in enumerate(groups.items()):
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise TypeError(f"`groups[{gname!r}]` must be a list of parameter names.")
        for m in members:
            if m not in names:
                raise ValueError(f"`groups[{gname!r}]` names {m!r}, which is not a parameter.")
            if m in owner:
                raise ValueError(f"parameter {m!r} must be in exactly one group, but is in two.")
            owner[m] = gi
    missing = [n for n in names if n not in owner]
    if missing:
        raise ValueError(f"every parameter must be in a group, but {missing} are in none.")
    return [str(g) for g in groups], [owner[n] for n in names]


class TrainingProblem:
    """A model, its data, and how it is trained; the target of hyperparameter optimisation.

    Args:
        model: any ``torch.nn.Module`` that is a deterministic function of its inputs (no
            dropout); only its structure (and its parameters, when ``init_seed`` is
            ``None``) is used. Buffers are held fixed: each call gets a fresh copy, so
            BatchNorm in train mode normalises by batch statistics and its running
            statistics never change.
        train_data: ``(inputs, targets)``, tensors or arrays with equal first dimension.
        val_data: ``(inputs, targets)``; the objective is ``val_loss`` on these after training.
        n_steps: number of SGD steps ``T``.
        batch_size: minibatch size; ``None`` for full-batch gradient descent.
        loss: ``loss(outputs, targets) -> scalar`` minimised by training.
        val_loss: the validation objective; defaults to ``loss``.
        groups: parameter groups for per-group hyperparameters: ``None`` (one group),
            ``"layer"`` (parameters of one module together; the model's own parameters
            form group ``"<root>"``), ``"tensor"`` (each tensor alone) or
            ``{group: [parameter names]}``.
        seed: seeds the minibatch order.
        init_seed: ``None`` starts from the model's own parameters (times ``init_scale``);
            an int draws the base weights afresh: LeCun normal ``N(0, 1/fan_in)`` for
            tensors of rank 2 and above, zeros for biases.
        dtype: floating dtype of weights and inputs.
        divergence_factor: training has diverged when a minibatch loss is not finite or
            exceeds ``divergence_factor * max(1, first minibatch loss)``.

    Example:
        >>> import torch
        >>> gen = torch.Generator().manual_seed(0)
        >>> X, y = torch.randn(40, 3, generator=gen), torch.arange(40) % 2
        >>> problem = TrainingProblem(torch.nn.Linear(3, 2), (X, y), (X, y), n_steps=10,
        ...                           batch_size=8, init_seed=0)
        >>> result = problem.train(Hyperparameters.create(lr=0.5, momentum=0.5))
        >>> result.value < 0.8, result.diverged
        (True, False)
    """

    def __init__(
        self,
        model: nn.Module,
        train_data: tuple[Any, Any],
        val_data: tuple[Any, Any],
        *,
        n_steps: int,
        batch_size: int | None = None,
        loss: LossFn = nn.functional.cross_entropy,
        val_loss: LossFn | None = None,
        groups: str | Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
        init_seed: int | None = None,
        dtype: torch.dtype = torch.float64,
        divergence_factor: float = 100.0,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"`model` must be a torch.nn.Module, but got {type(model)}.")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"`dtype` must be a floating torch.dtype, but got {dtype!r}.")
        if not isinstance(n_steps, numbers.Integral) or isinstance(n_steps, bool):
            raise TypeError(f"`n_steps` must be an int, but got {n_steps!r}.")
        if n_steps < 1:
            raise ValueError(f"`n_steps >= 1` must hold, but got n_steps={n_steps}.")
        for name, s in (("seed", seed), ("init_seed", init_seed)):
            if s is None and name == "init_seed":
                continue
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 0:
                raise ValueError(f"`{name}` must be an int >= 0, but got {s!r}.")
        if not callable(loss) or (val_loss is not None and not callable(val_loss)):
            raise TypeError("`loss` and `val_loss` must be callables (outputs, targets) -> scalar.")
        if not isinstance(divergence_factor, numbers.Real) or not divergence_factor > 1:
            raise ValueError(f"`divergence_factor > 1` must hold, but got {divergence_factor!r}.")
        self.model = model
        self.dtype = dtype
        self.n_steps = int(n_steps)
        self.train_data = _as_data("train_data", train_data, dtype)
        self.val_data = _as_data("val_data", val_data, dtype)
        n_train = len(self.train_data[0])
        if batch_size is not None:
            if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool):
                raise TypeError(f"`batch_size` must be an int or None, but got {batch_size!r}.")
            if not 1 <= batch_size <= n_train:
                raise ValueError(
                    f"`1 <= batch_size <= n_train` must hold, but got {batch_size=}, {n_train=}."
                )
        self.batch_size = None if batch_size is None else int(batch_size)
        self.loss = loss
        self.val_loss = loss if val_loss is None else val_loss
        self.seed = int(seed)
        self.init_seed = None if init_seed is None else int(init_seed)
        self.divergence_factor = float(divergence_factor)
        self._groups_arg = groups
        self._kwargs = dict(
            n_steps=n_steps, batch_size=batch_size, loss=loss, val_loss=val_loss, groups=groups,
            seed=seed, init_seed=init_seed, dtype=dtype, divergence_factor=divergence_factor,
        )  # fmt: skip

        params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not params:
            raise ValueError("`model` must have at least one parameter that requires grad.")
        self.param_names = [n for n, _ in params]
        self._shapes = [p.shape for _, p in params]
        self._sizes = [p.numel() for _, p in params]
        self.n_params = sum(self._sizes)
        self.group_names, tensor_group = _resolve_groups(self.param_names, groups)
        self.group_of = torch.repeat_interleave(
            torch.tensor(tensor_group), torch.tensor(self._sizes)
        )
        self._buffers = {
            n: (b.to(dtype) if b.is_floating_point() else b).detach()
            for n, b in model.named_buffers()
        }
        self._frozen = {
            n: p.detach().to(dtype) for n, p in model.named_parameters() if not p.requires_grad
        }
        self.w_base = self._base_weights(params)
        self._batches = self._draw_batches()
        self._grad_and_loss = grad_and_value(self._batch_loss)

    @property
    def n_groups(self) -> int:
        """Number of parameter groups."""
        return len(self.group_names)

    def replace(self, **changes: Any) -> TrainingProblem:
        """The same problem with some keyword arguments changed (e.g. ``seed``, ``init_seed``)."""
        unknown = set(changes) - set(self._kwargs)
        if unknown:
            raise ValueError(f"cannot replace {sorted(unknown)}; options: {sorted(self._kwargs)}.")
        return TrainingProblem(
            self.model, self.train_data, self.val_data, **{**self._kwargs, **changes}
        )

    # Set-up ------------------------------------------------------------------------------
    def _base_weights(self, params: list[tuple[str, nn.Parameter]]) -> Tensor:
        if self.init_seed is None:
            return torch.cat([p.detach().to(self.dtype).reshape(-1) for _, p in params])
        gen = torch.Generator().manual_seed(derive_seed(self.init_seed, 1))
        parts = []
        for shape, size in zip(self._shapes, self._sizes, strict=True):
            if len(shape) >= 2:
                fan_in = math.prod(shape[1:])
                parts.append(torch.randn(size, generator=gen, dtype=torch.float64) / fan_in**0.5)
            else:
                parts.append(torch.zeros(size, dtype=torch.float64))
        return torch.cat(parts).to(self.dtype)  # drawn in float64: the same start in any dtype

    def _draw_batches(self) -> Tensor | None:
        """``T x batch_size`` example indices: consecutive slices of seeded permutations."""
        if self.batch_size is None:
            return None
        n = len(self.train_data[0])
        gen = torch.Generator().manual_seed(derive_seed(self.seed, 2))
        need = self.n_steps * self.batch_size
        perms = [torch.randperm(n, generator=gen) for _ in range(-(-need // n))]
        return torch.cat(perms)[:need].reshape(self.n_steps, self.batch_size)

    # Model evaluation --------------------------------------------------------------------
    def unflatten(self, w: Tensor) -> dict[str, Tensor]:
        """``P`` weights -> ``{parameter name: tensor}`` (views of ``w``)."""
        chunks = torch.split(w, self._sizes)
        out = {n: c.view(s) for n, c, s in zip(self.param_names, chunks, self._shapes, strict=True)}
        return {**self._frozen, **out}

    def predict(self, w: Tensor, X: Tensor) -> Tensor:
        """Model outputs for inputs ``X`` at flat weights ``w`` (``P``)."""
        # Buffers are copied per call: in-place updates (BatchNorm's running statistics in
        # train mode) then never change them, and torch.func transforms allow them.
        buffers = {n: b.clone() for n, b in self._buffers.items()}
        return functional_call(self.model, {**self.unflatten(w), **buffers}, (X,))

    def batch(self, t: int) -> tuple[Tensor, Tensor]:
        """The minibatch of step ``t``."""
        X, y = self.train_data
        if self._batches is None:
            return X, y
        idx = self._batches[t]
        return X[idx], y[idx]

    def _batch_loss(self, w: Tensor, X: Tensor, y: Tensor) -> Tensor:
        return self.loss(self.predict(w, X), y)

    def validation_loss(self, w: Tensor) -> Tensor:
        """The validation objective at flat weights ``w`` (a differentiable scalar)."""
        X, y = self.val_data
        return self.val_loss(self.predict(w, X), y)

    def grad_and_loss(self, w: Tensor, t: int) -> tuple[Tensor, Tensor]:
        """Gradient (``P``) and value of the minibatch loss of step ``t`` (no weight decay)."""
        X, y = self.batch(t)
        return self._grad_and_loss(w, X, y)

    # Hyperparameters ---------------------------------------------------------------------
    def check(self, hypers: Hyperparameters) -> None:
        """Raise ``ValueError`` unless ``hypers`` fits this problem's steps and groups."""
        if not isinstance(hypers, Hyperparameters):
            raise TypeError(f"`hypers` must be a Hyperparameters, but got {type(hypers)}.")
        for name in FIELDS:
            t = hypers.raw[name]
            cols = t.shape[-1]
            if cols not in (1, self.n_groups):
                raise ValueError(
                    f"`{name}` must have 1 or n_groups={self.n_groups} columns (groups "
                    f"{self.group_names}), but has {cols}."
                )
            if t.ndim == 2 and not 1 <= t.shape[0] <= self.n_steps:
                raise ValueError(
                    f"`{name}` must have 1 <= blocks <= n_steps={self.n_steps} rows, "
                    f"but has {t.shape[0]}."
                )
        init = hypers.init
        if init is not None and init.numel() != self.n_params:
            raise ValueError(
                f"`init` must hold n_params={self.n_params} initial weights, but has "
                f"{init.numel()}."
            )

    def schedule(self, raw: Mapping[str, Tensor]) -> Schedule:
        """Natural values per step from raw tensors (differentiable in ``raw``)."""
        out = {}
        for name in FIELDS:
            value = Hyperparameters.natural_of(name, raw[name]).to(self.dtype)
            if value.ndim == 2:
                value = value[block_index(value.shape[0], self.n_steps)]
            out[name] = value
        init = raw.get("init")
        return Schedule(**out, init=None if init is None else init.to(self.dtype))

    def per_element(self, row: Tensor) -> Tensor:
        """A ``G`` or ``1`` vector of group values -> ``P`` (or broadcastable ``1``)."""
        return row if row.numel() == 1 else row[self.group_of]

    def per_group(self, vec: Tensor, n_cols: int) -> Tensor:
        """Sum a ``P`` vector over groups: ``n_cols`` (1 or ``G``) values."""
        if n_cols == 1:
            return vec.sum().reshape(1)
        return torch.zeros(n_cols, dtype=vec.dtype).index_add_(0, self.group_of, vec)

    # Training ----------------------------------------------------------------------------
    def initial_state(self, sched: Schedule) -> tuple[Tensor, Tensor]:
        """``(w_0, v_0)``: ``w_0 = init_scale * init`` (``w_base`` without ``init``)."""
        base = self.w_base if sched.init is None else sched.init
        w = self.per_element(sched.init_scale) * base
        return w, torch.zeros_like(w)

    def watch(self) -> Callable[[int, float], str | None]:
        """A divergence detector: call it with ``(t, loss_t)`` each step, in order.

        It returns ``None`` while training is fine, else the reason it diverged: the loss is
        not finite or exceeds ``divergence_factor * max(1, loss_0)``.
        """
        limit = math.inf

        def check(t: int, loss: float) -> str | None:
            nonlocal limit
            if not math.isfinite(loss):
                return "loss not finite"
            if t == 0:
                limit = self.divergence_factor * max(1.0, loss)
            return f"loss {loss:.4g} above {limit:.4g}" if loss > limit else None

        return check

    def step(self, w: Tensor, v: Tensor, t: int, sched: Schedule) -> tuple[Tensor, Tensor, float]:
        """One SGD-with-momentum step from ``(w_t, v_t)``: ``(w_{t+1}, v_{t+1}, loss_t)``."""
        g, loss = self.grad_and_loss(w, t)
        g = g + self.per_element(sched.weight_decay) * w
        m = self.per_element(sched.momentum[t])
        v = m * v - (1 - m) * g
        return w + self.per_element(sched.lr[t]) * v, v, float(loss)

    def forward(
        self,
        sched: Schedule,
        *,
        checkpoint_every: int | None = None,
        on_store: Callable[[int], None] | None = None,
    ) -> tuple[Tensor, dict[int, tuple[Tensor, Tensor]], Tensor, Divergence | None]:
        """Train for ``T`` steps (no autograd graph).

        Returns:
            ``(w_T, checkpoints, losses, divergence)``: ``checkpoints`` maps ``t`` (every
            ``checkpoint_every``-th step) to ``(w_t, v_t)``; ``losses`` are ``T'`` minibatch
            losses; ``divergence`` is ``None`` unless training diverged (then ``w_T`` is the
            last finite state).
        """
        with torch.no_grad():
            w, v = self.initial_state(sched)
        checkpoints: dict[int, tuple[Tensor, Tensor]] = {}
        losses: list[float] = []
        watch = self.watch()
        for t in range(self.n_steps):
            if checkpoint_every is not None and t % checkpoint_every == 0:
                checkpoints[t] = (w, v)
                if on_store is not None:
                    on_store(t)
            w_new, v_new, loss = self.step(w, v, t, sched)
            losses.append(loss)
            why = watch(t, loss)
            if why is not None:
                return w, checkpoints, torch.tensor(losses), Divergence(t, why)
            w, v = w_new, v_new
        div = (
            None
            if bool(torch.isfinite(w).all())
            else Divergence(self.n_steps, "weights not finite")
        )
        return w, checkpoints, torch.tensor(losses), div

    def train(self, hypers: Hyperparameters) -> TrainResult:
        """Train with ``hypers`` and evaluate the validation loss.

        Args:
            hypers: the hyperparameters (checked against this problem).

        Returns:
            A ``TrainResult``; a diverged run has ``value=inf`` and ``diverged=True``.
        """
        self.check(hypers)
        sched = self.schedule(hypers.raw)
        w, _, losses, div = self.forward(sched)
        if div is None:
            with torch.no_grad():
                value = float(self.validation_loss(w))
            if math.isfinite(value):
                return TrainResult(value, w, losses)
            div = Divergence(self.n_steps, "validation loss not finite")
        return TrainResult(math.inf, None, losses, True, div.step, div.reason)

    def __repr__(self) -> str:
        return (
            f"TrainingProblem(model={type(self.model).__name__}, n_params={self.n_params}, "
            f"n_steps={self.n_steps}, batch_size={self.batch_size}, groups={self.group_names})"
        )
