"""Per-slice scores of a Spark prediction log, as one Spark aggregation.

The log is grouped by (gold, prediction), counting rows and summing each slice
column: the ``(1 + k, C, C)`` confusion counts of the other paths, computed by Spark
(at most ``C * C`` small rows reach the driver, never the log's rows). The counts are
finished by the kernel of every path
(:func:`slicing.monitor.table.table_from_counts`), so the table equals
:func:`~slicing.monitor.scores.slice_scores` and
:func:`~slicing.monitor.dask_scores.dask_slice_scores` on the same rows and options.
Label checks (integer classes, NaN and abstain rows left out, null slice cells
refused) are the in-memory path's, written as Spark expressions and counted in the
same pass. Only the DataFrame API is used, so it runs under Spark Connect too.
"""

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from slicing._spark import check_spark_dataframe, quote, require_pyspark
from slicing.matrix import check_slice_names
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import table_from_counts

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["spark_slice_scores"]

# Row status codes of the aggregation (scored rows, and why a row is not scored).
_SCORED, _LEFT_OUT, _BAD_GOLD, _BAD_PRED = 0, 1, 2, 3


def spark_slice_scores(
    sdf: "DataFrame",
    gold_column: str,
    pred_column: str | None = None,
    prob_columns: Sequence[str] | None = None,
    slice_columns: Sequence[str] | None = None,
    *,
    options: ScoreOptions | None = None,
    **option_values: Any,
) -> pd.DataFrame:
    """Score a Spark DataFrame of labels, predictions and slice columns, per slice.

    Supports the count metrics (accuracy, precision, recall, f1, f1_micro, f1_macro,
    matthews_corrcoef), which reduce exactly to per-slice confusion counts; for
    ``roc_auc`` or your own callables, score a sample in memory with
    :func:`~slicing.monitor.scores.slice_scores`.

    Parameters
    ----------
    sdf
        One row per prediction: a gold label column, a prediction column and/or
        probability columns, and one boolean column per slice (e.g. the output of
        ``SparkSFApplier.slice_columns(..., keep_columns=[...])``).
    gold_column
        Name of the gold label column (integer classes ``0..C-1``).
    pred_column
        Name of the predicted label column; if absent, the argmax of
        ``prob_columns`` (the first maximum, as numpy) is used.
    prob_columns
        Names of the per-class probability columns, in class order.
    slice_columns
        Names of the slice columns; by default every boolean column.
    options, **option_values
        Scoring options, as in :func:`~slicing.monitor.scores.slice_scores`
        (see :class:`~slicing.monitor.options.ScoreOptions`).

    Returns
    -------
    pd.DataFrame
        The score table, equal to :func:`~slicing.monitor.scores.slice_scores` on
        the same rows and options.

    Raises
    ------
    ImportError
        PySpark is not installed (names the ``slicing[spark]`` extra).
    TypeError
        ``sdf`` is not a Spark DataFrame.
    KeyError
        A named column is missing (listing the available ones).
    ValueError
        A slice column is not boolean, holds nulls or has a reserved or invalid
        name; a label is not a non-negative integer; no prediction column is
        given; a metric needs the rows; or, with ``nan_policy="raise"``, rows
        cannot be scored.

    Examples
    --------
    >>> log = spark.createDataFrame(  # doctest: +SKIP
    ...     [(1, 1, True), (0, 0, True), (1, 0, False), (1, 1, False)],
    ...     "gold long, pred long, short boolean")
    >>> spark_slice_scores(log, "gold", "pred", min_support=1)[["n", "accuracy"]]  # doctest: +SKIP
             n  accuracy
    slice
    overall  4      0.75
    short    2      1.00
    """
    require_pyspark("spark_slice_scores")
    from pyspark.sql import functions as F

    options = ScoreOptions.of(options, **option_values)
    # Fail before a pass over the data, not after it.
    options.require_count_metrics("spark_slice_scores")
    check_spark_dataframe(sdf, "spark_slice_scores")
    if pred_column is None and not prob_columns:
        raise ValueError("pass pred_column, prob_columns or both; got neither")
    prob_columns = list(prob_columns or [])
    label_columns = [
        gold_column,
        *([pred_column] if pred_column else []),
        *prob_columns,
    ]
    missing = [column for column in label_columns if column not in sdf.columns]
    if missing:
        raise KeyError(
            f"columns {missing} are not in the Spark DataFrame; it has {sdf.columns}"
        )
    types = {field.name: field.dataType for field in sdf.schema.fields}
    for column in label_columns:
        _check_numeric(column, types[column])
    slice_names = _slice_columns(sdf, types, slice_columns, label_columns)

    abstain = float(options.abstain_label)
    gold = F.col(quote(gold_column)).cast("double")
    gold_missing = _is_missing(gold) | (gold == abstain)
    gold_bad = ~gold_missing & _not_a_class(gold)
    probs = [F.col(quote(column)).cast("double") for column in prob_columns]
    probs_missing = F.lit(False)
    for prob in probs:
        probs_missing = probs_missing | _is_missing(prob)
    if pred_column is not None:
        pred = F.col(quote(pred_column)).cast("double")
        pred_missing = _is_missing(pred) | (pred == abstain) | probs_missing
        pred_bad = ~(_is_missing(pred) | (pred == abstain)) & _not_a_class(pred)
    else:
        pred = _argmax(probs)
        pred_missing, pred_bad = probs_missing, F.lit(False)
    status = (
        F.when(gold_bad, _BAD_GOLD)
        .when(pred_bad, _BAD_PRED)
        .when(gold_missing | pred_missing, _LEFT_OUT)
        .otherwise(_SCORED)
    )
    scored = status == _SCORED
    grouped = (
        sdf.select(
            status.alias("status"),
            F.when(scored, gold.cast("long")).alias("gold"),
            F.when(scored, pred.cast("long")).alias("pred"),
            F.when(gold_bad, gold).alias("bad_gold"),
            F.when(pred_bad, pred).alias("bad_pred"),
            *[
                F.col(quote(name)).alias(f"slice_{j}")
                for j, name in enumerate(slice_names)
            ],
        )
        .groupBy("status", "gold", "pred")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.first("bad_gold", ignorenulls=True).alias("bad_gold"),
            F.first("bad_pred", ignorenulls=True).alias("bad_pred"),
            *[F.sum(F.col(f"slice_{j}").cast("long")) for j in range(len(slice_names))],
            *[F.count(f"slice_{j}") for j in range(len(slice_names))],
        )
    )
    groups = [tuple(row) for row in grouped.collect()]
    counts, n_left_out = _counts_from_groups(
        groups, slice_names, gold_column, pred_column, len(prob_columns), options
    )
    if n_left_out:
        warnings.warn(
            f"{n_left_out} rows without a gold label or prediction (NaN or abstain) "
            "are left out of every score",
            stacklevel=2,
        )
    return table_from_counts(counts, slice_names, options)


