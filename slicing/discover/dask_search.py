"""Slice search on a Dask DataFrame: one pass of reductions per lattice level.

Each partition is encoded once (its ``(rows, features)`` code matrix and its errors)
and kept by Dask (``persist``); every level then sends the feature combinations to
evaluate to all partitions, each returns the bucket statistics of its rows, and a
tree of additions brings them to the client. Only those small arrays travel;
predicates are built from a sample of rows, statistics are exact.
"""

import functools
from typing import Any

import dask
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from slicing._dask import compute, persist, tree_reduce
from slicing.discover.aggregate import BucketStats, aggregate_buckets, combine_stats
from slicing.discover.error_types import (
    ERROR_COLUMN,
    error_indicator,
    predicted_labels,
    resolve_target_class,
)
from slicing.discover.lattice import Evaluator, LatticeParams
from slicing.discover.masks import ConjunctionMask
from slicing.discover.predicates import Predicate, PredicateSpace
from slicing.discover.refine import RefineRows
from slicing.discover.search_data import SearchData

__all__ = ["DaskSearchData", "with_error_column"]

Encoded = tuple[np.ndarray, np.ndarray]


def _error_summary(frame: pd.DataFrame, column: str) -> tuple[int, float, bool, str]:
    """Rows, error sum, whether all errors are 0/1, and the first bad value (or "")."""
    values = frame[column].to_numpy()
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        return len(values), 0.0, False, f"dtype {values.dtype}"
    values = values.astype(np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        return len(values), 0.0, False, repr(float(values[np.flatnonzero(bad)[0]]))
    binary = bool(np.isin(values, (0.0, 1.0)).all())
    return len(values), float(values.sum()), binary, ""


def _encode(frame: pd.DataFrame, space: PredicateSpace, column: str) -> Encoded:
    return space.encode(frame), frame[column].to_numpy(dtype=np.float64)


def _aggregate(
    encoded: Encoded,
    feature_tuples: np.ndarray,
    cardinalities: np.ndarray,
    binary: bool,
    with_maxima: bool,
) -> BucketStats:
    codes, errors = encoded
    return aggregate_buckets(
        codes, errors, feature_tuples, cardinalities, binary, with_maxima
    )


def _partition_classes(frame: pd.DataFrame, golds: str, preds: str) -> set[Any]:
    labels = np.concatenate(
        [np.unique(frame[golds].to_numpy()), np.unique(predicted_labels(frame[preds]))]
    )
    return set(labels.tolist())


def _partition_errors(
    frame: pd.DataFrame, golds: str, preds: str, error_type: str, target_class: Any
) -> pd.Series:
    values = error_indicator(
        frame[golds], frame[preds], error_type=error_type, target_class=target_class
    )
    return pd.Series(values, index=frame.index, name=ERROR_COLUMN)


def with_error_column(
    frame: Any,
    golds: Any,
    preds: Any,
    error_type: str,
    target_class: Any,
    scheduler: Any,
) -> tuple[Any, Any]:
    """The Dask frame with an ``ERROR_COLUMN`` of ``error_type`` errors, and the class.

    Without ``target_class``, one pass collects the classes to default it.
    """
    for name, column in [("golds", golds), ("preds", preds)]:
        if not isinstance(column, str) or column not in frame.columns:
            raise TypeError(
                f"on a Dask DataFrame, {name} must be the name of a column; got "
                f"{column!r} (columns: {list(frame.columns)})"
            )
    if error_type != "any" and target_class is None:
        classes = dask.delayed(_partition_classes, pure=True)
        parts = compute(
            [classes(part, golds, preds) for part in frame.to_delayed()], scheduler
        )
        target_class = resolve_target_class(set().union(*parts), None, error_type)
    errors = frame.map_partitions(
        _partition_errors,
        golds,
        preds,
        error_type,
        target_class,
        meta=(ERROR_COLUMN, "f8"),
    )
    return frame.assign(**{ERROR_COLUMN: errors}), target_class


def _conjunction_stats(
    frame: pd.DataFrame, masks: list[ConjunctionMask], column: str
) -> np.ndarray:
    errors = frame[column].to_numpy(dtype=np.float64)
    stats = np.zeros((len(masks), 3))
    for index, mask in enumerate(masks):
        inside = errors[mask(frame)]
        stats[index] = [inside.size, inside.sum(), (inside**2).sum()]
    return stats


def _add_arrays(parts: list[np.ndarray]) -> np.ndarray:
    return functools.reduce(np.add, parts)


def _sum_stats(parts: list[BucketStats]) -> BucketStats:
    return functools.reduce(combine_stats, parts)


class DaskSearchData(SearchData):
    """A Dask DataFrame with an error column, searched with one pass per level.

    Parameters
    ----------
    frame
        The data, with the errors in column ``errors``.
    errors
        Name of the error column (0/1 errors or non-negative losses).
    scheduler
        ``"threads"``, ``"processes"``, ``"synchronous"``, a
        ``distributed.Client``, or ``None`` for Dask's default.
    sample_rows
        Rows sampled to build predicates.
    """

    def __init__(
        self, frame: Any, errors: Any, scheduler: Any, sample_rows: int
    ) -> None:
        if not isinstance(errors, str):
            raise TypeError(
                "on a Dask DataFrame, errors must be the name of a column; got "
                f"{type(errors).__name__}"
            )
        if errors not in frame.columns:
            raise KeyError(
                f"errors column {errors!r} is not in the frame; it has "
                f"{list(frame.columns)}"
            )
        self.frame = frame
        self.error_column = errors
        self.scheduler = scheduler
        self.sample_rows = sample_rows
        self.columns = list(frame.columns)
        self._partitions = frame.to_delayed()
        summary = dask.delayed(_error_summary, pure=True)
        summaries = compute(
            [summary(p, errors) for p in self._partitions], self.scheduler
        )
        bad = [note for *_, note in summaries if note]
        if bad:
            raise ValueError(
                f"errors column {errors!r} must hold finite non-negative numbers; "
                f"got {bad[0]}"
            )
        self.n_rows = sum(rows for rows, *_ in summaries)
        if self.n_rows == 0:
            raise ValueError("the DataFrame is empty: there are no rows to search")
        self.mean_error = sum(total for _, total, *_ in summaries) / self.n_rows
        self.binary = all(binary for _, _, binary, _ in summaries)
        self._sample: pd.DataFrame | None = None

    def predicate_frame(self) -> pd.DataFrame:
        if self._sample is None:
            share = min(1.0, self.sample_rows / self.n_rows)
            sampled = (
                self.frame
                if share >= 1
                else self.frame.sample(frac=share, random_state=0)
            )
            [self._sample] = compute([sampled], self.scheduler)
        return self._sample

    def sample_share(self) -> float:
        return len(self.predicate_frame()) / self.n_rows

    def evaluator(self, space: PredicateSpace, progress: tqdm) -> Evaluator:
        encode = dask.delayed(_encode, pure=True)
        encoded = persist(
            [encode(part, space, self.error_column) for part in self._partitions],
            self.scheduler,
        )
        aggregate = dask.delayed(_aggregate, pure=True)

        def evaluate(feature_tuples: np.ndarray, with_maxima: bool) -> BucketStats:
            progress.total += len(feature_tuples)
            progress.refresh()
            parts = [
                aggregate(
                    chunk, feature_tuples, space.cardinalities, self.binary, with_maxima
                )
                for chunk in encoded
            ]
            [total] = compute([tree_reduce(parts, _sum_stats, 2)], self.scheduler)
            progress.update(len(feature_tuples))
            return total

        return evaluate

    def refine_rows(self, space: PredicateSpace, params: LatticeParams) -> RefineRows:
        """The sampled rows: thresholds move on them, exact statistics come after."""
        sample = self.predicate_frame()
        errors = sample[self.error_column].to_numpy(dtype=np.float64)
        share = len(sample) / self.n_rows
        return RefineRows(
            sample,
            space.encode(sample),
            errors,
            space,
            len(sample),
            float(errors.mean()) if len(errors) else 0.0,
            params.min_support * share,
            params.alpha,
            params.max_level,
        )

    def conjunction_stats(
        self, conjunctions: list[tuple[Predicate, ...]], rows: RefineRows
    ) -> np.ndarray:
        """One pass over all rows for the statistics of every conjunction at once."""
        if not conjunctions:
            return np.zeros((0, 3))
        masks = [ConjunctionMask(predicates) for predicates in conjunctions]
        stats = dask.delayed(_conjunction_stats, pure=True)
        parts = [stats(part, masks, self.error_column) for part in self._partitions]
        [total] = compute([tree_reduce(parts, _add_arrays, 8)], self.scheduler)
        return total
