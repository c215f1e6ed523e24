"""SliceLine's level-wise lattice search with size and score-bound pruning.

Level 1 scores every predicate. Level ``L + 1`` joins two level-``L`` slices that
share their first ``L - 1`` predicates and differ in the feature of the last one
(each candidate is made once), keeps candidates whose every parent survived, bounds
their statistics by the parents' (size, error sum and largest error can only shrink
in a sub-slice) and drops those that cannot reach ``min_support`` or beat the
current ``k``-th best score. Survivors are evaluated in one aggregation per level
(one data pass per level on Dask). Slices are rows of predicate ids, increasing
along the row, kept in lexicographic order.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from slicing.discover.aggregate import BucketStats, predicate_keys
from slicing.discover.predicates import PredicateSpace
from slicing.discover.scoring import score_upper_bound, sliceline_score

__all__ = ["Evaluator", "LatticeParams", "SliceTable", "search_lattice"]

# feature tuples (T, L), with_maxima -> statistics of their buckets
Evaluator = Callable[[np.ndarray, bool], BucketStats]


@dataclass(frozen=True)
class LatticeParams:
    """Search parameters, validated by the caller."""

    n_rows: int
    mean_error: float
    min_support: int
    max_level: int
    top_k: int
    alpha: float
    drop_redundant: bool = False


@dataclass
class SliceTable:
    """Slices as rows of predicate ids (padded with -1) and their statistics."""

    predicates: np.ndarray
    sizes: np.ndarray
    sums: np.ndarray
    squares: np.ndarray | None
    max_errors: np.ndarray
    scores: np.ndarray

    def take(self, rows: np.ndarray) -> "SliceTable":
        return SliceTable(
            self.predicates[rows],
            self.sizes[rows],
            self.sums[rows],
            None if self.squares is None else self.squares[rows],
            self.max_errors[rows],
            self.scores[rows],
        )

    def __len__(self) -> int:
        return len(self.sizes)


def search_lattice(
    evaluate: Evaluator,
    space: PredicateSpace,
    params: LatticeParams,
    observe: Callable[[SliceTable], None] | None = None,
) -> SliceTable:
    """The ``top_k`` slices with positive score, best first.

    ``observe``, if given, sees every evaluated level (its slices with at least
    ``min_support`` rows and some error, any score) before pruning.

    Ties are broken by fewer predicates, then by predicate ids, so the result does
    not depend on the evaluation order. With ``drop_redundant``, a slice is left
    out when a generalization of it (a subset of its predicates) ranks above it:
    the result is then the top ``k`` of the greedy pass over all slices in rank
    order that skips such slices. Pruning stays exact, because a later level never
    makes an earlier slice redundant, so the ``k``-th score still only rises.
    """
    level = _first_level(evaluate, space, params)
    if observe is not None:
        observe(level)
    best = _merge_top(None, level, params)
    level = _prune_by_bound(level, _threshold(best, params), params)
    for _ in range(2, params.max_level + 1):
        if len(level) < 2:
            break
        predicates, bounds = _join(level, space, params)
        level = _evaluate_level(
            evaluate, space, predicates, bounds, _threshold(best, params), params
        )
        if len(level) == 0:
            break
        if observe is not None:
            observe(level)
        best = _merge_top(best, level, params)
        level = _prune_by_bound(level, _threshold(best, params), params)
    return best


def _first_level(
    evaluate: Evaluator, space: PredicateSpace, params: LatticeParams
) -> SliceTable:
    stats = evaluate(np.arange(len(space.features))[:, None], True)
    flat = stats.offsets[space.feature_of] + space.local_code
    assert stats.maxima is not None
    table = SliceTable(
        np.arange(len(space.predicates))[:, None],
        stats.counts[flat],
        stats.sums[flat],
        None if stats.squares is None else stats.squares[flat],
        stats.maxima[flat],
        np.zeros(len(flat)),
    )
    return _keep_supported(table, params)


def _keep_supported(table: SliceTable, params: LatticeParams) -> SliceTable:
    supported = (table.sizes >= params.min_support) & (table.sums > 0)
    table = table.take(np.flatnonzero(supported))
    table.scores = sliceline_score(
        table.sizes, table.sums, params.n_rows, params.mean_error, params.alpha
    )
    return table


def _threshold(best: SliceTable, params: LatticeParams) -> float:
    """Score a slice must beat to enter the top k (0 while it is not full)."""
    if len(best) < params.top_k:
        return 0.0
    return float(best.scores[-1])


def _prune_by_bound(
    level: SliceTable, threshold: float, params: LatticeParams
) -> SliceTable:
    """Drop slices none of whose sub-slices can beat ``threshold``."""
    bound = score_upper_bound(
        level.sizes,
        level.sums,
        level.max_errors,
        params.min_support,
        params.n_rows,
        params.mean_error,
        params.alpha,
    )
    return level.take(np.flatnonzero(bound > threshold))


def _merge_top(
    best: SliceTable | None, level: SliceTable, params: LatticeParams
) -> SliceTable:
    positive = level.take(np.flatnonzero(level.scores > 0))
    if best is not None and params.drop_redundant:
        positive = positive.take(
            np.flatnonzero(~_has_better_generalization(positive, best))
        )
    padded = np.full((len(positive), params.max_level), -1, dtype=np.int64)
    padded[:, : positive.predicates.shape[1]] = positive.predicates
    positive.predicates = padded
    if best is not None:
        positive = _concat(best, positive)
    n_predicates = (positive.predicates >= 0).sum(axis=1)
    order = np.lexsort((*positive.predicates.T[::-1], n_predicates, -positive.scores))
    return positive.take(order[: params.top_k])


def _has_better_generalization(level: SliceTable, best: SliceTable) -> np.ndarray:
    """Whether a slice of ``best`` scoring at least as high uses a subset of its predicates.

    ``best`` holds fewer predicates per slice than ``level`` (earlier levels), so such
    a slice is a strict generalization; ties go to the more general slice.
    """
    # (C, k, positions of the best slice): that predicate occurs in the level slice.
    occurs = (
        best.predicates[None, :, :, None] == level.predicates[:, None, None, :]
    ).any(axis=3) | (best.predicates < 0)[None, :, :]
    generalizes = occurs.all(axis=2) & (best.scores[None, :] >= level.scores[:, None])
    return generalizes.any(axis=1)


def _concat(first: SliceTable, second: SliceTable) -> SliceTable:
    squares = (
        None
        if first.squares is None or second.squares is None
        else np.concatenate([first.squares, second.squares])
    )
    return SliceTable(
        np.concatenate([first.predicates, second.predicates]),
        np.concatenate([first.sizes, second.sizes]),
        np.concatenate([first.sums, second.sums]),
        squares,
        np.concatenate([first.max_errors, second.max_errors]),
        np.concatenate([first.scores, second.scores]),
    )


def _join(
    level: SliceTable, space: PredicateSpace, params: LatticeParams
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Candidates one level up and bounds on their size, error sum and largest error."""
    predicates = level.predicates
    n_slices, depth = predicates.shape
    # Slices are sorted, so slices sharing a prefix are contiguous.
    prefix_changes = np.flatnonzero(
        (predicates[1:, :-1] != predicates[:-1, :-1]).any(axis=1)
    )
    group_ends = np.concatenate([prefix_changes + 1, [n_slices]])
    group_end_of = np.repeat(group_ends, np.diff(np.concatenate([[0], group_ends])))
    partners = group_end_of - np.arange(n_slices) - 1
    left = np.repeat(np.arange(n_slices), partners)
    first_partner = np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + (np.arange(len(left)) - first_partner)
    different_feature = (
        space.feature_of[predicates[left, -1]]
        != space.feature_of[predicates[right, -1]]
    )
    left, right = left[different_feature], right[different_feature]
    candidates = np.hstack([predicates[left], predicates[right, -1:]])

    size_bound = np.minimum(level.sizes[left], level.sizes[right])
    error_bound = np.minimum(level.sums[left], level.sums[right])
    max_bound = np.minimum(level.max_errors[left], level.max_errors[right])
    present = np.ones(len(candidates), dtype=np.bool_)
    level_keys = _tuple_ids(predicates, len(space.predicates))
    # The two joined parents are known; the others (drop one of the first L - 1
    # predicates) must have survived too, else the candidate cannot win.
    for dropped in range(depth - 1):
        parents = np.delete(candidates, dropped, axis=1)
        position = np.searchsorted(
            level_keys, _tuple_ids(parents, len(space.predicates))
        )
        position = np.minimum(position, n_slices - 1)
        found = level_keys[position] == _tuple_ids(parents, len(space.predicates))
        present &= found
        size_bound = np.minimum(size_bound, level.sizes[position])
        error_bound = np.minimum(error_bound, level.sums[position])
        max_bound = np.minimum(max_bound, level.max_errors[position])
    promising = present & (size_bound >= params.min_support) & (error_bound > 0)
    keep = np.flatnonzero(promising)
    return candidates[keep], (size_bound[keep], error_bound[keep], max_bound[keep])


