import itertools

import numpy as np

from slicing.discover.lattice import LatticeParams, SliceTable, _join
from slicing.discover.predicates import Feature, Predicate, PredicateSpace


def space_with(cardinalities):
    return PredicateSpace(
        [
            Feature(f"f{i}", tuple(Predicate(f"f{i}", "equals", v) for v in range(m)))
            for i, m in enumerate(cardinalities)
        ]
    )


def level_table(predicates):
    predicates = np.array(sorted(predicates), dtype=np.int64)
    n = len(predicates)
    return SliceTable(
        predicates,
        np.full(n, 100),
        np.arange(1, n + 1, dtype=float),
        None,
        np.ones(n),
        np.zeros(n),
    )


def test_join_makes_each_candidate_once_from_surviving_parents():
    space = space_with([2, 3, 2, 1])
    rng = np.random.default_rng(0)
    pairs = [
        ids
        for ids in itertools.combinations(range(len(space.predicates)), 2)
        if len(set(space.feature_of[list(ids)])) == 2 and rng.random() < 0.7
    ]
    level = level_table(pairs)
    params = LatticeParams(1000, 0.1, 10, 3, 5, 0.9)
    candidates, (size_bound, error_bound, _) = _join(level, space, params)
    expected = {
        ids
        for ids in itertools.combinations(range(len(space.predicates)), 3)
        if len(set(space.feature_of[list(ids)])) == 3
        and all(pair in set(pairs) for pair in itertools.combinations(ids, 2))
    }
    produced = [tuple(row) for row in candidates]
    assert len(produced) == len(set(produced)) and set(produced) == expected
    assert produced == sorted(produced)  # next level stays lexicographic
    sums = {pair: level.sums[i] for i, pair in enumerate(map(tuple, level.predicates))}
    for row, bound in zip(produced, error_bound):
        assert bound == min(sums[pair] for pair in itertools.combinations(row, 2))
    assert (size_bound == 100).all()


def test_join_drops_candidates_below_min_support():
    space = space_with([1, 1, 1])
    level = level_table([(0,), (1,), (2,)])
    level.sizes = np.array([100, 5, 100])
    params = LatticeParams(1000, 0.1, 10, 3, 5, 0.9)
    candidates, _ = _join(level, space, params)
    assert [tuple(row) for row in candidates] == [(0, 2)]
