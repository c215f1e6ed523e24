"""Slice statistics for every combination of predicates on a few features, by bincount.

For a tuple of features ``(f1, ..., fL)`` each row has one *bucket*: the mixed-radix
number of its codes (the "none" code included). One ``np.bincount`` per statistic then
gives size, error sum (and sum of squared errors) of every conjunction of one
predicate per feature, in ``O(rows)``. Chunks (Dask partitions) are aggregated one by
one and their results added up (maxima are combined by ``max``).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["BucketStats", "aggregate_buckets", "bucket_sizes", "combine_stats"]


@dataclass
class BucketStats:
    """Statistics of the buckets of several feature tuples, concatenated.

    ``offsets[t]`` is where tuple ``t``'s buckets start. ``squares`` is ``None`` when
    errors are 0/1 (it would equal ``sums``); ``maxima`` is only computed on demand.
    """

    offsets: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray | None
    maxima: np.ndarray | None


def bucket_sizes(feature_tuples: np.ndarray, cardinalities: np.ndarray) -> np.ndarray:
    """Number of buckets of each feature tuple: product of (predicates + 1)."""
    return np.prod(cardinalities[feature_tuples] + 1, axis=1)


def aggregate_buckets(
    codes: np.ndarray,
    errors: np.ndarray,
    feature_tuples: np.ndarray,
    cardinalities: np.ndarray,
    binary: bool,
    with_maxima: bool = False,
) -> BucketStats:
    """Size, error sum (and squares, maxima) of every bucket of every feature tuple.

    Parameters
    ----------
    codes
        ``(n, features)`` code matrix of the rows (see ``PredicateSpace.encode``).
    errors
        ``(n,)`` non-negative errors or losses.
    feature_tuples
        ``(T, L)`` feature indices, increasing along each row.
    cardinalities
        Predicates per feature.
    binary
        Errors are 0/1, so squared errors need no pass of their own.
    with_maxima
        Also compute the largest error per bucket (slower: ``np.maximum.at``).

    Examples
    --------
    >>> codes = np.array([[0, 1], [0, 0], [1, 0]])
    >>> stats = aggregate_buckets(codes, np.array([1.0, 0.0, 1.0]), np.array([[0, 1]]),
    ...                           np.array([2, 2]), binary=True)
    >>> stats.counts.reshape(3, 3).tolist()   # rows: code of feature 0
    [[1, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    sizes = bucket_sizes(feature_tuples, cardinalities)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    total = int(sizes.sum())
    counts = np.zeros(total, dtype=np.int64)
    sums = np.zeros(total, dtype=np.float64)
    squares = None if binary else np.zeros(total, dtype=np.float64)
    maxima = np.zeros(total, dtype=np.float64) if with_maxima else None
    errors = np.asarray(errors, dtype=np.float64)
    squared_errors = None if binary else errors**2
    prefix: tuple[int, ...] | None = None
    prefix_keys = np.zeros(0, dtype=np.int64)
    for index, features in enumerate(feature_tuples):
        # Tuples come sorted, so neighbours often share all but the last feature.
        if tuple(features[:-1]) != prefix:
            prefix = tuple(features[:-1])
            prefix_keys = tuple_keys(codes, features[:-1], cardinalities)
        keys = prefix_keys * (int(cardinalities[features[-1]]) + 1)
        keys += codes[:, features[-1]]
        start, size = offsets[index], sizes[index]
        window = slice(start, start + size)
        counts[window] = np.bincount(keys, minlength=size)
        sums[window] = np.bincount(keys, weights=errors, minlength=size)
        if squares is not None:
            squares[window] = np.bincount(keys, weights=squared_errors, minlength=size)
        if maxima is not None:
            bucket_maxima = np.zeros(size, dtype=np.float64)
            np.maximum.at(bucket_maxima, keys, errors)
            maxima[window] = bucket_maxima
    return BucketStats(offsets, counts, sums, squares, maxima)


def tuple_keys(
    codes: np.ndarray, features: np.ndarray, cardinalities: np.ndarray
) -> np.ndarray:
    """Bucket of each row for one feature tuple (mixed radix, first feature slowest)."""
    keys = np.zeros(codes.shape[0], dtype=np.int64)
    for feature in features:
        keys *= int(cardinalities[feature]) + 1
        keys += codes[:, feature]
    return keys


def predicate_keys(
    local_codes: np.ndarray, features: np.ndarray, cardinalities: np.ndarray
) -> np.ndarray:
    """Bucket of conjunctions given their predicates' codes ``(C, L)`` and features."""
    keys = np.zeros(local_codes.shape[0], dtype=np.int64)
    for position in range(local_codes.shape[1]):
        keys *= cardinalities[features[:, position]] + 1
        keys += local_codes[:, position]
    return keys


def combine_stats(left: BucketStats, right: BucketStats) -> BucketStats:
    """Add up the statistics of two chunks (same feature tuples)."""

    def add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        return None if a is None or b is None else a + b

    maxima = None
    if left.maxima is not None and right.maxima is not None:
        maxima = np.maximum(left.maxima, right.maxima)
    return BucketStats(
        left.offsets,
        left.counts + right.counts,
        left.sums + right.sums,
        add(left.squares, right.squares),
        maxima,
    )
