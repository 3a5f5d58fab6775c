"""BayesSearchCV against RandomizedSearchCV, scikit-optimize and Optuna on scikit-learn tasks.

``python -m benchmarks.sklearn_search`` tunes two models on three bundled data sets with four
search classes, each given the same number of candidates (``--n-iter``, 25) and the same
3-fold cross-validation:

* ``bayesopt``: ``bayesopt.sklearn.BayesSearchCV`` (defaults);
* ``random``: ``sklearn.model_selection.RandomizedSearchCV`` over the same ranges (log-uniform
  where the others search on a log scale);
* ``skopt``: ``skopt.BayesSearchCV`` (scikit-optimize's GP-based search, defaults);
* ``optuna``: ``optuna_integration.OptunaSearchCV`` (Optuna's TPE sampler, defaults).

Problems: ``svc`` (standardised inputs, an RBF ``SVC``, ``C`` and ``gamma`` log-scaled) and
``hgb`` (``HistGradientBoostingClassifier`` with ``HGB_ITER`` boosting rounds: learning rate,
leaves, minimum leaf size and L2 penalty, all log-scaled) on ``load_digits``,
``load_breast_cancer`` and ``load_wine``. Each seed draws its own stratified 75/25
train/test split and its own shuffled ``StratifiedKFold``, shared by the four methods, and
seeds each search (``random_state``) and the boosting. A cell records the refit model's test
accuracy, the best CV accuracy (``best_score_``), wall and CPU seconds of ``fit``.

The run is one process with one thread for every library (``threadpoolctl``, torch), cells
seed by seed with the method order rotated per seed, so load on a shared machine falls on
every method alike. Each cell appends one JSON line to ``runs.jsonl`` when it finishes
(``benchmarks.store``); a rerun skips finished cells. ``--report`` only writes ``REPORT.md``
and ``sklearn_search.png`` from the records: win/tie/loss of bayesopt against each peer by
paired two-sided Wilcoxon signed-rank tests over seeds, Holm-corrected over the problems,
with a hand-written ``NOTES.md`` of the results folder, if there is one, after the set-up.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import stats, store
from benchmarks.runner import init_worker, run_meta

__all__ = ["Cell", "cell_key", "main", "run_cell", "write_report"]

RESULTS = Path(__file__).resolve().parent / "results" / "sklearn"
RUNS = "runs.jsonl"
DATASETS = ("digits", "breast_cancer", "wine")
MODELS = ("svc", "hgb")
METHODS = ("bayesopt", "random", "skopt", "optuna")
PEERS = ("random", "skopt", "optuna")
N_ITER = 25
CV = 3
TEST_SIZE = 0.25
HGB_ITER = 30
LABELS = {
    "bayesopt": "bayesopt BayesSearchCV",
    "random": "RandomizedSearchCV",
    "skopt": "skopt BayesSearchCV",
    "optuna": "OptunaSearchCV (TPE)",
}
COLOURS = {"bayesopt": "C0", "random": "C7", "skopt": "C1", "optuna": "C2"}

# Search spaces: (kind, low, high, log) per parameter, translated for each library.
SPACES: dict[str, dict[str, tuple[str, float, float, bool]]] = {
    "svc": {
        "svc__C": ("real", 1e-2, 1e3, True),
        "svc__gamma": ("real", 1e-5, 1e1, True),
    },
    "hgb": {
        "learning_rate": ("real", 1e-2, 1.0, True),
        "max_leaf_nodes": ("int", 3, 63, True),
        "min_samples_leaf": ("int", 1, 64, True),
        "l2_regularization": ("real", 1e-6, 10.0, True),
    },
}


Cell = tuple[str, str, int, str, int]
"""``(dataset, model, seed, method, n_iter)``."""


def cell_key(record: dict[str, Any]) -> Cell:
    """What identifies a cell's record."""
    return (
        record["dataset"],
        record["model"],
        int(record["seed"]),
        record["method"],
        int(record["n_iter"]),
    )


