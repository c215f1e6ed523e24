import numpy as np
import pandas as pd
import pytest

from slicing.labeling.inputs import (
    check_cardinality,
    check_golds,
    check_label_matrix,
    slice_indicators,
)
from slicing.matrix import make_slice_matrix


def test_label_matrix_values_outside_the_classes_are_named():
    with pytest.raises(
        ValueError, match=r"holds -2 at row 1, LF column 0; expected -1"
    ):
        check_label_matrix(np.array([[0, 1], [-2, 0]]), 2)
    with pytest.raises(ValueError, match=r"holds 3 at row 0, LF column 1.*0\.\.2"):
        check_label_matrix([[0, 3]], 3)


def test_label_matrix_shape_dtype_and_columns():
    with pytest.raises(ValueError, match="must be 2-D"):
        check_label_matrix(np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="no LF columns"):
        check_label_matrix(np.empty((3, 0)), 2)
    with pytest.raises(ValueError, match="0.5 at row 0, LF column 1"):
        check_label_matrix(np.array([[1.0, 0.5]]), 2)
    with pytest.raises(
        ValueError, match="has 2 LF columns but the model was fitted on 3"
    ):
        check_label_matrix(np.zeros((1, 2), int), 2, n_lfs=3)
    with pytest.raises(ValueError, match="integer votes"):
        check_label_matrix(np.array([["a"]]), 2)
    assert check_label_matrix(np.array([[1.0, -1.0]]), 2).dtype.kind == "i"


def test_cardinality_must_be_an_int_of_at_least_two():
    with pytest.raises(TypeError, match="got 2.0"):
        check_cardinality(2.0)
    with pytest.raises(TypeError):
        check_cardinality(True)
    with pytest.raises(ValueError, match="got 1"):
        check_cardinality(1)


def test_slice_indicators_from_record_array_and_dataframe_agree():
    matrix = np.array([[True, False], [False, True], [True, True]])
    from_records, names = slice_indicators(make_slice_matrix(matrix, ["a", "b"]), 3)
    from_frame, frame_names = slice_indicators(
        pd.DataFrame(matrix, columns=["a", "b"]), 3
    )
    from_ints, _ = slice_indicators(
        pd.DataFrame(matrix.astype(int), columns=["a", "b"]), 3
    )
    assert names == frame_names == ["a", "b"]
    np.testing.assert_array_equal(from_records, from_frame)
    np.testing.assert_array_equal(from_records, from_ints)


def test_slice_indicators_refuse_bad_input_with_clear_messages():
    S = make_slice_matrix(np.zeros((4, 1), bool), ["a"])
    with pytest.raises(ValueError, match="L has 5 rows but S has 4"):
        slice_indicators(S, 5)
    with pytest.raises(TypeError, match="got ndarray"):
        slice_indicators(np.zeros((4, 1), bool), 4)
    with pytest.raises(ValueError, match="column 'a' holds 2 at row 1"):
        slice_indicators(pd.DataFrame({"a": [0, 2]}), 2)
    with pytest.raises(
        ValueError, match=r"slices \['a'\] but the model was fitted on \['b'\]"
    ):
        slice_indicators(S, 4, names=["b"])
    with pytest.raises(ValueError, match="reserved"):
        slice_indicators(pd.DataFrame({"overall": [True]}), 1)


def test_golds_allow_unknown_and_refuse_bad_values():
    assert check_golds(np.array([1.0, -1.0]), 2, 2).tolist() == [1, -1]
    with pytest.raises(ValueError, match="Y has 1 labels but L has 2 rows"):
        check_golds([1], 2, 2)
    with pytest.raises(ValueError, match="holds 2 at row 0"):
        check_golds([2, 0], 2, 2)
    with pytest.raises(ValueError, match="integer class labels"):
        check_golds([0.5, 1], 2, 2)
