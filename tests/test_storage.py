"""The journal: round trips, resume determinism, torn tails, corruption, several writers."""

from __future__ import annotations

import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesopt as bo
from bayesopt.events import EventError
from bayesopt.journal import decode_value, dump_line, encode_value

REPO = Path(__file__).resolve().parents[1]
FAST = bo.ProposeOptions(raw_samples=64, n_restarts=2, lbfgs_maxiter=20)

CHOICES = [None, True, False, 0, 1, 2.5, "a", np.float32(0.1), np.int64(7), (1, None)]


@pytest.fixture
def space() -> bo.Space:
    return bo.Space(
        {
            "x": bo.Real(-2.0, 3.0),
            "lr": bo.Real(1e-4, 1e-1, log=True),
            "n": bo.Integer(1, 64, log=True),
            "c": bo.Categorical(CHOICES),
        }
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "study.jsonl"


def _typed(params: dict) -> list:
    return [(k, type(v), v) for k, v in params.items()]


def _same_trials(a: list[bo.Trial], b: list[bo.Trial]) -> bool:
    key = lambda t: (t.id, _typed(t.params), t.value, t.state, t.source, t.error)  # noqa: E731
    return [key(t) for t in a] == [key(t) for t in b]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _run_python(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'tests'}", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# --- values and spaces ------------------------------------------------------------------------


def test_space_from_dict_inverts_to_dict(space):
    assert bo.Space.from_dict(space.to_dict()) == space
    again = bo.Space.from_dict(space.to_dict())
    assert [type(c) for c in again["c"].choices] == [type(c) for c in CHOICES]
    with pytest.raises(ValueError, match="`type` must be"):
        bo.Space.from_dict({"x": {"type": "float", "low": 0, "high": 1}})
    with pytest.raises(ValueError, match="must have the keys"):
        bo.Space.from_dict({"x": {"type": "real", "low": 0, "high": 1}})
    with pytest.raises(TypeError, match="must be a mapping"):
        bo.Space.from_dict({"x": 3})


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -5, 2**70, 1.5, -0.0, 1e-310, math.inf, -math.inf, "", "é\n",
     np.float32(0.1), np.float16(0.5), np.float64(2.5), np.int8(-3), np.uint64(2**64 - 1),
     np.bool_(True), np.str_("s"), (1, (None, 2.5)), (), np.float64(math.inf)],
)  # fmt: skip
def test_values_round_trip_through_json_with_their_exact_type(value):
    back = decode_value(json.loads(json.dumps(encode_value(value), allow_nan=False)))
    assert type(back) is type(value)
    assert back == value or (isinstance(value, float) and math.isnan(value))
    assert str(back) == str(value)  # -0.0 keeps its sign


def test_nan_round_trips():
    back = decode_value(json.loads(json.dumps(encode_value(math.nan), allow_nan=False)))
    assert type(back) is float and math.isnan(back)


@pytest.mark.parametrize("value", [object(), 1j, np.complex128(1), [1], {"a": 1}, b"x"])
def test_values_a_journal_cannot_hold_are_a_clear_error(value):
    with pytest.raises(TypeError, match="a journal stores"):
        encode_value(value)


@pytest.mark.parametrize("obj", [[1], {"$float": "1.5"}, {"$numpy": "O", "value": 1}, {"a": 1}])
def test_unknown_encodings_are_rejected(obj):
    with pytest.raises(EventError):
        decode_value(obj)


def test_a_space_with_unstorable_choices_is_refused_before_any_file_exists(path):
    space = bo.Space({"c": bo.Categorical([object()])})
    with pytest.raises(TypeError, match="a journal stores"):
        bo.RandomSearch(space, seed=0, storage=path)
    assert not path.exists()


# --- round trips and resume -------------------------------------------------------------------


