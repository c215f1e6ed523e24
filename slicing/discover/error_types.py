"""Which errors a slice search hunts: any error, false positives or false negatives.

A classifier's errors split into false positives (predicted class ``c``, truly another)
and false negatives (truly ``c``, predicted another); the slices where each piles up
differ, and so do their fixes. :func:`error_indicator` turns gold labels and
predictions into the 0/1 error vector that :func:`~slicing.discover.find_slices` and
:func:`~slicing.discover.find_embedding_slices` rank slices by.
"""

from typing import Any

import numpy as np

__all__ = [
    "ERROR_COLUMN",
    "ERROR_TYPES",
    "describe_errors",
    "error_indicator",
    "predicted_labels",
    "resolve_target_class",
]

ERROR_TYPES = ("any", "false_positive", "false_negative")

#: Column a Dask search adds to hold the errors computed from golds and preds.
ERROR_COLUMN = "__slicing_error__"


def error_indicator(
    golds: Any,
    preds: Any,
    *,
    error_type: str = "any",
    target_class: int | None = None,
) -> np.ndarray:
    """Per-row 0/1 error of one type, from gold labels and predictions.

    Parameters
    ----------
    golds
        Gold labels, one per row (ints or any hashable labels).
    preds
        Predicted labels of the same length, or probabilities: an ``(n, C)`` array
        (the predicted class is the argmax) or an ``(n,)`` float array of
        positive-class probabilities in [0, 1] (predicted 1 where ``>= 0.5``).
    error_type
        ``"any"``: ``preds != golds``; ``"false_positive"``: predicted
        ``target_class`` but the gold label is another; ``"false_negative"``: the gold
        label is ``target_class`` but another was predicted.
    target_class
        The class ``c`` of false positives and negatives. Defaults to 1 when the
        labels are binary {0, 1}; required for multiclass labels. Ignored by
        ``"any"``.

    Returns
    -------
    numpy.ndarray
        float64 vector of 0s and 1s, one per row.

    Raises
    ------
    ValueError
        On an unknown ``error_type``, arrays of different lengths or with missing
        values, probabilities outside [0, 1], or a multiclass false positive or
        negative without ``target_class``.

    Examples
    --------
    >>> golds = [0, 1, 1, 0, 1]
    >>> preds = [1, 1, 0, 0, 0]
    >>> error_indicator(golds, preds).tolist()
    [1.0, 0.0, 1.0, 0.0, 1.0]
    >>> error_indicator(golds, preds, error_type="false_negative").tolist()
    [0.0, 0.0, 1.0, 0.0, 1.0]
    >>> error_indicator(golds, [0.9, 0.8, 0.2, 0.1, 0.4],
    ...                 error_type="false_positive").tolist()
    [1.0, 0.0, 0.0, 0.0, 0.0]
    >>> error_indicator([0, 2, 1], [2, 2, 2], error_type="false_positive",
    ...                 target_class=2).tolist()
    [1.0, 0.0, 1.0]
    """
    if error_type not in ERROR_TYPES:
        raise ValueError(f"error_type must be one of {ERROR_TYPES}; got {error_type!r}")
    gold_labels = _labels(golds, "golds")
    pred_labels = predicted_labels(preds)
    if len(gold_labels) != len(pred_labels):
        raise ValueError(
            f"golds and preds must have one entry per row; got {len(gold_labels)} "
            f"golds and {len(pred_labels)} preds"
        )
    if error_type == "any":
        return (pred_labels != gold_labels).astype(np.float64)
    classes = np.concatenate([np.unique(gold_labels), np.unique(pred_labels)])
    target = resolve_target_class(classes, target_class, error_type)
    predicted = pred_labels == target
    gold = gold_labels == target
    wrong = predicted & ~gold if error_type == "false_positive" else gold & ~predicted
    return wrong.astype(np.float64)


def describe_errors(error_type: str, target_class: Any = None) -> str:
    """What the errors of a search count, for a slice's description.

    Examples
    --------
    >>> describe_errors("any")
    ''
    >>> describe_errors("false_negative", 2)
    'false negatives of class 2'
    """
    if error_type == "any":
        return ""
    kind = "false positives" if error_type == "false_positive" else "false negatives"
    return f"{kind} of class {target_class}"


def resolve_target_class(classes: Any, target_class: Any, error_type: str) -> Any:
    """The class of false positives or negatives: ``target_class``, or 1 for {0, 1}.

    Parameters
    ----------
    classes
        The labels seen in the gold labels and the predictions.
    target_class
        The class asked for, or ``None``.
    error_type
        One of ``ERROR_TYPES``; ``"any"`` needs no class (``None`` is returned).

    Returns
    -------
    object
        The class.

    Raises
    ------
    ValueError
        For multiclass labels without ``target_class``.

    Examples
    --------
    >>> resolve_target_class([0, 1], None, "false_positive")
    1
    """
    if error_type == "any":
        return None
    if target_class is not None:
        return target_class
    seen = sorted({_plain(value) for value in classes}, key=repr)
    if set(seen) <= {0, 1}:
        return 1
    raise ValueError(
        f"error_type={error_type!r} needs target_class for labels other than {{0, 1}}; "
        f"the classes seen are {seen}"
    )


def _labels(values: Any, name: str) -> np.ndarray:
    labels = np.asarray(values)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be one label per row; got shape {labels.shape}")
    if _has_missing(labels):
        row = int(np.flatnonzero(_missing(labels))[0])
        raise ValueError(f"{name} has a missing value at row {row}")
    return labels


def _missing(values: np.ndarray) -> np.ndarray:
    if np.issubdtype(values.dtype, np.floating):
        return np.isnan(values)
    if values.dtype == object:
        return np.array(
            [v is None or (isinstance(v, float) and v != v) for v in values]
        )
    return np.zeros(values.shape, dtype=bool)


def _has_missing(values: np.ndarray) -> bool:
    return bool(_missing(values).any())


def predicted_labels(preds: Any) -> np.ndarray:
    """Hard labels from labels, ``(n, C)`` probabilities (argmax) or ``(n,)`` ones (>= 0.5)."""
    values = np.asarray(preds)
    if values.ndim == 2:
        if not np.issubdtype(values.dtype, np.number):
            raise ValueError(
                f"2-d preds must be class probabilities; got dtype {values.dtype}"
            )
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values).any(axis=1))[0])
            raise ValueError(f"preds has a missing probability at row {row}")
        return values.argmax(axis=1)
    labels = _labels(values, "preds")
    if np.issubdtype(labels.dtype, np.floating) and not np.all(
        labels == np.round(labels)
    ):
        if labels.min() < 0 or labels.max() > 1:
            raise ValueError(
                "float preds must be labels or positive-class probabilities in [0, 1]; "
                f"got values in [{labels.min()}, {labels.max()}]"
            )
        return (labels >= 0.5).astype(np.int64)
    return labels


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars, so messages read ``[0, 1, 2]``."""
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value
