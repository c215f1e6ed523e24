"""SliceLine's slice score, its upper bound for pruning, and the error interval.

Score (Sagadeeva and Boehm, *SliceLine*, SIGMOD 2021) of a slice with ``size`` rows
and summed error ``error_sum``, in data of ``n_rows`` rows with mean error
``mean_error``, for error weight ``alpha`` in (0, 1]::

    alpha * (slice_error / mean_error - 1) - (1 - alpha) * (n_rows / size - 1)

Positive when the slice's error is above average by more than its smallness costs.
"""

from statistics import NormalDist

import numpy as np

from slicing.intervals import wilson_interval

__all__ = ["error_interval", "score_upper_bound", "sliceline_score"]


def sliceline_score(
    size: np.ndarray,
    error_sum: np.ndarray,
    n_rows: int,
    mean_error: float,
    alpha: float,
) -> np.ndarray:
    """SliceLine score, elementwise; ``-inf`` for empty slices.

    Examples
    --------
    >>> sliceline_score(np.array([10, 0]), np.array([5.0, 0.0]), 100, 0.1, 1.0)
    array([  4., -inf])
    """
    size = np.asarray(size, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = alpha * (error_sum / size / mean_error - 1) - (1 - alpha) * (
            n_rows / size - 1
        )
    return np.where(size > 0, score, -np.inf)


def score_upper_bound(
    size_bound: np.ndarray,
    error_bound: np.ndarray,
    max_error_bound: np.ndarray,
    min_support: int,
    n_rows: int,
    mean_error: float,
    alpha: float,
) -> np.ndarray:
    """Largest score any sub-slice can reach, given bounds on its statistics.

    A sub-slice has ``min_support <= size <= size_bound``, summed error at most
    ``error_bound`` and at most ``size * max_error_bound``. Its score, as a function
    of its size, rises until ``size = error_bound / max_error_bound`` and is monotone
    after it, so the maximum is at ``min_support``, that point (clipped into the
    range) or ``size_bound``. ``-inf`` where the range is empty.

    Examples
    --------
    >>> bound = score_upper_bound(np.array([50]), np.array([10.0]), np.array([1.0]),
    ...                           10, 100, 0.1, 1.0)
    >>> float(bound[0])   # ten rows, all errors: 1 / 0.1 - 1
    9.0
    """
    size_bound = np.asarray(size_bound, dtype=np.float64)
    error_bound = np.asarray(error_bound, dtype=np.float64)
    max_error_bound = np.asarray(max_error_bound, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        turning = np.where(
            max_error_bound > 0, error_bound / max_error_bound, min_support
        )
    turning = np.clip(turning, min_support, np.maximum(size_bound, min_support))
    candidates = np.stack([np.full_like(size_bound, min_support), turning, size_bound])
    errors = np.minimum(error_bound, candidates * max_error_bound)
    scores = alpha * (errors / candidates / mean_error - 1) - (1 - alpha) * (
        n_rows / candidates - 1
    )
    return np.where(size_bound >= min_support, scores.max(axis=0), -np.inf)


def error_interval(
    size: np.ndarray,
    error_sum: np.ndarray,
    error_squares: np.ndarray,
    binary: bool,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of the mean error in each slice.

    Wilson score interval when errors are 0/1 (``binary``); otherwise the normal
    approximation ``mean +- z * sd / sqrt(size)`` from the sums of errors and of
    squared errors, clipped at 0.

    Examples
    --------
    >>> low, high = error_interval(np.array([10]), np.array([1.0]), np.array([1.0]),
    ...                            binary=True)
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.018, 0.404)
    """
    size = np.asarray(size, dtype=np.float64)
    if binary:
        return wilson_interval(np.asarray(error_sum), size, confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = error_sum / size
        variance = np.maximum(error_squares / size - mean**2, 0.0)
        half_width = z * np.sqrt(variance / size)
    return np.maximum(mean - half_width, 0.0), mean + half_width
