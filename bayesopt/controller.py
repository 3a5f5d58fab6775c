"""A REINFORCE-trained controller with the ask/tell interface (Zoph & Le, 2017).

The controller is a policy over the search space: it samples one parameter after another
in the space's order, each choice conditioned on the previous ones. After every ``batch``
finished trials it takes one policy-gradient step that makes the children with a high
reward more likely (REINFORCE with a moving-average baseline and an entropy bonus).

**Policies** (``policy=``): ``"lstm"`` (default, as in the paper) or ``"gru"``, a recurrent
cell that reads the embedding of the previous choice; ``"mlp"``, a one-hidden-layer network
that reads the embeddings of all previous choices (zeros for those not made yet); and
``"independent"``, one free distribution per parameter, no conditioning.

**Heads.** A categorical parameter, and an integer with at most ``max_choices`` values, get
a softmax over its values. A wider integer, and a real, get a softmax over ``bins``
equal-width bins of its unit coordinate (log scale for log parameters), the point then
uniform within the bin (an integer rounded). With ``real_head="gaussian"`` a real instead
gets a logit-normal head: ``u = sigmoid(y)``, ``y ~ N(mu, sigma)``, both from the network.

**Rewards.** The reward of a trial is minus its value (its value with ``maximize=True``).
A failed or pruned trial gets the worst reward seen so far. ``reward=`` sets the
advantage that multiplies ``grad log p(child)``:

- ``"normalized"`` (default): ``(r - b) / s``, with ``b`` the exponential moving average
  (EMA, decay ``baseline_decay``) of the batches' mean rewards and ``s**2`` the EMA of the
  mean squared deviation from it, both as they were before the batch (the first batch
  uses its own mean and spread). Scale-free: an objective's units do not change the step.
- ``"value"``: ``r - b``, the paper's form; the step scales with the objective.
- ``"rank"``: the centred rank of ``r`` within the batch, in ``[-0.5, 0.5]``; ignores the
  baseline and every outlier.

The loss of a batch of ``B`` children is ``-(1/B) sum_i A_i log p(a_i) - entropy_weight *
(1/B) sum_i H_i``, with ``H_i`` the summed entropies of the per-parameter distributions met
while generating child ``i``; one Adam step of learning rate ``lr`` follows.

**State.** The weights are not stored in the journal: they are a pure function of the
seed and the history. The updates consume the finished trials (complete, failed or
pruned; whoever proposed them: enqueued and added trials count too) in id order, ``batch``
at a time; a batch starts only when it is full. The proposer keeps the trained policy as a
cache and extends it as trials finish; when the finished trials are no longer an extension
of what it consumed (a trial with a lower id finished late), it retrains from the seed.
Replay is cheap: the default LSTM on a space of 7 categoricals takes about 4.4 ms of CPU
per update, so a study of 1,000 trials (125 updates at ``batch=8``) is replayed in 0.55 s
(one thread of a 2-core x86-64 VM, 2026-11-30). That is why the weights are not
checkpointed to a side file. Everything runs in float64 on one CPU thread, with generators
seeded from the study's seed (initial weights) and each ask's seed (samples), so a study
resumed from its journal asks exactly what the uninterrupted one would have.

Example:
    >>> import bayesopt as bo
    >>> from bayesopt.controller import ControllerSearch
    >>> space = bo.Space({"k": bo.Integer(0, 4), "c": bo.Categorical(["a", "b"])})
    >>> ctl = ControllerSearch(space, seed=0, batch=4)
    >>> for _ in range(80):
    ...     t = ctl.ask()
    ...     _ = ctl.tell(t, abs(t.params["k"] - 3) + (t.params["c"] == "a"))
    >>> ctl.best.value
    0.0
"""

from __future__ import annotations

import copy
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bayesopt._rng import derive_seed
from bayesopt._threads import limited_threads
from bayesopt.asktell import AskTell
from bayesopt.evolution import TRIES, Distinct
from bayesopt.history import History
from bayesopt.parameters import Categorical, Integer, Real
from bayesopt.proposal import Request
from bayesopt.pruners import Pruner
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Source, TrialState

__all__ = ["ControllerSearch", "Head", "Policy", "heads_of", "reinforce_loss"]

POLICIES = ("lstm", "gru", "mlp", "independent")
REWARDS = ("normalized", "value", "rank")
REAL_HEADS = ("bins", "gaussian")
LOG_SIGMA = (-5.0, 2.0)
"""Bounds of a Gaussian head's ``log sigma`` (in the logit of the unit coordinate)."""
EPS = 1e-6
"""A Gaussian head's unit coordinate is kept in ``[EPS, 1 - EPS]`` before its logit."""


