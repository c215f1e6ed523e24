"""The inputs of an embedding search: embeddings, and errors or labels and predictions.

:func:`find_embedding_slices <slicing.discover.embedding.find_embedding_slices>`
takes either an error vector or gold labels and predictions; this module checks them
once, at the boundary, and turns labels and predictions into the per-class
distributions the mixture models
(:func:`~slicing.discover.embedding_inputs.class_distributions`).
"""

from typing import Any

import numpy as np
import pandas as pd

from slicing.discover.error_types import error_indicator
from slicing.discover.masks import check_finite_embeddings
from slicing.discover.search_data import validate_errors

__all__ = [
    "categorical_terms",
    "check_embeddings",
    "class_distributions",
    "error_inputs",
]


def check_embeddings(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings as a non-empty, finite ``(n, dim)`` float64 array."""
    X = np.asarray(embeddings, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(
            f"embeddings must be a non-empty (n, dim) array; got shape {X.shape}"
        )
    return check_finite_embeddings(X)


def error_inputs(
    n_rows: int,
    errors: Any,
    golds: Any,
    preds: Any,
    error_type: str,
    target_class: Any,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The error vector, and the label and prediction distributions when given."""
    if (golds is None) != (preds is None):
        raise ValueError("golds and preds go together; got only one of them")
    if (errors is None) == (golds is None):
        raise ValueError(
            "give either errors or golds and preds; got "
            + ("both" if errors is not None else "neither")
        )
    if errors is not None:
        if error_type != "any" or target_class is not None:
            raise ValueError(
                f"error_type={error_type!r} and target_class need golds and preds; "
                "errors are already one error vector"
            )
        values = validate_errors(errors, pd.DataFrame(index=range(n_rows)))
        if values.max() > 1:
            raise ValueError(
                f"errors must be in [0, 1] for the mixture; got a maximum of {values.max()!r}"
            )
        return values, None, None
    values = error_indicator(
        golds, preds, error_type=error_type, target_class=target_class
    )
    if len(values) != n_rows:
        raise ValueError(
            f"golds and preds have {len(values)} rows but the embeddings {n_rows}"
        )
    gold_dist, pred_dist = class_distributions(golds, preds)
    return values, gold_dist, pred_dist


def class_distributions(golds: Any, preds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Gold labels one-hot and predictions as probabilities, over shared classes.

    Parameters
    ----------
    golds
        ``(n,)`` labels.
    preds
        ``(n,)`` labels, ``(n,)`` positive-class probabilities, or ``(n, C)``
        probabilities (then ``golds`` must be ``0..C-1``).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(n, C)`` one-hot gold labels and ``(n, C)`` predicted distributions.

    Examples
    --------
    >>> gold, pred = class_distributions(["cat", "dog"], ["dog", "dog"])
    >>> gold.tolist(), pred.tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]])
    >>> class_distributions([0, 1], [0.25, 0.5])[1].tolist()
    [[0.75, 0.25], [0.5, 0.5]]
    """
    gold_labels = np.asarray(golds)
    pred_values = np.asarray(preds)
    if pred_values.ndim == 2 or _is_probability(pred_values):
        if pred_values.ndim == 1:
            pred_values = np.column_stack([1 - pred_values, pred_values])
        pred_values = pred_values.astype(np.float64)
        if pred_values.min() < 0 or pred_values.max() > 1:
            raise ValueError(
                "2-d preds must be class probabilities in [0, 1]; got values in "
                f"[{pred_values.min()}, {pred_values.max()}]"
            )
        n_classes = pred_values.shape[1]
        if not np.isin(gold_labels, np.arange(n_classes)).all():
            raise ValueError(
                f"with probabilities over {n_classes} classes, golds must be class "
                f"indices 0..{n_classes - 1}; got {np.unique(gold_labels).tolist()[:10]}"
            )
        totals = pred_values.sum(axis=1, keepdims=True)
        pred_dist = pred_values / np.where(totals > 0, totals, 1.0)
        return np.eye(n_classes)[gold_labels.astype(np.int64)], pred_dist
    classes, codes = np.unique(
        np.concatenate([gold_labels.astype(object), pred_values.astype(object)]),
        return_inverse=True,
    )
    one_hot = np.eye(len(classes))[codes]
    return one_hot[: len(gold_labels)], one_hot[len(gold_labels) :]


def _is_probability(values: np.ndarray) -> bool:
    """Float values that are not all whole numbers: positive-class probabilities."""
    return bool(
        np.issubdtype(values.dtype, np.floating) and (values != np.round(values)).any()
    )


def categorical_terms(
    n_rows: int, *given: tuple[np.ndarray | None, float, str]
) -> dict[str, tuple[np.ndarray, float]]:
    """The non-empty terms as ``(n, categories)`` float32 distributions and weights."""
    terms = {}
    for values, weight, name in given:
        if values is None or weight == 0:
            continue
        values = np.asarray(values, dtype=np.float64)
        if name == "error":
            values = np.clip(values, 0.0, 1.0)
            values = np.column_stack([1 - values, values])
        elif values.ndim == 1:
            if (values < 0).any() or (values != np.round(values)).any():
                raise ValueError(
                    f"1-d {name}s must be class indices 0..C-1; got values in "
                    f"[{values.min()}, {values.max()}]"
                )
            values = np.eye(int(values.max()) + 1)[values.astype(np.int64)]
        if values.shape[0] != n_rows:
            raise ValueError(
                f"{name}s have {values.shape[0]} rows but the embeddings {n_rows}"
            )
        terms[name] = (values.astype(np.float32), float(weight))
    return terms
