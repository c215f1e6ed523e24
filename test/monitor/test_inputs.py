import numpy as np
import pandas as pd
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.inputs import as_slice_indicators, prepare_scoring_inputs
from slicing.monitor.options import ScoreOptions


def test_record_array_snorkel_recarray_and_dataframe_are_accepted():
    indicators = np.array([[True, False], [False, True], [True, True]])
    S = make_slice_matrix(indicators, ["a", "b"])
    snorkel_style = np.rec.fromarrays(
        [indicators[:, 0].astype(np.int64), indicators[:, 1].astype(np.int64)],
        names=["a", "b"],
    )
    frame = pd.DataFrame({"a": indicators[:, 0], "b": indicators[:, 1].astype(int)})
    for form in (S, snorkel_style, frame):
        result, names = as_slice_indicators(form)
        np.testing.assert_array_equal(result, indicators)
        assert names == ["a", "b"] and result.dtype == np.bool_


def test_bad_slice_inputs_are_rejected_with_what_was_received():
    with pytest.raises(TypeError, match="got list"):
        as_slice_indicators([[True]])
    with pytest.raises(ValueError, match=r"slice column 'a' has dtype float64"):
        as_slice_indicators(pd.DataFrame({"a": [0.5, 1.0]}))
    with pytest.raises(ValueError, match="without missing values"):
        as_slice_indicators(
            pd.DataFrame({"a": pd.array([True, None], dtype="boolean")})
        )
    with pytest.raises(ValueError, match="'overall' is reserved"):
        as_slice_indicators(pd.DataFrame({"overall": [True]}))
    with pytest.raises(ValueError, match="S has 1 rows but the labels have 2"):
        as_slice_indicators(pd.DataFrame({"a": [True]}), n_rows=2)


def test_inputs_accept_lists_and_column_vectors_and_infer_classes():
    S = pd.DataFrame({"a": [True, False, True]})
    inputs = prepare_scoring_inputs([0, 2, 1], S, preds=np.array([[0], [1], [1]]))
    assert inputs.n_classes == 3
    assert inputs.golds.dtype == np.int64 and inputs.preds.tolist() == [0, 1, 1]
    assert inputs.n_left_out == 0


def test_probs_width_must_cover_the_classes():
    S = pd.DataFrame({"a": [True, False]})
    with pytest.raises(
        ValueError, match="probs has 2 columns but the labels reach class 2"
    ):
        prepare_scoring_inputs([0, 2], S, probs=np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"probs must have shape \(n, n_classes\)"):
        prepare_scoring_inputs([0, 1], S, probs=np.array([0.2, 0.8]))


def test_nan_rows_in_probs_are_left_out_and_bool_labels_are_rejected():
    S = pd.DataFrame({"a": [True, True, False]})
    probs = np.array([[0.2, 0.8], [np.nan, np.nan], [0.9, 0.1]])
    with pytest.warns(
        UserWarning, match=r"1 without a prediction \(NaN or abstain; rows 1\)"
    ):
        inputs = prepare_scoring_inputs([1, 1, 0], S, probs=probs)
    assert inputs.preds.tolist() == [1, 0] and inputs.n_left_out == 1
    assert inputs.indicators[:, 0].tolist() == [True, False]
    with pytest.raises(
        ValueError, match="golds must hold integer class labels; got dtype bool"
    ):
        prepare_scoring_inputs(np.array([True, False, True]), S, preds=[1, 0, 1])


def test_abstain_label_and_nan_policy_come_from_the_options():
    S = pd.DataFrame({"a": [True, True, False]})
    with pytest.warns(UserWarning, match="they are left out of every score"):
        inputs = prepare_scoring_inputs(
            [1, 9, 0], S, preds=[1, 0, 9], options=ScoreOptions(abstain_label=9)
        )
    assert inputs.golds.tolist() == [1] and inputs.n_left_out == 2
    with pytest.raises(ValueError, match=r"rows 2\) and 1 without a gold label"):
        prepare_scoring_inputs(
            [1, 9, 0],
            S,
            preds=[1, 0, 9],
            options=ScoreOptions(abstain_label=9, nan_policy="raise"),
        )


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"base": [True]}), "slice column name 'base' is reserved"),
        (pd.DataFrame({"a/b": [True]}), "slice column name 'a/b' contains '/'"),
        (pd.DataFrame([[True, False]], columns=["a", "a"]), r"repeated: \['a'\]"),
        (pd.DataFrame([[True]]), "slice column names must be non-empty strings; got 0"),
    ],
)
def test_dataframe_slice_names_follow_the_package_rules(frame, message):
    with pytest.raises(ValueError, match=message):
        as_slice_indicators(frame)
