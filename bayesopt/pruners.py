"""Pruners: stop unpromising trials early, from the values they report on the way.

A training run reports intermediate values (``opt.report(trial, step, value)``, where
``step`` is a budget: epochs, iterations, a data fraction), and asks whether to go on
(``opt.should_stop(trial)``). The optimiser's pruner decides from the study's history
alone, so every decision is a pure function of the journal: a resumed study makes the same
ones, and processes sharing a journal share the statistics. A decision to stop is recorded
at once: the trial becomes ``"pruned"``, keeping its curve and its last value.

* ``MedianPruner``: stop a trial whose best value so far is worse than the median of the
  finished trials' best values up to the same step.
* ``SuccessiveHalving`` (``ASHA``): asynchronous successive halving. Rungs sit at budgets
  ``min_resource * reduction_factor**k``; a trial that reaches a rung goes on only if its
  value there is in the top ``1 / reduction_factor`` of the trials that reached that rung
  before it (itself included).
* ``Hyperband``: several successive-halving brackets with different minimum budgets, from
  aggressive to none; each trial is put in one, chosen from the study's seed and its id
  with the bracket sizes of Hyperband, and competes only within it.

Pruners are frozen dataclasses, so a journal records them with the optimiser's settings.

Example:
    >>> import bayesopt as bo
    >>> opt = bo.RandomSearch(bo.Space({"x": bo.Real(0, 1)}), seed=0,
    ...                       pruner=bo.pruners.SuccessiveHalving(reduction_factor=2))
    >>> a, b = opt.ask(), opt.ask()
    >>> _ = opt.report(a, 1, 0.2); opt.should_stop(a)
    False
    >>> _ = opt.report(b, 1, 0.9); opt.should_stop(b)  # worse than a at the first rung
    True
    >>> opt.trials[b.id].state.value, opt.trials[b.id].value
    ('pruned', 0.9)
"""

from __future__ import annotations

import functools
import math
import numbers
import statistics
from collections.abc import Collection
from dataclasses import dataclass

from bayesopt._rng import derive_seed
from bayesopt.history import History
from bayesopt.trial import Trial, TrialState

__all__ = ["ASHA", "Hyperband", "MedianPruner", "Pruned", "Pruner", "SuccessiveHalving"]


class Pruned(Exception):
    """Raised by an objective to stop its trial early (``minimize`` then prunes it)."""


class Pruner:
    """What a pruner implements: ``should_stop``, and optionally ``check_step``."""

    def should_stop(self, trial: Trial, history: History, *, maximize: bool, seed: int) -> bool:
        """Whether the pending ``trial`` (as in ``history``) should stop now.

        Args:
            trial: a pending trial; its ``intermediate`` holds its reports so far.
            history: the study, every other trial's reports included.
            maximize: whether larger values are better.
            seed: the study's seed (for pruners that draw, such as ``Hyperband``).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement `should_stop`.")

    def check_step(self, step: float) -> None:
        """Raise ``ValueError`` for a step outside the budgets this pruner works with."""

    def rungs(self, top: float) -> tuple[float, ...] | None:
        """The budgets at which this pruner compares trials, ascending, up to ``top`` (the
        largest step reported so far); ``None`` when it has no fixed rungs. A model-based
        ``Optimizer`` fits its GP at one of them (see ``bayesopt.multifidelity``)."""
        return None


def _positive(owner: str, name: str, value: object, *, integer: bool = False) -> None:
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "an int" if integer else "a number"
        raise TypeError(f"{owner}: `{name}` must be {what}, but got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: `{name}` must be finite and > 0, but got {value!r}.")


def _loss(value: float, maximize: bool) -> float:
    return -value if maximize else value


def _best_up_to(trial: Trial, step: float, maximize: bool) -> float | None:
    """The trial's best loss among its reports at steps ``<= step``."""
    losses = [_loss(v, maximize) for s, v in trial.intermediate if s <= step]
    return min(losses) if losses else None


