"""Make the tabular learning-curve benchmark: MLPs on ``load_digits``, every epoch, 3 seeds.

A scrambled Sobol sample of configurations (learning rate, weight decay, width, depth,
dropout, batch size) of a small torch MLP is trained with Adam on a fixed split of the
digits data (1000 train, 397 validation, 400 test rows). Each configuration is trained
with 3 seeds at once as a batched ensemble (one weight tensor with a leading seed axis,
so the seeds share every kernel launch but not their initialisation, shuffling or dropout
masks). After every epoch the validation cross-entropy of each seed is stored; after the
last epoch also the test cross-entropy and accuracy, and the CPU seconds of each epoch
(one thread, so wall seconds on an idle core; per seed: a third of the ensemble's).

The result is ``benchmarks/data/digits_mlp_curves.npz`` (float16 curves), read by
``benchmarks.problems.learning_curves``. Finished configurations are written to a scratch
folder as they complete, so an interrupted run resumes where it stopped. Run it in one
process with one thread, for example::

    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.scripts.make_learning_curves

Options: ``--n-configs`` (default 1024), ``--epochs`` (default 50), ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "data" / "digits_mlp_curves.npz"
SCRATCH = ROOT / "benchmarks" / "results" / "multifidelity" / "_scratch" / "curves"

N_SEEDS = 3
SPLIT = (1000, 397, 400)
"""Rows of the train, validation and test parts of the shuffled (seed 0) digits data."""

PARAMS = {
    # name: (low, high, log, integer)
    "lr": (1e-4, 1e-1, True, False),
    "weight_decay": (1e-6, 1e-1, True, False),
    "width": (16, 256, True, True),
    "depth": (1, 4, False, True),
    "dropout": (0.0, 0.5, False, False),
    "batch_size": (32, 512, True, True),
}
"""The search space; a unit-cube coordinate ``u`` maps to ``low + u (high - low)`` (in
log space where ``log``), rounded for integers."""

CAP = 10.0
"""A validation or test loss above this (or not finite: a diverged run) is stored as this."""


def decode(u: np.ndarray) -> dict[str, float | int]:
    """One unit-cube row (``6``, in ``PARAMS`` order) as a configuration."""
    out: dict[str, float | int] = {}
    for x, (name, (lo, hi, log, integer)) in zip(u, PARAMS.items(), strict=True):
        if integer:
            # equal-width cells for each integer, on the log scale where `log`
            a, b = (math.log(lo - 0.5), math.log(hi + 0.5)) if log else (lo - 0.5, hi + 0.5)
            v = a + float(x) * (b - a)
            value = math.exp(v) if log else v
            out[name] = int(min(max(round(value), lo), hi))
        else:
            a, b = (math.log(lo), math.log(hi)) if log else (lo, hi)
            v = a + float(x) * (b - a)
            out[name] = math.exp(v) if log else v
    return out


def load_split() -> tuple[torch.Tensor, ...]:
    """``(X_train, y_train, X_val, y_val, X_test, y_test)``, features scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X = torch.tensor(X[order] / 16.0, dtype=torch.float32)
    y = torch.tensor(y[order], dtype=torch.long)
    a, b, c = SPLIT
    return X[:a], y[:a], X[a : a + b], y[a : a + b], X[a + b : a + b + c], y[a + b : a + b + c]


