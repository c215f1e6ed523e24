"""Source outcomes as ``(gold, pred)`` cells, and the metrics computed from their counts.

Per-row correctness ``c`` is stored as the cell ``(1, c)``, so that accuracy (the
trace of the confusion counts over their total) is the share of correct rows; golds
with predictions or probabilities are stored as they are and support every count
metric of the monitoring tables (accuracy, precision, recall, f1, f1_micro,
f1_macro, matthews_corrcoef), computed from *weighted* confusion counts.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicing.estimate.metrics import CountMetric, MetricsArg, count_metrics

__all__ = ["SourceOutcomes", "source_outcomes"]


@dataclass(frozen=True)
class SourceOutcomes:
    """Validated outcome cells of the source rows.

    Attributes
    ----------
    golds, preds
        int64 arrays of shape ``(n,)``.
    n_classes
        Number of classes ``C``.
    metrics
        The count metrics to estimate.
    """

    golds: np.ndarray
    preds: np.ndarray
    n_classes: int
    metrics: list[CountMetric]


def _vector(values: object, name: str, n_rows: int) -> np.ndarray:
    if isinstance(values, pd.Series | pd.DataFrame):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (n,); got shape {array.shape}")
    if len(array) != n_rows:
        raise ValueError(
            f"{name} has {len(array)} rows but the source slice matrix has {n_rows}; "
            "expected one value per source row"
        )
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)):
        raise ValueError(f"{name} must be numeric or bool; got dtype {array.dtype}")
    missing = np.isnan(array) if np.issubdtype(array.dtype, np.floating) else None
    if missing is not None and missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"{name} has NaN at {len(rows)} of {n_rows} source rows (first: "
            f"{rows[:5].tolist()}); expected a value for every source row (drop "
            "those rows from the source slice matrix and the outcomes together)"
        )
    return array


def source_outcomes(
    n_rows: int,
    *,
    correct: object = None,
    golds: object = None,
    preds: object = None,
    probs: object = None,
    metrics: MetricsArg = "accuracy",
) -> SourceOutcomes:
    """Validate the source outcomes: ``correct``, or ``golds`` with ``preds``/``probs``.

    Raises
    ------
    ValueError
        On NaN outcomes, wrong lengths, non-0/1 correctness, negative labels, both
        or neither of ``correct`` and ``golds``, or a metric that needs the rows
        (``roc_auc``, callables) instead of confusion counts.

    Examples
    --------
    >>> outcomes = source_outcomes(3, correct=[1, 0, 1])
    >>> outcomes.golds.tolist(), outcomes.preds.tolist()
    ([1, 1, 1], [1, 0, 1])
    >>> source_outcomes(2, correct=[1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: correct has NaN at 1 of 2 source rows (first: [1]); expected a value for every source row (drop those rows from the source slice matrix and the outcomes together)
    """
    if (correct is None) == (golds is None):
        raise ValueError(
            "pass the source outcomes as correct= (per-row correctness) or as golds= "
            "with preds= or probs=; got "
            + ("both" if correct is not None else "neither")
        )
    if correct is not None:
        values = _vector(correct, "correct", n_rows)
        if not np.isin(values, (0, 1)).all():
            bad = np.flatnonzero(~np.isin(values, (0, 1)))
            raise ValueError(
                f"correct must be 0/1 or bool; got {values[bad[0]]!r} at source row "
                f"{int(bad[0])}"
            )
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        if names != ["accuracy"]:
            raise ValueError(
                f"with correct= only 'accuracy' can be estimated; got metrics {names}. "
                "Pass golds= and preds= (or probs=) for other metrics"
            )
        preds_out = values.astype(np.int64)
        return SourceOutcomes(
            np.ones(n_rows, np.int64), preds_out, 2, count_metrics("accuracy", 2)
        )
    if preds is None and probs is None:
        raise ValueError("with golds= pass preds= or probs= as well; got neither")
    gold_values = _labels(golds, "golds", n_rows)
    if preds is not None:
        pred_values = _labels(preds, "preds", n_rows)
    else:
        prob_values = np.asarray(probs, dtype=np.float64)
        if prob_values.ndim != 2 or len(prob_values) != n_rows:
            raise ValueError(
                f"probs must have shape ({n_rows}, C); got {prob_values.shape}"
            )
        _vector(prob_values.sum(axis=1), "probs", n_rows)
        pred_values = prob_values.argmax(axis=1)
    n_classes = int(
        max(2, gold_values.max(initial=0) + 1, pred_values.max(initial=0) + 1)
    )
    return SourceOutcomes(
        gold_values, pred_values, n_classes, count_metrics(metrics, n_classes)
    )


def _labels(values: object, name: str, n_rows: int) -> np.ndarray:
    array = _vector(values, name, n_rows)
    if array.dtype == np.bool_:
        return array.astype(np.int64)
    if (array < 0).any() or (array != np.round(array)).any():
        bad = int(np.flatnonzero((array < 0) | (array != np.round(array)))[0])
        raise ValueError(
            f"{name} must hold class labels 0..C-1 for every source row; got "
            f"{array[bad]!r} at row {bad}"
        )
    return array.astype(np.int64)
