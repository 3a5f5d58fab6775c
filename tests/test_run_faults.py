"""minimize() under faults: trials told elsewhere, bad return values, dying workers, exits,
and a main process that is killed."""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import types
import warnings
from pathlib import Path

import _objectives as ob
import pytest

import bayesopt as bo
from bayesopt import _pool
from bayesopt._pool import WorkerPool

REPO = Path(__file__).resolve().parents[1]
FAST = bo.ProposeOptions(raw_samples=64, n_restarts=2, lbfgs_maxiter=20)
SPACE = bo.Space({"x": bo.Real(0.0, 1.0)})
DIED = "BrokenProcessPool: the worker process died"


def _quiet(**kwargs):
    return {"progress": False, "seed": 0, "propose_options": FAST, **kwargs}


@pytest.fixture
def quick_backoff(monkeypatch):
    """Rebuild broken pools without the back-off's waits (only the tests' time is at stake)."""
    monkeypatch.setattr(_pool, "MAX_BACKOFF_S", 0.01)


# --- a trial told by another process while minimize evaluates it ------------------------------


def _tell_pending_elsewhere(path: Path, value: float) -> list[int]:
    """Tell every pending trial of the journal at ``path`` through a second optimiser."""
    other = bo.Optimizer(SPACE, storage=path, seed=0, n_initial=4, propose_options=FAST)
    try:
        ids = [t.id for t in other.pending]
        for i in ids:
            other.tell(i, value)
    finally:
        other.close()
    return ids


def test_a_trial_told_elsewhere_while_f_runs_inline_is_a_warning_not_a_crash(tmp_path):
    path = tmp_path / "study.jsonl"
    told: list[int] = []

    def f(params):
        if len(told) == 0 and f.calls == 1:  # the second trial: told while it runs
            told.extend(_tell_pending_elsewhere(path, 123.0))
        f.calls += 1
        return ob.quadratic(params)

    f.calls = 0
    with pytest.warns(RuntimeWarning, match=r"trial 1 was already told.*result.*discarded"):
        result = bo.minimize(f, SPACE, 4, storage=path, **_quiet(n_initial=4))
    assert told == [1]
    assert len(result.trials) == 4 and all(t.state == "complete" for t in result.trials)
    assert result.trials[1].value == 123.0
    assert bo.load(path).trials[1].value == 123.0


def test_a_trial_told_elsewhere_while_a_worker_runs_it_is_a_warning_not_a_crash(tmp_path):
    path = tmp_path / "study.jsonl"
    told: list[int] = []

    def callback(opt, trial):
        if not told:  # the other trial is still in flight
            told.extend(_tell_pending_elsewhere(path, 123.0))

    f = functools.partial(ob.sleepy, 0.2)
    with pytest.warns(RuntimeWarning, match=r"trial \d was already told.*discarded"):
        result = bo.minimize(
            f, SPACE, 4, n_workers=2, storage=path, callbacks=(callback,), **_quiet(n_initial=4)
        )
    assert len(told) == 1
    assert len(result.trials) == 4 and all(t.state == "complete" for t in result.trials)
    assert result.trials[told[0]].value == 123.0


# --- a bad return value fails its trial, never the run -----------------------------------------


