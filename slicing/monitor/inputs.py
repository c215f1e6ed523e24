"""Validate monitoring inputs once, at the boundary: slice matrices, labels, predictions.

Every public monitoring function turns what the user passed into plain numpy arrays
here, so the scoring code never has to guess types, and every error says what was
received and what was expected.
"""

import warnings
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicing.matrix import check_slice_names, slice_matrix_names, validate_slice_matrix
from slicing.monitor.options import DEFAULT_OPTIONS, ScoreOptions

__all__ = [
    "OVERALL",
    "ScoringInputs",
    "SliceMatrixLike",
    "as_slice_indicators",
    "label_values",
    "prepare_scoring_inputs",
]

#: Name of the row that scores every data point.
OVERALL = "overall"

SliceMatrixLike: TypeAlias = np.ndarray | pd.DataFrame


def as_slice_indicators(
    S: SliceMatrixLike, n_rows: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """Turn a slice matrix in any accepted form into an ``(n, k)`` bool array and names.

    Parameters
    ----------
    S
        This package's slice matrix (record array with one bool field per slice), a
        snorkel-style int64 record array, or a DataFrame with one bool (or 0/1)
        column per slice.
    n_rows
        Expected number of rows; ``None`` skips the check.

    Returns
    -------
    tuple[np.ndarray, list[str]]
        The ``(n, k)`` bool indicators and the ``k`` slice names.

    Raises
    ------
    TypeError
        If ``S`` is none of the accepted forms.
    ValueError
        If a cell is not 0/1, the length is wrong, or a name breaks
        :func:`slicing.matrix.check_slice_names` (reserved, repeated, contains
        ``/``, not a string).

    Examples
    --------
    >>> import pandas as pd
    >>> indicators, names = as_slice_indicators(pd.DataFrame({"short": [True, False]}))
    >>> indicators.tolist(), names
    ([[True], [False]], ['short'])
    """
    if isinstance(S, pd.DataFrame):
        # The package's one rule set for names, before columns are read by name.
        names = check_slice_names(list(S.columns), kind="slice column")
        indicators = _dataframe_indicators(S)
    elif isinstance(S, np.ndarray) and S.dtype.names is not None:
        names = check_slice_names(slice_matrix_names(S))
        indicators = validate_slice_matrix(S)
    else:
        raise TypeError(
            "S must be a slice matrix (a record array with one field per slice, as "
            "returned by an SF applier or make_slice_matrix) or a DataFrame with one "
            f"bool column per slice; got {_describe(S)}"
        )
    if n_rows is not None and indicators.shape[0] != n_rows:
        raise ValueError(
            f"S has {indicators.shape[0]} rows but the labels have {n_rows}; "
            "expected one row of S per data point"
        )
    return indicators, names


@dataclass(frozen=True)
class ScoringInputs:
    """Validated arrays for scoring, with unusable rows already left out.

    Attributes
    ----------
    golds
        Gold labels, int64, shape ``(m,)``.
    preds
        Predicted labels, int64, shape ``(m,)`` (derived from ``probs`` by argmax
        when not given).
    probs
        Class probabilities, float, shape ``(m, n_classes)``, or ``None``.
    indicators
        Slice membership, bool, shape ``(m, k)``.
    slice_names
        The ``k`` slice names.
    n_classes
        Number of classes (at least 2).
    n_left_out
        Rows dropped because the gold label was the abstain label or the
        prediction was missing (NaN or the abstain label).
    """

    golds: np.ndarray
    preds: np.ndarray
    probs: np.ndarray | None
    indicators: np.ndarray
    slice_names: list[str]
    n_classes: int
    n_left_out: int


def prepare_scoring_inputs(
    golds: ArrayLike,
    S: SliceMatrixLike,
    preds: ArrayLike | None = None,
    probs: ArrayLike | None = None,
    options: ScoreOptions = DEFAULT_OPTIONS,
) -> ScoringInputs:
    """Validate labels, predictions and slices together; drop rows that cannot be scored.

    Rows whose gold label equals ``abstain_label`` (unlabelled) and rows whose
    prediction is missing (NaN in ``preds`` or ``probs``, or ``abstain_label`` in
    ``preds``) are left out of every score. With ``nan_policy="omit"`` a warning
    says how many; with ``"raise"`` a ``ValueError`` names the first such rows.

    Parameters
    ----------
    golds
        Gold labels ``0..C-1``, shape ``(n,)``.
    S
        Slice matrix, see :func:`as_slice_indicators`.
    preds
        Predicted labels, shape ``(n,)``. Optional if ``probs`` is given.
    probs
        Class probabilities, shape ``(n, C)``. Optional if ``preds`` is given.
    options
        Its ``abstain_label`` (meaning "no label" in ``golds`` and "no prediction"
        in ``preds``) and ``nan_policy`` (``"omit"``: warn and leave the rows out,
        or ``"raise"``) are used.

    Returns
    -------
    ScoringInputs

    Raises
    ------
    ValueError
        On length mismatches, non-integer labels, labels out of range, or when
        neither ``preds`` nor ``probs`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> S = make_slice_matrix(np.array([[True], [False], [True]]), ["a"])
    >>> inputs = prepare_scoring_inputs(np.array([0, 1, 1]), S, preds=[0, 1, 0])
    >>> inputs.n_classes, inputs.preds.tolist()
    (2, [0, 1, 0])
    """
    abstain_label = options.abstain_label
    if preds is None and probs is None:
        raise ValueError("pass preds, probs or both; got neither")
    gold_values, unlabelled = label_values(golds, "golds", abstain_label)
    lengths = {"golds": len(gold_values)}
    missing = np.zeros(len(gold_values), dtype=np.bool_)
    pred_values = None
    if preds is not None:
        pred_values, pred_missing = label_values(preds, "preds", abstain_label)
        lengths["preds"] = len(pred_values)
    prob_values = None if probs is None else _prob_matrix(probs)
    if prob_values is not None:
        lengths["probs"] = prob_values.shape[0]
    indicators, slice_names = as_slice_indicators(S)
    lengths["S"] = indicators.shape[0]
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"inputs differ in length: {detail}; expected equal lengths")

    if pred_values is not None:
        missing |= pred_missing
    if prob_values is not None:
        missing |= np.isnan(prob_values).any(axis=1)
    left_out = missing | unlabelled
    if left_out.any():
        _report_left_out(missing, unlabelled, options.nan_policy)
        keep = ~left_out
        gold_values, indicators = gold_values[keep], indicators[keep]
        pred_values = None if pred_values is None else pred_values[keep]
        prob_values = None if prob_values is None else prob_values[keep]

    gold_ints = gold_values.astype(np.int64, copy=False)
    if pred_values is None:
        assert prob_values is not None
        pred_ints = prob_values.argmax(axis=1).astype(np.int64)
    else:
        pred_ints = pred_values.astype(np.int64, copy=False)
    n_classes = max(
        2,
        int(gold_ints.max(initial=-1)) + 1,
        int(pred_ints.max(initial=-1)) + 1,
        0 if prob_values is None else prob_values.shape[1],
    )
    if prob_values is not None and prob_values.shape[1] != n_classes:
        raise ValueError(
            f"probs has {prob_values.shape[1]} columns but the labels reach class "
            f"{n_classes - 1}; expected one probability column per class"
        )
    return ScoringInputs(
        golds=gold_ints,
        preds=pred_ints,
        probs=prob_values,
        indicators=indicators,
        slice_names=slice_names,
        n_classes=n_classes,
        n_left_out=int(left_out.sum()),
    )


