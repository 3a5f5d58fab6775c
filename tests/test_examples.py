"""The examples (examples/quickstart.py, examples/cash.py) run end to end with small budgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
ROOT = Path(__file__).resolve().parents[1]


def _run(example: str, cwd, **env: str) -> subprocess.CompletedProcess:
    """Run ``examples/<example>`` in a fresh interpreter with ``env`` added."""
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / example)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=600,
        check=True,
    )


@pytest.mark.slow
def test_quickstart_runs_and_reports(tmp_path):
    done = _run("quickstart.py", tmp_path, BAYESOPT_DEMO_TRIALS="6", BAYESOPT_DEMO_SEEDS="2")
    out = done.stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["bayesopt"][1] == rows["random"][1] == "6" and rows["random-2x"][1] == "12"
    assert "Best configuration found by bayesopt:" in out and "learning_rate" in out
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"
    assert "6/6 runs done" in done.stderr  # the progress bar: 3 methods x 2 seeds


@pytest.mark.slow
def test_cash_example_prints_a_leaderboard(tmp_path):
    done = _run("cash.py", tmp_path, BAYESOPT_CASH_TRIALS="5")
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["rank", "error", "params"]
    rows = [line.split(maxsplit=2) for line in lines[1:]]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    errors = [float(r[1]) for r in rows]
    assert errors == sorted(errors) and 0.0 <= errors[0] < 1.0
    assert all("'learner'" in r[2] and "'scaler'" in r[2] for r in rows)
