import pandas as pd
import pytest

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


def test_sf_error_names_sf_position_and_index_label(comments, fragile):
    with pytest.raises(
        SFApplicationError,
        match=r"'fragile' raised ZeroDivisionError on row 2 \(index label 12\)",
    ) as info:
        PandasSFApplier([fragile]).apply(comments, progress_bar=False)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_fault_tolerant_per_row(comments, fragile):
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


def test_snorkel_keyword_and_positional_order(comments, short_comment, fragile):
    """snorkel's ``PandasLFApplier.apply(df, progress_bar, fault_tolerant, return_meta)``."""
    S, meta = PandasSFApplier(lfs=[short_comment, fragile]).apply(
        comments, False, True, True
    )
    assert S["short_comment"].tolist() == [True, False, False, True, True]
    assert meta.faults == {"short_comment": 0, "fragile": 1}