def _dataframe_indicators(frame: pd.DataFrame) -> np.ndarray:
    if frame.shape[1] == 0:
        raise ValueError("the slice DataFrame has no columns; expected one per slice")
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
            continue
        if pd.api.types.is_integer_dtype(values.dtype) and values.isin([0, 1]).all():
            continue
        raise ValueError(
            f"slice column '{column}' has dtype {values.dtype} with values "
            f"{sorted(map(str, values.unique()[:5]))}; expected bool (or 0/1) without "
            "missing values"
        )
    return frame.to_numpy(dtype=np.bool_)


def label_values(
    values: ArrayLike, name: str, abstain_label: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a vector of class labels; return it and where labels are missing.

    Parameters
    ----------
    values
        Labels ``0..C-1``, shape ``(n,)`` or ``(n, 1)``; NaN, pandas NA or
        ``abstain_label`` mean "no label".
    name
        Name used in error messages.
    abstain_label
        Label meaning "no label".

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        The labels (integer arrays unchanged, others as float) and a bool mask of
        the rows without a label.

    Raises
    ------
    ValueError
        If the shape or dtype is wrong, or a present label is not a non-negative
        integer (naming the row and value).

    Examples
    --------
    >>> values, missing = label_values([1, -1, float("nan"), 0], "preds")
    >>> missing.tolist()
    [False, True, True, False]
    """
    array = _label_vector(values, name)
    missing = _isnan(array) | (array == abstain_label)
    _check_class_labels(array, missing, name)
    return array, missing


def _label_vector(values: object, name: str) -> np.ndarray:
    if isinstance(values, pd.Series) and not isinstance(values.dtype, np.dtype):
        # Nullable pandas dtypes (Int64, Float64): missing values become NaN.
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (n,); got shape {array.shape}")
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            f"{name} must hold integer class labels; got dtype {array.dtype}"
        )
    # Integer labels stay as they are (no copy); floats may carry NaN for "missing".
    return array


def _prob_matrix(values: object) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(
            f"probs must have shape (n, n_classes) with n_classes >= 2; got shape "
            f"{array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_:
        raise ValueError(f"probs must be numeric; got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _isnan(values: np.ndarray) -> np.ndarray:
    if np.issubdtype(values.dtype, np.floating):
        return np.isnan(values)
    return np.zeros(values.shape, dtype=np.bool_)


def _check_class_labels(values: np.ndarray, missing: np.ndarray, name: str) -> None:
    if np.issubdtype(values.dtype, np.integer):
        bad = (values < 0) & ~missing
    else:
        with np.errstate(invalid="ignore"):
            bad = ~missing & ((values != np.round(values)) | (values < 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} holds {values[row].item()!r} at row {row}; expected integer "
            "class labels 0..C-1 (or the abstain label)"
        )


def _report_left_out(missing: np.ndarray, unlabelled: np.ndarray, policy: str) -> None:
    parts = []
    if missing.any():
        rows = np.flatnonzero(missing)
        parts.append(
            f"{rows.size} without a prediction (NaN or abstain; rows {_head(rows)})"
        )
    if unlabelled.any():
        rows = np.flatnonzero(unlabelled & ~missing)
        if rows.size:
            parts.append(
                f"{rows.size} without a gold label (NaN or abstain; rows {_head(rows)})"
            )
    message = f"{' and '.join(parts)} of {missing.size} rows cannot be scored"
    if policy == "raise":
        raise ValueError(message + "; pass nan_policy='omit' to leave them out")
    warnings.warn(message + "; they are left out of every score", stacklevel=4)


def _head(rows: np.ndarray, count: int = 5) -> str:
    shown = ", ".join(str(int(row)) for row in rows[:count])
    return shown + (", ..." if rows.size > count else "")


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"
