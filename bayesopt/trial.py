"""Trials and their states."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TrialState(enum.StrEnum):
    """Life cycle of a trial: asked (pending), then complete or failed."""

    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective: what was asked, and what came back.

    Trials are frozen snapshots; the optimiser replaces a pending trial by a complete or
    failed one when it is told, and hands out copies, so editing ``params`` of a returned
    trial never changes the optimiser. ``state`` compares equal to its string.

    Attributes:
        id: position in ask order, starting at 0.
        params: ``{name: value}`` with plain Python values.
        value: the objective value, or ``None`` while pending or when failed.
        state: ``"pending"``, ``"complete"`` or ``"failed"``.
        source: where the params came from: ``"initial"``, ``"model"``, ``"fallback"``,
            ``"random"``, ``"enqueued"`` or ``"added"``.
        error: why a failed trial failed (``"TypeName: message"`` of the exception the
            objective raised, or the non-finite value it returned); ``None`` otherwise.

    Example:
        >>> Trial(id=0, params={"x": 1.0})
        Trial(id=0, params={'x': 1.0}, state="pending")
    """

    id: int
    params: dict[str, Any]
    value: float | None = None
    state: TrialState = TrialState.PENDING
    source: str = field(default="model", compare=False)
    error: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", TrialState(self.state))

    def __repr__(self) -> str:
        value = "" if self.value is None else f", value={self.value!r}"
        return f'Trial(id={self.id}, params={self.params!r}{value}, state="{self.state.value}")'

    def copy(self) -> Trial:
        """A copy with its own ``params`` dict."""
        return Trial(self.id, dict(self.params), self.value, self.state, self.source, self.error)

    @property
    def is_finished(self) -> bool:
        """Whether the trial has been told (complete or failed)."""
        return self.state is not TrialState.PENDING

    def to_record(self) -> dict[str, Any]:
        """A flat dict: ``id``, ``state``, ``value``, ``source``, ``params_<name>``, and
        ``error`` when the trial failed with one."""
        record: dict[str, Any] = {
            "id": self.id,
            "state": self.state.value,
            "value": self.value,
            "source": self.source,
        }
        record.update({f"params_{k}": v for k, v in self.params.items()})
        if self.error is not None:
            record["error"] = self.error
        return record
