import numpy as np
import pandas as pd
import pytest

from slicing.estimate.patterns import (
    PatternCounts,
    as_pattern_counts,
    count_patterns,
    decode_patterns,
    match_patterns,
    pattern_codes,
)


def test_counts_add_up_and_patterns_are_distinct():
    rng = np.random.default_rng(0)
    indicators = rng.random((500, 5)) < 0.3
    counts = count_patterns(indicators, list("abcde"))
    assert counts.n_rows == 500
    assert len(np.unique(counts.patterns, axis=0)) == len(counts.patterns)
    rebuilt = np.repeat(counts.patterns, counts.counts, axis=0)
    np.testing.assert_array_equal(
        np.sort(pattern_codes(rebuilt)), np.sort(pattern_codes(indicators))
    )


def test_cells_are_counted_per_pattern():
    indicators = np.array([[True], [True], [False]])
    counts = count_patterns(indicators, ["a"], np.array([[1, 0, 1], [1, 1, 0]]))
    assert counts.counts.shape == (2, 2, 2)
    assert counts.counts[1].tolist() == [[0, 1], [0, 1]]
    assert counts.rows_per_pattern.tolist() == [1, 2]


def test_codes_round_trip_and_match():
    patterns = np.array([[True, False, True], [False, False, False]])
    np.testing.assert_array_equal(decode_patterns(pattern_codes(patterns), 3), patterns)
    assert match_patterns(patterns[::-1], patterns).tolist() == [1, 0]
    with pytest.raises(ValueError, match="at most 62"):
        pattern_codes(np.zeros((1, 63), bool))


def test_pattern_counts_are_validated():
    with pytest.raises(ValueError, match="2 columns but 1 SF names"):
        PatternCounts(np.zeros((1, 2), bool), np.ones(1), ["a"])
    with pytest.raises(ValueError, match="non-negative"):
        PatternCounts(np.zeros((1, 1), bool), -np.ones(1), ["a"])
    with pytest.raises(ValueError, match="reserved"):
        PatternCounts(np.zeros((1, 1), bool), np.ones(1), ["overall"])
    with pytest.raises(TypeError, match="target must be"):
        as_pattern_counts([[True]], "target")


def test_dataframe_targets_become_counts():
    counts = as_pattern_counts(pd.DataFrame({"a": [True, True, False]}), "target")
    assert counts.to_frame().to_dict("list") == {"a": [False, True], "count": [1, 2]}
