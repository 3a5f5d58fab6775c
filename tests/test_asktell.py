"""The ask/tell front: a user-written proposer, its contract, and the public hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import bayesopt as bo

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "ask-tell.md"


# The user guide's example: a proposer in about 30 lines -------------------------------------
class PerturbBest(bo.AskTell):
    """Gaussian steps around the best trial; uniform draws until one is complete."""

    def __init__(self, space, *, scale=0.1, seed=None, maximize=False, storage=None):
        super().__init__(space, seed=seed, maximize=maximize)
        if not 0 < scale <= 1:
            raise ValueError(f"`0 < scale <= 1` must hold, but got scale={scale!r}.")
        self.scale = float(scale)
        self.open(storage)  # last: the journal records settings()

    def settings(self):
        return {"scale": self.scale}  # what load() passes back to __init__

    def suggest(self, request):
        gen = torch.Generator().manual_seed(request.seed)
        u = torch.rand(request.n, self.space.dim, generator=gen, dtype=torch.float64)
        best = request.history.best(self.maximize)
        if best is None:
            return u  # n x d unit-cube points
        step = self.scale * torch.randn(u.shape, generator=gen, dtype=torch.float64)
        return (self.space.to_unit(best.params) + step).clamp(0.0, 1.0)


SPACE = bo.Space(
    {"x": bo.Real(-2.0, 2.0), "k": bo.Integer(0, 4), "c": bo.Categorical(["a", None, 3])}
)


def f(p: dict) -> float:
    return (p["x"] - 0.5) ** 2 + (p["k"] - 3) ** 2 + (p["c"] is not None)


def _run(opt: bo.AskTell, n: int) -> list[tuple]:
    for _ in range(n):
        t = opt.ask()
        opt.tell(t, f(t.params))
    return [(t.params, t.value, t.source) for t in opt.trials]


def test_a_tiny_proposer_runs_with_ask_and_tell():
    opt = PerturbBest(SPACE, scale=0.2, seed=0)
    trials = _run(opt, 40)
    assert all(source is bo.Source.PROPOSED for *_, source in trials)
    assert opt.best.value < 0.5
    assert _run(PerturbBest(SPACE, scale=0.2, seed=0), 40) == trials
    assert _run(PerturbBest(SPACE, scale=0.2, seed=1), 40) != trials


def test_a_tiny_proposer_asks_batches_after_the_queue():
    opt = PerturbBest(SPACE, seed=0)
    opt.enqueue({"x": 0.0, "k": 1, "c": None})
    batch = opt.ask(4)
    assert [t.id for t in batch] == [0, 1, 2, 3] and len(opt.pending) == 4
    assert [t.source for t in batch] == [bo.Source.ENQUEUED] + 3 * [bo.Source.PROPOSED]
    assert batch[0].params == {"x": 0.0, "k": 1, "c": None}
    for t in batch:
        SPACE.validate(t.params)
        opt.tell(t, f(t.params))
    assert not opt.pending and opt.best is not None


SCRIPT = [("ask", 2), ("tell", 0), ("tell", 0), ("ask", 3), ("tell", 1), ("add", 0),
          ("ask", 1), ("tell", 0), ("tell", 0), ("tell", 0), ("ask", 2)]  # fmt: skip


def _step(opt: bo.AskTell, op: str, arg: int, asks: list) -> None:
    if op == "ask":
        asks += [(t.id, t.params, t.source) for t in opt.ask(arg)]
    elif op == "tell":
        t = opt.pending[arg]
        opt.tell(t, f(t.params))
    else:
        opt.add({"x": 0.4, "k": 3, "c": None}, 0.01)


def test_a_tiny_proposer_resumes_from_its_journal_and_loads(tmp_path):
    path = tmp_path / "perturb.jsonl"
    straight = PerturbBest(SPACE, scale=0.3, seed=7)
    expected: list = []
    for op, arg in SCRIPT:
        _step(straight, op, arg, expected)
    PerturbBest(SPACE, scale=0.3, seed=7, storage=path)
    resumed: list = []
    for op, arg in SCRIPT:  # a new object on the journal for every call
        _step(PerturbBest(SPACE, scale=0.3, storage=path), op, arg, resumed)
    assert resumed == expected
    created = json.loads(path.read_text().splitlines()[0])
    assert created["optimizer"] == f"{PerturbBest.__module__}:PerturbBest"
    assert created["settings"] == {"scale": 0.3}
    loaded = bo.load(path)
    assert type(loaded) is PerturbBest and loaded.scale == 0.3 and loaded.seed == 7
    assert [(t.params, t.value, t.source) for t in loaded.trials] == [
        (t.params, t.value, t.source) for t in straight.trials
    ]
    with pytest.raises(RuntimeError, match="read-only by bayesopt.load"):
        loaded.ask()
    with pytest.raises(ValueError, match=r"scale=0.3 in the journal but 0.5 here"):
        PerturbBest(SPACE, scale=0.5, storage=path)


def test_the_user_guide_shows_the_same_proposer():
    text = GUIDE.read_text()
    match = re.search(r"## Write your own proposer.*?```python\n(.*?)```", text, flags=re.S)
    assert match, "docs/guide/ask-tell.md has no 'Write your own proposer' example"
    example = match.group(1)
    namespace: dict = {"__name__": "guide_example"}
    exec(compile(example, str(GUIDE), "exec"), namespace)
    cls = namespace["PerturbBest"]
    mine = _run(PerturbBest(SPACE, scale=0.2, seed=3), 12)
    assert _run(cls(SPACE, scale=0.2, seed=3), 12) == mine
    assert len(example.strip().splitlines()) <= 35


# The contract ---------------------------------------------------------------------------------
class Scripted(bo.AskTell):
    """Returns whatever ``answer`` holds, to check how the front takes a proposer's output."""

    answer: object = None

    def suggest(self, request):
        return self.answer(request) if callable(self.answer) else self.answer