# Heads -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Head:
    """How the policy chooses one parameter.

    Attributes:
        name: the parameter.
        kind: ``"values"`` (one outcome per value), ``"bins"`` (equal-width bins of the
            unit coordinate) or ``"gaussian"`` (logit-normal unit coordinate).
        size: the number of outcomes (0 for ``"gaussian"``).
    """

    name: str
    kind: str
    size: int

    def action(self, p: Real | Integer | Categorical, value: Any) -> float:
        """The action that produced ``value``: an outcome index, or a Gaussian's logit."""
        if self.kind == "values":
            if isinstance(p, Categorical):
                return float(p.index(value))  # type: ignore[arg-type]
            return float(value - p.low)  # type: ignore[union-attr]
        u = p._encode(value)
        if self.kind == "bins":
            return float(min(max(math.floor(u * self.size), 0), self.size - 1))
        u = min(max(u, EPS), 1.0 - EPS)
        return math.log(u) - math.log1p(-u)

    def unit(self, p: Real | Integer | Categorical, action: float, r: float) -> float:
        """The unit coordinate of an action; ``r`` in ``[0, 1)`` places it within a bin."""
        if self.kind == "values":
            if isinstance(p, Categorical):
                return (action + 0.5) / self.size
            return p._encode(p.low + int(action))  # type: ignore[union-attr]
        if self.kind == "bins":
            return (action + r) / self.size
        return 1.0 / (1.0 + math.exp(-action))


def heads_of(space: Space, bins: int = 16, max_choices: int = 32, real_head: str = "bins"):
    """The head of every parameter of ``space``, in order (see the module docstring).

    Example:
        >>> heads_of(Space({"x": Real(0, 1), "k": Integer(1, 100)}), bins=8)
        [Head(name='x', kind='bins', size=8), Head(name='k', kind='bins', size=8)]
    """
    out = []
    for name, p in space.items():
        if isinstance(p, Categorical) or (isinstance(p, Integer) and p.n_values <= max_choices):
            out.append(Head(name, "values", p.n_values))  # type: ignore[arg-type]
        elif isinstance(p, Real) and real_head == "gaussian":
            out.append(Head(name, "gaussian", 0))
        else:
            out.append(Head(name, "bins", bins))
    return out


# The policy --------------------------------------------------------------------------------
def _param(shape: tuple[int, ...], bound: float, g: torch.Generator) -> torch.nn.Parameter:
    """A parameter drawn uniformly in ``+-bound`` (``0`` when ``bound`` is 0)."""
    t = torch.zeros(shape, dtype=DTYPE)
    if bound:
        t.uniform_(-bound, bound, generator=g)
    return torch.nn.Parameter(t)


