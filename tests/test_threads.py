"""The scoped thread limit of an ask: applied during the GP work, restored after, always."""

from __future__ import annotations

import threading

import pytest
import threadpoolctl
import torch

import bayesopt as bo
from bayesopt import _threads, gp


@pytest.fixture
def two_threads():
    """The caller runs torch (and BLAS) on two threads, as torch's default does on 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        yield
    torch.set_num_threads(before)


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def _spy_fit(monkeypatch) -> list[tuple[int, list[int]]]:
    """Record torch's and BLAS's thread counts inside every GP fit."""
    seen: list[tuple[int, list[int]]] = []
    real_fit = gp.fit

    def fit(*args, **kwargs):
        seen.append((torch.get_num_threads(), _blas_threads()))
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(gp, "fit", fit)
    return seen


def _run(opt: bo.Optimizer, n: int) -> None:
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, (trial.params["x"] - 0.3) ** 2 + trial.params["y"])


SPACE = bo.Space({"x": bo.Real(0.0, 1.0), "y": bo.Real(0.0, 1.0)})


def test_auto_runs_small_asks_on_one_thread_and_restores(two_threads, monkeypatch):
    seen = _spy_fit(monkeypatch)
    _run(bo.Optimizer(SPACE, seed=0, n_initial=3), 6)
    assert len(seen) == 3
    assert all(torch_threads == 1 for torch_threads, _ in seen)
    assert all(set(blas) <= {1} for _, blas in seen)
    assert torch.get_num_threads() == 2
    assert set(_blas_threads()) <= {2}


def test_none_leaves_threads_alone(two_threads, monkeypatch):
    seen = _spy_fit(monkeypatch)
    _run(bo.Optimizer(SPACE, seed=0, n_initial=3, threads=None), 5)
    assert seen and all(torch_threads == 2 for torch_threads, _ in seen)


def test_fixed_count(two_threads, monkeypatch):
    seen = _spy_fit(monkeypatch)
    _run(bo.Optimizer(SPACE, seed=0, n_initial=3, threads=3), 5)
    assert seen and all(torch_threads == 3 for torch_threads, _ in seen)
    assert torch.get_num_threads() == 2


def test_restored_when_the_ask_raises(two_threads, monkeypatch):
    opt = bo.Optimizer(SPACE, seed=0, n_initial=3)
    _run(opt, 3)

    def broken(*args, **kwargs):
        assert torch.get_num_threads() == 1
        raise TypeError("a bug in the fit")

    monkeypatch.setattr(gp, "fit", broken)
    with pytest.raises(TypeError, match="a bug in the fit"):
        opt.ask()
    assert torch.get_num_threads() == 2
    assert set(_blas_threads()) <= {2}
    assert len(opt.trials) == 3  # the failed ask left no trace


def test_same_asks_whatever_the_limit(two_threads):
    """The limit changes where the work runs, not what is proposed (up to rounding)."""
    a, b = bo.Optimizer(SPACE, seed=3), bo.Optimizer(SPACE, seed=3, threads=None)
    for _ in range(8):
        ta, tb = a.ask(), b.ask()
        assert ta.params == pytest.approx(tb.params, abs=1e-6)
        value = ta.params["x"] ** 2 + ta.params["y"]
        a.tell(ta, value)
        b.tell(tb, value)


def test_concurrent_asks_restore_the_callers_setting(two_threads):
    opts = [bo.Optimizer(SPACE, seed=s, n_initial=2) for s in range(3)]
    errors: list[BaseException] = []

    def work(opt: bo.Optimizer) -> None:
        try:
            _run(opt, 5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o,)) for o in opts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert torch.get_num_threads() == 2


def test_threads_for_switches_at_large_n():
    assert _threads.threads_for("auto", 10) == 1
    assert _threads.threads_for("auto", _threads.LARGE_N - 1) == 1
    assert _threads.threads_for("auto", _threads.LARGE_N) is None
    assert _threads.threads_for(4, 10) == 4
    assert _threads.threads_for(None, 10) is None


def test_limited_threads_nests(two_threads):
    with _threads.limited_threads(1):
        with _threads.limited_threads(3):
            assert torch.get_num_threads() == 1  # the outermost limit holds
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(
    ("threads", "error"), [(0, ValueError), (-2, ValueError), ("one", TypeError), (True, TypeError)]
)
def test_invalid_threads(threads, error):
    with pytest.raises(error, match="threads"):
        bo.Optimizer(SPACE, threads=threads)


def test_threads_is_not_a_study_setting(tmp_path):
    path = tmp_path / "study.jsonl"
    opt = bo.Optimizer(SPACE, seed=0, storage=path, threads=1)
    _run(opt, 2)
    resumed = bo.Optimizer(SPACE, seed=0, storage=path, threads=None)
    assert len(resumed.trials) == 2
