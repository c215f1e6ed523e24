"""Scores of every (low, high) range on one column of a slice, and which are allowed.

The rows a slice's other predicates select fall into intervals between candidate
cut points; cumulative counts and error sums give the size and SliceLine score of
every range of intervals at once. Used by :mod:`slicing.discover.refine`.
"""

import math

import numpy as np

from slicing.discover.scoring import sliceline_score

__all__ = ["DROP_Z", "END_Z", "MIN_GAIN", "best_pair", "pair_score_now"]

#: A range ends only where the error beyond it is this many standard errors lower.
END_Z = 5.0
#: A range drops rows of its current extent only where their error is this much lower.
DROP_Z = 3.0
#: A move must raise the score by more than this (guards against float ties).
MIN_GAIN = 1e-12


class _Rows:
    """What the functions read of ``RefineRows`` (typing only)."""

    n_rows: int
    mean_error: float
    min_support: float
    alpha: float


def best_pair(
    interval: np.ndarray,
    errors: np.ndarray,
    n_cuts: int,
    rows: "_Rows",
    now: tuple[int, int],
    score_now: float | None,
) -> tuple[int, int, float] | None:
    """The allowed (low, high) cut indices scoring best, if above the current score.

    A pair is allowed when it keeps at least ``min_support`` rows and some error,
    bounds at least one end, each bounded end is *justified* (the rows just beyond
    it, as many as the slice holds or all there are, have a mean error
    significantly below the slice's: one-sided z-test at ``END_Z``), and so is each
    block of the current range that it drops (at ``DROP_Z``). Without this, a range would stop
    wherever noise makes a few rows look better to leave out (at alpha 0.98 the
    score is nearly the error rate, so any slightly better-looking edge wins).
    """

    def totals(weights: np.ndarray | None) -> np.ndarray:
        per_interval = np.bincount(interval, weights=weights, minlength=n_cuts + 1)
        return np.concatenate([[0.0], np.cumsum(per_interval)])

    counts, sums = totals(None), totals(errors)
    lows, highs = np.triu_indices(n_cuts + 2, k=1)
    keep = lows <= n_cuts
    keep &= ~((lows == 0) & (highs == n_cuts + 1))
    lows, highs = lows[keep], highs[keep]
    sizes = counts[highs] - counts[lows]
    error_sums = sums[highs] - sums[lows]
    supported = (sizes >= rows.min_support) & (error_sums > 0)
    lows, highs, sizes, error_sums = (
        lows[supported],
        highs[supported],
        sizes[supported],
        error_sums[supported],
    )
    scores = sliceline_score(
        sizes, error_sums, rows.n_rows, rows.mean_error, rows.alpha
    )
    if score_now is None:
        score_now = pair_score_now(interval, errors, now, rows, None)
    better = np.flatnonzero(scores > score_now + MIN_GAIN)
    if len(better) == 0:
        return None
    lows, highs, sizes, error_sums, scores = (
        lows[better],
        highs[better],
        sizes[better],
        error_sums[better],
        scores[better],
    )
    squares = totals(errors**2)
    square_sums = squares[highs] - squares[lows]
    justified = np.ones(len(lows), dtype=np.bool_)
    below_start = np.searchsorted(counts, counts[lows] - sizes, side="right") - 1
    above_end = np.searchsorted(counts, counts[highs] + sizes, side="left")
    low_now, high_now = now
    for must, start, end, is_dropped in (
        # The blocks beyond the low end and beyond the high end: must be lower.
        (lows > 0, np.maximum(below_start, 0), lows, False),
        (highs <= n_cuts, highs, np.minimum(above_end, n_cuts + 1), False),
        # The blocks of the current range the pair drops: must be lower too.
        (lows > low_now, low_now, np.clip(lows, low_now, high_now), True),
        (highs < high_now, np.clip(highs, low_now, high_now), high_now, True),
    ):
        block_sizes = counts[end] - counts[start]
        block_sums = sums[end] - sums[start]
        block_squares = squares[end] - squares[start]
        lower = (block_sizes > 0) & _significantly_lower(
            block_sizes,
            block_sums,
            block_squares,
            sizes,
            error_sums,
            square_sums,
            DROP_Z if is_dropped else END_Z,
        )
        if is_dropped:
            lower |= block_sizes == 0
        justified &= ~must | lower
    if not justified.any():
        return None
    best = np.flatnonzero(justified)[np.argmax(scores[justified])]
    return int(lows[best]), int(highs[best]), float(scores[best])


def pair_score_now(
    interval: np.ndarray,
    errors: np.ndarray,
    now: tuple[int, int],
    rows: "_Rows",
    score_now: float | None,
) -> float:
    """Score of the current range (``score_now`` when given)."""
    if score_now is not None:
        return score_now
    inside = (interval >= now[0]) & (interval < now[1])
    size = int(inside.sum())
    if size == 0:
        return -math.inf
    return float(
        sliceline_score(
            np.array([size]),
            np.array([errors[inside].sum()]),
            rows.n_rows,
            rows.mean_error,
            rows.alpha,
        )[0]
    )


def _significantly_lower(
    block_sizes: np.ndarray,
    block_sums: np.ndarray,
    block_squares: np.ndarray,
    sizes: np.ndarray,
    sums: np.ndarray,
    squares: np.ndarray,
    z: float,
) -> np.ndarray:
    """Whether a block's mean error is below the slice's by ``z`` standard errors."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_size = block_sizes + sizes
        pooled_mean = (block_sums + sums) / pooled_size
        variance = np.maximum(
            (block_squares + squares) / pooled_size - pooled_mean**2, 0
        )
        gap = sums / sizes - block_sums / block_sizes
        spread = np.sqrt(variance * (1 / block_sizes + 1 / sizes))
        return np.where(spread > 0, gap >= z * spread, gap > 0)
