import numpy as np
import pandas as pd
import pytest
from snorkel.preprocess import preprocessor

from slicing.apply.pandas import PandasSFApplier
from slicing.errors import SFApplicationError, SFOutputError
from slicing.sf.core import slicing_function


def test_per_row_and_vectorized_sfs_in_one_matrix(comments, short_comment, high_score):
    S, meta = PandasSFApplier([short_comment, high_score]).apply(
        comments, progress_bar=False, return_meta=True
    )
    assert S["short_comment"].tolist() == [True, False, False, True, True]
    assert S["high_score"].tolist() == [False, True, False, True, False]
    assert meta.faults == {"short_comment": 0, "high_score": 0}
    assert S.dtype.itemsize == 2


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


def test_preprocessors_that_add_fields_work(comments):
    @preprocessor(memoize=True)
    def add_words(x):
        x.words = x.text.split()
        return x

    @slicing_function(pre=[add_words])
    def one_word(x):
        return len(x.words) == 1

    @slicing_function()
    def plain(x):
        return x.score < 0.2

    S = PandasSFApplier([one_word, plain]).apply(comments, progress_bar=False)
    assert S["one_word"].tolist() == [False, False, False, False, True]
    assert S["plain"].tolist() == [True, False, False, False, False]


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


def test_sf_error_names_sf_position_and_index_label(comments):
    @slicing_function()
    def fragile(x):
        return 1 / (x.score - 0.5) > 0

    with pytest.raises(
        SFApplicationError,
        match=r"'fragile' raised ZeroDivisionError on row 2 \(index label 12\)",
    ) as info:
        PandasSFApplier([fragile]).apply(comments, progress_bar=False)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


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


def test_fault_tolerant_per_row(comments):
    @slicing_function()
    def fragile(x):
        return 1 / (x.score - 0.5) > 0

    S, meta = PandasSFApplier([fragile]).apply(
        comments, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert S["fragile"].tolist() == [False, True, False, True, False]
    assert meta.faults == {"fragile": 1}


def test_invalid_output_is_an_error_naming_the_row(comments):
    @slicing_function()
    def maybe(x):
        return None if x.score > 0.9 else False

    with pytest.raises(
        SFOutputError,
        match=r"'maybe' returned None \(NoneType\) for row 3 \(index label 13\)",
    ):
        PandasSFApplier([maybe]).apply(comments, progress_bar=False)


def test_empty_frame_and_duplicate_columns_are_refused(comments, short_comment):
    with pytest.raises(ValueError, match="DataFrame is empty"):
        PandasSFApplier([short_comment]).apply(comments.iloc[:0], progress_bar=False)
    duplicated = pd.concat([comments, comments[["text"]]], axis=1)
    with pytest.raises(ValueError, match=r"duplicate column names \['text'\]"):
        PandasSFApplier([short_comment]).apply(duplicated, progress_bar=False)
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        PandasSFApplier([short_comment]).apply(
            comments.to_dict("records"), progress_bar=False
        )


def test_no_global_pandas_patching(comments, short_comment):
    PandasSFApplier([short_comment]).apply(comments, progress_bar=True)
    # snorkel's applier calls tqdm.pandas(), which adds DataFrame.progress_apply.
    assert not hasattr(pd.DataFrame, "progress_apply")


def test_missing_values_reach_the_sf_as_nan():
    @slicing_function()
    def no_text(x):
        return not isinstance(x.text, str)

    df = pd.DataFrame({"text": ["a", None, np.nan]})
    assert PandasSFApplier([no_text]).apply(df, progress_bar=False)[
        "no_text"
    ].tolist() == [False, True, True]


def test_sfs_sharing_preprocessors_preprocess_each_row_once(comments):
    calls = []

    @preprocessor()
    def add_words(x):
        calls.append(x.text)
        x.words = x.text.split()
        return x

    @slicing_function(pre=[add_words])
    def one_word(x):
        return len(x.words) == 1

    @slicing_function(pre=[add_words])
    def many_words(x):
        return len(x.words) > 4

    S = PandasSFApplier([one_word, many_words]).apply(comments, progress_bar=False)
    assert len(calls) == len(comments)
    assert S["one_word"].tolist() == [False, False, False, False, True]
    assert S["many_words"].tolist() == [False, True, True, False, False]


def test_failing_preprocessor_is_a_fault_of_every_sf_using_it(comments):
    @preprocessor()
    def picky(x):
        if x.score == 0.5:
            raise ValueError("no")
        return x

    @slicing_function(pre=[picky])
    def a(x):
        return True

    @slicing_function(pre=[picky])
    def b(x):
        return True

    S, meta = PandasSFApplier([a, b]).apply(
        comments, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert meta.faults == {"a": 1, "b": 1}
    assert S["a"].tolist() == S["b"].tolist() == [True, True, False, True, True]