@pytest.mark.parametrize(
    ("answer", "error", "match"),
    [
        (lambda r: [], ValueError, r"Scripted.suggest must return request.n=2 points, .* 0"),
        (lambda r: torch.rand(3), ValueError, r"an `n x d` tensor, but got shape \(3,\)"),
        (lambda r: 5, TypeError, "must return a tensor or a sequence of points"),
        (lambda r: [{"x": 9.0}] * r.n, ValueError, "returned a point outside the space"),
        (lambda r: [[0.5, 0.5]] * r.n, ValueError, "expected 1 coordinates"),
        (lambda r: [[float("nan")]] * r.n, ValueError, "must be finite"),
    ],
)
def test_a_broken_answer_is_an_error_and_changes_nothing(answer, error, match, tmp_path):
    space = bo.Space({"x": bo.Real(0.0, 1.0)})
    opt = Scripted(space, seed=0)
    opt.open(tmp_path / "s.jsonl")
    opt.answer = lambda r: [({"x": 0.25}, bo.Source.RANDOM), [0.5]][: r.n]
    assert [(t.params, t.source) for t in opt.ask(2)] == [
        ({"x": 0.25}, bo.Source.RANDOM),
        ({"x": 0.5}, bo.Source.PROPOSED),
    ]
    size = (tmp_path / "s.jsonl").stat().st_size
    opt.answer = answer
    with pytest.raises(error, match=match):
        opt.ask(2)
    assert len(opt.trials) == 2 and (tmp_path / "s.jsonl").stat().st_size == size


def test_a_proposer_must_implement_suggest():
    with pytest.raises(NotImplementedError, match="must implement `suggest"):
        bo.AskTell(SPACE, seed=0).ask()
    assert bo.AskTell(SPACE).settings() == {}


def test_open_is_explicit_once_and_before_any_trial(tmp_path):
    opt = PerturbBest(SPACE, seed=0)
    opt.open(None)  # no journal: nothing happens
    opt.open(tmp_path / "a.jsonl")  # a proposer made without storage can still get one
    with pytest.raises(RuntimeError, match="already has a journal"):
        opt.open(tmp_path / "b.jsonl")
    late = PerturbBest(SPACE, seed=0)
    late.ask()
    with pytest.raises(RuntimeError, match="must come before the first ask"):
        late.open(tmp_path / "c.jsonl")
    assert not (tmp_path / "b.jsonl").exists() and not (tmp_path / "c.jsonl").exists()
    with pytest.raises(TypeError, match="`storage` must be a path"):
        late.open(3)


def test_restore_builds_a_read_only_proposer():
    history = bo.RandomSearch(SPACE, seed=0)
    history.tell(history.ask(), 1.0)
    opt = PerturbBest.restore(
        SPACE, history._history, seed=4, maximize=True, settings={"scale": 0.5}, path="x.jsonl"
    )
    assert opt.scale == 0.5 and opt.seed == 4 and opt.maximize
    assert opt.trials == history.trials
    with pytest.raises(RuntimeError, match=r"storage='x.jsonl'"):
        opt.tell(0, 1.0)


# The public hooks of minimize -----------------------------------------------------------------
def test_check_value_is_what_tell_records():
    assert bo.AskTell.check_value(2) == 2.0
    assert bo.AskTell.check_value(torch.tensor(0.5)) == 0.5
    assert bo.AskTell.check_value(float("-inf")) is None
    with pytest.raises(TypeError, match="`value` must be a real number"):
        bo.AskTell.check_value("0.5")


def test_next_trial_asks_up_to_the_budget_and_close_ends_changes(tmp_path):
    opt = bo.RandomSearch(SPACE, seed=0)
    assert [opt.next_trial(2).id, opt.next_trial(2).id, opt.next_trial(2)] == [0, 1, None]
    with pytest.raises(TypeError, match="`budget` must be an int"):
        opt.next_trial(2.0)
    opt.close()  # no journal: nothing to close
    opt.ask()
    journaled = bo.RandomSearch(SPACE, seed=0, storage=tmp_path / "j.jsonl")
    journaled.close()
    with pytest.raises(RuntimeError, match="was closed"):
        journaled.next_trial(5)
