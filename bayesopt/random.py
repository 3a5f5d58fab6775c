"""Random search and quasi-random (Sobol) search with the ask/tell interface."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from bayesopt._rng import derive_seed
from bayesopt.asktell import AskTell
from bayesopt.proposal import Request
from bayesopt.pruners import Pruner
from bayesopt.space import Space
from bayesopt.trial import Source

__all__ = ["RandomSearch"]


class RandomSearch(AskTell):
    """Uniform random search, or scrambled Sobol search with ``sobol=True``.

    Uniform draws are independent of the history: ask ``k`` draws from a stream seeded by
    ``(seed, k)``. Sobol search walks one scrambled Sobol sequence seeded by ``seed``, point
    ``k`` going to the ``k``-th trial, so it stays low-discrepancy across asks. In a
    conditional space the draws cover every coordinate and the inactive ones are dropped
    (``Space.snap``); in a constrained space only feasible points are kept, in order
    (``Space.sample_unit``, ``Space.sobol``).

    Args:
        space: the search space.
        seed: seeds every draw; ``None`` draws one from OS entropy.
        maximize: maximise instead of minimise (only ``best`` depends on it).
        sobol: walk a scrambled Sobol sequence instead of drawing uniformly.
        pruner: stops trials early from their intermediate reports (see
            ``bayesopt.pruners``; random search with a pruner is the baseline of
            Hyperband and ASHA).
        storage: a journal file: every ask and tell is appended and fsynced before the call
            returns, and an existing journal is resumed (same space and settings; see
            ``bayesopt.journal``).
        objectives: ``{name: "min" | "max"}``, as ``Optimizer`` takes them: the study is
            then told mappings, and ``pareto_front()`` and ``hypervolume()`` read it (a
            baseline with ``Optimizer``'s interface; see ``bayesopt.outcomes``).
        constraints: ``{name: ("<=" | ">=", bound)}``, as ``Optimizer`` takes them
            (``best`` is then the best feasible trial).
        reference_point: ``{objective: value}``, as ``Optimizer`` takes it (here only
            ``reference_point()`` and ``hypervolume()`` read it).

    Example:
        >>> import bayesopt as bo
        >>> rs = bo.RandomSearch(bo.Space({"x": bo.Real(-1, 1)}), seed=0)
        >>> for _ in range(20):
        ...     t = rs.ask()
        ...     _ = rs.tell(t, t.params["x"] ** 2)
        >>> rs.best.value < 0.05
        True
    """

    def __init__(
        self,
        space: Space,
        *,
        seed: int | None = None,
        maximize: bool = False,
        sobol: bool = False,
        pruner: Pruner | None = None,
        storage: str | os.PathLike | None = None,
        objectives: Mapping[str, str] | None = None,
        constraints: Mapping[str, tuple[str, float]] | None = None,
        reference_point: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(
            space, seed=seed, maximize=maximize, pruner=pruner, objectives=objectives,
            constraints=constraints, reference_point=reference_point,
        )  # fmt: skip
        if not isinstance(sobol, bool):
            raise TypeError(f"`sobol` must be a bool, but got {sobol!r}.")
        self.sobol = sobol
        self.open(storage)  # last: the journal records settings()

    def settings(self) -> dict[str, Any]:
        """The arguments that define the study, as a journal records them."""
        return {"sobol": self.sobol}

    def suggest(self, request: Request) -> list[tuple[torch.Tensor, Source]]:
        """``request.n`` uniform draws, or the next points of the Sobol sequence."""
        if self.sobol:
            u = self.space.sobol(request.n, derive_seed(self.seed), skip=request.position)
            return [(row, Source.SOBOL) for row in u]
        u = self.space.sample_unit(request.n, request.seed, sobol=False)
        return [(row, Source.RANDOM) for row in u]
