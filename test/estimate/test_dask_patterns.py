import warnings

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.estimate import EstimateWarning, estimate_performance
from slicing.estimate.dask_patterns import dask_pattern_counts
from slicing.estimate.patterns import count_patterns
from test.estimate.synthetic import shifted_pair


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_dask_counts_equal_in_memory_counts(scheduler):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((2000, 4)) < 0.3, columns=list("abcd"))
    counts = dask_pattern_counts(
        dd.from_pandas(frame, npartitions=7), list("abcd"), scheduler=scheduler
    )
    expected = count_patterns(frame.to_numpy(), list("abcd"))
    order = np.lexsort(counts.patterns.T[::-1])
    expected_order = np.lexsort(expected.patterns.T[::-1])
    np.testing.assert_array_equal(
        counts.patterns[order], expected.patterns[expected_order]
    )
    np.testing.assert_array_equal(counts.counts[order], expected.counts[expected_order])


def test_a_dask_target_gives_the_in_memory_estimate(tmp_path):
    data = shifted_pair(0, 1000, 3000)
    data["target"].to_parquet(tmp_path / "target.parquet")
    target = dd.read_parquet(str(tmp_path / "target.parquet"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimateWarning)
        in_memory = estimate_performance(
            data["source"], data["target"], data["correct"], n_resamples=50
        )
        on_dask = estimate_performance(
            data["source"], target, data["correct"], n_resamples=50, scheduler="threads"
        )
    pd.testing.assert_frame_equal(in_memory.table, on_dask.table)


def test_missing_and_non_bool_columns_are_named():
    frame = pd.DataFrame({"a": [True, False], "b": [0.5, 1.0]})
    ddf = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(ValueError, match=r"no SF columns \['c'\]"):
        dask_pattern_counts(ddf, ["a", "c"])
    with pytest.raises(ValueError, match="SF column 'b' holds"):
        dask_pattern_counts(ddf, ["a", "b"], scheduler="synchronous")
