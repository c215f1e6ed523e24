"""Pairing a slice matrix with a prediction log: by id (counting matched, unmatched
and duplicated ids) or by row position across differently partitioned files.

:func:`read_slice_matrix`, :func:`check_prediction_columns` and
:func:`align_used_columns` are the steps ``slicing report`` and ``slicing gate`` share.
"""

from dataclasses import dataclass

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute
from slicing.batch.errors import BatchInputError
from slicing.batch.io import read_input

__all__ = [
    "IdJoinCounts",
    "align_slices_and_predictions",
    "align_used_columns",
    "check_prediction_columns",
    "count_id_matches",
    "read_slice_matrix",
]


def _paired(
    slices: pd.DataFrame, predictions: pd.DataFrame, partition: int
) -> pd.DataFrame:
    if len(slices) != len(predictions):
        raise ValueError(
            f"partition {partition}: {len(slices)} slice rows but {len(predictions)} "
            "prediction rows; pass --id-column to join on an id instead"
        )
    overlap = set(slices.columns) & set(predictions.columns)
    return pd.concat(
        [
            predictions.reset_index(drop=True),
            slices.drop(columns=list(overlap)).reset_index(drop=True),
        ],
        axis=1,
    )


def _rows_between(
    parts: list[pd.DataFrame], starts: list[int], start: int, stop: int
) -> pd.DataFrame:
    """Rows ``start:stop`` (global positions) of consecutive partitions ``parts``."""
    pieces = [
        part.iloc[max(start - first, 0) : stop - first]
        for part, first in zip(parts, starts, strict=True)
    ]
    return pd.concat(pieces, ignore_index=True)


def _regroup_like(
    frame_parts: list, frame_lengths: list[int], target_lengths: list[int]
) -> list:
    """Delayed frames holding the rows of each target partition, gathered from the
    delayed partitions ``frame_parts`` (of ``frame_lengths`` rows) that overlap it."""
    frame_ends = np.cumsum(frame_lengths)
    frame_starts = frame_ends - np.asarray(frame_lengths)
    target_ends = np.cumsum(target_lengths)
    regrouped = []
    for start, stop in zip(
        (target_ends - np.asarray(target_lengths)).tolist(),
        target_ends.tolist(),
        strict=True,
    ):
        # Partitions ending after ``start`` and starting before ``stop``; empty
        # partitions inside that range contribute nothing and are skipped.
        first = int(np.searchsorted(frame_ends, start, side="right"))
        last = int(np.searchsorted(frame_starts, stop, side="left"))
        overlapping = [j for j in range(first, last) if frame_lengths[j] > 0]
        regrouped.append(
            dask.delayed(_rows_between)(
                [frame_parts[j] for j in overlapping],
                [int(frame_starts[j]) for j in overlapping],
                start,
                stop,
            )
        )
    return regrouped


@dataclass
class IdJoinCounts:
    """How the ids of the predictions and of the slices matched (rows on each side)."""

    matched: int
    predictions_unmatched: int
    slices_unmatched: int
    predictions_duplicated: int
    slices_duplicated: int
    example_duplicate: object = None

    def describe_left_out(self) -> str:
        return (
            f"{self.predictions_unmatched:,} prediction rows have no slice row and "
            f"{self.slices_unmatched:,} slice rows have no prediction"
        )


def count_id_matches(
    slices: dd.DataFrame,
    predictions: dd.DataFrame,
    id_column: str,
    scheduler: Scheduler = None,
) -> IdJoinCounts:
    """Matched, unmatched and duplicated ids of both sides, in one pass over the ids.

    Examples
    --------
    >>> import pandas as pd, dask.dataframe as dd
    >>> preds = dd.from_pandas(pd.DataFrame({"id": [1, 2, 3, 3]}), npartitions=2)
    >>> slices = dd.from_pandas(pd.DataFrame({"id": [1, 3, 4]}), npartitions=1)
    >>> counts = count_id_matches(slices, preds, "id", "synchronous")
    >>> counts.matched, counts.predictions_unmatched, counts.slices_unmatched
    (3, 1, 1)
    >>> counts.predictions_duplicated, counts.slices_duplicated, counts.example_duplicate
    (2, 0, 3)
    """
    per_id = (
        predictions[id_column]
        .value_counts()
        .to_frame("p")
        .join(slices[id_column].value_counts().to_frame("s"), how="outer")
        .fillna(0)
    )
    p, s = per_id["p"], per_id["s"]
    duplicated = per_id[(p > 1) | (s > 1)]
    values = compute(
        [
            (p * s).sum(),
            p[s == 0].sum(),
            s[p == 0].sum(),
            p[p > 1].sum(),
            s[s > 1].sum(),
            duplicated.head(1, npartitions=-1, compute=False),
        ],
        scheduler,
    )
    example: object = values[5].index[0] if len(values[5]) else None
    item = getattr(example, "item", None)
    matched, predictions_unmatched, slices_unmatched, predictions_dup, slices_dup = (
        int(value) for value in values[:5]
    )
    return IdJoinCounts(
        matched=matched,
        predictions_unmatched=predictions_unmatched,
        slices_unmatched=slices_unmatched,
        predictions_duplicated=predictions_dup,
        slices_duplicated=slices_dup,
        example_duplicate=item() if callable(item) else example,
    )


