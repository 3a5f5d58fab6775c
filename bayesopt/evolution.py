"""Regularised (ageing) evolution with the ask/tell interface (Real et al., 2019).

The population is the ``population`` youngest finished trials: a trial is born when it
is asked (its id is its birth order) and joins the population when it is told; each new
member pushes the oldest one out. This is the queue of regularised evolution, read off
the history, so a study resumed from its journal evolves exactly as the uninterrupted one.

Each child of an ask is made by a tournament: ``sample_size`` members drawn uniformly
without replacement, the best of them (lowest value; highest with ``maximize=True``) is
the parent, and the child is the parent with one parameter mutated (``mutate``). Trials
before the ``population``-th, and every child while no trial is complete, are uniform
random draws (the initial population).

Example:
    >>> import bayesopt as bo
    >>> from bayesopt.evolution import EvolutionSearch
    >>> space = bo.Space({"k": bo.Integer(0, 9), "c": bo.Categorical(["a", "b"])})
    >>> evo = EvolutionSearch(space, population=6, sample_size=3, seed=0)
    >>> for _ in range(30):
    ...     t = evo.ask()
    ...     _ = evo.tell(t, abs(t.params["k"] - 7) + (t.params["c"] == "a"))
    >>> evo.best.value
    0.0
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from bayesopt.asktell import AskTell
from bayesopt.history import History
from bayesopt.parameters import Categorical, Integer, Real
from bayesopt.proposal import Request
from bayesopt.pruners import Pruner
from bayesopt.space import DTYPE, Space
from bayesopt.trial import Source, Trial, TrialState

__all__ = ["Distinct", "EvolutionSearch", "mutate", "population_of", "tournament"]

ENUMERATE_LIMIT = 4096
"""A finite space with at most this many points is enumerated to find a point that no
pending trial holds, once random draws keep repeating pending ones."""

TRIES = 20
"""Draws (tournaments, or rounds of policy samples) before the fallbacks of ``Distinct``."""


class EvolutionSearch(AskTell):
    """Regularised evolution: tournament selection, one-parameter mutation, ageing.

    Args:
        space: the search space (any mix of parameter types).
        seed: seeds every draw; ``None`` draws one from OS entropy.
        maximize: maximise instead of minimise.
        population: how many of the youngest finished trials form the population
            (Real et al. used 100 for 20,000 evaluations; a tenth to a fifth of the budget
            suits small budgets); also the size of the random initial population.
        sample_size: tournament size, ``1 <= sample_size <= population``; larger means
            greedier. ``None``: a quarter of the population (at least 1), as Real et al.'s
            25 of 100.
        mutation_scale: standard deviation of a real parameter's Gaussian step in its
            unit coordinate (log scale for log reals); an integer's step is up to
            ``max(1, round(mutation_scale * n_values))`` values either way.
        resample_prob: probability that a mutation redraws the parameter uniformly
            instead of stepping (reals and integers; a categorical always takes another
            choice).
        pruner: stops trials early from their intermediate reports.
        storage: a journal file (see ``bayesopt.journal``); an existing one is resumed.

    Failed and pruned trials stay in the population (they age out like the others) and
    lose every tournament against a complete trial. A child equal to a pending trial (or
    to another child of the same ask) is replaced by another tournament; see ``Distinct``
    for what happens when that keeps failing.

    Example:
        >>> import bayesopt as bo
        >>> evo = EvolutionSearch(bo.Space({"x": bo.Real(-1, 1)}), population=5, seed=0)
        >>> t = evo.ask()
        >>> t.source.value
        'random'
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        population: int = 20,
        sample_size: int | None = None,
        mutation_scale: float = 0.1,
        resample_prob: float = 0.1,
        pruner: Pruner | None = None,
        storage: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(space, seed=seed, maximize=maximize, pruner=pruner)
        self.population = _check_int("population", population, 1)
        if sample_size is None:
            sample_size = max(1, self.population // 4)
        self.sample_size = _check_int("sample_size", sample_size, 1)
        if self.sample_size > self.population:
            raise ValueError(
                f"`sample_size <= population` must hold, but got sample_size={sample_size}, "
                f"population={population}."
            )
        self.mutation_scale = _check_unit("mutation_scale", mutation_scale, open_low=True)
        self.resample_prob = _check_unit("resample_prob", resample_prob, open_low=False)
        self.open(storage)  # last: the journal records settings()

    def settings(self) -> dict[str, Any]:
        """The arguments that define the study, as a journal records them."""
        return {
            "population": self.population,
            "sample_size": self.sample_size,
            "mutation_scale": self.mutation_scale,
            "resample_prob": self.resample_prob,
        }

    def members(self) -> list[Trial]:
        """The current population: the ``population`` youngest finished trials, oldest
        first (copies)."""
        return [t.copy() for t in population_of(self._history, self.population)]

    def suggest(self, request: Request) -> list[tuple[dict[str, Any], Source]]:
        """``request.n`` children: random while the initial population is being asked,
        then tournament winners with one parameter mutated."""
        rng = np.random.default_rng(request.seed)
        members = population_of(request.history, self.population)
        fitness = [self._fitness(t) for t in members]
        evolve = any(math.isfinite(f) for f in fitness)
        distinct = Distinct(self.space, request.pending)

        def child() -> dict[str, Any]:
            parent = members[tournament(fitness, self.sample_size, rng)]
            return mutate(self.space, parent.params, rng, self.mutation_scale, self.resample_prob)

        out: list[tuple[dict[str, Any], Source]] = []
        for k in range(request.n):
            if request.position + k < self.population or not evolve:
                out.append((distinct.draw(lambda: distinct.uniform(rng), rng), Source.RANDOM))
            else:
                out.append((distinct.draw(child, rng), Source.PROPOSED))
        return out

    def _fitness(self, trial: Trial) -> float:
        """Lower is better; ``inf`` for a failed or pruned trial."""
        if trial.state is TrialState.COMPLETE:
            return self._loss(float(trial.value))  # type: ignore[arg-type]
        return math.inf


def population_of(history: History, size: int) -> list[Trial]:
    """The ``size`` youngest finished trials of ``history`` (highest ids), oldest first.

    Example:
        >>> from bayesopt.events import Asked, Told
        >>> from bayesopt.history import replay
        >>> h = replay(History(), [Asked(tuple(Trial(i, {"x": i}) for i in range(4)), 0, None),
        ...                        Told(0, 1.0), Told(2, 3.0), Told(3, 4.0)])
        >>> [t.id for t in population_of(h, 2)]
        [2, 3]
    """
    finished = [t for t in history.trials if t.state is not TrialState.PENDING]
    return finished[-size:] if size > 0 else []


def tournament(fitness: Sequence[float], sample_size: int, rng: np.random.Generator) -> int:
    """The index of a tournament's winner: ``sample_size`` entries of ``fitness`` drawn
    uniformly without replacement (all of them when there are fewer), the lowest wins;
    ties go to the youngest (highest index).

    Example:
        >>> tournament([3.0, 1.0, 2.0], 3, np.random.default_rng(0))
        1
    """
    k = min(sample_size, len(fitness))
    picked = rng.choice(len(fitness), size=k, replace=False)
    return int(max(picked, key=lambda i: (-fitness[i], i)))


def mutate(
    space: Space,
    params: Mapping[str, Any],
    rng: np.random.Generator,
    scale: float = 0.1,
    resample_prob: float = 0.1,
) -> dict[str, Any]:
    """``params`` with one parameter changed, chosen uniformly among those that can change.

    - Categorical: another choice, uniformly.
    - Integer: with probability ``resample_prob`` a uniform redraw; else a step of
      ``1..max(1, round(scale * n_values))`` values up or down, reflected at the bounds
      (always another value).
    - Real: with probability ``resample_prob`` a uniform redraw of its unit coordinate
      (log scale for log reals); else a Gaussian step of standard deviation ``scale`` in
      that coordinate, reflected into ``[0, 1]``.

    In a space with conditions only an active parameter changes; the parameters that the
    change activates get uniform values, those it deactivates are dropped. A space whose
    parameters all have a single value gives ``params`` back.

    Example:
        >>> space = Space({"c": Categorical(["a", "b"]), "k": Categorical([5])})
        >>> mutate(space, {"c": "a", "k": 5}, np.random.default_rng(0))
        {'c': 'b', 'k': 5}
    """
    parent = space.validate(params)
    movable = [name for name, p in space.items() if name in parent and (p.n_values or 2) > 1]
    if not movable:
        return parent
    name = movable[int(rng.integers(len(movable)))]
    p = space[name]
    child = dict(parent)
    if isinstance(p, Categorical):
        i = p.index(parent[name])
        j = int(rng.integers(p.n_values - 1))
        child[name] = p.choices[j + (j >= i)]  # type: ignore[operator]
    elif isinstance(p, Integer):
        child[name] = _mutate_integer(p, parent[name], rng, scale, resample_prob)
    else:
        assert isinstance(p, Real)
        u = p._encode(parent[name])
        if rng.random() < resample_prob:
            u = float(rng.random())
        else:
            u = _reflect(u + scale * float(rng.standard_normal()))
        child[name] = p._decode(u)
    active_names = getattr(space, "active_names", None)
    if active_names is None:  # a space without conditions
        return child
    for _ in range(len(space)):  # an activated parameter may activate others
        active = active_names(child)
        if set(active) == set(child):
            break
        child = {k: child[k] if k in child else _uniform_value(space[k], rng) for k in active}
    return {k: child[k] for k in space if k in child}


def _uniform_value(p: Real | Integer | Categorical, rng: np.random.Generator) -> Any:
    """A uniform draw of one parameter (in its unit coordinate: log scale for log ones)."""
    return p._decode(float(rng.random()))


def _mutate_integer(
    p: Integer, value: int, rng: np.random.Generator, scale: float, resample_prob: float
) -> int:
    """Another value of ``p``: a uniform redraw or a reflected step (never ``value``)."""
    n = p.n_values
    if rng.random() < resample_prob:
        j = int(rng.integers(n - 1))
        return p.low + j + (p.low + j >= value)
    reach = max(1, round(scale * n))
    step = int(rng.integers(1, reach + 1)) * (1 if rng.random() < 0.5 else -1)
    i, top = value - p.low, n - 1
    j = i + step
    period = 2 * top
    j = j % period
    j = period - j if j > top else j
    if j == i:  # a step of a whole period, or reflected onto itself: one value over
        j = i + 1 if i < top else i - 1
    return p.low + j


def _reflect(u: float) -> float:
    """``u`` folded into ``[0, 1]`` by reflection at the bounds."""
    u = math.fmod(abs(u), 2.0)
    return 2.0 - u if u > 1.0 else u


def _uniform(space: Space, rng: np.random.Generator) -> torch.Tensor:
    """One uniform unit point of the space (canonical: discrete coordinates at their bin
    centres; feasible when the space has constraints)."""
    return space.sample_unit(1, int(rng.integers(2**31)), sobol=False)[0]


class Distinct:
    """The points an ask must not repeat: pending trials, then each new point it hands out.

    ``draw(make, rng)`` calls ``make()`` up to ``TRIES`` times for valid params (inside the
    space, constraints included) that no pending trial holds. If none comes, it takes a
    uniformly chosen valid point that no pending trial holds: by enumeration when the
    grids of the coordinates have at most ``ENUMERATE_LIMIT`` points together, else by
    ``TRIES`` uniform draws. Only when that finds none either (the space is exhausted:
    every point is pending) does it give back a repeat.

    Args:
        space: the search space.
        pending: params that are pending (``Request.pending``).
    """

    def __init__(self, space: Space, pending: Sequence[Mapping[str, Any]]) -> None:
        self.space = space
        self.taken = {self.key(p) for p in pending}

    def key(self, params: Mapping[str, Any]) -> tuple[float, ...]:
        """A hashable key of params: their unit point."""
        return tuple(self.space.to_unit(params).tolist())

    def valid(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` lie in the space (its constraints included, if any)."""
        try:
            self.space.validate(params)
        except (TypeError, ValueError):
            return False
        return True

    def draw(self, make: Any, rng: np.random.Generator) -> dict[str, Any]:
        """Params from ``make()`` that are not taken (then taken), with the fallbacks above.

        Args:
            make: ``() -> params dict``.
            rng: draws the fallback points.
        """
        repeat = None
        for _ in range(TRIES):
            params = make()
            if not self.valid(params):
                continue
            k = self.key(params)
            if k not in self.taken:
                self.taken.add(k)
                return params
            repeat = params
        found = self._unused(rng)
        if found is not None:
            self.taken.add(self.key(found))
            return found
        return self.uniform(rng) if repeat is None else repeat

    def uniform(self, rng: np.random.Generator) -> dict[str, Any]:
        """Params of a uniform draw from the space (feasible, if it has constraints)."""
        return self.space.from_unit(_uniform(self.space, rng))

    def _unused(self, rng: np.random.Generator) -> dict[str, Any] | None:
        grids = [self.space.grid(i) for i in range(self.space.dim)]
        sizes = [0 if g is None else len(g) for g in grids]
        if all(sizes) and math.prod(sizes) <= ENUMERATE_LIMIT:
            free: dict[tuple[float, ...], dict[str, Any]] = {}
            for row in itertools.product(*(g.tolist() for g in grids)):  # type: ignore[union-attr]
                params = self.space.from_unit(torch.tensor(row, dtype=DTYPE))
                if self.valid(params):
                    k = self.key(params)
                    if k not in self.taken:
                        free.setdefault(k, params)
            if not free:
                return None
            return list(free.values())[int(rng.integers(len(free)))]
        for _ in range(TRIES):
            params = self.uniform(rng)
            if self.valid(params) and self.key(params) not in self.taken:
                return params
        return None


def _check_int(name: str, value: object, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int, but got {value!r}.")
    if value < low:
        raise ValueError(f"`{name} >= {low}` must hold, but got {name}={value}.")
    return int(value)


def _check_unit(name: str, value: object, *, open_low: bool) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a float, but got {value!r}.")
    value = float(value)
    ok = (value > 0.0 if open_low else value >= 0.0) and value <= 1.0
    if not ok:
        rule = "0 < {0} <= 1" if open_low else "0 <= {0} <= 1"
        raise ValueError(f"`{rule.format(name)}` must hold, but got {name}={value!r}.")
    return value
