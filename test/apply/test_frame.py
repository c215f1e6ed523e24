"""``slicing.apply.frame``: one frame, chunk or partition through every kind of SF."""

import numpy as np
import pandas as pd
import pytest

from slicing.apply.base import SliceBlock
from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.apply.pandas import PandasSFApplier
from slicing.errors import MissingColumnError, SFApplicationError
from slicing.sf.core import slicing_function


def test_slice_frame_returns_a_typed_block(
    comments, short_comment, high_score, fragile
):
    block = slice_frame(comments, [short_comment, high_score, fragile], True)
    assert isinstance(block, SliceBlock)
    assert block.indicators.dtype == np.bool_ and block.indicators.shape == (5, 3)
    assert block.indicators[:, 0].tolist() == [True, False, False, True, True]
    assert block.fault_counts == {"short_comment": 0, "high_score": 0, "fragile": 1}


def test_rows_are_named_by_partition_offset_and_id_column(comments, fragile):
    comments = comments.assign(comment_id=["a", "b", "c", "d", "e"])
    with pytest.raises(
        SFApplicationError, match=r"on row 2 of partition 4 \(comment_id 'c'\)"
    ):
        slice_frame(
            comments,
            [fragile],
            False,
            row_offset=None,
            partition=4,
            id_column="comment_id",
        )
    with pytest.raises(
        SFApplicationError, match=r"on row 102 of partition 1 \(index label 12\)"
    ):
        slice_frame(comments, [fragile], False, row_offset=100, partition=1)


def test_check_frame_columns_refuses_duplicates_and_non_frames(comments):
    check_frame_columns(comments)
    duplicated = pd.concat([comments, comments[["text"]]], axis=1)
    with pytest.raises(ValueError, match=r"duplicate column names \['text'\]"):
        check_frame_columns(duplicated)
    with pytest.raises(TypeError, match="expected a pandas DataFrame; got list"):
        check_frame_columns(comments.to_dict("records"))


def test_rows_behave_like_pandas_rows(comments):
    @slicing_function()
    def by_item(x):
        return (
            x["score"] > 0.5
            and x.get("text").startswith("check")
            and "text" in x.keys()
        )

    assert PandasSFApplier([by_item]).apply(comments, progress_bar=False)[
        "by_item"
    ].tolist() == [False, True, False, False, False]


def test_chunked_application_matches_single_chunk(
    monkeypatch, comments, short_comment, high_score
):
    import slicing.apply.frame as frame

    whole = PandasSFApplier([short_comment, high_score]).apply(
        comments, progress_bar=False
    )
    monkeypatch.setattr(frame, "CHUNK_ROWS", 2)
    chunked = PandasSFApplier([short_comment, high_score]).apply(
        comments, progress_bar=False
    )
    np.testing.assert_array_equal(whole, chunked)


def test_missing_column_is_named_for_row_and_vectorized_sfs(comments):
    @slicing_function()
    def uses_title(x):
        return "x" in x.title

    @slicing_function(vectorized=True)
    def uses_title_vectorized(df):
        return df["title"].str.len() > 3

    with pytest.raises(
        SFApplicationError,
        match=r"'uses_title' raised AttributeError .*no column 'title'; its columns are \['text', 'score'\]",
    ):
        PandasSFApplier([uses_title]).apply(comments, progress_bar=False)
    with pytest.raises(
        SFApplicationError,
        match=r"'uses_title_vectorized' raised KeyError .*has no column 'title'",
    ):
        PandasSFApplier([uses_title_vectorized]).apply(comments, progress_bar=False)


def test_fault_tolerant_vectorized_sf_isolates_failing_rows(comments):
    @slicing_function(vectorized=True)
    def picky(df):
        if (df.score == 0.5).any():
            raise ValueError("cannot handle 0.5")
        return df.score > 0.2

    S, meta = PandasSFApplier([picky]).apply(
        comments, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert S["picky"].tolist() == [False, True, False, True, True]
    assert meta.faults == {"picky": 1}


def test_missing_values_reach_the_sf_as_nan():
    @slicing_function()
    def no_text(x):
        return not isinstance(x.text, str)

    df = pd.DataFrame({"text": ["a", None, np.nan]})
    assert PandasSFApplier([no_text]).apply(df, progress_bar=False)[
        "no_text"
    ].tolist() == [False, True, True]


@pytest.mark.parametrize("access", ["attribute", "item"])
def test_a_per_row_sf_reading_a_missing_column_raises_missing_column_error(
    comments, access
):
    @slicing_function()
    def uses_title(x):
        return "x" in (x.title if access == "attribute" else x["title"])

    @slicing_function()
    def guarded(x):  # KeyError/AttributeError semantics are kept for SF code
        return hasattr(x, "title") or x.get("title") is not None

    with pytest.raises(MissingColumnError) as raised:
        PandasSFApplier([guarded, uses_title]).apply(comments, progress_bar=False)
    assert (raised.value.column, raised.value.sf_name) == ("title", "uses_title")
    assert (
        not PandasSFApplier([guarded])
        .apply(comments, progress_bar=False)["guarded"]
        .any()
    )
