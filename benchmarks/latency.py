"""Latency of one ask after ``n`` pre-loaded random observations, per optimiser.

Each point is the median of a few repeats (fresh optimiser, new random observations per
repeat). Only the step that proposes the next point is timed:

* bayesopt: observations go in with ``Optimizer.add``; ``ask()`` is timed (GP fit inside).
* optuna-gp / optuna-tpe: ``study.add_trial(optuna.trial.create_trial(...))``; ``study.ask``
  is timed (the GP is fitted inside).
* skopt-gp: scikit-optimize fits its GP and optimises the acquisition inside ``tell``, so
  ``opt.tell(all_x, all_y)`` followed by ``opt.ask()`` is timed.
* botorch-plain: the plain BoTorch loop a user would write: ``SingleTaskGP`` (BoTorch
  defaults) + ``fit_gpytorch_mll`` + ``LogExpectedImprovement`` + ``optimize_acqf`` with 10
  restarts and 512 raw samples, float64, on the unit cube; fit and optimisation are timed.

Every measurement runs in a fresh worker process, so that its peak memory can be read:
*peak MB* is how far the process's peak resident set grew during the timed step
(``ru_maxrss`` after minus before), reported beside the size of one ``n x n`` float64
matrix. By default the worker makes no thread setting, so each library runs as a user's
script would run it (bayesopt and Optuna limit their own threads during an ask; the plain
BoTorch loop does not). Each point is measured under each load of ``LOADS``: idle, and
beside one busy-loop process per core but one. Once a point's ask takes longer than
``cap_s``, larger ``n`` are skipped for that contender, problem and load; a measurement
(pre-loading included) that runs past ``HARD_LIMIT_FACTOR * cap_s + HARD_LIMIT_SLACK_S``
is killed.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import contenders, problems
from benchmarks.cell import library_versions
from benchmarks.runner import init_worker, run_meta

__all__ = ["LATENCY", "LOADS", "cpu_load", "run_latency"]

HARD_LIMIT_FACTOR = 5.0
HARD_LIMIT_SLACK_S = 60.0


def _observations(name: str, n: int, seed: int) -> tuple[Any, list[dict], list[float]]:
    problem = problems.get(name)
    xs = problem.space.sample(n, seed=seed, sobol=False)
    return problem.space, xs, [problem.fn(x) for x in xs]


def _peak_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


Step = Callable[[], object]
"""The timed step of one probe, prepared (observations loaded) and ready to run."""


def _bayesopt(acquisition: str, **options: Any) -> Callable[[str, int, int], Step]:
    def prepare(name: str, n: int, seed: int) -> Step:
        import bayesopt as bo

        space, xs, ys = _observations(name, n, seed)
        opt = bo.Optimizer(space, seed=seed, acquisition=acquisition, **options)
        for x, y in zip(xs, ys, strict=True):
            opt.add(x, y)
        return opt.ask

    return prepare


def _botorch_plain(device: str) -> Callable[[str, int, int], Step]:
    def prepare(name: str, n: int, seed: int) -> Step:
        import torch

        from benchmarks.contenders import botorch_plain_step

        space, xs, ys = _observations(name, n, seed)
        X = torch.stack([space.to_unit(x) for x in xs]).to(device, torch.float64)
        Y = -torch.tensor(ys, dtype=torch.float64, device=device).unsqueeze(-1)
        return lambda: botorch_plain_step(X, Y, seed)

    return prepare


def _optuna(kind: str) -> Callable[[str, int, int], Step]:
    def prepare(name: str, n: int, seed: int) -> Step:
        import optuna

        from benchmarks.contenders import _optuna_distribution

        space, xs, ys = _observations(name, n, seed)
        sampler = (
            optuna.samplers.GPSampler(seed=seed)
            if kind == "gp"
            else optuna.samplers.TPESampler(seed=seed)
        )
        study = optuna.create_study(direction="minimize", sampler=sampler)
        dists = {k: _optuna_distribution(p) for k, p in space.items()}
        for x, y in zip(xs, ys, strict=True):
            study.add_trial(
                optuna.trial.create_trial(params=x, distributions=dists, value=float(y))
            )
        return lambda: study.ask(dists)

    return prepare


def _skopt(name: str, n: int, seed: int) -> Step:
    import skopt

    from benchmarks.contenders import _skopt_dimension

    space, xs, ys = _observations(name, n, seed)
    opt = skopt.Optimizer(
        [_skopt_dimension(p) for p in space.values()],
        base_estimator="GP",
        acq_func="gp_hedge",
        n_initial_points=10,
        random_state=seed,
    )
    X = [[x[k] for k in space.names] for x in xs]

    def step() -> object:
        opt.tell(X, [float(y) for y in ys])
        return opt.ask()

    return step


LATENCY: dict[str, Callable[[str, int, int], Step]] = {
    "bayesopt": _bayesopt("qlognei"),
    "botorch-plain": _botorch_plain("cpu"),
    "botorch-plain-cuda": _botorch_plain("cuda"),
    "bayesopt-cuda": _bayesopt("qlognei", device="cuda"),
    "bayesopt-1thread": _bayesopt("qlognei", threads=1),
    "bayesopt-nolimit": _bayesopt("qlognei", threads=None),
    "bayesopt-logei": _bayesopt("logei"),
    "bayesopt-ucb": _bayesopt("ucb"),
    "optuna-gp": _optuna("gp"),
    "optuna-tpe": _optuna("tpe"),
    "skopt-gp": _skopt,
}
"""``{probe: (problem, n, seed) -> the prepared timed step}``."""

REQUIRES = {"bayesopt-cuda": "a CUDA GPU", "botorch-plain-cuda": "a CUDA GPU"}


def _measure(contender: str, problem: str, n: int, seed: int) -> tuple[float, int]:
    """Seconds of the timed step and how far the peak resident set grew during it.

    A warm-up ask on 20 observations runs first, untimed: a fresh process pays one-time
    costs (lazy imports, first-call dispatch) that a running optimiser has long paid.
    """
    import gc

    LATENCY[contender](problem, min(n, 20), seed + 10_000)()
    step = LATENCY[contender](problem, n, seed)
    gc.collect()
    before = _peak_bytes()
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    return seconds, max(0, _peak_bytes() - before)


def _pool(threads: int | None) -> Any:
    # One process per measurement: a fresh peak resident set for each.
    return multiprocessing.get_context("spawn").Pool(1, init_worker, (threads,), maxtasksperchild=1)


LOADS = ("idle", "loaded")
"""``idle``: nothing else runs. ``loaded``: one busy-loop process per core but one runs
beside the measurement, as when the model being tuned, or ``minimize``'s workers, keep
the other cores busy."""


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def cpu_load(load: str) -> Iterator[int]:
    """Run the block under ``load`` (one of ``LOADS``); yields the number of busy processes."""
    if load not in LOADS:
        raise ValueError(f"`load` must be one of {LOADS}, but got {load!r}.")
    if load == "idle":
        yield 0
        return
    n = max(1, len(os.sched_getaffinity(0)) - 1)
    procs = [multiprocessing.get_context("spawn").Process(target=_spin) for _ in range(n)]
    for proc in procs:
        proc.daemon = True
        proc.start()
    try:
        yield n
    finally:
        for proc in procs:
            proc.terminate()
            proc.join()


def run_latency(
    out_dir: Path,
    *,
    problem_names: Sequence[str],
    contender_names: Sequence[str],
    ns: Sequence[int],
    repeats: int = 3,
    cap_s: float = 60.0,
    threads: int | None = None,
    loads: Sequence[str] = LOADS,
    command: str = "",
    log: Callable[[str], None] = print,
) -> Path:
    """Measure, then write ``LATENCY.md``, ``latency.json`` and ``latency.png``.

    Args:
        out_dir: folder of the outputs.
        problem_names: problems whose spaces and objectives give the observations.
        contender_names: keys of ``LATENCY``; those not installed are skipped with a notice.
        ns: observation counts, measured in increasing order.
        repeats: timed asks per point (median reported).
        cap_s: once an ask takes longer, larger ``n`` are skipped.
        threads: threads of the measuring process; ``None`` (default) leaves torch's and
            BLAS's defaults, as a user gets them.
        loads: the machine states to measure under (see ``LOADS``).
        command: the command line, printed into ``LATENCY.md``.
        log: where progress lines go.

    Returns:
        The path of ``LATENCY.md``.
    """
    names = []
    for name in contender_names:
        if name not in LATENCY:
            raise KeyError(f"no latency probe for {name!r}; known: {', '.join(LATENCY)}")
        if _available(name):
            names.append(name)
        else:
            log(f"notice: skipping {name}: {_requirement(name)} missing")
    rows: list[dict[str, Any]] = []
    pool = _pool(threads)
    try:
        for problem in problem_names:
            # n-major order: every contender is measured at one n (under each load) before
            # any moves on, so a shared machine's drift affects all of them alike.
            skip_from: dict[tuple[str, str], int] = {}
            for n in sorted(ns):
                for load in loads:
                    with cpu_load(load):
                        for name in names:
                            row = {"problem": problem, "contender": name, "n": n, "load": load}
                            if (name, load) in skip_from:
                                at = skip_from[name, load]
                                row["skipped"] = f"an ask took > {cap_s:g} s at n={at}"
                            else:
                                pool = _measure_point(pool, row, threads, repeats, cap_s)
                                if row["over_cap"]:
                                    skip_from[name, load] = n
                            rows.append(row)
                            log(f"{problem:10s} {name:16s} {load:6s} n={n:6d}: {_seconds(row)}")
    finally:
        pool.terminate()
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"command": command, "threads": threads, "cap_s": cap_s, "repeats": repeats}
    meta["loads"] = list(loads)
    meta["cores"] = len(os.sched_getaffinity(0))
    meta["versions"] = library_versions()
    meta["commit"] = run_meta("latency").get("commit")
    (out_dir / "latency.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    _plot(rows, problem_names, names, out_dir / "latency.png")
    path = out_dir / "LATENCY.md"
    path.write_text(_markdown(rows, problem_names, names, meta))
    return path


def _measure_point(
    pool: Any, row: dict[str, Any], threads: int | None, repeats: int, cap_s: float
) -> Any:
    """Fill ``row`` with up to ``repeats`` timings; returns the (possibly rebuilt) pool."""
    hard_limit = HARD_LIMIT_FACTOR * cap_s + HARD_LIMIT_SLACK_S
    times, peaks = [], []
    for r in range(repeats):
        job = pool.apply_async(_measure, (row["contender"], row["problem"], row["n"], r))
        try:
            seconds, peak = job.get(timeout=hard_limit)
            times.append(seconds)
            peaks.append(peak)
        except multiprocessing.TimeoutError:
            pool.terminate()
            pool = _pool(threads)
            times.append(math.inf)
        if times[-1] > cap_s:
            break
    row["over_cap"] = max(times) > cap_s
    row["seconds"] = [t if math.isfinite(t) else None for t in times]
    row["median_s"] = statistics.median(times)
    row["peak_bytes"] = max(peaks) if peaks else None
    return pool


def _available(name: str) -> bool:
    if name in REQUIRES:
        import torch

        return torch.cuda.is_available()
    if name in contenders.registry():
        return contenders.get(name).available()
    return True


def _requirement(name: str) -> str:
    if name in REQUIRES:
        return REQUIRES[name]
    return ", ".join(contenders.get(name).requires)


def _peak(row: dict[str, Any]) -> str:
    peak = row.get("peak_bytes")
    if peak is None:
        return "–"
    matrix = 8 * row["n"] ** 2
    return f"{peak / 2**20:,.0f} ({peak / matrix:.1f}×)"


def _seconds(row: dict[str, Any], repeats: int = 1) -> str:
    if "skipped" in row:
        return "skipped"
    med = row["median_s"]
    if not math.isfinite(med):
        return "killed (hard limit)"
    return f"{med:.3f}" + (" (1 run)" if len(row["seconds"]) < repeats else "")


def _markdown(
    rows: list[dict[str, Any]], problem_names: Sequence[str], names: list[str], meta: dict
) -> str:
    loads = meta.get("loads", ["idle"])
    threads = meta["threads"]
    setting = (
        "torch's and BLAS's default threads (no thread setting in the harness: what a user gets)"
        if threads is None
        else f"{threads} thread(s) set in the harness"
    )
    lines = [
        "# Ask latency after n observations",
        "",
        f"Produced by `{meta['command']}` on {time.strftime('%Y-%m-%d %H:%M')}, on "
        f"{meta.get('cores', '?')} cores, with {setting}; median of up to {meta['repeats']} "
        f"repeats (a point whose first ask exceeds the {meta['cap_s']:g} s cap is not "
        "repeated, and larger n are skipped for that contender). Seconds.",
        "",
        "*idle*: nothing else runs. *loaded*: one busy-loop process per core but one runs "
        "beside the measurement (the model being tuned, or `minimize`'s workers).",
        "",
        "Timed step: bayesopt `ask()`; Optuna `study.ask()`; scikit-optimize `tell(all "
        "points)` + `ask()` (it fits its GP inside `tell`); the plain BoTorch loop's fit and "
        "`optimize_acqf`.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ". "
        f"Code commit: {meta.get('commit')}.",
        "",
    ]
    cols = [(c, load) for c in names for load in loads]
    for problem in problem_names:
        table = {
            (r["contender"], r.get("load", "idle"), r["n"]): r
            for r in rows
            if r["problem"] == problem
        }
        ns = sorted({r["n"] for r in rows if r["problem"] == problem})
        lines += [f"## {problem} (d = {problems.get(problem).dim})", ""]
        seconds = [
            [_cell(table, (c, load, n), _seconds, meta["repeats"]) for c, load in cols] for n in ns
        ]
        lines += _grid(ns, [f"{c} {load}" for c, load in cols], seconds)
        if "botorch-plain" in names:
            others = [col for col in cols if col[0] != "botorch-plain"]
            lines += [
                "Speed-up over the plain BoTorch loop under the same load (its median time "
                "divided by theirs, same run):",
                "",
            ]
            ratios = [
                [_ratio(table, ("botorch-plain", load, n), (c, load, n)) for c, load in others]
                for n in ns
            ]
            lines += _grid(ns, [f"{c} {load}" for c, load in others], ratios)
        lines += [
            "Peak memory of the timed step, MiB (growth of the process's peak resident set; "
            "in brackets, as a multiple of one n × n float64 matrix):",
            "",
        ]
        peaks = [[_cell(table, (c, load, n), _peak) for c, load in cols] for n in ns]
        lines += _grid(ns, [f"{c} {load}" for c, load in cols], peaks)
        notes = {
            f"{r['contender']} {r.get('load', 'idle')}": r["skipped"]
            for r in rows
            if r["problem"] == problem and "skipped" in r
        }
        lines += [f"- {c}: larger n skipped ({why})." for c, why in notes.items()]
        lines.append("")
    lines.append("![latency](latency.png)")
    return "\n".join(lines) + "\n"


def _grid(ns: Sequence[int], header: list[str], cells: list[list[str]]) -> list[str]:
    """A Markdown table: one row per ``n``, one column per header entry."""
    out = ["| n | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    out += [f"| {n} | " + " | ".join(row) + " |" for n, row in zip(ns, cells, strict=True)]
    return [*out, ""]


def _cell(table: dict, key: tuple, fmt: Callable[..., str], *args: Any) -> str:
    return fmt(table[key], *args) if key in table else "–"


def _ratio(table: dict, ref_key: tuple, key: tuple) -> str:
    ref = table.get(ref_key, {}).get("median_s", math.nan)
    t = table.get(key, {}).get("median_s", math.nan)
    ok = math.isfinite(ref) and math.isfinite(t) and t > 0
    return f"{ref / t:.1f}×" if ok else "–"


def _plot(
    rows: list[dict[str, Any]], problem_names: Sequence[str], names: list[str], path: Path
) -> None:
    from benchmarks.figures import _pyplot, styles_for

    plt = _pyplot()
    fig, axes = plt.subplots(
        1,
        len(problem_names),
        figsize=(5 * len(problem_names), 4),
        squeeze=False,
        constrained_layout=True,
    )
    styles = styles_for(names)
    for ax, problem in zip(axes.flat, problem_names, strict=True):
        for name in names:
            for load in sorted({r.get("load", "idle") for r in rows}):
                pts = [
                    (r["n"], r["median_s"])
                    for r in rows
                    if r["problem"] == problem
                    and r["contender"] == name
                    and r.get("load", "idle") == load
                    and math.isfinite(r.get("median_s", math.nan))
                ]
                if not pts:
                    continue
                color, style, _ = styles[name]
                marker = "o" if load == "idle" else "x"
                style = style if load == "idle" else ":"
                ax.plot(
                    *zip(*pts, strict=True),
                    marker=marker, color=color, linestyle=style, label=f"{name} ({load})",
                )  # fmt: skip
        d = problems.get(problem).dim
        ax.set(xscale="log", yscale="log", xlabel="observations n", ylabel="seconds per ask")
        ax.set_title(f"{problem} (d = {d})")
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
