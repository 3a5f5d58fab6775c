"""Finished records turned into per-problem, per-contender scores (the report's input).

A problem is identified by its name, plus ``@budget`` when a run overrode its budget. Its
metric is the final log10 simple regret when the optimum is known (lower is better) and the
normalised score otherwise (higher is better); ``loss`` is the former or minus the latter.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks import contenders, problems
from benchmarks.cell import log10_regret
from benchmarks.stats import Reference, normalised_score

__all__ = ["ProblemResults", "Results", "build"]

RANDOM_STREAMS = ("random-2x", "random")
"""Contenders whose evaluations are iid uniform draws (random-2x extends random's stream)."""


@dataclass
class ProblemResults:
    """Everything the report shows about one problem.

    Attributes:
        label: ``name`` or ``name@budget``.
        problem: the registry entry.
        budget: budget points.
        reference: anchors of the normalised score (tuning tasks with random runs only).
        curves: ``{contender: {seed: metric per budget point}}``.
        final: ``{contender: {seed: final metric}}``.
    """

    label: str
    problem: problems.Problem
    budget: int
    reference: Reference | None = None
    curves: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    final: dict[str, dict[int, float]] = field(default_factory=dict)

    @property
    def has_optimum(self) -> bool:
        """Whether the metric is log10 regret (else the normalised score)."""
        return self.problem.optimum is not None

    @property
    def metric_name(self) -> str:
        """What ``final`` holds."""
        return "log10 simple regret" if self.has_optimum else "normalised score"

    def loss(self, value: float) -> float:
        """The metric in lower-is-better orientation."""
        return value if self.has_optimum else -value

    def paired(self, a: str, b: str) -> tuple[list[float], list[float]]:
        """Losses of contenders ``a`` and ``b`` on the seeds both finished."""
        seeds = sorted(set(self.final.get(a, {})) & set(self.final.get(b, {})))
        return (
            [self.loss(self.final[a][s]) for s in seeds],
            [self.loss(self.final[b][s]) for s in seeds],
        )

    @property
    def contenders(self) -> list[str]:
        """Contenders with results, in registry order."""
        order = contenders.names()
        return sorted(self.final, key=lambda c: order.index(c) if c in order else len(order))


@dataclass
class Results:
    """A suite's results by problem, plus the records that errored."""

    problems: dict[str, ProblemResults]
    errors: list[dict[str, Any]]
    records: list[dict[str, Any]]

    @property
    def contenders(self) -> list[str]:
        """Every contender with at least one finished cell, in registry order."""
        seen = {c for p in self.problems.values() for c in p.final}
        return [c for c in contenders.names() if c in seen]

    def without(self, names: Iterable[str]) -> Results:
        """The same results without the contenders ``names`` (records and anchors kept)."""
        drop = set(names)
        kept = {
            label: ProblemResults(
                pr.label,
                pr.problem,
                pr.budget,
                pr.reference,
                {c: v for c, v in pr.curves.items() if c not in drop},
                {c: v for c, v in pr.final.items() if c not in drop},
            )
            for label, pr in self.problems.items()
        }
        return Results(kept, self.errors, self.records)

    def by_family(self) -> dict[str, list[ProblemResults]]:
        """Problems grouped by family, in family order."""
        out: dict[str, list[ProblemResults]] = defaultdict(list)
        for p in self.problems.values():
            out[p.problem.family].append(p)
        return {f: out[f] for f in problems.FAMILIES if f in out}


def _label(record: dict[str, Any]) -> str:
    default = problems.get(record["problem"]).budget
    budget = int(record["budget"])
    return record["problem"] if budget == default else f"{record['problem']}@{budget}"


def _values(record: dict[str, Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in record.get("values") or []]


def _trace(record: dict[str, Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in record["trace"]]


def reference(records: Iterable[dict[str, Any]]) -> Reference | None:
    """Anchors of one tuning task from its records (all contenders, all seeds).

    ``best`` is the lowest value any evaluation reached; ``median_random`` the median of
    the uniform random evaluations (per seed the longest of the random streams, since
    ``random-2x`` repeats ``random``'s draws and adds as many).
    """
    records = list(records)
    finite = [v for r in records for v in _values(r) if math.isfinite(v)]
    if not finite:
        return None
    streams: dict[int, list[float]] = {}
    for r in records:
        if r["contender"] in RANDOM_STREAMS:
            values = [v for v in _values(r) if math.isfinite(v)]
            if len(values) > len(streams.get(r["seed"], [])):
                streams[r["seed"]] = values
    pooled = [v for values in streams.values() for v in values]
    if not pooled:
        return None
    return Reference(float(min(finite)), float(np.median(pooled)), len(pooled))


def build(records: Iterable[dict[str, Any]]) -> Results:
    """Group the latest record of each cell by problem and compute metrics."""
    records = list(records)
    ok = [r for r in records if r.get("status") == "ok" and r["problem"] in problems.registry()]
    errors = [r for r in records if r.get("status") != "ok"]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ok:
        grouped[_label(r)].append(r)
    order = list(problems.registry())
    out: dict[str, ProblemResults] = {}
    for label in sorted(grouped, key=lambda lb: (order.index(lb.split("@")[0]), lb)):
        rs = grouped[label]
        problem = problems.get(rs[0]["problem"])
        pr = ProblemResults(label, problem, int(rs[0]["budget"]))
        if problem.optimum is None:
            pr.reference = reference(rs)
        for r in rs:
            trace = _trace(r)
            if problem.optimum is not None:
                metric = [log10_regret(v, problem.optimum) for v in trace]
            elif pr.reference is not None:
                metric = [normalised_score(v, pr.reference) for v in trace]
            else:
                metric = [math.nan] * len(trace)
            pr.curves.setdefault(r["contender"], {})[int(r["seed"])] = metric
            pr.final.setdefault(r["contender"], {})[int(r["seed"])] = metric[-1]
        out[label] = pr
    return Results(out, errors, records)
