"""Memory of one hypergradient: ``python -m benchmarks hypergrad memory``, and its report section.

Each (method, T) is measured in a fresh process, so that the peak resident set is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from bayesopt.hypergrad import Hyperparameters, hypergradient
from benchmarks.hypergrad import make_problem

__all__ = ["memory_probe", "memory_section", "run_memory"]


def memory_probe(method: str, n_steps: int) -> dict[str, Any]:
    """One hypergradient of the digits MLP in float64, in this (fresh) process.

    Returns counted trajectory bytes and the measured growth of peak RSS during the call
    (Linux: ``/proc/self/clear_refs`` resets the peak first).
    """
    torch.set_num_threads(1)
    hypers = Hyperparameters.create(lr=1.0, momentum=0.9, weight_decay=1e-4)
    kw = {"unroll": {"method": "unroll"}, "reverse-stored": {"checkpoint_every": 1}, "reverse": {}}[
        method
    ]
    hypergradient(make_problem("mlp", 0, dtype=torch.float64).replace(n_steps=5), hypers, **kw)
    problem = make_problem("mlp", 0, dtype=torch.float64).replace(n_steps=n_steps)

    def status(key: str) -> int:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key))

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS:")
    out = hypergradient(problem, hypers, **kw)
    return {
        "method": method,
        "T": n_steps,
        "stored_bytes": out.stored_bytes,
        "peak_states": out.peak_states,
        "rss_growth_kib": status("VmHWM:") - before,
        "seconds": out.seconds,
        "value": out.value,
    }


def run_memory(out_dir: Path, steps: Sequence[int]) -> Path:
    """Probe each method and T in a fresh subprocess; write ``memory.json``."""
    rows = []
    root = Path(__file__).resolve().parent.parent
    for T in steps:
        for method in ("unroll", "reverse-stored", "reverse"):
            code = (
                f"import json; from benchmarks.hypergrad_memory import memory_probe; "
                f"print(json.dumps(memory_probe({method!r}, {int(T)})))"
            )
            proc = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                cwd=root,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            if proc.returncode != 0:
                raise RuntimeError(f"memory probe {method} T={T} failed:\n{proc.stderr}")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(
                f"  T={T:5d} {method:15s} counted {r['stored_bytes'] / 2**20:8.2f} MiB  "
                f"RSS +{r['rss_growth_kib'] / 1024:8.2f} MiB  {r['seconds']:.2f} s",
                flush=True,
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "memory.json"
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return path


def memory_section(out_dir: Path, plt: Any) -> list[str]:
    """The report's memory table and figure (``memory.png``) from ``memory.json``."""
    path = out_dir / "memory.json"
    if not path.exists():
        return ["## Memory", "", "Not measured (run `python -m benchmarks hypergrad memory`).", ""]
    rows = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "## Memory: unroll against reverse",
        "",
        "One hypergradient of the digits MLP (9,610 weights, float64, minibatches of 50), "
        "each in a fresh process. *Counted*: bytes held for the backward pass (`unroll`: "
        "live tensors saved by autograd, via `saved_tensors_hooks`; `reverse`: the stored "
        "`(w, v)` states). *RSS*: measured growth of the peak resident set during the call "
        "(`/proc/self/clear_refs` resets the peak first), which also counts transient "
        "buffers. `reverse-stored` keeps every state (`checkpoint_every=1`); `reverse` "
        "checkpoints every ceil(sqrt T) steps.",
        "",
        "| T | method | states held | counted MiB | RSS growth MiB | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        states = "–" if r["peak_states"] is None else str(r["peak_states"])
        lines.append(
            f"| {r['T']} | {r['method']} | {states} | {r['stored_bytes'] / 2**20:.2f} | "
            f"{r['rss_growth_kib'] / 1024:.1f} | {r['seconds']:.2f} |"
        )
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for i, m in enumerate(("unroll", "reverse-stored", "reverse")):
        rs = [r for r in rows if r["method"] == m]
        T = [r["T"] for r in rs]
        ax.plot(
            T, [r["stored_bytes"] / 2**20 for r in rs], "o-", color=f"C{i}", label=f"{m}: counted"
        )
        ax.plot(
            T,
            [max(r["rss_growth_kib"], 1) / 1024 for r in rs],
            "s--",
            color=f"C{i}",
            alpha=0.6,
            label=f"{m}: RSS growth",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training steps T")
    ax.set_ylabel("MiB")
    ax.legend(fontsize=7)
    ax.set_title("memory of one hypergradient (MLP, float64)")
    fig.tight_layout()
    fig.savefig(out_dir / "memory.png", dpi=110)
    plt.close(fig)
    return [*lines, "", "![memory](memory.png)", ""]