@dataclass(frozen=True)
class MedianPruner(Pruner):
    """Stop a trial whose best value so far is worse than the median of the finished
    (complete or pruned) trials' best values up to the same step.

    Args:
        warmup_steps: never stop a trial before this step.
        min_trials: the fewest finished trials that must have reached the step before
            anything is stopped.
    """

    warmup_steps: float = 0
    min_trials: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, numbers.Real):
            raise TypeError(f"MedianPruner: `warmup_steps` must be a number, but got "
                            f"{self.warmup_steps!r}.")  # fmt: skip
        if not (math.isfinite(self.warmup_steps) and self.warmup_steps >= 0):
            raise ValueError(f"MedianPruner: `warmup_steps` must be >= 0, but got "
                             f"{self.warmup_steps!r}.")  # fmt: skip
        _positive("MedianPruner", "min_trials", self.min_trials, integer=True)

    def should_stop(self, trial: Trial, history: History, *, maximize: bool, seed: int) -> bool:
        if not trial.intermediate:
            return False
        step = trial.intermediate[-1][0]
        if step < self.warmup_steps:
            return False
        others = [
            _best_up_to(t, step, maximize)
            for t in history.trials
            if t.id != trial.id
            and t.state in (TrialState.COMPLETE, TrialState.PRUNED)
            and t.intermediate
            and t.intermediate[-1][0] >= step
        ]
        others = [v for v in others if v is not None]
        if len(others) < self.min_trials:
            return False
        mine = _best_up_to(trial, step, maximize)
        return mine is not None and mine > statistics.median(others)


@dataclass(frozen=True)
class SuccessiveHalving(Pruner):
    """Asynchronous successive halving (ASHA; Li et al., 2020) as a stopping rule.

    Rungs sit at budgets ``min_resource * reduction_factor**k`` (below ``max_resource``,
    when given). A trial's value at a rung is its first report at or beyond the rung's
    budget. When a trial reaches a rung it goes on only if that value is among the best
    ``max(1, n // reduction_factor)`` of the ``n`` trials that reached the rung before it,
    itself included; and at least ``min_trials`` must have reached it for anything to stop.
    Decisions never change afterwards: a trial that went on is not stopped at the same
    rung later.

    Args:
        min_resource: the budget of the first rung.
        reduction_factor: ``eta``: one trial in ``eta`` goes on at each rung.
        max_resource: the full budget (no rung at or beyond it; a report beyond it is an
            error), or ``None``.
        min_trials: trials that must reach a rung before it stops any.
    """

    min_resource: float = 1
    reduction_factor: int = 3
    max_resource: float | None = None
    min_trials: int = 1

    def __post_init__(self) -> None:
        name = type(self).__name__
        _positive(name, "min_resource", self.min_resource)
        _positive(name, "reduction_factor", self.reduction_factor, integer=True)
        if self.reduction_factor < 2:
            raise ValueError(f"{name}: `reduction_factor` must be >= 2, but got "
                             f"{self.reduction_factor!r}.")  # fmt: skip
        if self.max_resource is not None:
            _positive(name, "max_resource", self.max_resource)
            if self.max_resource < self.min_resource:
                raise ValueError(f"{name}: `max_resource` must be >= `min_resource`, but got "
                                 f"{self.max_resource!r} < {self.min_resource!r}.")  # fmt: skip
        _positive(name, "min_trials", self.min_trials, integer=True)

    def check_step(self, step: float) -> None:
        if self.max_resource is not None and step > self.max_resource:
            raise ValueError(
                f"`step` {step!r} is beyond the pruner's max_resource={self.max_resource!r}."
            )

    def rungs(self, top: float) -> tuple[float, ...]:
        """``min_resource * reduction_factor**k`` up to ``max_resource`` (included) when
        given, else up to ``top``."""
        end = top if self.max_resource is None else self.max_resource
        out = _geometric(self.min_resource, self.reduction_factor, end)
        if self.max_resource is not None and out[-1] < self.max_resource * (1 - 1e-12):
            out += (self.max_resource,)
        return out

    def should_stop(self, trial: Trial, history: History, *, maximize: bool, seed: int) -> bool:
        return _halving_stops(
            trial, history, maximize, self.min_resource, self.reduction_factor,
            self.max_resource, self.min_trials, members=None,
        )  # fmt: skip


ASHA = SuccessiveHalving
"""Asynchronous successive halving: another name of ``SuccessiveHalving``."""


