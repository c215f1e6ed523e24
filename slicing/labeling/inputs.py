"""Checks for the labeling wing's inputs: the LF matrix ``L``, the slice matrix ``S``, golds.

Every public function of :mod:`slicing.labeling` validates its data here, once, at the
boundary, and the errors say what was received and what was expected.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from slicing.matrix import check_slice_names, validate_slice_matrix

__all__ = [
    "ABSTAIN",
    "check_cardinality",
    "check_golds",
    "check_label_matrix",
    "class_prior",
    "slice_indicators",
]

#: snorkel's abstain vote in an LF matrix.
ABSTAIN = -1


def check_cardinality(cardinality: object) -> int:
    """Return ``cardinality`` as an int >= 2, or raise naming what was given.

    Examples
    --------
    >>> check_cardinality(3)
    3
    >>> check_cardinality(1)
    Traceback (most recent call last):
    ...
    ValueError: cardinality must be an int >= 2 (the number of classes); got 1
    """
    if isinstance(cardinality, bool) or not isinstance(cardinality, int | np.integer):
        raise TypeError(
            f"cardinality must be an int >= 2; got {cardinality!r} "
            f"({type(cardinality).__name__})"
        )
    if cardinality < 2:
        raise ValueError(
            f"cardinality must be an int >= 2 (the number of classes); got {cardinality}"
        )
    return int(cardinality)


def check_label_matrix(
    L: object, cardinality: int | None = None, *, n_lfs: int | None = None
) -> np.ndarray:
    """Check an LF matrix in snorkel's layout and return it as a 2-D integer array.

    Parameters
    ----------
    L
        Array of shape ``(n, m)``: ``L[i, j]`` is LF ``j``'s vote on row ``i``, ``-1``
        for abstain, else a class in ``0..cardinality-1``. Float arrays holding whole
        numbers (as pandas makes of them) are accepted.
    cardinality
        Number of classes; ``None`` skips the range check.
    n_lfs
        Expected number of LF columns (the fitted model's); ``None`` skips the check.

    Returns
    -------
    np.ndarray
        ``L`` with an integer dtype (the input itself when it already has one).

    Raises
    ------
    ValueError
        If ``L`` is not 2-D, has no LF column, the wrong number of columns, a value
        that is not a whole number, or a value outside ``{-1, 0, ..., cardinality-1}``
        (naming the value, its row and LF column).

    Examples
    --------
    >>> check_label_matrix([[0, -1], [1, 1]], 2).dtype.kind
    'i'
    >>> check_label_matrix([[0, 2]], 2)
    Traceback (most recent call last):
    ...
    ValueError: L holds 2 at row 0, LF column 1; expected -1 (abstain) or a class in 0..1 (cardinality=2)
    """
    matrix = np.asarray(L)
    if matrix.ndim != 2:
        raise ValueError(
            f"L must be 2-D (rows x LFs, snorkel's layout); got shape {matrix.shape}"
        )
    if matrix.shape[1] == 0:
        raise ValueError(f"L has no LF columns (shape {matrix.shape})")
    if n_lfs is not None and matrix.shape[1] != n_lfs:
        raise ValueError(
            f"L has {matrix.shape[1]} LF columns but the model was fitted on {n_lfs}"
        )
    if matrix.dtype.kind not in "iu":
        if matrix.dtype.kind not in "bf":
            raise ValueError(f"L must hold integer votes; got dtype {matrix.dtype}")
        fractional = ~np.isfinite(matrix) | (matrix != np.round(matrix))
        if fractional.any():
            row, col = np.argwhere(fractional)[0]
            raise ValueError(
                f"L holds {matrix[row, col].item()!r} at row {row}, LF column {col}; "
                "expected whole-number votes (-1 for abstain)"
            )
        matrix = matrix.astype(np.int64)
    if cardinality is not None:
        bad = (matrix < ABSTAIN) | (matrix >= cardinality)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"L holds {matrix[row, col]} at row {row}, LF column {col}; expected "
                f"-1 (abstain) or a class in 0..{cardinality - 1} "
                f"(cardinality={cardinality})"
            )
    return matrix


def slice_indicators(
    S: object, n_rows: int, *, names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Return a slice matrix or bool DataFrame as an ``(n, k)`` bool array and its names.

    Parameters
    ----------
    S
        This package's slice matrix (a record array with one field per SF, or
        snorkel's int64 one) or a DataFrame with one bool (or 0/1) column per slice.
    n_rows
        Rows of the LF matrix ``S`` goes with; the lengths must agree.
    names
        Expected slice names in order (a fitted model's); ``None`` skips the check.

    Raises
    ------
    ValueError
        If the lengths differ, a column is not bool/0-1, or the names differ.
    TypeError
        If ``S`` is a plain array without slice names.

    Examples
    --------
    >>> import pandas as pd
    >>> matrix, names = slice_indicators(pd.DataFrame({"short": [True, False]}), 2)
    >>> matrix.tolist(), names
    ([[True], [False]], ['short'])
    >>> slice_indicators(pd.DataFrame({"short": [True]}), 2)
    Traceback (most recent call last):
    ...
    ValueError: L has 2 rows but S has 1; apply the SFs to the same data points as the LFs, in the same order
    """
    if isinstance(S, pd.DataFrame):
        slice_names = check_slice_names([str(name) for name in S.columns])
        matrix = np.empty(S.shape, dtype=np.bool_)
        for col, name in enumerate(S.columns):
            column = S[name].to_numpy()
            if column.dtype != np.bool_:
                bad = np.flatnonzero(pd.isna(column) | ~np.isin(column, (0, 1)))
                if bad.size:
                    raise ValueError(
                        f"S column {name!r} holds {_plain(column[bad[0]])!r} at row "
                        f"{bad[0]}; expected bool or 0/1"
                    )
            matrix[:, col] = column
    elif isinstance(S, np.ndarray) and S.dtype.names is not None:
        matrix = validate_slice_matrix(S)
        slice_names = list(S.dtype.names)
    else:
        raise TypeError(
            "S must be a slice matrix (from an SF applier, or make_slice_matrix(array, "
            f"names)) or a DataFrame of bool columns; got {type(S).__name__}"
        )
    if matrix.shape[0] != n_rows:
        raise ValueError(
            f"L has {n_rows} rows but S has {matrix.shape[0]}; apply the SFs to the "
            "same data points as the LFs, in the same order"
        )
    if names is not None and list(names) != slice_names:
        raise ValueError(
            f"S has slices {slice_names} but the model was fitted on {list(names)}; "
            "apply the same SFs, in the same order"
        )
    return matrix, slice_names


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, for messages."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def check_golds(Y: object, n_rows: int, cardinality: int) -> np.ndarray:
    """Return gold labels as an int array of length ``n_rows``; ``-1`` marks unknown golds.

    Examples
    --------
    >>> check_golds([0, 1, -1], 3, 2).tolist()
    [0, 1, -1]
    >>> check_golds([0, 3], 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: Y holds 3 at row 1; expected a class in 0..1, or -1 for an unknown gold label
    """
    golds = np.atleast_1d(np.asarray(Y)).reshape(-1)
    if golds.shape[0] != n_rows:
        raise ValueError(f"Y has {golds.shape[0]} labels but L has {n_rows} rows")
    if golds.dtype.kind not in "iu":
        whole = golds.dtype.kind in "bf" and bool(
            np.all(np.isfinite(golds) & (golds == np.round(golds)))
        )
        if not whole:
            raise ValueError(
                f"Y must hold integer class labels; got dtype {golds.dtype}"
            )
        golds = golds.astype(np.int64)
    bad = np.flatnonzero((golds < ABSTAIN) | (golds >= cardinality))
    if bad.size:
        raise ValueError(
            f"Y holds {golds[bad[0]]} at row {bad[0]}; expected a class in "
            f"0..{cardinality - 1}, or -1 for an unknown gold label"
        )
    return golds


def class_prior(
    class_balance: Sequence[float] | None, Y_dev: object, cardinality: int
) -> np.ndarray:
    """The class prior as snorkel sets it: ``class_balance``, else from ``Y_dev``, else uniform.

    Examples
    --------
    >>> class_prior(None, [0, 0, 0, 1], 2).tolist()
    [0.75, 0.25]
    >>> class_prior([0.2, 0.2], None, 2)
    Traceback (most recent call last):
    ...
    ValueError: class_balance must be 2 positive shares summing to 1; got [0.2, 0.2]
    """
    if class_balance is not None:
        prior = np.asarray(class_balance, dtype=np.float64)
        if (
            prior.shape != (cardinality,)
            or (prior <= 0).any()
            or abs(prior.sum() - 1) > 1e-6
        ):
            raise ValueError(
                f"class_balance must be {cardinality} positive shares summing to 1; "
                f"got {prior.ravel().tolist()}"
            )
        return prior
    if Y_dev is not None:
        dev = np.atleast_1d(np.asarray(Y_dev))
        golds = check_golds(dev, dev.size, cardinality)
        counts = np.bincount(golds[golds != ABSTAIN], minlength=cardinality)
        if (counts == 0).any():
            raise ValueError(
                f"Y_dev has no example of class(es) "
                f"{np.flatnonzero(counts == 0).tolist()}; pass class_balance instead"
            )
        return counts / counts.sum()
    return np.full(cardinality, 1.0 / cardinality)
