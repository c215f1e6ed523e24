"""Confidence intervals: closed forms (Wilson, DeLong) and vectorized bootstrap."""

from collections.abc import Iterator
from statistics import NormalDist

import numpy as np

__all__ = [
    "bootstrap_percentile_interval",
    "delong_interval",
    "resample_rows",
    "wilson_interval",
]


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")


def _z(confidence: float) -> float:
    _check_confidence(confidence)
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions, elementwise; NaN where ``trials == 0``.

    Unlike the normal approximation, the Wilson interval stays inside [0, 1] and keeps
    its coverage for small samples and proportions near 0 or 1, which is exactly the
    situation of a small slice with a good model.

    Parameters
    ----------
    successes
        Number of successes (e.g. correct predictions), any shape.
    trials
        Number of trials, same shape as ``successes``.
    confidence
        Confidence level in (0, 1).

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Lower and upper bounds.

    Examples
    --------
    >>> low, high = wilson_interval(np.array([9]), np.array([10]))
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.596, 0.982)
    """
    z = _z(confidence)
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = successes / trials
        denominator = 1 + z**2 / trials
        center = (share + z**2 / (2 * trials)) / denominator
        half_width = (
            z * np.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2))
        ) / denominator
    empty = trials <= 0
    low = np.where(empty, np.nan, np.clip(center - half_width, 0.0, 1.0))
    high = np.where(empty, np.nan, np.clip(center + half_width, 0.0, 1.0))
    return low, high


def delong_interval(
    positive: np.ndarray, scores: np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Normal interval for ROC AUC with DeLong's variance, in ``O(n log n)``.

    DeLong et al. (1988): each positive's share of negatives scored below it (ties
    count half) and each negative's share of positives scored above it give the
    AUC (their mean) and its variance, without resampling. NaN when a class has
    fewer than two rows.

    Parameters
    ----------
    positive
        Bool array, True for rows of the positive class.
    scores
        Scores (e.g. the positive-class probability), same length.
    confidence
        Confidence level in (0, 1).

    Returns
    -------
    tuple[float, float]
        Lower and upper bounds, clipped to [0, 1].

    Examples
    --------
    >>> low, high = delong_interval(np.array([0, 0, 1, 1, 0, 1], bool),
    ...                             np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9]))
    >>> round(low, 3), round(high, 3)
    (0.581, 1.0)
    """
    z = _z(confidence)
    positive = np.asarray(positive, dtype=np.bool_)
    scores = np.asarray(scores, dtype=np.float64)
    positive_scores, negative_scores = scores[positive], scores[~positive]
    n_pos, n_neg = positive_scores.size, negative_scores.size
    if n_pos < 2 or n_neg < 2:
        return float("nan"), float("nan")
    sorted_neg, sorted_pos = np.sort(negative_scores), np.sort(positive_scores)
    below = np.searchsorted(sorted_neg, positive_scores, "left")
    below_or_tied = np.searchsorted(sorted_neg, positive_scores, "right")
    pos_placements = (below + below_or_tied) / (2 * n_neg)
    above_or_tied = n_pos - np.searchsorted(sorted_pos, negative_scores, "left")
    above = n_pos - np.searchsorted(sorted_pos, negative_scores, "right")
    neg_placements = (above + above_or_tied) / (2 * n_pos)
    auc = pos_placements.mean()
    variance = pos_placements.var(ddof=1) / n_pos + neg_placements.var(ddof=1) / n_neg
    half_width = z * np.sqrt(variance)
    return float(max(auc - half_width, 0.0)), float(min(auc + half_width, 1.0))


def bootstrap_percentile_interval(
    resampled: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap replicates along the last axis, ignoring NaN.

    Replicates where the metric is undefined (NaN) are ignored; if all are, the
    bounds are NaN.

    Parameters
    ----------
    resampled
        Metric values of shape ``(..., n_resamples)``.
    confidence
        Confidence level in (0, 1).

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Lower and upper bounds, shape ``(...)``.

    Examples
    --------
    >>> low, high = bootstrap_percentile_interval(np.linspace(0, 1, 101), 0.9)
    >>> round(float(low), 2), round(float(high), 2)
    (0.05, 0.95)
    """
    _check_confidence(confidence)
    resampled = np.asarray(resampled, dtype=np.float64)
    tail = (1 - confidence) / 2
    defined = ~np.isnan(resampled).all(axis=-1)
    safe = np.where(defined[..., None], resampled, 0.0)
    low, high = np.nanquantile(safe, [tail, 1 - tail], axis=-1)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)


def resample_rows(
    n_rows: int,
    n_resamples: int,
    rng: np.random.Generator,
    max_cells: int = 4_000_000,
) -> Iterator[np.ndarray]:
    """Draw bootstrap row indices in bulk, a block of resamples at a time.

    Blocks hold at most ``max_cells`` indices (at least one resample), which bounds
    memory whatever the slice size.

    Parameters
    ----------
    n_rows
        Rows to resample from.
    n_resamples
        Total number of resamples.
    rng
        Random generator (seeded by the caller).
    max_cells
        Largest number of indices in one block.

    Yields
    ------
    np.ndarray
        Indices of shape ``(block, n_rows)``; the blocks add up to ``n_resamples``.

    Examples
    --------
    >>> blocks = list(resample_rows(3, 5, np.random.default_rng(0), max_cells=6))
    >>> [block.shape for block in blocks]
    [(2, 3), (2, 3), (1, 3)]
    """
    block = max(1, max_cells // max(n_rows, 1))
    for start in range(0, n_resamples, block):
        yield rng.integers(0, n_rows, size=(min(block, n_resamples - start), n_rows))
