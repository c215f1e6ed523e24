"""Numeric thresholds that fit the data: refine the ranges of the top slices.

The lattice search cuts numeric columns into a few quantile bins, so a slice whose
true threshold falls inside a bin (``share >= 0.87``) is found only approximately
(``share >= 0.802``). Refinement takes each top slice and, range predicate by range
predicate, moves both ends over finer cut points (the distinct values of the column
among the rows the other predicates select, or ``MAX_CUTS`` of their quantiles),
the other predicates fixed: one histogram of those rows gives the SliceLine score
of every (low, high) pair at once (:mod:`slicing.discover.range_scores`), and the
best allowed pair replaces the current one only if it scores strictly higher. A
numeric column the slice does not test is a range open at both ends, so a round
may also add one range (up to ``max_predicates``). Rounds repeat until nothing
moves, so a refined slice never scores lower than the slice it started from.

An end is allowed only where the data supports it (the rows beyond it, and rows
it drops, have a significantly lower error), so ranges do not chase noise.

A chosen cut is a data value ``v``; any threshold between the next smaller value
among those rows and ``v`` selects the same rows, so the stored threshold is the
roundest number in that gap (``0.87`` rather than ``0.8700213``) and masks are
computed from the stored threshold.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicing.discover.predicates import (
    Predicate,
    PredicateSpace,
    _as_float,
    range_mask,
)
from slicing.discover.range_scores import best_pair, pair_score_now
from slicing.discover.scoring import sliceline_score

__all__ = ["MAX_CUTS", "RefineRows", "refine_conjunction", "round_cut"]

#: Most candidate cut points per range: quantiles at about 0.8% steps of the rows.
MAX_CUTS = 128
#: Rows sorted to pick cut points from (a strided sample of the slice's rows).
SORTED_ROWS = 50_000
#: Most rounds over a slice's ranges (each round moves every range once).
MAX_ROUNDS = 3


@dataclass
class RefineRows:
    """Rows to refine on, with their encoding and the score's parameters.

    Parameters
    ----------
    frame
        The rows (all of them on pandas, a sample on Dask).
    codes
        ``space.encode(frame)``: masks of the search's own predicates come from it.
    errors
        Error of each row.
    space
        The predicate space the search used.
    n_rows, mean_error
        Rows and mean error of ``frame`` (the score's reference).
    min_support
        Fewest rows of ``frame`` a refined slice may hold.
    alpha
        The score's error weight.
    max_predicates
        Most predicates a refined slice may hold (the search's ``max_level``).
    """

    frame: pd.DataFrame
    codes: np.ndarray
    errors: np.ndarray
    space: PredicateSpace
    n_rows: int
    mean_error: float
    min_support: float
    alpha: float
    max_predicates: int = 3

    def __post_init__(self) -> None:
        self._ids = {p: i for i, p in enumerate(self.space.predicates)}
        self._values: dict[str, np.ndarray] = {}

    def numeric_columns(self) -> list[str]:
        """Columns the space cuts into ranges: those refinement may add."""
        columns = [f.column for f in self.space.features if f.kind == "range"]
        return list(dict.fromkeys(columns))

    def score(self, inside: np.ndarray, supported: bool = True) -> float:
        """SliceLine score of the rows ``inside``.

        ``-inf`` for no rows, and with ``supported`` for fewer than ``min_support``.
        """
        size = int(inside.sum())
        if size == 0 or (supported and size < self.min_support):
            return -math.inf
        error_sum = np.array([self.errors[inside].sum()])
        return float(
            sliceline_score(
                np.array([size]), error_sum, self.n_rows, self.mean_error, self.alpha
            )[0]
        )

    def values(self, column: str) -> np.ndarray:
        """The column as floats (NaN where missing), computed once."""
        if column not in self._values:
            self._values[column] = _as_float(self.frame[column])
        return self._values[column]

    def predicate_mask(self, predicate: Predicate) -> np.ndarray:
        """Rows satisfying ``predicate``: from the codes for the space's predicates."""
        index = self._ids.get(predicate)
        if index is not None:
            feature = self.space.feature_of[index]
            return self.codes[:, feature] == self.space.local_code[index]
        if predicate.kind == "range":
            values = self.values(predicate.column)
            return range_mask(values, predicate.low, predicate.high)
        return predicate.mask(self.frame)

    def mask(self, predicates: Sequence[Predicate]) -> np.ndarray:
        """Rows satisfying every predicate (all rows for none)."""
        inside = np.ones(len(self.frame), dtype=np.bool_)
        for predicate in predicates:
            inside &= self.predicate_mask(predicate)
        return inside


def refine_conjunction(
    predicates: Sequence[Predicate], rows: RefineRows
) -> tuple[Predicate, ...]:
    """The conjunction with each range moved to where the slice scores best.

    Each round moves every range of the slice (both ends, the rest fixed), then, if
    the slice has fewer than ``rows.max_predicates`` predicates, adds the range on a
    numeric column it does not test yet (an absent column is a range open at both
    ends) that raises the score most, if any does. Rounds stop when nothing moves.

    Parameters
    ----------
    predicates
        The slice's predicates.
    rows
        The rows to score on.

    Returns
    -------
    tuple[Predicate, ...]
        The predicates, ranges possibly moved, perhaps one range more per round;
        the slice they select scores at least as high on ``rows``.

    Examples
    --------
    >>> from slicing.discover.predicates import Feature
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.random(20_000).round(4)})
    >>> errors = (rng.random(20_000) < np.where(frame.x >= 0.87, 0.8, 0.05)) * 1.0
    >>> space = PredicateSpace([Feature("x", (Predicate("x", "range", high=0.8),
    ...                                       Predicate("x", "range", low=0.8)))])
    >>> rows = RefineRows(frame, space.encode(frame), errors, space, 20_000,
    ...                   errors.mean(), 50, 0.98, max_predicates=1)
    >>> [refined] = refine_conjunction([Predicate("x", "range", low=0.8)], rows)
    >>> refined.low, refined.high   # the errors start at 0.87
    (0.871, None)
    """
    current = list(predicates)
    numeric = rows.numeric_columns()
    for _ in range(MAX_ROUNDS):
        moved = False
        for position, predicate in enumerate(current):
            if predicate.kind != "range":
                continue
            others = np.flatnonzero(
                rows.mask(current[:position] + current[position + 1 :])
            )
            better, _ = _best_range(predicate, others, rows)
            if better != predicate:
                current[position], moved = better, True
        tested = {predicate.column for predicate in current}
        absent = [column for column in numeric if column not in tested]
        if len(current) < rows.max_predicates and absent:
            inside = rows.mask(current)
            now = rows.score(inside)
            inside = np.flatnonzero(inside)
            best_score, best = now, None
            for column in absent:
                candidate, score = _best_range(
                    Predicate(column, "range"), inside, rows, now
                )
                if candidate.low is not None or candidate.high is not None:
                    if score > best_score:
                        best_score, best = score, candidate
            if best is not None:
                current.append(best)
                moved = True
        if not moved:
            break
    return tuple(current)


def _best_range(
    predicate: Predicate,
    others: np.ndarray,
    rows: RefineRows,
    score_now: float | None = None,
) -> tuple[Predicate, float]:
    """The best allowed range on the predicate's column, and its score.

    ``others`` holds the indices of the rows the other predicates select.
    ``score_now`` is the current slice's score when ``predicate`` is not part of it
    (an open range on a column the slice does not test yet: its missing values are
    in the slice).
    """
    x, errors = rows.values(predicate.column)[others], rows.errors[others]
    present = ~np.isnan(x)
    x, errors = x[present], errors[present]
    if x.size == 0:
        return predicate, -np.inf if score_now is None else score_now
    cuts = _candidate_cuts(x, predicate)
    n_cuts = len(cuts)
    # Interval j holds cuts[j - 1] <= x < cuts[j]; low = cuts[a - 1] and
    # high = cuts[b - 1] keep intervals a .. b - 1 (a = 0, b = n_cuts + 1: open end).
    interval = np.searchsorted(cuts, x, side="right")
    low_now = (
        0 if predicate.low is None else int(np.searchsorted(cuts, predicate.low)) + 1
    )
    high_now = (
        n_cuts + 1
        if predicate.high is None
        else int(np.searchsorted(cuts, predicate.high)) + 1
    )
    best = best_pair(interval, errors, n_cuts, rows, (low_now, high_now), score_now)
    if best is None:
        return predicate, pair_score_now(
            interval, errors, (low_now, high_now), rows, score_now
        )
    low = _bound(cuts, int(best[0]), low_now, predicate.low, x)
    high = _bound(cuts, int(best[1]), high_now, predicate.high, x)
    return Predicate(predicate.column, "range", low=low, high=high), best[2]


def _candidate_cuts(x: np.ndarray, predicate: Predicate) -> np.ndarray:
    """Distinct values, or ``MAX_CUTS`` quantiles (of a strided sample if many)."""
    step = -(-x.size // SORTED_ROWS)
    ordered = np.sort(x[::step])
    distinct = np.unique(ordered)
    if len(distinct) > MAX_CUTS:
        positions = np.linspace(0, len(ordered) - 1, MAX_CUTS).round().astype(np.int64)
        distinct = np.unique(ordered[positions])
    current = [b for b in (predicate.low, predicate.high) if b is not None]
    return np.unique(np.concatenate([distinct, np.asarray(current, dtype=np.float64)]))


def _bound(
    cuts: np.ndarray,
    index: int,
    index_now: int,
    bound_now: float | None,
    x: np.ndarray,
) -> float | None:
    """The threshold of cut ``index`` (``None`` for an open end), rounded."""
    if index == index_now:
        return bound_now
    if index == 0 or index == len(cuts) + 1:
        return None
    cut = float(cuts[index - 1])
    below = x[x < cut]
    return round_cut(float(below.max()) if below.size else -math.inf, cut)


def round_cut(lower: float, cut: float) -> float:
    """The roundest number ``t`` with ``lower < t <= cut``: it splits rows like ``cut``.

    Examples
    --------
    >>> round_cut(0.8693, 0.8712)
    0.87
    >>> round_cut(-0.36, -0.35)
    -0.35
    >>> round_cut(12.0, 17.0)
    15.0
    """
    if not math.isfinite(lower):
        return cut
    for exponent in range(12, -17, -1):
        # Coarsest first: multiples of 10**e, then of 5 * 10**(e - 1).
        for unit, digits in (
            (10.0**exponent, -exponent),
            (5 * 10.0 ** (exponent - 1), 1 - exponent),
        ):
            candidate = round(math.floor(cut / unit) * unit, max(digits, 0))
            if lower < candidate <= cut:
                return float(candidate)
    return cut
