import numpy as np
import pandas as pd
import pytest

from slicing.matrix import (
    make_slice_matrix,
    slice_matrix_names,
    slice_matrix_to_array,
    slice_matrix_to_dataframe,
    validate_slice_matrix,
)


def test_slice_matrix_is_one_byte_a_cell_and_indexable_by_name():
    indicators = np.array([[True, False, True], [False, False, True]])
    S = make_slice_matrix(indicators, ["a", "b", "c"])
    assert S.dtype.itemsize == 3
    assert S.nbytes == 6
    assert S["c"].tolist() == [True, True]
    assert S["a"].dtype == np.bool_
    assert slice_matrix_names(S) == ["a", "b", "c"]


def test_array_view_shares_memory_and_copy_does_not():
    indicators = np.array([[True, False], [False, True]])
    S = make_slice_matrix(indicators, ["a", "b"])
    view = slice_matrix_to_array(S)
    assert view.shape == (2, 2) and view.dtype == np.bool_
    assert np.shares_memory(view, S)
    assert not np.shares_memory(slice_matrix_to_array(S, copy=True), S)
    np.testing.assert_array_equal(view, indicators)


def test_snorkel_style_int_recarray_is_converted_after_checking_values():
    S = np.rec.fromarrays([np.array([0, 1, 1]), np.array([1, 0, 0])], names=["x", "y"])
    np.testing.assert_array_equal(
        slice_matrix_to_array(S), [[False, True], [True, False], [True, False]]
    )
    bad = np.rec.fromarrays([np.array([0, -1, 1])], names=["x"])
    with pytest.raises(ValueError, match=r"field 'x' holds -1 at row 1"):
        slice_matrix_to_array(bad)


def test_to_dataframe_keeps_names_and_index():
    S = make_slice_matrix(np.array([[True], [False]]), ["a"])
    frame = slice_matrix_to_dataframe(S, index=pd.Index([7, 9]))
    assert frame.columns.tolist() == ["a"]
    assert frame.index.tolist() == [7, 9]
    assert frame["a"].dtype == np.bool_
    with pytest.raises(ValueError, match="index has 3 labels"):
        slice_matrix_to_dataframe(S, index=pd.Index([1, 2, 3]))


@pytest.mark.parametrize(
    "indicators, names, message",
    [
        (np.zeros((2, 2), dtype=int), ["a", "b"], "dtype bool"),
        (np.zeros(2, dtype=bool), ["a"], "2-D"),
        (np.zeros((2, 2), dtype=bool), ["a"], "2 columns but 1 names"),
        (np.zeros((2, 2), dtype=bool), ["a", "a"], r"unique; repeated: \['a'\]"),
        (np.zeros((2, 1), dtype=bool), [""], "non-empty strings"),
        (np.zeros((2, 0), dtype=bool), [], "at least one slice"),
    ],
)
def test_make_slice_matrix_rejects_bad_input(indicators, names, message):
    with pytest.raises(ValueError, match=message):
        make_slice_matrix(indicators, names)


def test_validate_names_order_and_length():
    S = make_slice_matrix(np.zeros((3, 2), dtype=bool), ["a", "b"])
    assert validate_slice_matrix(S, names=["a", "b"], n_rows=3).shape == (3, 2)
    with pytest.raises(ValueError, match="different order"):
        validate_slice_matrix(S, names=["b", "a"])
    with pytest.raises(ValueError, match="3 rows but 4 were expected"):
        validate_slice_matrix(S, n_rows=4)
    with pytest.raises(TypeError, match="structured array"):
        validate_slice_matrix(np.zeros((3, 2), dtype=bool))