@dataclass(frozen=True)
class Hyperband(Pruner):
    """Hyperband (Li et al., 2018) with asynchronous successive-halving brackets.

    With ``s_max = floor(log_eta(max_resource / min_resource))``, bracket ``s`` (``0 ..
    s_max``) halves from a first rung at ``max_resource * eta**-s``: bracket ``s_max``
    starts at ``min_resource`` and prunes hardest, bracket 0 runs every trial to the full
    budget. Each trial is put in bracket ``s`` with a probability proportional to
    Hyperband's bracket size ``ceil((s_max + 1) / (s + 1) * eta**s)``, drawn from the study's
    seed and the trial's id, and competes only with the trials of its bracket.

    Args:
        min_resource: the smallest first rung.
        max_resource: the full budget; a report beyond it is an error.
        reduction_factor: ``eta``.
    """

    min_resource: float = 1
    max_resource: float = 81
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        _positive("Hyperband", "min_resource", self.min_resource)
        _positive("Hyperband", "max_resource", self.max_resource)
        _positive("Hyperband", "reduction_factor", self.reduction_factor, integer=True)
        if self.reduction_factor < 2:
            raise ValueError(f"Hyperband: `reduction_factor` must be >= 2, but got "
                             f"{self.reduction_factor!r}.")  # fmt: skip
        if self.max_resource < self.min_resource:
            raise ValueError(f"Hyperband: `max_resource` must be >= `min_resource`, but got "
                             f"{self.max_resource!r} < {self.min_resource!r}.")  # fmt: skip

    @property
    def n_brackets(self) -> int:
        """``s_max + 1``."""
        ratio = self.max_resource / self.min_resource
        return math.floor(math.log(ratio, self.reduction_factor) + 1e-9) + 1

    def bracket(self, trial_id: int, seed: int) -> int:
        """The bracket ``s`` of a trial (``0``: no pruning; ``n_brackets - 1``: the most)."""
        return _bracket(trial_id, seed, self.reduction_factor, self.n_brackets - 1)

    def check_step(self, step: float) -> None:
        if step > self.max_resource:
            raise ValueError(
                f"`step` {step!r} is beyond the pruner's max_resource={self.max_resource!r}."
            )

    def rungs(self, top: float) -> tuple[float, ...]:
        """The rungs of every bracket: ``max_resource * eta**-s`` for ``s = s_max .. 0``."""
        eta = float(self.reduction_factor)
        return tuple(self.max_resource * eta**-s for s in reversed(range(self.n_brackets)))

    def should_stop(self, trial: Trial, history: History, *, maximize: bool, seed: int) -> bool:
        s = self.bracket(trial.id, seed)
        if s == 0:
            return False
        members = {t.id for t in history.trials if self.bracket(t.id, seed) == s}
        first = self.max_resource * float(self.reduction_factor) ** -s
        return _halving_stops(
            trial, history, maximize, first, self.reduction_factor, self.max_resource,
            1, members=members,
        )  # fmt: skip


@functools.lru_cache(maxsize=65536)
def _bracket(trial_id: int, seed: int, eta: int, s_max: int) -> int:
    """Hyperband's bracket of a trial, drawn with the bracket sizes as weights (cached:
    every decision of a study looks up every trial's bracket)."""
    sizes = [math.ceil((s_max + 1) / (s + 1) * eta**s) for s in range(s_max + 1)]
    u = derive_seed(seed, trial_id, 0x4B) / 2**32 * sum(sizes)
    for s, size in enumerate(sizes):
        if u < size:
            return s
        u -= size
    return s_max


def _geometric(first: float, eta: int, end: float) -> tuple[float, ...]:
    """``first * eta**k`` for ``k = 0, 1, ...`` up to ``end`` (at least ``first``)."""
    out = [float(first)]
    while out[-1] * eta <= end * (1 + 1e-12):
        out.append(out[-1] * eta)
    return tuple(out)


def _value_at(trial: Trial, rung: float, maximize: bool) -> float:
    return next(_loss(v, maximize) for s, v in trial.intermediate if s >= rung)


def _halving_stops(
    trial: Trial,
    history: History,
    maximize: bool,
    first: float,
    eta: int,
    top: float | None,
    min_trials: int,
    members: Collection[int] | None,
) -> bool:
    """The successive-halving rule at the highest rung ``trial`` has reached."""
    if not trial.intermediate:
        return False
    step = trial.intermediate[-1][0]
    if step < first:
        return False
    k = math.floor(math.log(step / first, eta) + 1e-9)
    rung = first * float(eta) ** k
    if top is not None and rung >= top * (1 - 1e-12):
        if k == 0:
            return False  # the first rung is the full budget: nothing to halve
        k -= 1
        rung = first * float(eta) ** k
    reached: dict[int, int] = {}  # trial id -> index of its first report at the rung
    for i, (tid, s) in enumerate(history.reports):
        if s >= rung and tid not in reached and (members is None or tid in members):
            reached[tid] = i
    mine = reached[trial.id]
    rivals = [tid for tid, i in reached.items() if i <= mine]
    if len(rivals) < min_trials:
        return False
    value = _value_at(trial, rung, maximize)
    better = sum(_value_at(history.trials[tid], rung, maximize) < value for tid in rivals)
    return better >= max(1, len(rivals) // eta)
