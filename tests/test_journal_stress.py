"""Several writers on one journal, SIGKILLed at random moments and restarted.

Every ``tell`` that returned must survive with its value, ids must stay unique, and a trial
may only be evaluated again after a writer claimed it from a dead one. The default run is
short (``make test`` runs it); ``BAYESOPT_STRESS_SECONDS=300`` makes it a long soak.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import bayesopt as bo

REPO = Path(__file__).resolve().parents[1]
SPACE = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])})

WORKER = """
    import sys, bayesopt as bo
    space = bo.Space({"x": bo.Real(0.0, 1.0), "c": bo.Categorical([None, True, 2])})
    rs = bo.RandomSearch(space, storage=sys.argv[1])
    print("ready", rs._journal.session, flush=True)
    while (t := rs.next_trial(10**9)) is not None:
        print("eval", t.id, flush=True)  # the evaluation starts
        told = rs.tell(t, t.params["x"])
        print("told", told.id, repr(told.value), flush=True)
"""


def _start(path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    code = textwrap.dedent(WORKER)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc


def _collect(proc: subprocess.Popen, evals: collections.Counter, told: dict) -> None:
    out, err = proc.communicate()
    assert "Traceback" not in err, err
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "eval":
            evals[int(parts[1])] += 1
        elif len(parts) == 3 and parts[0] == "told":
            told[int(parts[1])] = float(parts[2])


@pytest.mark.slow  # real processes: a few seconds of imports each
def test_writers_killed_at_random_lose_nothing_and_repeat_only_claimed_trials(tmp_path):
    seconds = float(os.environ.get("BAYESOPT_STRESS_SECONDS", "12"))
    path = tmp_path / "stress.jsonl"
    bo.RandomSearch(SPACE, seed=0, storage=path).close()
    rng = random.Random(0)
    evals: collections.Counter[int] = collections.Counter()
    told: dict[int, float] = {}
    killed: dict[str, float] = {}  # session -> when its process was killed

    def start() -> tuple[subprocess.Popen, str]:
        proc = _start(path)
        ready, _, session = proc.stdout.readline().strip().partition(" ")
        assert ready == "ready", proc.stderr.read()
        return proc, session

    def kill(proc: subprocess.Popen, session: str) -> None:
        killed[session] = time.time()
        proc.kill()
        _collect(proc, evals, told)

    procs = [start() for _ in range(3)]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.2, 1.0))
        k = rng.randrange(len(procs))
        kill(*procs[k])
        procs[k] = start()
    for proc in procs:
        kill(*proc)

    # A last writer claims every orphan (all the others are dead) and evaluates it.
    last = bo.RandomSearch(SPACE, storage=path)
    while last.pending:
        t = last.next_trial(len(last.trials))
        evals[t.id] += 1
        told[t.id] = last.tell(t, t.params["x"]).value
    last.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bo.JournalWarning)  # a torn tail is allowed
        study = bo.load(path)
    trials = study.trials
    assert [t.id for t in trials] == list(range(len(trials)))  # unique, in order
    assert all(t.state is bo.TrialState.COMPLETE for t in trials)
    assert all(trials[i].value == v for i, v in told.items())  # every tell that returned
    assert all(t.value == t.params["x"] for t in trials)
    claims: collections.Counter[int] = collections.Counter()
    owner: dict[int, str] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "asked":
            owner.update((t["id"], event["session"]) for t in event["trials"])
        elif event["event"] == "claimed":
            for i in event["ids"]:  # only ever from a writer that was dead by then
                assert event["time"] >= killed[owner[i]], (i, owner[i])
                owner[i] = event["session"]
            claims.update(event["ids"])
    repeated = {i: n for i, n in evals.items() if n > 1 + claims[i]}
    assert not repeated, f"evaluated again without a claim: {repeated}"
    # The run must have exercised the faults at all; how many fit in the time depends on the
    # machine's load, so the floor is low.
    assert len(killed) >= 3 and len(told) > 10
