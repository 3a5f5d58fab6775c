"""Exact hypergradients of the validation loss through a whole SGD-with-momentum run.

Two methods compute the same number:

* ``"unroll"``: plain reverse-mode autograd through the training loop (``create_graph``),
  so the graph holds every step: memory grows linearly with the number of steps ``T``.
* ``"reverse"``: Algorithm 2 of Maclaurin, Duvenaud & Adams (2015). Training runs forward
  without a graph, storing ``(w_t, v_t)`` every ``k`` steps; then SGD is run backwards,
  one segment of ``k`` steps at a time: the segment's states are recomputed forward from its
  checkpoint, and each step is reversed with a Hessian-vector product from ``torch.func``
  (``vjp`` of ``grad``). With ``k = ceil(sqrt(T))`` at most about ``2 sqrt(T)`` states are
  held at once; ``k = 1`` stores the whole trajectory. States are stored or recomputed,
  not recovered by reversing the arithmetic, so the result equals ``"unroll"`` up to
  rounding in any dtype (the paper's exactly reversible fixed-point arithmetic, which
  needs no checkpoints, is not implemented).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import grad, grad_and_value, vjp

from bayesopt.hypergrad.hyper import FIELDS, OPTIONAL, Hyperparameters
from bayesopt.hypergrad.problem import Schedule, TrainingProblem

__all__ = ["METHODS", "Hypergradient", "hypergradient"]

METHODS = ("reverse", "unroll")


@dataclass(frozen=True)
class Hypergradient:
    """The validation loss after training and its gradient in the raw hyperparameters.

    Attributes:
        value: validation loss after ``T`` steps (``inf`` if training diverged).
        grad: ``{name: d value / d raw[name]}``, shaped like ``Hyperparameters.raw``
            (derivatives in ``log lr``, ``logit momentum``, ``log weight_decay`` and
            ``log init_scale``, and in the ``P`` initial weights when ``init`` is given);
            ``None`` when ``diverged``.
        diverged: training diverged, or the hypergradient is not finite.
        diverged_at: the step at which divergence was detected (``T`` for the end).
        reason: what diverged, in words.
        method: ``"reverse"`` or ``"unroll"``.
        checkpoint_every: ``k`` of ``"reverse"``; ``None`` for ``"unroll"``.
        peak_states: most ``(w, v)`` state pairs held at once (``"reverse"`` only).
        stored_bytes: peak bytes held for the backward pass: the ``(w, v)`` states of
            ``"reverse"``, or the live tensors the autograd graph of ``"unroll"`` saved
            (counted with ``torch.autograd.graph.saved_tensors_hooks``). Transient buffers
            of a single step are not counted.
        train_losses: ``T'`` minibatch losses of the training run.
        seconds: wall time of the call.
    """

    value: float
    grad: dict[str, Tensor] | None
    diverged: bool
    diverged_at: int | None
    reason: str | None
    method: str
    checkpoint_every: int | None
    peak_states: int | None
    stored_bytes: int
    train_losses: Tensor
    seconds: float

    def flat(self) -> Tensor:
        """All gradient entries in ``FIELDS`` order, then ``init`` when present, flattened
        (``n_values``)."""
        if self.grad is None:
            raise ValueError("no gradient: training diverged.")
        return torch.cat([self.grad[n].reshape(-1) for n in (*FIELDS, *OPTIONAL) if n in self.grad])


def hypergradient(
    problem: TrainingProblem,
    hypers: Hyperparameters,
    *,
    method: str = "reverse",
    checkpoint_every: int | None = None,
) -> Hypergradient:
    """Validation loss after training with ``hypers``, and its exact gradient.

    Args:
        problem: the training problem.
        hypers: where to differentiate.
        method: ``"reverse"`` (checkpointed reverse SGD, memory ``O(sqrt T)``) or
            ``"unroll"`` (autograd through the loop, memory ``O(T)``).
        checkpoint_every: ``k`` for ``"reverse"``: store ``(w_t, v_t)`` every ``k`` steps;
            ``None`` picks ``ceil(sqrt(T))``, ``1`` stores the whole trajectory.

    Returns:
        A ``Hypergradient``. Divergence is reported (``diverged=True``, ``grad=None``), never
        propagated as NaN.

    Example:
        >>> import torch
        >>> from bayesopt.hypergrad import Hyperparameters, TrainingProblem
        >>> gen = torch.Generator().manual_seed(0)
        >>> X, y = torch.randn(30, 3, generator=gen), torch.arange(30) % 3
        >>> problem = TrainingProblem(torch.nn.Linear(3, 3), (X, y), (X, y), n_steps=8,
        ...                           init_seed=0)
        >>> h = Hyperparameters.create(lr=0.3, momentum=0.5, weight_decay=1e-2)
        >>> a = hypergradient(problem, h, method="reverse")
        >>> b = hypergradient(problem, h, method="unroll")
        >>> torch.allclose(a.flat(), b.flat(), rtol=1e-9, atol=1e-12)
        True
    """
    if not isinstance(problem, TrainingProblem):
        raise TypeError(f"`problem` must be a TrainingProblem, but got {type(problem)}.")
    problem.check(hypers)
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, but got {method!r}.")
    if checkpoint_every is not None:
        if not isinstance(checkpoint_every, numbers.Integral) or isinstance(checkpoint_every, bool):
            raise TypeError(f"`checkpoint_every` must be an int or None, got {checkpoint_every!r}.")
        if checkpoint_every < 1:
            raise ValueError(f"`checkpoint_every >= 1` must hold, but got {checkpoint_every}.")
        if method == "unroll":
            raise ValueError("`checkpoint_every` applies to method='reverse' only.")
    start = time.perf_counter()
    if method == "unroll":
        out = _unroll(problem, hypers)
    else:
        k = checkpoint_every or math.ceil(math.sqrt(problem.n_steps))
        out = _reverse(problem, hypers, min(k, problem.n_steps))
    return _finish(out, time.perf_counter() - start)


# -- shared pieces ------------------------------------------------------------------------


@dataclass
class _Raw:
    """What a method returns before the finishing touches."""

    value: float
    grad: dict[str, Tensor] | None
    diverged_at: int | None
    reason: str | None
    method: str
    checkpoint_every: int | None
    peak_states: int | None
    stored_bytes: int
    train_losses: Tensor


def _finish(out: _Raw, seconds: float) -> Hypergradient:
    finite = out.grad is None or all(bool(torch.isfinite(g).all()) for g in out.grad.values())
    if out.reason is None and not finite:
        out.grad, out.reason, out.diverged_at = None, "hypergradient not finite", None
    diverged = out.reason is not None
    return Hypergradient(
        value=out.value if not diverged or math.isfinite(out.value) else math.inf,
        grad=None if diverged else out.grad,
        diverged=diverged,
        diverged_at=out.diverged_at,
        reason=out.reason,
        method=out.method,
        checkpoint_every=out.checkpoint_every,
        peak_states=out.peak_states,
        stored_bytes=out.stored_bytes,
        train_losses=out.train_losses,
        seconds=seconds,
    )


def _leaves(hypers: Hyperparameters) -> dict[str, Tensor]:
    return {n: hypers.raw[n].detach().clone().requires_grad_() for n in hypers.names}


def _chain(
    problem: TrainingProblem, hypers: Hyperparameters, d_sched: Schedule
) -> dict[str, Tensor]:
    """Gradients in natural per-step values -> gradients in the raw tensors."""
    leaves = _leaves(hypers)
    names = list(leaves)
    with torch.enable_grad():
        sched = problem.schedule(leaves)
        pairs = [(s, d) for s, d in zip(sched, d_sched, strict=True) if s is not None]
        grads = torch.autograd.grad(
            [s for s, _ in pairs],
            [leaves[n] for n in names],
            grad_outputs=[d for _, d in pairs],
            allow_unused=True,
        )
    return {
        n: torch.zeros_like(leaves[n]) if g is None else g
        for n, g in zip(names, grads, strict=True)
    }


# -- unroll -------------------------------------------------------------------------------


class _SavedBytes:
    """Live bytes of the tensors autograd saved for backward, and their peak.

    Used as ``saved_tensors_hooks``: each saved tensor is wrapped in a holder that the graph
    keeps; a storage counts while at least one holder of it is alive.
    """

    def __init__(self) -> None:
        self.live: dict[int, list[int]] = {}  # storage pointer -> [holders, bytes]
        self.now = 0
        self.peak = 0

    def pack(self, t: Tensor) -> _Held:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        entry = self.live.setdefault(key, [0, storage.nbytes()])
        if entry[0] == 0:
            self.now += entry[1]
            self.peak = max(self.peak, self.now)
        entry[0] += 1
        return _Held(t, self, key)

    def release(self, key: int) -> None:
        entry = self.live[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.now -= entry[1]
            del self.live[key]

    @staticmethod
    def unpack(held: _Held) -> Tensor:
        return held.tensor


class _Held:
    __slots__ = ("key", "ledger", "tensor")

    def __init__(self, tensor: Tensor, ledger: _SavedBytes, key: int) -> None:
        self.tensor, self.ledger, self.key = tensor, ledger, key

    def __del__(self) -> None:
        self.ledger.release(self.key)


def _unroll(problem: TrainingProblem, hypers: Hyperparameters) -> _Raw:
    leaves = _leaves(hypers)
    saved = _SavedBytes()

    def raw(value: float, grads: dict | None, step: int | None, reason: str | None) -> _Raw:
        return _Raw(
            value, grads, step, reason, "unroll", None, None, saved.peak, torch.tensor(losses)
        )

    losses: list[float] = []
    watch = problem.watch()
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack):
        sched = problem.schedule(leaves)
        w, v = problem.initial_state(sched)
        lam = problem.per_element(sched.weight_decay)
        for t in range(problem.n_steps):
            X, y = problem.batch(t)
            loss = problem.loss(problem.predict(w, X), y)
            losses.append(float(loss.detach()))
            why = watch(t, losses[-1])
            if why is not None:
                return raw(math.inf, None, t, why)
            (g,) = torch.autograd.grad(loss, w, create_graph=True)
            g = g + lam * w
            m = problem.per_element(sched.momentum[t])
            v = m * v - (1 - m) * g
            w = w + problem.per_element(sched.lr[t]) * v
        if not bool(torch.isfinite(w).all()):
            return raw(math.inf, None, problem.n_steps, "weights not finite")
        f = problem.validation_loss(w)
    if not math.isfinite(float(f.detach())):
        return raw(math.inf, None, problem.n_steps, "validation loss not finite")
    names = list(leaves)
    grads = torch.autograd.grad(f, [leaves[n] for n in names], allow_unused=True)
    out = {
        n: torch.zeros_like(leaves[n]) if g is None else g
        for n, g in zip(names, grads, strict=True)
    }
    return raw(float(f.detach()), out, None, None)


# -- reverse (Algorithm 2 with checkpoints) -----------------------------------------------


class _Ledger:
    """Counts the ``(w, v)`` states held at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def add(self, n: int = 1) -> None:
        self.now += n
        self.peak = max(self.peak, self.now)

    def drop(self, n: int = 1) -> None:
        self.now -= n


