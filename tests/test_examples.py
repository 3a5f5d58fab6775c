"""The demo (examples/quickstart.py) runs end to end with a small budget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quickstart_runs_and_reports(tmp_path):
    env = {**os.environ, "BAYESOPT_DEMO_TRIALS": "6", "BAYESOPT_DEMO_SEEDS": "2"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=True,
    )
    out = done.stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["bayesopt"][1] == rows["random"][1] == "6" and rows["random-2x"][1] == "12"
    assert "Best configuration found by bayesopt:" in out and "learning_rate" in out
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"
    assert "6/6 runs done" in done.stderr  # the progress bar: 3 methods x 2 seeds
