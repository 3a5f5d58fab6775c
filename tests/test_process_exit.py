"""The test process exits in bounded time after the session, with pytest's status."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("passing", [True, False], ids=["passing", "failing"])
def test_a_thread_that_never_ends_does_not_hold_the_run(tmp_path, passing):
    case = tmp_path / "test_hang_case.py"
    case.write_text(
        textwrap.dedent(
            f"""
            import threading, time

            def test_leaves_a_thread():
                threading.Thread(target=time.sleep, args=(3600,), name="stuck").start()
                assert {passing}
            """
        )
    )
    env = dict(os.environ, BAYESOPT_TEST_EXIT_GRACE_S="1")
    # the repository's conftest.py loaded as a plugin, on a test outside the repository
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest"]
    done = subprocess.run(
        [*command, str(case)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == (0 if passing else 1), done.stdout + done.stderr
    assert "had not exited 1 s after the session ended" in done.stderr
    assert "in _shutdown" in done.stderr  # the main thread's stack, waiting for "stuck"
