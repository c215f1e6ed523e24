"""Scored conjunctions and their final ranking once ranges have been refined.

The lattice search ranks slices over a fixed set of predicates (ids into a
:class:`~slicing.discover.predicates.PredicateSpace`); refinement moves ranges to
thresholds outside that set, so its slices are ranked again here, by score, with the
same rules: ties go to fewer predicates, and with ``drop_redundant`` a slice is left
out when a slice ranked above it is a generalization of it (each of its predicates
is implied by one of the lower slice's, e.g. ``x>=0.8`` by ``x>=0.87``), and, given
the rows, when its rows overlap those of a slice ranked above it with Jaccard index
at least ``OVERLAP_JACCARD`` or lie in them for at least a share ``INSIDE_SHARE``
(refined variants of one slice from different starting points, ``x>=0.87 & y<3``
and ``x>=0.86 & y<3.1``, or ``x>=0.86 & y<3.1 & z>2``, select nearly the same rows
or a part of them, and would fill the top k with one finding: the row rules extend
the generalization rule to thresholds that differ a little). Given a score of rows
too, a slice is also left out when it overlaps the slices ranked above it and its
rows outside them do not score above 0: its raised error is theirs (``cat=a &
x>=13`` above ``cat=a & y=b & x>=13``, or ``x>=13`` above both, would otherwise
take the place of another finding). Identical slices (two bins that refined to
one threshold) are always merged.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slicing.discover.lattice import SliceTable
from slicing.discover.naming import readable_name
from slicing.discover.predicates import Predicate, PredicateSpace

__all__ = [
    "INSIDE_SHARE",
    "OVERLAP_JACCARD",
    "ScoredSlice",
    "generalizes",
    "implies",
    "rank_slices",
    "table_slices",
]

#: A slice whose rows overlap a better-ranked slice's this much (Jaccard) is redundant.
OVERLAP_JACCARD = 0.5
#: ... or when this share of its rows lies in a better-ranked slice.
INSIDE_SHARE = 0.8


@dataclass(frozen=True)
class ScoredSlice:
    """A conjunction with its exact statistics and SliceLine score."""

    predicates: tuple[Predicate, ...]
    size: int
    error_sum: float
    error_squares: float
    score: float


def table_slices(table: SliceTable, space: PredicateSpace) -> list[ScoredSlice]:
    """The rows of a lattice result as scored conjunctions, in the same order."""
    squares = table.sums if table.squares is None else table.squares
    slices = []
    for row in range(len(table)):
        ids = table.predicates[row]
        slices.append(
            ScoredSlice(
                tuple(space.predicates[i] for i in ids[ids >= 0]),
                int(table.sizes[row]),
                float(table.sums[row]),
                float(squares[row]),
                float(table.scores[row]),
            )
        )
    return slices


def implies(specific: Predicate, general: Predicate) -> bool:
    """Whether every row satisfying ``specific`` satisfies ``general``.

    Examples
    --------
    >>> implies(Predicate("x", "range", low=0.87), Predicate("x", "range", low=0.8))
    True
    >>> implies(Predicate("x", "range", low=0.8), Predicate("x", "range", low=0.87))
    False
    """
    if specific.column != general.column or specific.kind != general.kind:
        return False
    if specific.kind != "range":
        return bool(specific.value == general.value)
    low_inside = general.low is None or (
        specific.low is not None and specific.low >= general.low
    )
    high_inside = general.high is None or (
        specific.high is not None and specific.high <= general.high
    )
    return low_inside and high_inside


def generalizes(general: ScoredSlice, specific: ScoredSlice) -> bool:
    """Whether each predicate of ``general`` is implied by one of ``specific``'s."""
    return all(
        any(implies(mine, theirs) for mine in specific.predicates)
        for theirs in general.predicates
    )


