"""Where the model computes: one rule for every way of naming a device."""

import warnings
from typing import Any

import torch

__all__ = ["Device", "move_tensor", "resolve_device"]

Device = str | int | torch.device
"""``"cpu"``, ``"cuda:1"``, a ``torch.device`` or snorkel's int (``-1`` is the CPU)."""


def resolve_device(device: Device) -> torch.device:
    """The ``torch.device`` for ``device``; the CPU, with a warning, if CUDA is absent.

    snorkel's classifiers take an int (``-1`` for the CPU, ``0`` for ``cuda:0``) and
    fall back to the CPU when no GPU is available; every CUDA request is treated
    the same way here, so code written for a GPU machine still runs on a laptop.

    Parameters
    ----------
    device
        See :data:`Device`.

    Raises
    ------
    ValueError
        If ``device`` is not a device name torch understands.

    Examples
    --------
    >>> resolve_device(-1)
    device(type='cpu')
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, bool):
        raise ValueError(f"device must be a str, int or torch.device; got {device!r}")
    if isinstance(device, int):
        resolved = torch.device("cpu") if device < 0 else torch.device("cuda", device)
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(
                f"device must be 'cpu', 'cuda[:index]', a torch.device or an int "
                f"(-1 for the CPU); got {device!r}"
            ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"device {device!r} asks for CUDA, but torch has no CUDA device here; "
            "using the CPU",
            stacklevel=3,
        )
        return torch.device("cpu")
    return resolved


def move_tensor(value: Any, device: torch.device) -> Any:
    """``value`` moved to ``device`` if it is a tensor; anything else unchanged."""
    return value.to(device) if isinstance(value, torch.Tensor) else value
