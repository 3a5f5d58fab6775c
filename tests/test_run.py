"""minimize() and maximize(): the loop, executors, faults, progress, interrupts."""

from __future__ import annotations

import concurrent.futures as cf
import functools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import _objectives as ob
import numpy as np
import pytest
import torch

import bayesopt as bo

REPO = Path(__file__).resolve().parents[1]
FAST = bo.ProposeOptions(raw_samples=64, n_restarts=2, lbfgs_maxiter=20)
SPACE = bo.Space({"x": bo.Real(0.0, 1.0)})


def _quiet(**kwargs):
    return {"progress": False, "seed": 0, "propose_options": FAST, **kwargs}


def _pids(folder: Path) -> list[int]:
    return [int(p.read_text().split()[0]) for p in folder.iterdir()]


# --- the loop --------------------------------------------------------------------------------


def test_minimize_returns_the_best_trial_the_trials_and_the_optimizer():
    result = bo.minimize(ob.quadratic, SPACE, 10, **_quiet(n_initial=4))
    assert isinstance(result, bo.Result) and isinstance(result.optimizer, bo.Optimizer)
    assert len(result.trials) == 10 and all(t.state == "complete" for t in result.trials)
    assert result.best == result.optimizer.best and result.best.value < 1e-3
    assert abs(result.best.params["x"] - 0.3) < 0.05
    again = bo.minimize(ob.quadratic, SPACE, 10, **_quiet(n_initial=4))
    assert [t.params for t in again.trials] == [t.params for t in result.trials]  # seeded
    assert "10 complete, 0 failed" in repr(result)


def test_maximize_and_its_guard():
    space = bo.Space({"n": bo.Integer(0, 6), "c": bo.Categorical(["a", None])})
    result = bo.maximize(lambda p: -abs(p["n"] - 4) - (p["c"] is None), space, 9, **_quiet())
    assert result.optimizer.maximize and result.best.value == 0.0
    assert result.best.params == {"n": 4, "c": "a"}
    with pytest.raises(TypeError, match="call bayesopt.maximize"):
        bo.minimize(ob.quadratic, SPACE, 3, maximize=True)
    with pytest.raises(TypeError, match="call bayesopt.minimize"):
        bo.maximize(ob.quadratic, SPACE, 3, maximize=False)


def test_callbacks_run_after_each_tell_with_the_optimizer_and_the_trial():
    seen = []

    def callback(opt, trial):
        assert trial.is_finished and opt.trials[trial.id] == trial  # told before the call
        seen.append((opt, trial.id))

    result = bo.minimize(ob.quadratic, SPACE, 5, callbacks=[callback], **_quiet(n_initial=5))
    assert [i for _, i in seen] == [0, 1, 2, 3, 4]
    assert all(opt is result.optimizer for opt, _ in seen)


def test_progress_false_prints_nothing_and_true_shows_done_best_and_eta(capfd):
    bo.minimize(ob.quadratic, SPACE, 5, **_quiet(n_initial=5))
    assert capfd.readouterr() == ("", "")
    pytest.importorskip("tqdm", reason="the bar uses tqdm when it is installed")
    bo.minimize(ob.quadratic, SPACE, 5, **_quiet(n_initial=5, progress=True))
    err = capfd.readouterr().err
    assert "5/5" in err and "best=" in err and "<00:00" in err  # tqdm's ETA


