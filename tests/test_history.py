"""The history: the study's state as a pure function of its events."""

from __future__ import annotations

import pickle

import pytest

import bayesopt as bo
from bayesopt.events import Added, Asked, Claimed, Enqueued, EventError, Failed, Told
from bayesopt.history import History, apply, replay

S = "0" * 32


def _asked(*ids: int, dequeued: int = 0, params=None) -> Asked:
    source = bo.Source.ENQUEUED if dequeued else bo.Source.RANDOM
    return Asked(
        tuple(bo.Trial(i, params or {"x": i / 10}, source=source) for i in ids), dequeued, S
    )


EVENTS = [
    _asked(0, 1),
    Told(0, 2.5),
    Added(bo.Trial(2, {"x": 0.9}, 0.5, "complete", bo.Source.ADDED)),
    Enqueued({"x": 0.3}),
    _asked(3, dequeued=1, params={"x": 0.3}),
    Claimed((1,), "1" * 32),
    Failed(3, "ValueError: boom"),
]


def test_apply_returns_a_new_state_and_leaves_the_old_one():
    before = History()
    after = apply(before, EVENTS[0])
    assert before == History() and len(after.trials) == 2
    assert after.owners == {0: S, 1: S}
    with pytest.raises(TypeError):
        after.owners[0] = None  # read-only


def test_replay_is_apply_one_event_after_the_other():
    state = History()
    for event in EVENTS:
        state = apply(state, event)
    assert replay(History(), EVENTS) == state
    assert [t.state.value for t in state.trials] == ["complete", "pending", "complete", "failed"]
    assert state.queue == () and dict(state.owners) == {1: "1" * 32}
    assert [t.id for t in state.pending] == [1] and [t.id for t in state.complete] == [0, 2]
    assert state.best().id == 2 and state.best(maximize=True).id == 0
    assert state.trials[3].error == "ValueError: boom"
    # Finish order, and what had finished when each trial was asked or added.
    assert state.finished == (0, 2, 3) and state.asked_at == (0, 0, 1, 2)
    assert pickle.loads(pickle.dumps(state)) == state


@pytest.mark.parametrize(
    ("events", "match"),
    [
        ([_asked(1)], "asked trial id 1, but the next id is 0"),
        ([_asked(0), Told(0, 1.0), Told(0, 2.0)], "trial 0 told twice"),
        ([Failed(0, None)], r"failed trial 0, but the study has ids 0..-1"),
        ([_asked(0, dequeued=1)], "1 trial\\(s\\) taken from a queue of 0"),
        ([Enqueued({"x": 1}), _asked(0, dequeued=1, params={"x": 1.0})], "the queue holds"),
        ([Claimed((0,), S)], "claimed trial 0, which is not pending"),
        ([Added(bo.Trial(3, {"x": 0.0}, 1.0, "complete", "added"))], "added trial id 3"),
    ],
)
def test_events_that_do_not_fit_are_errors(events, match):
    with pytest.raises(EventError, match=match):
        replay(History(), events)
