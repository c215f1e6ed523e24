"""The data a slice search runs over: overall error figures, predicates, an evaluator.

:class:`SearchData` is the interface; :class:`PandasSearchData` searches a DataFrame in
memory and :class:`slicing.discover.dask_search.DaskSearchData` a Dask DataFrame.
"""

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from slicing.discover.aggregate import BucketStats, aggregate_buckets
from slicing.discover.lattice import (
    Evaluator,
    LatticeParams,
    SliceTable,
    search_lattice,
)
from slicing.discover.masks import ConjunctionMask
from slicing.discover.naming import identifier_name, readable_name
from slicing.discover.predicates import PredicateSpace
from slicing.discover.result import DiscoveredSlice, DiscoveryResult
from slicing.discover.scoring import error_interval

__all__ = ["PandasSearchData", "SearchData", "concat_stats", "validate_errors"]

TUPLES_PER_UPDATE = 8


class SearchData(ABC):
    """Data to search: overall error figures, predicate building and the evaluator."""

    n_rows: int
    mean_error: float
    binary: bool
    columns: list[str]

    @abstractmethod
    def predicate_frame(self) -> pd.DataFrame:
        """Rows to build predicates from."""

    def sample_share(self) -> float:
        """Share of all rows that ``predicate_frame`` holds."""
        return 1.0

    @abstractmethod
    def evaluator(self, space: PredicateSpace, progress: tqdm) -> Evaluator:
        """Function from feature tuples to their bucket statistics."""

    def search(
        self,
        space: PredicateSpace,
        params: LatticeParams,
        confidence: float,
        progress_bar: bool,
    ) -> DiscoveryResult:
        """Run the lattice search and turn its top slices into a result."""
        if self.mean_error == 0:
            return DiscoveryResult([], self.n_rows, 0.0)
        with tqdm(
            total=0, unit="combinations", disable=not progress_bar, desc="slices"
        ) as progress:
            best = search_lattice(self.evaluator(space, progress), space, params)
        return _to_result(
            best, space, self.n_rows, self.mean_error, self.binary, confidence
        )


class PandasSearchData(SearchData):
    """A pandas DataFrame and its errors, encoded once and searched in memory."""

    def __init__(self, frame: pd.DataFrame, errors: Any) -> None:
        if len(frame) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to search")
        self.frame = frame
        self.errors = validate_errors(errors, frame)
        self.n_rows = len(frame)
        self.mean_error = float(self.errors.mean())
        self.binary = bool(np.isin(self.errors, (0.0, 1.0)).all())
        self.columns = list(frame.columns)

    def predicate_frame(self) -> pd.DataFrame:
        return self.frame

    def evaluator(self, space: PredicateSpace, progress: tqdm) -> Evaluator:
        codes = space.encode(self.frame)

        def evaluate(feature_tuples: np.ndarray, with_maxima: bool) -> BucketStats:
            progress.total += len(feature_tuples)
            progress.refresh()
            parts = []
            for start in range(0, len(feature_tuples), TUPLES_PER_UPDATE):
                chunk = feature_tuples[start : start + TUPLES_PER_UPDATE]
                parts.append(
                    aggregate_buckets(
                        codes,
                        self.errors,
                        chunk,
                        space.cardinalities,
                        self.binary,
                        with_maxima,
                    )
                )
                progress.update(len(chunk))
            return concat_stats(parts)

        return evaluate


def concat_stats(parts: list[BucketStats]) -> BucketStats:
    """Statistics of consecutive groups of feature tuples, as one ``BucketStats``."""
    sizes = [len(part.counts) for part in parts]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def join(arrays: list[np.ndarray | None]) -> np.ndarray | None:
        if any(array is None for array in arrays):
            return None
        return np.concatenate(arrays)  # type: ignore[arg-type]

    return BucketStats(
        np.concatenate([part.offsets + start for part, start in zip(parts, starts)]),
        np.concatenate([part.counts for part in parts]),
        np.concatenate([part.sums for part in parts]),
        join([part.squares for part in parts]),
        join([part.maxima for part in parts]),
    )


def validate_errors(errors: Any, frame: pd.DataFrame) -> np.ndarray:
    """Errors as a float array of ``len(frame)`` finite non-negative values."""
    if isinstance(errors, str):
        if errors not in frame.columns:
            raise KeyError(
                f"errors column {errors!r} is not in the frame; it has "
                f"{list(frame.columns)}"
            )
        errors = frame[errors]
    values = np.asarray(errors)
    if values.ndim != 1 or len(values) != len(frame):
        raise ValueError(
            f"errors must be one value per row: expected shape ({len(frame)},); got "
            f"shape {values.shape}"
        )
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise ValueError(
            f"errors must be bool or numeric (0/1 errors or losses); got dtype "
            f"{values.dtype}"
        )
    values = values.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise ValueError(
            f"errors must be finite and non-negative; got {float(values[bad[0]])!r} at row "
            f"{int(bad[0])} ({bad.size} such rows)"
        )
    return values


def _to_result(
    best: SliceTable,
    space: PredicateSpace,
    n_rows: int,
    mean_error: float,
    binary: bool,
    confidence: float,
) -> DiscoveryResult:
    squares = best.sums if best.squares is None else best.squares
    low, high = error_interval(best.sizes, best.sums, squares, binary, confidence)
    slices = []
    for row in range(len(best)):
        ids = best.predicates[row]
        predicates = [space.predicates[i] for i in ids[ids >= 0]]
        error = float(best.sums[row] / best.sizes[row])
        slices.append(
            DiscoveredSlice(
                name=readable_name(predicates),
                identifier=identifier_name(predicates),
                size=int(best.sizes[row]),
                error=error,
                error_low=float(low[row]),
                error_high=float(high[row]),
                error_lift=error / mean_error,
                score=float(best.scores[row]),
                level=len(predicates),
                mask=ConjunctionMask(predicates),
            )
        )
    return DiscoveryResult(slices, n_rows, mean_error)
