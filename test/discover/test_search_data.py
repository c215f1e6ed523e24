"""``slicing.discover.search_data``: the data a slice search runs over."""

import numpy as np
import pandas as pd
import pytest
from tqdm.auto import tqdm

from slicing.discover.aggregate import BucketStats
from slicing.discover.lattice import LatticeParams
from slicing.discover.predicates import build_predicate_space
from slicing.discover.search_data import (
    PandasSearchData,
    concat_stats,
    validate_errors,
)


def test_errors_from_a_column_or_an_array():
    frame = pd.DataFrame({"a": [1, 2, 3], "wrong": [True, False, True]})
    np.testing.assert_array_equal(validate_errors("wrong", frame), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(validate_errors([0, 2.5, 0], frame), [0, 2.5, 0])


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        (np.ones(3), r"expected shape \(5,\); got shape \(3,\)"),
        (np.array([0, 1, -1, 0, 0]), r"non-negative; got -1.0 at row 2"),
        (np.array([0, 1, np.nan, 0, 0]), r"got nan at row 2"),
        (np.array(list("abcde")), r"bool or numeric"),
        ("missing", r"errors column 'missing' is not in the frame"),
    ],
)
def test_bad_errors_are_refused(errors, message):
    frame = pd.DataFrame({"a": range(5)})
    with pytest.raises((ValueError, KeyError), match=message):
        validate_errors(errors, frame)


def test_pandas_search_data_summarises_the_errors():
    frame = pd.DataFrame({"a": [0, 0, 1, 1]})
    data = PandasSearchData(frame, [0.0, 1.0, 1.0, 1.0])
    assert (data.n_rows, data.mean_error, data.binary) == (4, 0.75, True)
    assert data.columns == ["a"] and data.sample_share() == 1.0
    assert PandasSearchData(frame, [0.0, 0.5, 1.0, 1.0]).binary is False
    with pytest.raises(ValueError, match="the DataFrame is empty"):
        PandasSearchData(frame.iloc[:0], [])


def test_no_errors_gives_an_empty_result():
    frame = pd.DataFrame({"a": [0, 1, 0, 1]})
    data = PandasSearchData(frame, np.zeros(4))
    space = build_predicate_space(frame)
    params = LatticeParams(4, 0.0, 1, 1, 3, 0.95, True)
    result = data.search(space, params, 0.95, progress_bar=False)
    assert len(result) == 0


def test_evaluator_counts_each_bucket_of_a_feature():
    frame = pd.DataFrame({"a": [0, 0, 1, 1, 1]})
    data = PandasSearchData(frame, [1, 0, 1, 1, 0])
    space = build_predicate_space(frame)
    with tqdm(total=0, disable=True) as progress:
        stats = data.evaluator(space, progress)(np.array([[0]]), False)
    # One bucket per predicate (a=0, a=1), then the rows matching none of them.
    assert stats.offsets.tolist() == [0]
    assert stats.counts.tolist() == [2, 3, 0]
    assert stats.sums.tolist() == [1.0, 2.0, 0.0]


def test_concat_stats_shifts_offsets():
    first = BucketStats(np.array([0, 2]), np.array([1, 2, 3]), np.ones(3), None, None)
    second = BucketStats(np.array([0]), np.array([4]), np.ones(1), None, None)
    both = concat_stats([first, second])
    assert both.offsets.tolist() == [0, 2, 3]
    assert both.counts.tolist() == [1, 2, 3, 4]
    assert both.squares is None and both.maxima is None
