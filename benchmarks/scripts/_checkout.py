"""Run a script in a fresh process that imports ``bayesopt`` and ``benchmarks`` from a checkout.

The probes here time or inspect one checkout's code against another's. Rather than patch
``sys.path`` in-process, each one reruns itself for the other checkout with that checkout
first on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["run_in_checkout"]


def run_in_checkout(checkout: str | Path, script: str | Path, args: Sequence[str]) -> int:
    """Run ``script args`` with this Python, ``checkout`` first on ``PYTHONPATH``.

    The script runs by its path, so the working directory is not on ``sys.path`` and the
    checkout's packages take precedence over the installed ones.

    Returns:
        The script's exit code.
    """
    root = Path(checkout).resolve()
    if not (root / "bayesopt" / "__init__.py").is_file():
        raise SystemExit(f"{checkout}: not a checkout of bayesopt (no bayesopt/__init__.py)")
    paths = [str(root), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    return subprocess.run([sys.executable, str(script), *args], env=env, check=False).returncode