KINDS = ["str", "none", "array", "huge", "bad float", "no float", "bad repr"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_return_value_fails_its_trial_and_the_run_goes_on(kind):
    f = functools.partial(ob.bad_value, kind)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = bo.minimize(f, SPACE, 8, **_quiet(n_initial=8))
    assert len(result.trials) == 8
    bad = [t for t in result.trials if t.params["x"] > 0.5]
    assert bad and len(bad) < 8
    assert all(t.state == "failed" and t.error for t in bad)
    assert all(t.state == "complete" for t in result.trials if t.params["x"] <= 0.5)
    said = [w for w in caught if "the objective returned" in str(w.message)]
    assert all(issubclass(w.category, RuntimeWarning) for w in said)
    if kind == "huge":  # tell() may count it as a failure (as +-inf) or it is a conversion error
        assert len(said) <= 1
        return
    assert len(said) == 1  # once, not once per trial
    expected = {
        "str": "TypeError: the objective returned '0.5'",
        "none": "TypeError: the objective returned None",
        "array": "TypeError: the objective returned array([1., 2., 3.])",
        "bad float": "ValueError: the objective returned 0.5 (no float today)",
        "no float": "TypeError: the objective returned NoFloat()",
        "bad repr": "RuntimeError: the objective returned <BadRepr object> (no repr today)",
    }[kind]
    assert all(t.error == expected for t in bad)


def test_a_bad_return_value_from_a_worker_fails_its_trial_and_the_run_goes_on():
    f = functools.partial(ob.bad_value, "no float")
    with pytest.warns(RuntimeWarning, match=r"the objective returned NoFloat\(\)"):
        result = bo.minimize(f, SPACE, 6, n_workers=2, **_quiet(n_initial=6))
    assert len(result.trials) == 6
    for t in result.trials:
        bad = t.params["x"] > 0.5
        assert t.state == ("failed" if bad else "complete")
        assert t.error == ("TypeError: the objective returned NoFloat()" if bad else None)


# --- an objective that kills its worker ---------------------------------------------------------


def test_an_objective_that_often_kills_its_worker_fails_only_those_trials(quick_backoff):
    f = functools.partial(ob.crash_above, 0.2)  # kills its worker most of the time
    result = bo.minimize(f, SPACE, 8, n_workers=2, **_quiet(seed=2, n_initial=8))
    assert len(result.trials) == 8
    for t in result.trials:
        if t.params["x"] > 0.2:
            assert t.state == "failed" and t.error.startswith(DIED)
        else:
            assert t.state == "complete"
    assert {t.state for t in result.trials} == {"failed", "complete"}


@pytest.mark.slow  # the default back-off between pool rebuilds: ~3 s
def test_an_objective_that_often_kills_its_worker_with_the_default_backoff():
    f = functools.partial(ob.crash_above, 0.2)
    result = bo.minimize(f, SPACE, 8, n_workers=2, **_quiet(seed=2, n_initial=8))
    assert [t.state == "failed" for t in result.trials] == [
        t.params["x"] > 0.2 for t in result.trials
    ]


def test_when_every_trial_kills_its_worker_each_fails_and_the_run_ends(quick_backoff):
    f = functools.partial(ob.crash_above, -1.0)
    with pytest.warns(RuntimeWarning, match=r"all 5 trials failed; the first with: Broken"):
        result = bo.minimize(f, SPACE, 5, n_workers=2, **_quiet(n_initial=5))
    assert len(result.trials) == 5 and result.best is None
    assert all(t.state == "failed" and t.error.startswith(DIED) for t in result.trials)


def test_a_worker_pool_backs_off_between_rebuilds_after_deaths_in_a_row(monkeypatch, drain):
    slept: list[float] = []
    monkeypatch.setattr(_pool, "_sleep", slept.append)
    f = functools.partial(ob.crash_above, 0.5)
    items = [0.9, 0.8, 0.7, 0.95, 0.85, 0.75, 0.1, 0.6]
    out = drain(WorkerPool(f, lambda x: ({"x": x},), 1), items)
    assert out == {x: None if x > 0.5 else ob.quadratic({"x": x}) for x in items}
    # No wait after a first death; then doubling up to the cap; a result resets it.
    assert slept == [_pool.backoff(k) for k in range(2, 7)]
    assert _pool.backoff(0) == _pool.backoff(1) == 0.0 and _pool.backoff(2) > 0
    assert _pool.backoff(10**6) == _pool.MAX_BACKOFF_S
    cap = _pool.MAX_BACKOFF_S
    assert all(_pool.backoff(k + 1) == min(2 * _pool.backoff(k), cap) for k in range(2, 40))


def _unimportable(monkeypatch) -> functools.partial:
    """A picklable function whose module exists only in this process."""
    module = types.ModuleType("_only_in_the_main_process")

    def quadratic(params: dict) -> float:
        return ob.quadratic(params)

    quadratic.__module__ = module.__name__
    quadratic.__qualname__ = "quadratic"
    module.quadratic = quadratic
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return functools.partial(quadratic)


def test_an_f_the_workers_cannot_import_is_a_clear_error_at_once(monkeypatch, tmp_path):
    f = _unimportable(monkeypatch)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"No module named '_only_in_the_main_process'"):
        bo.minimize(f, SPACE, 4, n_workers=2, storage=tmp_path / "s.jsonl", **_quiet())
    with pytest.raises(RuntimeError, match=r"Define `f` in an importable module"):
        bo.minimize(f, SPACE, 4, n_workers=2, **_quiet())
    assert time.monotonic() - start < 30
    assert bo.load(tmp_path / "s.jsonl").trials == []  # checked before the first ask


def test_a_worker_pool_checks_once_that_its_workers_can_load_the_function(monkeypatch, drain):
    f = _unimportable(monkeypatch)
    pool = WorkerPool(f, lambda x: ({"x": x},), 2, hint="Try harder.")
    with pytest.raises(RuntimeError, match=r"cannot load.*No module named.*Try harder\.$"):
        drain(pool, [0.1, 0.2])


