"""Command line of the benchmark suite: python -m benchmarks COMMAND, installed as the
console script bayesopt-bench. See benchmarks/README.md."""

from __future__ import annotations

import argparse
import copy
import heapq
import importlib
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import contenders, presets, problems, store
from benchmarks.cell import Cell, estimate_seconds

__all__ = ["main"]


def _names(text: str) -> list[str]:
    return [t for t in text.replace(" ", ",").split(",") if t]


def _seeds(text: str) -> list[int]:
    """``"0-9"``, ``"0,3,5"`` or a mix of both."""
    out: list[int] = []
    for part in _names(text):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


class _Format(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default; a list default as the comma-separated text the option
    takes (``50,200,500``), not as a Python list."""

    def _expand_help(self, action: argparse.Action) -> str:
        if isinstance(action.default, list | tuple):
            action = copy.copy(action)
            action.default = ",".join(str(x) for x in action.default)
        return super()._expand_help(action)


_FORMAT = _Format
THREADS_HELP = (
    "threads per worker (torch, BLAS, OpenMP); default: no setting, so each library runs "
    "with its own defaults, as in a user's script"
)


def _common() -> argparse.ArgumentParser:
    """Options every subcommand also accepts after its name (no default there, so a value
    given before the subcommand is kept)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--results",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"results folder (default: {store.RESULTS})",
    )
    return common


DELEGATED = {
    "sklearn": (
        "benchmarks.sklearn_search",
        "BayesSearchCV against RandomizedSearchCV, skopt and Optuna",
    ),
    "automl": (
        "benchmarks.automl",
        "run|report: controller, evolution, GP and TPE against random-2x on nas-digits",
    ),
    "multifidelity": (
        "benchmarks.multifidelity",
        "run|report: multi-fidelity methods on learning curves, compared at equal cost",
    ),
    "structured": (
        "benchmarks.structured",
        "run|report: conditional (CASH) spaces against TPE, SMAC and random-2x",
    ),
    "outcomes": (
        "benchmarks.outcomes",
        "run|report --suite constrained|multiobjective: black-box constraints and several "
        "objectives against Optuna's GP, TPE and NSGA-II and random-2x",
    ),
}
"""Subcommands that hand their arguments to an experiment's own ``main``."""


def _parser(prog: str = "python -m benchmarks") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=_FORMAT)
    parser.add_argument("--results", type=Path, default=store.RESULTS, help="results folder")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, text: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, parents=[_common()], formatter_class=_FORMAT, **kw)

    add("list", "list problems, contenders and presets")
    _add_run(add("run", "run a grid of cells (resumable)"))
    report = add("report", "write REPORT.md, curves.png and cd.png for a suite")
    report.add_argument("--suite", default="standard", help="results subfolder")
    bbob = add("bbob-report", "write REPORT.md, ECDFs and CD diagrams of a BBOB suite")
    bbob.add_argument("--suite", default="bbob", help="results subfolder")
    export = add("export", "write one CSV row per evaluation of a suite")
    export.add_argument(
        "--suite", required=True, default=argparse.SUPPRESS, help="results subfolder"
    )
    export.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="output format (parquet needs pyarrow and a file --out)",
    )
    export.add_argument("--out", default="-", help="file to write; - is standard output (csv)")
    _add_latency(add("latency", "time one ask after n observations"))
    comp = add("compare", "one contender's new run against its recorded one (Wilcoxon + Holm)")
    comp.add_argument(
        "--old", type=Path, required=True, default=argparse.SUPPRESS, help="the recorded runs.jsonl"
    )
    comp.add_argument(
        "--new", type=Path, required=True, default=argparse.SUPPRESS, help="the new runs.jsonl"
    )
    comp.add_argument("--contender", default="bayesopt", help="the contender compared")
    comp.add_argument(
        "--out", type=Path, required=True, default=argparse.SUPPRESS, help="Markdown file to write"
    )
    _add_hypergrad(
        add(
            "hypergrad",
            "hypergradients vs BO vs random search on digits (wall-clock budgets)",
            description="Defaults are the full experiment: experiments A,B; models logreg,mlp; "
            "seeds 0-9; budgets 60,300 s (hours of CPU). Resumable; see "
            "benchmarks/hypergrad.py.",
        )
    )
    ablation = add("ablation", "run the factor study (preset 'ablation') and write its report")
    ablation.add_argument("--no-run", action="store_true", help="only write the report")
    ablation.add_argument("--workers", type=int, default=1, help="worker processes")
    ablation.add_argument("--threads", type=int, help=THREADS_HELP)
    for name, (_, text) in DELEGATED.items():
        add(name, f"{text} (own options: {name} --help)", add_help=False)
    return parser


