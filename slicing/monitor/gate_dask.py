"""The regression gate on a Dask DataFrame (e.g. a Parquet prediction log), in one pass.

Each partition is reduced to its joint counts ``(1 + k, C, C, C)`` of gold,
baseline and candidate predictions; the counts are summed in a tree and finished by
:func:`slicing.monitor.gates.gate_from_counts`, so the result equals
:func:`slicing.monitor.gates.gate_slices` on the same rows.
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

# The same slice-column rules as per-slice scoring.
from slicing.monitor.dask_scores import _slice_columns
from slicing.monitor.gate_counts import paired_counts
from slicing.monitor.gate_result import GateResult
from slicing.monitor.gates import (
    RulesArg,
    as_gate_rules,
    gate_from_counts,
    gate_options,
)
from slicing.monitor.options import ScoreOptions

__all__ = ["dask_gate_slices"]

ModelColumns = str | Sequence[str]


def dask_gate_slices(
    ddf: dd.DataFrame,
    gold_column: str,
    *,
    baseline: ModelColumns,
    candidate: ModelColumns,
    slice_columns: Sequence[str] | None = None,
    rules: RulesArg = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
    split_every: int = 8,
    scheduler: Scheduler = None,
    options: ScoreOptions | None = None,
    **option_values: Any,
) -> GateResult:
    """Gate a candidate against a baseline from one Dask DataFrame of paired predictions.

    Parameters
    ----------
    ddf
        One row per example: the gold label, both models' predictions and one
        bool column per slice.
    gold_column
        The gold label column.
    baseline, candidate
        Each model's predicted-label column, or its list of per-class probability
        columns (argmax taken).
    slice_columns
        Slice columns; by default every bool column.
    rules, labels, options, **option_values
        As in :func:`~slicing.monitor.gates.gate_slices`.
    split_every
        Fan-in of the tree reduction.
    scheduler
        ``"threads"``, ``"processes"``, ``"synchronous"``, a
        ``dask.distributed.Client`` or ``None`` (the active scheduler).

    Returns
    -------
    GateResult

    Raises
    ------
    KeyError
        If a named column is missing (listing the available ones).
    ValueError
        For non-bool or badly named slice columns, rules naming unknown slices.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> log = pd.DataFrame({"gold": [1, 0, 1, 1] * 25, "old": [1, 0, 0, 1] * 25,
    ...                     "new": [1, 0, 1, 1] * 25, "short": [True, False] * 50})
    >>> result = dask_gate_slices(dd.from_pandas(log, npartitions=2), "gold",
    ...                           baseline="old", candidate="new",
    ...                           scheduler="synchronous")
    >>> result.verdict, result.slices["n"].tolist()
    ('investigate', [100, 50])
    """
    rules = as_gate_rules(rules)
    options = gate_options(options, **option_values)
    models = [_columns(baseline), _columns(candidate)]
    label_columns = [gold_column, *models[0], *models[1]]
    missing = [column for column in label_columns if column not in ddf.columns]
    if missing:
        raise KeyError(
            f"columns {missing} are not in the Dask DataFrame; it has {list(ddf.columns)}"
        )
    slice_names = _slice_columns(ddf, slice_columns, label_columns)
    rules.check_slice_names(slice_names)
    wanted = list(dict.fromkeys([*label_columns, *slice_names]))
    parts = [
        dask.delayed(_partition_counts)(
            partition, number, gold_column, models, slice_names, options
        )
        # Selecting the columns first lets Parquet readers skip the others.
        for number, partition in enumerate(ddf[wanted].to_delayed())
    ]
    [(joint, n_left_out)] = compute(
        [tree_reduce(parts, _sum_counts, split_every)], scheduler
    )
    if n_left_out:
        warnings.warn(
            f"{n_left_out} rows without a gold label or a prediction of either model "
            "(NaN or abstain) are left out",
            stacklevel=2,
        )
    return gate_from_counts(
        joint, slice_names, rules=rules, options=options, labels=labels
    )


def _columns(model: ModelColumns) -> list[str]:
    return [model] if isinstance(model, str) else list(model)


def _partition_counts(
    partition: pd.DataFrame,
    number: int,
    gold_column: str,
    models: list[list[str]],
    slice_names: list[str],
    options: ScoreOptions,
) -> tuple[np.ndarray, int]:
    predictions = [
        partition[columns[0]]
        if len(columns) == 1
        else partition[columns].to_numpy(dtype=np.float64, na_value=np.nan)
        for columns in models
    ]
    with warnings.catch_warnings():
        # Left-out rows are summed over partitions and reported once.
        warnings.simplefilter("ignore")
        try:
            joint, _, n_left_out = paired_counts(
                partition[gold_column],
                partition[slice_names],
                predictions[0],
                predictions[1],
                options,
            )
        except ValueError as error:
            raise ValueError(f"in partition {number}: {error}") from error
    return joint, n_left_out


def _pad(joint: np.ndarray, n_classes: int) -> np.ndarray:
    if joint.shape[1] >= n_classes:
        return joint
    padded = np.zeros((joint.shape[0], *(n_classes,) * 3), dtype=joint.dtype)
    size = joint.shape[1]
    padded[:, :size, :size, :size] = joint
    return padded


def _add(
    left: tuple[np.ndarray, int], right: tuple[np.ndarray, int]
) -> tuple[np.ndarray, int]:
    # Partitions may see different numbers of classes; pad to the larger.
    n_classes = max(left[0].shape[1], right[0].shape[1])
    return _pad(left[0], n_classes) + _pad(right[0], n_classes), left[1] + right[1]


def _sum_counts(parts: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    return reduce(_add, parts)
