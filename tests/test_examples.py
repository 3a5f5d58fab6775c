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
def test_quickstart_runs_and_reports():
    env = {**os.environ, "BAYESOPT_DEMO_TRIALS": "8"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    ).stdout
    lines = out.splitlines()
    assert sum(line.strip().startswith("bo #") for line in lines) == 8
    assert sum(line.strip().startswith("random #") for line in lines) == 8
    assert "Best parameters (bayesopt): {'C':" in out
    assert "random search best CV error" in out