def _add_run(run: argparse.ArgumentParser) -> None:
    run.add_argument("--preset", choices=presets.names(), help="named grid")
    run.add_argument("--suite", help="results subfolder (None: the preset's name)")
    run.add_argument("--problems", type=_names, help="comma-separated (filters a preset)")
    run.add_argument("--family", help="only problems of this family (filters)")
    run.add_argument("--contenders", type=_names, help="comma-separated (filters a preset)")
    run.add_argument("--seeds", type=_seeds, help="e.g. 0-9 or 0,2,4 (filters a preset)")
    run.add_argument("--budget", type=int, help="override every problem's budget")
    run.add_argument("--workers", type=int, default=1, help="worker processes (0: in-process)")
    run.add_argument("--threads", type=int, help=THREADS_HELP)
    run.add_argument("--max-cells", type=int, help="run at most this many cells, then stop")
    run.add_argument("--retry-errors", action="store_true", help="rerun cells that errored")
    run.add_argument("--dry-run", action="store_true", help="print the plan and its cost")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_latency(latency: argparse.ArgumentParser) -> None:
    latency.add_argument(
        "--n", type=_seeds, default=[50, 200, 500, 1000, 2000], help="observation counts"
    )
    latency.add_argument(
        "--problems", type=_names, default=["hartmann6", "ackley20"], help="comma-separated"
    )
    latency.add_argument(
        "--contenders",
        type=_names,
        default=["bayesopt", "botorch-plain", "optuna-gp", "skopt-gp"],
        help="comma-separated",
    )
    latency.add_argument("--repeats", type=int, default=3, help="timed asks per point")
    latency.add_argument("--cap", type=float, default=60.0, help="seconds; skip larger n after")
    latency.add_argument(
        "--threads",
        type=int,
        help="threads of the timing process (None: no setting, as a user's script runs)",
    )
    latency.add_argument("--loads", type=_names, default=["idle", "loaded"], help="idle, loaded")
    latency.add_argument(
        "--loop",
        action="store_true",
        help="time model asks inside full seeded runs (LOOP.md) instead of one ask after n",
    )
    latency.add_argument("--seeds", type=_seeds, default=[0, 1, 2], help="runs of --loop")
    latency.add_argument("--out", type=Path, help="output folder (None: <results>/latency)")


def _add_hypergrad(hyper: argparse.ArgumentParser) -> None:
    hyper.add_argument(
        "action", nargs="?", default="all", choices=["all", "run", "memory", "report"],
        help="run cells, measure memory, write the report, or all three",
    )  # fmt: skip
    hyper.add_argument("--experiments", type=_names, default=["A", "B"], help="A, B")
    hyper.add_argument("--models", type=_names, default=["logreg", "mlp"], help="logreg, mlp")
    hyper.add_argument("--methods", type=_names, default=["hypergrad", "bayesopt", "random",
                       "sgd-hd"], help="runners (random also gives random-2x)")  # fmt: skip
    hyper.add_argument("--seeds", type=_seeds, default=list(range(10)), help="e.g. 0-9")
    hyper.add_argument("--budgets", type=lambda t: [float(x) for x in _names(t)],
                       default=[60.0, 300.0], help="seconds, e.g. 60,300")  # fmt: skip
    hyper.add_argument("--workers", type=int, default=1, help="worker processes (1 thread each)")
    hyper.add_argument("--steps", type=_seeds, default=[50, 100, 200, 400, 800],
                       help="T values of the memory measurement")  # fmt: skip
    hyper.add_argument("--out", type=Path, help="output folder (None: <results>/hypergrad)")