def _exercise(opt: bo.RandomSearch | bo.Optimizer) -> None:
    """Every kind of event, with values JSON cannot hold."""
    for i, t in enumerate(opt.ask(4)):
        value = [0.5, math.nan, np.float32(0.25), -math.inf][i]
        opt.tell(t, value)
    t = opt.ask()
    opt.tell(t.id, error="ValueError: boom")
    opt.add({"x": 0.0, "lr": 1e-3, "n": 3, "c": None}, 2.0)
    opt.add({"x": 1.0, "lr": 1e-2, "n": 4, "c": np.int64(7)}, failed=True)
    opt.enqueue({"x": 1.5, "lr": 1e-2, "n": 5, "c": (1, None)})
    opt.enqueue({"x": -1.5, "lr": 1e-2, "n": 6, "c": True})
    opt.ask()  # takes the first enqueued params; stays pending
    opt.ask()  # the second, pending too


def test_a_resumed_study_holds_exactly_what_was_written(space, path):
    opt = bo.RandomSearch(space, seed=3, storage=path)
    _exercise(opt)
    opt.enqueue({"x": 0.1, "lr": 1e-3, "n": 2, "c": np.float32(0.1)})  # left in the queue
    resumed = bo.RandomSearch(space, storage=path)  # seed=None resumes the study's seed
    assert resumed.seed == 3
    assert _same_trials(resumed.trials, opt.trials)
    assert [t.id for t in resumed.pending] == [7, 8]
    assert resumed.trials[1].error == "value nan is not finite"
    assert resumed.trials[4].error == "ValueError: boom"
    assert resumed.trials[2].value == float(np.float32(0.25))
    assert [_typed(q) for q in resumed._history.queue] == [_typed(q) for q in opt._history.queue]
    # Tell by id a trial the other object asked; both see the same study afterwards.
    resumed.tell(7, 1.0)
    nxt = resumed.ask()
    assert _typed(nxt.params) == _typed({"x": 0.1, "lr": 1e-3, "n": 2, "c": np.float32(0.1)})


