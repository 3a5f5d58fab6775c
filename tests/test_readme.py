"""The README's ask/tell example runs as written and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_example_runs_and_finds_a_good_point():
    blocks = _python_blocks()
    assert blocks, "README has no python example"
    example = blocks[0]
    assert len(example.strip().splitlines()) <= 20
    namespace: dict = {}
    exec(compile(example, str(README), "exec"), namespace)
    opt = namespace["opt"]
    assert len(opt.trials) == 20
    assert opt.best.value < 3.0  # the optimum is 0; random 20-point search rarely gets here


def test_readme_pruning_example_runs_and_prunes():
    (example,) = [b for b in _python_blocks() if "should_stop" in b]
    import bayesopt as bo

    def train_one_epoch(params: dict, epoch: int) -> float:  # a learning curve per config
        return (params["x"] - 0.3) ** 2 + 1.0 / epoch

    namespace: dict = {"bo": bo, "train_one_epoch": train_one_epoch,
                       "space": bo.Space({"x": bo.Real(0.0, 1.0)})}  # fmt: skip
    exec(compile(example, str(README), "exec"), namespace)
    opt = namespace["opt"]
    states = [t.state for t in opt.trials]
    assert len(states) == 30 and bo.TrialState.PRUNED in states
    assert bo.TrialState.COMPLETE in states
    assert abs(opt.best.params["x"] - 0.3) < 0.1