def _reverse(problem: TrainingProblem, hypers: Hyperparameters, k: int) -> _Raw:
    """Algorithm 2, with adjoints ``dw = df/dw_{t+1}``, ``dv = df/dv_{t+1}``. Step ``t``
    (``v' = m v - (1 - m) g(w)``, ``w' = w + a v'``) is reversed as

        d lr_t  = dw . v'              dv <- dv + a dw
        d m_t   = dv . (v + g)         u  = (1 - m) dv
        dw     <- dw - (H + diag(lam)) u,   d lam -= w . u,   dv <- m dv

    with ``H`` the minibatch Hessian at ``w_t`` (a ``vjp`` of ``grad``); per-element values
    are summed per group. Natural per-step gradients are chained to the raw tensors last.
    """
    T = problem.n_steps
    with torch.no_grad():
        sched = problem.schedule(hypers.raw)
    ledger = _Ledger()
    state_bytes = 2 * problem.n_params * problem.w_base.element_size()
    w_T, ckpts, losses, div = problem.forward(
        sched, checkpoint_every=k, on_store=lambda _t: ledger.add()
    )

    def raw(value: float, grads: dict | None, step: int | None, reason: str | None) -> _Raw:
        return _Raw(
            value, grads, step, reason, "reverse", k, ledger.peak, ledger.peak * state_bytes,
            losses,
        )  # fmt: skip

    if div is not None:
        return raw(math.inf, None, div.step, div.reason)
    dw, f = grad_and_value(problem.validation_loss)(w_T)
    del w_T
    if not math.isfinite(float(f)):
        return raw(math.inf, None, T, "validation loss not finite")

    dtype = problem.dtype
    d_lr = torch.zeros(T, sched.lr.shape[1], dtype=dtype)
    d_m = torch.zeros(T, sched.momentum.shape[1], dtype=dtype)
    d_wd = torch.zeros(sched.weight_decay.shape[0], dtype=dtype)
    dv = torch.zeros_like(dw)
    lam = problem.per_element(sched.weight_decay)
    grad_fn = grad(problem._batch_loss)

    for start in sorted(ckpts, reverse=True):
        end = min(start + k, T)
        w, v = ckpts.pop(start)
        segment = [(w, v)]
        with torch.no_grad():
            for t in range(start, end - 1):  # recompute the segment from its checkpoint
                w, v, _ = problem.step(w, v, t, sched)
                segment.append((w, v))
                ledger.add()
        for t in range(end - 1, start - 1, -1):
            w_t, v_t = segment.pop()
            X, y = problem.batch(t)
            g, hvp = vjp(lambda u, X=X, y=y: grad_fn(u, X, y), w_t)
            with torch.no_grad():
                g = g + lam * w_t
                m = problem.per_element(sched.momentum[t])
                a = problem.per_element(sched.lr[t])
                v_next = m * v_t - (1 - m) * g
                d_lr[t] = problem.per_group(dw * v_next, d_lr.shape[1])
                dv = dv + a * dw
                d_m[t] = problem.per_group(dv * (v_t + g), d_m.shape[1])
                # v_{t+1} depends on w_t through -(1 - m) * (H w_t + lam * w_t); the
                # adjoint applies (H + diag(lam)) to u = (1 - m) * dv (diagonals first).
                u = (1 - m) * dv
                (h_u,) = hvp(u)
                dw = dw - h_u - lam * u
                d_wd -= problem.per_group(w_t * u, d_wd.shape[0])
                dv = m * dv
            del w_t, v_t
            ledger.drop()
    # w_0 = s * base: the adjoint dw of w_0 gives d s = sum over a group of dw * base, and
    # d init = s * dw (init, when given, is the base).
    base = problem.w_base if sched.init is None else sched.init
    d_s = problem.per_group(dw * base, sched.init_scale.shape[0])
    d_init = None if sched.init is None else problem.per_element(sched.init_scale) * dw
    grads = _chain(problem, hypers, Schedule(d_lr, d_m, d_wd, d_s, d_init))
    return raw(float(f), grads, None, None)
