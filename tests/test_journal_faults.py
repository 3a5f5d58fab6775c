"""Ways a journalled study could be lost or stalled, each reproduced: fork, copies, links,
odd files, overflowing values, a stopped lock holder, dead sessions, huge asks."""

from __future__ import annotations

import collections
import copy
import fcntl
import json
import os
import pickle
import time
import uuid
from pathlib import Path

import pytest
import torch

import bayesopt as bo
from bayesopt.journal import dump_line

FAST = bo.ProposeOptions(raw_samples=64, n_restarts=2, lbfgs_maxiter=20)


@pytest.fixture
def space() -> bo.Space:
    return bo.Space({"x": bo.Real(0.0, 1.0)})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "study.jsonl"


def _ids(path: Path) -> list[int]:
    return [t.id for t in bo.load(path).trials]


# --- fork() ----------------------------------------------------------------------------------
def test_a_forked_child_becomes_a_writer_of_its_own(space, path):
    opt = bo.RandomSearch(space, seed=0, storage=path)
    opt.tell(opt.ask(), 0.5)  # the parent wrote before forking
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                for _ in range(40):
                    opt.tell(opt.ask(), 1.0)
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    for _ in range(10):
        opt.tell(opt.ask(), 2.0)  # the parent goes on at the same time
    assert all(os.waitpid(pid, 0)[1] == 0 for pid in children)
    study = bo.load(path)
    assert [t.id for t in study.trials] == list(range(1 + 3 * 40 + 10))
    assert all(t.state is bo.TrialState.COMPLETE for t in study.trials)
    sessions = {json.loads(line).get("session") for line in path.read_text().splitlines()}
    assert len(sessions - {None}) == 4  # the parent's and one per child
    opt.tell(opt.ask(), 3.0)  # the parent's handle still works
    assert len(bo.load(path).trials) == 132


# --- copies and pickles ---------------------------------------------------------------------
@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_copy_of_a_journalled_study_is_a_read_only_snapshot(space, path, how):
    a = bo.Optimizer(space, seed=0, storage=path, propose_options=FAST)
    a.tell(a.ask(), 1.0)
    b = {"copy": copy.copy, "deepcopy": copy.deepcopy,
         "pickle": lambda o: pickle.loads(pickle.dumps(o))}[how](a)  # fmt: skip
    assert [t.value for t in b.trials] == [1.0]
    with pytest.raises(RuntimeError, match=r"copy \(a read-only snapshot\).*storage="):
        b.ask()
    with pytest.raises(RuntimeError, match="read-only snapshot"):
        b.tell(0, 2.0)
    a.tell(a.ask(), 2.0)  # the original still owns the journal
    assert _ids(path) == [0, 1]
    assert [t.value for t in b.trials] == [1.0]


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_copy_of_a_study_without_journal_asks_what_the_original_would(space, how):
    a = bo.Optimizer(space, seed=3, n_initial=2, propose_options=FAST)
    for v in (0.3, 0.1):
        a.tell(a.ask(), v)
    b = {"copy": copy.copy, "deepcopy": copy.deepcopy,
         "pickle": lambda o: pickle.loads(pickle.dumps(o))}[how](a)  # fmt: skip
    ta, tb = a.ask(), b.ask()
    assert ta.params == tb.params
    b.tell(tb, 0.0)  # independent: the original does not see it
    assert a.pending[0].id == ta.id and not b.pending


# --- links and relative paths ---------------------------------------------------------------
def _live_trial_is_not_claimed(real: Path, other: str | os.PathLike, space) -> None:
    a = bo.RandomSearch(space, seed=0, storage=real)
    t = a.ask()
    b = bo.RandomSearch(space, storage=other)
    assert b.next_trial(10).id == t.id + 1  # a is alive: its trial is not taken over
    a.tell(t, 1.0)  # and its own tell is accepted
    assert b.trials[t.id].state is bo.TrialState.PENDING  # b has not read it yet
    b.tell(b.ask(), 2.0)
    assert b.trials[t.id].value == 1.0


