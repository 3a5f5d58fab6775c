"""What a proposer is asked for, and how its answer becomes params.

``AskTell.ask`` hands a proposer's ``suggest`` a ``Request``; ``to_params`` turns what it
returns (unit-cube points or params, with or without their sources) into validated params.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bayesopt.history import History
from bayesopt.space import Space
from bayesopt.trial import Source

__all__ = ["Request", "to_params"]


@dataclass(frozen=True)
class Request:
    """What one ask needs from a proposer's ``suggest``.

    Attributes:
        n: how many new points to propose (at least 1).
        history: the study so far (trials, queue); read it, never change it.
        pending: params asked and not told, then the enqueued params this ask hands out.
        position: the id the first new point will get.
        seed: the seed of this ask (from the study's seed and the number of trials).
    """

    n: int
    history: History
    pending: tuple[dict[str, Any], ...]
    position: int
    seed: int


def to_params(out: object, n: int, space: Space, name: str) -> list[tuple[dict, Source]]:
    """The ``n`` points of a ``suggest`` answer as validated params with their sources.

    Args:
        out: an ``n x d`` tensor (or array) of unit-cube points, or a sequence of ``n``
            points, each a params dict or a ``d`` unit-cube point, optionally paired with
            its source as ``(point, source)``; unpaired points get ``Source.PROPOSED``.
        n: how many points were asked for.
        space: decodes unit points (``Space.from_unit``) and validates params.
        name: who answered, for the error messages.

    Raises:
        TypeError: ``out`` is not a tensor or a sequence, or a point has a wrong type.
        ValueError: ``out`` holds another number of points, or a point lies outside.

    Example:
        >>> from bayesopt.space import Real
        >>> to_params([{"x": 0.5}, ([0.25], Source.RANDOM)], 2, Space({"x": Real(0, 2)}), "f")
        [({'x': 0.5}, <Source.PROPOSED: 'proposed'>), ({'x': 0.5}, <Source.RANDOM: 'random'>)]
    """
    if isinstance(out, np.ndarray):
        out = torch.as_tensor(out)
    if isinstance(out, torch.Tensor) and out.ndim != 2:
        raise ValueError(f"{name} must return an `n x d` tensor, but got shape {tuple(out.shape)}.")
    if not isinstance(out, torch.Tensor | Sequence) or isinstance(out, str | bytes):
        raise TypeError(f"{name} must return a tensor or a sequence of points, not {out!r}.")
    if len(out) != n:
        raise ValueError(f"{name} must return request.n={n} points, but returned {len(out)}.")
    proposals = []
    for item in out:
        point, source = item, Source.PROPOSED
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Source):
            point, source = item
        try:
            params = space.validate(point) if isinstance(point, Mapping) else space.from_unit(point)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name} returned a point outside the space: {exc}") from None
        proposals.append((params, source))
    return proposals
