"""Pattern counts of a Dask DataFrame of SF columns, in one pass (optionally per group).

Each partition packs its SF columns into one int64 code per row and counts the
codes (per group, e.g. a time window, when ``by`` is given); the partial counts meet
in a tree reduction. A 10M-row target with 20 SFs becomes a few thousand counts.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute, tree_reduce
from slicing.estimate.patterns import PatternCounts, decode_patterns, pattern_codes

__all__ = ["dask_pattern_counts", "grouped_pattern_counts"]


def _check_columns(frame_columns: Sequence[str], columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame_columns]
    if missing:
        raise ValueError(
            f"the Dask DataFrame has no SF columns {missing}; it has "
            f"{list(frame_columns)}; expected one bool column per SF"
        )


def _partition_counts(
    frame: pd.DataFrame, columns: list[str], by: str | None
) -> pd.Series:
    values = frame[columns]
    bad = [
        c
        for c in columns
        if values[c].hasnans
        or not (
            pd.api.types.is_bool_dtype(values[c].dtype) or values[c].isin([0, 1]).all()
        )
    ]
    if bad:
        sample = values[bad[0]][~values[bad[0]].isin([0, 1])].head(3).tolist()
        raise ValueError(
            f"SF column '{bad[0]}' holds {sample}; expected bool (or 0/1) without "
            "missing values"
        )
    codes = pattern_codes(values.to_numpy(dtype=np.bool_))
    keys = [frame[by].to_numpy(), codes] if by is not None else [codes]
    index = pd.MultiIndex.from_arrays(keys) if by is not None else pd.Index(codes)
    return (
        pd.Series(np.ones(len(codes), np.int64), index=index)
        .groupby(level=list(range(len(keys))))
        .sum()
    )


def _add(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts).groupby(level=list(range(parts[0].index.nlevels))).sum()


def grouped_pattern_counts(
    ddf: Any,
    columns: Sequence[str],
    *,
    by: str | None = None,
    scheduler: Scheduler = None,
) -> pd.Series:
    """Rows per (group, pattern code) or per pattern code, computed in one Dask pass.

    Parameters
    ----------
    ddf
        Dask DataFrame holding one bool column per SF (and ``by``, if given).
    columns
        The SF columns, in order (at most 62).
    by
        Optional column to count within (a time window, a video, ...).
    scheduler
        See :func:`slicing._dask.compute`.

    Returns
    -------
    pd.Series
        int64 counts indexed by pattern code (see
        :func:`~slicing.estimate.patterns.pattern_codes`), or by ``(group, code)``.
    """
    columns = list(columns)
    _check_columns(list(ddf.columns), columns + ([by] if by is not None else []))
    parts = ddf.to_delayed()
    if not parts:
        return pd.Series([], dtype=np.int64)
    import dask

    counted = [dask.delayed(_partition_counts)(part, columns, by) for part in parts]
    (total,) = compute([tree_reduce(counted, _add)], scheduler)
    return total


def dask_pattern_counts(
    ddf: Any, slice_names: Sequence[str], *, scheduler: Scheduler = None
) -> PatternCounts:
    """Count the SF patterns of a Dask DataFrame in one pass.

    Parameters
    ----------
    ddf
        Dask DataFrame (for instance ``dd.read_parquet(...)`` of a slice matrix
        written by ``slicing apply``) with one bool column per SF.
    slice_names
        The SF columns to count, in order.
    scheduler
        Dask scheduler (``"threads"``, ``"processes"``, a ``distributed.Client``).

    Returns
    -------
    PatternCounts

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> frame = pd.DataFrame({"a": [True, True, False], "b": [False, False, True]})
    >>> counts = dask_pattern_counts(dd.from_pandas(frame, npartitions=2), ["a", "b"])
    >>> counts.to_frame().to_dict("list")
    {'a': [True, False], 'b': [False, True], 'count': [2, 1]}
    """
    names = list(slice_names)
    counts = grouped_pattern_counts(ddf, names, scheduler=scheduler)
    codes = counts.index.to_numpy(dtype=np.int64)
    return PatternCounts(
        decode_patterns(codes, len(names)), counts.to_numpy(np.int64), names
    )