def _prog() -> str:
    """``bayesopt-bench`` when run through the console script, else ``python -m benchmarks``."""
    script = "bayesopt-bench"
    return script if sys.argv and Path(sys.argv[0]).name == script else "python -m benchmarks"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks`` and ``bayesopt-bench``.

    Args:
        argv: the arguments after the program name (None: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in DELEGATED:  # experiments with their own options
        module = importlib.import_module(DELEGATED[argv[0]][0])
        return int(module.main(argv[1:]))
    prog = _prog()
    args = _parser(prog).parse_args(argv)
    args.command_line = f"{prog} {shlex.join(argv)}"
    commands = {"list": _list, "run": _run, "report": _report, "latency": _latency}
    commands |= {"hypergrad": _hypergrad, "ablation": _ablation, "compare": _compare}
    commands["export"] = _export
    commands["bbob-report"] = _bbob_report
    return int(commands[args.command](args))


def _list(args: argparse.Namespace) -> int:
    print("problems:")
    for name, p in problems.registry().items():
        optimum = "tuning" if p.optimum is None else f"f*={p.optimum:.6g}"
        print(f"  {name:18s} {p.family:9s} d={p.dim:<3d} budget={p.budget:<4d} {optimum:16s}")
    bbob = problems.names("bbob")
    print(f"  {bbob[0]} .. {bbob[-1]}: {len(bbob)} BBOB problems (family bbob, budget 20 d)")
    print("contenders:")
    for name, c in contenders.registry().items():
        status = "" if c.available() else f"  [not installed: {c.needs}]"
        print(f"  {name:16s} {c.description}{status}")
    print(
        f"  NAME-qK          NAME asked K points per round, told together (batch mode), for "
        f"NAME in {', '.join(contenders.BATCHABLE)}"
    )
    print("presets:")
    for name, p in presets.registry().items():
        print(f"  {name:9s} {len(p.cells()):5d} cells  {p.description}")
    return 0


def select_cells(args: argparse.Namespace) -> list[Cell]:
    """The cells a ``run`` command asks for: a preset, filtered, or an explicit grid.

    Without a preset, ``--problems`` or ``--family`` is needed; contenders default to all
    and seeds to 0-9.
    """
    if args.preset:
        cells = presets.get(args.preset).cells()
    else:
        if not (args.problems or args.family):
            raise SystemExit("give --preset, or --problems / --family")
        names = args.problems or problems.names(args.family)
        cells = [
            Cell(p, c, s, problems.get(p).budget)
            for p in names
            for c in args.contenders or contenders.names()
            for s in args.seeds or range(10)
        ]
    if args.problems:
        for name in args.problems:
            problems.get(name)
        cells = [c for c in cells if c.problem in args.problems]
    if args.family:
        cells = [c for c in cells if problems.get(c.problem).family == args.family]
    if args.contenders:
        for name in args.contenders:
            contenders.get(name)
        cells = [c for c in cells if c.contender in args.contenders]
    if args.seeds is not None:
        cells = [c for c in cells if c.seed in args.seeds]
    if args.budget:
        cells = [Cell(c.problem, c.contender, c.seed, args.budget) for c in cells]
    return cells


def drop_unavailable(cells: list[Cell]) -> list[Cell]:
    """Cells of installed contenders; one notice per contender left out."""
    missing = {c.contender for c in cells if not contenders.get(c.contender).available()}
    for name in sorted(missing):
        need = contenders.get(name).needs
        print(f"notice: skipping {name}: needs {need}, which is not installed", file=sys.stderr)
    return [c for c in cells if c.contender not in missing]


def makespan(costs: Sequence[float], workers: int) -> float:
    """Wall time of running ``costs`` longest first on ``workers`` (list scheduling)."""
    loads = [0.0] * max(1, workers)
    for cost in sorted(costs, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + cost)
    return max(loads)


def _run(args: argparse.Namespace) -> int:
    from benchmarks import runner

    cells = drop_unavailable(select_cells(args))
    suite = args.suite or args.preset or "custom"
    path = store.suite_dir(suite, args.results) / store.RUNS
    todo, skipped = runner.pending_cells(cells, path, retry_errors=args.retry_errors)
    if args.max_cells is not None:
        todo = todo[: args.max_cells]
    costs = [estimate_seconds(c) for c in todo]
    print(
        f"suite {suite}: {len(cells)} cells, {skipped} finished, {len(todo)} to run; "
        f"estimated {sum(costs):,.0f} cell-seconds, about {makespan(costs, args.workers) / 60:.1f}"
        f" min on {args.workers} worker(s) -> {path}"
    )
    if args.dry_run:
        by_contender: dict[str, float] = defaultdict(float)
        for cell, cost in zip(todo, costs, strict=True):
            by_contender[cell.contender] += cost
        for name, cost in sorted(by_contender.items(), key=lambda kv: -kv[1]):
            print(f"  {name:16s} {cost:9,.0f} cell-s")
        return 0
    if not todo:
        return 0
    started, clock = time.strftime("%Y-%m-%d %H:%M:%S"), time.perf_counter()
    written = {"cells": 0, "errors": 0}

    def count(record: dict[str, Any]) -> None:
        written["cells"] += 1
        written["errors"] += record.get("status") != "ok"

    def log(outcome: str) -> None:
        with (path.parent / "commands.log").open("a", encoding="utf-8") as fh:
            fh.write(
                f"{started}\t{args.command_line}\t{outcome} {written['cells']} cells "
                f"({written['errors']} errors) in {time.perf_counter() - clock:.0f} s\n"
            )

    try:
        summary = runner.run(
            cells,
            path,
            workers=args.workers,
            threads=args.threads,
            meta={**runner.run_meta(suite), "threads": args.threads},
            retry_errors=args.retry_errors,
            max_cells=args.max_cells,
            progress=not args.no_progress,
            on_record=count,
        )
    except BaseException:  # interrupted or killed by an error: still log what was written
        log("interrupted after")
        raise
    log("ran")
    print(
        f"done: {summary.ran} cells run ({summary.errors} errors), {summary.skipped} skipped, "
        f"{summary.wall_s:.0f} s. Next: python -m benchmarks report --suite {suite}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from benchmarks import report

    out = report.write_report(store.suite_dir(args.suite, args.results), args.command_line)
    print(f"wrote {out}")
    return 0


def _bbob_report(args: argparse.Namespace) -> int:
    from benchmarks.bbob_report import write_bbob_report

    out = write_bbob_report(store.suite_dir(args.suite, args.results), args.command_line)
    print(f"wrote {out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from benchmarks.export import export_csv

    folder = store.suite_dir(args.suite, args.results)
    if args.format == "parquet":
        from benchmarks.export import export_parquet

        if args.out == "-":
            raise SystemExit("--format parquet writes a file: give --out FILE.parquet")
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        n = export_parquet(folder, out, args.suite)
    elif args.out == "-":
        n = export_csv(folder, sys.stdout, args.suite)
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            n = export_csv(folder, fh, args.suite)
    print(f"exported {n} evaluations of {folder} ({args.format})", file=sys.stderr)
    return 0


def _ablation(args: argparse.Namespace) -> int:
    from benchmarks import ablation

    if not args.no_run:  # block by block: the most important comparisons come first
        from benchmarks import runner

        path = store.suite_dir("ablation", args.results) / store.RUNS
        for i, block in enumerate(presets.get("ablation").blocks):
            cells = drop_unavailable(block.cells())
            todo, _ = runner.pending_cells(cells, path)
            print(f"ablation block {i + 1}: {len(todo)} of {len(cells)} cells to run", flush=True)
            if todo:
                runner.run(
                    cells,
                    path,
                    workers=args.workers,
                    threads=args.threads,
                    meta=runner.run_meta("ablation"),
                    progress=False,
                )
    out = ablation.write_report(
        store.suite_dir("ablation", args.results),
        args.command_line,
        standard_dir=store.suite_dir("standard", args.results),
    )
    print(f"wrote {out}")
    return 0


def _latency(args: argparse.Namespace) -> int:
    from benchmarks import latency, loop_latency

    folder = args.out or args.results / "latency"
    common = {"problem_names": args.problems, "contender_names": args.contenders}
    common |= {"threads": args.threads, "loads": args.loads, "command": args.command_line}
    if args.loop:
        out = loop_latency.run_loop(folder, seeds=args.seeds, **common)
    else:
        out = latency.run_latency(folder, ns=args.n, repeats=args.repeats, cap_s=args.cap, **common)
    print(f"wrote {out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from benchmarks.compare import write_comparison

    out = write_comparison(args.old, args.new, args.contender, args.out, args.command_line)
    print(f"wrote {out}")
    return 0


def _hypergrad(args: argparse.Namespace) -> int:
    from benchmarks import hypergrad

    args.out = args.out or args.results / "hypergrad"
    return hypergrad.main_hypergrad(args)