# Problems ------------------------------------------------------------------------------------
def load(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled scikit-learn data set: ``n x d`` inputs and labels."""
    from sklearn import datasets

    loaders = {
        "digits": datasets.load_digits,
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
    }
    return loaders[dataset](return_X_y=True)


def make_estimator(model: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if model == "svc":
        return make_pipeline(StandardScaler(), SVC())
    if model == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=HGB_ITER, early_stopping=False, random_state=seed
        )
    raise ValueError(f"unknown model {model!r}; one of {MODELS}")


class LogUniformInt:
    """Integers drawn log-uniformly on ``{low, ..., high}`` (bins at the half-integers, as
    ``bayesopt.Integer(log=True)`` encodes them), for ``RandomizedSearchCV``."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def rvs(self, random_state: Any = None) -> int:
        from sklearn.utils import check_random_state

        rng = check_random_state(random_state)
        x = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
        return int(min(max(round(x), self.low), self.high))


def make_search(method: str, model: str, seed: int, n_iter: int, cv: Any) -> Any:
    """The search object of ``method`` for ``model``, seeded by ``seed``."""
    space = SPACES[model]
    estimator = make_estimator(model, seed)
    if method == "bayesopt":
        import bayesopt as bo
        from bayesopt.sklearn import BayesSearchCV

        kinds = {"real": bo.Real, "int": bo.Integer}
        spec = {k: kinds[kind](lo, hi, log=log) for k, (kind, lo, hi, log) in space.items()}
        return BayesSearchCV(estimator, spec, n_iter=n_iter, cv=cv, random_state=seed)
    if method == "random":
        from scipy.stats import loguniform, uniform
        from sklearn.model_selection import RandomizedSearchCV

        def dist(kind: str, lo: float, hi: float, log: bool) -> Any:
            if kind == "int":
                return LogUniformInt(int(lo), int(hi)) if log else list(range(int(lo), int(hi) + 1))
            return loguniform(lo, hi) if log else uniform(lo, hi - lo)

        spec = {k: dist(*v) for k, v in space.items()}
        return RandomizedSearchCV(estimator, spec, n_iter=n_iter, cv=cv, random_state=seed)
    if method == "skopt":
        from skopt import BayesSearchCV as SkoptSearch
        from skopt.space import Integer, Real

        kinds = {"real": Real, "int": Integer}
        spec = {
            k: kinds[kind](lo, hi, prior="log-uniform" if log else "uniform")
            for k, (kind, lo, hi, log) in space.items()
        }
        return SkoptSearch(estimator, spec, n_iter=n_iter, cv=cv, random_state=seed)
    if method == "optuna":
        from optuna.distributions import FloatDistribution, IntDistribution
        from optuna_integration import OptunaSearchCV

        kinds = {"real": FloatDistribution, "int": IntDistribution}
        spec = {k: kinds[kind](lo, hi, log=log) for k, (kind, lo, hi, log) in space.items()}
        return OptunaSearchCV(estimator, spec, n_trials=n_iter, cv=cv, random_state=seed)
    raise ValueError(f"unknown method {method!r}; one of {METHODS}")


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("bayesopt", "scikit-learn", "scikit-optimize", "optuna", "optuna-integration"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _plain(x: Any) -> Any:
    """A value as JSON holds it (numpy scalars to Python ones)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, np.generic):
        return x.item()
    return x


def run_cell(cell: Cell, cv_folds: int = CV) -> dict[str, Any]:
    """Run one search and measure it; an exception becomes an error record."""
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    dataset, model, seed, method, n_iter = cell
    record: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "method": method,
        "n_iter": n_iter,
        "cv": cv_folds,
    }
    X, y = load(dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    folds = StratifiedKFold(cv_folds, shuffle=True, random_state=seed)
    try:
        search = make_search(method, model, seed, n_iter, folds)
        wall, cpu = time.perf_counter(), time.process_time()
        search.fit(X_train, y_train)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        means = np.asarray(search.cv_results_["mean_test_score"], dtype=float)
        record |= {
            "status": "ok",
            "cv_score": float(search.best_score_),
            "test_score": float(accuracy_score(y_test, search.best_estimator_.predict(X_test))),
            "wall_s": wall,
            "cpu_s": cpu,
            "n_candidates": len(means),
            "n_failed": int(np.sum(~np.isfinite(means))),
            "best_params": _plain(dict(search.best_params_)),
        }
    except Exception as exc:  # a peer that breaks must not stop the run
        record |= {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    return record


def cells(
    datasets: Sequence[str], models: Sequence[str], methods: Sequence[str], seeds: Sequence[int],
    n_iter: int,
) -> list[Cell]:  # fmt: skip
    """Seed by seed, the method order rotated per seed."""
    out = []
    for seed in seeds:
        k = seed % len(methods)
        order = [*methods[k:], *methods[:k]]
        for dataset in datasets:
            for model in models:
                out += [(dataset, model, seed, m, n_iter) for m in order]
    return out


def run(todo: Sequence[Cell], path: Path, meta: dict[str, Any], cv_folds: int = CV) -> int:
    """Run the cells not yet in ``path`` (one process, one thread); returns how many ran."""
    init_worker(1)
    done = {cell_key(r) for r in store.read(path, cell_key)[0] if r.get("status") == "ok"}
    todo = [c for c in todo if c not in done]
    versions = _versions()
    for i, cell in enumerate(todo, start=1):
        record = run_cell(cell, cv_folds) | {"versions": versions, "meta": meta}
        store.append(path, record)
        status = record["status"]
        extra = f"test {record['test_score']:.4f}" if status == "ok" else record["error"][:120]
        print(f"[{i}/{len(todo)}] {cell}: {status} {extra}", flush=True)
    return len(todo)


# The report ----------------------------------------------------------------------------------
def _latest(records: list[dict[str, Any]]) -> dict[Cell, dict[str, Any]]:
    return {cell_key(r): r for r in records}


def write_report(
    out_dir: Path, command: str = "", date: str | None = None, n_iter: int = N_ITER
) -> Path:
    """``REPORT.md`` and ``sklearn_search.png`` from the records of ``out_dir/runs.jsonl``
    with ``n_iter`` candidates per search."""
    records, _ = store.read(out_dir / RUNS, cell_key)
    latest = [r for r in _latest(records).values() if r["n_iter"] == n_iter]
    ok = [r for r in latest if r.get("status") == "ok"]
    errors = [r for r in latest if r.get("status") == "error"]
    problems = [(d, m) for d in DATASETS for m in MODELS if any(
        r["dataset"] == d and r["model"] == m for r in ok)]  # fmt: skip
    methods = [m for m in METHODS if any(r["method"] == m for r in ok)]

    def values(problem: tuple[str, str], method: str, key: str) -> dict[int, float]:
        return {
            r["seed"]: float(r[key])
            for r in ok
            if (r["dataset"], r["model"]) == problem and r["method"] == method
        }

    lines = [
        "# BayesSearchCV against RandomizedSearchCV, scikit-optimize and Optuna",
        "",
        f"Made by `{command or 'python -m benchmarks.sklearn_search'}`"
        + (f" ({date})" if date else "")
        + ". The set-up is in the docstring of `benchmarks/sklearn_search.py`.",
        "",
        "## Set-up",
        "",
        f"* Candidates per search: {n_iter}; cross-validation: "
        f"{CV}-fold stratified, shuffled per seed; test set: a stratified {TEST_SIZE:.0%} "
        "per seed. Seeds: " + _ranges(sorted({r["seed"] for r in ok})) + ".",
        "* Problems: an RBF SVC on standardised inputs (`C` in [1e-2, 1e3], `gamma` in "
        f"[1e-5, 1e1], both log-scaled) and a HistGradientBoostingClassifier ({HGB_ITER} rounds, "
        "no early stopping; learning rate in [0.01, 1], leaves in [3, 63], min samples per "
        "leaf in [1, 64], L2 penalty in [1e-6, 10], all log-scaled), each on digits (1,797 x 64, "
        "10 classes), breast cancer (569 x 30, 2) and wine (178 x 13, 3).",
        "* Methods (defaults of each library): "
        + "; ".join(f"`{m}`: {LABELS[m]}" for m in methods)
        + ".",
        "* One process, one thread for every library, `nice -n 10`, on a 2-core x86-64 Linux VM "
        "shared with other jobs: wall times are indicative, CPU seconds less noisy.",
        "* Versions: " + _versions_line(ok) + ".",
        "",
    ]
    log = out_dir / "commands.log"  # the runs behind the records
    if log.exists():
        runs = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
        lines += ["Runs (`commands.log`):", ""]
        lines += [f"* {' '.join(r[:1])}: `{r[1]}`, {' '.join(r[2:])}" for r in runs if len(r) > 1]
        lines.append("")
    notes = out_dir / "NOTES.md"  # a hand-written reading of the results, if any
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").strip(), ""]
    lines += _answer_section(problems, methods, values)
    for key, title, fmt in (
        ("test_score", "Test accuracy of the refit model", "{:.4f}"),
        ("cv_score", "Best cross-validation accuracy (`best_score_`)", "{:.4f}"),
        ("cpu_s", "CPU seconds of `fit`", "{:.1f}"),
        ("wall_s", "Wall seconds of `fit`", "{:.1f}"),
    ):
        lines += [f"## {title}: median [25 %, 75 %] over seeds", ""]
        lines += _table(problems, methods, lambda p, m, k=key: list(values(p, m, k).values()), fmt)
    if errors:
        lines += ["## Errors", ""]
        lines += [
            f"* {r['dataset']} {r['model']} seed {r['seed']} {r['method']}: {r['error'][:300]}"
            for r in errors
        ]
        lines.append("")
    if ok:
        _figure(out_dir / "sklearn_search.png", problems, methods, values)
        lines += ["## Figure", "", "![per-seed differences](sklearn_search.png)", ""]
        lines += [
            "Each dot is one seed: the method's accuracy minus RandomizedSearchCV's on the same "
            "split and folds (above zero: better than random search; a bar is the median). "
            "Last column: CPU (top) and wall (bottom) seconds per search, over all problems.",
            "",
        ]
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


METRICS = (
    ("test_score", "test accuracy", 1.0, "{:+.4f}"),
    ("cv_score", "CV accuracy", 1.0, "{:+.4f}"),
    ("cpu_s", "CPU seconds", -1.0, "{:+.1f} s"),
)
"""Compared metrics: key, name, +1 when higher is better (-1: lower), format of a difference."""


def _answer_section(
    problems: list[tuple[str, str]], methods: list[str], values: Callable[..., dict[int, float]]
) -> list[str]:
    """Win/tie/loss of bayesopt against each peer, per metric, raw and Holm-corrected, and
    every loss: significant ones and worse medians."""
    if "bayesopt" not in methods:
        return []
    lines = [
        "## bayesopt against each peer",
        "",
        "Paired two-sided Wilcoxon signed-rank tests over seeds (same split, same folds), "
        "per problem; Holm's correction over the six problems of each peer and metric. "
        "W/T/L from bayesopt's side (for CPU seconds, a win is a cheaper search); `overall` "
        "is one Wilcoxon test over every (problem, seed) pair, with the median of "
        "bayesopt's value minus the peer's.",
        "",
        "| peer | metric | W/T/L raw | W/T/L Holm | overall (median difference, p) |",
        "|---|---|---|---|---|",
    ]
    losses: list[str] = []
    for peer in [m for m in PEERS if m in methods]:
        for key, name, sign, fmt in METRICS:
            comps, diffs, medians = {}, [], {}
            for p in problems:
                a, b = values(p, "bayesopt", key), values(p, peer, key)
                seeds = sorted(set(a) & set(b))
                if len(seeds) < 2:
                    continue
                comps[p] = stats.compare(
                    [-sign * a[s] for s in seeds], [-sign * b[s] for s in seeds]
                )
                d = [a[s] - b[s] for s in seeds]
                diffs += d
                medians[p] = float(np.median(d))
            if not comps:
                continue
            holm = stats.holm_outcomes(comps)
            lines.append(
                f"| {LABELS[peer]} | {name} | {_wtl([c.outcome for c in comps.values()])} | "
                f"{_wtl(list(holm.values()))} | {_overall(diffs, fmt)} |"
            )
            for p, comp in comps.items():
                lost = comp.outcome == stats.Outcome.LOSS
                if not (lost or sign * medians[p] < 0):
                    continue
                if not lost:
                    verdict = f"not significant (p = {comp.p_value:.3g})"
                elif holm[p] == stats.Outcome.LOSS:
                    verdict = f"significant (p = {comp.p_value:.3g}), and after Holm's correction"
                else:
                    verdict = f"significant (p = {comp.p_value:.3g}), not after Holm's correction"
                losses.append(
                    f"* {_name(p)}, {name}, against {LABELS[peer]}: median difference "
                    f"{fmt.format(medians[p])}, {verdict}; {comp.n_pairs} seeds."
                )
    lines += ["", "### Where bayesopt loses", ""]
    lines += losses or ["* Nowhere: no worse median and no significant loss."]
    lines += [
        "",
        "Every worse median is listed, significant or not. Test accuracy moves in whole test "
        "points: one is 0.0022 on digits (450 test points), 0.0070 on breast cancer (143) and "
        "0.022 on wine (45).",
        "",
    ]
    return lines


def _overall(diffs: list[float], fmt: str) -> str:
    d = np.asarray([x for x in diffs if x != 0])
    if len(d) < 2:
        return "no difference"
    from scipy.stats import wilcoxon

    p = float(wilcoxon(d, alternative="two-sided").pvalue)
    return f"{fmt.format(float(np.median(diffs)))}, p = {p:.3g} ({len(diffs)} pairs)"


def _wtl(outcomes: list[stats.Outcome]) -> str:
    count = {o: sum(x == o for x in outcomes) for o in stats.Outcome}
    return f"{count[stats.Outcome.WIN]}/{count[stats.Outcome.TIE]}/{count[stats.Outcome.LOSS]}"


def _name(problem: tuple[str, str]) -> str:
    return f"{problem[0]} / {problem[1]}"


def _table(
    problems: list[tuple[str, str]],
    methods: list[str],
    get: Callable[[tuple[str, str], str], list[float]],
    fmt: str,
) -> list[str]:
    lines = [
        "| problem | " + " | ".join(LABELS[m] for m in methods) + " |",
        "|---|" + "---|" * len(methods),
    ]
    for p in problems:
        cells_ = []
        for m in methods:
            xs = get(p, m)
            if not xs:
                cells_.append("-")
                continue
            lo, med, hi = np.quantile(xs, [0.25, 0.5, 0.75])
            cells_.append(f"{fmt.format(med)} [{fmt.format(lo)}, {fmt.format(hi)}] (n={len(xs)})")
        lines.append(f"| {_name(p)} | " + " | ".join(cells_) + " |")
    return [*lines, ""]


def _figure(
    path: Path,
    problems: list[tuple[str, str]],
    methods: list[str],
    values: Callable[..., dict[int, float]],
) -> None:
    """Per problem, CV and test accuracy minus random search's, per seed; CPU seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    others = [m for m in methods if m != "random"]
    fig, axes = plt.subplots(2, len(problems) + 1, figsize=(2.3 * (len(problems) + 1), 5.6))
    axes = np.atleast_2d(axes)
    for row, (key, label) in enumerate((("cv_score", "CV acc. - random's"),
                                        ("test_score", "test acc. - random's"))):  # fmt: skip
        for col, p in enumerate(problems):
            ax = axes[row, col]
            base = values(p, "random", key)
            for i, m in enumerate(others):
                v = values(p, m, key)
                d = [v[s] - base[s] for s in sorted(set(v) & set(base))]
                jitter = np.linspace(-0.15, 0.15, len(d)) if len(d) > 1 else np.zeros(len(d))
                ax.scatter(i + jitter, d, s=10, color=COLOURS[m], alpha=0.7)
                if d:
                    ax.hlines(np.median(d), i - 0.3, i + 0.3, color=COLOURS[m], lw=2)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xticks(range(len(others)), others, rotation=45, fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if row == 0:
                ax.set_title(_name(p), fontsize=8)
            if col == 0:
                ax.set_ylabel(label, fontsize=8)
    for row, key in enumerate(("cpu_s", "wall_s")):
        ax = axes[row, -1]
        for i, m in enumerate(methods):
            xs = [x for p in problems for x in values(p, m, key).values()]
            ax.boxplot(xs, positions=[i], widths=0.6, showfliers=False)
        ax.set_yscale("log")
        ax.set_xticks(range(len(methods)), methods, rotation=45, fontsize=7)
        ax.set_title(f"{'CPU' if key == 'cpu_s' else 'wall'} s per search", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _versions_line(records: list[dict[str, Any]]) -> str:
    seen: dict[str, set[str]] = {}
    for r in records:
        for k, v in r.get("versions", {}).items():
            seen.setdefault(k, set()).add(v)
    return ", ".join(f"{k} {'/'.join(sorted(v))}" for k, v in seen.items()) or "unknown"


def _ranges(xs: Sequence[int]) -> str:
    if not xs:
        return "none"
    out, start = [], xs[0]
    for a, b in zip(xs, [*xs[1:], None], strict=True):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out)


# Command line --------------------------------------------------------------------------------
def _names(text: str) -> list[str]:
    return [t for t in text.replace(" ", ",").split(",") if t]


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in _names(text):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (resumable), then write its report.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sklearn_search",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--datasets", type=_names, default=list(DATASETS), help="comma-separated")
    parser.add_argument("--models", type=_names, default=list(MODELS), help="svc, hgb")
    parser.add_argument("--methods", type=_names, default=list(METHODS), help="comma-separated")
    parser.add_argument("--seeds", type=_seeds, default=list(range(10)), help="e.g. 0-9")
    parser.add_argument("--n-iter", type=int, default=N_ITER, help="candidates per search")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--report", action="store_true", help="only write the report")
    parser.add_argument("--max-cells", type=int, help="run at most this many cells, then stop")
    args = parser.parse_args(argv)
    for name, given, known in (
        ("dataset", args.datasets, DATASETS),
        ("model", args.models, MODELS),
        ("method", args.methods, METHODS),
    ):
        unknown = sorted(set(given) - set(known))
        if unknown:
            parser.error(f"unknown {name}(s) {unknown}; choose from {list(known)}")
    command = " ".join(["python -m benchmarks.sklearn_search", shlex.join(argv)]).strip()
    path = args.out / RUNS
    if not args.report:
        todo = cells(args.datasets, args.models, args.methods, args.seeds, args.n_iter)
        if args.max_cells is not None:
            done = {cell_key(r) for r in store.read(path, cell_key)[0] if r.get("status") == "ok"}
            todo = [c for c in todo if c not in done][: args.max_cells]
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        wall = time.perf_counter()
        n = run(todo, path, run_meta("sklearn"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with (path.parent / "commands.log").open("a", encoding="utf-8") as fh:
            fh.write(f"{started}\t{command}\tran {n} cells in {time.perf_counter() - wall:.0f} s\n")
    out = write_report(args.out, command, date=time.strftime("%Y-%m-%d"), n_iter=args.n_iter)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