def _check_numeric(column: str, data_type: Any) -> None:
    from pyspark.sql.types import NumericType

    if not isinstance(data_type, NumericType):
        raise ValueError(
            f"column '{column}' must hold integer class labels (or probabilities); "
            f"got type {data_type.simpleString()}"
        )


def _slice_columns(
    sdf: "DataFrame",
    types: dict[str, Any],
    slice_columns: Sequence[str] | None,
    label_columns: list[str],
) -> list[str]:
    from pyspark.sql.types import BooleanType

    if slice_columns is None:
        names = [
            column
            for column in sdf.columns
            if column not in label_columns and isinstance(types[column], BooleanType)
        ]
        if not names:
            raise ValueError(
                f"found no boolean slice columns among {sdf.columns}; pass "
                "slice_columns or add one boolean column per slice"
            )
        return check_slice_names(names, kind="slice column")
    names = check_slice_names(slice_columns, kind="slice column")
    absent = [name for name in names if name not in types]
    if absent:
        raise KeyError(
            f"slice columns {absent} are not in the Spark DataFrame; it has "
            f"{sdf.columns}"
        )
    not_bool = {
        name: types[name].simpleString()
        for name in names
        if not isinstance(types[name], BooleanType)
    }
    if not_bool:
        raise ValueError(f"slice columns must be boolean; got types {not_bool}")
    return names


def _is_missing(value: "Column") -> "Column":
    from pyspark.sql import functions as F

    return value.isNull() | F.isnan(value)


def _not_a_class(value: "Column") -> "Column":
    from pyspark.sql import functions as F

    return (value != F.floor(value)) | (value < 0)


def _argmax(probs: list["Column"]) -> "Column":
    """Index of the first largest probability (numpy's ``argmax`` tie rule)."""
    from pyspark.sql import functions as F

    largest = F.greatest(*probs)
    choice = F.when(probs[0] == largest, 0)
    for position, prob in enumerate(probs[1:], start=1):
        choice = choice.when(prob == largest, position)
    return choice.cast("double")


def _counts_from_groups(
    groups: list[tuple],
    slice_names: list[str],
    gold_column: str,
    pred_column: str | None,
    n_prob_columns: int,
    options: ScoreOptions,
) -> tuple[np.ndarray, int]:
    """The ``(1 + k, C, C)`` counts and the left-out rows, from the grouped rows."""
    k = len(slice_names)
    n_rows = sum(group[3] for group in groups)
    nulls = [n_rows - sum(group[6 + k + j] for group in groups) for j in range(k)]
    for name, count in zip(slice_names, nulls):
        if count:
            raise ValueError(
                f"slice column '{name}' holds {count} nulls; expected bool without "
                "missing values"
            )
    for status, value_at, column in (
        (_BAD_GOLD, 4, gold_column),
        (_BAD_PRED, 5, pred_column),
    ):
        bad = [group for group in groups if group[0] == status]
        if bad:
            raise ValueError(
                f"column '{column}' holds {bad[0][value_at]!r} ({bad[0][3]} such "
                "rows); expected integer class labels 0..C-1 (or the abstain label)"
            )
    n_left_out = sum(group[3] for group in groups if group[0] == _LEFT_OUT)
    if n_left_out and options.nan_policy == "raise":
        raise ValueError(
            f"{n_left_out} of {n_rows} rows cannot be scored (no gold label or no "
            "prediction: NaN or abstain); pass nan_policy='omit' to leave them out"
        )
    scored = [group for group in groups if group[0] == _SCORED]
    n_classes = max(
        [2, n_prob_columns]
        + [int(group[1]) + 1 for group in scored]
        + [int(group[2]) + 1 for group in scored]
    )
    if n_prob_columns and n_classes != n_prob_columns:
        raise ValueError(
            f"probs has {n_prob_columns} columns but the labels reach class "
            f"{n_classes - 1}; expected one probability column per class"
        )
    counts = np.zeros((1 + k, n_classes, n_classes), dtype=np.int64)
    for group in scored:
        gold, pred = int(group[1]), int(group[2])
        counts[0, gold, pred] = group[3]
        counts[1:, gold, pred] = group[6 : 6 + k]
    return counts, n_left_out
