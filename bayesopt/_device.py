"""Where the GP runs: turn a user's ``device`` setting into a torch device."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"`` (a GPU when one is present), ``None`` (the CPU) or a torch device.

    Raises:
        TypeError: ``device`` is not a str, torch.device or None.
        ValueError: the string names no device, or a CUDA device without a usable GPU.
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise TypeError(f"`device` must be a str, torch.device or None, but got {device!r}.")
    try:
        out = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"`device`: {exc}") from None
    if out.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device={device!r}` needs a CUDA GPU, and none is available.")
    if out.type not in ("cpu", "cuda"):
        raise ValueError(f"`device` must be 'cpu', 'cuda', 'cuda:<i>' or 'auto', not {device!r}.")
    return out
