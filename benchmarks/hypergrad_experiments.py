"""What the hypergradient benchmark tunes: experiments ``A`` and ``B`` (``benchmarks.hypergrad``).

``A`` tunes (log lr, momentum, log weight decay) for every method. ``B`` lets hypergradients
tune a ``N_BLOCKS``-block learning-rate schedule per layer and a weight decay per layer, while
BO and random search tune a parametric schedule (initial rate, decay, weight decay); momentum
is fixed at ``MOMENTUM_B``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

import bayesopt as bo
from bayesopt.hypergrad import Hyperparameters

__all__ = ["BOUNDS", "EXPERIMENTS", "MOMENTUM_B", "N_BLOCKS", "Experiment", "experiment"]

N_BLOCKS = 10
MOMENTUM_B = 0.9
EXPERIMENTS = ("A", "B")
BOUNDS = {"lr": (1e-3, 10.0), "momentum": (0.0, 0.99), "weight_decay": (1e-6, 1e-1)}


@dataclass(frozen=True)
class Experiment:
    """What is tuned: the BO / random-search space, and the hypergradient parameterisation.

    Attributes:
        name: ``"A"`` or ``"B"``.
        space: the space of BO and random search.
        to_hypers: ``space params -> Hyperparameters`` (BO's and random search's training).
        expand: ``Hyperparameters -> the hypergradient method's (possibly richer) start``.
        optimise: what the hypergradient method tunes.
        centre: the centre of the box (in the space's own scaling): every gradient start.
        bounds: natural-unit box of the hypergradient method (covers what BO can reach).
    """

    name: str
    space: bo.Space
    to_hypers: Callable[[dict[str, Any]], Hyperparameters]
    expand: Callable[[Hyperparameters, int], Hyperparameters]
    optimise: tuple[str, ...]
    centre: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    description: str = ""


def _centre(space: bo.Space) -> dict[str, float]:
    return space.from_unit(torch.full((space.dim,), 0.5, dtype=torch.float64))


def _a_hypers(p: dict[str, Any]) -> Hyperparameters:
    return Hyperparameters.create(
        lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"]
    )


def _b_hypers(p: dict[str, Any]) -> Hyperparameters:
    frac = torch.arange(N_BLOCKS, dtype=torch.float64) / (N_BLOCKS - 1)
    lr = p["lr"] * p["decay"] ** frac
    return Hyperparameters.create(lr=lr, momentum=MOMENTUM_B, weight_decay=p["weight_decay"])


def _b_expand(h: Hyperparameters, n_groups: int) -> Hyperparameters:
    """A shared schedule and decay -> one schedule and one decay per layer."""
    raw = dict(h.raw)
    raw["lr"] = raw["lr"].expand(-1, n_groups).clone()
    raw["weight_decay"] = raw["weight_decay"].expand(n_groups).clone()
    return Hyperparameters(raw)


@functools.cache
def experiment(name: str) -> Experiment:
    """The experiment named ``"A"`` or ``"B"``."""
    lr, wd = bo.Real(*BOUNDS["lr"], log=True), bo.Real(*BOUNDS["weight_decay"], log=True)
    if name == "A":
        space = bo.Space({"lr": lr, "momentum": bo.Real(*BOUNDS["momentum"]), "weight_decay": wd})
        return Experiment(
            "A",
            space,
            _a_hypers,
            lambda h, _g: h,
            ("lr", "momentum", "weight_decay"),
            _centre(space),
            dict(BOUNDS),
            "3-D: log lr, momentum, log weight decay (the same for everyone)",
        )
    if name == "B":
        space = bo.Space({"lr": lr, "decay": bo.Real(1e-3, 1.0, log=True), "weight_decay": wd})
        return Experiment(
            "B",
            space,
            _b_hypers,
            _b_expand,
            ("lr", "weight_decay"),
            _centre(space),
            {"lr": (1e-6, BOUNDS["lr"][1]), "weight_decay": BOUNDS["weight_decay"]},
            f"schedules: hypergradients tune {N_BLOCKS} lr blocks x layer + decay per layer; "
            f"BO / random: lr_b = lr * decay^(b/{N_BLOCKS - 1}), weight decay; momentum "
            f"{MOMENTUM_B}; the per-block rates of hypergradients may go down to 1e-6, as far as "
            "BO's decaying schedules reach",
        )
    raise ValueError(f"unknown experiment {name!r}; known: {EXPERIMENTS}")