def _tuple_ids(predicates: np.ndarray, n_predicates: int) -> np.ndarray:
    """One int per sorted predicate tuple, increasing in lexicographic order."""
    ids = np.zeros(predicates.shape[0], dtype=np.int64)
    for column in predicates.T:
        ids = ids * n_predicates + column
    return ids


def _evaluate_level(
    evaluate: Evaluator,
    space: PredicateSpace,
    candidates: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
    params: LatticeParams,
) -> SliceTable:
    """Statistics of the candidates whose score bound beats ``threshold``."""
    size_bound, error_bound, max_bound = bounds
    upper = score_upper_bound(
        size_bound,
        error_bound,
        max_bound,
        params.min_support,
        params.n_rows,
        params.mean_error,
        params.alpha,
    )
    promising = np.flatnonzero(upper > threshold)
    if len(promising) == 0:
        return _empty_table(candidates.shape[1])
    candidates, max_bound = candidates[promising], max_bound[promising]
    features = space.feature_of[candidates]
    feature_tuples, which_tuple = np.unique(features, axis=0, return_inverse=True)
    stats = evaluate(feature_tuples, False)
    keys = predicate_keys(space.local_code[candidates], features, space.cardinalities)
    flat = stats.offsets[which_tuple.reshape(-1)] + keys
    table = SliceTable(
        candidates,
        stats.counts[flat],
        stats.sums[flat],
        None if stats.squares is None else stats.squares[flat],
        max_bound,
        np.zeros(len(flat)),
    )
    return _keep_supported(table, params)


def _empty_table(depth: int) -> SliceTable:
    empty = np.zeros(0)
    return SliceTable(
        np.zeros((0, depth), dtype=np.int64), empty, empty, None, empty, empty
    )
