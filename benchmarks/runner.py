"""Run cells in worker processes, append each record as it finishes, resume where a run left.

Workers are started with the ``spawn`` method (a forked process inherits torch's thread
pools and can hang) and each one limits torch, BLAS and OpenMP to ``threads`` threads, so
that ``--workers N`` uses N cores. At most ``workers`` cells are in flight at a time. A
worker process that dies (out of memory, a segfault) is handled by the recovery policy of
``bayesopt.minimize`` (``bayesopt._pool.WorkerPool``): the pool is rebuilt (waiting a little
longer after each death in a row), the cells that were in flight together are re-run one at
a time, alone, and a cell whose worker dies while it runs alone is recorded as an error.
Workers that cannot start or import the benchmarks (checked once, before the first cell)
stop the run with a ``RuntimeError``. Every worker also runs ``bayesopt._pool.parent_watch``
at start, so a runner that is killed (even with ``SIGKILL``) takes its workers with it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import subprocess
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bayesopt._pool import WorkerPool, parent_watch
from benchmarks import store
from benchmarks.cell import Cell, estimate_seconds, library_versions, run_cell
from benchmarks.manifest import CODE_PATHS, host

__all__ = ["RunSummary", "init_worker", "make_pool", "pending_cells", "run", "run_meta"]


def init_worker(threads: int | None = 1) -> None:
    """Per-process set-up of a worker: thread limits (none when ``threads`` is ``None``),
    quiet logs and warnings."""
    if threads is not None:
        import sklearn.ensemble  # noqa: F401  (loads OpenMP so that the limit below covers it)
        import threadpoolctl
        import torch

        torch.set_num_threads(threads)
        threadpoolctl.threadpool_limits(threads)
    warnings.filterwarnings("ignore")
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass


def _init_watched_worker(
    watch: tuple[Callable[..., Any], tuple[Any, ...]], threads: int | None
) -> None:
    """``parent_watch``'s initializer (the worker ends with the runner), then
    ``init_worker``."""
    initializer, initargs = watch
    initializer(*initargs)
    init_worker(threads)


def make_pool(workers: int, threads: int | None) -> cf.ProcessPoolExecutor:
    """The runner's process pool: ``spawn`` workers that watch this process (they end when
    it ends, ``SIGKILL`` included) and set their threads (``init_worker``)."""
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_watched_worker,
        initargs=(parent_watch(), threads),
    )


def _run_in_worker(cell: Cell, meta: dict[str, Any]) -> dict[str, Any]:
    return run_cell(cell, meta)


@dataclass(frozen=True)
class RunSummary:
    """What one ``run`` did."""

    planned: int
    skipped: int
    ran: int
    errors: int
    wall_s: float


def run_meta(suite: str) -> dict[str, Any]:
    """Provenance stored in every record: the suite, the git commit of the code run, whether
    the library (``bayesopt_dirty``) and the library or the benchmarks (``tree_dirty``) had
    uncommitted changes, and the machine (``host``: CPU model, cores, OS)."""
    meta: dict[str, Any] = {"suite": suite, "host": host()}
    try:
        root = Path(__file__).resolve().parent.parent

        def git(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

        commit = git("rev-parse", "--short", "HEAD")
        if commit.returncode == 0:
            meta["commit"] = commit.stdout.strip()
            meta["bayesopt_dirty"] = bool(git("status", "--porcelain", "bayesopt").stdout.strip())
            tree = git("status", "--porcelain", *CODE_PATHS)
            meta["tree_dirty"] = bool(tree.stdout.strip())
    except OSError:
        pass
    return meta


def pending_cells(
    cells: Sequence[Cell], path: Path, *, retry_errors: bool = False
) -> tuple[list[Cell], int]:
    """The cells without a record in ``path`` (with only an error record, if asked).

    Returns:
        The cells still to run, most expensive first, and the number skipped as finished.
    """
    done = store.latest(store.read(path)[0])
    todo = []
    for cell in dict.fromkeys(cells):  # drop duplicates, keep order
        record = done.get(cell.key)
        if record is None or (retry_errors and record.get("status") != "ok"):
            todo.append(cell)
    todo.sort(key=lambda c: (-estimate_seconds(c), c))
    return todo, len(dict.fromkeys(cells)) - len(todo)


def run(
    cells: Sequence[Cell],
    path: Path,
    *,
    workers: int = 1,
    threads: int | None = None,
    meta: dict[str, Any] | None = None,
    retry_errors: bool = False,
    max_cells: int | None = None,
    progress: bool = True,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Run every cell of ``cells`` that ``path`` does not hold yet, appending records.

    Args:
        cells: the grid.
        path: the ``runs.jsonl`` file.
        workers: worker processes; 0 runs the cells in this process (tests, debugging),
            without the per-worker thread limits.
        threads: threads per worker (torch, BLAS, OpenMP); ``None`` makes no setting.
        meta: stored in each record (see ``run_meta``).
        retry_errors: run again the cells whose last record is an error.
        max_cells: run at most this many cells (a chunk; rerun for the next one).
        progress: show a tqdm bar with an ETA.
        on_record: called with each record after it was written.

    Returns:
        A ``RunSummary``.
    """
    start = time.perf_counter()
    todo, skipped = pending_cells(cells, path, retry_errors=retry_errors)
    if max_cells is not None:
        todo = todo[:max_cells]
    meta = {**(meta or {}), "versions_main": library_versions()}
    errors = 0
    costs = {c: estimate_seconds(c) for c in todo}
    bar = _progress_bar(sum(costs.values()), len(todo), enabled=progress)
    done = 0

    def write(cell: Cell, record: dict[str, Any]) -> None:
        nonlocal done, errors
        store.append(path, record)
        done += 1
        errors += record["status"] != "ok"
        bar.update(costs[cell])
        bar.set_description_str(f"cells {done}/{len(todo)}, errors {errors}")
        if on_record is not None:
            on_record(record)

    try:
        if workers == 0:  # in this process (tests, debugging)
            for cell in todo:
                write(cell, run_cell(cell, meta))
        else:
            _run_in_pool(todo, workers, threads, meta, write)
    except KeyboardInterrupt:
        bar.close()
        print(
            f"\ninterrupted: {done} cells written to {path}; rerun the same command to resume.",
            file=sys.stderr,
        )
        raise
    bar.close()
    return RunSummary(len(todo) + skipped, skipped, done, errors, time.perf_counter() - start)


