"""Seeds: derive independent, reproducible streams without touching global state."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import numpy as np
import torch


def derive_seed(*keys: int) -> int:
    """A 32-bit seed determined by ``keys`` (e.g. the study seed and the ask counter)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def fresh_seed() -> int:
    """A random seed drawn from OS entropy (not from any global RNG)."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def check_seed(seed: object) -> int:
    """A study's seed: ``seed`` checked, or a fresh one when it is ``None``.

    Raises:
        TypeError: ``seed`` is neither an int nor ``None``.
        ValueError: ``seed`` is negative.
    """
    if seed is None:
        return fresh_seed()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"`seed` must be an int or None, but got {seed!r}.")
    if seed < 0:
        raise ValueError(f"`seed >= 0` must hold, but got seed={seed}.")
    return int(seed)


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Run BoTorch code that draws from torch's global CPU RNG reproducibly.

    Some BoTorch routines (fit restarts, QMC samplers) draw from the global generator.
    Inside this block that generator is seeded with ``seed``; on exit its previous state is
    restored, so the caller's random stream is exactly as it was. Once CUDA is initialised
    (an optimiser on a GPU initialises it first), the GPUs' generators are forked too.
    """
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
