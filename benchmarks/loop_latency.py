"""Seconds per model-based ask inside a running optimisation loop, idle and loaded.

Each run is a fresh worker process that drives one contender's ``Session`` for the
problem's budget, exactly as the suite's cells do, and times every ``ask`` (plus ``tell``
for scikit-optimize, which fits inside it). Asks from index ``first_model_ask`` on count
as model-based for every contender: past bayesopt's ``2 d + 1`` design (at most 20), the
plain BoTorch loop's ``2 d + 1`` and Optuna's 10 random trials. No thread setting is made
in the harness by default, so the figures are what a user's script gets.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import contenders, problems
from benchmarks.cell import library_versions
from benchmarks.latency import LOADS, _pool, cpu_load
from benchmarks.runner import run_meta

__all__ = ["FIRST_MODEL_ASK", "run_loop"]

FIRST_MODEL_ASK = 20


def _loop(contender: str, problem: str, seed: int) -> list[float]:
    """Seconds of each ask (ask + tell) of one seeded run, in order."""
    prob = problems.get(problem)
    evaluate = prob.evaluator(seed)
    session = contenders.get(contender).make(prob.space, seed)
    times = []
    for _ in range(prob.budget):
        start = time.perf_counter()
        params = session.ask()
        asked = time.perf_counter()
        value = evaluate(params).observed
        told = time.perf_counter()
        session.tell(value)
        times.append(asked - start + time.perf_counter() - told)
    return times


def run_loop(
    out_dir: Path,
    *,
    problem_names: Sequence[str],
    contender_names: Sequence[str],
    seeds: Sequence[int],
    loads: Sequence[str] = LOADS,
    threads: int | None = None,
    first_model_ask: int = FIRST_MODEL_ASK,
    command: str = "",
    log: Callable[[str], None] = print,
) -> Path:
    """Run the loops, then write ``LOOP.md`` and ``loop.json`` into ``out_dir``.

    Returns:
        The path of ``LOOP.md``.
    """
    names = [c for c in contender_names if contenders.get(c).available()]
    for c in set(contender_names) - set(names):
        log(f"notice: skipping {c}: {', '.join(contenders.get(c).requires)} missing")
    rows: list[dict[str, Any]] = []
    pool = _pool(threads)
    try:
        for problem in problem_names:
            for seed in seeds:
                for load in loads:
                    with cpu_load(load):
                        for name in names:
                            times = pool.apply(_loop, (name, problem, seed))
                            model = times[first_model_ask:]
                            row = {"problem": problem, "contender": name, "seed": seed}
                            row |= {"load": load, "seconds": times}
                            row["mean_model_s"] = statistics.fmean(model)
                            rows.append(row)
                            log(
                                f"{problem:10s} {name:14s} seed {seed} {load:6s}: "
                                f"{row['mean_model_s']:.3f} s per model ask"
                            )
    finally:
        pool.terminate()
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"command": command, "threads": threads, "loads": list(loads), "seeds": list(seeds)}
    meta |= {"first_model_ask": first_model_ask, "versions": library_versions()}
    meta["commit"] = run_meta("latency").get("commit")
    (out_dir / "loop.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    path = out_dir / "LOOP.md"
    path.write_text(_markdown(rows, problem_names, names, meta))
    return path


def _markdown(
    rows: list[dict[str, Any]], problem_names: Sequence[str], names: list[str], meta: dict
) -> str:
    loads = meta["loads"]
    lines = [
        "# Seconds per model-based ask inside a running loop",
        "",
        f"Produced by `{meta['command']}` on {time.strftime('%Y-%m-%d %H:%M')}. Each cell: "
        f"the mean over seeds {meta['seeds']} of a run's mean time per ask from ask "
        f"{meta['first_model_ask'] + 1} to the end of the problem's budget (every "
        "contender's initial design is over by then); in brackets, the slowest run's mean. "
        "Each run is a fresh process; "
        + (
            "no thread setting is made in the harness (what a user's script gets). "
            if meta["threads"] is None
            else f"the harness sets {meta['threads']} thread(s). "
        )
        + "*loaded*: one busy-loop process per core but one runs beside the loop.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ". "
        f"Code commit: {meta.get('commit')}.",
        "",
        "| problem (evaluations) | "
        + " | ".join(f"{c} {ld}" for c in names for ld in loads)
        + " |",
        "|---" * (len(names) * len(loads) + 1) + "|",
    ]
    for problem in problem_names:
        cells = []
        for c in names:
            for load in loads:
                means = [
                    r["mean_model_s"]
                    for r in rows
                    if (r["problem"], r["contender"], r["load"]) == (problem, c, load)
                ]
                cells.append(f"{statistics.fmean(means):.3f} ({max(means):.3f})" if means else "–")
        budget = problems.get(problem).budget
        lines.append(f"| {problem} ({budget}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