def test_load_opens_read_only(space, path):
    opt = bo.Optimizer(space, seed=5, n_initial=4, maximize=True, storage=path)
    _exercise(opt)
    loaded = bo.load(path)
    assert type(loaded) is bo.Optimizer and loaded.maximize and loaded.n_initial == 4
    assert _same_trials(loaded.trials, opt.trials)
    assert loaded.best == opt.best
    before = path.read_bytes()
    for call in (
        lambda: loaded.ask(),
        lambda: loaded.tell(8, 1.0),
        lambda: loaded.add({"x": 0.0, "lr": 1e-3, "n": 3, "c": None}, 1.0),
        lambda: loaded.enqueue({"x": 0.0, "lr": 1e-3, "n": 3, "c": None}),
    ):
        with pytest.raises(RuntimeError, match="read-only by bayesopt.load"):
            call()
    assert path.read_bytes() == before


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        bo.load(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(bo.JournalError, match="holds no events"):
        bo.load(empty)


def _script_run(opt, script, asks):
    """Run the operations of ``script`` on ``opt``, appending every asked params to asks.

    Operation ``("ask", k)`` asks ``k`` trials; ``("tell", j)`` tells pending trial number
    ``j`` (in id order) a value computed from its params; ``("fail", j)`` fails it.
    """
    op, arg = script
    if op == "ask":
        for t in opt.ask(arg):
            asks.append((t.id, _typed(t.params), t.source))
    elif op in ("tell", "fail"):
        t = opt.pending[arg]
        if op == "fail":
            opt.tell(t, failed=True)
        else:
            p = t.params
            opt.tell(t, (p["x"] - 0.5) ** 2 + math.log10(p["lr"]) ** 2 / 10 + (p["c"] is None))
    elif op == "enqueue":
        opt.enqueue({"x": 0.25, "lr": 1e-3, "n": 8, "c": "a"})
    elif op == "add":
        opt.add({"x": -1.0, "lr": 1e-2, "n": 2, "c": 2.5}, 3.0)


SCRIPT = [
    ("ask", 3), ("tell", 0), ("tell", 1), ("tell", 0), ("add", 0), ("ask", 1), ("tell", 0),
    ("ask", 2), ("tell", 1), ("enqueue", 0), ("ask", 2), ("fail", 0), ("ask", 1), ("tell", 0),
    ("tell", 0), ("ask", 1),
]  # fmt: skip


def test_a_resumed_study_proposes_exactly_what_the_uninterrupted_one_would(space, path):
    """Reopen the journal (a new object) before every call: the asks are bit-identical."""
    settings = dict(seed=11, n_initial=3, propose_options=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bo.FallbackWarning)
        straight = bo.Optimizer(space, **settings)
        expected: list = []
        for step in SCRIPT:
            _script_run(straight, step, expected)
        resumed: list = []
        for step in SCRIPT:
            _script_run(bo.Optimizer(space, **settings, storage=path), step, resumed)
    assert sum(src == "model" for *_, src in expected) >= 4  # the GP path is exercised
    assert resumed == expected
    assert _same_trials(bo.load(path).trials, straight.trials)


def test_every_event_is_fsynced_before_the_call_returns(space, path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd):
        real_fsync(fd)
        synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fsync", fsync)
    opt = bo.RandomSearch(space, seed=0, storage=path)
    for call in (lambda: opt.ask(), lambda: opt.tell(0, 1.0), lambda: opt.ask(2)):
        before = len(synced)
        call()
        # On disk and fsynced, with the file exactly as long as it now is.
        assert len(synced) > before and synced[-1] == path.stat().st_size
    assert len(_lines(path)) == 4


def test_resuming_with_another_space_or_settings_is_a_clear_error(space, path):
    bo.Optimizer(space, seed=1, n_initial=4, propose_options=FAST, storage=path).ask()
    other = bo.Space({**space, "x": bo.Real(-2.0, 4.0)})
    with pytest.raises(ValueError, match=r"`space` differs.*x: Real\(low=-2.0, high=3.0"):
        bo.Optimizer(other, n_initial=4, propose_options=FAST, storage=path)
    with pytest.raises(ValueError, match="`seed=2` differs"):
        bo.Optimizer(space, seed=2, n_initial=4, propose_options=FAST, storage=path)
    with pytest.raises(ValueError, match="maximize=True"):
        bo.Optimizer(space, maximize=True, n_initial=4, propose_options=FAST, storage=path)
    with pytest.raises(ValueError, match="acquisition='qlognei' in the journal but 'ucb'"):
        bo.Optimizer(space, acquisition="ucb", n_initial=4, propose_options=FAST, storage=path)
    with pytest.raises(ValueError, match="propose_options"):
        bo.Optimizer(space, n_initial=4, storage=path)
    with pytest.raises(ValueError, match="not of bayesopt.random:RandomSearch"):
        bo.RandomSearch(space, storage=path)
    with pytest.raises(TypeError, match="`storage` must be a path"):
        bo.RandomSearch(space, storage=3)
    # Nothing was written by the refused calls.
    assert len(_lines(path)) == 2
    ok = bo.Optimizer(space, seed=1, n_initial=4, propose_options=FAST, storage=path)
    assert len(ok.trials) == 1


# --- journals written before the history, the journal and the front were split ---------------

DATA = REPO / "tests" / "data"
OLD_SPACE = bo.Space(
    {
        "x": bo.Real(-2.0, 3.0),
        "lr": bo.Real(1e-4, 1e-1, log=True),
        "n": bo.Integer(1, 64, log=True),
        "c": bo.Categorical([None, True, 2, 2.5, "a", np.float32(0.1), (1, None)]),
    }
)


def test_an_older_random_search_journal_loads_and_resumes(tmp_path):
    loaded = bo.load(DATA / "random_v1.jsonl")
    assert type(loaded) is bo.RandomSearch and loaded.sobol and loaded.seed == 3
    S = bo.Source
    assert [t.source for t in loaded.trials] == [S.SOBOL] * 4 + [S.ADDED] + [S.ENQUEUED] * 2
    assert [t.state.value for t in loaded.trials] == ["complete", "failed", "complete", "failed",
                                                      "complete", "pending", "pending"]  # fmt: skip
    assert loaded.trials[3].error == "ValueError: boom"
    path = tmp_path / "random.jsonl"
    shutil.copy(DATA / "random_v1.jsonl", path)
    resumed = bo.RandomSearch(OLD_SPACE, sobol=True, storage=path)
    asked = [(t.id, _typed(t.params), t.source) for t in resumed.ask(2)]
    assert asked == [  # what the code that wrote the journal asked next
        (7, _typed({"x": 2.5, "lr": 1e-4, "n": 64, "c": np.float32(0.1)}), S.ENQUEUED),
        (8, _typed({"x": 0.5255533307790756, "lr": 0.004218350053886776, "n": 5, "c": True}),
         S.SOBOL),
    ]  # fmt: skip


def test_an_older_optimizer_journal_loads_and_resumes(tmp_path):
    loaded = bo.load(DATA / "optimizer_v1.jsonl")
    assert type(loaded) is bo.Optimizer and loaded.maximize and loaded.n_initial == 3
    assert isinstance(loaded.model_options, bo.ModelOptions) and loaded.propose_options == FAST
    S = bo.Source
    assert [(t.id, t.value, t.source) for t in loaded.trials] == [
        (0, -0.5902887582778931, S.INITIAL),
        (1, 0.6027916884049773, S.INITIAL),
        (2, 2.362291656434536, S.INITIAL),
        (3, 1.0, S.MODEL),
        (4, None, S.MODEL),
    ]
    path = tmp_path / "optimizer.jsonl"
    shutil.copy(DATA / "optimizer_v1.jsonl", path)
    options = loaded.model_options
    resumed = bo.Optimizer(OLD_SPACE, n_initial=3, propose_options=FAST, model_options=options,
                           maximize=True, storage=path)  # fmt: skip
    assert resumed.seed == 5 and resumed.tell(4, 0.5).value == 0.5
    assert bo.load(path).best.id == 2


def test_a_journal_records_exactly_the_settings(space, path):
    bo.Optimizer(space, seed=0, device="cpu", threads=1, storage=path)
    settings = json.loads(_lines(path)[0])["settings"]
    assert list(settings) == ["acquisition", "n_initial", "initial_design", "model_options",
                              "propose_options", "trust_region"]  # fmt: skip
    bo.Optimizer(space, threads=None, storage=path)  # where and how fast it runs may differ


# --- crash safety ----------------------------------------------------------------------------


def _study(space, path, n=6) -> list[bo.Trial]:
    rs = bo.RandomSearch(space, seed=0, storage=path)
    for _ in range(n):
        t = rs.ask()
        rs.tell(t, t.params["x"])
    return rs.trials


TEARS = {
    "cut 1 byte": lambda last: last[:-2],
    "cut to half": lambda last: last[: len(last) // 2],
    "cut to 1 byte": lambda last: last[:1],
    "zeros": lambda last: b"\0" * len(last),
    "zeros and newline": lambda last: b"\0" * 40 + b"\n",
    "garbage": lambda last: b"\x93\xff garbage }{ \n",
    "half then zeros": lambda last: last[:20] + b"\0" * 30,
    "a changed digit": lambda last: last.replace(b'"id":5', b'"id":4'),
    "no checksum": lambda last: last.replace(b',"crc"', b',"crd"'),
}


@pytest.mark.parametrize("tear", list(TEARS))
def test_a_torn_last_line_is_skipped_with_a_warning_and_nothing_before_is_lost(space, path, tear):
    trials = _study(space, path)
    data = path.read_bytes()
    cut = data.rstrip(b"\n").rfind(b"\n") + 1
    head, last = data[:cut], data[cut:]
    path.write_bytes(head + TEARS[tear](last))
    expected = [*trials[:-1], bo.Trial(5, trials[-1].params, source="random")]  # tell lost

    with pytest.warns(bo.JournalWarning, match=r"skipped line 13 .* torn or garbled last line"):
        loaded = bo.load(path)
    assert _same_trials(loaded.trials, expected)
    assert path.read_bytes() == head + TEARS[tear](last)  # load() changes nothing

    with pytest.warns(bo.JournalWarning, match="removed line 13"):
        rs = bo.RandomSearch(space, storage=path)
    assert _same_trials(rs.trials, expected)
    assert path.read_bytes() == head  # the torn line was cut off
    rs.tell(5, 0.5)
    rs.tell(rs.ask(), 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = bo.load(path)
    assert [t.value for t in again.trials[5:]] == [0.5, 0.25]


def test_a_complete_last_line_without_its_newline_is_kept(space, path):
    trials = _study(space, path)
    path.write_bytes(path.read_bytes()[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs = bo.RandomSearch(space, storage=path)
        assert _same_trials(rs.trials, trials)
        rs.tell(rs.ask(), 1.0)  # the writer adds the missing newline first
        assert _same_trials(bo.load(path).trials[:6], trials)
    assert all(json.loads(line) for line in _lines(path))


def test_another_writer_sees_the_missing_newline_repaired(space, path):
    a = bo.RandomSearch(space, seed=0, storage=path)
    a.tell(a.ask(), 1.0)
    del a
    path.write_bytes(path.read_bytes()[:-1])  # as if the newline never reached the disk
    b = bo.RandomSearch(space, storage=path)  # both read the unterminated line
    c = bo.RandomSearch(space, storage=path)
    c.tell(c.ask(), 2.0)  # appends "\n" and its events
    b.tell(b.ask(), 3.0)  # must read c's events after the inserted newline
    assert [t.value for t in bo.load(path).trials] == [1.0, 2.0, 3.0]


def _resign(lines: list[str]) -> list[str]:
    """Rewrite each line's sequence number and checksum, as if the edit had been written."""
    out = []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        obj = {k: v for k, v in obj.items() if k not in ("seq", "crc")}
        out.append(dump_line(obj, i + 1).decode().rstrip("\n"))
    return out


EDITS = [
    # Checksums and sequence numbers: edits, lost and repeated lines.
    (lambda ls: ls.__setitem__(2, ls[2].replace('"id":0', '"id":1')), False,
     "line 3: its checksum does not match"),
    (lambda ls: ls.__setitem__(2, ls[2].replace(',"crc"', ',"crd"')), False,
     "line 3: it has no checksum"),
    (lambda ls: ls.pop(2), False, r"line 3: its sequence number is 4: 1 line\(s\) before it"),
    (lambda ls: ls.insert(5, ls[4]), False, "line 6: its sequence number is 5: it is repeated"),
    (lambda ls: ls.__setitem__(3, ls[3][:10]), False, "line 4: not a JSON object"),
    (lambda ls: ls.__setitem__(3, ""), False, "line 4: not a JSON object"),
    # Lines with valid checksums that do not fit the history before them.
    (lambda ls: ls.insert(5, ls[4]), True, r"line 6: trial 1 told twice"),
    (lambda ls: ls.pop(3), True, r"line 4: told trial 1, but the study has ids 0..0"),
    (lambda ls: ls.pop(1), True, r"line 2: told trial 0, but the study has ids 0..-1"),
    (lambda ls: ls.__setitem__(2, ls[2].replace('"told"', '"tolled"')), True, "line 3: unknown"),
    (lambda ls: ls.__setitem__(2, ls[2].replace('"id":0', '"id":9')), True,
     "line 3: told trial 9"),
    (lambda ls: ls.__setitem__(1, ls[1].replace('"id":0', '"id":1')), True,
     "line 2: asked trial id 1, but the next id is 0"),
    (lambda ls: ls.__setitem__(1, ls[1].replace('"x":', '"y":')), True, "line 2: params"),
    (lambda ls: ls.__setitem__(2, ls[2].replace('"value":', '"v":')), True, "needs `value`"),
    (lambda ls: ls.__setitem__(0, ls[0].replace("bayesopt-journal", "x")), True,
     "line 1: `format`"),
    (lambda ls: ls.__setitem__(0, ls[2]), True, "line 1: the first line must be a 'created'"),
    (lambda ls: ls.append('{"event":"told","id":5}'), True, r"line 14: a 'told' event needs"),
    (lambda ls: ls.append('{"event":"created"}'), True, "line 14: unknown or misplaced event"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "resign", "match"), EDITS)
def test_any_other_corruption_is_an_error_naming_the_line(space, path, edit, resign, match):
    _study(space, path)
    lines = _lines(path)
    edit(lines)
    path.write_text("\n".join(_resign(lines) if resign else lines) + "\n")
    before = path.read_bytes()
    with pytest.raises(bo.JournalError, match=match):
        bo.load(path)
    with pytest.raises(bo.JournalError, match=match):
        bo.RandomSearch(space, storage=path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("text", ["x,y\n1,2\n", "some notes", '{"a": 1}\n'])
def test_a_file_that_is_not_a_journal_is_refused_and_left_alone(space, path, text):
    path.write_text(text)
    with pytest.raises(bo.JournalError, match="line 1"):
        bo.RandomSearch(space, storage=path)
    assert path.read_text() == text


def test_a_journal_truncated_by_someone_else_is_an_error(space, path):
    rs = bo.RandomSearch(space, seed=0, storage=path)
    rs.tell(rs.ask(), 1.0)
    with open(path, "r+b") as fh:
        fh.truncate(10)
    with pytest.raises(bo.JournalError, match="shrank"):
        rs.ask()


def test_a_failed_write_leaves_the_journal_and_the_study_unchanged(space, path):
    """A full disk (here: the file-size limit) makes ``tell`` raise, and changes nothing."""
    rs = bo.RandomSearch(space, seed=0, storage=path)
    t = rs.ask()
    size = path.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, hard))
    try:
        with pytest.raises(OSError):
            rs.tell(t, 1.0)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert path.stat().st_size == size
    assert rs.trials[0].state == "pending"
    rs.tell(t, 1.0)  # the disk has room again: the same tell works
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bo.load(path).trials[0].value == 1.0


KILL_LOOP = """
    import sys, bayesopt as bo
    space = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])})
    rs = bo.RandomSearch(space, storage=sys.argv[1])
    print("ready", flush=True)
    while True:
        t = rs.ask()
        told = rs.tell(t, t.params["x"])
        print(told.id, repr(told.value), flush=True)
"""


@pytest.mark.slow  # real processes: ~3 s of imports each
def test_killed_at_random_moments_nothing_told_is_lost(space, tmp_path):
    """SIGKILL a writer mid-stream three times; every tell it reported is in the journal."""
    path = tmp_path / "killed.jsonl"
    bo.RandomSearch(bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])}),
                    seed=0, storage=path)  # fmt: skip
    rng = random.Random(0)
    reported: dict[int, float] = {}
    for _ in range(3):
        proc = _run_python(KILL_LOOP.replace("sys.argv[1]", repr(str(path))))
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.3))
        proc.kill()
        out, _ = proc.communicate()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2:
                reported[int(parts[0])] = float(parts[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bo.JournalWarning)  # a torn tail is allowed
            study = bo.load(path)
        values = {t.id: t.value for t in study.trials}
        assert all(values[i] == v for i, v in reported.items())
    assert len(reported) > 10


# --- several writers ------------------------------------------------------------------------------


def test_two_writers_in_one_process_see_each_other(space, path):
    a = bo.RandomSearch(space, seed=0, storage=path)
    b = bo.RandomSearch(space, storage=path)
    ta = a.ask()
    tb = b.ask()  # b reads a's ask first: a new id, and a's trial is pending for it
    assert (ta.id, tb.id) == (0, 1)
    assert [t.id for t in b.pending] == [0, 1]
    b.tell(ta.id, 0.5)  # a trial asked by a, told by b
    with pytest.raises(ValueError, match="already told"):
        a.tell(ta, 0.7)  # a syncs first, so it knows
    a.tell(tb, 0.25)
    assert [t.value for t in a.trials] == [0.5, 0.25]
    b.ask()
    assert _same_trials(b.trials[:2], a.trials)


def test_a_dead_writers_pending_trials_are_claimed_once(space, path):
    a = bo.RandomSearch(space, seed=0, storage=path)
    orphans = a.ask(2)
    b = bo.RandomSearch(space, storage=path)
    c = bo.RandomSearch(space, storage=path)
    assert b.next_trial(10).id == 2  # a is alive: its trials are not taken
    a.close()  # a's session ends as if its process had died
    assert b.next_trial(10).id == orphans[0].id
    assert c.next_trial(10).id == orphans[1].id  # c sees b's claim
    assert c.next_trial(10).id == 3
    assert c.next_trial(4) is None  # the budget is reached
    with pytest.raises(RuntimeError, match="was closed"):
        a.ask()
    lines = [json.loads(line) for line in _lines(path)]
    assert [(e["event"], e.get("ids")) for e in lines if e["event"] == "claimed"] == [
        ("claimed", [0]),
        ("claimed", [1]),
    ]


WRITER = """
    import sys, time, bayesopt as bo
    folder, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from pathlib import Path
    space = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])})
    rs = bo.RandomSearch(space, storage=Path(folder) / "shared.jsonl")
    Path(folder, name).touch()
    while len(list(Path(folder).glob("w*"))) < 2:  # start together
        time.sleep(0.01)
    for _ in range(n):
        t = rs.ask()
        seen = len(rs.trials)
        time.sleep(0.005)
        rs.tell(t, t.params["x"] * 10)
        print(t.id, seen, flush=True)
"""


@pytest.mark.slow  # real processes: ~3 s of imports each
def test_two_processes_share_one_journal_without_losing_or_duplicating_events(tmp_path):
    n = 30
    space = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])})
    bo.RandomSearch(space, seed=0, storage=tmp_path / "shared.jsonl")
    script = WRITER.replace("sys.argv[1]", repr(str(tmp_path)))
    procs = [
        _run_python(script.replace("sys.argv[2]", f"'w{i}'").replace("int(sys.argv[3])", str(n)))
        for i in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    ids = [[int(line.split()[0]) for line in out.splitlines()] for out, _ in outs]
    seen = [[int(line.split()[1]) for line in out.splitlines()] for out, _ in outs]
    assert sorted(ids[0] + ids[1]) == list(range(2 * n))  # unique ids, none lost
    # Each process saw the other's trials at its asks (interleaved, not one after the other).
    assert all(s[-1] > n for s in seen) and ids[0] != list(range(min(ids[0]), max(ids[0]) + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = bo.load(tmp_path / "shared.jsonl")
    assert len(study.trials) == 2 * n
    assert all(t.state == "complete" and t.value == t.params["x"] * 10 for t in study.trials)
    events = [json.loads(line)["event"] for line in _lines(tmp_path / "shared.jsonl")]
    assert events.count("asked") == events.count("told") == 2 * n


# --- the end-to-end test of DESIGN.md ------------------------------------------------------------


@pytest.mark.slow
def test_branin_found_while_reloading_between_every_ask_and_tell(
    tmp_path, branin_space, branin, branin_min
):
    path = tmp_path / "branin.jsonl"
    bo.Optimizer(branin_space, seed=1, storage=path)
    for _ in range(40):
        trial = bo.Optimizer(branin_space, storage=path).ask()
        bo.Optimizer(branin_space, storage=path).tell(trial.id, branin(trial.params))
    best = bo.load(path).best
    assert best.value - branin_min < 0.05
