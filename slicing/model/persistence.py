"""Save a slice-aware model's weights with the facts needed to load them safely.

Weights alone cannot tell a model saved for slices ``["right", "never"]`` from one
saved for ``["never", "right"]``: the tensors have the same shapes, and a load would
silently give each slice the other's head. A file therefore holds the slice names,
the cardinality and the dimensions next to the weights, and loading compares them.
"""

import os
import warnings
from collections.abc import Collection, Mapping
from typing import Any

import torch

__all__ = ["FORMAT", "load_checked_state", "save_state"]

FORMAT = "slicing.SliceAwareClassifier/1"
# Metadata that files of earlier versions lack, and what those versions built:
# indicators were linear before ``indicator_dim`` existed, and no slice was small
# before ``small_slice_fraction``.
LEGACY_METADATA: dict[str, Any] = {"indicator_dim": 0, "small_slice_indicators": False}


def save_state(
    path: str | os.PathLike, state_dict: Mapping[str, Any], metadata: dict[str, Any]
) -> None:
    """Write ``state_dict`` and ``metadata`` to ``path``, creating its directory.

    ``metadata`` must hold plain values (str, int, lists of str) so that the file
    loads with ``torch.load(weights_only=True)``.
    """
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    torch.save(
        {"format": FORMAT, "metadata": metadata, "state_dict": dict(state_dict)}, path
    )


def load_checked_state(
    path: str | os.PathLike,
    expected: dict[str, Any],
    *,
    map_location: torch.device,
    accepted: Collection[tuple[str, Any, Any]] = (),
) -> dict[str, torch.Tensor]:
    """Read weights saved by :func:`save_state`, refusing a model of another shape.

    Parameters
    ----------
    path
        A file written by :func:`save_state`, or a bare ``state_dict`` saved by
        earlier versions (loaded with a warning: its slice names cannot be checked).
    expected
        The metadata of the model being loaded into.
    map_location
        Device the tensors are loaded to.
    accepted
        Differences ``(key, saved value, expected value)`` that are not refused:
        the caller completes such a state itself.

    Raises
    ------
    ValueError
        If a metadata entry differs (slice names differ when their order differs);
        the message lists the saved and the expected values.
    """
    content = torch.load(path, map_location=map_location, weights_only=True)
    if not (isinstance(content, dict) and content.get("format") == FORMAT):
        warnings.warn(
            f"{os.fspath(path)!r} holds weights without metadata (saved before "
            "slice names were stored), so the slice names and their order cannot "
            "be checked; save the model again to store them",
            stacklevel=3,
        )
        return content
    saved = content["metadata"]
    differences = []
    for key, value in expected.items():
        saved_value = saved.get(key, LEGACY_METADATA.get(key))
        if saved_value != value and (key, saved_value, value) not in accepted:
            differences.append(
                f"{key}: saved {saved_value!r}, this model has {value!r}"
            )
    if differences:
        raise ValueError(
            f"cannot load {os.fspath(path)!r} into this model; the saved model "
            "differs (slice names must match in the same order): "
            + "; ".join(differences)
        )
    return content["state_dict"]
