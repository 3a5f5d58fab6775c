"""Peers run in another Python environment, spoken to over a JSON-lines ask/tell protocol.

The benchmark starts ``<venv>/bin/python benchmarks/peers/serve.py PEER`` and writes one
JSON object per line to its standard input; the server answers each with one line on its
standard output (its other output goes to standard error)::

    {"op": "init", "space": [...], "seed": 0, "budget": 40} -> {"ok": true}
    {"op": "ask", "n": 4}                                     -> {"params": [{...}, ...]}
    {"op": "tell", "values": [0.5, ...]}                      -> {"ok": true}
    {"op": "close"}                                           -> {"ok": true}, then exits

``space`` is ``benchmarks.peers.common.space_spec``: categoricals travel as string labels.
Values are finite: a failed evaluation is imputed on this side first (``WorstImputer``).
Any request may be answered ``{"error": "..."}``, which raises ``RuntimeError`` here.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import bayesopt as bo
from benchmarks.peers.common import WorstImputer, plain, space_spec

__all__ = ["SubprocessSession", "make_hebo", "venv_python"]

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("serve.py")


def venv_python(name: str) -> Path:
    """The interpreter of the side environment ``.venv-<name>`` at the repository root."""
    return ROOT / f".venv-{name}" / "bin" / "python"


class SubprocessSession:
    """One run of a peer served by ``serve.py`` in another environment.

    Args:
        space: the search space.
        seed: the run's seed (the server seeds the peer with it).
        budget: evaluations of the run.
        peer: the server's peer name, e.g. ``"hebo"``.
        python: the interpreter that runs the server.
    """

    def __init__(self, space: bo.Space, seed: int, budget: int, peer: str, python: Path) -> None:
        if not python.exists():
            raise FileNotFoundError(
                f"{python} does not exist: create it with "
                f"`python benchmarks/peers/make_venv.py {peer}`"
            )
        self.space = space
        self.peer = peer
        self._process = subprocess.Popen(
            [str(python), "-u", str(SERVER), peer],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._asked: list[dict[str, Any]] = []
        self._imputer = WorstImputer()
        init = {"op": "init", "space": space_spec(space), "seed": seed, "budget": budget}
        self.versions: dict[str, str] = self._call(init).get("versions", {})

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"the {self.peer} server ended (exit {process.poll()})") from None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.peer} server ended (exit {process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.peer} server: {answer['error']}")
        return answer

    def ask_batch(self, q: int) -> list[dict[str, Any]]:
        """``q`` points of one round."""
        params = self._call({"op": "ask", "n": q})["params"]
        self._asked = [{n: plain(x[n], p) for n, p in self.space.items()} for x in params]
        return [dict(x) for x in self._asked]

    def tell_batch(self, values: list[float]) -> None:
        """The round's values (non-finite ones imputed as the worst seen)."""
        finite = [self._imputer.finite(float(v)) for v in values]
        assert all(math.isfinite(v) for v in finite)
        self._call({"op": "tell", "values": finite})
        self._asked = []

    def ask(self) -> dict[str, Any]:
        return self.ask_batch(1)[0]

    def tell(self, value: float) -> None:
        self.tell_batch([value])

    def close(self) -> None:
        """Ask the server to exit; kill it if it does not within 10 s."""
        if self._process.poll() is None:
            try:
                self._call({"op": "close"})
                self._process.wait(timeout=10)
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"versions": self.versions}
        if self._imputer.failed:
            out["failed_imputed"] = self._imputer.failed
        return out


def make_hebo(space: bo.Space, seed: int) -> SubprocessSession:
    """HEBO with its defaults, served from ``.venv-hebo``."""
    return SubprocessSession(space, seed, 0, "hebo", venv_python("hebo"))
