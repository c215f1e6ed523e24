"""Refinement seeds from low levels, and the row-overlap rule of the final ranking."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.discover.aggregate import aggregate_buckets
from slicing.discover.lattice import LatticeParams, SliceTable, search_lattice
from slicing.discover.predicates import Predicate, build_predicate_space
from slicing.discover.ranking import ScoredSlice, rank_slices
from slicing.discover.search import find_slices
from slicing.discover.seeds import SeedCollector


def three_predicate_slice(seed: int, n_rows: int = 40_000):
    """``cat=c3 & x > 0.66 & 0.27 <= y < 0.53``: about 1% of rows, off the bin edges.

    Its level-3 bin pieces hold about ``min_support`` rows or fewer, and its level-2
    pieces are diluted below a positive score, so the lattice's top has nothing
    near it.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "cat": rng.choice([f"c{v}" for v in range(8)], n_rows),
            "x": rng.random(n_rows).round(4),
            "y": rng.random(n_rows).round(4),
            "z": rng.random(n_rows).round(4),
        }
    )
    hard = (
        (frame.cat == "c3") & (frame.x > 0.66) & (frame.y >= 0.27) & (frame.y < 0.53)
    ).to_numpy()
    errors = (rng.random(n_rows) < np.where(hard, 0.45, 0.1)).astype(np.float64)
    return frame, errors, hard


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / (first | second).sum())


@pytest.mark.parametrize("seed", range(3))
def test_a_three_predicate_off_edge_slice_of_one_percent_is_found(seed):
    frame, errors, hard = three_predicate_slice(seed)
    assert 0.008 < hard.mean() < 0.013
    options = dict(min_support=0.005, top_k=5, progress_bar=False)
    result = find_slices(frame, errors, **options)
    assert max(jaccard(hard, item.mask(frame)) for item in result) >= 0.8
    # refine=False, bins only, does not come close.
    binned = find_slices(frame, errors, refine=False, **options)
    assert max(jaccard(hard, item.mask(frame)) for item in binned) < 0.5


def test_the_lattice_shows_every_evaluated_level_to_the_collector():
    frame, errors, _ = three_predicate_slice(0, 8000)
    seen: list[SliceTable] = []
    space = build_predicate_space(frame)
    codes = space.encode(frame)

    def evaluate(feature_tuples: np.ndarray, with_maxima: bool):
        return aggregate_buckets(
            codes, errors, feature_tuples, space.cardinalities, True, with_maxima
        )

    params = LatticeParams(len(frame), errors.mean(), 40, 2, 5, 0.98)
    search_lattice(evaluate, space, params, seen.append)
    assert [table.predicates.shape[1] for table in seen] == [1, 2]
    for table in seen:  # supported slices of any score, negative ones included
        assert (table.sizes >= 40).all()
    assert (seen[1].scores < 0).any()


def test_dask_and_pandas_agree_with_seeds():
    frame, errors, _ = three_predicate_slice(1, 12_000)
    frame["error"] = errors
    options = dict(min_support=60, top_k=4, progress_bar=False)
    expected = find_slices(frame, "error", **options)
    actual = find_slices(
        dd.from_pandas(frame, npartitions=3),
        "error",
        scheduler="synchronous",
        **options,
    )
    assert [s.name for s in actual] == [s.name for s in expected]
    np.testing.assert_allclose([s.score for s in actual], [s.score for s in expected])


def test_seed_collector_keeps_the_surest_high_error_per_low_level():
    collector = SeedCollector(2, levels=(1,))
    level_1 = SliceTable(
        np.array([[0], [1], [2]]),
        np.array([1000.0, 50.0, 1000.0]),
        np.array([300.0, 20.0, 100.0]),
        None,
        np.ones(3),
        np.zeros(3),
    )
    collector(level_1)
    level_3 = SliceTable(
        np.array([[0, 1, 2]]), np.array([100.0]), np.array([90.0]), None,
        np.ones(1), np.zeros(1),
    )  # fmt: skip
    collector(level_3)
    assert len(collector.tables) == 1  # level 3 is not kept
    # 30% of 1000 first; 40% of only 50 rows is less sure than 10% of 1000? No:
    # 0.4 - 2 * 0.069 = 0.26 > 0.1 - 0.019, so it comes second.
    assert collector.tables[0].predicates[:, 0].tolist() == [0, 1]


