"""Build the tabular architecture benchmark ``benchmarks/data/nas_digits.npz``.

Every configuration of a small MLP on scikit-learn's bundled ``load_digits`` (8 x 8 images,
10 classes, 1,797 rows) is trained with 3 seeds on CPU, and the table records, per
configuration and seed, the validation accuracy after every epoch and the test accuracy
after the last one, plus the parameter count and the training seconds. The benchmark
problem ``nas-digits`` (``benchmarks/problems/nas.py``) looks results up in it.

The space (no conditional parameters: the depth is fixed, every layer always exists):

- ``width1``, ``width2``, ``width3``: hidden widths, each in {16, 32, 64, 128};
- ``activation``: {relu, tanh, gelu}, shared by the hidden layers;
- ``skip``: {no, yes}; yes adds a parameter-free residual to hidden layers 2 and 3 (the
  previous layer's output, zero-padded or truncated to the new width, as ResNet's
  "option A" shortcut);
- ``lr``: Adam's learning rate, in {3e-4, 1e-3, 3e-3, 1e-2};
- ``batch_size``: {32, 128}.

That is 4**3 * 3 * 2 * 4 * 2 = 3,072 configurations, all trained (no sampling).

Training: the features are divided by 16 (pixels lie in 0..16); a fixed split (seed 0)
keeps 1,024 rows for training, 384 for validation and 389 for testing. Adam (betas 0.9,
0.999) minimises the mean cross-entropy for ``EPOCHS`` epochs over shuffled minibatches
(the last, partial minibatch of an epoch is kept). Weights and biases start uniform in
``+-1/sqrt(fan_in)`` (torch's ``nn.Linear`` default). Seed ``s`` fixes the initial weights
and the order of the minibatches; the 4 learning rates of one architecture and batch size
share them (common random numbers), and the 12 runs (4 learning rates x 3 seeds) are
trained together as one batched model (``torch.bmm``), on one thread, float32.

``train_seconds`` is the CPU time (``time.process_time``) of such a batch of 12 runs
divided by 4: the seconds to train one configuration with all 3 seeds, amortised. It is a
cost *proxy* (it grows with the widths and the number of minibatches), not the time of a
single stand-alone run; CPU time rather than wall time, so that other processes on a
shared machine do not inflate it.

The script writes its progress every ``--save-every`` seconds to a scratch file
(``--scratch``) and resumes from it when rerun; the finished table replaces the scratch
file. The wall time and the CPU time of the whole build (summed over resumed runs) are
kept in the table's metadata.

Usage: ``nice -n 15 python benchmarks/scripts/make_nas_digits.py [--out PATH] [--epochs 20]
[--tiny]`` (``--tiny`` builds the small fixture ``tests/data/nas_digits_tiny.npz``: 2 widths,
2 activations, 1 learning rate, 2 epochs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bayesopt._threads import limited_threads

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "data" / "nas_digits.npz"
SCRATCH = ROOT / "benchmarks" / "results" / "automl" / "_scratch" / "nas_digits.partial.npz"
TINY = ROOT / "tests" / "data" / "nas_digits_tiny.npz"

GRID: dict[str, list] = {
    "width1": [16, 32, 64, 128],
    "width2": [16, 32, 64, 128],
    "width3": [16, 32, 64, 128],
    "activation": ["relu", "tanh", "gelu"],
    "skip": ["no", "yes"],
    "lr": [3e-4, 1e-3, 3e-3, 1e-2],
    "batch_size": [32, 128],
}
"""The choices of every parameter, in index order (the table's axes, in this order)."""

TINY_GRID: dict[str, list] = {
    "width1": [16, 32],
    "width2": [16, 32],
    "width3": [16],
    "activation": ["relu", "tanh"],
    "skip": ["no", "yes"],
    "lr": [1e-2],
    "batch_size": [128],
}

EPOCHS = 20
SEEDS = 3
SPLIT = (1024, 384)  # training and validation rows; the remaining 389 are the test set
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}


