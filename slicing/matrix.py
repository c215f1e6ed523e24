"""The slice matrix: one row per data point, one ``bool`` field per slicing function.

Appliers return a numpy record array whose dtype has one ``bool`` field per SF
(1 byte a cell). It is indexable by SF name (``S["short_comment"]``), viewable as an
``(n, k)`` bool matrix without a copy, and convertible to a DataFrame. The helpers
here also accept the int64 record arrays that ``snorkel.slicing`` returns, so code
written against either package can consume both.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "RESERVED_SLICE_NAMES",
    "check_slice_names",
    "make_slice_matrix",
    "slice_matrix_names",
    "slice_matrix_to_array",
    "slice_matrix_to_dataframe",
    "validate_slice_matrix",
]


def make_slice_matrix(indicators: np.ndarray, names: Sequence[str]) -> np.recarray:
    """Wrap an ``(n, k)`` bool array as a slice matrix, without copying it.

    Parameters
    ----------
    indicators
        Array of shape ``(n, k)``: ``indicators[i, j]`` says whether row ``i`` is in
        slice ``j``. Must have dtype ``bool``; a non-contiguous array is copied once.
    names
        The ``k`` slice names, unique, in column order.

    Returns
    -------
    np.recarray
        Record array of length ``n`` with one ``bool`` field per name.

    Raises
    ------
    ValueError
        If the array is not 2-D bool, or the names do not match its width or repeat.

    Examples
    --------
    >>> import numpy as np
    >>> S = make_slice_matrix(np.array([[True, False], [False, False]]), ["a", "b"])
    >>> S["a"]
    array([ True, False])
    >>> slice_matrix_to_array(S).shape
    (2, 2)
    """
    names = list(names)
    indicators = np.asarray(indicators)
    if indicators.ndim != 2:
        raise ValueError(
            f"indicators must be 2-D (rows x slices); got shape {indicators.shape}"
        )
    if indicators.dtype != np.bool_:
        raise ValueError(f"indicators must have dtype bool; got {indicators.dtype}")
    if indicators.shape[1] != len(names):
        raise ValueError(
            f"indicators has {indicators.shape[1]} columns but {len(names)} names "
            f"were given: {names}"
        )
    check_slice_names(names)
    if not names:
        raise ValueError("a slice matrix needs at least one slice name")
    indicators = np.ascontiguousarray(indicators)
    dtype = np.dtype([(name, np.bool_) for name in names])
    records = indicators.view(dtype).reshape(indicators.shape[0])
    return records.view(np.recarray)


def slice_matrix_names(S: np.ndarray) -> list[str]:
    """Return the slice names of a slice matrix, in column order.

    Examples
    --------
    >>> import numpy as np
    >>> slice_matrix_names(make_slice_matrix(np.zeros((1, 2), bool), ["x", "y"]))
    ['x', 'y']
    """
    if S.dtype.names is None:
        raise TypeError(
            "expected a slice matrix (a structured array with one field per slice); "
            f"got an array of dtype {S.dtype}. Use make_slice_matrix(array, names)."
        )
    return list(S.dtype.names)


def slice_matrix_to_array(S: np.ndarray, copy: bool = False) -> np.ndarray:
    """View a slice matrix as an ``(n, k)`` bool array.

    For this package's slice matrices (one ``bool`` field per slice) the result is a
    view that shares memory with ``S`` unless ``copy=True``. snorkel-style int64
    record arrays (and any other integer fields) are converted after checking that
    every cell is 0 or 1.

    Parameters
    ----------
    S
        Slice matrix (structured/record array with one field per slice).
    copy
        Return a copy even when a view is possible.

    Returns
    -------
    np.ndarray
        Bool array of shape ``(n, k)``.

    Raises
    ------
    ValueError
        If a field holds values other than 0/1 (naming the field and the row).

    Examples
    --------
    >>> import numpy as np
    >>> S = make_slice_matrix(np.array([[True], [False]]), ["a"])
    >>> A = slice_matrix_to_array(S)
    >>> np.shares_memory(A, S)
    True
    """
    names = slice_matrix_names(S)
    n_rows = S.shape[0]
    fields: Mapping[str, Any] = S.dtype.fields or {}
    all_bool = all(fields[name][0] == np.bool_ for name in names)
    packed = S.dtype.itemsize == len(names)
    if all_bool and packed and S.ndim == 1 and S.strides[0] == S.dtype.itemsize:
        matrix = S.view(dtype=np.bool_, type=np.ndarray).reshape(n_rows, len(names))
        return matrix.copy() if copy else matrix
    matrix = np.empty((n_rows, len(names)), dtype=np.bool_)
    for col, name in enumerate(names):
        column = np.asarray(S[name])
        if column.dtype != np.bool_:
            bad_rows = np.flatnonzero((column != 0) & (column != 1))
            if bad_rows.size:
                row = int(bad_rows[0])
                raise ValueError(
                    f"slice matrix field '{name}' holds {column[row].item()!r} at row {row}; "
                    "expected 0/1 or bool"
                )
        matrix[:, col] = column
    return matrix


def slice_matrix_to_dataframe(
    S: np.ndarray, index: pd.Index | None = None
) -> pd.DataFrame:
    """Convert a slice matrix to a DataFrame with one ``bool`` column per slice.

    Parameters
    ----------
    S
        Slice matrix.
    index
        Index for the result (e.g. the index of the DataFrame the SFs were applied
        to); a RangeIndex by default.

    Examples
    --------
    >>> import numpy as np
    >>> S = make_slice_matrix(np.array([[True], [False]]), ["a"])
    >>> slice_matrix_to_dataframe(S)
           a
    0   True
    1  False
    """
    matrix = slice_matrix_to_array(S)
    if index is not None and len(index) != matrix.shape[0]:
        raise ValueError(
            f"index has {len(index)} labels but the slice matrix has "
            f"{matrix.shape[0]} rows"
        )
    return pd.DataFrame(matrix, columns=slice_matrix_names(S), index=index)


def validate_slice_matrix(
    S: np.ndarray,
    names: Sequence[str] | None = None,
    n_rows: int | None = None,
) -> np.ndarray:
    """Check a slice matrix against expected names and length; return it as ``(n, k)``.

    Parameters
    ----------
    S
        Slice matrix (ours or a snorkel-style int64 record array).
    names
        Expected slice names, in order. ``None`` skips the check.
    n_rows
        Expected number of rows. ``None`` skips the check.

    Returns
    -------
    np.ndarray
        The ``(n, k)`` bool array (a view where possible).

    Raises
    ------
    ValueError
        Naming the missing, unexpected or reordered slices, or the length mismatch.

    Examples
    --------
    >>> import numpy as np
    >>> S = make_slice_matrix(np.zeros((3, 1), bool), ["a"])
    >>> validate_slice_matrix(S, names=["b"])
    Traceback (most recent call last):
    ...
    ValueError: slice matrix names ['a'] differ from the expected ['b']: missing ['b'], unexpected ['a']
    """
    actual_names = slice_matrix_names(S)
    if names is not None and list(names) != actual_names:
        expected = list(names)
        missing = [name for name in expected if name not in actual_names]
        unexpected = [name for name in actual_names if name not in expected]
        detail = (
            f"missing {missing}, unexpected {unexpected}"
            if missing or unexpected
            else "same names in a different order"
        )
        raise ValueError(
            f"slice matrix names {actual_names} differ from the expected "
            f"{expected}: {detail}"
        )
    if n_rows is not None and S.shape[0] != n_rows:
        raise ValueError(
            f"slice matrix has {S.shape[0]} rows but {n_rows} were expected"
        )
    return slice_matrix_to_array(S)


#: Names no slice may take, and why: each is generated by the package itself.
RESERVED_SLICE_NAMES = {
    "base": "the slice-aware model's automatic slice covering all rows",
    "overall": "the monitoring row that scores all data points",
}


def check_slice_names(names: Sequence[str], kind: str = "slice") -> list[str]:
    """Validate slice names once, for every wing: the one rule set of the package.

    Names must be non-empty strings, unique, free of ``/`` (it separates the fields
    of metric names such as ``task/split/slice/metric``) and not reserved
    (``base``, ``overall``). Appliers check SF names with it before running
    anything, so a bad name fails when the SF is applied, not at training time.

    Parameters
    ----------
    names
        The names, in column order.
    kind
        What the names belong to, for the message (``"slice"``, ``"SF"``, ...).

    Returns
    -------
    list[str]
        The names as a list.

    Raises
    ------
    TypeError
        If ``names`` is a single string.
    ValueError
        If a name is empty, not a string, repeated, contains ``/`` or is reserved.

    Examples
    --------
    >>> check_slice_names(["short", "question"])
    ['short', 'question']
    >>> check_slice_names(["short", "overall"], kind="SF")
    Traceback (most recent call last):
    ...
    ValueError: SF name 'overall' is reserved for the monitoring row that scores all data points; rename the SF
    """
    if isinstance(names, str):
        raise TypeError(
            f"{kind} names must be a list of names; got the string {names!r}"
        )
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind} names must be non-empty strings; got {name!r}")
        if "/" in name:
            raise ValueError(
                f"{kind} name {name!r} contains '/', which separates the fields of "
                "metric names; rename the " + kind
            )
        if name in RESERVED_SLICE_NAMES:
            raise ValueError(
                f"{kind} name {name!r} is reserved for "
                f"{RESERVED_SLICE_NAMES[name]}; rename the {kind}"
            )
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"{kind} names must be unique; repeated: {repeated}")
    return names
