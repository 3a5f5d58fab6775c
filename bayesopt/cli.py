"""The ``bayesopt`` command: look at a journalled study, export it, or drive it from a shell.

Examples::

    bayesopt show study.jsonl                 # summary, best trial, recent trials
    bayesopt best study.jsonl --json          # the best trial as JSON
    bayesopt export study.jsonl --csv out.csv # one row per trial ("-" for stdout)
    bayesopt plot study.jsonl --out study.png # history and parallel coordinates
    bayesopt report study.jsonl --html r.html # one self-contained page: figures and table
    bayesopt ask study.jsonl                  # {"id": 7, "params": {...}} on stdout
    bayesopt tell study.jsonl 7 0.53          # record the value of trial 7

``ask`` and ``tell`` open the study as a writer, so an objective written in any language
(or run by hand) can drive it; several shells may do so at once. A value ``nan`` or
``inf`` (or ``--failed``) records a failure. Errors are one line on stderr naming the file,
with exit status 1; a wrong command line exits with 2.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import json
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bayesopt.asktell import AskTell, load
from bayesopt.journal import JournalError, JournalWarning
from bayesopt.trial import Trial, TrialState

__all__ = ["main", "open_study"]


class _Failure(Exception):
    """A one-line error for stderr."""


def open_study(path: str | Path) -> AskTell:
    """The study in a journal, opened as a writer (its class, space, seed and settings).

    Raises:
        FileNotFoundError: there is no such file.
        JournalError: it is not a journal, or names a class that is not imported.
    """
    snapshot = load(path)
    settings = snapshot.settings()
    if snapshot.pruner is not None:
        settings["pruner"] = snapshot.pruner
    return type(snapshot)(
        snapshot.space, seed=snapshot.seed, maximize=snapshot.maximize, storage=path,
        **settings,
    )  # fmt: skip


def _read(path: str) -> AskTell:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JournalWarning)  # a write in progress
        return load(path)


def _trial_json(trial: Trial) -> dict[str, Any]:
    out: dict[str, Any] = {"id": trial.id, "state": trial.state.value, "params": trial.params}
    if trial.value is not None:
        out["value"] = trial.value
    if trial.error is not None:
        out["error"] = trial.error
    if trial.intermediate:
        out["intermediate"] = [list(p) for p in trial.intermediate]
    return out


def _fields(records: list[dict[str, Any]]) -> list[str]:
    """Every key of the records, in order of first appearance (the table's columns)."""
    return list(dict.fromkeys(k for r in records for k in r))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# Subcommands ----------------------------------------------------------------------------------
def _show(args: argparse.Namespace, out: TextIO) -> None:
    study = _read(args.study)
    trials = study.trials
    states = {s.value: sum(t.state is s for t in trials) for s in TrialState}
    out.write(f"study     {args.study}\n")
    out.write(f"proposer  {type(study).__name__} (seed {study.seed}, ")
    out.write(f"{'maximize' if study.maximize else 'minimize'})\n")
    out.write(f"space     {', '.join(f'{n}: {p!r}' for n, p in study.space.items())}\n")
    out.write(f"trials    {len(trials)}: ")
    out.write(", ".join(f"{n} {s}" for s, n in states.items() if n) or "none")
    out.write("\n")
    if study.outcomes is not None and study.outcomes.multi:
        front = study.pareto_front()
        out.write(f"front     {len(front)} Pareto-optimal trial(s): ")
        out.write(", ".join(f"#{t.id}" for t in front) or "none")
        out.write("\n")
        best = None
    else:
        best = study.best
    if best is not None:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
        out.write(f"best      #{best.id}  {_fmt(best.value)}  ({params})\n")
    if trials:
        out.write(f"\nlast {min(args.last, len(trials))} trials:\n")
        names = list(study.space.names)
        rows = [["id", "state", "value", *names]]
        for t in trials[-args.last :]:
            value = "" if t.value is None else _fmt(t.value)
            cells = (_fmt(t.params[n]) if n in t.params else "-" for n in names)  # inactive
            rows.append([str(t.id), t.state.value, value, *cells])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            out.write("\n")


def _best(args: argparse.Namespace, out: TextIO) -> None:
    study = _read(args.study)
    if study.outcomes is not None and study.outcomes.multi:
        raise _Failure(
            f"{args.study}: the study has several objectives and no single best trial; "
            "see its Pareto front (bayesopt.load(path).pareto_front())"
        )
    best = study.best
    if best is None:
        feasible = " feasible" if study.outcomes is not None and study.outcomes.constraints else ""
        raise _Failure(f"{args.study}: no complete{feasible} trial yet")
    if args.json:
        out.write(json.dumps(_trial_json(best)) + "\n")
    else:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
        out.write(f"#{best.id}  {_fmt(best.value)}  ({params})\n")


def _export(args: argparse.Namespace, out: TextIO) -> None:
    records = _read(args.study).to_records()
    fields = _fields(records)
    target = out if args.csv == "-" else open(args.csv, "w", newline="")  # noqa: SIM115
    try:
        writer = csv.DictWriter(target, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    finally:
        if target is not out:
            target.close()


def _figure(study: AskTell) -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise _Failure("plotting needs matplotlib: pip install matplotlib") from None
    from bayesopt import plot

    has_curves = any(t.intermediate for t in study.trials)
    n = 3 if has_curves else 2
    fig, axes = plt.subplots(n, 1, figsize=(8, 3.6 * n))
    plot.history(study, ax=axes[0])
    if sum(t.state is TrialState.COMPLETE for t in study.trials) >= 2:
        plot.parallel_coordinates(study, ax=axes[1])
    else:
        axes[1].set_axis_off()
    if has_curves:
        plot.curves(study, ax=axes[2])
    fig.tight_layout()
    return fig


def _plot(args: argparse.Namespace, out: TextIO) -> None:
    study = _read(args.study)
    if not study.trials:
        raise _Failure(f"{args.study}: no trials to plot")
    fig = _figure(study)
    fig.savefig(args.out, dpi=110)
    out.write(f"wrote {args.out}\n")


def _report(args: argparse.Namespace, out: TextIO) -> None:
    study = _read(args.study)
    buffer = io.BytesIO()
    figure = ""
    if study.trials:
        _figure(study).savefig(buffer, format="png", dpi=100)
        figure = base64.b64encode(buffer.getvalue()).decode("ascii")
    summary = io.StringIO()
    _show(argparse.Namespace(study=args.study, last=0), summary)
    records = study.to_records()
    fields = _fields(records)
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(f, '')))}</td>" for f in fields) + "</tr>"
        for r in records
    )
    title = html.escape(Path(args.study).name)
    image = f'<img alt="history" src="data:image/png;base64,{figure}">' if figure else ""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style></head><body>"
        f"<h1>{title}</h1><pre>{html.escape(summary.getvalue())}</pre>{image}"
        f"<h2>Trials</h2><table><tr>{head}</tr>{rows}</table></body></html>\n"
    )
    Path(args.html).write_text(page, encoding="utf-8")
    out.write(f"wrote {args.html}\n")