def test_progress_without_tqdm_prints_a_plain_line(capfd, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # `import tqdm.auto` fails
    result = bo.minimize(ob.quadratic, SPACE, 5, **_quiet(n_initial=5, progress=True))
    err = capfd.readouterr().err
    assert f"5/5 trials, best={result.best.value:.6g}, ETA 00:00:00" in err
    assert err.endswith("\n")


def test_an_exception_in_f_fails_its_trial_and_the_run_goes_on():
    f = functools.partial(ob.raise_above, 0.5)
    result = bo.minimize(f, SPACE, 8, **_quiet(n_initial=8))
    assert len(result.trials) == 8
    for t in result.trials:
        if t.params["x"] > 0.5:
            assert t.state == "failed"
            assert t.error == f"ValueError: x={t.params['x']:.3f} is too large"
        else:
            assert t.state == "complete" and t.error is None
    assert {t.state for t in result.trials} == {"failed", "complete"}


def test_when_every_trial_fails_a_warning_says_why():
    with pytest.warns(RuntimeWarning, match=r"all 3 trials failed; the first with: ValueError"):
        result = bo.minimize(functools.partial(ob.raise_above, -1.0), SPACE, 3, **_quiet())
    assert result.best is None


def test_nan_and_numpy_and_torch_results():
    values = iter([np.float32(0.5), torch.tensor(0.25), float("nan"), np.int64(2)])
    result = bo.minimize(lambda p: next(values), SPACE, 4, **_quiet(n_initial=4))
    assert [t.value for t in result.trials] == [0.5, 0.25, None, 2.0]
    assert result.trials[2].error == "value nan is not finite"


def test_an_objective_returning_a_non_number_fails_its_trial_with_one_warning(tmp_path):
    path = tmp_path / "study.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = bo.minimize(ob.not_a_number, SPACE, 3, storage=path, **_quiet())
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(said) == 2  # once for the value, once because every trial failed
    assert "trial 0 failed: the objective returned '0.5' of type str" in said[0]
    assert "all 3 trials failed" in said[1]
    assert len(result.trials) == 3
    for trial in bo.load(path).trials:
        assert trial.state == "failed" and trial.error == "TypeError: the objective returned '0.5'"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_trials": 0}, ValueError, "`n_trials >= 1`"),
        ({"n_trials": 2.0}, TypeError, "`n_trials` must be an int"),
        ({"n_workers": 0}, ValueError, "`n_workers >= 1`"),
        ({"timeout": -1}, ValueError, "`timeout > 0`"),
        ({"timeout": "1"}, TypeError, "`timeout` must be a number"),
        ({"callbacks": print}, TypeError, "wrap a single one in a tuple"),
        ({"callbacks": [1]}, TypeError, "every callback must be callable"),
        ({"executor": "dask"}, TypeError, "`executor` must be None"),
        ({"progress": "yes"}, TypeError, "`progress` must be a bool"),
        ({"f": 3}, TypeError, "`f` must be callable"),
        ({"acquisiton": "ucb"}, TypeError, "acquisiton"),
        ({"f": lambda p: 0.0, "n_workers": 2}, TypeError, "must be picklable"),
        ({"storage": 5}, TypeError, "`storage` must be a path"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, error, match, tmp_path):
    args = {"f": ob.quadratic, "space": SPACE, "n_trials": 3, "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        bo.minimize(**args)


def test_timeout_stops_asking_and_lets_the_running_trial_finish():
    start = time.monotonic()
    result = bo.minimize(functools.partial(ob.sleepy, 0.1), SPACE, 100, timeout=0.35, **_quiet())
    assert time.monotonic() - start < 3.0
    assert 2 <= len(result.trials) <= 6 and all(t.is_finished for t in result.trials)


def test_storage_resumes_to_the_budget(tmp_path):
    path = tmp_path / "study.jsonl"
    first = bo.minimize(ob.quadratic, SPACE, 6, storage=path, **_quiet(n_initial=4))
    resumed = bo.minimize(ob.quadratic, SPACE, 9, storage=path, **_quiet(n_initial=4))
    assert resumed.trials[:6] == first.trials and len(resumed.trials) == 9
    straight = bo.minimize(ob.quadratic, SPACE, 9, **_quiet(n_initial=4))
    assert [t.params for t in resumed.trials] == [t.params for t in straight.trials]


# --- executors -------------------------------------------------------------------------------


def test_a_process_pool_runs_trials_in_other_processes_with_the_others_pending(tmp_path):
    pending_at_tell = []
    callback = lambda opt, trial: pending_at_tell.append(len(opt.pending))  # noqa: E731
    f = functools.partial(ob.record_pid, str(tmp_path))
    result = bo.minimize(f, SPACE, 8, n_workers=2, callbacks=(callback,), **_quiet(n_initial=4))
    assert len(result.trials) == 8 and all(t.state == "complete" for t in result.trials)
    pids = _pids(tmp_path)
    assert len(pids) == 8 and os.getpid() not in pids
    assert max(pending_at_tell) == 1 and sum(pending_at_tell) >= 3  # 2 in flight


def test_any_executor_is_accepted_and_left_open():
    with cf.ThreadPoolExecutor(2) as pool:
        result = bo.minimize(ob.quadratic, SPACE, 6, executor=pool, n_workers=2, **_quiet())
        assert len(result.trials) == 6
        assert pool.submit(int, "7").result() == 7  # not shut down by minimize


def test_a_dying_worker_fails_only_its_trial_and_the_pool_is_rebuilt():
    f = functools.partial(ob.crash_above, 0.75)
    result = bo.minimize(f, SPACE, 14, n_workers=2, **_quiet(n_initial=14))
    assert len(result.trials) == 14
    crashed = [t for t in result.trials if t.params["x"] > 0.75]
    assert crashed and all(t.state == "failed" for t in crashed)
    assert all("BrokenProcessPool: the worker process died" in t.error for t in crashed)
    assert all(t.state == "complete" for t in result.trials if t.params["x"] <= 0.75)


def test_a_broken_pool_passed_in_is_replaced_with_a_warning():
    pool = cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    f = functools.partial(ob.crash_above, 0.75)
    with pytest.warns(RuntimeWarning, match="passed as `executor` broke"):
        result = bo.minimize(f, SPACE, 6, n_workers=2, executor=pool, **_quiet(n_initial=6))
    failed = [t.state == "failed" for t in result.trials]
    assert any(failed) and failed == [t.params["x"] > 0.75 for t in result.trials]
    pool.shutdown()


def test_the_worker_pool_gives_up_only_on_the_item_that_kills_its_worker(drain):
    from bayesopt._pool import WorkerPool

    f = functools.partial(ob.crash_above, 0.75)
    items = [0.1, 0.2, 0.9, 0.3, 0.4]
    out = drain(WorkerPool(f, lambda x: ({"x": x},), 2), items)
    assert out == {x: None if x > 0.75 else ob.quadratic({"x": x}) for x in items}


def test_a_worker_pool_whose_every_item_kills_its_worker_gives_up_on_each(monkeypatch, drain):
    from bayesopt import _pool

    monkeypatch.setattr(_pool, "MAX_BACKOFF_S", 0.01)  # no long waits between rebuilds
    f = functools.partial(ob.crash_above, -1.0)  # every item kills its worker
    pool = _pool.WorkerPool(f, lambda x: ({"x": x},), 2, hint="Try harder.")
    assert drain(pool, [0.1, 0.2, 0.3, 0.4]) == dict.fromkeys([0.1, 0.2, 0.3, 0.4])


@pytest.mark.slow  # starts a Dask cluster: ~8 s
def test_a_dask_local_cluster_runs_the_study_in_its_worker_processes(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="the dask extra is not installed (pip install -e '.[dask]')"
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = set(client.run(os.getpid).values())
        f = functools.partial(ob.record_pid, str(tmp_path / "a"))
        (tmp_path / "a").mkdir()
        result = bo.minimize(f, SPACE, 20, executor=client, n_workers=2, **_quiet(n_initial=10))
        (tmp_path / "b").mkdir()
        g = functools.partial(ob.record_pid, str(tmp_path / "b"))
        other = bo.minimize(g, SPACE, 4, executor=client.get_executor(), n_workers=2, **_quiet())
    assert len(result.trials) == 20 and all(t.state == "complete" for t in result.trials)
    assert result.best.value < 1e-3
    pids = _pids(tmp_path / "a")
    assert len(pids) == 20 and set(pids) == workers and os.getpid() not in workers
    assert len(other.trials) == 4 and set(_pids(tmp_path / "b")) <= workers


# --- killed and interrupted runs ---------------------------------------------------------------


def _run_python(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'tests'}", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job has
    )


RUN = """
    import functools, sys, bayesopt as bo, _objectives as ob
    space = bo.Space({{"x": bo.Real(0.0, 1.0)}})
    def report(opt, trial):
        print("told", trial.id, repr(trial.value), flush=True)
    try:
        bo.minimize(functools.partial(ob.sleepy, {sleep}), space, {n}, seed=0, n_initial={n},
                    storage={path!r}, n_workers={workers}, callbacks=(report,), progress=False)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
"""


def _read_until(proc: subprocess.Popen, n_told: int) -> dict[int, float]:
    told = {}
    while len(told) < n_told:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        _, i, value = line.split()
        told[int(i)] = float(value)
    return told


def _check_journal(path: Path, told: dict[int, float]) -> bo.Optimizer:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consistent: not even a torn tail
        study = bo.load(path)
    values = {t.id: t.value for t in study.trials}
    assert all(values[i] == v for i, v in told.items())
    return study


@pytest.mark.slow  # a subprocess: ~4 s
def test_a_study_killed_with_sigkill_resumes_to_its_budget(tmp_path):
    path = tmp_path / "study.jsonl"
    proc = _run_python(RUN.format(sleep=0.05, n=12, path=str(path), workers=1))
    told = _read_until(proc, 5)
    os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    told.update({int(line.split()[1]): float(line.split()[2]) for line in out.splitlines()})
    study = _check_journal(path, told)
    left = [t.id for t in study.trials if t.state == "pending"]
    assert len(left) <= 1
    result = bo.minimize(functools.partial(ob.sleepy, 0.05), SPACE, 12, n_initial=12,
                         storage=path, progress=False)  # fmt: skip
    assert [t.id for t in result.trials] == list(range(12))
    assert all(t.state == "complete" for t in result.trials)
    assert all(result.trials[i].value == v for i, v in told.items())


@pytest.mark.slow  # a subprocess and its pool: ~5 s
@pytest.mark.parametrize("group", [False, True], ids=["main process", "process group"])
def test_ctrl_c_stops_cleanly_and_leaves_a_consistent_journal(tmp_path, group):
    """SIGINT to the process running minimize, or (as Ctrl-C in a terminal) to its group."""
    path = tmp_path / "study.jsonl"
    proc = _run_python(RUN.format(sleep=0.3, n=20, path=str(path), workers=2))
    told = _read_until(proc, 3)
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out.rstrip().endswith("interrupted"), err
    told.update({int(ln.split()[1]): float(ln.split()[2]) for ln in out.splitlines()[:-1]})
    study = _check_journal(path, told)
    pending = [t.id for t in study.trials if t.state == "pending"]
    assert 1 <= len(pending) <= 2 and len(study.trials) < 20  # in flight: left pending
    assert not list(Path(f"{path}.sessions").iterdir())  # the writer's session was closed
    n = len(study.trials) + 2
    result = bo.minimize(ob.quadratic, SPACE, n, n_initial=20, storage=path, progress=False)
    assert [t.id for t in result.trials] == list(range(n))
    assert all(result.trials[i].state == "complete" for i in pending)  # claimed and evaluated
    assert all(t.state == "complete" for t in result.trials)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(i for e in events if e["event"] == "claimed" for i in e["ids"]) == pending


# --- how f is called: one dict, or keyword arguments -------------------------------------------

MIXED = bo.Space({"x": bo.Real(0.0, 1.0), "n": bo.Integer(1, 4), "c": bo.Categorical(["a", "b"])})


def _dict_objective(params: dict) -> float:
    return (params["x"] - 0.3) ** 2 + params["n"] + (params["c"] == "b")


def keyword_objective(x: float, n: int, c: str) -> float:  # at the top level: workers load it
    return (x - 0.3) ** 2 + n + (c == "b")


def _seen(result: bo.Result) -> list[tuple[dict, float | None]]:
    return [(t.params, t.value) for t in result.trials]


def test_an_objective_naming_the_spaces_parameters_gets_them_as_keywords():
    by_dict = bo.minimize(_dict_objective, MIXED, 6, **_quiet())
    assert all(t.state == "complete" for t in by_dict.trials)
    assert _seen(bo.minimize(keyword_objective, MIXED, 6, **_quiet())) == _seen(by_dict)
    only_keywords = bo.minimize(lambda **p: keyword_objective(**p), MIXED, 6, **_quiet())
    assert _seen(only_keywords) == _seen(by_dict)
    # Defaults let f(params) bind too, but f names every parameter: keywords win.
    defaults = bo.minimize(lambda x, n=9, c="b": keyword_objective(x, n, c), MIXED, 6, **_quiet())
    assert _seen(defaults) == _seen(by_dict)
    one = bo.minimize(lambda x: (x - 0.3) ** 2, SPACE, 5, **_quiet(n_initial=5))  # f(x=...)
    assert _seen(one) == _seen(bo.minimize(ob.quadratic, SPACE, 5, **_quiet(n_initial=5)))


def test_maximize_takes_keyword_objectives_too():
    result = bo.maximize(lambda x, n, c: -keyword_objective(x, n, c), MIXED, 6, **_quiet())
    assert [-v for _, v in _seen(result)] == [v for _, v in _seen(bo.minimize(
        keyword_objective, MIXED, 6, **_quiet()))]  # fmt: skip


def test_a_keyword_objective_with_a_required_trial_parameter_gets_the_handle():
    def f(x: float, *, trial: bo.TrialHandle) -> float:
        trial.report(1, x)
        return x

    result = bo.minimize(f, SPACE, 4, **_quiet())
    assert all(t.intermediate == ((1, t.params["x"]),) for t in result.trials)
    assert all(t.value == t.params["x"] for t in result.trials)
    optional = bo.minimize(lambda x, trial=None: float(trial is None), SPACE, 3, **_quiet())
    assert [t.value for t in optional.trials] == [1.0, 1.0, 1.0]  # a default gets no handle
    with pytest.raises(TypeError, match=r"f\(params, trial\).*n_workers=1"):
        bo.minimize(f, SPACE, 4, n_workers=2, progress=False)


def test_an_ambiguous_signature_is_a_type_error_and_unpack_decides(tmp_path):
    calls = []

    def f(*args, **kwargs) -> float:
        calls.append("dict" if args else "keywords")
        return args[0]["x"] if args else kwargs["x"]

    path = tmp_path / "study.jsonl"
    with pytest.raises(TypeError, match=r"fits both f\(params\) and f\(\*\*params\).*unpack="):
        bo.minimize(f, SPACE, 3, storage=path, **_quiet())
    assert calls == [] and not path.exists()  # before the first ask
    as_dict = bo.minimize(f, SPACE, 3, unpack=False, **_quiet())
    assert calls == ["dict"] * 3
    as_keywords = bo.minimize(f, SPACE, 3, unpack=True, **_quiet())
    assert calls == ["dict"] * 3 + ["keywords"] * 3
    assert _seen(as_dict) == _seen(as_keywords)
    assert all(t.value == t.params["x"] for t in as_dict.trials)


@pytest.mark.parametrize(
    ("f", "unpack", "match"),
    [
        (lambda a, b, c: 0.0, None, r"as f\(params\), f\(params, trial\) or f\(x=\.\.\.\)"),
        (lambda *, y: 0.0, None, r"but its signature is \(\*, y\)"),
        (lambda **kw: 0.0, False, r"as one dict, f\(params\), since unpack=False"),
        (lambda params, depth: 0.0, True, r"as keyword arguments.*since unpack=True"),
        (ob.quadratic, "yes", "`unpack` must be True, False or None"),
    ],
)
def test_a_signature_that_cannot_take_the_params_is_a_type_error_before_the_first_ask(
    f, unpack, match, tmp_path
):
    path = tmp_path / "study.jsonl"
    with pytest.raises(TypeError, match=match):
        bo.minimize(f, SPACE, 3, storage=path, unpack=unpack, **_quiet())
    assert not path.exists()


@pytest.mark.slow  # the workers import this test module (torch, bayesopt): ~10 s
def test_a_keyword_objective_runs_in_worker_processes():
    result = bo.minimize(keyword_objective, MIXED, 4, n_workers=2, **_quiet(n_initial=4))
    inline = bo.minimize(keyword_objective, MIXED, 4, **_quiet(n_initial=4))
    assert sorted(map(repr, _seen(result))) == sorted(map(repr, _seen(inline)))
    assert all(t.state == "complete" for t in result.trials)


# --- an objective that always raises the same exception stops the run ----------------------------


def test_a_broken_objective_stops_the_run_with_its_exception(tmp_path):
    def train(params: dict) -> float:
        return params["learning_rate"]  # not a parameter of the space

    path = tmp_path / "study.jsonl"
    with pytest.raises(RuntimeError, match=r"all of the first 5 trials of this run failed with "
                       r"the same exception.*: KeyError: 'learning_rate'") as info:  # fmt: skip
        bo.minimize(train, SPACE, 50, storage=path, **_quiet())
    cause = info.value.__cause__
    assert isinstance(cause, KeyError) and cause.args == ("learning_rate",)
    tb = cause.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "train"  # the traceback reaches into f
    study = bo.load(path)
    assert [t.state for t in study.trials] == ["failed"] * 5
    assert all(t.error == "KeyError: 'learning_rate'" for t in study.trials)


def test_the_old_readme_mismatch_is_a_loud_error_not_best_none():
    """``f(lr, depth, act)`` called as ``f(params)`` (``unpack=False`` forces it)."""
    space = bo.Space({"lr": bo.Real(1e-5, 1e-1, log=True), "depth": bo.Integer(1, 8)})

    def train(lr, depth=3):
        return lr * depth

    with pytest.raises(RuntimeError, match=r"TypeError: unsupported operand") as info:
        bo.minimize(train, space, 20, unpack=False, **_quiet())
    assert isinstance(info.value.__cause__, TypeError)


@pytest.mark.parametrize(
    ("n_trials", "match"), [(3, "all of the first 3 trials"), (1, "the only trial of this run")]
)
def test_a_short_run_whose_trials_all_fail_alike_raises_at_its_end(n_trials, match):
    def f(params: dict) -> float:
        raise ValueError("no data")

    with pytest.raises(RuntimeError, match=match + r".*ValueError: no data"):
        bo.minimize(f, SPACE, n_trials, **_quiet())


def test_a_success_or_another_kind_of_failure_keeps_the_run_going():
    calls = iter(range(100))

    def late_success(params: dict) -> float:
        if next(calls) < 4:
            raise ValueError("not yet")
        return params["x"]

    result = bo.minimize(late_success, SPACE, 8, **_quiet(n_initial=8))
    assert [t.state for t in result.trials] == ["failed"] * 4 + ["complete"] * 4
    first = iter(range(100))

    def early_success(params: dict) -> float:
        if next(first) == 0:
            return 1.0
        raise ValueError("always the same")

    result = bo.minimize(early_success, SPACE, 8, **_quiet(n_initial=8))
    assert [t.state for t in result.trials] == ["complete"] + ["failed"] * 7
    with pytest.warns(RuntimeWarning, match="all 6 trials failed"):  # NaN is a failure on purpose
        result = bo.minimize(lambda p: float("nan"), SPACE, 6, **_quiet(n_initial=6))
    assert len(result.trials) == 6 and result.best is None


def test_a_broken_objective_in_worker_processes_stops_the_run_too(tmp_path):
    f = functools.partial(ob.exit_above, -1.0, 3)  # sys.exit(3) on every call
    path = tmp_path / "study.jsonl"
    with pytest.raises(RuntimeError, match=r"first 5 trials.*SystemExit: 3") as info:
        bo.minimize(f, SPACE, 30, n_workers=2, storage=path, **_quiet(n_initial=30))
    assert isinstance(info.value.__cause__, SystemExit)
    states = [t.state for t in bo.load(path).trials]
    assert states.count("failed") == 5 and states.count("pending") <= 1
    assert len(states) <= 6