def scored(predicate: Predicate, score: float) -> ScoredSlice:
    return ScoredSlice((predicate,), 10, 5.0, 5.0, score)


def test_ranking_drops_a_near_duplicate_sibling_and_a_slice_mostly_inside():
    x = np.arange(1000)
    top = Predicate("x", "range", low=870.0)
    sibling = Predicate("x", "range", low=860.0, high=990.0)  # not a specialization
    inside = Predicate("x", "range", low=880.0, high=1200.0)  # mostly inside top
    other = Predicate("x", "range", high=500.0)
    masks = {
        top: x >= 870,
        sibling: (x >= 860) & (x < 990),
        inside: x >= 880,
        other: x < 500,
    }

    def rows_of(predicates: tuple[Predicate, ...]) -> np.ndarray:
        return masks[predicates[0]]

    candidates = [
        scored(top, 3.0),
        scored(sibling, 2.9),
        scored(inside, 2.8),
        scored(other, 1.0),
    ]
    kept = rank_slices(candidates, 5, True, rows_of)
    assert [item.predicates[0] for item in kept] == [top, other]
    # Without rows only the generalization rule applies: it drops ``inside``.
    assert len(rank_slices(candidates, 5, True)) == 3
    assert len(rank_slices(candidates, 5, False, rows_of)) == 4


def test_ranking_drops_a_slice_whose_raised_error_is_a_better_slices():
    """``x>=600`` scores only through ``x>=900`` ranked above it: it is left out."""
    x = np.arange(1000)
    errors = np.where(x >= 900, 0.6, 0.1)
    errors[(x >= 300) & (x < 400)] = 0.5
    narrow = Predicate("x", "range", low=900.0)
    parent = Predicate("x", "range", low=600.0)
    part = Predicate("x", "range", low=300.0)  # rows below: [300, 400) and [900, 960)
    apart = Predicate("x", "range", high=100.0)  # no rows in common with the others
    masks = {
        narrow: x >= 900,
        parent: x >= 600,
        part: ((x >= 300) & (x < 400)) | ((x >= 900) & (x < 960)),
        apart: x < 100,
    }

    def rows_of(predicates: tuple[Predicate, ...]) -> np.ndarray:
        return masks[predicates[0]]

    def score_of(inside: np.ndarray) -> float:
        return float(errors[inside].mean() / errors.mean() - 1)

    candidates = [
        scored(narrow, 3.0),
        scored(parent, 2.0),
        scored(part, 1.5),
        scored(apart, 1.0),
    ]
    kept = rank_slices(candidates, 5, True, rows_of, score_of)
    # ``part``'s rows outside ``narrow`` have raised error of their own: it stays.
    assert [item.predicates[0] for item in kept] == [narrow, part, apart]
    # Without a score of rows, ``parent`` stays (under 80% of it is in ``narrow``).
    assert len(rank_slices(candidates, 5, True, rows_of)) == 4


def test_generalizations_that_score_through_the_found_slice_are_left_out():
    rng = np.random.default_rng(0)
    n_rows = 30_000
    frame = pd.DataFrame(
        {
            "a": rng.choice(list("pqrstu"), n_rows),
            "b": rng.choice(list("vwxyz"), n_rows),
            "x": rng.random(n_rows).round(4),
            "y": rng.random(n_rows).round(4),
        }
    )
    hard = ((frame.a == "p") & (frame.b == "v") & (frame.x > 0.55)).to_numpy()
    errors = (rng.random(n_rows) < np.where(hard, 0.5, 0.1)).astype(np.float64)
    result = find_slices(frame, errors, min_support=0.005, top_k=5, progress_bar=False)
    # Not ``a=p & x>=0.55`` or ``b=v & x>=0.55``: their raised error is the slice's.
    assert len(result) == 1
    assert jaccard(hard, result[0].mask(frame)) >= 0.9
    unranked = find_slices(
        frame, errors, min_support=0.005, top_k=5, progress_bar=False, refine=False
    )
    assert len(unranked) > 1  # bins only: SliceLine's rules keep them