def test_a_writer_through_a_symbolic_link_sees_live_writers(space, tmp_path):
    real = tmp_path / "study.jsonl"
    link = tmp_path / "elsewhere" / "link.jsonl"
    link.parent.mkdir()
    bo.RandomSearch(space, seed=0, storage=real).close()
    link.symlink_to(real)
    _live_trial_is_not_claimed(real, link, space)
    assert not Path(str(link) + ".sessions").exists()


def test_a_relative_path_from_another_folder_sees_live_writers(space, tmp_path, monkeypatch):
    real = tmp_path / "study.jsonl"
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    _live_trial_is_not_claimed(real, Path("..") / "study.jsonl", space)


def test_a_hard_linked_journal_is_refused_for_writing_and_read_fine(space, tmp_path):
    real = tmp_path / "study.jsonl"
    rs = bo.RandomSearch(space, seed=0, storage=real)
    rs.tell(rs.ask(), 1.0)
    rs.close()
    os.link(real, tmp_path / "twin.jsonl")
    for name in ("study.jsonl", "twin.jsonl"):
        with pytest.raises(ValueError, match="2 hard links"):
            bo.RandomSearch(space, storage=tmp_path / name)
        assert [t.value for t in bo.load(tmp_path / name).trials] == [1.0]


# --- files that are not journals -------------------------------------------------------------
@pytest.mark.parametrize(("target", "kind"), [("/dev/null", "character device"), (".", "folder")])
def test_storage_must_be_a_regular_file(space, target, kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sessions = Path(target + ".sessions")
    existed = sessions.exists()
    with pytest.raises(ValueError, match=f"regular file.*{kind}"):
        bo.RandomSearch(space, storage=target)
    with pytest.raises(ValueError, match="regular file"):
        bo.load(target)
    assert sessions.exists() == existed  # nothing was created beside it


@pytest.mark.parametrize(
    "content",
    [b"\0" * 4096, b'{"event":"created","format":"bayes', b'{"event":"', b'{"event":"x"}\n'],
    ids=["all NUL", "half a header", "a prefix", "a line without checksum"],
)
def test_a_file_without_a_whole_header_is_refused_and_never_overwritten(space, path, content):
    path.write_bytes(content)
    for attempt in (lambda: bo.RandomSearch(space, storage=path), lambda: bo.load(path)):
        with pytest.raises(bo.JournalError, match="line 1"):
            attempt()
    assert path.read_bytes() == content


def test_an_empty_file_becomes_a_journal(space, path):
    path.touch()
    rs = bo.RandomSearch(space, seed=0, storage=path)
    rs.tell(rs.ask(), 1.0)
    assert _ids(path) == [0]


def test_a_journal_naming_a_class_that_is_no_proposer_is_a_journal_error(space, path):
    rs = bo.RandomSearch(space, seed=0, storage=path)
    rs.close()
    header = json.loads(path.read_text().splitlines()[0])
    del header["seq"], header["crc"]
    path.write_bytes(dump_line({**header, "optimizer": "bayesopt.space:Space"}, 1))
    with pytest.raises(bo.JournalError, match="not an imported proposer"):
        bo.load(path)


# --- values a float cannot hold --------------------------------------------------------------
def test_a_value_too_large_for_a_float_is_a_failure_and_the_study_resumes(space, path):
    rs = bo.RandomSearch(space, seed=0, storage=path)
    told = rs.tell(rs.ask(), 10**400)
    assert told.state is bo.TrialState.FAILED and "too large for a float" in told.error
    added = rs.add({"x": 0.5}, -(10**400))
    assert added.state is bo.TrialState.FAILED and "-inf" in added.error
    rs.tell(rs.ask(), 2.0)
    rs.close()
    again = bo.RandomSearch(space, storage=path)
    assert [t.state.name for t in again.trials] == ["FAILED", "FAILED", "COMPLETE"]
    assert again.best.value == 2.0


# --- locks and sessions -----------------------------------------------------------------------
def test_a_held_lock_times_out_with_a_clear_error_and_load_still_reads(space, path):
    rs = bo.RandomSearch(space, seed=0, storage=bo.Storage(path, lock_timeout=0.2))
    rs.tell(rs.ask(), 1.0)
    holder = os.open(path, os.O_RDONLY)  # another file description: as another process
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=r"lock_timeout=0.2 s.*bayesopt.load"):
            rs.ask()
        assert 0.2 <= time.monotonic() - start < 5
        assert [t.value for t in bo.load(path).trials] == [1.0]  # no lock needed
        assert len(rs.trials) == 1  # the refused ask changed nothing
    finally:
        os.close(holder)
    rs.tell(rs.ask(), 2.0)
    assert _ids(path) == [0, 1]