def _init(sizes: list[int], seeds: list[int]) -> list[torch.Tensor]:
    """Weights and biases with a leading seed axis, uniform in ``+-1/sqrt(fan_in)`` as
    ``torch.nn.Linear`` draws them, each seed from its own generator."""
    params = []
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / math.sqrt(fan_in)
        W = torch.stack([(torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound for g in gens])
        b = torch.stack([(torch.rand(1, fan_out, generator=g) * 2 - 1) * bound for g in gens])
        params += [W.requires_grad_(), b.requires_grad_()]
    return params


def _forward(
    params: list[torch.Tensor], X: torch.Tensor, dropout: float, gen: torch.Generator | None
) -> torch.Tensor:
    """``S x n x 10`` logits of the ``S`` seeds' nets on ``S x n x 64`` inputs."""
    h = X
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
        if i < n_layers - 1:
            h = torch.relu(h)
            if gen is not None and dropout > 0:
                keep = torch.rand(h.shape, generator=gen) >= dropout
                h = h * keep / (1.0 - dropout)
    return h


def _losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``S`` mean cross-entropies, capped at ``CAP`` (not finite: ``CAP``)."""
    S, n, k = logits.shape
    ce = F.cross_entropy(logits.reshape(S * n, k), y.repeat(S), reduction="none")
    ce = ce.reshape(S, n).mean(1)
    return torch.nan_to_num(ce, nan=CAP, posinf=CAP).clamp(max=CAP)


def train(config: dict, index: int, epochs: int, data: tuple) -> dict[str, np.ndarray]:
    """Train one configuration with ``N_SEEDS`` seeds; its curves and end scores."""
    X_tr, y_tr, X_va, y_va, X_te, y_te = data
    seeds = [1000 * index + s for s in range(N_SEEDS)]
    width, depth = int(config["width"]), int(config["depth"])
    params = _init([X_tr.shape[1]] + [width] * depth + [10], seeds)
    opt = torch.optim.Adam(params, lr=config["lr"], weight_decay=config["weight_decay"])
    gen = torch.Generator().manual_seed(7919 * index + 1)
    n, bs = len(y_tr), int(config["batch_size"])
    val = np.empty((N_SEEDS, epochs), dtype=np.float32)
    seconds = np.empty(epochs, dtype=np.float32)
    Xva = X_va.expand(N_SEEDS, -1, -1)
    for epoch in range(epochs):
        start = time.process_time()
        order = torch.stack([torch.randperm(n, generator=gen) for _ in range(N_SEEDS)])
        for i in range(0, n, bs):
            idx = order[:, i : i + bs]
            logits = _forward(params, X_tr[idx], config["dropout"], gen)
            k = logits.shape[-1]
            loss = F.cross_entropy(logits.reshape(-1, k), y_tr[idx].reshape(-1)) * N_SEEDS
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            val[:, epoch] = _losses(_forward(params, Xva, 0.0, None), y_va).numpy()
        seconds[epoch] = time.process_time() - start
    with torch.no_grad():
        logits = _forward(params, X_te.expand(N_SEEDS, -1, -1), 0.0, None)
        test_loss = _losses(logits, y_te).numpy()
        test_acc = (logits.argmax(-1) == y_te).float().mean(1).numpy()
    return {"val": val, "test_loss": test_loss, "test_acc": test_acc, "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    """Train every configuration not already in the scratch folder, then write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-configs", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--scratch", type=Path, default=SCRATCH)
    args = parser.parse_args(argv)
    from scipy.stats import qmc

    U = qmc.Sobol(d=len(PARAMS), scramble=True, seed=0).random(args.n_configs)
    data = load_split()
    args.scratch.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for index, u in enumerate(U):
        part = args.scratch / f"{index:05d}.npz"
        if part.exists():
            continue
        result = train(decode(u), index, args.epochs, data)
        tmp = part.with_suffix(".tmp.npz")
        np.savez(tmp, **result)
        tmp.replace(part)
        if index % 32 == 0:
            print(f"{index + 1}/{len(U)} configs, {time.perf_counter() - start:.0f} s", flush=True)
    parts = [np.load(args.scratch / f"{i:05d}.npz") for i in range(len(U))]
    configs = [decode(u) for u in U]
    table = {
        "unit": U.astype(np.float32),
        "val_loss": np.stack([p["val"] for p in parts]).astype(np.float16),
        "test_loss": np.stack([p["test_loss"] for p in parts]).astype(np.float16),
        "test_acc": np.stack([p["test_acc"] for p in parts]).astype(np.float16),
        "epoch_seconds": np.stack([p["seconds"] for p in parts]).astype(np.float32) / N_SEEDS,
    }
    for name in PARAMS:
        table[name] = np.array([c[name] for c in configs], dtype=np.float32)
    total = float(sum(p["seconds"].sum() for p in parts))
    wall = time.perf_counter() - start
    meta = {
        "params": {k: list(v) for k, v in PARAMS.items()},
        "split": SPLIT,
        "seeds": N_SEEDS,
        "epochs": args.epochs,
        "cap": CAP,
        "train_cpu_seconds_total": round(total, 1),
        "wall_seconds_last_run": round(wall, 1),
        "torch": torch.__version__,
        "machine": platform.machine(),
    }
    table["meta"] = np.array(json.dumps(meta))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **table)
    print(json.dumps(meta), flush=True)


if __name__ == "__main__":
    main()
