"""Serve one peer optimiser over JSON lines on standard input and output.

Run by ``benchmarks.peers.subprocess_session`` inside the peer's own environment (e.g.
``.venv-hebo/bin/python benchmarks/peers/serve.py hebo``), one process per run. It imports
only the standard library and the peer's packages, never bayesopt. The protocol is in
``subprocess_session``'s docstring. This process belongs to one run, so it seeds the global
numpy and torch generators with the run's seed: HEBO draws from them.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any


class HeboPeer:
    """HEBO (``hebo.optimizers.hebo.HEBO``) with its default settings."""

    def __init__(self, space: list[dict[str, Any]], seed: int, budget: int) -> None:
        import numpy as np
        import torch
        from hebo.design_space.design_space import DesignSpace
        from hebo.optimizers.hebo import HEBO

        np.random.seed(seed)  # noqa: NPY002 - HEBO draws from numpy's global generator
        torch.manual_seed(seed)
        self._np = np
        self.spec = space
        params = []
        for p in space:
            if p["type"] == "categorical":
                params.append({"name": p["name"], "type": "cat", "categories": p["choices"]})
            elif p["type"] == "real":
                kind = "pow" if p["log"] else "num"
                params.append({"name": p["name"], "type": kind, "lb": p["low"], "ub": p["high"]})
            else:
                kind = "pow_int" if p["log"] else "int"
                params.append({"name": p["name"], "type": kind, "lb": p["low"], "ub": p["high"]})
        self.optimizer = HEBO(DesignSpace().parse(params), scramble_seed=seed)
        self._asked: Any = None

    def ask(self, n: int) -> list[dict[str, Any]]:
        self._asked = self.optimizer.suggest(n_suggestions=n)
        out = []
        for row in self._asked.to_dict("records"):
            out.append({k: v.item() if hasattr(v, "item") else v for k, v in row.items()})
        return out

    def tell(self, values: list[float]) -> None:
        y = self._np.asarray(values, dtype=float).reshape(-1, 1)
        self.optimizer.observe(self._asked, y)
        self._asked = None


class UniformPeer:
    """Uniform random search with the standard library's seeded ``random.Random``: no
    dependency, so the protocol can be checked with any interpreter."""

    def __init__(self, space: list[dict[str, Any]], seed: int, budget: int) -> None:
        import random

        self.spec = space
        self._rng = random.Random(seed)
        self.told: list[float] = []

    def _draw(self, p: dict[str, Any]) -> Any:
        if p["type"] == "categorical":
            return self._rng.choice(p["choices"])
        if p["type"] == "integer":
            return self._rng.randint(p["low"], p["high"])
        return self._rng.uniform(p["low"], p["high"])

    def ask(self, n: int) -> list[dict[str, Any]]:
        return [{p["name"]: self._draw(p) for p in self.spec} for _ in range(n)]

    def tell(self, values: list[float]) -> None:
        self.told += [float(v) for v in values]


PEERS = {"hebo": HeboPeer, "uniform": UniformPeer}


def _versions(name: str) -> dict[str, str]:
    """Python's and the peer's package versions in this environment."""
    import importlib.metadata
    import platform

    out = {"python": platform.python_version()}
    for package in {"hebo": ("hebo", "numpy", "torch", "pandas")}.get(name, ()):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = "absent"
    return out


def serve(name: str, stdin: Any, stdout: Any) -> int:
    """Answer the requests read from ``stdin`` on ``stdout`` until ``close`` or the end of
    input."""
    peer = None
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request["op"]
            if op == "init":
                peer = PEERS[name](request["space"], int(request["seed"]), int(request["budget"]))
                answer: dict[str, Any] = {"ok": True, "versions": _versions(name)}
            elif op == "ask":
                answer = {"params": peer.ask(int(request["n"]))}
            elif op == "tell":
                peer.tell(request["values"])
                answer = {"ok": True}
            elif op == "close":
                stdout.write(json.dumps({"ok": True}) + "\n")
                stdout.flush()
                return 0
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as exc:  # report to the client, keep serving
            traceback.print_exc(file=sys.stderr)
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0


def main() -> int:
    """Serve ``sys.argv[1]``, keeping the protocol on a private copy of standard output:
    whatever the peer's libraries print (from Python or C) goes to standard error."""
    import os

    if len(sys.argv) != 2 or sys.argv[1] not in PEERS:
        sys.exit(f"usage: serve.py {{{','.join(PEERS)}}}")
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return serve(sys.argv[1], sys.stdin, protocol)


if __name__ == "__main__":
    sys.exit(main())
