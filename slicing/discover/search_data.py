"""The data a slice search runs over: overall error figures, predicates, an evaluator.

:class:`SearchData` is the interface; :class:`PandasSearchData` searches a DataFrame in
memory and :class:`slicing.discover.dask_search.DaskSearchData` a Dask DataFrame.
"""

from abc import ABC, abstractmethod
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from slicing.discover.aggregate import BucketStats, aggregate_buckets
from slicing.discover.error_types import describe_errors
from slicing.discover.lattice import Evaluator, LatticeParams, search_lattice
from slicing.discover.masks import ConjunctionMask
from slicing.discover.naming import identifier_name, readable_name
from slicing.discover.predicates import Predicate, PredicateSpace
from slicing.discover.ranking import ScoredSlice, rank_slices, table_slices
from slicing.discover.refine import RefineRows, refine_conjunction
from slicing.discover.result import DiscoveredSlice, DiscoveryResult
from slicing.discover.scoring import error_interval, sliceline_score
from slicing.discover.seeds import SEED_POOL, SeedCollector

__all__ = ["PandasSearchData", "SearchData", "concat_stats", "validate_errors"]

TUPLES_PER_UPDATE = 8
#: With refinement, the lattice keeps this many times ``top_k`` slices to refine:
#: bins of one slice often refine to the same thresholds and merge.
REFINE_POOL = 3


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

    def refine_rows(self, space: PredicateSpace, params: LatticeParams) -> RefineRows:
        """Rows that refinement moves thresholds on (all rows, or a sample)."""
        raise NotImplementedError

    def conjunction_stats(
        self, conjunctions: list[tuple[Predicate, ...]], rows: RefineRows
    ) -> np.ndarray:
        """Exact ``(size, error sum, squared error sum)`` of each conjunction, on all rows."""
        raise NotImplementedError

    def search(
        self,
        space: PredicateSpace,
        params: LatticeParams,
        confidence: float,
        progress_bar: bool,
        refine: bool = False,
        error_type: str = "any",
        target_class: Any = None,
    ) -> DiscoveryResult:
        """Run the lattice search (and refinement), turn its top slices into a result."""
        kind = {"error_type": error_type, "target_class": target_class}
        if self.mean_error == 0:
            return DiscoveryResult([], self.n_rows, 0.0, **kind)
        lattice_params, seeds = params, None
        if refine:
            lattice_params = replace(params, top_k=REFINE_POOL * params.top_k)
            seeds = SeedCollector(SEED_POOL * params.top_k)
        with tqdm(
            total=0, unit="combinations", disable=not progress_bar, desc="slices"
        ) as progress:
            best = search_lattice(
                self.evaluator(space, progress), space, lattice_params, seeds
            )
        slices = table_slices(best, space)
        if seeds is not None:
            slices = self._refined(slices, seeds.slices(space), space, params)
        found = _to_slices(
            slices,
            self.mean_error,
            self.binary,
            confidence,
            describe_errors(error_type, target_class),
        )
        return DiscoveryResult(found, self.n_rows, self.mean_error, **kind)

    def _refined(
        self,
        slices: list[ScoredSlice],
        seeds: list[ScoredSlice],
        space: PredicateSpace,
        params: LatticeParams,
    ) -> list[ScoredSlice]:
        """Pool and seed slices with refined ranges where that scores higher, re-ranked.

        A refined slice replaces its start only if it scores higher on all rows;
        seeds that do not improve stay candidates with their own (exact) scores.
        """
        known = {item.predicates for item in slices}
        slices = slices + [item for item in seeds if item.predicates not in known]
        if not any(feature.kind == "range" for feature in space.features):
            return rank_slices(slices, params.top_k, params.drop_redundant)
        rows = self.refine_rows(space, params)
        if rows.mean_error == 0:
            return rank_slices(slices, params.top_k, params.drop_redundant, rows.mask)
        moved = {}
        for index, item in enumerate(slices):
            refined = refine_conjunction(item.predicates, rows)
            if refined != item.predicates:
                moved[index] = refined
        stats = self.conjunction_stats(list(moved.values()), rows)
        for (index, refined), (size, total, squares) in zip(moved.items(), stats):
            [score] = sliceline_score(
                np.array([size]),
                np.array([total]),
                self.n_rows,
                self.mean_error,
                params.alpha,
            )
            # Exact on all rows: keep the move only if it scores higher there.
            if size >= params.min_support and score > slices[index].score:
                slices[index] = ScoredSlice(
                    refined, int(size), float(total), float(squares), score
                )
        unsupported = partial(rows.score, supported=False)
        return rank_slices(
            slices, params.top_k, params.drop_redundant, rows.mask, unsupported
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

    def _codes(self, space: PredicateSpace) -> np.ndarray:
        if getattr(self, "_encoded", (None,))[0] is not space:
            self._encoded = (space, space.encode(self.frame))
        return self._encoded[1]

    def refine_rows(self, space: PredicateSpace, params: LatticeParams) -> RefineRows:
        return RefineRows(
            self.frame,
            self._codes(space),
            self.errors,
            space,
            self.n_rows,
            self.mean_error,
            params.min_support,
            params.alpha,
            params.max_level,
        )

    def conjunction_stats(
        self, conjunctions: list[tuple[Predicate, ...]], rows: RefineRows
    ) -> np.ndarray:
        stats = np.zeros((len(conjunctions), 3))
        for index, predicates in enumerate(conjunctions):
            inside = rows.mask(predicates)
            errors = self.errors[inside]
            stats[index] = [inside.sum(), errors.sum(), (errors**2).sum()]
        return stats

    def evaluator(self, space: PredicateSpace, progress: tqdm) -> Evaluator:
        codes = self._codes(space)

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


def _to_slices(
    slices: list[ScoredSlice],
    mean_error: float,
    binary: bool,
    confidence: float,
    describe: str,
) -> list[DiscoveredSlice]:
    low, high = error_interval(
        np.array([item.size for item in slices], dtype=np.float64),
        np.array([item.error_sum for item in slices]),
        np.array([item.error_squares for item in slices]),
        binary,
        confidence,
    )
    found = []
    for row, item in enumerate(slices):
        error = item.error_sum / item.size
        found.append(
            DiscoveredSlice(
                name=readable_name(item.predicates),
                identifier=identifier_name(item.predicates),
                size=item.size,
                error=error,
                error_low=float(low[row]),
                error_high=float(high[row]),
                error_lift=error / mean_error,
                score=item.score,
                level=len(item.predicates),
                mask=ConjunctionMask(item.predicates),
                description=describe,
            )
        )
    return found