@pytest.mark.parametrize(
    ("storage", "error"),
    [
        (lambda p: bo.Storage(p, lock_timeout=-1), ValueError),
        (lambda p: bo.Storage(p, lock_timeout="1"), TypeError),
        (lambda p: bo.Storage(""), TypeError),
        (lambda p: bo.Storage(b"x.jsonl"), TypeError),
    ],
)
def test_storage_options_are_checked(path, storage, error):
    with pytest.raises(error, match="Storage: `"):
        storage(path)


def test_dead_session_files_are_removed_by_the_next_writer(space, path):
    bo.RandomSearch(space, seed=0, storage=path).close()
    folder = Path(str(path) + ".sessions")
    dead = [folder / uuid.uuid4().hex for _ in range(5)]  # what SIGKILLed writers leave
    for f in dead:
        f.touch()
    old_tmp = folder / f".{uuid.uuid4().hex}.tmp"
    old_tmp.touch()
    os.utime(old_tmp, (time.time() - 3600,) * 2)
    fresh_tmp = folder / f".{uuid.uuid4().hex}.tmp"  # a writer about to lock it
    fresh_tmp.touch()
    live = bo.RandomSearch(space, storage=path)
    rs = bo.RandomSearch(space, storage=path)
    names = {f.name for f in folder.iterdir()}
    assert names == {live._journal.session, rs._journal.session, fresh_tmp.name}


# --- ask(n) on a finite space ---------------------------------------------------------------
def test_asking_far_more_points_than_a_finite_space_holds_repeats_them_evenly():
    space = bo.Space({"a": bo.Categorical(["x", "y", "z"]), "b": bo.Integer(0, 1)})
    opt = bo.Optimizer(space, seed=0)
    trials = opt.ask(10_000)
    counts = collections.Counter((t.params["a"], t.params["b"]) for t in trials)
    assert len(counts) == 6 and max(counts.values()) - min(counts.values()) <= 1
    first = {(t.params["a"], t.params["b"]) for t in trials[:6]}
    assert len(first) == 6  # every point once before any repeats


def test_a_large_space_filling_ask_takes_linear_time_and_spreads_out(space):
    opt = bo.Optimizer(bo.Space({"x": bo.Real(0, 1), "y": bo.Real(0, 1)}), seed=0)
    taken = opt._space_filling(2, torch.rand(20_000, 2, dtype=torch.float64), seed=0)
    assert taken.shape == (2, 2)
    points = opt._space_filling(10_000, torch.empty(0, 2, dtype=torch.float64), seed=0)
    assert len({tuple(p) for p in points.tolist()}) == 10_000
    # The greedy part is max-min: its points are no closer than a Sobol sample's.
    greedy = points[:64]
    gaps = torch.cdist(greedy, greedy) + torch.eye(64) * 9
    sobol = opt.space.sample_unit(64, seed=0)
    assert gaps.min() >= (torch.cdist(sobol, sobol) + torch.eye(64) * 9).min()
