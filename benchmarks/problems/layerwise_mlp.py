"""A 22-dimensional tuning task: a 4-hidden-layer torch MLP on scikit-learn's digits, with a
learning rate, a weight decay, a width and a dropout rate per layer.

Training is plain torch on the CPU, seeded by its own ``torch.Generator`` (weights, batch
order, dropout masks), so the objective is deterministic and never touches torch's global
generator: the same params give the same loss whichever run asks. One evaluation trains for
5 epochs on 1,000 rows and scores the other 797 (0.05 to 0.3 CPU-seconds on one thread;
give the runner ``--threads 1``: torch's default threads only contend on such small
matrices).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import bayesopt as bo
from benchmarks.problems.base import Problem

__all__ = ["DIVERGED", "LAYERS", "LayerwiseMLP", "layerwise_mlp_problems", "layerwise_space"]

LAYERS = 4
"""Hidden layers; each has its own learning rate, weight decay, width and dropout rate."""

DIVERGED = 1e3
"""A validation log loss above this (chance level is ln 10 = 2.3), or a non-finite training
loss, means training diverged: the evaluation fails (NaN)."""


def layerwise_space(layers: int = LAYERS) -> bo.Space:
    """The search space: per hidden layer ``lr{i}``, ``wd{i}``, ``width{i}``, ``dropout{i}``;
    the output layer's ``lr_out`` and ``wd_out``; ``momentum``, ``batch_size``,
    ``init_scale`` and ``activation`` (4 layers: 22 parameters)."""
    spec: dict[str, Any] = {}
    for i in range(layers):
        spec[f"lr{i}"] = bo.Real(1e-4, 0.3, log=True)
        spec[f"wd{i}"] = bo.Real(1e-6, 1e-1, log=True)
        spec[f"width{i}"] = bo.Integer(8, 128, log=True)
        spec[f"dropout{i}"] = bo.Real(0.0, 0.5)
    spec["lr_out"] = bo.Real(1e-4, 0.3, log=True)
    spec["wd_out"] = bo.Real(1e-6, 1e-1, log=True)
    spec["momentum"] = bo.Real(0.0, 0.95)
    spec["batch_size"] = bo.Integer(32, 256, log=True)
    spec["init_scale"] = bo.Real(0.1, 10.0, log=True)
    spec["activation"] = bo.Categorical(["relu", "tanh", "gelu"])
    return bo.Space(spec)


@functools.cache
def _digits(n_train: int) -> tuple[Any, Any, Any, Any]:
    """Standardised digits split into a fixed training and validation part (tensors)."""
    import sklearn.datasets
    import torch

    X, y = sklearn.datasets.load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    # A pixel that is constant over the training rows keeps unit scale: dividing by its
    # zero deviation (plus a tiny epsilon) blew a validation row's value up to 1e6.
    mean, std = X[:n_train].mean(axis=0), X[:n_train].std(axis=0)
    std[std < 1e-8] = 1.0
    X = (X - mean) / std
    t = functools.partial(torch.as_tensor, dtype=torch.float32)
    labels = torch.as_tensor(y)
    return t(X[:n_train]), labels[:n_train], t(X[n_train:]), labels[n_train:]


@dataclass(frozen=True)
class LayerwiseMLP:
    """``params -> validation log loss`` of the MLP after training (NaN if it diverged,
    see ``DIVERGED``).

    Attributes:
        layers: hidden layers.
        epochs: passes over the training rows.
        n_train: training rows (the rest of the 1,797 digits validate).
        seed: seed of the training's own ``torch.Generator``.
    """

    layers: int = LAYERS
    epochs: int = 5
    n_train: int = 1000
    seed: int = 0

    def __call__(self, params: dict[str, Any]) -> float:
        import torch

        X, y, X_val, y_val = _digits(self.n_train)
        gen = torch.Generator().manual_seed(self.seed)
        act = {"relu": torch.relu, "tanh": torch.tanh, "gelu": torch.nn.functional.gelu}
        activation = act[params["activation"]]
        sizes = [X.shape[1], *(int(params[f"width{i}"]) for i in range(self.layers)), 10]
        weights, biases, groups = [], [], []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            bound = float(params["init_scale"]) / math.sqrt(n_in)
            w = ((torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound).requires_grad_()
            b = torch.zeros(n_out, requires_grad=True)
            weights.append(w)
            biases.append(b)
            key = "_out" if i == self.layers else str(i)
            groups.append(
                {"params": [w, b], "lr": params[f"lr{key}"], "weight_decay": params[f"wd{key}"]}
            )
        drops = [float(params[f"dropout{i}"]) for i in range(self.layers)]
        opt = torch.optim.SGD(groups, lr=1e-3, momentum=float(params["momentum"]))

        def forward(x: torch.Tensor, train: bool) -> torch.Tensor:
            for i in range(self.layers):
                x = activation(x @ weights[i].T + biases[i])
                if train and drops[i] > 0:
                    keep = torch.rand(x.shape, generator=gen) >= drops[i]
                    x = x * keep / (1.0 - drops[i])
            return x @ weights[-1].T + biases[-1]

        batch = int(params["batch_size"])
        for _ in range(self.epochs):
            order = torch.randperm(len(y), generator=gen)
            for start in range(0, len(y), batch):
                idx = order[start : start + batch]
                loss = torch.nn.functional.cross_entropy(forward(X[idx], True), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            if not torch.isfinite(loss):
                return math.nan
        with torch.no_grad():
            val = float(torch.nn.functional.cross_entropy(forward(X_val, False), y_val))
        return val if val <= DIVERGED else math.nan


def layerwise_mlp_problems() -> list[Problem]:
    """The layer-wise MLP task (200 evaluations)."""
    return [
        Problem(
            name="mlp4-digits",
            family="ml",
            space=layerwise_space(),
            budget=200,
            fn=LayerwiseMLP(),
            eval_cost_s=0.15,
            description="4-hidden-layer torch MLP on digits (1,000 train / 797 validation "
            "rows), per-layer learning rate, weight decay, width and dropout (22 "
            "parameters), validation log loss",
        )
    ]
