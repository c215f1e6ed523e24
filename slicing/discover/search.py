"""``find_slices``: the slices where a model errs most, as SF-ready conjunctions.

SliceLine-style search (Sagadeeva and Boehm, SIGMOD 2021) over conjunctions of up
to ``max_level`` predicates on tabular columns (see :mod:`slicing.discover.lattice`
for the pruning), on a pandas DataFrame in memory or on a Dask DataFrame with one
pass over the data per level.
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
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
from slicing.discover.naming import identifier_name, readable_name
from slicing.discover.predicates import PredicateSpace, build_predicate_space
from slicing.discover.result import DiscoveredSlice, DiscoveryResult
from slicing.discover.scoring import error_interval
from slicing.discover.to_sfs import ConjunctionMask

__all__ = ["find_slices"]

TUPLES_PER_UPDATE = 8


def find_slices(
    data: Any,
    errors: str | np.ndarray | pd.Series | Sequence[float],
    space: PredicateSpace | None = None,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    n_bins: int = 5,
    min_support: int | float = 0.01,
    max_level: int = 3,
    top_k: int = 10,
    error_weight: float = 0.98,
    drop_redundant: bool = True,
    confidence: float = 0.95,
    progress_bar: bool = True,
    scheduler: Any = None,
    sample_rows: int = 100_000,
) -> DiscoveryResult:
    """Find the ``top_k`` conjunctions of predicates where errors concentrate.

    Slices are ranked by SliceLine's score
    ``alpha * (slice_error / mean_error - 1) - (1 - alpha) * (n / size - 1)``
    (``alpha = error_weight``); only slices with a positive score, at least
    ``min_support`` rows and a predicate on each feature at most once are returned.
    The result equals an exhaustive enumeration of all such conjunctions (in rank
    order, skipping redundant ones if ``drop_redundant``).

    Parameters
    ----------
    data
        A pandas or Dask DataFrame.
    errors
        Per-row error (0/1) or loss (any non-negative number): the name of a column
        of ``data`` (required for Dask; the column is not used as a feature) or an
        array of length ``len(data)``.
    space
        Predicates to combine; built from ``data`` by
        :func:`~slicing.discover.predicates.build_predicate_space` with ``columns``,
        ``text_columns``, ``n_bins`` and ``min_count=min_support`` if ``None``.
    columns, text_columns, n_bins
        Passed to ``build_predicate_space`` when ``space`` is ``None``.
    min_support
        Fewest rows in a slice: a count, or a fraction of the rows if below 1.
    max_level
        Most predicates in a conjunction.
    top_k
        Number of slices returned.
    error_weight
        ``alpha`` in (0, 1]: 1 ranks by error alone, lower values favour larger
        slices. A slice of share ``s`` needs an error above
        ``1 + (1 - alpha) / alpha * (1 / s - 1)`` times the mean to score positive:
        with the default 0.98, about 3 times for 1% of the rows, 2 times for 2%.
    drop_redundant
        Leave out a slice when a more general one (a subset of its predicates)
        ranks above it, so that the top k are not variations of one slice.
        ``False`` gives SliceLine's ranking exactly.
    confidence
        Level of the error intervals of the statistics rows.
    progress_bar
        Show a tqdm bar counting the evaluated feature combinations.
    scheduler
        Dask only: a scheduler name (``"threads"``, ``"processes"``,
        ``"synchronous"``) or a ``distributed.Client``; Dask's default if ``None``.
    sample_rows
        Dask only: rows sampled to build the predicates (bins and values) when
        ``space`` is ``None``; statistics are always computed on all rows.

    Returns
    -------
    DiscoveryResult
        Slices best first; ``.table()`` gives their statistics, ``.to_sfs()``
        vectorized SFs.

    Raises
    ------
    TypeError
        If ``data`` is not a pandas or Dask DataFrame.
    ValueError
        On errors of the wrong length or with negative or missing values, or
        parameters out of range.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"video": rng.integers(1, 6, 2000),
    ...                    "n_words": rng.integers(1, 40, 2000)})
    >>> hard = (df.video == 5) & (df.n_words < 8)
    >>> errors = rng.random(2000) < np.where(hard, 0.6, 0.05)
    >>> result = find_slices(df, errors, top_k=3, progress_bar=False)
    >>> result[0].name
    'video=5 & n_words<8'
    >>> result.table()[["size", "error", "error_lift"]].round(2).iloc[0].tolist()
    [89.0, 0.65, 8.3]
    >>> sf = result[0].to_sf()
    >>> int(sf.apply_to_frame(df).sum())
    89
    """
    is_dask = type(data).__module__.split(".")[0] == "dask"
    if not is_dask and not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"expected a pandas or Dask DataFrame; got {type(data).__name__}"
        )
    _check_parameters(max_level, top_k, error_weight, confidence)
    if is_dask:
        from slicing.discover.dask_search import DaskSearchData

        prepared: SearchData = DaskSearchData(data, errors, scheduler, sample_rows)
    else:
        prepared = PandasSearchData(data, errors)
    support = _support_count(min_support, prepared.n_rows)
    if space is None:
        feature_columns = columns
        if feature_columns is None and isinstance(errors, str):
            feature_columns = [
                c for c in prepared.columns if c != errors and c not in text_columns
            ]
        space = build_predicate_space(
            prepared.predicate_frame(),
            columns=feature_columns,
            text_columns=text_columns,
            n_bins=n_bins,
            # Sampled rows hold fewer of each value; halve the bar to keep rare ones.
            min_count=max(1, int(support * prepared.sample_share() / 2)),
        )
    if len(space.predicates) ** max_level >= 2**62:
        raise ValueError(
            f"max_level={max_level} is too deep for {len(space.predicates)} "
            "predicates; lower max_level or build a smaller PredicateSpace"
        )
    params = LatticeParams(
        prepared.n_rows,
        prepared.mean_error,
        support,
        max_level,
        top_k,
        error_weight,
        drop_redundant,
    )
    return prepared.search(space, params, confidence, progress_bar)


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


def _check_parameters(
    max_level: int, top_k: int, error_weight: float, confidence: float
) -> None:
    for name, value in [("max_level", max_level), ("top_k", top_k)]:
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    if not 0 < error_weight <= 1:
        raise ValueError(f"error_weight must be in (0, 1]; got {error_weight!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")


def _support_count(min_support: int | float, n_rows: int) -> int:
    if isinstance(min_support, bool) or not isinstance(
        min_support, int | float | np.integer | np.floating
    ):
        raise TypeError(
            f"min_support must be a count or a fraction; got {type(min_support).__name__}"
        )
    if min_support <= 0:
        raise ValueError(f"min_support must be positive; got {min_support!r}")
    if min_support < 1:
        return max(1, math.ceil(min_support * n_rows))
    return int(min_support)


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