def align_slices_and_predictions(
    slices: dd.DataFrame,
    predictions: dd.DataFrame,
    id_column: str | None,
    *,
    allow_unmatched: bool = False,
    scheduler: Scheduler = None,
) -> tuple[dd.DataFrame, IdJoinCounts | None]:
    """One Dask DataFrame with the prediction columns and the slice columns.

    Joined on ``id_column`` when given, after counting matched, unmatched and
    duplicated ids; otherwise matched row by row, by position in the whole file.
    Partitions are paired directly when both sides are partitioned alike (as when the
    predictions are the input ``slicing apply`` sliced); otherwise each slice
    partition gathers its rows from the prediction partitions that overlap it, so
    memory stays bounded by partition size.

    Returns
    -------
    joined, counts
        The joined rows and, with ``id_column``, how the ids matched.

    Raises
    ------
    BatchInputError
        A missing id column; duplicated ids; unmatched ids without
        ``allow_unmatched``; (without an id column) different row counts.
    """
    if id_column is not None:
        for name, frame in (("slices", slices), ("predictions", predictions)):
            if id_column not in frame.columns:
                raise BatchInputError(
                    f"--id-column {id_column!r} is not a column of the {name}"
                )
        counts = count_id_matches(slices, predictions, id_column, scheduler)
        if counts.predictions_duplicated or counts.slices_duplicated:
            raise BatchInputError(
                f"ids in {id_column!r} repeat ({counts.predictions_duplicated:,} "
                f"prediction rows and {counts.slices_duplicated:,} slice rows share "
                f"an id, e.g. {counts.example_duplicate!r}): each id must name one row "
                "on each side, or rows would be counted twice"
            )
        if (
            counts.predictions_unmatched or counts.slices_unmatched
        ) and not allow_unmatched:
            raise BatchInputError(
                f"{counts.describe_left_out()} (matched on {id_column!r}; "
                f"{counts.matched:,} rows match): pass --allow-unmatched to score the "
                "matched rows only"
            )
        return predictions.merge(slices, on=id_column, how="inner"), counts
    # Count rows on the very partitions that are paired below: dask-expr may fuse
    # the partitions of a column-projected Parquet read in ``map_partitions`` but
    # not in ``to_delayed``, so ``map_partitions(len)`` can describe other
    # partitions than the ones paired.
    slice_parts, prediction_parts = slices.to_delayed(), predictions.to_delayed()
    slice_lengths, prediction_lengths = (
        [int(n) for n in lengths]
        for lengths in compute(
            [
                [dask.delayed(len)(part) for part in slice_parts],
                [dask.delayed(len)(part) for part in prediction_parts],
            ],
            scheduler,
        )
    )
    n_slices, n_predictions = sum(slice_lengths), sum(prediction_lengths)
    if n_slices != n_predictions:
        raise BatchInputError(
            f"the slices have {n_slices:,} rows and the predictions {n_predictions:,}: "
            "they cannot be matched row by row; pass --id-column to join on an id"
        )
    if slice_lengths != prediction_lengths:
        prediction_parts = _regroup_like(
            prediction_parts, prediction_lengths, slice_lengths
        )
    meta = _paired(slices._meta, predictions._meta, 0)
    parts = [
        dask.delayed(_paired)(s, p, i)
        for i, (s, p) in enumerate(zip(slice_parts, prediction_parts, strict=True))
    ]
    return dd.from_delayed(parts, meta=meta, verify_meta=False), None


def read_slice_matrix(
    path: str, id_column: str | None
) -> tuple[dd.DataFrame, list[str]]:
    """A slice matrix written by ``slicing apply`` and its slice names (its bool
    columns, the id column excepted).

    Raises
    ------
    BatchInputError
        The input cannot be read, or it has no bool column.
    """
    slices = read_input(path, input_format="parquet").frame
    slice_names = [
        c
        for c, dtype in slices.dtypes.items()
        if pd.api.types.is_bool_dtype(dtype) and c != id_column
    ]
    if not slice_names:
        raise BatchInputError(f"{path!r} has no bool slice columns")
    return slices, slice_names


def check_prediction_columns(predictions: dd.DataFrame, needed: list[str]) -> None:
    """Refuse a prediction log that lacks one of the ``needed`` columns, naming them."""
    missing = [c for c in needed if c not in predictions.columns]
    if missing:
        raise BatchInputError(
            f"the predictions lack the columns {missing}; they have "
            f"{list(predictions.columns)}"
        )


def align_used_columns(
    slices: dd.DataFrame,
    slice_names: list[str],
    predictions: dd.DataFrame,
    prediction_columns: list[str],
    id_column: str | None,
    *,
    allow_unmatched: bool = False,
    scheduler: Scheduler = None,
) -> tuple[dd.DataFrame, IdJoinCounts | None]:
    """:func:`align_slices_and_predictions` on the id and the columns a job uses only.

    Aligning by row position takes a pass over both inputs to count rows, and a wide
    prediction log would otherwise be read in full twice. (A missing id column is
    reported by the alignment.)
    """
    keys = [id_column] if id_column else []
    return align_slices_and_predictions(
        slices[[c for c in keys if c in slices.columns] + slice_names],
        predictions[
            [c for c in keys if c in predictions.columns]
            + list(dict.fromkeys(prediction_columns))
        ],
        id_column,
        allow_unmatched=allow_unmatched,
        scheduler=scheduler,
    )