# --- SystemExit and KeyboardInterrupt from the objective ------------------------------------


@pytest.mark.parametrize(("code", "text"), [(3, "SystemExit: 3"), (None, "SystemExit: None"),
                                            ("bye", "SystemExit: bye")])  # fmt: skip
def test_sys_exit_in_f_fails_its_trial_inline(code, text):
    f = functools.partial(ob.exit_above, 0.5, code)
    result = bo.minimize(f, SPACE, 6, **_quiet(n_initial=6))
    assert len(result.trials) == 6
    for t in result.trials:
        bad = t.params["x"] > 0.5
        assert (t.state, t.error) == (("failed", text) if bad else ("complete", None))


def test_sys_exit_in_f_fails_its_trial_in_a_worker_too():
    f = functools.partial(ob.exit_above, 0.5, 3)
    result = bo.minimize(f, SPACE, 6, n_workers=2, **_quiet(n_initial=6))
    assert len(result.trials) == 6
    for t in result.trials:
        bad = t.params["x"] > 0.5
        assert (t.state, t.error) == (("failed", "SystemExit: 3") if bad else ("complete", None))


@pytest.mark.parametrize("n_workers", [1, 2], ids=["inline", "pool"])
def test_keyboard_interrupt_in_f_stops_the_run_and_leaves_its_trial_pending(tmp_path, n_workers):
    path = tmp_path / "study.jsonl"
    f = functools.partial(ob.interrupt_above, 0.5)
    with pytest.raises(KeyboardInterrupt):
        bo.minimize(f, SPACE, 8, n_workers=n_workers, storage=path, **_quiet(n_initial=8))
    study = bo.load(path)
    pending = [t for t in study.trials if t.state == "pending"]
    assert any(t.params["x"] > 0.5 for t in pending) and len(pending) <= n_workers
    assert len(study.trials) < 8


def test_other_base_exceptions_propagate_inline(tmp_path):
    class Stop(BaseException):
        pass

    def f(params):
        raise Stop

    path = tmp_path / "study.jsonl"
    with pytest.raises(Stop):
        bo.minimize(f, SPACE, 3, storage=path, **_quiet())
    assert [t.state for t in bo.load(path).trials] == ["pending"]


# --- workers end when the main process dies --------------------------------------------------


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_gone(pids, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_gone(p) for p in pids):
            return True
        time.sleep(0.05)
    return all(_gone(p) for p in pids)


WATCH = """
import pickle, sys, time
init, args = pickle.loads(bytes.fromhex(sys.argv[1]))
init(*args)
print("watching", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(os.name != "posix", reason="workers watch their parent on POSIX systems")
@pytest.mark.parametrize("poll", [None, 0.2], ids=["pidfd or poll", "poll"])
def test_a_worker_exits_when_the_process_it_watches_dies(poll):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        init = _pool.parent_watch(parent.pid, poll=poll)
        worker = subprocess.Popen(
            [sys.executable, "-c", WATCH, pickle.dumps(init).hex()],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert worker.stdout.readline() == "watching\n"
            time.sleep(0.3)
            assert worker.poll() is None  # alive while its parent is
            parent.kill()
            parent.wait()
            worker.wait(timeout=5)
        finally:
            worker.kill()
            worker.wait()
    finally:
        parent.kill()
        parent.wait()


KILLED = """
    import functools, bayesopt as bo, _objectives as ob
    if __name__ == "__main__":
        space = bo.Space({{"x": bo.Real(0.0, 1.0)}})
        f = functools.partial(ob.sleep_and_record, {folder!r}, 120.0)
        bo.minimize(f, space, 4, n_workers=2, seed=0, progress=False)
"""


@pytest.mark.slow  # a subprocess that imports torch, and its pool: ~3 s or more
@pytest.mark.skipif(os.name != "posix", reason="workers watch their parent on POSIX systems")
def test_the_workers_end_when_the_main_process_is_killed(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'tests'}", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED.format(folder=str(tmp_path)))],
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: cleaned up below whatever happens
    )
    try:
        deadline = time.monotonic() + 120
        while len(texts := [p.read_text() for p in tmp_path.iterdir()]) < 2 or not all(texts):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        pids = [int(text.split()[0]) for text in texts]
        assert proc.pid not in pids and not any(_gone(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, not its group
        proc.wait()
        assert _wait_gone(pids, 5.0), "the workers outlived the main process"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
