import dask.dataframe as dd
import pandas as pd
import pytest

from slicing.apply.dataframe import slice_dataframe
from slicing.sf.core import slicing_function


def test_pandas_slice_keeps_index_and_columns(comments, short_comment):
    sliced = slice_dataframe(comments, short_comment)
    assert sliced.index.tolist() == [10, 13, 14]
    assert sliced.columns.tolist() == ["text", "score"]
    assert slice_dataframe(comments.iloc[:0], short_comment).empty


def test_dask_slice_is_lazy_and_equals_pandas(comments, short_comment, high_score):
    ddf = dd.from_pandas(comments, npartitions=2)
    for sf in (short_comment, high_score):
        lazy = slice_dataframe(ddf, sf)
        assert isinstance(lazy, dd.DataFrame)
        # Compare with the frame as Dask holds it (Dask converts text to Arrow strings).
        as_dask_holds_it = ddf.compute(scheduler="sync")
        pd.testing.assert_frame_equal(
            lazy.compute(scheduler="sync"), slice_dataframe(as_dask_holds_it, sf)
        )
        assert (
            lazy.compute(scheduler="sync").index.tolist()
            == slice_dataframe(comments, sf).index.tolist()
        )


def test_bad_inputs(comments, short_comment):
    with pytest.raises(TypeError, match="pandas or Dask DataFrame"):
        slice_dataframe(comments.to_dict("records"), short_comment)
    with pytest.raises(TypeError, match="not a SlicingFunction"):
        slice_dataframe(comments, lambda x: True)
    with pytest.raises(TypeError, match="pass one slicing function"):
        slice_dataframe(comments)
    with pytest.raises(TypeError, match="pass one slicing function"):
        slice_dataframe(comments, short_comment, sf=short_comment)


def test_snorkel_keyword_slicing_function(comments, short_comment):
    """snorkel: ``slice_dataframe(df, slicing_function=sf)``."""
    by_position = slice_dataframe(comments, short_comment)
    pd.testing.assert_frame_equal(
        slice_dataframe(comments, slicing_function=short_comment), by_position
    )
    pd.testing.assert_frame_equal(
        slice_dataframe(comments, sf=short_comment), by_position
    )


def test_reserved_slice_name_is_refused(comments):
    @slicing_function(name="overall")
    def overall(x):
        return True

    with pytest.raises(ValueError, match="SF name 'overall' is reserved"):
        slice_dataframe(comments, overall)