def load_split() -> tuple[torch.Tensor, ...]:
    """``(X_train, y_train, X_val, y_val, X_test, y_test)``: float32 features in [0, 1]."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X = torch.as_tensor(X[order] / 16.0, dtype=torch.float32)
    y = torch.as_tensor(y[order], dtype=torch.int64)
    a, b = SPLIT[0], SPLIT[0] + SPLIT[1]
    return X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:]


def n_params(widths: tuple[int, ...], n_in: int = 64, n_out: int = 10) -> int:
    """Weights and biases of the MLP with hidden ``widths``."""
    sizes = (n_in, *widths, n_out)
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def _shortcut(h: torch.Tensor, width: int) -> torch.Tensor:
    """``h`` (``M x B x w``) zero-padded or truncated to ``width`` columns."""
    w = h.shape[-1]
    if w == width:
        return h
    if w > width:
        return h[..., :width]
    return F.pad(h, (0, width - w))


def _forward(params: list[torch.Tensor], x: torch.Tensor, act, skip: bool) -> torch.Tensor:
    """Logits ``M x B x 10`` of ``M`` stacked MLPs on inputs ``M x B x 64``."""
    h = x
    n_hidden = len(params) // 2 - 1
    for layer in range(n_hidden):
        w, b = params[2 * layer], params[2 * layer + 1]
        z = act(torch.baddbmm(b, h, w))
        h = z + _shortcut(h, z.shape[-1]) if skip and layer > 0 else z
    return torch.baddbmm(params[-1], h, params[-2])


def train_group(
    widths: tuple[int, ...],
    activation: str,
    skip: bool,
    lrs: list[float],
    batch_size: int,
    epochs: int,
    seed: int,
    data: tuple[torch.Tensor, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Train ``len(lrs) x SEEDS`` runs of one architecture and batch size together.

    Returns:
        ``(val_acc, test_acc)``: ``len(lrs) x SEEDS x epochs`` and ``len(lrs) x SEEDS``.
    """
    Xtr, ytr, Xva, yva, Xte, yte = data
    n_lr = len(lrs)
    M = n_lr * SEEDS  # model m trains learning rate m // SEEDS with seed m % SEEDS
    act = ACTIVATIONS[activation]
    sizes = (Xtr.shape[1], *widths, 10)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / math.sqrt(fan_in)
        per_seed_w, per_seed_b = [], []
        for s in range(SEEDS):
            g = torch.Generator().manual_seed(seed * 1000 + s * 100 + len(params))
            per_seed_w.append(torch.empty(fan_in, fan_out).uniform_(-bound, bound, generator=g))
            per_seed_b.append(torch.empty(1, fan_out).uniform_(-bound, bound, generator=g))
        w = torch.stack(per_seed_w).repeat(n_lr, 1, 1)
        b = torch.stack(per_seed_b).repeat(n_lr, 1, 1)
        params += [w.requires_grad_(), b.requires_grad_()]
    lr = torch.tensor(lrs, dtype=torch.float32).repeat_interleave(SEEDS).view(M, 1, 1)
    m1 = [torch.zeros_like(p) for p in params]
    m2 = [torch.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    orders = [torch.Generator().manual_seed(seed * 1000 + s + 7) for s in range(SEEDS)]
    n = len(ytr)
    val_acc = np.zeros((M, epochs))
    step = 0
    for epoch in range(epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in orders])  # SEEDS x n
        perms = perms.repeat(n_lr, 1)  # M x n
        for start in range(0, n, batch_size):
            idx = perms[:, start : start + batch_size]
            logits = _forward(params, Xtr[idx], act, skip)
            loss = F.cross_entropy(logits.reshape(-1, 10), ytr[idx].reshape(-1), reduction="sum")
            grads = torch.autograd.grad(loss / idx.shape[1], params)
            step += 1
            c1, c2 = 1 - beta1**step, 1 - beta2**step
            with torch.no_grad():
                for p, g, a, v in zip(params, grads, m1, m2, strict=True):
                    a.mul_(beta1).add_(g, alpha=1 - beta1)
                    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    p.sub_(lr * (a / c1) / ((v / c2).sqrt() + eps))
        with torch.no_grad():
            pred = _forward(params, Xva.expand(M, -1, -1), act, skip).argmax(-1)
            val_acc[:, epoch] = (pred == yva).float().mean(-1).numpy()
    with torch.no_grad():
        pred = _forward(params, Xte.expand(M, -1, -1), act, skip).argmax(-1)
        test_acc = (pred == yte).float().mean(-1).numpy()
    return val_acc.reshape(n_lr, SEEDS, epochs), test_acc.reshape(n_lr, SEEDS)


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def build(
    grid: dict[str, list], epochs: int, out: Path, scratch: Path, save_every: float
) -> dict[str, np.ndarray]:
    """Train every configuration of ``grid`` (resuming from ``scratch``) and write ``out``."""
    names = list(grid)
    shape = tuple(len(v) for v in grid.values())
    n = int(np.prod(shape))
    lr_axis = names.index("lr")
    signature = json.dumps({"grid": grid, "epochs": epochs, "seeds": SEEDS, "split": SPLIT})
    val = np.full((n, SEEDS, epochs), np.nan, dtype=np.float32)
    test = np.full((n, SEEDS), np.nan, dtype=np.float32)
    secs = np.full(n, np.nan, dtype=np.float32)
    wall = cpu = 0.0
    if scratch.exists():
        old = np.load(scratch)
        if str(old["signature"]) == signature:
            val, test, secs = old["val_acc"], old["test_acc"], old["train_seconds"]
            wall, cpu = float(old["wall_seconds"]), float(old["cpu_seconds"])
            print(f"resuming: {int(np.isfinite(secs).sum())}/{n} done, {wall:.0f} s so far")
    data = load_split()
    # Groups: every configuration but the learning rate.
    other = [range(s) for i, s in enumerate(shape) if i != lr_axis]
    groups = list(itertools.product(*other))
    began, began_cpu = time.perf_counter(), time.process_time()
    last_save = began
    for gi, key in enumerate(groups):
        full = [[*key[:lr_axis], j, *key[lr_axis:]] for j in range(shape[lr_axis])]
        rows = [int(np.ravel_multi_index(tuple(ix), shape)) for ix in full]
        if np.isfinite(secs[rows]).all():
            continue
        cfg = {name: grid[name][i] for name, i in zip(names, full[0], strict=True)}
        widths = tuple(cfg[k] for k in names if k.startswith("width"))
        t0 = time.process_time()
        v, t = train_group(
            widths,
            cfg["activation"],
            cfg["skip"] == "yes",
            grid["lr"],
            cfg["batch_size"],
            epochs,
            seed=gi,
            data=data,
        )
        dt = time.process_time() - t0
        val[rows], test[rows], secs[rows] = v, t, dt / len(rows)
        now = time.perf_counter()
        if now - last_save > save_every:
            done = int(np.isfinite(secs).sum())
            used = cpu + time.process_time() - began_cpu
            print(
                f"{done}/{n} configurations, {wall + now - began:.0f} s ({used:.0f} s CPU)",
                flush=True,
            )
            _save(
                scratch,
                {
                    "signature": np.array(signature),
                    "val_acc": val,
                    "test_acc": test,
                    "train_seconds": secs,
                    "wall_seconds": np.array(wall + now - began),
                    "cpu_seconds": np.array(used),
                },
            )
            last_save = now
    wall += time.perf_counter() - began
    cpu += time.process_time() - began_cpu
    index = np.array(list(itertools.product(*[range(s) for s in shape])), dtype=np.int8)
    widths_of = index[:, [names.index(k) for k in names if k.startswith("width")]]
    width_values = np.array(grid["width1"])  # the widths share one list of choices
    counts = np.array([n_params(tuple(width_values[row])) for row in widths_of], dtype=np.int32)
    meta = {
        "grid": grid,
        "names": names,
        "epochs": epochs,
        "seeds": SEEDS,
        "split": {"train": SPLIT[0], "val": SPLIT[1], "test": 1797 - sum(SPLIT)},
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "built_on": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, one thread",
        "built": time.strftime("%Y-%m-%d"),
    }
    table = {
        "meta": np.array(json.dumps(meta)),
        "index": index,
        "val_acc": val.astype(np.float16),
        "test_acc": test.astype(np.float16),
        "n_params": counts,
        "train_seconds": secs.astype(np.float16),
    }
    _save(out, table)
    if scratch.exists():
        scratch.unlink()
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({size:.2f} MB); {n} configurations in {wall:.0f} s ({cpu:.0f} s CPU)")
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--scratch", type=Path, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--save-every", type=float, default=30.0)
    ap.add_argument("--tiny", action="store_true", help="build the small test fixture")
    args = ap.parse_args()
    grid = TINY_GRID if args.tiny else GRID
    epochs = args.epochs or (2 if args.tiny else EPOCHS)
    out = args.out or (TINY if args.tiny else OUT)
    scratch = args.scratch or SCRATCH.with_name(out.stem + ".partial.npz")
    with limited_threads(1):
        build(grid, epochs, out, scratch, args.save_every)


if __name__ == "__main__":
    main()
