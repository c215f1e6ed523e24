"""Per-slice scores straight from a Dask DataFrame, as one pass of reductions.

Each partition is reduced to its ``(1 + k, C, C)`` confusion counts; the counts are
summed in a tree and finished by the kernel of the in-memory path
(:func:`slicing.monitor.table.table_from_counts`), so the table equals
:func:`slicing.monitor.scores.slice_scores` on the same rows (same seed, same
intervals). No rows are collected to the client: a prediction log larger than
memory is scored in the memory of one partition per worker thread.
"""

import warnings
from collections.abc import Sequence
from functools import reduce
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute, tree_reduce
from slicing.matrix import check_slice_names
from slicing.monitor.counts import confusion_counts
from slicing.monitor.inputs import prepare_scoring_inputs
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import table_from_counts

__all__ = ["dask_slice_scores"]


def dask_slice_scores(
    ddf: dd.DataFrame,
    gold_column: str,
    pred_column: str | None = None,
    prob_columns: Sequence[str] | None = None,
    slice_columns: Sequence[str] | None = None,
    *,
    split_every: int = 8,
    scheduler: Scheduler = None,
    options: ScoreOptions | None = None,
    **option_values: Any,
) -> pd.DataFrame:
    """Score a Dask DataFrame of labels, predictions and slice columns, per slice.

    Supports the count metrics (accuracy, precision, recall, f1, f1_micro, f1_macro,
    matthews_corrcoef), which reduce exactly to per-slice confusion counts; for
    ``roc_auc`` or your own callables, score a sample in memory with
    :func:`~slicing.monitor.scores.slice_scores`.

    Parameters
    ----------
    ddf
        One row per prediction: a gold label column, a prediction column and/or
        probability columns, and one bool column per slice.
    gold_column
        Name of the gold label column.
    pred_column
        Name of the predicted label column; if absent, the argmax of
        ``prob_columns`` is used.
    prob_columns
        Names of the per-class probability columns, in class order.
    slice_columns
        Names of the slice columns; by default every bool column.
    split_every
        Fan-in of the tree reduction of partition counts.
    scheduler
        ``"threads"``, ``"processes"``, ``"synchronous"``, a
        ``dask.distributed.Client``, or ``None`` for the active Dask scheduler.
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
    KeyError
        If a named column is missing (listing the available ones).
    ValueError
        If a slice column is not bool or has a reserved or invalid name, no
        prediction column is given, or a metric needs the rows.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> log = pd.DataFrame({"gold": [1, 0, 1, 1], "pred": [1, 0, 0, 1],
    ...                     "short": [True, True, False, False]})
    >>> table = dask_slice_scores(dd.from_pandas(log, npartitions=2), "gold", "pred",
    ...                           min_support=1, scheduler="synchronous")
    >>> table[["n", "accuracy"]]
             n  accuracy
    slice
    overall  4      0.75
    short    2      1.00
    """
    options = ScoreOptions.of(options, **option_values)
    # Fail before a pass over the data, not after it.
    options.require_count_metrics("dask_slice_scores")
    if pred_column is None and not prob_columns:
        raise ValueError("pass pred_column, prob_columns or both; got neither")
    label_columns = [
        gold_column,
        *([pred_column] if pred_column else []),
        *(prob_columns or []),
    ]
    slice_names = _slice_columns(ddf, slice_columns, label_columns)
    missing = [column for column in label_columns if column not in ddf.columns]
    if missing:
        raise KeyError(
            f"columns {missing} are not in the Dask DataFrame; it has {list(ddf.columns)}"
        )
    partition_counts = [
        dask.delayed(_partition_counts)(
            partition,
            number,
            gold_column,
            pred_column,
            list(prob_columns) if prob_columns else None,
            slice_names,
            options,
        )
        # Selecting the columns first lets Parquet/CSV readers skip the others.
        for number, partition in enumerate(
            ddf[[*label_columns, *slice_names]].to_delayed()
        )
    ]
    [(counts, n_left_out)] = compute(
        [tree_reduce(partition_counts, _sum_counts, split_every)], scheduler
    )
    if prob_columns:
        counts = _pad_counts(counts, len(prob_columns))
    if n_left_out:
        warnings.warn(
            f"{n_left_out} rows without a gold label or prediction (NaN or abstain) "
            "are left out of every score",
            stacklevel=2,
        )
    return table_from_counts(counts, slice_names, options)


def _slice_columns(
    ddf: dd.DataFrame,
    slice_columns: Sequence[str] | None,
    label_columns: list[str],
) -> list[str]:
    dtypes = ddf.dtypes
    if slice_columns is None:
        names = [
            column
            for column in ddf.columns
            if column not in label_columns
            and pd.api.types.is_bool_dtype(dtypes[column])
        ]
        if not names:
            raise ValueError(
                f"found no bool slice columns among {list(ddf.columns)}; pass "
                "slice_columns or add one bool column per slice"
            )
        return check_slice_names(names, kind="slice column")
    names = check_slice_names(slice_columns, kind="slice column")
    absent = [name for name in names if name not in ddf.columns]
    if absent:
        raise KeyError(
            f"slice columns {absent} are not in the Dask DataFrame; it has "
            f"{list(ddf.columns)}"
        )
    not_bool = {
        name: str(dtypes[name])
        for name in names
        if not pd.api.types.is_bool_dtype(dtypes[name])
    }
    if not_bool:
        raise ValueError(f"slice columns must be bool; got dtypes {not_bool}")
    return names


def _partition_counts(
    partition: pd.DataFrame,
    number: int,
    gold_column: str,
    pred_column: str | None,
    prob_columns: list[str] | None,
    slice_names: list[str],
    options: ScoreOptions,
) -> tuple[np.ndarray, int]:
    with warnings.catch_warnings():
        # Left-out rows are summed over partitions and reported once.
        warnings.simplefilter("ignore")
        try:
            inputs = prepare_scoring_inputs(
                partition[gold_column],
                partition[slice_names],
                preds=None if pred_column is None else partition[pred_column],
                probs=None
                if prob_columns is None
                else partition[prob_columns].to_numpy(
                    dtype=np.float64, na_value=np.nan
                ),
                options=options,
            )
        except ValueError as error:
            raise ValueError(f"in partition {number}: {error}") from error
    counts = confusion_counts(
        inputs.indicators, inputs.golds, inputs.preds, inputs.n_classes
    )
    return counts, inputs.n_left_out


def _pad_counts(counts: np.ndarray, n_classes: int) -> np.ndarray:
    if counts.shape[1] >= n_classes:
        return counts
    padded = np.zeros((counts.shape[0], n_classes, n_classes), dtype=counts.dtype)
    padded[:, : counts.shape[1], : counts.shape[2]] = counts
    return padded


def _add_counts(
    left: tuple[np.ndarray, int], right: tuple[np.ndarray, int]
) -> tuple[np.ndarray, int]:
    # Partitions may see different numbers of classes; pad to the larger.
    n_classes = max(left[0].shape[1], right[0].shape[1])
    return (
        _pad_counts(left[0], n_classes) + _pad_counts(right[0], n_classes),
        left[1] + right[1],
    )


def _sum_counts(parts: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    return reduce(_add_counts, parts)