def _ask(args: argparse.Namespace, out: TextIO) -> None:
    study = open_study(args.study)
    try:
        trials = study.ask(args.n)
    finally:
        study.close()
    for t in trials:
        out.write(json.dumps({"id": t.id, "params": t.params}) + "\n")


def _tell(args: argparse.Namespace, out: TextIO) -> None:
    if args.failed or args.error is not None:
        if args.value is not None:
            raise _Failure("pass either VALUE or --failed/--error, not both")
        value = None
    elif args.value is None:
        raise _Failure("pass VALUE, or --failed")
    else:
        try:
            value = float(args.value)
        except ValueError:
            raise _Failure(f"VALUE must be a number, but got {args.value!r}") from None
    study = open_study(args.study)
    try:
        if value is None:
            told = study.tell(args.id, failed=True, error=args.error)
        else:
            told = study.tell(args.id, value)
    finally:
        study.close()
    shown = "" if told.value is None or math.isnan(told.value) else f" {_fmt(told.value)}"
    out.write(f"trial {told.id}: {told.state.value}{shown}\n")


# The command line -----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayesopt",
        description="Look at a journalled bayesopt study, export it, or drive it from a shell.",
        epilog="Example: bayesopt show study.jsonl",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, text: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text, epilog=f"Example: {example}",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
        p.add_argument("study", help="the journal file (storage=... of the study)")
        return p

    p = command("show", "summary, best trial and recent trials", "bayesopt show study.jsonl")
    p.add_argument("--last", type=int, default=10, help="how many recent trials to list")
    p.set_defaults(run=_show)
    p = command("best", "the best complete trial", "bayesopt best study.jsonl --json")
    p.add_argument("--json", action="store_true", help="print it as one JSON object")
    p.set_defaults(run=_best)
    p = command("export", "one CSV row per trial", "bayesopt export study.jsonl --csv out.csv")
    p.add_argument("--csv", default="-", help="output file; - for stdout")
    p.set_defaults(run=_export)
    p = command("plot", "history and parallel coordinates (needs matplotlib)",
                "bayesopt plot study.jsonl --out study.png")  # fmt: skip
    p.add_argument("--out", default="study.png", help="the PNG to write")
    p.set_defaults(run=_plot)
    p = command("report", "a self-contained HTML page: summary, figures, trials",
                "bayesopt report study.jsonl --html report.html")  # fmt: skip
    p.add_argument("--html", default="report.html", help="the page to write")
    p.set_defaults(run=_report)
    p = command("ask", "propose trials; prints one JSON object per trial",
                "bayesopt ask study.jsonl -n 2")  # fmt: skip
    p.add_argument("-n", type=int, default=1, help="how many trials")
    p.set_defaults(run=_ask)
    p = command("tell", "record a trial's value (nan, inf or --failed: a failure)",
                "bayesopt tell study.jsonl 7 0.53")  # fmt: skip
    p.add_argument("id", type=int, help="the trial id that ask printed")
    p.add_argument("value", nargs="?", default=None, help="the objective value")
    p.add_argument("--failed", action="store_true", help="record a failure")
    p.add_argument("--error", default=None, help="why it failed (implies --failed)")
    p.set_defaults(run=_tell)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 error, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        args.run(args, out or sys.stdout)
    except (_Failure, JournalError) as exc:
        return _error(str(exc))
    except FileNotFoundError as exc:
        return _error(f"{exc.filename or args.study}: no such file")
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        return _error(f"{args.study}: {exc}")
    return 0


def _error(message: str) -> int:
    sys.stderr.write(f"bayesopt: {' '.join(message.split())}\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
