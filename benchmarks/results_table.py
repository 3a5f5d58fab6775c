"""Finished records turned into per-problem, per-contender scores (the report's input).

A problem is identified by its name, plus ``@budget`` when a run overrode its budget. Its
metric is the final log10 simple regret when the optimum is known (lower is better) and the
normalised score otherwise (higher is better); ``loss`` is the former or minus the latter.

Batch contenders (``bayesopt-q4``, ``random-2x-q8``...) are folded: their records form the
problem ``name@ROUNDSxQ`` (e.g. ``branin@16x4``, budget points are rounds) under the base
contender's name, so contenders are compared at equal q with the same tables and tests.
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
from benchmarks.stats import saturated as is_saturated

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
        batch: points per round (1: sequential); budget points are rounds when above 1.
        recommended: ``{contender: {seed: metric of the recommended point}}`` (records
            with a ``recommended`` value).
        raw_final: ``{contender: {seed: best noise-free value}}`` (the objective's units).
        saturated: a tuning task that cannot separate its contenders (``Results.saturated``
            computes it; reports mark it and leave it out of the ranks).
    """

    label: str
    problem: problems.Problem
    budget: int
    reference: Reference | None = None
    curves: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    final: dict[str, dict[int, float]] = field(default_factory=dict)
    batch: int = 1
    recommended: dict[str, dict[int, float]] = field(default_factory=dict)
    raw_final: dict[str, dict[int, float]] = field(default_factory=dict)
    saturated: bool = False

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

    def paired(
        self, a: str, b: str, table: dict[str, dict[int, float]] | None = None
    ) -> tuple[list[float], list[float]]:
        """Losses of contenders ``a`` and ``b`` on the seeds both finished (from ``table``:
        default ``final``; e.g. ``recommended``)."""
        table = self.final if table is None else table
        seeds = sorted(set(table.get(a, {})) & set(table.get(b, {})))
        return (
            [self.loss(table[a][s]) for s in seeds],
            [self.loss(table[b][s]) for s in seeds],
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
                pr.batch,
                {c: v for c, v in pr.recommended.items() if c not in drop},
                {c: v for c, v in pr.raw_final.items() if c not in drop},
                pr.saturated,
            )
            for label, pr in self.problems.items()
        }
        return Results(kept, self.errors, self.records)

    def saturated(self) -> list[str]:
        """Labels of the tuning tasks (no known optimum) that cannot separate their
        contenders: ``stats.saturated`` on the best noise-free value of each contender
        (``bayesopt-logei`` / ``bayesopt-ucb`` left out, like the mean-rank field)."""
        out = []
        for label, pr in self.problems.items():
            if pr.has_optimum:
                continue
            field = {n: list(v.values()) for n, v in pr.raw_final.items() if _distinct_method(n)}
            if is_saturated(field):
                out.append(label)
        return out

    @property
    def batched(self) -> bool:
        """Whether any problem holds batch runs (budget points are rounds)."""
        return any(pr.batch > 1 for pr in self.problems.values())

    def by_family(self) -> dict[str, list[ProblemResults]]:
        """Problems grouped by family, in family order."""
        out: dict[str, list[ProblemResults]] = defaultdict(list)
        for p in self.problems.values():
            out[p.problem.family].append(p)
        return {f: out[f] for f in problems.FAMILIES if f in out}


def _distinct_method(name: str) -> bool:
    """bayesopt's default, a baseline or a peer: not another configuration of bayesopt
    (names no longer registered count as distinct)."""
    try:
        return name == "bayesopt" or contenders.get(name).family != "bayesopt"
    except KeyError:
        return True


def batch_of(name: str) -> tuple[str, int]:
    """``(base contender, points per round)``: ``("bayesopt", 4)`` for ``bayesopt-q4``,
    ``(name, 1)`` for a sequential contender. An unregistered name ending in ``-qK``
    (``K >= 2``; a renamed copy, such as ``compare``'s new run) counts as a batch one."""
    try:
        q = contenders.get(name).batch
    except KeyError:
        base, sep, tail = name.rpartition("-q")
        if sep and tail.isdigit() and int(tail) >= 2:
            return base, int(tail)
        return name, 1
    return (name.rsplit("-q", 1)[0], q) if q > 1 else (name, 1)


def label_of(record: dict[str, Any]) -> str:
    """The problem label of a record: ``name``, ``name@budget`` or ``name@ROUNDSxQ``."""
    budget = int(record["budget"])
    _, q = batch_of(record["contender"])
    if q > 1:
        return f"{record['problem']}@{budget}x{q}"
    default = problems.get(record["problem"]).budget
    return record["problem"] if budget == default else f"{record['problem']}@{budget}"


def _values(record: dict[str, Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in record.get("values") or []]


def _trace(record: dict[str, Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in record["trace"]]


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


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
        if batch_of(r["contender"])[0] in RANDOM_STREAMS:
            values = [v for v in _values(r) if math.isfinite(v)]
            if len(values) > len(streams.get(r["seed"], [])):
                streams[r["seed"]] = values
    pooled = [v for values in streams.values() for v in values]
    if not pooled:
        return None
    return Reference(float(min(finite)), float(np.median(pooled)), len(pooled))


def build(records: Iterable[dict[str, Any]]) -> Results:
    """Group the latest record of each cell by problem and compute metrics (batch
    contenders folded under their base names, see the module docstring)."""
    records = list(records)
    ok = [r for r in records if r.get("status") == "ok" and r["problem"] in problems.registry()]
    errors = [r for r in records if r.get("status") != "ok"]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ok:
        grouped[label_of(r)].append(r)
    order = list(problems.registry())
    out: dict[str, ProblemResults] = {}
    for label in sorted(grouped, key=lambda lb: (order.index(lb.split("@")[0]), lb)):
        rs = grouped[label]
        problem = problems.get(rs[0]["problem"])
        q = batch_of(rs[0]["contender"])[1]
        pr = ProblemResults(label, problem, int(rs[0]["budget"]), batch=q)
        if problem.optimum is None:
            pr.reference = reference(rs)

        def metric_of(value: float, pr: ProblemResults = pr) -> float:
            if pr.problem.optimum is not None:
                return log10_regret(value, pr.problem.optimum)
            if pr.reference is not None:
                return normalised_score(value, pr.reference)
            return math.nan

        for r in rs:
            name, seed = batch_of(r["contender"])[0], int(r["seed"])
            trace = _trace(r)
            metric = [metric_of(v) for v in trace]
            pr.curves.setdefault(name, {})[seed] = metric
            pr.final.setdefault(name, {})[seed] = metric[-1]
            pr.raw_final.setdefault(name, {})[seed] = trace[-1] if trace else math.nan
            if "recommended" in r:
                pr.recommended.setdefault(name, {})[seed] = metric_of(_number(r["recommended"]))
        out[label] = pr
    res = Results(out, errors, records)
    for label in res.saturated():
        res.problems[label].saturated = True
    return res
