"""Validation of slicing-function outputs: a slice indicator is strictly boolean.

Accepted: ``True``/``False``, ``0``/``1`` (Python or numpy integers) and numpy bools.
Anything else (``-1``, ``2``, ``None``, strings, floats including NaN, pandas ``NA``)
is an error naming the SF, the row and the value; it is never coerced, because
``bool(-1)`` or ``bool("no")`` would silently put the row in the slice.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing.errors import SFOutputError

__all__ = [
    "describe_value",
    "is_slice_indicator",
    "point_output_to_bool",
    "point_outputs_to_array",
    "frame_output_to_array",
]

EXPECTED = "expected a bool (True/False, 0/1 or a numpy bool)"


def describe_value(value: Any) -> str:
    """Show a value with its type for error messages: ``'yes' (str)``."""
    if isinstance(value, np.generic):
        text = repr(value.item())
        type_name = f"numpy.{type(value).__name__}"
    else:
        text = repr(value)
        type_name = type(value).__name__
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type_name})"


def is_slice_indicator(value: Any) -> bool:
    """Whether ``value`` is an acceptable slice indicator (see module docstring).

    Examples
    --------
    >>> [is_slice_indicator(v) for v in (True, 0, 1, -1, None, "yes", 1.0)]
    [True, True, True, False, False, False, False]
    """
    if isinstance(value, (bool, np.bool_)):
        return True
    if isinstance(value, (int, np.integer)):
        return value == 0 or value == 1
    return False


def point_output_to_bool(sf_name: str, value: Any, where: str = "a data point") -> bool:
    """Validate one SF output and return it as a Python bool.

    Raises
    ------
    SFOutputError
        If ``value`` is not a slice indicator.
    """
    if value is True or value is False:
        return value
    if is_slice_indicator(value):
        return bool(value)
    raise SFOutputError(
        f"SF '{sf_name}' returned {describe_value(value)} for {where}; {EXPECTED}"
    )


def point_outputs_to_array(
    sf_name: str, outputs: Sequence[Any], describe_row: Callable[[int], str]
) -> np.ndarray:
    """Turn one SF's outputs over many rows into a bool array, validating in bulk.

    The common case (all Python/numpy bools) costs one ``np.fromiter``-like pass;
    the rows holding an invalid value are only searched for when there is one.

    Raises
    ------
    SFOutputError
        Naming the first row with an invalid output.
    """
    try:
        array = np.array(outputs)
    except (ValueError, OverflowError, TypeError):
        array = np.array(outputs, dtype=object)
    if array.dtype == np.bool_ and array.ndim == 1:
        return array
    if array.ndim == 1 and array.dtype.kind in "iu":
        bad_rows = np.flatnonzero((array != 0) & (array != 1))
        if bad_rows.size == 0:
            return array.astype(np.bool_)
        _raise_bad_row(sf_name, outputs, int(bad_rows[0]), describe_row)
    for row, value in enumerate(outputs):
        if not is_slice_indicator(value):
            _raise_bad_row(sf_name, outputs, row, describe_row)
    # All values valid but mixed in a way numpy did not type (e.g. object dtype).
    return np.fromiter(
        (bool(value) for value in outputs), dtype=np.bool_, count=len(outputs)
    )


def frame_output_to_array(
    sf_name: str, result: Any, frame: pd.DataFrame, describe_row: Callable[[int], str]
) -> np.ndarray:
    """Validate what a vectorized SF returned for ``frame``; return a bool array.

    Accepts a bool/0-1 ``Series`` aligned with ``frame`` (same index, same order), a
    1-D numpy array or a list of the frame's length.

    Raises
    ------
    SFOutputError
        Wrong length, a misaligned index, or an invalid value (naming the row).
    """
    n_rows = len(frame)
    if isinstance(result, pd.DataFrame):
        raise SFOutputError(
            f"vectorized SF '{sf_name}' returned a DataFrame; expected a boolean "
            f"Series or array of length {n_rows}"
        )
    if isinstance(result, pd.Series):
        if len(result) != n_rows:
            raise SFOutputError(
                f"vectorized SF '{sf_name}' returned a Series of length {len(result)} "
                f"for a frame of {n_rows} rows; expected one value per row"
            )
        if not result.index.equals(frame.index):
            raise SFOutputError(
                f"vectorized SF '{sf_name}' returned a Series whose index differs from "
                "the frame's; return one value per row in the frame's order (e.g. do not "
                "filter or sort inside the SF)"
            )
        if result.dtype == np.bool_:
            return result.to_numpy(dtype=np.bool_)
        values = result.to_numpy(dtype=object) if result.hasnans else result.to_numpy()
    elif isinstance(
        result, (np.ndarray, list, tuple, pd.api.extensions.ExtensionArray)
    ):
        values = np.asarray(result, dtype=object if _has_missing(result) else None)
        if values.ndim != 1 or len(values) != n_rows:
            raise SFOutputError(
                f"vectorized SF '{sf_name}' returned an array of shape {values.shape} "
                f"for a frame of {n_rows} rows; expected shape ({n_rows},)"
            )
    else:
        raise SFOutputError(
            f"vectorized SF '{sf_name}' returned {describe_value(result)}; expected a "
            f"boolean Series or array of length {n_rows}"
        )
    if values.dtype == np.bool_:
        return values
    return point_outputs_to_array(sf_name, list(values), describe_row)


def _has_missing(values: Any) -> bool:
    try:
        return bool(pd.isna(pd.Series(values)).any())
    except (TypeError, ValueError):
        return False


def _raise_bad_row(
    sf_name: str, outputs: Sequence[Any], row: int, describe_row: Callable[[int], str]
) -> None:
    raise SFOutputError(
        f"SF '{sf_name}' returned {describe_value(outputs[row])} for "
        f"{describe_row(row)}; {EXPECTED}"
    )