class Policy(torch.nn.Module):
    """An autoregressive distribution over children: one head per parameter, in order.

    Args:
        sizes: per parameter, its number of outcomes, or 0 for a Gaussian head.
        kind: ``"lstm"``, ``"gru"``, ``"mlp"`` or ``"independent"``.
        hidden: width of the hidden state (and of the choice embeddings).
        seed: seeds the initial weights. Output layers start at zero, so a new policy
            is uniform over every categorical head (random search).

    Example:
        >>> pi = Policy([3, 2], kind="lstm", hidden=8, seed=0)
        >>> actions, log_p, entropy = pi.run(4, generator=torch.Generator().manual_seed(0))
        >>> actions.shape, [round(p, 4) for p in log_p.exp().tolist()]
        (torch.Size([4, 2]), [0.1667, 0.1667, 0.1667, 0.1667])
    """

    def __init__(
        self, sizes: Sequence[int], *, kind: str = "lstm", hidden: int = 32, seed: int = 0
    ):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.sizes = tuple(int(k) for k in sizes)
        self.kind, self.hidden = kind, hidden
        d, h = len(self.sizes), hidden
        bound = 1.0 / math.sqrt(h)
        outs = [max(k, 2) for k in self.sizes]  # a Gaussian head outputs (mu, log sigma)
        log_sigma0 = math.log(1.5)  # logit-normal with sigma 1.5: close to uniform on (0, 1)
        bias0 = [
            torch.tensor([0.0, log_sigma0], dtype=DTYPE) if k == 0 else None for k in self.sizes
        ]
        if kind == "independent":
            self.out_b = torch.nn.ParameterList(
                [
                    torch.nn.Parameter(
                        b0.clone() if b0 is not None else torch.zeros(o, dtype=DTYPE)
                    )
                    for o, b0 in zip(outs, bias0, strict=True)
                ]
            )
            return
        # The embedding of each choice: a row per outcome, or (weight, bias) of a Gaussian.
        self.embed = torch.nn.ParameterList([_param((max(k, 2), h), 1.0, g) for k in self.sizes])
        self.start = _param((h,), 1.0, g)
        if kind in ("lstm", "gru"):
            gates = 4 if kind == "lstm" else 3
            self.w_x = _param((h, gates * h), bound, g)
            self.w_h = _param((h, gates * h), bound, g)
            self.b_x = _param((gates * h,), bound, g)
            self.b_h = _param((gates * h,), bound, g)
        else:
            self.w1 = _param((d * h, h), 1.0 / math.sqrt(d * h), g)
            self.b1 = _param((h,), 1.0 / math.sqrt(d * h), g)
        self.out_w = torch.nn.ParameterList([_param((h, o), 0.0, g) for o in outs])
        self.out_b = torch.nn.ParameterList(
            [
                torch.nn.Parameter(b0.clone() if b0 is not None else torch.zeros(o, dtype=DTYPE))
                for o, b0 in zip(outs, bias0, strict=True)
            ]
        )

    def _cell(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        """One recurrent step: ``(h, c)`` after reading ``x`` (``n x hidden`` each)."""
        gx = x @ self.w_x + self.b_x
        gh = h @ self.w_h + self.b_h
        if self.kind == "lstm":
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        rx, zx, nx = gx.chunk(3, dim=-1)
        rh, zh, nh = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
        new = torch.tanh(nx + r * nh)
        return (1 - z) * new + z * h, c

    def run(
        self,
        n: int,
        actions: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample ``n`` children (``actions=None``), or score the given ones.

        Args:
            n: the number of children.
            actions: ``n x d`` actions to score (outcome indices as floats; a Gaussian
                head's logit), or ``None`` to sample them from ``generator``.
            generator: the source of the samples.
            mask: ``n x d`` booleans, false where a choice did not matter (an inactive
                conditional parameter): its log-probability and entropy are left out.

        Returns:
            ``(actions, log_p, entropy)``: ``n x d`` actions; ``n`` log-probabilities
            (densities for Gaussian heads, in the logit); ``n`` sums of the entropies of
            the per-parameter distributions met along each child.
        """
        d, h = len(self.sizes), self.hidden
        taken = torch.zeros(n, d, dtype=DTYPE) if actions is None else actions
        log_p = torch.zeros(n, dtype=DTYPE)
        entropy = torch.zeros(n, dtype=DTYPE)
        out = []
        if self.kind != "independent":
            x = self.start.expand(n, h)
            state = (torch.zeros(n, h, dtype=DTYPE), torch.zeros(n, h, dtype=DTYPE))
            seen = torch.zeros(n, d * h, dtype=DTYPE)
        for i, k in enumerate(self.sizes):
            if self.kind == "independent":
                z = self.out_b[i].expand(n, -1)
            else:
                if self.kind in ("lstm", "gru"):
                    state = self._cell(x, *state)
                    feat = state[0]
                else:
                    feat = torch.tanh(seen @ self.w1 + self.b1)
                z = feat @ self.out_w[i] + self.out_b[i]
            if k > 0:
                logits = torch.log_softmax(z, dim=-1)
                if actions is None:
                    a = torch.multinomial(logits.exp(), 1, generator=generator).squeeze(-1)
                else:
                    a = taken[:, i].long()
                step_log_p = logits.gather(-1, a.unsqueeze(-1)).squeeze(-1)
                step_entropy = -(logits.exp() * logits).sum(-1)
                col = a.to(DTYPE)
                if self.kind != "independent":
                    emb = self.embed[i][a]
            else:
                mu, log_sigma = z[:, 0], z[:, 1].clamp(*LOG_SIGMA)
                if actions is None:
                    eps = torch.randn(n, dtype=DTYPE, generator=generator)
                    col = (mu + log_sigma.exp() * eps).detach()
                else:
                    col = taken[:, i]
                std = (col - mu) / log_sigma.exp()
                step_log_p = -0.5 * std**2 - log_sigma - 0.5 * math.log(2 * math.pi)
                step_entropy = log_sigma + 0.5 * math.log(2 * math.pi * math.e)
                if self.kind != "independent":
                    w, b = self.embed[i]
                    emb = torch.tanh(col.unsqueeze(-1) * w + b)
            if mask is not None:
                step_log_p = step_log_p * mask[:, i]
                step_entropy = step_entropy * mask[:, i]
            log_p = log_p + step_log_p
            entropy = entropy + step_entropy
            out.append(col)
            if self.kind != "independent":
                x = emb
                seen = seen.clone()
                seen[:, i * h : (i + 1) * h] = emb
        return torch.stack(out, dim=-1).detach(), log_p, entropy


def reinforce_loss(
    log_p: torch.Tensor, advantage: torch.Tensor, entropy: torch.Tensor, entropy_weight: float
) -> torch.Tensor:
    """The surrogate whose gradient is the REINFORCE estimate, minus the entropy bonus.

    ``-(1/B) sum_i advantage_i log_p_i - entropy_weight (1/B) sum_i entropy_i``: for
    children ``a_i`` drawn from the policy and ``advantage_i = r(a_i) - b`` with a baseline
    ``b`` that does not depend on ``a_i``, minus its gradient is an unbiased estimate of
    ``grad E[r(a)]`` (plus the entropy term's gradient).

    Args:
        log_p: ``B`` log-probabilities of the children (with their graph).
        advantage: ``B`` advantages (constants).
        entropy: ``B`` entropies (with their graph).
        entropy_weight: weight of the entropy bonus.

    Example:
        >>> theta = torch.zeros(2, requires_grad=True)
        >>> log_p = torch.log_softmax(theta, 0)[[0, 1]]
        >>> reinforce_loss(log_p, torch.tensor([1.0, -1.0]), torch.zeros(2), 0.0).backward()
        >>> theta.grad.tolist()
        [-0.5, 0.5]
    """
    return -(advantage.detach() * log_p).mean() - entropy_weight * entropy.mean()


def _centred_ranks(r: torch.Tensor) -> torch.Tensor:
    """Ranks of ``r`` (ties averaged) scaled to ``[-0.5, 0.5]``; zeros for one entry."""
    n = r.numel()
    if n < 2:
        return torch.zeros_like(r)
    less = (r.unsqueeze(0) < r.unsqueeze(1)).sum(1).to(DTYPE)
    equal = (r.unsqueeze(0) == r.unsqueeze(1)).sum(1).to(DTYPE)
    rank = less + (equal - 1) / 2
    return rank / (n - 1) - 0.5


@dataclass
class _Trained:
    """The controller after the updates of ``key`` (a cache; a pure function of it)."""

    key: tuple[tuple[int, float | None], ...]
    policy: Policy
    optimizer: torch.optim.Optimizer
    baseline: float | None = None
    spread: float | None = None
    worst: float | None = None
    updates: list[dict[str, float]] = field(default_factory=list)


# The proposer ------------------------------------------------------------------------------
class ControllerSearch(AskTell):
    """A controller policy trained with REINFORCE: neural-architecture-search style.

    Args:
        space: the search space (any mix of parameter types).
        seed: seeds the initial weights and every sample; ``None`` draws one.
        maximize: maximise instead of minimise (the reward is then the value itself).
        policy: ``"lstm"`` (default), ``"gru"``, ``"mlp"`` or ``"independent"``.
        hidden: width of the hidden state and of the choice embeddings.
        batch: finished trials per policy update.
        lr: Adam's learning rate.
        entropy_weight: weight of the entropy bonus (keeps the policy from collapsing
            early; 0 turns it off).
        baseline_decay: decay of the moving averages of the reward baseline and spread,
            in ``[0, 1)``.
        reward: ``"normalized"`` (default), ``"value"`` or ``"rank"`` (module docstring).
        bins: bins of a real's head (and of a wide integer's).
        max_choices: integers with at most this many values get one outcome per value.
        real_head: ``"bins"`` (default) or ``"gaussian"`` (logit-normal).
        pruner: stops trials early from their intermediate reports.
        storage: a journal file (see ``bayesopt.journal``); an existing one is resumed.

    A child equal to a pending trial (or to another child of the same ask) is drawn again;
    see ``bayesopt.evolution.Distinct`` for the fallbacks. Children equal to *finished*
    trials are allowed: a policy that has converged samples its favourite again.

    Example:
        >>> import bayesopt as bo
        >>> ctl = ControllerSearch(bo.Space({"c": bo.Categorical(["a", "b", "c"])}), seed=0)
        >>> [t.params["c"] in "abc" for t in ctl.ask(3)]
        [True, True, True]
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        policy: str = "lstm",
        hidden: int = 32,
        batch: int = 8,
        lr: float = 0.01,
        entropy_weight: float = 0.01,
        baseline_decay: float = 0.8,
        reward: str = "normalized",
        bins: int = 16,
        max_choices: int = 32,
        real_head: str = "bins",
        pruner: Pruner | None = None,
        storage: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(space, seed=seed, maximize=maximize, pruner=pruner)
        self.policy = _check_choice("policy", policy, POLICIES)
        self.hidden = _check_int("hidden", hidden, 1)
        self.batch = _check_int("batch", batch, 1)
        self.lr = _check_real("lr", lr, positive=True)
        self.entropy_weight = _check_real("entropy_weight", entropy_weight, positive=False)
        self.baseline_decay = _check_real("baseline_decay", baseline_decay, positive=False)
        if not self.baseline_decay < 1.0:
            raise ValueError(
                f"`0 <= baseline_decay < 1` must hold, but got baseline_decay={baseline_decay!r}."
            )
        self.reward = _check_choice("reward", reward, REWARDS)
        self.bins = _check_int("bins", bins, 2)
        self.max_choices = _check_int("max_choices", max_choices, 1)
        self.real_head = _check_choice("real_head", real_head, REAL_HEADS)
        self.heads = heads_of(space, self.bins, self.max_choices, self.real_head)
        self._cache: _Trained | None = None
        self.open(storage)  # last: the journal records settings()

    def settings(self) -> dict[str, Any]:
        """The arguments that define the study, as a journal records them."""
        return {
            "policy": self.policy,
            "hidden": self.hidden,
            "batch": self.batch,
            "lr": self.lr,
            "entropy_weight": self.entropy_weight,
            "baseline_decay": self.baseline_decay,
            "reward": self.reward,
            "bins": self.bins,
            "max_choices": self.max_choices,
            "real_head": self.real_head,
        }

    # What the history trains ---------------------------------------------------------------
    @property
    def updates(self) -> list[dict[str, float]]:
        """One record per policy update so far: ``update`` (0, 1, ...), ``trials`` (finished
        trials consumed), ``mean_reward`` (the batch's raw mean reward: minus the mean
        value, or the mean value with ``maximize=True``), ``baseline`` (before the batch)
        and ``entropy`` (the batch's mean summed entropy, before the step)."""
        return [dict(u) for u in self._trained(self._history).updates]

    def trained_policy(self) -> Policy:
        """A copy of the policy as the current history has trained it."""
        return copy.deepcopy(self._trained(self._history).policy)

    def probability(self, params: Mapping[str, Any]) -> float:
        """The probability (density, for continuous heads) the trained policy gives to the
        outcome of ``params`` (its bins, for binned heads)."""
        checked = self.space.validate(params)
        actions, mask = self._actions([checked])
        policy = self._trained(self._history).policy
        with limited_threads(1), torch.no_grad():
            _, log_p, _ = policy.run(1, actions, mask=mask)
        return float(log_p.exp())

    def _actions(self, params: Sequence[Mapping[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        """``n x d`` actions of ``n`` params dicts, and the ``n x d`` mask of the
        parameters they hold (an inactive conditional parameter is absent: action 0)."""
        shape = (len(params), len(self.heads))
        rows = [
            [h.action(self.space[h.name], p[h.name]) if h.name in p else 0.0 for h in self.heads]
            for p in params
        ]
        mask = [[float(h.name in p) for h in self.heads] for p in params]
        return (
            torch.tensor(rows, dtype=DTYPE).reshape(shape),
            torch.tensor(mask, dtype=DTYPE).reshape(shape),
        )

    def _fresh(self) -> _Trained:
        policy = Policy(
            [h.size for h in self.heads],
            kind=self.policy,
            hidden=self.hidden,
            seed=derive_seed(self.seed, 0x5EED),
        )
        optimizer = torch.optim.Adam(policy.parameters(), lr=self.lr, foreach=False)
        return _Trained((), policy, optimizer)

    def _trained(self, history: History) -> _Trained:
        """The controller trained on ``history`` (from the cache when it extends it)."""
        consumed = tuple(
            (t.id, self._loss(t.value) if t.state is TrialState.COMPLETE else None)
            for t in history.trials
            if t.state is not TrialState.PENDING
        )
        full = len(consumed) // self.batch * self.batch
        key = consumed[:full]
        state = self._cache
        if state is None or key[: len(state.key)] != state.key:
            state = self._fresh()
        if len(state.key) < full:
            with limited_threads(1), torch.enable_grad():
                for start in range(len(state.key), full, self.batch):
                    self._update(state, key[start : start + self.batch], history)
        self._cache = state
        return state

    def _update(
        self, state: _Trained, items: tuple[tuple[int, float | None], ...], history: History
    ) -> None:
        """One REINFORCE step on a full batch; ``state`` is changed in place."""
        losses = [loss for _, loss in items]
        finite = [loss for loss in losses if loss is not None]
        if finite:
            state.worst = max(finite) if state.worst is None else max(state.worst, *finite)
        actions, mask = self._actions([history.trials[i].params for i, _ in items])
        if state.worst is None:  # nothing complete yet: no reward signal
            r = torch.zeros(len(items), dtype=DTYPE)
            advantage = torch.zeros_like(r)
            baseline = state.baseline
        else:
            imputed = [state.worst if loss is None else loss for loss in losses]
            r = -torch.tensor(imputed, dtype=DTYPE)
            mean = float(r.mean())
            baseline = mean if state.baseline is None else state.baseline
            spread = float(((r - mean) ** 2).mean()) if state.spread is None else state.spread
            if self.reward == "value":
                advantage = r - baseline
            elif self.reward == "normalized":
                scale = math.sqrt(spread)
                advantage = (r - baseline) / scale if scale > 0 else torch.zeros_like(r)
            else:
                advantage = _centred_ranks(r)
            a = self.baseline_decay
            state.baseline = a * baseline + (1 - a) * mean
            state.spread = a * spread + (1 - a) * float(((r - baseline) ** 2).mean())
        _, log_p, entropy = state.policy.run(len(items), actions, mask=mask)
        loss = reinforce_loss(log_p, advantage, entropy, self.entropy_weight)
        state.optimizer.zero_grad()
        loss.backward()
        state.optimizer.step()
        state.updates.append(
            {
                "update": len(state.updates),
                "trials": len(state.key) + len(items),
                "mean_reward": math.nan if state.worst is None else float(r.mean()),
                "baseline": math.nan if baseline is None else float(baseline),
                "entropy": float(entropy.detach().mean()),
            }
        )
        state.key = state.key + items

    # Asking ------------------------------------------------------------------------------
    def suggest(self, request: Request) -> list[tuple[dict[str, Any], Source]]:
        """``request.n`` children sampled from the policy the history has trained."""
        state = self._trained(request.history)
        g = torch.Generator().manual_seed(request.seed)
        rng = np.random.default_rng(request.seed)
        distinct = Distinct(self.space, request.pending)
        pool: list[dict[str, Any]] = []

        def child() -> dict[str, Any]:
            if not pool:  # sample in blocks: one network pass for many children
                with limited_threads(1), torch.no_grad():
                    actions, _, _ = state.policy.run(max(request.n, TRIES), generator=g)
                r = torch.rand(actions.shape, dtype=DTYPE, generator=g)
                pool.extend(self._params(actions, r))
            return pool.pop(0)

        return [(distinct.draw(child, rng), Source.PROPOSED) for _ in range(request.n)]

    def _params(self, actions: torch.Tensor, r: torch.Tensor) -> list[dict[str, Any]]:
        """Params of ``n x d`` actions, ``r`` placing them within their bins."""
        space = self.space
        rows = []
        for a_row, r_row in zip(actions.tolist(), r.tolist(), strict=True):
            u = [
                h.unit(space[h.name], a, q)
                for h, a, q in zip(self.heads, a_row, r_row, strict=True)
            ]
            rows.append(space.from_unit(torch.tensor(u, dtype=DTYPE)))
        return rows


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a str, but got {value!r}.")
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {allowed}, but got {value!r}.")
    return value


def _check_int(name: str, value: object, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int, but got {value!r}.")
    if value < low:
        raise ValueError(f"`{name} >= {low}` must hold, but got {name}={value}.")
    return int(value)


def _check_real(name: str, value: object, *, positive: bool) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a float, but got {value!r}.")
    value = float(value)
    if not math.isfinite(value) or (value <= 0 if positive else value < 0):
        rule = "0 < {0} < inf" if positive else "0 <= {0} < inf"
        raise ValueError(f"`{rule.format(name)}` must hold, but got {name}={value!r}.")
    return value
