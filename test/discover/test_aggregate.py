import itertools

import numpy as np
import pytest

from slicing.discover.aggregate import aggregate_buckets, combine_stats, tuple_keys


@pytest.fixture
def codes_and_errors():
    rng = np.random.default_rng(0)
    cardinalities = np.array([2, 3, 1])
    codes = np.column_stack(
        [rng.integers(0, m + 1, 500) for m in cardinalities]
    ).astype(np.int16)
    return codes, rng.random(500) * 3, cardinalities


@pytest.mark.parametrize("binary", [False, True])
def test_bucket_statistics_match_brute_force(codes_and_errors, binary):
    codes, errors, cardinalities = codes_and_errors
    if binary:
        errors = (errors > 1.5).astype(float)
    tuples = np.array([[0, 1], [1, 2], [0, 2]])
    stats = aggregate_buckets(
        codes, errors, tuples, cardinalities, binary, with_maxima=True
    )
    for index, features in enumerate(tuples):
        ranges = [range(cardinalities[f] + 1) for f in features]
        for position, combination in enumerate(itertools.product(*ranges)):
            inside = (codes[:, features] == combination).all(axis=1)
            flat = stats.offsets[index] + position
            assert stats.counts[flat] == inside.sum()
            assert stats.sums[flat] == pytest.approx(errors[inside].sum())
            assert stats.maxima[flat] == pytest.approx(errors[inside].max(initial=0))
            if not binary:
                assert stats.squares[flat] == pytest.approx((errors[inside] ** 2).sum())
    assert (stats.squares is None) == binary


def test_combining_chunks_equals_aggregating_everything(codes_and_errors):
    codes, errors, cardinalities = codes_and_errors
    tuples = np.array([[0, 1, 2]])
    whole = aggregate_buckets(codes, errors, tuples, cardinalities, False, True)
    halves = [
        aggregate_buckets(codes[part], errors[part], tuples, cardinalities, False, True)
        for part in (slice(0, 200), slice(200, None))
    ]
    combined = combine_stats(*halves)
    np.testing.assert_array_equal(combined.counts, whole.counts)
    np.testing.assert_allclose(combined.sums, whole.sums)
    np.testing.assert_allclose(combined.squares, whole.squares)
    np.testing.assert_allclose(combined.maxima, whole.maxima)


def test_tuple_keys_are_mixed_radix():
    codes = np.array([[1, 2], [0, 0]])
    keys = tuple_keys(codes, np.array([0, 1]), np.array([1, 2]))
    assert keys.tolist() == [1 * 3 + 2, 0]
