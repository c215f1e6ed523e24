"""Property: every applier returns the same slice matrix for the same data."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicing.apply.core import SFApplier
from slicing.apply.dask import DaskSFApplier, PandasParallelSFApplier
from slicing.apply.pandas import PandasSFApplier
from slicing.points import MutableDataPoint
from slicing.sf.core import slicing_function

texts = st.text(alphabet="ab c", max_size=6)
rows = st.tuples(st.integers(-5, 5), st.floats(-1, 1, allow_nan=False), texts)


def make_sfs(threshold: int, cutoff: float, letter: str) -> list:
    @slicing_function(name="int_above")
    def int_above(x):
        return x.count_ > threshold

    @slicing_function(name="float_below", vectorized=True)
    def float_below(df):
        return df.value < cutoff

    @slicing_function(name="has_letter", resources=dict(letter=letter))
    def has_letter(x, letter):
        return letter in x["text"]

    @slicing_function(name="short_text", vectorized=True)
    def short_text(df):
        return df.text.str.len() <= 2

    return [int_above, float_below, has_letter, short_text]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(rows, min_size=1, max_size=30),
    threshold=st.integers(-5, 5),
    cutoff=st.floats(-1, 1, allow_nan=False),
    letter=st.sampled_from("abc"),
    npartitions=st.integers(1, 5),
    n_parallel=st.integers(1, 4),
    shuffle_seed=st.integers(0, 1000),
)
def test_all_appliers_agree(
    data, threshold, cutoff, letter, npartitions, n_parallel, shuffle_seed
):
    index = np.random.default_rng(shuffle_seed).permutation(len(data)) * 3
    df = pd.DataFrame(data, columns=["count_", "value", "text"], index=index)
    sfs = make_sfs(threshold, cutoff, letter)

    points = [MutableDataPoint(**record) for record in df.to_dict("records")]
    from_list = SFApplier(sfs).apply(points, progress_bar=False)
    from_pandas = PandasSFApplier(sfs).apply(df, progress_bar=False)
    from_parallel = PandasParallelSFApplier(sfs).apply(
        df, n_parallel=n_parallel, scheduler="threads", progress_bar=False
    )
    ddf = dd.from_pandas(df, npartitions=npartitions, sort=False)
    from_dask = DaskSFApplier(sfs).apply(
        ddf, scheduler="synchronous", progress_bar=False
    )

    expected = np.column_stack(
        [
            df.count_.to_numpy() > threshold,
            df.value.to_numpy() < cutoff,
            [letter in t for t in df.text],
            df.text.str.len().to_numpy() <= 2,
        ]
    )
    for S in (from_list, from_pandas, from_parallel, from_dask):
        assert S.dtype == from_pandas.dtype
        np.testing.assert_array_equal(S.view(bool).reshape(len(df), 4), expected)