def rank_slices(
    slices: Sequence[ScoredSlice],
    top_k: int,
    drop_redundant: bool,
    rows_of: Callable[[tuple[Predicate, ...]], np.ndarray] | None = None,
    score_of: Callable[[np.ndarray], float] | None = None,
) -> list[ScoredSlice]:
    """The ``top_k`` best slices with a positive score, duplicates and redundancy out.

    Parameters
    ----------
    slices
        Candidate slices, in any order.
    top_k
        Most slices returned.
    drop_redundant
        Leave out a slice when a generalization of it ranks above it, or (with
        ``rows_of``) when its rows overlap those of a slice ranked above it with
        Jaccard index at least ``OVERLAP_JACCARD`` or lie in them for a share of at
        least ``INSIDE_SHARE``; otherwise only exact duplicates are merged.
    rows_of
        Boolean row mask of a conjunction, for the overlap rule.
    score_of
        Score of a boolean row mask (with ``rows_of``): a slice overlapping the
        slices ranked above it is left out when its rows outside them score at
        most 0 (their error explains its own).

    Returns
    -------
    list[ScoredSlice]
        Best first: by score, then fewer predicates, then readable name.

    Examples
    --------
    >>> wide = ScoredSlice((Predicate("x", "range", low=0.8),), 40, 20.0, 20.0, 2.0)
    >>> narrow = ScoredSlice((Predicate("x", "range", low=0.87),), 30, 18.0, 18.0, 3.0)
    >>> [s.score for s in rank_slices([wide, narrow, narrow], 5, True)]
    [3.0, 2.0]
    >>> [s.score for s in rank_slices([narrow, wide], 5, True)][:1]
    [3.0]

    With rows, a near-duplicate sibling (not a generalization) is left out too:

    >>> x = np.arange(100)
    >>> masks = {0.87: x >= 87, 0.86: x >= 86, 0.5: x < 50}
    >>> def rows_of(predicates):
    ...     return masks[predicates[0].low or predicates[0].high]
    >>> sibling = ScoredSlice((Predicate("x", "range", low=0.86),), 14, 8.0, 8.0, 2.9)
    >>> other = ScoredSlice((Predicate("x", "range", high=0.5),), 50, 20.0, 20.0, 1.0)
    >>> [s.score for s in rank_slices([narrow, sibling, other], 5, True, rows_of)]
    [3.0, 1.0]
    """
    order = sorted(
        (item for item in slices if item.score > 0),
        key=lambda item: (
            -item.score,
            len(item.predicates),
            readable_name(item.predicates),
        ),
    )
    kept: list[ScoredSlice] = []
    kept_rows: list[np.ndarray] = []
    covered: np.ndarray | None = None
    seen: set[frozenset[Predicate]] = set()
    for item in order:
        key = frozenset(item.predicates)
        if key in seen:
            continue
        if drop_redundant and any(generalizes(better, item) for better in kept):
            continue
        seen.add(key)
        if drop_redundant and rows_of is not None:
            inside = rows_of(item.predicates)
            if any(_overlaps(inside, other) for other in kept_rows):
                continue
            if score_of is not None and covered is not None:
                if _explained(inside, covered, score_of):
                    continue
            kept_rows.append(inside)
            covered = inside.copy() if covered is None else covered | inside
        kept.append(item)
        if len(kept) == top_k:
            break
    return kept


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Jaccard index of two boolean row masks (0 when both are empty)."""
    union = np.count_nonzero(first | second)
    return np.count_nonzero(first & second) / union if union else 0.0


def _overlaps(lower: np.ndarray, higher: np.ndarray) -> bool:
    """Whether the lower-ranked slice's rows mostly repeat the higher-ranked one's."""
    common = np.count_nonzero(lower & higher)
    size = np.count_nonzero(lower)
    union = size + np.count_nonzero(higher) - common
    return bool(
        union
        and (
            common >= OVERLAP_JACCARD * union
            or (size and common >= INSIDE_SHARE * size)
        )
    )


def _explained(
    inside: np.ndarray, covered: np.ndarray, score_of: Callable[[np.ndarray], float]
) -> bool:
    """Whether a slice overlaps ``covered`` and its rows outside score at most 0."""
    if not (inside & covered).any():
        return False
    return score_of(inside & ~covered) <= 0