def _run_in_pool(
    todo: Sequence[Cell],
    workers: int,
    threads: int | None,
    meta: dict[str, Any],
    write: Callable[[Cell, dict[str, Any]], None],
) -> None:
    """Run ``todo`` in order on ``workers`` processes, writing each record as it comes."""
    queue = deque(todo)
    pool: WorkerPool[Cell] = WorkerPool(
        _run_in_worker, lambda cell: (cell, meta), workers,
        make_pool=lambda n: make_pool(n, threads),
        hint="The worker processes cannot start or import the benchmarks.",
    )  # fmt: skip
    with pool:
        while True:
            pool.fill(lambda: queue.popleft() if queue else None)
            if not pool.busy:
                return
            for cell, future in pool.wait():
                write(cell, _died(cell, meta) if future is None else future.result())


def _died(cell: Cell, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **asdict(cell),
        "status": "error",
        "error": "BrokenProcessPool: the worker process died while running this cell alone "
        "(out of memory, a segfault or a signal)",
        "meta": meta,
        "versions": library_versions(),
    }


class _NoBar:
    """Stands in for tqdm when it is not installed or the bar is disabled."""

    def update(self, n: float) -> None:
        """Ignore progress."""

    def set_description_str(self, text: str) -> None:
        """Ignore the description."""

    def close(self) -> None:
        """Nothing to close."""


def _progress_bar(total_cost: float, n_cells: int, *, enabled: bool) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the bench extra
        return _NoBar()
    return tqdm(
        total=round(total_cost, 1),
        disable=not enabled or n_cells == 0,
        unit="est-s",
        bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
        desc=f"cells 0/{n_cells}, errors 0",
        dynamic_ncols=True,
    )
